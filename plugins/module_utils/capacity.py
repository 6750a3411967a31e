# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster capacity as the scheduler sees it: node free = allocatable - requests of the pods on it,
PVC use per storage class, pod health per namespace, and a first-fit-decreasing fit of planned pods.

Everything works on plain dicts in the API's JSON shape (what ``KubeClient.list`` returns), and on
integers internally: CPU in millicores, memory and storage in bytes, pods as a count. Quantity strings
repeat a lot across pods (``100m``, ``128Mi``), so their integer value is memoised per resource.

Resources tracked per node: ``cpu``, ``memory``, ``ephemeral-storage`` and the ``pods`` slot count.
Extended resources (GPUs, hugepages) are not tracked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from fractions import Fraction

from ansible_collections.lakehouse.platform.plugins.module_utils.quantity import (
    QuantityError,
    cpu_millicores,
    format_bytes,
    format_cpu,
    memory_bytes,
)

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"
# Resources a pod requests (the pod slot is counted separately: every pod takes one).
REQUEST_RESOURCES = (CPU, MEMORY, EPHEMERAL_STORAGE)
NODE_RESOURCES = REQUEST_RESOURCES + (PODS,)

TERMINAL_PHASES = ("Succeeded", "Failed")
# Taints that keep pods without a matching toleration off a node; planned pods carry no tolerations.
BLOCKING_TAINT_EFFECTS = ("NoSchedule", "NoExecute")
UNSET_STORAGE_CLASS = "(unset)"

_AMOUNT_CACHE = {}


class CapacityError(ValueError):
    """A listed object carries a quantity that cannot be read; the message names the object."""


def _refuse(kind, obj, error):
    metadata = obj.get("metadata") or {}
    name = metadata.get("name", "?")
    if metadata.get("namespace"):
        name = "%s/%s" % (metadata["namespace"], name)
    return CapacityError("%s %s: %s" % (kind, name, error))


def resource_amount(resource, value):
    """Integer amount of one resource: millicores for cpu, rounded-up units for everything else."""
    key = (resource, value) if isinstance(value, str) else None
    if key is not None:
        cached = _AMOUNT_CACHE.get(key)
        if cached is not None:
            return cached
    amount = cpu_millicores(value) if resource == CPU else memory_bytes(value)
    if key is not None and len(_AMOUNT_CACHE) < 65536:
        _AMOUNT_CACHE[key] = amount
    return amount


def format_amount(resource, amount):
    """Canonical string of an integer amount (``400m``, ``4Gi``, ``110``)."""
    if resource == CPU:
        return format_cpu(amount)
    if resource == PODS:
        return str(amount)
    return format_bytes(amount)


def resource_view(amounts, resources=NODE_RESOURCES):
    """Return-value shape shared by every figure: canonical strings plus the raw integers.

    ``{"cpu": "400m", "cpu_millicores": 400, "memory": "4Gi", "memory_bytes": 4294967296,
    "ephemeral_storage": "0", "ephemeral_storage_bytes": 0, "pods": 3}``
    """
    view = {}
    for resource in resources:
        amount = amounts.get(resource, 0)
        if resource == PODS:
            view[PODS] = amount
            continue
        key = resource.replace("-", "_")
        view[key] = format_amount(resource, amount)
        view[key + ("_millicores" if resource == CPU else "_bytes")] = amount
    return view


# ---- pods -------------------------------------------------------------------------------------------


def _container_requests(container):
    """Requests of one container; a resource with a limit but no request defaults to the limit, as the
    API server's defaulting does (so pods read from a server without defaulting count the same)."""
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    result = {}
    for resource in REQUEST_RESOURCES:
        value = requests.get(resource)
        if value is None:
            value = limits.get(resource)
        if value is not None:
            result[resource] = resource_amount(resource, value)
    return result


def _add_into(total, amounts):
    for resource, amount in amounts.items():
        total[resource] = total.get(resource, 0) + amount


def _max_into(total, amounts):
    for resource, amount in amounts.items():
        if amount > total.get(resource, 0):
            total[resource] = amount


