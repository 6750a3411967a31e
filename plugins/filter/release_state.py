# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of a chart release object: a Flux HelmRelease or an Argo CD Application.

kubernetes.core's wait_condition cannot look at observedGeneration (a stale Ready=True passes right
after a spec change) nor at Argo CD's sync/health fields, so chart_release polls with k8s_info and
asks this filter what the last seen object means.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# Ready=False reasons that mean helm-controller gave up on this generation (any remediation counts).
HELMRELEASE_FAILURE_REASONS = frozenset([
    "InstallFailed", "UpgradeFailed", "TestFailed", "RollbackSucceeded", "RollbackFailed",
    "UninstallSucceeded", "UninstallFailed", "ArtifactFailed",
])
APPLICATION_FAILED_PHASES = frozenset(["Failed", "Error"])


def _condition(obj, cond_type):
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == cond_type:
            return cond
    return None


def _describe_condition(cond):
    if not cond:
        return "absent"
    return "%s (%s: %s)" % (cond.get("status"), cond.get("reason", ""), cond.get("message", ""))


def helmrelease_state(obj):
    metadata = obj.get("metadata") or {}
    status = obj.get("status") or {}
    generation = metadata.get("generation")
    ready = _condition(obj, "Ready")
    stalled = _condition(obj, "Stalled")
    reconciling = _condition(obj, "Reconciling")
    message = "Ready=%s, Stalled=%s, observedGeneration=%s, generation=%s" % (
        _describe_condition(ready), _describe_condition(stalled), status.get("observedGeneration"), generation)
    current = status.get("observedGeneration") == generation
    if not current:
        return {"ready": False, "failed": False, "message": message}
    if stalled and stalled.get("status") == "True":
        return {"ready": False, "failed": True, "message": message}
    if ready and ready.get("observedGeneration", generation) == generation:
        if ready.get("status") == "True":
            return {"ready": True, "failed": False, "message": message}
        if (ready.get("status") == "False" and ready.get("reason") in HELMRELEASE_FAILURE_REASONS
                and not (reconciling and reconciling.get("status") == "True")):
            return {"ready": False, "failed": True, "message": message}
    return {"ready": False, "failed": False, "message": message}


def application_state(obj, revision=None):
    status = obj.get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    operation = status.get("operationState") or {}
    errors = [c for c in status.get("conditions") or [] if str(c.get("type", "")).endswith("Error")]
    message = "sync=%s, health=%s%s, operation=%s%s" % (
        sync.get("status"), health.get("status"),
        (" (%s)" % health["message"]) if health.get("message") else "",
        operation.get("phase"),
        "".join("; %s: %s" % (c.get("type"), c.get("message", "")) for c in errors))
    if (health.get("status") == "Degraded" or operation.get("phase") in APPLICATION_FAILED_PHASES or errors):
        return {"ready": False, "failed": True, "message": message}
    ready = (sync.get("status") == "Synced" and health.get("status") == "Healthy"
             and operation.get("phase") != "Running"
             and (not revision or sync.get("revision") in (None, revision)))
    return {"ready": ready, "failed": False, "message": message}


def release_state(obj, revision=None):
    """{ready, failed, message} for a HelmRelease or an Application; an absent object is progressing."""
    if not obj:
        return {"ready": False, "failed": False, "message": "object not found yet"}
    if not isinstance(obj, dict):
        raise AnsibleFilterError("release_state expects a Kubernetes object, got %s" % type(obj).__name__)
    kind = obj.get("kind")
    if kind == "HelmRelease":
        return helmrelease_state(obj)
    if kind == "Application":
        return application_state(obj, revision)
    raise AnsibleFilterError("release_state knows HelmRelease and Application, not %r" % kind)


class FilterModule(object):
    def filters(self):
        return {"release_state": release_state}
