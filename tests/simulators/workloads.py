"""The workload controllers of kube-controller-manager, simplified: Deployment -> ReplicaSet -> Pods,
StatefulSet -> ordinal Pods (+ PVCs from volumeClaimTemplates), Job -> run-to-completion Pods.

Simplifications (documented, deliberate): a new Deployment revision replaces the old ReplicaSet at once
(like strategy Recreate); minReadySeconds is ignored (ready == available); a StatefulSet rolls a new
revision by deleting one outdated pod at a time, highest ordinal first, once every pod is ready.
"""
import copy

from .objects import (find_condition, generation, is_controlled_by, meta, name_of, namespace_of,
                      owner_reference, pod_phase, pod_ready, random_suffix, rfc3339, selector_string,
                      set_condition, stable_hash)
from .runtime import Controller


# -- pods from templates -----------------------------------------------------------------------------------
def pod_from_template(template, name, namespace, owner, extra_labels=None, inherited_annotations=None,
                      node_name=None, extra_volumes=None, hostname=None, subdomain=None):
    """A Pod built from a PodTemplateSpec as a controller creates it (owner reference, labels, node)."""
    tmeta = (template or {}).get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    labels.update(extra_labels or {})
    annotations = dict(tmeta.get("annotations") or {})
    for key, value in (inherited_annotations or {}).items():
        annotations.setdefault(key, value)  # the template's own settings win over inherited ones
    spec = copy.deepcopy((template or {}).get("spec") or {})
    if node_name and not spec.get("nodeName"):
        spec["nodeName"] = node_name
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    if extra_volumes:
        names = {v.get("name") for v in spec.get("volumes") or []}
        spec["volumes"] = (spec.get("volumes") or []) + [v for v in extra_volumes if v["name"] not in names]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": namespace, "labels": labels,
                        "ownerReferences": [owner_reference(owner)]},
           "spec": spec}
    if annotations:
        pod["metadata"]["annotations"] = annotations
    return pod


def owned_pods(kube, owner, match_labels):
    """Live (not cached) pods controlled by owner: read-your-writes, so no double creation."""
    pods = kube.list("v1", "Pod", namespace_of(owner), label_selector=selector_string(match_labels))
    return [p for p in pods if is_controlled_by(p, owner) and not meta(p).get("deletionTimestamp")]


def _match_labels(obj):
    return ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}


def _replicas(obj, default=1):
    value = (obj.get("spec") or {}).get("replicas")
    return default if value is None else int(value)


# -- ReplicaSet --------------------------------------------------------------------------------------------
def replicaset_status(rs, pods):
    ready = sum(1 for p in pods if pod_ready(p))
    return {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
            "availableReplicas": ready, "observedGeneration": generation(rs)}


def pods_to_delete(pods, count):
    """Which pods a scale-down removes: not-ready ones first, then the newest."""
    not_ready = [p for p in pods if not pod_ready(p)]
    ready = sorted([p for p in pods if pod_ready(p)], key=lambda p: meta(p).get("creationTimestamp") or "",
                   reverse=True)
    return (not_ready + ready)[:count]


class ReplicaSetController(Controller):
    api_version, kind = "apps/v1", "ReplicaSet"
    owns = (("v1", "Pod"),)
    group = "workloads"

    def reconcile(self, rs, /):
        if meta(rs).get("deletionTimestamp"):
            return None
        pods = owned_pods(self.kube, rs, _match_labels(rs))
        want = _replicas(rs)
        inherited = self.ctx.inherited_annotations(rs)
        for _missing_pod in range(want - len(pods)):
            template = (rs.get("spec") or {}).get("template") or {}
            pod = pod_from_template(template, f"{name_of(rs)}-{random_suffix()}", namespace_of(rs), rs,
                                    inherited_annotations=inherited, node_name=self.ctx.pick_node())
            pods.append(self.kube.create(pod))
        if len(pods) > want:
            for pod in pods_to_delete(pods, len(pods) - want):
                self.kube.delete("v1", "Pod", name_of(pod), namespace_of(pod))
                pods.remove(pod)
        self.write_status(rs, replicaset_status(rs, pods))
        return None


