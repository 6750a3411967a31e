"""lakehouse.platform.k8s_status_wait through ansible-playbook against the Kubernetes API test server.

The test plays the operator: it writes .status from a thread once the module is watching.
"""
import threading
import time

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import kube
from tests.integration.kube_status import kube_client, patch_status

pytestmark = pytest.mark.latency

ROOK = ("ceph.rook.io/v1", "CephObjectStoreUser")
ARGO = ("argoproj.io/v1alpha1", "Application")


def wait_task(api_kind, namespace, name, **options):
    api_version, kind = api_kind
    args = dict(api_version=api_version, kind=kind, namespace=namespace, name=name)
    args.update(options)
    return {"name": "wait", "lakehouse.platform.k8s_status_wait": args, "register": "waited"}


def when_watched(kube_api, resource, then):
    """Run then() in a thread as soon as the module has opened its watch on resource."""
    def run():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if kube_api.request_counts().count("watch", resource=resource):
                then()
                return
            time.sleep(0.05)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def rook_user(kube_api, kube_namespace):
    client = kube_client(kube_api)
    kube.ensure(client, {"apiVersion": ROOK[0], "kind": ROOK[1], "metadata": {"name": "iceberg", "namespace": kube_namespace},
                         "spec": {"store": "lakehouse"}}, check_mode=False)
    patch_status(kube_api, ROOK[0], ROOK[1], kube_namespace, "iceberg", {"phase": "Progressing", "observedGeneration": 1})
    kube_api.reset_counts()
    return kube_namespace


@pytest.fixture
def argo_app(kube_api, kube_namespace):
    client = kube_client(kube_api)
    kube.ensure(client, {
        "apiVersion": ARGO[0], "kind": ARGO[1], "metadata": {"name": "mlflow", "namespace": kube_namespace},
        "spec": {"project": "default",
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "ml"},
                 "source": {"repoURL": "https://community-charts.github.io/helm-charts", "chart": "mlflow",
                            "targetRevision": "1.11.5"}},
    }, check_mode=False)
    patch_status(kube_api, ARGO[0], ARGO[1], kube_namespace, "mlflow",
                 {"health": {"status": "Progressing"}, "sync": {"status": "OutOfSync"}})
    kube_api.reset_counts()
    return kube_namespace


def test_waits_for_rook_user_ready(kube_api, k8s_playbook, rook_user):
    patched = {}

    def become_ready():
        time.sleep(0.5)
        patch_status(kube_api, ROOK[0], ROOK[1], rook_user, "iceberg", {"phase": "Ready"})
        patched["at"] = time.monotonic()

    when_watched(kube_api, "cephobjectstoreusers", become_ready)
    run = k8s_playbook([wait_task(ROOK, rook_user, "iceberg", ready="status.phase == 'Ready'",
                                  failed="status.phase == 'ReconcileFailed'", failure_grace=30, timeout=120)])
    finished = time.monotonic()
    assert run.rc == 0, run
    result = run.results[0]
    assert result["changed"] is False and result["ready"] is True and result["waited"] is True
    assert result["resource"]["status"]["phase"] == "Ready"
    assert result["matched"] == {"ready": True, "failed": False, "generation_current": True}
    assert 0.4 < result["elapsed"] < 10
    assert finished - patched["at"] < 5  # the module returned right after the change (ansible overhead included)
    assert kube_api.request_counts().writes() == 1  # only the test's own status patch


def test_compound_expression_on_argo_application(kube_api, k8s_playbook, argo_app):
    def sync_in_two_steps():
        time.sleep(0.3)
        patch_status(kube_api, ARGO[0], ARGO[1], argo_app, "mlflow", {"health": {"status": "Healthy"}})
        time.sleep(0.5)
        patch_status(kube_api, ARGO[0], ARGO[1], argo_app, "mlflow", {"sync": {"status": "Synced"}})

    when_watched(kube_api, "applications", sync_in_two_steps)
    run = k8s_playbook([wait_task(ARGO, argo_app, "mlflow",
                                  ready="status.health.status == 'Healthy' && status.sync.status == 'Synced'",
                                  timeout=120)])
    assert run.rc == 0, run
    result = run.results[0]
    assert result["resource"]["status"] == {"health": {"status": "Healthy"}, "sync": {"status": "Synced"}}
    assert result["elapsed"] >= 0.7  # healthy alone was not enough


