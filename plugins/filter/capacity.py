# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity figures for preflight without a cluster, computed by the same module_utils code as
lakehouse.platform.platform_capacity_info.

``declared_capacity`` turns the capacity an inventory declares (render mode) into objects shaped like
the API's (nodes, a pod holding each node's declared requests, a bound claim for the storage in use) and
runs ``capacity_report`` on them, so the fit, totals and storage figures are exactly those the module
would compute from a cluster with the same figures. ``phase_budget`` sums the budgets of a phase's
components with exact quantities.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.module_utils.capacity import (
    BudgetError,
    capacity_report,
    parse_budget,
    resource_view,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.quantity import (
    QuantityError,
    cpu_millicores,
    format_bytes,
    memory_bytes,
)

DEFAULT_POD_SLOTS = 110
DECLARED_STORAGE_CLASS = "(declared)"


def _quantity(convert, value, path):
    try:
        return convert(value)
    except QuantityError as error:
        raise AnsibleFilterError("%s: %s" % (path, error))


def _declared_objects(declared, path):
    """API-shaped nodes, pods and PVCs for the declared figures."""
    nodes, pods, pvcs = [], [], []
    entries = declared.get("nodes") or []
    if not isinstance(entries, list) or not entries:
        raise AnsibleFilterError("%s.nodes: a non-empty list of {name, cpu, memory} is required" % path)
    for index, entry in enumerate(entries):
        where = "%s.nodes[%d]" % (path, index)
        if not isinstance(entry, dict) or not entry.get("name"):
            raise AnsibleFilterError("%s: expected a dict with name, cpu, memory, got %r" % (where, entry))
        for key in ("cpu", "memory"):
            if entry.get(key) is None:
                raise AnsibleFilterError("%s.%s: required" % (where, key))
        # Validate here so the message names the inventory path, not a synthetic object.
        cpu = _quantity(cpu_millicores, entry["cpu"], where + ".cpu")
        memory = _quantity(memory_bytes, entry["memory"], where + ".memory")
        slots = entry.get("pods", DEFAULT_POD_SLOTS)
        requested = entry.get("requested") or {}
        req_cpu = _quantity(cpu_millicores, requested.get("cpu", 0), where + ".requested.cpu")
        req_memory = _quantity(memory_bytes, requested.get("memory", 0), where + ".requested.memory")
        req_pods = int(requested.get("pods", 1 if (req_cpu or req_memory) else 0))
        nodes.append({
            "metadata": {"name": entry["name"], "labels": dict(entry.get("labels") or {})},
            "spec": {"unschedulable": bool(entry.get("unschedulable", False))},
            "status": {
                "allocatable": {"cpu": "%dm" % cpu, "memory": str(memory), "pods": str(slots)},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        })
        # The declared requests ride on the node's first pod; the others only take pod slots.
        for number in range(req_pods):
            pod_requests = {"cpu": "%dm" % req_cpu, "memory": str(req_memory)} if number == 0 else {}
            pods.append({
                "metadata": {"namespace": "(declared)", "name": "%s-requests-%d" % (entry["name"], number)},
                "spec": {"nodeName": entry["name"], "containers": [{"name": "declared", "resources": {"requests": pod_requests}}]},
                "status": {"phase": "Running"},
            })
    used = declared.get("storage_used")
    if used is not None:
        used_bytes = _quantity(memory_bytes, used, path + ".storage_used")
        pvcs.append({
            "metadata": {"namespace": "(declared)", "name": "storage-used"},
            "spec": {"storageClassName": declared.get("storage_class") or DECLARED_STORAGE_CLASS,
                     "resources": {"requests": {"storage": str(used_bytes)}}},
            "status": {"phase": "Bound", "capacity": {"storage": str(used_bytes)}},
        })
    return nodes, pods, pvcs


def _declared_health(declared, path):
    pods = declared.get("pods") or {}
    try:
        total = int(pods.get("total", 0))
        running = int(pods.get("running", 0))
    except (TypeError, ValueError):
        raise AnsibleFilterError("%s.pods: running and total must be whole numbers, got %r" % (path, pods))
    if running > total:
        raise AnsibleFilterError("%s.pods: running (%d) exceeds total (%d)" % (path, running, total))
    percent = round(100.0 * running / total, 1) if total else None
    overall = {
        "total": total, "running": running, "ready": running, "succeeded": 0, "pending": total - running,
        "failed": 0, "unknown": 0, "healthy": running, "percent": percent,
        "summary": "%s%% (%d/%d pods)" % ("n/a" if percent is None else "{0:g}".format(percent), running, total),
    }
    return {"namespaces": {}, "overall": overall}


def declared_capacity(declared, budget=None, path="platform_declared_capacity"):
    """The platform_capacity_info report (nodes, totals, storage, health, fit) for declared figures."""
    if not isinstance(declared, dict):
        raise AnsibleFilterError("%s: expected a dict with nodes, storage_used, pods" % path)
    nodes, pods, pvcs = _declared_objects(declared, path)
    try:
        requests = parse_budget(budget) if budget is not None else None
    except BudgetError as error:
        raise AnsibleFilterError(str(error))
    report = capacity_report(nodes, pods, pvcs, budget=requests)
    # Node requests come from the declaration; the synthetic pods are not real pods to count.
    report["health"] = _declared_health(declared, path)
    report["declared"] = True
    return report


def phase_budget(budgets):
    """Sum the budgets of a phase's enabled components.

    ``budgets``: {component: {cpu, memory, storage, pods: [{name, cpu, memory, count}]}}. Returns
    ``pods`` (budget entries for the fit, named ``<component>/<pod>``), ``total`` and ``components``
    (cpu/memory/storage per component in the shared figure shape) with exact sums.
    """
    if not isinstance(budgets, dict):
        raise AnsibleFilterError("phase_budget expects {component: budget}, got %s" % type(budgets).__name__)
    pods = []
    components = {}
    total = {"cpu": 0, "memory": 0, "storage": 0}
    for component in sorted(budgets):
        budget = budgets[component] or {}
        path = "%s_budget" % component
        if not isinstance(budget, dict):
            raise AnsibleFilterError("%s: expected a dict with cpu, memory, storage, pods" % path)
        entries = []
        for entry in budget.get("pods") or []:
            if not isinstance(entry, dict):
                raise AnsibleFilterError("%s.pods: expected dicts with name, cpu, memory, count, got %r" % (path, entry))
            named = dict(entry)
            named["name"] = "%s/%s" % (component, entry.get("name"))
            entries.append(named)
        try:
            requests = parse_budget(entries, option=path + ".pods")
        except BudgetError as error:
            raise AnsibleFilterError(str(error))
        # A component may state its totals (the seeds do); otherwise they are the sum of its pods.
        figures = {
            "cpu": (_quantity(cpu_millicores, budget["cpu"], path + ".cpu") if budget.get("cpu") is not None
                    else sum(r.cpu * r.count for r in requests)),
            "memory": (_quantity(memory_bytes, budget["memory"], path + ".memory") if budget.get("memory") is not None
                       else sum(r.memory * r.count for r in requests)),
            "storage": _quantity(memory_bytes, budget.get("storage") or 0, path + ".storage"),
        }
        pods.extend(entries)
        for key in total:
            total[key] += figures[key]
        components[component] = _figures(figures)
    return {"pods": pods, "total": _figures(total), "components": components}


def _figures(amounts):
    view = resource_view({"cpu": amounts["cpu"], "memory": amounts["memory"]}, ("cpu", "memory"))
    view["storage"] = format_bytes(amounts["storage"])
    view["storage_bytes"] = amounts["storage"]
    return view


def quantity_bytes(value):
    """Bytes of a memory or storage quantity (``200Gi`` -> 214748364800), exact."""
    return _quantity(memory_bytes, value, "quantity")


class FilterModule(object):
    def filters(self):
        return {
            "declared_capacity": declared_capacity,
            "phase_budget": phase_budget,
            "quantity_bytes": quantity_bytes,
        }
