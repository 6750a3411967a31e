"""KubeRay's RayCluster controller (ray.io/v1): head pod + Service, worker pods per group, and the status
computation of kuberay v1.7.0 `calculateStatus` (conditions gate on).

Behaviour, from the CR's simulator settings:
- delay / never-ready / flap / degrade reach the pods (through pod annotations); `degrade` (ready first,
  then not ready) applies to workers only unless `sim.lakehouse.test/head.mode` says otherwise, which gives
  the "degrade after ready" scenario: readyWorkerReplicas drops while the sticky `state: ready` and
  `RayClusterProvisioned=True` stay, exactly as in KubeRay.
- `fail` (or `worker.mode: fail`) makes worker pod creation fail: ReplicaFailure=True, reason
  FailedCreateWorkerPod, with the API error as message; `head.mode: fail` does the same for the head pod.
"""
import copy

from plugins.module_utils.quantity import cpu_millicores, format_bytes, format_cpu, memory_bytes

from . import behaviour as beh
from .objects import (find_condition, generation, meta, name_of, namespace_of, owner_reference, pod_phase,
                      pod_running_and_ready, random_suffix, remove_condition, rfc3339, set_condition)
from .runtime import Controller
from .workloads import pod_from_template, pods_to_delete

CLUSTER_LABEL = "ray.io/cluster"
NODE_TYPE_LABEL = "ray.io/node-type"
GROUP_LABEL = "ray.io/group"
HEAD_GROUP = "headgroup"
DEFAULT_HEAD_PORTS = [("client", 10001), ("gcs-server", 6379), ("dashboard", 8265), ("metrics", 8080)]
COMPONENT = "raycluster-controller"


def head_service_name(rc):
    head_service = (((rc.get("spec") or {}).get("headGroupSpec") or {}).get("headService") or {})
    return (head_service.get("metadata") or {}).get("name") or f"{name_of(rc)}-head-svc"


def worker_groups(rc):
    return (rc.get("spec") or {}).get("workerGroupSpecs") or []


def group_desired(group, cluster_suspended=False):
    """Replicas x numOfHosts, replicas clamped into [minReplicas, maxReplicas]; 0 when suspended."""
    if cluster_suspended or group.get("suspend"):
        return 0
    replicas = group.get("replicas", 0) or 0
    low, high = group.get("minReplicas", 0) or 0, group.get("maxReplicas", 2147483647)
    if high is not None and low > high:
        replicas = high
    else:
        replicas = max(low, min(replicas, high if high is not None else replicas))
    return replicas * (group.get("numOfHosts") or 1)


def desired_workers(rc):
    suspended = bool((rc.get("spec") or {}).get("suspend"))
    return sum(group_desired(g, suspended) for g in worker_groups(rc))


def base_labels(rc, node_type, group):
    return {CLUSTER_LABEL: name_of(rc), NODE_TYPE_LABEL: node_type, GROUP_LABEL: group,
            "ray.io/identifier": f"{name_of(rc)}-{node_type}", "ray.io/is-ray-node": "yes",
            "app.kubernetes.io/created-by": "kuberay-operator", "app.kubernetes.io/name": "kuberay"}


def head_service(rc, cluster_ip=None):
    containers = ((((rc.get("spec") or {}).get("headGroupSpec") or {}).get("template") or {}).get("spec")
                  or {}).get("containers") or []
    ports = {}
    for name, port in DEFAULT_HEAD_PORTS:
        ports[name] = port
    for container in containers[:1]:
        for port in container.get("ports") or []:
            if port.get("name"):
                ports[port["name"]] = port.get("containerPort")
    labels = {CLUSTER_LABEL: name_of(rc), NODE_TYPE_LABEL: "head", "ray.io/identifier": f"{name_of(rc)}-head",
              "app.kubernetes.io/created-by": "kuberay-operator", "app.kubernetes.io/name": "kuberay"}
    spec = {"type": ((rc.get("spec") or {}).get("headGroupSpec") or {}).get("serviceType") or "ClusterIP",
            "selector": {CLUSTER_LABEL: name_of(rc), NODE_TYPE_LABEL: "head"},
            "ports": [{"name": n, "port": p, "targetPort": p, "protocol": "TCP"} for n, p in ports.items()]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": head_service_name(rc), "namespace": namespace_of(rc), "labels": labels,
                         "ownerReferences": [owner_reference(rc)]},
            "spec": spec}