# -- Deployment --------------------------------------------------------------------------------------------
def deployment_status(deploy, replicasets, new_rs_name, now=None):
    """Deployment status from its ReplicaSets' statuses (pure function)."""
    want = _replicas(deploy)
    total = sum((rs.get("status") or {}).get("replicas", 0) for rs in replicasets)
    ready = sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in replicasets)
    available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in replicasets)
    updated = sum((rs.get("status") or {}).get("replicas", 0) for rs in replicasets if name_of(rs) == new_rs_name)
    old = deploy.get("status") or {}
    conditions = old.get("conditions") or []
    if available >= want:
        conditions = set_condition(conditions, "Available", "True", "MinimumReplicasAvailable",
                                   "Deployment has minimum availability.", now=now)
    else:
        conditions = set_condition(conditions, "Available", "False", "MinimumReplicasUnavailable",
                                   "Deployment does not have minimum availability.", now=now)
    complete = updated == want and total == want and available >= want
    if complete:
        conditions = set_condition(conditions, "Progressing", "True", "NewReplicaSetAvailable",
                                   f'ReplicaSet "{new_rs_name}" has successfully progressed.', now=now)
    else:
        conditions = set_condition(conditions, "Progressing", "True", "ReplicaSetUpdated",
                                   f'ReplicaSet "{new_rs_name}" is progressing.', now=now)
    for cond in conditions:  # DeploymentCondition has lastUpdateTime instead of observedGeneration
        cond.pop("observedGeneration", None)
        cond.setdefault("lastUpdateTime", cond["lastTransitionTime"])
    status = {"observedGeneration": generation(deploy), "replicas": total, "updatedReplicas": updated,
              "readyReplicas": ready, "availableReplicas": available, "conditions": conditions}
    if want - available > 0:
        status["unavailableReplicas"] = want - available
    return {k: v for k, v in status.items() if v != 0 or k == "observedGeneration"}


class DeploymentController(Controller):
    api_version, kind = "apps/v1", "Deployment"
    owns = (("apps/v1", "ReplicaSet"),)
    group = "workloads"

    def reconcile(self, deploy, /):
        if meta(deploy).get("deletionTimestamp"):
            return None
        spec = deploy.get("spec") or {}
        template = copy.deepcopy(spec.get("template") or {})
        template_hash = stable_hash(template)
        rs_name = f"{name_of(deploy)}-{template_hash}"
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = template_hash
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})["pod-template-hash"] = template_hash
        all_rs = [rs for rs in self.kube.list("apps/v1", "ReplicaSet", namespace_of(deploy),
                                              label_selector=selector_string(_match_labels(deploy)))
                  if is_controlled_by(rs, deploy)]
        revision = str(1 + max([int((meta(rs).get("annotations") or {}).get(
            "deployment.kubernetes.io/revision", "0")) for rs in all_rs] or [0]))
        current = next((rs for rs in all_rs if name_of(rs) == rs_name), None)
        want = _replicas(deploy)
        if current is None:
            rs_labels = dict((template.get("metadata") or {}).get("labels") or {})
            current = self.kube.create({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": rs_name, "namespace": namespace_of(deploy), "labels": rs_labels,
                             "annotations": {"deployment.kubernetes.io/revision": revision,
                                             "deployment.kubernetes.io/desired-replicas": str(want),
                                             **self.ctx.inherited_annotations(deploy)},
                             "ownerReferences": [owner_reference(deploy)]},
                "spec": {"replicas": want, "selector": selector, "template": template},
            })
            all_rs.append(current)
        elif _replicas(current) != want:
            current = self.kube.patch("apps/v1", "ReplicaSet", rs_name, namespace_of(deploy),
                                      {"spec": {"replicas": want}})
        for rs in all_rs:
            if name_of(rs) != rs_name and _replicas(rs) != 0:
                self.kube.patch("apps/v1", "ReplicaSet", name_of(rs), namespace_of(rs), {"spec": {"replicas": 0}})
        all_rs = [current if name_of(rs) == rs_name else rs for rs in all_rs]
        self.write_status(deploy, deployment_status(deploy, all_rs, rs_name))
        return None


