"""Argo CD's Application controller (argoproj.io/v1alpha1), as its status shows it.

Application has no status subresource: Argo CD writes `status` with the object itself, and so do we.
Per spec (hashed, because writes of the whole object may move `generation`): a sync operation Running
(sync OutOfSync, health Missing), then Succeeded with sync Synced at revision = targetRevision and health
Progressing, then health Healthy once the delay has passed and any requested chart workloads are ready.

Failure mode: operationState Failed with a message, a SyncError condition, health Degraded; `flap`
alternates Healthy and Degraded; `never-ready` stays Progressing.
"""
from . import behaviour as beh
from . import chart_workloads
from .objects import meta, name_of, namespace_of, rfc3339, stable_hash
from .runtime import Controller


def sources(app):
    spec = app.get("spec") or {}
    return spec.get("sources") or ([spec["source"]] if spec.get("source") else [])


def revisions(app):
    return [s.get("targetRevision") or "HEAD" for s in sources(app)]


def release_name(app):
    for source in sources(app):
        helm = source.get("helm") or {}
        if helm.get("releaseName"):
            return helm["releaseName"]
    return name_of(app)


def destination_namespace(app):
    return ((app.get("spec") or {}).get("destination") or {}).get("namespace") or namespace_of(app)


def source_type(app):
    first = (sources(app) or [{}])[0]
    if first.get("chart") or first.get("helm"):
        return "Helm"
    if first.get("kustomize"):
        return "Kustomize"
    return "Directory"


TRACKING = "argocd.argoproj.io/tracking-id"  # Argo CD 3 tracks resources by annotation by default


def tracking_id(app, name, namespace):
    """`<app namespace>_<app>:<group>/<kind>:<namespace>/<name>` (apps-in-any-namespace form)."""
    return f"{namespace_of(app)}_{name_of(app)}:apps/Deployment:{namespace}/{name}"


def tracked_by(deploy):
    """(namespace, name) of the Application a resource's tracking id points to, or None."""
    value = (meta(deploy).get("annotations") or {}).get(TRACKING) or ""
    app = value.split(":", 1)[0]
    if "_" not in app:
        return None
    namespace, name = app.split("_", 1)
    return namespace, name


def application_status(app, stage, now, message="", resources=()):
    """Application status for a stage (pure function).

    stage: "syncing" | "progressing" | "healthy" | "degraded" | "failed".
    """
    old = app.get("status") or {}
    status = dict(old)
    revs = revisions(app)
    multi = len(sources(app)) > 1
    spec = app.get("spec") or {}
    destination = spec.get("destination") or {}
    op = dict(old.get("operationState") or {})
    started = op.get("startedAt") if op.get("phase") in ("Running", "Succeeded", "Failed") and \
        _same_revisions(op, revs) else now
    operation = {"sync": ({"revisions": revs} if multi else {"revision": revs[0] if revs else "HEAD"}),
                 "initiatedBy": {"automated": bool((spec.get("syncPolicy") or {}).get("automated"))}}
    op = {"operation": operation, "startedAt": started}
    compared = {"destination": destination}
    if multi:
        compared["sources"] = sources(app)
    elif sources(app):
        compared["source"] = sources(app)[0]
    sync = {"comparedTo": compared}
    if multi:
        sync["revisions"] = revs
    else:
        sync["revision"] = revs[0] if revs else "HEAD"
    conditions = [c for c in old.get("conditions") or [] if c.get("type") != "SyncError"]
    if stage == "syncing":
        sync["status"] = "OutOfSync"
        health = {"status": "Missing"}
        op.update({"phase": "Running", "message": "one or more tasks are running"})
    elif stage == "failed":
        sync["status"] = "OutOfSync"
        health = {"status": "Degraded", "message": message}
        op.update({"phase": "Failed", "message": f"one or more objects failed to apply, reason: {message}",
                   "finishedAt": op.get("finishedAt") or now})
        conditions.append({"type": "SyncError", "message": f"Failed sync attempt: {message}",
                           "lastTransitionTime": now})
    else:
        sync["status"] = "Synced"
        health = {"status": {"progressing": "Progressing", "healthy": "Healthy", "degraded": "Degraded"}[stage]}
        if stage == "degraded":
            health["message"] = message
        op.update({"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                   "finishedAt": (old.get("operationState") or {}).get("finishedAt") or now,
                   "syncResult": {**({"revisions": revs} if multi else {"revision": revs[0] if revs else "HEAD"}),
                                  **({"sources": sources(app)} if multi else
                                     {"source": sources(app)[0]} if sources(app) else {})}})
    old_health = old.get("health") or {}
    health["lastTransitionTime"] = old_health.get("lastTransitionTime") \
        if old_health.get("status") == health["status"] else now
    status.update({"sync": sync, "health": health, "operationState": op, "reconciledAt": now,
                   "sourceType": source_type(app), "controllerNamespace": "argocd"})
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    if resources:
        status["resources"] = list(resources)
    if op["phase"] == "Succeeded":
        history = list(old.get("history") or [])
        if not history or _entry_revisions(history[-1]) != revs:
            entry = {"id": (history[-1].get("id", -1) + 1) if history else 0, "deployedAt": now,
                     "deployStartedAt": op["startedAt"], "initiatedBy": operation["initiatedBy"]}
            if multi:
                entry.update({"revisions": revs, "sources": sources(app)})
            else:
                entry.update({"revision": revs[0] if revs else "HEAD"})
                if sources(app):
                    entry["source"] = sources(app)[0]
            history.append(entry)
        status["history"] = history[-10:]
    return status


