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


class FilterModule(object):
    def filters(self):
        return {"workloads_not_ready": workloads_not_ready}