def pod_resources(pod_spec):
    """kuberay CalculatePodResource: per container its requests, plus limits for names without a request."""
    totals = {}
    for container in (pod_spec or {}).get("containers") or []:
        resources = container.get("resources") or {}
        merged = dict(resources.get("limits") or {})
        merged.update(resources.get("requests") or {})
        for name, quantity in merged.items():
            totals.setdefault(name, []).append(quantity)
    return totals


def desired_resources(rc):
    """desiredCPU/Memory/GPU/TPU: the head pod plus `replicas` pods of each worker group (kuberay
    CalculateDesiredResources), as canonical quantity strings."""
    spec = rc.get("spec") or {}
    pods = [(((spec.get("headGroupSpec") or {}).get("template") or {}).get("spec"), 1)]
    pods += [((g.get("template") or {}).get("spec"), g.get("replicas", 0) or 0) for g in worker_groups(rc)]
    cpu = memory = gpu = tpu = 0
    for pod_spec, count in pods:
        for name, quantities in pod_resources(pod_spec).items():
            for quantity in quantities:
                if name == "cpu":
                    cpu += count * cpu_millicores(quantity)
                elif name == "memory":
                    memory += count * memory_bytes(quantity)
                elif name.endswith("gpu"):
                    gpu += count * memory_bytes(quantity)
                elif name == "google.com/tpu":
                    tpu += count * memory_bytes(quantity)
    return {"desiredCPU": format_cpu(cpu), "desiredMemory": format_bytes(memory), "desiredGPU": str(gpu),
            "desiredTPU": str(tpu)}


AUTOSCALER_RESOURCES = {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}


def with_autoscaler(rc, template):
    """The head pod template as kuberay builds it: with spec.enableInTreeAutoscaling, an `autoscaler` container
    (the head container's image unless autoscalerOptions.image, autoscalerOptions.resources or 500m/512Mi) that
    runs `ray kuberay-autoscaler` against this cluster (pure function)."""
    spec = rc.get("spec") or {}
    if not spec.get("enableInTreeAutoscaling"):
        return template
    options = spec.get("autoscalerOptions") or {}
    template = copy.deepcopy(template)
    pod_spec = template.setdefault("spec", {})
    containers = pod_spec.setdefault("containers", [])
    image = options.get("image") or (containers[0].get("image") if containers else "rayproject/ray")
    containers.append({
        "name": "autoscaler", "image": image, "imagePullPolicy": options.get("imagePullPolicy", "IfNotPresent"),
        "command": ["/bin/bash", "-lc", "--"],
        "args": [f"ray kuberay-autoscaler --cluster-name {name_of(rc)} --cluster-namespace {namespace_of(rc)}"],
        "resources": options.get("resources") or copy.deepcopy(AUTOSCALER_RESOURCES)})
    return template


def head_pod_ready_condition(head_pod):
    """kuberay FindHeadPodReadyCondition: mirror the pod's Ready condition."""
    if head_pod is None:
        return "False", "HeadPodNotFound", "Head Pod not found"
    cond = find_condition((head_pod.get("status") or {}).get("conditions"), "Ready")
    if not cond:
        return "False", "Unknown", ""
    reason = cond.get("reason") or ("HeadPodRunningAndReady" if cond.get("status") == "True" else "Unknown")
    return cond.get("status", "False"), reason, cond.get("message", "")


def all_pods_running(pods):
    return bool(pods) and all(pod_running_and_ready(p) for p in pods)


