"""What the kubelet, the volume binder and the endpoints controller would do, through the API only.

- PodLifecycle ("kubelet"): moves Pods through Pending -> Running/Ready (or not ready, failed,
  flapping...) according to their Behaviour, with pod IP, host IP, conditions and container statuses.
  Run-to-completion pods (restartPolicy Never/OnFailure) end Succeeded (or Failed).
  It is the kubelet only for pods nobody else plays kubelet for: a pod whose status someone else writes
  (a test setting phases by hand) is left alone from then on. Bare pods (no simulated controller, no
  simulator annotation) are claimed only after their delay, and only if their status is still untouched.
- VolumeBinder: binds a PersistentVolumeClaim, once a pod the kubelet runs uses it (WaitForFirstConsumer),
  to a freshly provisioned PersistentVolume of the requested size, and deletes that volume when the claim
  goes (reclaim policy Delete). Claims nobody mounts stay Pending, as on a real cluster with such a class.
- EndpointsController: keeps an Endpoints object per selector Service with the ready/not-ready pod addresses
  (doris-operator waits for FE endpoints before it creates BE).
"""
from . import behaviour as beh
from .objects import (controller_of, key_of, meta, name_of, namespace_of, pod_phase, pod_ready, rfc3339,
                      selector_matches, selector_string, set_condition)
from .runtime import Controller

RUN_TO_COMPLETION = ("Never", "OnFailure")
CONTAINER_ID_PREFIX = "containerd://sim-"   # marks container statuses this simulator wrote
# Kinds whose pods the simulators create: their pods are ours to run from the start.
SIMULATED_OWNERS = {"ReplicaSet", "StatefulSet", "Job", "RayCluster", "Cluster"}
BARE_POD_CLAIM_WINDOW = 0.3  # seconds a bare pod's creator has to write its status before we claim it


def _container_names(pod):
    return [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]