# -- StatefulSet -------------------------------------------------------------------------------------------
def statefulset_revision(sts):
    return f"{name_of(sts)}-{stable_hash((sts.get('spec') or {}).get('template') or {})}"


def ordinal(pod_name, sts_name):
    suffix = pod_name[len(sts_name) + 1:]
    return int(suffix) if suffix.isdigit() else -1


def statefulset_plan(sts, pods, revision):
    """(ordinals to create, pod names to delete) for one reconcile step (pure function)."""
    want = _replicas(sts)
    parallel = (sts.get("spec") or {}).get("podManagementPolicy") == "Parallel"
    by_ordinal = {ordinal(name_of(p), name_of(sts)): p for p in pods}
    delete = sorted((name_of(p) for o, p in by_ordinal.items() if o >= want or o < 0), reverse=True)
    create = []
    for i in range(want):
        if i in by_ordinal:
            if not parallel and not pod_ready(by_ordinal[i]):
                break  # OrderedReady: wait until this one is Running and Ready
            continue
        create.append(i)
        if not parallel:
            break
    if not create and not delete and all(pod_ready(p) for p in by_ordinal.values()):
        outdated = sorted((o for o, p in by_ordinal.items()
                           if (meta(p).get("labels") or {}).get("controller-revision-hash") != revision),
                          reverse=True)
        if outdated:
            delete = [name_of(by_ordinal[outdated[0]])]
    return create, delete


def statefulset_status(sts, pods, revision):
    ready = sum(1 for p in pods if pod_ready(p))
    updated = sum(1 for p in pods if (meta(p).get("labels") or {}).get("controller-revision-hash") == revision)
    status = {"observedGeneration": generation(sts), "replicas": len(pods), "readyReplicas": ready,
              "availableReplicas": ready, "currentReplicas": updated, "updatedReplicas": updated,
              "currentRevision": revision, "updateRevision": revision, "collisionCount": 0}
    return status


def claim_name(template_name, sts_name, index):
    return f"{template_name}-{sts_name}-{index}"


class StatefulSetController(Controller):
    api_version, kind = "apps/v1", "StatefulSet"
    owns = (("v1", "Pod"),)
    group = "workloads"

    def reconcile(self, sts, /):
        if meta(sts).get("deletionTimestamp"):
            return None
        ns = namespace_of(sts)
        revision = statefulset_revision(sts)
        pods = owned_pods(self.kube, sts, _match_labels(sts))
        create, delete = statefulset_plan(sts, pods, revision)
        for pod_name in delete:
            self.kube.delete("v1", "Pod", pod_name, ns)
        pods = [p for p in pods if name_of(p) not in delete]
        inherited = self.ctx.inherited_annotations(sts)
        for index in create:
            pods.append(self.kube.create(self._pod(sts, index, revision, inherited)))
        self.write_status(sts, statefulset_status(sts, pods, revision))
        return None

    def _pod(self, sts, index, revision, inherited):
        spec = sts.get("spec") or {}
        ns, name = namespace_of(sts), name_of(sts)
        volumes = []
        for claim in spec.get("volumeClaimTemplates") or []:
            cname = claim_name(meta(claim).get("name"), name, index)
            labels = dict(_match_labels(sts))
            labels.update((claim.get("metadata") or {}).get("labels") or {})
            self.kube.create_if_absent({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": cname, "namespace": ns, "labels": labels},
                "spec": copy.deepcopy(claim.get("spec") or {}),
            })
            volumes.append({"name": meta(claim).get("name"), "persistentVolumeClaim": {"claimName": cname}})
        pod_name = f"{name}-{index}"
        return pod_from_template(
            spec.get("template"), pod_name, ns, sts,
            extra_labels={"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": pod_name,
                          "apps.kubernetes.io/pod-index": str(index)},
            inherited_annotations=inherited, node_name=self.ctx.pick_node(), extra_volumes=volumes,
            hostname=pod_name, subdomain=spec.get("serviceName"))