def pod_requests(pod):
    """Effective requests of a pod ({resource: int}), counted the way the scheduler counts them.

    Upstream rule (k8s.io/component-helpers/resource ``PodRequests``; documented at
    https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers
    and KEP-753 "exposing pod resource requirements"):

    * app containers are summed;
    * init containers run one at a time, so the init phase needs the *max* over them, except that a
      sidecar (an init container with ``restartPolicy: Always``) keeps running: it is added to the app
      sum, and every init container that starts after it runs alongside it, so init container *i* needs
      its own request plus the sidecars declared before it;
    * effective = max(app sum + sidecars, init-phase max) per resource, plus ``spec.overhead``;
    * pod-level ``spec.resources.requests`` (PodLevelResources), when set for a resource, replaces the
      container aggregate for that resource (overhead is still added).
    """
    spec = pod.get("spec") or {}
    total = {}
    for container in spec.get("containers") or ():
        _add_into(total, _container_requests(container))

    sidecars = {}
    init_phase = {}
    for container in spec.get("initContainers") or ():
        requests = _container_requests(container)
        if container.get("restartPolicy") == "Always":
            _add_into(total, requests)
            _add_into(sidecars, requests)
            _max_into(init_phase, sidecars)
        else:
            running_alongside = dict(sidecars)
            _add_into(running_alongside, requests)
            _max_into(init_phase, running_alongside)
    _max_into(total, init_phase)

    pod_level = ((spec.get("resources") or {}).get("requests")) or {}
    for resource in REQUEST_RESOURCES:
        if pod_level.get(resource) is not None:
            total[resource] = resource_amount(resource, pod_level[resource])

    overhead = spec.get("overhead") or {}
    for resource in REQUEST_RESOURCES:
        if overhead.get(resource) is not None:
            total[resource] = total.get(resource, 0) + resource_amount(resource, overhead[resource])
    return total


def pod_phase(pod):
    return (pod.get("status") or {}).get("phase") or "Unknown"


def is_terminal(pod):
    """Succeeded/Failed pods hold no resources on their node (the scheduler skips them)."""
    return pod_phase(pod) in TERMINAL_PHASES


def _condition_true(obj, condition_type):
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition.get("type") == condition_type:
            return condition.get("status") == "True"
    return None


def pod_ready(pod):
    """Running with every container ready: the Ready condition, or all containerStatuses ready when a
    server reports statuses without conditions."""
    if pod_phase(pod) != "Running":
        return False
    ready = _condition_true(pod, "Ready")
    if ready is not None:
        return ready
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return bool(statuses) and all(status.get("ready") for status in statuses)


# ---- nodes ------------------------------------------------------------------------------------------


class NodeCapacity(object):
    """One node: allocatable, what its non-terminal pods request, and whether planned pods may land."""

    __slots__ = ("name", "labels", "allocatable", "requested", "pod_count", "schedulable", "reasons", "pods")

    def __init__(self, name, labels, allocatable, schedulable, reasons):
        self.name = name
        self.labels = labels
        self.allocatable = allocatable
        self.requested = dict((resource, 0) for resource in NODE_RESOURCES)
        self.pod_count = 0
        self.schedulable = schedulable
        self.reasons = reasons
        # Per-pod detail, kept only when asked for (cluster_capacity(record_pods=True)).
        self.pods = None

    @property
    def free(self):
        # Can be negative when a node is overcommitted (static pods, allocatable lowered after the fact).
        return dict((r, self.allocatable.get(r, 0) - self.requested.get(r, 0)) for r in NODE_RESOURCES)

    def as_dict(self):
        result = {
            "name": self.name,
            "schedulable": self.schedulable,
            "unschedulable_reasons": list(self.reasons),
            "allocatable": resource_view(self.allocatable),
            "requested": resource_view(self.requested),
            "free": resource_view(self.free),
            "pods": self.pod_count,
        }
        if self.pods is not None:
            result["pod_requests"] = sorted(self.pods, key=lambda entry: (entry["namespace"], entry["name"]))
        return result


def node_allocatable(node):
    """Allocatable of a node ({resource: int}); falls back to capacity when allocatable is absent."""
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or status.get("capacity") or {}
    result = {}
    for resource in NODE_RESOURCES:
        value = allocatable.get(resource)
        if value is None:
            result[resource] = 0
        elif resource == PODS:
            result[resource] = memory_bytes(value)
        else:
            result[resource] = resource_amount(resource, value)
    return result


