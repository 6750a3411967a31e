"""Flux HelmRelease status: install, upgrade, failure and stall."""
from tests.simulators.flux import chart_of, helmrelease_status, release_name

NOW = "2026-01-01T10:00:00Z"


def hr(generation=1, version="1.0.0", status=None, **spec):
    return {"metadata": {"name": "kafka", "namespace": "flux", "generation": generation},
            "spec": {"interval": "5m", "chart": {"spec": {"chart": "kafka", "version": version}}, **spec},
            "status": status or {}}


def cond(status, type_):
    return next((c for c in status["conditions"] if c["type"] == type_), None)


def test_progressing_then_install_succeeded_with_generation_on_conditions():
    progressing = helmrelease_status(hr(), "progressing", NOW)
    assert cond(progressing, "Reconciling")["status"] == "True"
    assert cond(progressing, "Ready") | {"lastTransitionTime": None} == {
        "type": "Ready", "status": "Unknown", "reason": "Progressing", "message": "Reconciliation in progress",
        "observedGeneration": 1, "lastTransitionTime": None}
    assert "observedGeneration" not in progressing
    done = helmrelease_status(hr(status=progressing), "succeeded", NOW)
    ready = cond(done, "Ready")
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == ("True", "InstallSucceeded", 1)
    assert ready["message"] == "Helm install succeeded for release flux/kafka.v1 with chart kafka@1.0.0"
    assert cond(done, "Released")["reason"] == "InstallSucceeded"
    assert cond(done, "Reconciling") is None
    assert done["observedGeneration"] == 1 and done["lastAttemptedRevision"] == "1.0.0"
    assert done["lastAttemptedReleaseAction"] == "install"
    assert [(h["version"], h["status"], h["chartVersion"]) for h in done["history"]] == [(1, "deployed", "1.0.0")]


def test_resync_of_a_released_generation_changes_nothing():
    done = helmrelease_status(hr(status=helmrelease_status(hr(), "progressing", NOW)), "succeeded", NOW)
    assert helmrelease_status(hr(status=done), "succeeded", "2026-01-01T11:00:00Z") == done


def test_upgrade_adds_a_release_and_supersedes_the_old_one():
    installed = helmrelease_status(hr(), "succeeded", NOW)
    upgraded = helmrelease_status(hr(generation=2, version="1.1.0", status=installed), "succeeded", NOW)
    assert cond(upgraded, "Ready")["reason"] == "UpgradeSucceeded"
    assert cond(upgraded, "Ready")["observedGeneration"] == 2
    assert [(h["version"], h["status"]) for h in upgraded["history"]] == [(2, "deployed"), (1, "superseded")]
    assert upgraded["lastAttemptedRevision"] == "1.1.0" and upgraded["lastAttemptedReleaseAction"] == "upgrade"


def test_failure_then_stalled():
    failing = helmrelease_status(hr(), "failed", NOW, "timed out waiting for the condition")
    ready = cond(failing, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InstallFailed")
    assert ready["message"].endswith(": timed out waiting for the condition")
    assert cond(failing, "Reconciling")["reason"] == "ProgressingWithRetry"
    assert failing["installFailures"] == 1 and "observedGeneration" not in failing
    stalled = helmrelease_status(hr(status=failing), "failed", NOW, "timed out", stalled=True)
    assert cond(stalled, "Stalled")["reason"] == "RetriesExceeded"
    assert cond(stalled, "Reconciling") is None and stalled["observedGeneration"] == 1


def test_release_name_and_chart_version_defaults():
    assert release_name(hr()) == "kafka"
    assert release_name(hr(targetNamespace="data")) == "data-kafka"
    assert release_name(hr(releaseName="broker")) == "broker"
    assert chart_of(hr(version="*")) == ("kafka", "0.1.0")