def calculate_status(rc, pods, service, reconcile_error, now):
    """RayCluster status as kuberay v1.7.0 calculateStatus computes it (pure function).

    reconcile_error: None or (reason, message) of a failed pod create/delete.
    """
    old = rc.get("status") or {}
    status = dict(old)
    conditions = old.get("conditions") or []
    if reconcile_error:
        conditions = set_condition(conditions, "ReplicaFailure", "True", reconcile_error[0], reconcile_error[1],
                                   now=None)
    else:
        conditions = remove_condition(conditions, "ReplicaFailure")
    status["observedGeneration"] = generation(rc)
    workers = [p for p in pods if (meta(p).get("labels") or {}).get(NODE_TYPE_LABEL) == "worker"]
    status["readyWorkerReplicas"] = sum(1 for p in workers if pod_running_and_ready(p))
    status["availableWorkerReplicas"] = sum(1 for p in workers if pod_phase(p) == "Running")
    status["desiredWorkerReplicas"] = desired_workers(rc)
    status["minWorkerReplicas"] = sum((g.get("minReplicas", 0) or 0) * (g.get("numOfHosts") or 1)
                                      for g in worker_groups(rc))
    status["maxWorkerReplicas"] = sum((g.get("maxReplicas", 2147483647) or 0) * (g.get("numOfHosts") or 1)
                                      for g in worker_groups(rc))
    status["maxWorkerReplicas"] = min(status["maxWorkerReplicas"], 2147483647)
    status.update(desired_resources(rc))
    if not reconcile_error and len(pods) == status["desiredWorkerReplicas"] + 1 and all_pods_running(pods):
        status["state"] = "ready"
        status.pop("reason", None)
    head = next((p for p in pods if (meta(p).get("labels") or {}).get(NODE_TYPE_LABEL) == "head"), None)
    ready_status, ready_reason, ready_message = head_pod_ready_condition(head)
    conditions = set_condition(conditions, "HeadPodReady", ready_status, ready_reason, ready_message)
    suspend = bool((rc.get("spec") or {}).get("suspend"))
    provisioned = find_condition(conditions, "RayClusterProvisioned")
    if not (provisioned and provisioned.get("status") == "True"):
        if all_pods_running(pods):
            conditions = set_condition(conditions, "RayClusterProvisioned", "True", "AllPodRunningAndReadyFirstTime",
                                       "All Ray Pods are ready for the first time")
        else:
            conditions = set_condition(conditions, "RayClusterProvisioned", "False", "RayClusterPodsProvisioning",
                                       "RayCluster Pods are being provisioned for first time")
    if suspend and not pods:
        conditions = set_condition(conditions, "RayClusterProvisioned", "False", "RayClusterPodsProvisioning",
                                   "RayCluster has been suspended")
        conditions = set_condition(conditions, "RayClusterSuspending", "False", "RayClusterSuspending")
        conditions = set_condition(conditions, "RayClusterSuspended", "True", "RayClusterSuspended")
        status["state"] = "suspended"
    else:
        conditions = set_condition(conditions, "RayClusterSuspended", "False", "RayClusterSuspended")
        conditions = set_condition(conditions, "RayClusterSuspending", "True" if suspend else "False",
                                   "RayClusterSuspending")
    status["conditions"] = conditions
    endpoints = dict(old.get("endpoints") or {})
    if service:
        for port in (service.get("spec") or {}).get("ports") or []:
            if not port.get("name"):
                continue
            value = port.get("nodePort") or port.get("targetPort") or port.get("port")
            endpoints[port["name"]] = str(value)
    if endpoints:
        status["endpoints"] = endpoints
    cluster_ip = ((service or {}).get("spec") or {}).get("clusterIP") or ""
    if cluster_ip == "None":
        cluster_ip = ((head or {}).get("status") or {}).get("podIP", "")
    status["head"] = {"podIP": ((head or {}).get("status") or {}).get("podIP", ""),
                      "podName": name_of(head) if head else "",
                      "serviceIP": cluster_ip, "serviceName": name_of(service) if service else ""}
    status["lastUpdateTime"] = now
    if old.get("state") != status.get("state") and status.get("state"):
        status["stateTransitionTimes"] = {**(old.get("stateTransitionTimes") or {}), status["state"]: now}
    return status


def raycluster_ready(rc):
    """What raycluster_wait should accept (REFERENCE a3), never trusting the sticky state."""
    status = rc.get("status") or {}
    conditions = status.get("conditions")

    def true(t):
        cond = find_condition(conditions, t)
        return bool(cond) and cond.get("status") == "True"
    return (true("HeadPodReady") and true("RayClusterProvisioned") and not true("ReplicaFailure")
            and status.get("readyWorkerReplicas", 0) >= status.get("desiredWorkerReplicas", 0)
            and status.get("observedGeneration") == generation(rc))


def _cluster_keys(controller, obj):
    cluster = (meta(obj).get("labels") or {}).get(CLUSTER_LABEL)
    return [(namespace_of(obj), cluster)] if cluster else []


