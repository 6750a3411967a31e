"""Argo CD Application status stages."""
from tests.simulators.argocd import application_status, synced_to

NOW = "2026-01-01T10:00:00Z"


def app(revision="2.0.0", status=None, multi=False):
    source = {"repoURL": "https://charts.example.org", "chart": "datahub", "targetRevision": revision}
    spec = {"project": "default", "destination": {"namespace": "data"}}
    if multi:
        spec["sources"] = [source, {"repoURL": "https://git.example.org/values", "targetRevision": "main",
                                    "ref": "values"}]
    else:
        spec["source"] = source
    return {"metadata": {"name": "datahub", "namespace": "argocd"}, "spec": spec, "status": status or {}}


def test_syncing_then_progressing_then_healthy():
    syncing = application_status(app(), "syncing", NOW)
    assert (syncing["sync"]["status"], syncing["health"]["status"], syncing["operationState"]["phase"]) == \
        ("OutOfSync", "Missing", "Running")
    progressing = application_status(app(status=syncing), "progressing", NOW)
    assert (progressing["sync"]["status"], progressing["sync"]["revision"]) == ("Synced", "2.0.0")
    assert progressing["health"]["status"] == "Progressing"
    assert progressing["operationState"]["phase"] == "Succeeded"
    assert progressing["operationState"]["syncResult"]["revision"] == "2.0.0"
    healthy = application_status(app(status=progressing), "healthy", "2026-01-01T10:01:00Z")
    assert healthy["health"] == {"status": "Healthy", "lastTransitionTime": "2026-01-01T10:01:00Z"}
    assert [h["revision"] for h in healthy["history"]] == ["2.0.0"]  # one entry per synced revision
    assert synced_to(healthy, app())
    assert not synced_to(healthy, app(revision="2.1.0"))


def test_failed_sync_is_degraded_with_a_sync_error():
    failed = application_status(app(), "failed", NOW, "the server could not find the requested resource")
    assert failed["health"]["status"] == "Degraded"
    assert failed["operationState"]["phase"] == "Failed"
    assert failed["operationState"]["message"].endswith("the server could not find the requested resource")
    assert failed["conditions"][0]["type"] == "SyncError"
    recovered = application_status(app(status=failed), "healthy", NOW)
    assert "conditions" not in recovered


def test_multiple_sources_report_revisions():
    healthy = application_status(app(multi=True), "healthy", NOW)
    assert healthy["sync"]["revisions"] == ["2.0.0", "main"] and "revision" not in healthy["sync"]
    assert synced_to(healthy, app(multi=True))
