# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of a KubeRay ``RayCluster`` (``ray.io/v1``), read from its status the way KubeRay v1.7.0 writes it.

What KubeRay does (ray-operator/controllers/ray/raycluster_controller.go, calculateStatus; utils/util.go):

* ``status.state`` becomes ``ready`` the first time every pod is Running and Ready and is never reset except to
  ``suspended``: it is sticky, so it says nothing about the cluster now. It is reported, never trusted.
* Conditions (feature gate ``RayClusterStatusConditions``, on by default in v1.7.0): ``HeadPodReady`` follows the
  head pod; ``RayClusterProvisioned`` turns True once all pods were ready for the first time; ``ReplicaFailure``
  is True while creating or deleting a pod fails (its message carries the API error).
* ``desiredWorkerReplicas`` = sum over non-suspended worker groups of clamp(replicas, min, max) x numOfHosts;
  ``minWorkerReplicas`` / ``maxWorkerReplicas`` = sums of minReplicas / maxReplicas x numOfHosts. These fields
  are ``omitempty`` (0 is absent), so this module also derives them from the spec and takes the larger figure.
* ``status.observedGeneration`` is the generation the status was computed for: a status older than the spec
  (for example right after a scale-up) must not count as ready.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import condition, generation_current

RAY_API_VERSION = "ray.io/v1"
RAY_KIND = "RayCluster"
DASHBOARD_PORT = 8265
DASHBOARD_PORT_NAME = "dashboard"
# Go's math.MaxInt32, the CRD default of workerGroupSpecs[].maxReplicas.
MAX_REPLICAS_DEFAULT = 2147483647

HEAD_POD_READY = "HeadPodReady"
PROVISIONED = "RayClusterProvisioned"
REPLICA_FAILURE = "ReplicaFailure"
SUSPENDING = "RayClusterSuspending"
SUSPENDED = "RayClusterSuspended"


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _is_true(cond):
    return cond is not None and cond.get("status") == "True"


def _group_desired(group):
    """clamp(replicas, minReplicas, maxReplicas) x numOfHosts, 0 when the group is suspended (KubeRay's
    GetWorkerGroupDesiredReplicas; min > max yields max, a missing replicas yields min)."""
    if group.get("suspend"):
        return 0
    minimum = _int(group.get("minReplicas"), 0)
    maximum = _int(group.get("maxReplicas"), MAX_REPLICAS_DEFAULT)
    replicas = group.get("replicas")
    if minimum > maximum:
        count = maximum
    elif replicas is None or _int(replicas) < minimum:
        count = minimum
    elif _int(replicas) > maximum:
        count = maximum
    else:
        count = _int(replicas)
    return count * _int(group.get("numOfHosts"), 1)


def spec_worker_counts(obj):
    """Desired / min / max workers as KubeRay derives them from ``spec.workerGroupSpecs``."""
    groups = [g for g in ((obj.get("spec") or {}).get("workerGroupSpecs") or []) if not g.get("suspend")]
    return {
        "desired": sum(_group_desired(g) for g in groups),
        "min": sum(_int(g.get("minReplicas"), 0) * _int(g.get("numOfHosts"), 1) for g in groups),
        "max": sum(_int(g.get("maxReplicas"), MAX_REPLICAS_DEFAULT) * _int(g.get("numOfHosts"), 1) for g in groups),
    }


def autoscaling_enabled(obj):
    return bool((obj.get("spec") or {}).get("enableInTreeAutoscaling"))


def worker_counts(obj):
    """Worker figures for reports and for the readiness rule.

    ``required`` is what ``readyWorkerReplicas`` must reach: the desired count, or the minimum when the in-tree
    autoscaler owns the replica counts (it may legitimately sit at min until load arrives).
    """
    status = obj.get("status") or {}
    from_spec = spec_worker_counts(obj)
    desired = max(_int(status.get("desiredWorkerReplicas")), from_spec["desired"])
    minimum = max(_int(status.get("minWorkerReplicas")), from_spec["min"])
    autoscaling = autoscaling_enabled(obj)
    return {
        "ready": _int(status.get("readyWorkerReplicas")),
        "available": _int(status.get("availableWorkerReplicas")),
        "desired": desired,
        "min": minimum,
        # Informational only: the spec is the current figure (status may lag a generation).
        "max": from_spec["max"],
        "autoscaling": autoscaling,
        "required": minimum if autoscaling else desired,
    }


def _condition_text(cond):
    if cond is None:
        return "absent"
    text = "%s" % cond.get("status")
    if cond.get("reason"):
        text += " (%s)" % cond["reason"]
    return text


def readiness_problems(obj):
    """Everything that keeps the RayCluster from being ready now; an empty list means ready.

    ``status.state`` is deliberately not consulted (sticky, see the module docstring).
    """
    problems = []
    # KubeRay always writes observedGeneration; a status without it cannot be shown to be current.
    if not generation_current(obj, missing_ok=False):
        problems.append(
            "status is stale: observedGeneration %s, generation %s"
            % ((obj.get("status") or {}).get("observedGeneration"), (obj.get("metadata") or {}).get("generation"))
        )
    head = condition(obj, HEAD_POD_READY)
    if not _is_true(head):
        problems.append("%s is %s" % (HEAD_POD_READY, _condition_text(head)))
    provisioned = condition(obj, PROVISIONED)
    if not _is_true(provisioned):
        problems.append("%s is %s" % (PROVISIONED, _condition_text(provisioned)))
    if _is_true(condition(obj, REPLICA_FAILURE)):
        problems.append("%s is True" % REPLICA_FAILURE)
    counts = worker_counts(obj)
    if counts["ready"] < counts["required"]:
        problems.append(
            "%d of %d %s workers ready"
            % (counts["ready"], counts["required"], "minimum" if counts["autoscaling"] else "desired")
        )
    return problems


