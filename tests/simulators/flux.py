"""Flux helm-controller's HelmRelease (helm.toolkit.fluxcd.io/v2), as its status shows it.

Per generation: while working, Reconciling=True/Progressing and Ready=Unknown/Progressing; on success
Ready=True and Released=True with reason InstallSucceeded (first release) or UpgradeSucceeded, each
condition carrying observedGeneration, plus status.observedGeneration, lastAttemptedGeneration,
lastAttemptedRevision (= chart version), lastAttemptedReleaseAction and a history snapshot. Requested
chart workloads (see chart_workloads) must be ready first, as with Helm's --wait.

Failure mode: Ready=False/InstallFailed (UpgradeFailed) with Reconciling=True/ProgressingWithRetry, then
after another delay Stalled=True/RetriesExceeded with Reconciling removed (remediation retries exhausted).
`flap` alternates between a successful release and a failed one (without stalling).

spec.targetNamespace: the chart's workloads go there; with spec.install.createNamespace the namespace is created
first (helm install --create-namespace), otherwise it must exist.

spec.dependsOn: nothing is released while a listed HelmRelease is not Ready at its own generation;
meanwhile Ready=False/DependencyNotReady, as helm-controller reports it.
"""
import hashlib
import json

from . import behaviour as beh
from . import chart_workloads
from .objects import (find_condition, generation, meta, name_of, namespace_of, remove_condition, rfc3339,
                      set_condition)
from .runtime import Controller

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
DEPENDENCY_REQUEUE_SECONDS = 0.5


def release_name(hr):
    spec = hr.get("spec") or {}
    if spec.get("releaseName"):
        return spec["releaseName"]
    target = spec.get("targetNamespace")
    return f"{target}-{name_of(hr)}" if target else name_of(hr)


def target_namespace(hr):
    return (hr.get("spec") or {}).get("targetNamespace") or namespace_of(hr)


def chart_of(hr):
    """(chart name, version) from spec.chart.spec, or from spec.chartRef (name, '0.1.0' unless annotated)."""
    spec = hr.get("spec") or {}
    chart_spec = (spec.get("chart") or {}).get("spec") or {}
    if chart_spec:
        version = chart_spec.get("version") or "*"
        return chart_spec.get("chart", ""), version if version != "*" else "0.1.0"
    ref = spec.get("chartRef") or {}
    version = (meta(hr).get("annotations") or {}).get(f"{beh.PREFIX}/chart-version", "0.1.0")
    return ref.get("name", ""), version


def digest(value):
    return "sha256:" + hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def owner_labels(hr):
    return {"helm.toolkit.fluxcd.io/name": name_of(hr), "helm.toolkit.fluxcd.io/namespace": namespace_of(hr)}


def helmrelease_status(hr, phase, now, message="", stalled=False):
    """HelmRelease status for a reconcile phase (pure function).

    phase: "progressing" | "succeeded" | "failed".
    """
    gen = generation(hr)
    old = hr.get("status") or {}
    status = dict(old)
    chart, version = chart_of(hr)
    history = [dict(h) for h in old.get("history") or []]
    deployed = [h for h in history if h.get("status") == "deployed"]
    current = history[0] if history else None
    conditions = old.get("conditions") or []
    ready = find_condition(conditions, "Ready") or {}
    # Already released for this generation (a resync): keep the same release, do not count another one.
    same_release = current is not None and old.get("observedGeneration") == gen and \
        ready.get("status") == "True" and ready.get("observedGeneration") == gen
    action = "install" if not deployed else "upgrade"
    if same_release:
        action = old.get("lastAttemptedReleaseAction", action)
    verb = "Install" if action == "install" else "Upgrade"
    status.update({"lastAttemptedGeneration": gen, "lastAttemptedRevision": version,
                   "lastAttemptedReleaseAction": action,
                   "lastAttemptedConfigDigest": digest((hr.get("spec") or {}).get("values") or {}),
                   "storageNamespace": (hr.get("spec") or {}).get("storageNamespace") or namespace_of(hr),
                   "helmChart": f"{namespace_of(hr)}-{namespace_of(hr)}-{name_of(hr)}"})
    requested = (meta(hr).get("annotations") or {}).get(REQUESTED_AT)
    if requested:
        status["lastHandledReconcileAt"] = requested
    target = f"{target_namespace(hr)}/{release_name(hr)}"
    if phase == "progressing":
        conditions = set_condition(conditions, "Reconciling", "True", "Progressing",
                                   f"Running '{action}' action with timeout of 5m0s", gen)
        conditions = set_condition(conditions, "Ready", "Unknown", "Progressing", "Reconciliation in progress", gen)
    elif phase == "succeeded":
        number = (current or {}).get("version", 0) if same_release else (current or {}).get("version", 0) + 1
        text = f"Helm {action} succeeded for release {target}.v{number} with chart {chart}@{version}"
        if not same_release:
            for entry in history:
                if entry.get("status") == "deployed":
                    entry["status"] = "superseded"
            history.insert(0, {"name": release_name(hr), "namespace": target_namespace(hr), "version": number,
                               "status": "deployed", "chartName": chart, "chartVersion": version,
                               "appVersion": version, "firstDeployed": (deployed[-1] if deployed else {}).get(
                                   "firstDeployed", now), "lastDeployed": now,
                               "digest": digest([release_name(hr), number, chart, version]),
                               "configDigest": status["lastAttemptedConfigDigest"]})
            history = history[:5]
        conditions = remove_condition(conditions, "Reconciling")
        conditions = remove_condition(conditions, "Stalled")
        conditions = set_condition(conditions, "Ready", "True", f"{verb}Succeeded", text, gen)
        conditions = set_condition(conditions, "Released", "True", f"{verb}Succeeded", text, gen)
        status["observedGeneration"] = gen
        status["lastReleaseRevision"] = number
        status.pop("failures", None)
        status.pop("installFailures", None)
        status.pop("upgradeFailures", None)
    elif phase == "failed":
        text = f"Helm {action} failed for release {target} with chart {chart}@{version}: {message}"
        conditions = set_condition(conditions, "Ready", "False", f"{verb}Failed", text, gen)
        conditions = set_condition(conditions, "Released", "False", f"{verb}Failed", text, gen)
        counter = "installFailures" if action == "install" else "upgradeFailures"
        status[counter] = max(1, old.get(counter, 0))
        status["failures"] = max(1, old.get("failures", 0))
        if stalled:
            conditions = remove_condition(conditions, "Reconciling")
            conditions = set_condition(conditions, "Stalled", "True", "RetriesExceeded",
                                       f"Failed to {action} after 1 attempt(s)", gen)
            status["observedGeneration"] = gen
        else:
            conditions = set_condition(conditions, "Reconciling", "True", "ProgressingWithRetry",
                                       f"Detected failure of '{action}' action; retrying", gen)
    else:
        raise ValueError(phase)
    status["conditions"] = conditions
    if history:
        status["history"] = history
    return status