def node_unschedulable_reasons(node):
    """Why planned pods cannot land on a node; an empty list means schedulable."""
    reasons = []
    spec = node.get("spec") or {}
    if spec.get("unschedulable"):
        reasons.append("cordoned (spec.unschedulable)")
    ready = _condition_true(node, "Ready")
    if ready is None:
        reasons.append("NotReady (no Ready condition)")
    elif not ready:
        reasons.append("NotReady")
    for taint in spec.get("taints") or ():
        if taint.get("effect") in BLOCKING_TAINT_EFFECTS:
            key = taint.get("key", "")
            if key == "node.kubernetes.io/unschedulable" and spec.get("unschedulable"):
                continue  # the cordon taint, already reported
            value = taint.get("value")
            reasons.append("taint %s%s:%s" % (key, "=" + value if value else "", taint.get("effect")))
    return reasons


def build_node(node):
    metadata = node.get("metadata") or {}
    reasons = node_unschedulable_reasons(node)
    return NodeCapacity(
        name=metadata.get("name", ""),
        labels=metadata.get("labels") or {},
        allocatable=node_allocatable(node),
        schedulable=not reasons,
        reasons=reasons,
    )


class ClusterCapacity(object):
    """Nodes with their requests filled in, plus the pods waiting for a node."""

    def __init__(self, nodes, pending_count, pending_requested, off_list_pods):
        self.nodes = nodes
        self.pending_count = pending_count
        self.pending_requested = pending_requested
        # Non-terminal pods bound to a node that is not in ``nodes`` (filtered out or deleted).
        self.off_list_pods = off_list_pods

    def schedulable_nodes(self):
        return [node for node in self.nodes if node.schedulable]

    def totals(self):
        allocatable = dict((r, 0) for r in NODE_RESOURCES)
        requested = dict((r, 0) for r in NODE_RESOURCES)
        free = dict((r, 0) for r in NODE_RESOURCES)
        schedulable_free = dict((r, 0) for r in NODE_RESOURCES)
        for node in self.nodes:
            node_free = node.free
            for resource in NODE_RESOURCES:
                allocatable[resource] += node.allocatable[resource]
                requested[resource] += node.requested[resource]
                free[resource] += node_free[resource]
                if node.schedulable:
                    # A node's overcommit cannot be borrowed by another node.
                    schedulable_free[resource] += max(0, node_free[resource])
        pending = dict(self.pending_requested)
        pending[PODS] = self.pending_count
        return {
            "nodes": len(self.nodes),
            "schedulable_nodes": sum(1 for node in self.nodes if node.schedulable),
            "allocatable": resource_view(allocatable),
            "requested": resource_view(requested),
            "free": resource_view(free),
            "schedulable_free": resource_view(schedulable_free),
            "pending": resource_view(pending),
            "pods_on_unlisted_nodes": self.off_list_pods,
        }


def _pod_entry(pod, requests):
    metadata = pod.get("metadata") or {}
    entry = {"namespace": metadata.get("namespace", ""), "name": metadata.get("name", ""), "phase": pod_phase(pod)}
    entry.update(resource_view(requests, REQUEST_RESOURCES))
    return entry


def cluster_capacity(nodes, pods, record_pods=False):
    """Aggregate requests of all non-terminal pods onto their nodes in one pass over the pods.

    ``record_pods`` keeps each node's pods with their effective requests (for reports; costs memory).
    """
    by_name = {}
    built = []
    for node in nodes:
        try:
            capacity = build_node(node)
        except QuantityError as error:
            raise _refuse("Node", node, error)
        if record_pods:
            capacity.pods = []
        by_name[capacity.name] = capacity
        built.append(capacity)
    built.sort(key=lambda node: node.name)

    pending_count = 0
    pending_requested = dict((r, 0) for r in REQUEST_RESOURCES)
    off_list = 0
    for pod in pods:
        if is_terminal(pod):
            continue
        node_name = (pod.get("spec") or {}).get("nodeName")
        try:
            requests = pod_requests(pod)
        except QuantityError as error:
            raise _refuse("Pod", pod, error)
        if not node_name:
            pending_count += 1
            _add_into(pending_requested, requests)
            continue
        node = by_name.get(node_name)
        if node is None:
            off_list += 1
            continue
        node.pod_count += 1
        node.requested[PODS] += 1
        _add_into(node.requested, requests)
        if record_pods:
            node.pods.append(_pod_entry(pod, requests))
    return ClusterCapacity(built, pending_count, pending_requested, off_list)


# ---- pod health -------------------------------------------------------------------------------------


def _percent(part, whole):
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


def _health_counts():
    return {"total": 0, "running": 0, "ready": 0, "succeeded": 0, "pending": 0, "failed": 0, "unknown": 0}