def is_ready(obj):
    return not readiness_problems(obj)


def failure(obj):
    """A message when the cluster cannot become ready by waiting, else None.

    ``ReplicaFailure=True`` means KubeRay could not create or delete a pod (quota, admission, bad template): it
    does not clear by itself, so waiting is pointless. A suspended cluster never becomes ready either.
    """
    replica_failure = condition(obj, REPLICA_FAILURE)
    if _is_true(replica_failure):
        return "ReplicaFailure: %s: %s" % (replica_failure.get("reason") or "-", replica_failure.get("message") or "-")
    if (obj.get("spec") or {}).get("suspend") or _is_true(condition(obj, SUSPENDED)) or _is_true(
        condition(obj, SUSPENDING)
    ):
        return "the RayCluster is suspended (spec.suspend is true): it will not become ready until resumed"
    return None


def describe(obj):
    """One line with the last status: conditions, worker counts, generations, and the (untrusted) state."""
    status = obj.get("status") or {}
    conditions = status.get("conditions") or []
    if conditions:
        cond_text = ", ".join("%s=%s" % (c.get("type"), _condition_text(c)) for c in conditions)
    elif status:
        cond_text = "none (is the KubeRay feature gate RayClusterStatusConditions off?)"
    else:
        cond_text = "none (no status yet: is the KubeRay operator running?)"
    counts = worker_counts(obj)
    return (
        "conditions: %s; workers ready %d/%d %s (available %d, desired %d, min %d, max %d); "
        "observedGeneration %s of generation %s; state %r (sticky, not used)"
        % (
            cond_text,
            counts["ready"],
            counts["required"],
            "minimum" if counts["autoscaling"] else "desired",
            counts["available"],
            counts["desired"],
            counts["min"],
            counts["max"],
            status.get("observedGeneration"),
            (obj.get("metadata") or {}).get("generation"),
            status.get("state"),
        )
    )


def head_service_name(obj):
    """The head Service: from status.head, else spec.headGroupSpec.headService, else KubeRay's ``<name>-head-svc``."""
    status_name = ((obj.get("status") or {}).get("head") or {}).get("serviceName")
    if status_name:
        return status_name
    head_service = ((obj.get("spec") or {}).get("headGroupSpec") or {}).get("headService") or {}
    spec_name = (head_service.get("metadata") or {}).get("name")
    if spec_name:
        return spec_name
    return "%s-head-svc" % obj["metadata"]["name"]


def dashboard_url(obj):
    """In-cluster dashboard URL ``http://<head-svc>.<namespace>.svc:<port>``.

    KubeRay writes ``status.endpoints[<port name>]`` as the Service's nodePort when it has one, otherwise the
    target port. A node port is not reachable through the Service DNS name, so the endpoint is only used for a
    ClusterIP (or default) head Service; otherwise the dashboard's standard port 8265 is used.
    """
    port = DASHBOARD_PORT
    service_type = ((obj.get("spec") or {}).get("headGroupSpec") or {}).get("serviceType") or "ClusterIP"
    endpoint = ((obj.get("status") or {}).get("endpoints") or {}).get(DASHBOARD_PORT_NAME)
    if service_type == "ClusterIP" and endpoint and str(endpoint).isdigit():
        port = int(endpoint)
    return "http://%s.%s.svc:%d" % (head_service_name(obj), obj["metadata"]["namespace"], port)


def summary(obj):
    """What raycluster_wait returns about the cluster."""
    status = obj.get("status") or {}
    counts = worker_counts(obj)
    return {
        "name": obj["metadata"]["name"],
        "namespace": obj["metadata"]["namespace"],
        "generation": (obj.get("metadata") or {}).get("generation"),
        "observed_generation": status.get("observedGeneration"),
        "head_service": head_service_name(obj),
        "head_pod": (status.get("head") or {}).get("podName"),
        "dashboard_url": dashboard_url(obj),
        "endpoints": dict(status.get("endpoints") or {}),
        "workers": counts,
        "conditions": [
            {k: c.get(k) for k in ("type", "status", "reason", "message")} for c in (status.get("conditions") or [])
        ],
        "state": status.get("state"),
    }


AUTOSCALER_CONTAINER = "autoscaler"


def autoscaler_report(obj, head_pod):
    """What the in-tree autoscaler looks like: whether the spec turns it on, whether KubeRay put its container in
    the head pod (``head_pod``: that pod, or None when it could not be read), its options, and whether the desired
    workers sit within min..max (what the autoscaler keeps them to)."""
    spec = obj.get("spec") or {}
    counts = worker_counts(obj)
    options = spec.get("autoscalerOptions") or {}
    containers = (((head_pod or {}).get("spec") or {}).get("containers")) or []
    return {
        "enabled": autoscaling_enabled(obj),
        "container": any(c.get("name") == AUTOSCALER_CONTAINER for c in containers) if head_pod else None,
        "head_pod": ((head_pod or {}).get("metadata") or {}).get("name"),
        "upscaling_mode": options.get("upscalingMode"),
        "idle_timeout_seconds": options.get("idleTimeoutSeconds"),
        "desired": counts["desired"],
        "min": counts["min"],
        "max": counts["max"],
        "within_bounds": counts["min"] <= counts["desired"] <= counts["max"],
    }