def synced_to(status, app):
    """sync.status Synced at the revision(s) the spec asks for."""
    sync = status.get("sync") or {}
    revs = revisions(app)
    current = sync.get("revisions") if len(revs) > 1 else [sync.get("revision")]
    return sync.get("status") == "Synced" and current == revs


def _same_revisions(op, revs):
    sync = (op.get("operation") or {}).get("sync") or {}
    return (sync.get("revisions") or [sync.get("revision")]) == revs


def _entry_revisions(entry):
    return entry.get("revisions") or [entry.get("revision")]


class ApplicationController(Controller):
    api_version, kind = "argoproj.io/v1alpha1", "Application"
    watches = (("apps/v1", "Deployment", lambda self, d: self._app_keys(d)),)
    group = "argocd"
    status_subresource = False  # the Application CRD has none

    def _app_keys(self, deploy):
        owner = tracked_by(deploy)
        return [owner] if owner else []

    def reconcile(self, app, /):
        if meta(app).get("deletionTimestamp"):
            return None
        tag = stable_hash(app.get("spec") or {})
        behaviour = self.ctx.behaviour(app)
        old = app.get("status") or {}
        if (old.get("health") or {}).get("status") == "Healthy" and synced_to(old, app):
            self.ctx.mark_done(app, tag)  # finished before this simulator started
        elapsed = self.ctx.elapsed(app, tag)
        state = behaviour.state_at(elapsed)
        now = rfc3339()
        message = behaviour.failure_message(
            f'Deployment "{release_name(app)}" exceeded its progress deadline')
        again = behaviour.next_change(elapsed)
        resources = ()
        if state == beh.PROGRESSING:
            half = behaviour.delay / 2
            stage = "syncing" if elapsed < half else "progressing"
            if elapsed < half:
                again = half - elapsed
        elif state == beh.READY:
            ready, resources = self._workloads(app)
            stage = "healthy" if ready else "progressing"
        elif state == beh.FAILED:
            stage = "failed" if behaviour.mode == beh.MODE_FAIL else "degraded"
        else:
            stage = "progressing"
        self.write_status(app, application_status(app, stage, now, message, resources),
                          volatile=("reconciledAt",))
        return again

    def _workloads(self, app):
        names, replicas, requests = chart_workloads.requested_workloads(
            app, self.ctx.namespace_annotations(namespace_of(app)), release_name(app))
        if not names:
            return True, ()
        image = f"registry.invalid/{(sources(app) or [{}])[0].get('chart') or name_of(app)}:{revisions(app)[0]}"
        desired = []
        for name in names:
            deploy = chart_workloads.deployment(name, destination_namespace(app), release_name(app), image,
                                                replicas, requests, {})
            deploy["metadata"]["annotations"][TRACKING] = tracking_id(app, name, destination_namespace(app))
            desired.append(deploy)
        live = chart_workloads.ensure(self.kube, desired)
        resources = [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": destination_namespace(app),
                      "name": name_of(d), "status": "Synced",
                      "health": {"status": "Healthy" if chart_workloads.deployment_ready(d) else "Progressing"}}
                     for d in live]
        return all(chart_workloads.deployment_ready(d) for d in live), resources

    def deleted(self, app, /):
        chart_workloads.remove(self.kube, destination_namespace(app),
                               lambda d: tracked_by(d) == (namespace_of(app), name_of(app)))