def pod_health(pods, namespaces=None):
    """Pod health per namespace and overall.

    ``healthy`` = Running with every container ready, plus Succeeded (a completed Job is not a problem);
    ``percent`` = healthy / total * 100, one decimal, None for a namespace without pods. ``running`` is
    the bare phase count (what ``kubectl get pods`` shows as Running, ready or not), so the seed's
    "83% (108/130 pods)" can be compared either way. ``summary`` renders the overall figure that way.
    """
    wanted = set(namespaces) if namespaces else None
    per_namespace = {}
    if wanted:
        for namespace in wanted:
            per_namespace[namespace] = _health_counts()
    overall = _health_counts()
    for pod in pods:
        namespace = (pod.get("metadata") or {}).get("namespace", "")
        if wanted is not None and namespace not in wanted:
            continue
        counts = per_namespace.get(namespace)
        if counts is None:
            counts = per_namespace[namespace] = _health_counts()
        phase = pod_phase(pod)
        keys = ["total"]
        if phase == "Running":
            keys.append("running")
            if pod_ready(pod):
                keys.append("ready")
        elif phase in ("Succeeded", "Failed", "Pending"):
            keys.append(phase.lower())
        else:
            keys.append("unknown")
        for key in keys:
            counts[key] += 1
            overall[key] += 1
    for counts in list(per_namespace.values()) + [overall]:
        counts["healthy"] = counts["ready"] + counts["succeeded"]
        counts["percent"] = _percent(counts["healthy"], counts["total"])
    overall["summary"] = "%s%% (%d/%d pods)" % (
        "n/a" if overall["percent"] is None else ("%g" % overall["percent"]),
        overall["healthy"],
        overall["total"],
    )
    return {"namespaces": per_namespace, "overall": overall}


# ---- storage ----------------------------------------------------------------------------------------


def _storage_counts():
    return {"claims": 0, "bound": 0, "pending": 0, "lost": 0, "requested_bytes": 0, "capacity_bytes": 0}


def _finish_storage(counts):
    counts["requested"] = format_bytes(counts["requested_bytes"])
    counts["capacity"] = format_bytes(counts["capacity_bytes"])
    return counts


def storage_usage(pvcs, namespaces=None):
    """PVC use per storage class and in total.

    ``requested`` sums spec.resources.requests.storage of every claim; ``capacity`` (= storage used, the
    seeds' "Storage Used") sums status.capacity.storage of Bound claims, i.e. what was provisioned.
    A claim without storageClassName is reported under ``(unset)``.
    """
    wanted = set(namespaces) if namespaces else None
    classes = {}
    total = _storage_counts()
    for pvc in pvcs:
        if wanted is not None and (pvc.get("metadata") or {}).get("namespace") not in wanted:
            continue
        spec = pvc.get("spec") or {}
        status = pvc.get("status") or {}
        storage_class = spec.get("storageClassName") or UNSET_STORAGE_CLASS
        counts = classes.get(storage_class)
        if counts is None:
            counts = classes[storage_class] = _storage_counts()
        requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        phase = status.get("phase") or "Pending"
        capacity = (status.get("capacity") or {}).get("storage")
        try:
            requested_bytes = resource_amount("storage", requested) if requested is not None else 0
            capacity_bytes = 0
            if phase == "Bound":
                capacity_bytes = resource_amount("storage", capacity) if capacity is not None else requested_bytes
        except QuantityError as error:
            raise _refuse("PersistentVolumeClaim", pvc, error)
        for bucket in (counts, total):
            bucket["claims"] += 1
            bucket["requested_bytes"] += requested_bytes
            bucket["capacity_bytes"] += capacity_bytes
            if phase in ("Bound", "Pending", "Lost"):
                bucket[phase.lower()] += 1
    for counts in classes.values():
        _finish_storage(counts)
    return {"storage_classes": classes, "total": _finish_storage(total)}


# ---- planned pods (budget) and fit ------------------------------------------------------------------


class BudgetError(ValueError):
    """A budget entry that cannot be used; the message names the option path, e.g. ``budget[2].cpu``."""


class PodRequest(object):
    """One planned pod shape: ``count`` replicas each needing cpu/memory (+ optional PVC storage)."""

    __slots__ = ("name", "cpu", "memory", "count", "storage")

    def __init__(self, name, cpu=0, memory=0, count=1, storage=0):
        self.name = name
        self.cpu = cpu
        self.memory = memory
        self.count = count
        self.storage = storage

    def instance_names(self):
        # StatefulSet-style ordinals; a single pod keeps its plain name.
        if self.count == 1:
            return [self.name]
        return ["%s-%d" % (self.name, index) for index in range(self.count)]