def pod_status(pod, state, pod_ip, host_ip, now, message=""):
    """The status a kubelet would report for `pod` in simulator state `state` (pure function).

    Timestamps already in the pod's status are kept when the state does not change, so an unchanged state
    produces an identical status (and no write).
    """
    old = pod.get("status") or {}
    spec = pod.get("spec") or {}
    containers = _container_names(pod)
    completes = spec.get("restartPolicy") in RUN_TO_COMPLETION
    start = old.get("startTime") or now
    conditions = old.get("conditions") or []

    def running_since(name):
        for cs in old.get("containerStatuses") or []:
            if cs.get("name") == name and "running" in (cs.get("state") or {}):
                return cs["state"]["running"].get("startedAt") or now
        return now

    if state == beh.PROGRESSING and not completes:
        phase, ready, reason = "Pending", False, ""
        c_state = {n: {"waiting": {"reason": "ContainerCreating"}} for n in containers}
    elif state == beh.PROGRESSING or (state == beh.NOT_READY and completes):
        phase, ready, reason = "Running", False, ""
        c_state = {n: {"running": {"startedAt": running_since(n)}} for n in containers}
    elif state == beh.READY and completes:
        phase, ready, reason = "Succeeded", False, ""
        c_state = {n: {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start,
                                      "finishedAt": now}} for n in containers}
    elif state == beh.READY:
        phase, ready, reason = "Running", True, ""
        c_state = {n: {"running": {"startedAt": running_since(n)}} for n in containers}
    elif state == beh.NOT_READY:
        phase, ready, reason = "Running", False, ""
        c_state = {n: {"running": {"startedAt": running_since(n)}} for n in containers}
    elif state == beh.FAILED:
        phase, ready, reason = "Failed", False, "Error"
        c_state = {n: {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": start, "finishedAt": now}}
                   for n in containers}
    else:
        raise ValueError(f"unknown state {state!r}")

    # Keep the first finishedAt of a terminated container stable across reconciles.
    for cs in old.get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated")
        new = c_state.get(cs.get("name"), {}).get("terminated")
        if term and new and term.get("exitCode") == new.get("exitCode"):
            new["finishedAt"] = term.get("finishedAt") or new["finishedAt"]
            new["startedAt"] = term.get("startedAt") or new["startedAt"]

    unready = [n for n in containers if not ready]
    ready_msg = f"containers with unready status: [{' '.join(unready)}]" if unready else ""
    ready_reason = "" if ready else ("PodCompleted" if phase == "Succeeded" else "ContainersNotReady")
    conditions = set_condition(conditions, "PodScheduled", "True", "")
    conditions = set_condition(conditions, "Initialized", "True", "")
    conditions = set_condition(conditions, "ContainersReady", "True" if ready else "False", ready_reason,
                               ready_msg)
    conditions = set_condition(conditions, "Ready", "True" if ready else "False", ready_reason, ready_msg)
    # metav1.Condition has observedGeneration/reason; PodCondition keeps reason/message only when set.
    for cond in conditions:
        cond.pop("observedGeneration", None)
        if not cond.get("reason"):
            cond.pop("reason", None)
        if not cond.get("message"):
            cond.pop("message", None)

    restart_base = {cs.get("name"): cs.get("restartCount", 0) for cs in old.get("containerStatuses") or []}
    statuses = []
    for container in (spec.get("containers") or []):
        name = container.get("name")
        statuses.append({
            "name": name, "image": container.get("image", ""), "imageID": "",
            "containerID": f"{CONTAINER_ID_PREFIX}{meta(pod).get('uid', '')[:12]}-{name}",
            "ready": ready, "started": "running" in c_state[name],
            "restartCount": restart_base.get(name, 0), "state": c_state[name],
        })

    status = {"phase": phase, "conditions": conditions, "containerStatuses": statuses,
              "startTime": start, "qosClass": old.get("qosClass") or _qos_class(spec)}
    if phase != "Pending" or pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    if host_ip:
        status["hostIP"] = host_ip
        status["hostIPs"] = [{"ip": host_ip}]
    if phase == "Failed":
        status["reason"] = reason
        status["message"] = message or f"simulated failure: container(s) {', '.join(containers)} exited with code 1"
    return status


def _qos_class(spec):
    requests = limits = False
    guaranteed = True
    for container in spec.get("containers") or []:
        res = container.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        requests = requests or bool(req) or bool(lim)
        limits = limits or bool(lim)
        for resource in ("cpu", "memory"):
            if resource not in lim or (resource in req and req[resource] != lim[resource]):
                guaranteed = False
    if not requests:
        return "BestEffort"
    return "Guaranteed" if guaranteed and limits else "Burstable"


def has_marker(status):
    return any((cs.get("containerID") or "").startswith(CONTAINER_ID_PREFIX)
               for cs in (status or {}).get("containerStatuses") or [])


def untouched(status):
    """Only what the API server writes on create: no kubelet has reported on this pod yet."""
    status = status or {}
    return pod_phase({"status": status}) in ("", "Pending") and not status.get("conditions") \
        and not status.get("containerStatuses")


def signature(status):
    """What tells our last write from someone else's: phase, readiness, address."""
    ready = next((c.get("status") for c in (status or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    return ((status or {}).get("phase"), ready, (status or {}).get("podIP"))


def claimed(pod):
    """Created by a simulated controller, or opted in with a simulator annotation."""
    ref = controller_of(pod)
    if ref and ref.get("kind") in SIMULATED_OWNERS:
        return True
    return any(key.startswith(beh.PREFIX + "/") for key in meta(pod).get("annotations") or {})


class PodLifecycle(Controller):
    """The kubelet's part: pod phase, readiness and addresses over time."""

    api_version, kind = "v1", "Pod"

    def __init__(self, ctx):
        super().__init__(ctx)
        self._written = {}    # uid -> status we last wrote
        self._foreign = set()  # uids whose status someone else writes

    def reconcile(self, pod, /):
        uid = meta(pod).get("uid")
        if meta(pod).get("deletionTimestamp") or uid in self._foreign:
            return None
        old = pod.get("status") or {}
        last = self._written.get(uid)
        if last is not None and signature(old) != signature(last):
            self._foreign.add(uid)  # someone else reported on this pod: they are its kubelet now
            return None
        if last is None and not has_marker(old) and not untouched(old):
            self._foreign.add(uid)
            return None
        behaviour = self.ctx.behaviour(pod)
        if last is None and has_marker(old) and pod_phase(pod) != "Pending":
            self.ctx.mark_done(pod)  # ours from before a simulator restart: no new delay
        elapsed = self.ctx.elapsed(pod)
        if last is None and not has_marker(old) and not claimed(pod):
            window = max(behaviour.delay, BARE_POD_CLAIM_WINDOW)
            if elapsed < window:
                return window - elapsed
        if pod_phase(pod) == "Succeeded":
            return None
        state = behaviour.state_at(elapsed)
        pod_ip = old.get("podIP") or (None if state == beh.PROGRESSING else self.ctx.allocate_ip("pod"))
        status = pod_status(pod, state, pod_ip, self._host_ip(pod), rfc3339(), behaviour.message)
        updated = self.write_status(pod, status)
        self._written[uid] = updated.get("status") or status
        return behaviour.next_change(elapsed)

    def deleted(self, pod, /):
        uid = meta(pod).get("uid")
        self._written.pop(uid, None)
        self._foreign.discard(uid)

    def _host_ip(self, pod):
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            return None
        for node in self.ctx.cached("v1", "Node"):
            if name_of(node) == node_name:
                for address in (node.get("status") or {}).get("addresses") or []:
                    if address.get("type") == "InternalIP":
                        return address.get("address")
        return None


def claims_of(pod):
    return [v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or []
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


def _consumer_claim_keys(controller, pod):
    if not (claimed(pod) or has_marker(pod.get("status"))):
        return []
    return [(namespace_of(pod), claim) for claim in claims_of(pod)]


class VolumeBinder(Controller):
    """Dynamic provisioning on first consumer: a claim a simulated pod mounts gets a new PersistentVolume."""

    api_version, kind = "v1", "PersistentVolumeClaim"
    watches = (("v1", "Pod", _consumer_claim_keys),)

    def _has_consumer(self, pvc):
        for pod in self.ctx.cached("v1", "Pod"):
            if namespace_of(pod) == namespace_of(pvc) and name_of(pvc) in claims_of(pod) \
                    and (claimed(pod) or has_marker(pod.get("status"))):
                return True
        return False

    def reconcile(self, pvc, /):
        if meta(pvc).get("deletionTimestamp") or (pvc.get("status") or {}).get("phase") == "Bound":
            return None
        if not self._has_consumer(pvc):
            return None  # WaitForFirstConsumer: a pod event brings us back
        spec = pvc.get("spec") or {}
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        pv_name = spec.get("volumeName") or f"pvc-{meta(pvc).get('uid')}"
        access_modes = spec.get("accessModes") or ["ReadWriteOnce"]
        pv = {
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": "sim.lakehouse.test"}},
            "spec": {
                "capacity": {"storage": size}, "accessModes": access_modes,
                "persistentVolumeReclaimPolicy": "Delete",
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name_of(pvc),
                             "namespace": namespace_of(pvc), "uid": meta(pvc).get("uid")},
                "csi": {"driver": "sim.lakehouse.test", "volumeHandle": pv_name},
                "volumeMode": spec.get("volumeMode") or "Filesystem",
            },
        }
        if spec.get("storageClassName"):
            pv["spec"]["storageClassName"] = spec["storageClassName"]
        self.kube.create_if_absent(pv)
        self.kube.patch("v1", "PersistentVolume", pv_name, None, {"status": {"phase": "Bound"}},
                        subresource="status")
        if not spec.get("volumeName"):
            pvc = self.kube.patch("v1", "PersistentVolumeClaim", name_of(pvc), namespace_of(pvc),
                                  {"spec": {"volumeName": pv_name},
                                   "metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes"}}})
        self.write_status(pvc, {"phase": "Bound", "accessModes": access_modes, "capacity": {"storage": size}})
        return None

    def deleted(self, pvc, /):
        volume = (pvc.get("spec") or {}).get("volumeName") or f"pvc-{meta(pvc).get('uid')}"
        pv = self.kube.get("v1", "PersistentVolume", volume)
        if pv and ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") == meta(pvc).get("uid"):
            self.kube.delete("v1", "PersistentVolume", volume)


def endpoint_subsets(service, pods):
    """Endpoints subsets for a selector Service over candidate pods (pure function)."""
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    ready, not_ready = [], []
    for pod in sorted(pods, key=name_of):
        if meta(pod).get("deletionTimestamp") or not selector_matches({"matchLabels": selector},
                                                                      meta(pod).get("labels")):
            continue
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or pod_phase(pod) in ("Succeeded", "Failed"):
            continue
        address = {"ip": ip, "targetRef": {"kind": "Pod", "name": name_of(pod), "namespace": namespace_of(pod),
                                           "uid": meta(pod).get("uid")}}
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            address["nodeName"] = node
        (ready if pod_ready(pod) else not_ready).append(address)
    if not ready and not not_ready:
        return []
    ports = []
    for port in spec.get("ports") or []:
        target = port.get("targetPort", port.get("port"))
        entry = {"port": target if isinstance(target, int) else _named_port(pods, target, port.get("port")),
                 "protocol": port.get("protocol", "TCP")}
        if port.get("name"):
            entry["name"] = port["name"]
        ports.append(entry)
    subset = {"ports": ports}
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    return [subset]


def _named_port(pods, name, default):
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or []:
            for port in container.get("ports") or []:
                if port.get("name") == name:
                    return port.get("containerPort", default)
    return default


class EndpointsController(Controller):
    api_version, kind = "v1", "Service"

    def _services_selecting(self, pod):
        ns = namespace_of(pod)
        keys = []
        for svc in self.ctx.cached("v1", "Service"):
            selector = (svc.get("spec") or {}).get("selector")
            if namespace_of(svc) == ns and selector and selector_matches({"matchLabels": selector},
                                                                         meta(pod).get("labels")):
                keys.append(key_of(svc))
        return keys

    watches = (("v1", "Pod", lambda self, pod: self._services_selecting(pod)),)

    def reconcile(self, service, /):
        selector = (service.get("spec") or {}).get("selector")
        if not selector or meta(service).get("deletionTimestamp"):
            return None
        ns, name = namespace_of(service), name_of(service)
        pods = self.kube.list("v1", "Pod", ns, label_selector=selector_string(selector))
        subsets = endpoint_subsets(service, pods)
        current = self.kube.get("v1", "Endpoints", name, ns)
        if current is None:
            self.kube.create_if_absent({
                "apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": name, "namespace": ns, "labels": meta(service).get("labels") or {}},
                "subsets": subsets,
            })
        elif (current.get("subsets") or []) != subsets:
            self.kube.patch("v1", "Endpoints", name, ns, {"subsets": subsets})
        return None

    def deleted(self, service, /):
        self.kube.delete("v1", "Endpoints", name_of(service), namespace_of(service))