class HelmReleaseController(Controller):
    api_version, kind = "helm.toolkit.fluxcd.io/v2", "HelmRelease"
    watches = (("apps/v1", "Deployment", lambda self, d: self._release_keys(d)),)
    group = "flux"

    def _release_keys(self, deploy):
        labels = meta(deploy).get("labels") or {}
        name, ns = labels.get("helm.toolkit.fluxcd.io/name"), labels.get("helm.toolkit.fluxcd.io/namespace")
        return [(ns, name)] if name and ns else []

    def reconcile(self, hr, /):
        if meta(hr).get("deletionTimestamp") or (hr.get("spec") or {}).get("suspend"):
            return None
        gen = generation(hr)
        status = hr.get("status") or {}
        ready = find_condition(status.get("conditions"), "Ready")
        if status.get("observedGeneration") == gen and ready and ready.get("status") == "True":
            self.ctx.mark_done(hr, gen)
        waiting_for = self._dependency_not_ready(hr)
        if waiting_for:
            # helm-controller does not start a release while a dependsOn entry is not Ready at its own
            # generation: Ready=False/DependencyNotReady, requeued (its --requeue-dependency, shortened).
            conditions = set_condition(status.get("conditions") or [], "Ready", "False", "DependencyNotReady",
                                       f"dependency '{waiting_for}' is not ready", gen)
            self.write_status(hr, dict(status, conditions=conditions))
            return DEPENDENCY_REQUEUE_SECONDS
        behaviour = self.ctx.behaviour(hr)
        elapsed = self.ctx.elapsed(hr, gen)
        state = behaviour.state_at(elapsed)
        now = rfc3339()
        message = behaviour.failure_message("context deadline exceeded")
        again = behaviour.next_change(elapsed)
        released = bool(ready) and ready.get("status") == "True" and ready.get("observedGeneration") == gen
        if state == beh.READY:
            # Helm --wait checks the workloads once per release; Flux does not watch their health afterwards.
            if released or self._workloads_ready(hr):
                new = helmrelease_status(hr, "succeeded", now)
            else:
                new = helmrelease_status(hr, "progressing", now)
        elif state == beh.FAILED:
            stalled = behaviour.mode == beh.MODE_FAIL and elapsed >= 2 * behaviour.delay
            new = helmrelease_status(hr, "failed", now, message, stalled=stalled)
            if behaviour.mode == beh.MODE_FAIL and not stalled:
                again = 2 * behaviour.delay - elapsed
            prior = find_condition(status.get("conditions"), "Ready") or {}
            if prior.get("status") != "False":
                verb = "Install" if new["lastAttemptedReleaseAction"] == "install" else "Upgrade"
                self.ctx.record_event(hr, "Warning", f"{verb}Failed", message, "helm-controller")
        else:
            new = helmrelease_status(hr, "progressing", now)
        self.write_status(hr, new)
        return again

    def _dependency_not_ready(self, hr):
        """'<namespace>/<name>' of the first spec.dependsOn HelmRelease that is not Ready, or None."""
        for dep in (hr.get("spec") or {}).get("dependsOn") or []:
            ns = dep.get("namespace") or namespace_of(hr)
            other = self.kube.get(self.api_version, self.kind, dep["name"], ns)
            ready = find_condition(((other or {}).get("status") or {}).get("conditions"), "Ready") or {}
            if other is None or ready.get("status") != "True" or \
                    (other.get("status") or {}).get("observedGeneration") != generation(other):
                return f"{ns}/{dep['name']}"
        return None

    def _workloads_ready(self, hr):
        names, replicas, requests = chart_workloads.requested_workloads(
            hr, self.ctx.namespace_annotations(namespace_of(hr)), release_name(hr))
        if not names:
            return True
        chart, version = chart_of(hr)
        target = target_namespace(hr)
        if target != namespace_of(hr) and ((hr.get("spec") or {}).get("install") or {}).get("createNamespace"):
            # helm install --create-namespace, as helm-controller runs it for spec.install.createNamespace
            self.kube.create_if_absent({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}})
        desired = [chart_workloads.deployment(n, target, release_name(hr),
                                              f"registry.invalid/{chart}:{version}", replicas, requests,
                                              owner_labels(hr)) for n in names]
        live = chart_workloads.ensure(self.kube, desired)
        return all(chart_workloads.deployment_ready(d) for d in live)

    def deleted(self, hr, /):
        labels = owner_labels(hr)
        chart_workloads.remove(self.kube, target_namespace(hr),
                               lambda d: labels.items() <= (meta(d).get("labels") or {}).items())