def parse_budget(entries, option="budget"):
    """Validate budget entries ({name, cpu, memory, count, storage}) into ``PodRequest`` objects.

    Raises ``BudgetError`` naming the path (``budget[2].cpu``) and the value; nothing here touches a
    cluster, so a module can call it before its first request.
    """
    if entries is None:
        return []
    if not isinstance(entries, (list, tuple)):
        raise BudgetError("%s: expected a list of pod requests, got %s" % (option, type(entries).__name__))
    parsed = []
    seen = {}
    for index, entry in enumerate(entries):
        path = "%s[%d]" % (option, index)
        if not isinstance(entry, dict):
            raise BudgetError("%s: expected a dict with name, cpu, memory, count, got %r" % (path, entry))
        unknown = sorted(set(entry) - set(PodRequest.__slots__))
        if unknown:
            raise BudgetError("%s: unknown keys %s (allowed: %s)" % (path, ", ".join(unknown), ", ".join(PodRequest.__slots__)))
        name = entry.get("name")
        if not name or not isinstance(name, str):
            raise BudgetError("%s.name: a non-empty string is required, got %r" % (path, name))
        if name in seen:
            raise BudgetError("%s.name: duplicate name %r" % (path, name))
        seen[name] = path
        count = entry.get("count", 1)
        if count is None:
            count = 1
        if isinstance(count, bool) or not isinstance(count, int):
            try:
                count = int(str(count), 10)
            except ValueError:
                raise BudgetError("%s.count: expected a whole number, got %r" % (path, count))
        if count < 0:
            raise BudgetError("%s.count: must not be negative, got %d" % (path, count))
        amounts = {}
        for key, convert in (("cpu", cpu_millicores), ("memory", memory_bytes), ("storage", memory_bytes)):
            value = entry.get(key)
            if value is None:
                amounts[key] = 0
                continue
            try:
                amounts[key] = convert(value)
            except QuantityError as error:
                raise BudgetError("%s.%s: %s" % (path, key, error))
        parsed.append(PodRequest(name, cpu=amounts["cpu"], memory=amounts["memory"], count=count, storage=amounts["storage"]))
    _check_replica_names(parsed, option)
    return parsed


def _check_replica_names(requests, option):
    """Placements are keyed by replica name, so ``a`` (count 2 -> a-0, a-1) and ``a-0`` must not meet."""
    owners = {}
    for index, request in enumerate(requests):
        for instance in request.instance_names():
            if instance in owners and owners[instance] != index:
                raise BudgetError("%s[%d].name: replica name %r is also a replica of %s[%d] (%r)" % (
                    option, index, instance, option, owners[instance], requests[owners[instance]].name))
            owners[instance] = index


def _shortfall(need, free):
    """{resource: missing amount} of one pod (need = (cpu, memory, 1 slot)) against a node's free."""
    short = {}
    for resource, wanted, available in zip((CPU, MEMORY, PODS), need, free):
        # A zero request fits even an overcommitted node, as in the scheduler's fitsRequest.
        if wanted > 0 and wanted > available:
            short[resource] = wanted - available
    return short


def _describe_amounts(amounts):
    return ", ".join("%s %s" % (resource, format_amount(resource, amount)) for resource, amount in amounts.items())


