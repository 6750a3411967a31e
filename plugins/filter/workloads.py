# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of Deployments and StatefulSets as read with kubernetes.core.k8s_info, for the validation
steps of component roles (the chart's workloads really serve, not only the release object)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _number(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def workload_problem(obj):
    """Why a Deployment/StatefulSet is not ready ("" when it is): the controller has seen the current
    spec (observedGeneration) and every desired replica is updated and ready."""
    if not isinstance(obj, dict):
        raise AnsibleFilterError("expected a workload object (dict), got %s" % type(obj).__name__)
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    desired = _number(spec.get("replicas", 1))
    ready = _number(status.get("readyReplicas"))
    updated = _number(status.get("updatedReplicas"))
    generation = metadata.get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and observed != generation:
        return "spec generation %s not observed yet (observed %s)" % (generation, observed)
    if ready < desired:
        return "%d/%d ready" % (ready, desired)
    if updated < desired:
        return "%d/%d updated" % (updated, desired)
    return ""


def workloads_not_ready(objects):
    """``<Kind>/<name>: <problem>`` for each workload of the list that is not ready."""
    if not isinstance(objects, list):
        raise AnsibleFilterError("workloads_not_ready expects a list of workloads, got %s" % type(objects).__name__)
    problems = []
    for obj in objects:
        problem = workload_problem(obj)
        if problem:
            problems.append("%s/%s: %s" % (obj.get("kind", "?"), (obj.get("metadata") or {}).get("name", "?"), problem))
    return problems


def prerequisites_missing(results):
    """From the results of a k8s_info loop over prerequisites (item: what, kind, namespace, name, ready), one line
    per prerequisite that is absent or, when ``ready`` is true, not ready (a workload's replicas, else a Ready
    condition)."""
    if not isinstance(results, list):
        raise AnsibleFilterError("prerequisites_missing expects the results of a k8s_info loop, got %s" % type(results).__name__)
    missing = []
    for result in results:
        item = result.get("item") or {}
        if item.get("optional"):
            continue  # looked for (a feature turns on when found), never refused
        where = "%s %s%s" % (item.get("kind", "?"), (item.get("namespace") + "/") if item.get("namespace") else "", item.get("name", "?"))
        resources = result.get("resources") or []
        how = (" (%s)" % item["how"]) if item.get("how") else ""
        if result.get("failed"):
            missing.append("%s (%s): cannot be read: %s%s" % (item.get("what", where), where, result.get("msg", ""), how))
        elif not resources:
            missing.append("%s (%s): not found%s" % (item.get("what", where), where, how))
        elif item.get("ready"):
            obj = resources[0]
            if obj.get("kind") == "CustomResourceDefinition":
                conditions = (obj.get("status") or {}).get("conditions") or []
                established = [c for c in conditions if c.get("type") == "Established"]
                problem = "" if not established or established[0].get("status") == "True" else "not Established"
            elif obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
                problem = workload_problem(obj)
            elif obj.get("kind") == "Endpoints":
                ready_addresses = [a for subset in obj.get("subsets") or [] for a in subset.get("addresses") or []]
                problem = "" if ready_addresses else "no ready address (no pod behind the Service is ready)"
            else:
                conditions = (obj.get("status") or {}).get("conditions") or []
                ready = [c for c in conditions if c.get("type") == "Ready"]
                problem = "" if ready and ready[0].get("status") == "True" else "no Ready=True condition"
            if problem:
                missing.append("%s (%s): %s%s" % (item.get("what", where), where, problem, how))
    return missing


class FilterModule(object):
    def filters(self):
        return {"workloads_not_ready": workloads_not_ready, "prerequisites_missing": prerequisites_missing}
