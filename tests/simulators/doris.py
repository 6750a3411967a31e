"""doris-operator's DorisCluster controller (doris.selectdb.com/v1).

Per component present in spec (fe, be, cn, broker): an access Service `<cr>-<comp>-service`, a headless
internal Service `<cr>-<comp>-internal` and a StatefulSet `<cr>-<comp>` (Parallel pod management, volume claim
templates from persistentVolumes). BE/CN/broker are created only once the FE access Service has endpoints.
Component status is computed from the pods exactly as the operator's ClassifyPodsByStatus does:
ready -> runningInstances, Running/Pending -> creatingInstances, anything else -> failedInstances;
phase `available` when every replica is ready, `haveMemberFailed` (reason/message copied from the first
failed pod) when any failed, otherwise the previous phase (`initializing` on first create).

Failure modes come from the pods: the CR's simulator settings (or component-scoped ones such as
`sim.lakehouse.test/be.mode`) are passed to the pods through the StatefulSet template.
"""
import copy

from .objects import (meta, name_of, namespace_of, owner_reference, pod_phase, pod_ready, rfc3339,
                      selector_string, stable_hash)
from .runtime import Controller

COMPONENTS = ("fe", "be", "cn", "broker")
SPEC_KEYS = {"fe": "feSpec", "be": "beSpec", "cn": "cnSpec", "broker": "brokerSpec"}
STATUS_KEYS = {"fe": "feStatus", "be": "beStatus", "cn": "cnStatus", "broker": "brokerStatus"}
PORTS = {
    "fe": [("http-port", 8030), ("rpc-port", 9020), ("query-port", 9030), ("edit-log-port", 9010)],
    "be": [("be-port", 9060), ("webserver-port", 8040), ("heartbeat-port", 9050), ("brpc-port", 8060)],
    "cn": [("be-port", 9060), ("webserver-port", 8040), ("heartbeat-port", 9050), ("brpc-port", 8060)],
    "broker": [("broker-ipc-port", 8000)],
}
INITIALIZING, AVAILABLE, HAVE_MEMBER_FAILED = "initializing", "available", "haveMemberFailed"
# Like the operator's component resource hash: compare what we asked for, not what the server defaulted.
SPEC_HASH = "doris.selectdb.com/sim-spec-hash"


def present_components(dcr):
    spec = dcr.get("spec") or {}
    return [c for c in COMPONENTS if spec.get(SPEC_KEYS[c]) is not None]


def component_replicas(dcr, comp):
    value = ((dcr.get("spec") or {}).get(SPEC_KEYS[comp]) or {}).get("replicas")
    return 1 if value is None else int(value)


def statefulset_name(dcr, comp):
    return f"{name_of(dcr)}-{comp}"


def access_service_name(dcr, comp):
    return f"{name_of(dcr)}-{comp}-service"


def internal_service_name(dcr, comp):
    return f"{name_of(dcr)}-{comp}-internal"


def selector(dcr, comp):
    return {"app.doris.ownerreference/name": statefulset_name(dcr, comp), "app.kubernetes.io/component": comp}


def classify_pods(previous, pods, replicas, subresource, access_service, now):
    """The component status after one ClassifyPodsByStatus pass (pure function)."""
    status = copy.deepcopy(previous) if previous else {
        "componentCondition": {"subResourceName": subresource, "phase": INITIALIZING,
                               "lastTransitionTime": now, "reason": "", "message": ""}}
    status["accessService"] = access_service
    if not pods:
        return status
    cond = status["componentCondition"]
    old_phase = cond.get("phase")
    ready, creating, failed = [], [], []
    by_name = {}
    for pod in sorted(pods, key=name_of):
        by_name[name_of(pod)] = pod
        if pod_ready(pod):
            ready.append(name_of(pod))
        elif pod_phase(pod) in ("Running", "Pending", ""):  # "" = not yet seen by a kubelet (API servers say Pending)
            creating.append(name_of(pod))
        else:
            failed.append(name_of(pod))
    if len(ready) == replicas:
        cond["phase"] = AVAILABLE
    elif failed:
        cond["phase"] = HAVE_MEMBER_FAILED
        pod_status = by_name[failed[0]].get("status") or {}
        cond["reason"], cond["message"] = pod_status.get("reason", ""), pod_status.get("message", "")
    elif creating:
        pod_status = by_name[creating[0]].get("status") or {}
        cond["reason"], cond["message"] = pod_status.get("reason", ""), pod_status.get("message", "")
    if cond.get("phase") != old_phase:
        cond["lastTransitionTime"] = now
    cond.setdefault("reason", "")
    cond.setdefault("message", "")
    status["runningInstances"] = ready
    status["creatingInstances"] = creating
    status["failedInstances"] = failed
    return {k: v for k, v in status.items() if v != []}


def build_services(dcr, comp):
    ports = [{"name": n, "port": p, "targetPort": p, "protocol": "TCP"} for n, p in PORTS[comp]]
    labels = selector(dcr, comp)
    owner = [owner_reference(dcr)]
    access = {"apiVersion": "v1", "kind": "Service",
              "metadata": {"name": access_service_name(dcr, comp), "namespace": namespace_of(dcr),
                           "labels": labels, "ownerReferences": owner},
              "spec": {"type": "ClusterIP", "selector": labels, "ports": ports}}
    internal = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": internal_service_name(dcr, comp), "namespace": namespace_of(dcr),
                             "labels": labels, "ownerReferences": owner},
                "spec": {"clusterIP": "None", "selector": labels, "ports": ports[:1],
                         "publishNotReadyAddresses": True}}
    return access, internal