def test_failure_expression_fails_fast_with_the_objects_name(kube_api, k8s_playbook, argo_app):
    when_watched(kube_api, "applications", lambda: patch_status(
        kube_api, ARGO[0], ARGO[1], argo_app, "mlflow", {"health": {"status": "Degraded", "message": "CrashLoopBackOff"}}))
    run = k8s_playbook([wait_task(ARGO, argo_app, "mlflow", ready="status.health.status == 'Healthy'",
                                  failed="status.health.status == 'Degraded' && status.health.message",
                                  failure_grace=1, timeout=300)])
    assert run.rc != 0
    result = run.results[0]
    assert result["failed"] is True
    assert result["msg"].startswith("Application %s/mlflow failed: CrashLoopBackOff (for 1s" % argo_app)
    assert "health.status=Degraded" in result["msg"]
    assert 1 <= result["elapsed"] < 10  # the grace, not the 300 s timeout


def test_timeout_message_names_object_and_last_status(k8s_playbook, rook_user):
    run = k8s_playbook([wait_task(ROOK, rook_user, "iceberg", ready="status.phase == 'Ready'", timeout=2)])
    assert run.rc != 0
    assert run.results[0]["msg"] == (
        "Timed out after 2s waiting for CephObjectStoreUser %s/iceberg: last status: phase=Progressing" % rook_user)


def test_stale_generation_is_not_ready(kube_api, k8s_playbook, rook_user):
    patch_status(kube_api, ROOK[0], ROOK[1], rook_user, "iceberg", {"phase": "Ready", "observedGeneration": 1})
    kube.ensure(kube_client(kube_api), {"apiVersion": ROOK[0], "kind": ROOK[1],
                                        "metadata": {"name": "iceberg", "namespace": rook_user},
                                        "spec": {"displayName": "changed"}}, check_mode=False)
    strict = dict(wait_task(ROOK, rook_user, "iceberg", ready="status.phase == 'Ready'", timeout=2), ignore_errors=True)
    relaxed = wait_task(ROOK, rook_user, "iceberg", ready="status.phase == 'Ready'", timeout=2,
                        require_observed_generation=False)
    run = k8s_playbook([strict, relaxed])
    assert run.rc == 0, run
    strict_result, relaxed_result = run.results
    assert strict_result["failed"] is True
    assert "observedGeneration=1/generation=2" in strict_result["msg"]
    assert "older generation" in strict_result["msg"]
    assert relaxed_result["ready"] is True and relaxed_result["matched"]["generation_current"] is False


def test_check_mode_reads_once_without_waiting_or_writing(kube_api, k8s_playbook, rook_user):
    run = k8s_playbook([wait_task(ROOK, rook_user, "iceberg", ready="status.phase == 'Ready'", timeout=300)],
                       check=True)
    assert run.rc == 0, run
    result = run.results[0]
    assert result["ready"] is False and result["waited"] is False
    counts = kube_api.request_counts()
    assert counts.writes() == 0 and counts.dry_run_writes() == 0
    assert counts.count("watch", resource="cephobjectstoreusers") == 0


def test_invalid_expression_fails_before_any_request(kube_api, k8s_playbook, rook_user):
    run = k8s_playbook([wait_task(ROOK, rook_user, "iceberg", ready="status.phase == 'Ready")])
    assert run.rc != 0
    assert "Invalid JMESPath expression in option 'ready'" in run.results[0]["msg"]
    assert kube_api.request_counts().rows == []