def fit_pods(requests, cluster):
    """First-fit decreasing of planned pods onto the schedulable nodes' free resources.

    Order: pods by dominant share, largest first: share = max(cpu / cluster free cpu, memory / cluster
    free memory) over schedulable nodes (DRF's dominant resource), ties broken by cpu, memory, then name
    so the result is deterministic. Nodes are tried in name order; each pod takes the first node with
    enough cpu, memory and a free pod slot. A pod that fits nowhere is reported with the node that came
    closest (fewest resources short, then smallest relative shortfall) and by how much it is short.
    """
    nodes = cluster.schedulable_nodes()
    node_names = [node.name for node in nodes]
    # Mutable free per node as [cpu, memory, pod slots].
    free = []
    for node in nodes:
        node_free = node.free
        free.append([node_free[CPU], node_free[MEMORY], node_free[PODS]])
    free_cpu = sum(max(0, entry[0]) for entry in free)
    free_memory = sum(max(0, entry[1]) for entry in free)
    free_slots = sum(max(0, entry[2]) for entry in free)

    def dominant_share(request):
        shares = [Fraction(0)]
        for amount, available in ((request.cpu, free_cpu), (request.memory, free_memory)):
            if amount:
                shares.append(Fraction(amount, available) if available > 0 else Fraction(amount))
        return max(shares)

    ordered = sorted(
        (request for request in requests if request.count > 0),
        key=lambda r: (-dominant_share(r), -r.cpu, -r.memory, r.name),
    )
    placements = {}
    unplaced = []
    for request in ordered:
        need = (request.cpu, request.memory, 1)
        # Replicas of one shape are consecutive and free only shrinks, so a node that refused the
        # previous replica refuses this one too: resume from where the previous replica landed.
        start = 0
        miss = None
        for instance in request.instance_names():
            placed_at = None
            for index in range(start, len(free)):
                slot = free[index]
                if (need[0] == 0 or slot[0] >= need[0]) and (need[1] == 0 or slot[1] >= need[1]) and slot[2] >= 1:
                    slot[0] -= need[0]
                    slot[1] -= need[1]
                    slot[2] -= 1
                    placed_at = index
                    break
            if placed_at is None:
                start = len(free)
                if miss is None:
                    miss = _unplaced_entry(instance, request, need, node_names, free)
                else:
                    # Nothing was placed since the previous replica missed: same closest node.
                    miss = dict(miss, pod=instance)
                unplaced.append(miss)
            else:
                start = placed_at
                placements[instance] = node_names[placed_at]

    requested = {CPU: 0, MEMORY: 0, PODS: 0}
    storage = 0
    for request in requests:
        requested[CPU] += request.cpu * request.count
        requested[MEMORY] += request.memory * request.count
        requested[PODS] += request.count
        storage += request.storage * request.count
    available = {CPU: free_cpu, MEMORY: free_memory, PODS: free_slots}
    total_short = dict((r, requested[r] - available[r]) for r in (CPU, MEMORY, PODS) if requested[r] > available[r])
    return {
        "fits": not unplaced,
        "placements": placements,
        "unplaced": unplaced,
        "requested": resource_view(requested, (CPU, MEMORY, PODS)),
        "requested_storage": format_bytes(storage),
        "requested_storage_bytes": storage,
        "cluster_free": resource_view(available, (CPU, MEMORY, PODS)),
        "fits_in_total": not total_short,
        "total_shortfall": resource_view(total_short, tuple(total_short)),
        "schedulable_nodes": len(nodes),
    }


def _unplaced_entry(instance, request, need, node_names, free):
    entry = {
        "pod": instance,
        "request": request.name,
        "cpu": format_cpu(request.cpu),
        "memory": format_bytes(request.memory),
    }
    if not free:
        entry.update(node=None, short={}, reason="no schedulable node")
        return entry
    wanted = dict(zip((CPU, MEMORY, PODS), need))
    best = None
    for index, slot in enumerate(free):
        short = _shortfall(need, slot)
        relative = sum(Fraction(amount, wanted[resource]) for resource, amount in short.items())
        rank = (len(short), relative, index)
        if best is None or rank < best[0]:
            best = (rank, index, short)
    _rank, index, short = best
    entry["node"] = node_names[index]
    entry["short"] = dict((resource, format_amount(resource, amount)) for resource, amount in short.items())
    entry["reason"] = "needs %s and a pod slot; closest node %s is short of %s" % (
        _describe_amounts({CPU: request.cpu, MEMORY: request.memory}),
        node_names[index],
        _describe_amounts(short),
    )
    return entry


# ---- everything at once -----------------------------------------------------------------------------


def capacity_report(nodes, pods, pvcs, namespaces=None, budget=None, include_pods=False):
    """The whole report from listed objects: ``nodes``, ``totals``, ``storage``, ``health`` and, when a
    budget (a list of ``PodRequest``) is given, ``fit``.

    Node figures always count the pods of every namespace (a node's free space is shared);
    ``namespaces`` narrows only the health and storage sections.
    """
    cluster = cluster_capacity(nodes, pods, record_pods=include_pods)
    report = {
        "nodes": [node.as_dict() for node in cluster.nodes],
        "totals": cluster.totals(),
        "storage": storage_usage(pvcs, namespaces),
        "health": pod_health(pods, namespaces),
    }
    if budget is not None:
        report["fit"] = fit_pods(budget, cluster)
    return report