# -- Job ---------------------------------------------------------------------------------------------------
def job_status(job, pods, now):
    """Job status from its pods (pure function): Complete after `completions` successes, Failed after
    more than `backoffLimit` failures."""
    spec = job.get("spec") or {}
    completions = spec.get("completions") or 1
    backoff = spec.get("backoffLimit", 6)
    old = job.get("status") or {}
    succeeded = sum(1 for p in pods if pod_phase(p) == "Succeeded")
    failed = sum(1 for p in pods if pod_phase(p) == "Failed")
    active = sum(1 for p in pods if pod_phase(p) not in ("Succeeded", "Failed"))
    ready = sum(1 for p in pods if pod_ready(p))
    status = {"startTime": old.get("startTime") or now, "active": active, "ready": ready,
              "succeeded": succeeded, "failed": failed, "conditions": old.get("conditions") or []}
    if succeeded >= completions:
        status["conditions"] = set_condition(status["conditions"], "SuccessCriteriaMet", "True",
                                             "CompletionsReached", "Reached expected number of succeeded pods")
        status["conditions"] = set_condition(status["conditions"], "Complete", "True", "CompletionsReached",
                                             "Reached expected number of succeeded pods")
        status["completionTime"] = old.get("completionTime") or now
    elif failed > backoff:
        status["conditions"] = set_condition(status["conditions"], "FailureTarget", "True", "BackoffLimitExceeded",
                                             "Job has reached the specified backoff limit")
        status["conditions"] = set_condition(status["conditions"], "Failed", "True", "BackoffLimitExceeded",
                                             "Job has reached the specified backoff limit")
    for cond in status["conditions"]:
        cond.pop("observedGeneration", None)
        cond.setdefault("lastProbeTime", cond["lastTransitionTime"])
    status = {k: v for k, v in status.items() if v not in (0, [])}
    return status


def job_finished(job):
    conditions = (job.get("status") or {}).get("conditions")
    return any((find_condition(conditions, t) or {}).get("status") == "True" for t in ("Complete", "Failed"))


class JobController(Controller):
    api_version, kind = "batch/v1", "Job"
    owns = (("v1", "Pod"),)
    group = "workloads"

    def reconcile(self, job, /):
        if meta(job).get("deletionTimestamp") or job_finished(job) or (job.get("spec") or {}).get("suspend"):
            return None
        uid = meta(job).get("uid")
        pods = [p for p in self.kube.list("v1", "Pod", namespace_of(job),
                                          label_selector=f"batch.kubernetes.io/controller-uid={uid}")
                if is_controlled_by(p, job)]
        status = job_status(job, pods, rfc3339())
        if not job_finished({"status": status}) and status.get("active", 0) == 0:
            labels = {"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid,
                      "batch.kubernetes.io/job-name": name_of(job), "job-name": name_of(job)}
            pod = pod_from_template((job.get("spec") or {}).get("template"), f"{name_of(job)}-{random_suffix()}",
                                    namespace_of(job), job, extra_labels=labels,
                                    inherited_annotations=self.ctx.inherited_annotations(job),
                                    node_name=self.ctx.pick_node())
            pods.append(self.kube.create(pod))
            status = job_status(job, pods, status["startTime"])
        self.write_status(job, status)
        return None