class RayClusterController(Controller):
    api_version, kind = "ray.io/v1", "RayCluster"
    watches = (("v1", "Pod", _cluster_keys), ("v1", "Service", _cluster_keys))
    group = "ray"

    def reconcile(self, rc, /):
        if meta(rc).get("deletionTimestamp"):
            return None
        ns = namespace_of(rc)
        service = self._ensure_head_service(rc)
        pods = [p for p in self.kube.list("v1", "Pod", ns, label_selector=f"{CLUSTER_LABEL}={name_of(rc)}")
                if not meta(p).get("deletionTimestamp")]
        error = None
        if (rc.get("spec") or {}).get("suspend"):
            for pod in pods:
                self.kube.delete("v1", "Pod", name_of(pod), ns)
            pods = []
        else:
            pods, error = self._reconcile_pods(rc, pods)
        status = calculate_status(rc, pods, service, error, rfc3339())
        old_failure = find_condition((rc.get("status") or {}).get("conditions"), "ReplicaFailure")
        if error and not old_failure:
            self.ctx.record_event(rc, "Warning", "FailedToCreateWorkerPod" if error[0] == "FailedCreateWorkerPod"
                                  else "FailedToCreateHeadPod", error[1], COMPONENT)
        self.write_status(rc, status, volatile=("lastUpdateTime",))
        return 2.0 if error else None

    def _ensure_head_service(self, rc):
        existing = self.kube.get("v1", "Service", head_service_name(rc), namespace_of(rc))
        if existing:
            return existing
        cluster_ip = self.ctx.allocate_ip("service") if self.config.assign_cluster_ips else None
        return self.kube.create_if_absent(head_service(rc, cluster_ip))

    def _pod_annotations(self, rc, scope):
        annotations = self.ctx.inherited_annotations(rc, scope)
        mode_key = f"{beh.PREFIX}/{beh.MODE}"
        mode = annotations.get(mode_key)
        explicit_head = f"{beh.PREFIX}/head.{beh.MODE}" in (meta(rc).get("annotations") or {})
        if mode == beh.MODE_FAIL or (scope == "head" and mode == beh.MODE_DEGRADE and not explicit_head):
            annotations[mode_key] = beh.MODE_READY  # failure is simulated at pod creation, not in the pod
        return annotations

    def _failing(self, rc, scope):
        return self.ctx.behaviour(rc, scope).mode == beh.MODE_FAIL

    def _create_error(self, rc, pod_name, reason, scope):
        # The generated suffix is left out so the message (and the status) stays the same across retries.
        stem = pod_name.rsplit("-", 1)[0]
        default = (f'pods "{stem}" is forbidden: exceeded quota: compute-resources, requested: cpu=1, '
                   f'used: cpu=0, limited: cpu=0')
        return reason, f"{reason}\n{self.ctx.behaviour(rc, scope).failure_message(default)}"

    def _reconcile_pods(self, rc, pods):
        ns, error = namespace_of(rc), None
        spec = rc.get("spec") or {}
        heads = [p for p in pods if (meta(p).get("labels") or {}).get(NODE_TYPE_LABEL) == "head"]
        if not heads:
            name = f"{name_of(rc)}-head-{random_suffix()}"
            if self._failing(rc, "head"):
                return pods, self._create_error(rc, name, "FailedCreateHeadPod", "head")
            template = with_autoscaler(rc, (spec.get("headGroupSpec") or {}).get("template") or {})
            pod = pod_from_template(template, name, ns, rc, extra_labels=base_labels(rc, "head", HEAD_GROUP),
                                    inherited_annotations=self._pod_annotations(rc, "head"),
                                    node_name=self.ctx.pick_node())
            pods.append(self.kube.create(pod))
        for extra in heads[1:]:
            self.kube.delete("v1", "Pod", name_of(extra), ns)
            pods.remove(extra)
        for group in worker_groups(rc):
            gname = group.get("groupName")
            members = [p for p in pods if (meta(p).get("labels") or {}).get(GROUP_LABEL) == gname
                       and (meta(p).get("labels") or {}).get(NODE_TYPE_LABEL) == "worker"]
            want = group_desired(group)
            for _missing_worker in range(want - len(members)):
                name = f"{name_of(rc)}-{gname}-worker-{random_suffix()}"
                if self._failing(rc, "worker"):
                    error = self._create_error(rc, name, "FailedCreateWorkerPod", "worker")
                    break
                pod = pod_from_template(group.get("template") or {}, name, ns, rc,
                                        extra_labels=base_labels(rc, "worker", gname),
                                        inherited_annotations=self._pod_annotations(rc, "worker"),
                                        node_name=self.ctx.pick_node())
                pods.append(self.kube.create(pod))
            if len(members) > want:
                for pod in pods_to_delete(members, len(members) - want):
                    self.kube.delete("v1", "Pod", name_of(pod), ns)
                    pods.remove(pod)
        return pods, error