def build_statefulset(dcr, comp, inherited_annotations):
    spec = (dcr.get("spec") or {}).get(SPEC_KEYS[comp]) or {}
    labels = selector(dcr, comp)
    resources = {k: spec[k] for k in ("requests", "limits") if spec.get(k)}
    container = {"name": comp, "image": spec.get("image", ""),
                 "ports": [{"name": n, "containerPort": p} for n, p in PORTS[comp]]}
    if resources:
        container["resources"] = resources
    if spec.get("envVars"):
        container["env"] = spec["envVars"]
    pod_spec = {"containers": [container]}
    for key in ("nodeSelector", "tolerations", "affinity"):
        if spec.get(key):
            pod_spec[key] = spec[key]
    template_meta = {"labels": dict(labels)}
    if inherited_annotations:
        template_meta["annotations"] = dict(inherited_annotations)
    claims = [{"metadata": {"name": pv.get("name")}, "spec": pv.get("persistentVolumeClaimSpec") or {}}
              for pv in spec.get("persistentVolumes") or [] if pv.get("name")]
    sts_spec = {"replicas": component_replicas(dcr, comp), "selector": {"matchLabels": labels},
                "serviceName": internal_service_name(dcr, comp), "podManagementPolicy": "Parallel",
                "template": {"metadata": template_meta, "spec": pod_spec}}
    if claims:
        sts_spec["volumeClaimTemplates"] = claims
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": statefulset_name(dcr, comp), "namespace": namespace_of(dcr), "labels": labels,
                         "annotations": {SPEC_HASH: stable_hash(sts_spec)},
                         "ownerReferences": [owner_reference(dcr)]},
            "spec": sts_spec}


def endpoints_have_addresses(endpoints):
    return any(subset.get("addresses") for subset in (endpoints or {}).get("subsets") or [])


def cluster_available(dcr):
    """Every component in spec is available with all replicas running (what doris_cluster waits for)."""
    status = dcr.get("status") or {}
    for comp in present_components(dcr):
        comp_status = status.get(STATUS_KEYS[comp]) or {}
        if (comp_status.get("componentCondition") or {}).get("phase") != AVAILABLE:
            return False
        if len(comp_status.get("runningInstances") or []) != component_replicas(dcr, comp):
            return False
    return True


def _cluster_keys_for(controller, obj):
    """Pods/Endpoints/StatefulSets of a component map back to their DorisCluster by label or name."""
    labels = meta(obj).get("labels") or {}
    owner = labels.get("app.doris.ownerreference/name") or ""
    comp = labels.get("app.kubernetes.io/component") or ""
    if owner and comp and owner.endswith(f"-{comp}"):
        return [(namespace_of(obj), owner[: -len(comp) - 1])]
    return []


class DorisClusterController(Controller):
    api_version, kind = "doris.selectdb.com/v1", "DorisCluster"
    watches = (("v1", "Pod", _cluster_keys_for), ("v1", "Endpoints", _cluster_keys_for),
               ("apps/v1", "StatefulSet", _cluster_keys_for))
    group = "doris"

    def reconcile(self, dcr, /):
        if meta(dcr).get("deletionTimestamp"):
            return None
        ns = namespace_of(dcr)
        fe_ready = endpoints_have_addresses(self.kube.get("v1", "Endpoints", access_service_name(dcr, "fe"), ns))
        old_status = dcr.get("status") or {}
        status = {}
        now = rfc3339()
        for comp in present_components(dcr):
            if comp != "fe" and not fe_ready and "fe" in present_components(dcr):
                # BE/CN/broker wait for FE endpoints; their status keeps what it was (nothing on first create).
                if old_status.get(STATUS_KEYS[comp]):
                    status[STATUS_KEYS[comp]] = old_status[STATUS_KEYS[comp]]
                continue
            self._ensure_component(dcr, comp)
            pods = self.kube.list("v1", "Pod", ns, label_selector=selector_string(selector(dcr, comp)))
            pods = [p for p in pods if not meta(p).get("deletionTimestamp")]
            status[STATUS_KEYS[comp]] = classify_pods(
                old_status.get(STATUS_KEYS[comp]), pods, component_replicas(dcr, comp),
                statefulset_name(dcr, comp), access_service_name(dcr, comp), now)
        updated = self.write_status(dcr, status)
        # The operator requeues every 5 s until every component is available; pod events also wake us.
        return None if cluster_available(updated) else 2.0

    def _ensure_component(self, dcr, comp):
        for service in build_services(dcr, comp):
            self.kube.create_if_absent(service)
        desired = build_statefulset(dcr, comp, self.ctx.inherited_annotations(dcr, scope=comp))
        current = self.kube.create_if_absent(desired)
        wanted_hash = desired["metadata"]["annotations"][SPEC_HASH]
        if (meta(current).get("annotations") or {}).get(SPEC_HASH) != wanted_hash:
            want = desired["spec"]
            self.kube.patch("apps/v1", "StatefulSet", name_of(desired), namespace_of(dcr),
                            {"metadata": {"annotations": {SPEC_HASH: wanted_hash}},
                             "spec": {"replicas": want["replicas"], "template": want["template"]}})
