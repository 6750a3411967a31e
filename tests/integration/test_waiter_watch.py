"""The waiter against the Kubernetes API test server: watch latency, timeout and failure messages."""
import time

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import kube
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import (
    WaitFailed,
    WaitTimeout,
    generation_current,
    wait_absent,
    wait_for,
)
from tests.integration.kube_status import kube_client, patch_status, patch_status_later

pytestmark = pytest.mark.latency

API, KIND = "ceph.rook.io/v1", "CephObjectStoreUser"


def user(namespace, name="iceberg"):
    return {"apiVersion": API, "kind": KIND, "metadata": {"name": name, "namespace": namespace},
            "spec": {"store": "lakehouse", "displayName": "iceberg"}}


def phase_ready(obj):
    return obj["status"].get("phase") == "Ready" and generation_current(obj) if obj.get("status") else False


def phase_failed(obj):
    phase = (obj.get("status") or {}).get("phase")
    return "phase is %s" % phase if phase == "ReconcileFailed" else None


@pytest.fixture
def client(kube_api):
    return kube_client(kube_api)


@pytest.fixture
def created_user(kube_api, client, kube_namespace):
    kube.ensure(client, user(kube_namespace), check_mode=False)
    patch_status(kube_api, API, KIND, kube_namespace, "iceberg", {"phase": "Progressing", "observedGeneration": 1})
    return kube_namespace


def test_status_change_by_another_writer_is_seen_within_a_second(kube_api, client, created_user):
    written = {}
    patch_status_later(kube_api, 0.8, API, KIND, created_user, "iceberg", {"phase": "Ready"}, written)
    kube_api.reset_counts()
    result = wait_for(client, API, KIND, "iceberg", created_user, phase_ready, timeout=30)
    latency = time.monotonic() - written["at"]
    print("watch latency: %.3fs, total wait %.3fs" % (latency, result.elapsed))
    assert result.obj["status"]["phase"] == "Ready"
    assert latency < 2.0
    assert result.elapsed < 5.0
    counts = kube_api.request_counts()
    assert counts.count("watch", resource="cephobjectstoreusers") >= 1
    assert counts.count("get", resource="cephobjectstoreusers") == 0  # no polling while the watch works


def test_object_created_after_the_wait_started_is_seen(kube_api, client, kube_namespace):
    import threading

    def create():
        time.sleep(0.5)
        kube.ensure(client, user(kube_namespace, "late"), check_mode=False)
        patch_status(kube_api, API, KIND, kube_namespace, "late", {"phase": "Ready", "observedGeneration": 1})

    threading.Thread(target=create, daemon=True).start()
    result = wait_for(client, API, KIND, "late", kube_namespace, phase_ready, timeout=30)
    assert result.elapsed < 5.0


def test_stale_observed_generation_is_not_ready(kube_api, client, created_user):
    patch_status(kube_api, API, KIND, created_user, "iceberg", {"phase": "Ready", "observedGeneration": 1})
    changed = kube.ensure(client, dict(user(created_user), spec={"store": "lakehouse", "displayName": "v2"}),
                          check_mode=False)
    assert changed.changed and changed.after["metadata"]["generation"] == 2
    with pytest.raises(WaitTimeout) as err:
        wait_for(client, API, KIND, "iceberg", created_user, phase_ready, timeout=1)
    assert "observedGeneration=1/generation=2" in str(err.value)
    patch_status_later(kube_api, 0.3, API, KIND, created_user, "iceberg", {"observedGeneration": 2})
    assert wait_for(client, API, KIND, "iceberg", created_user, phase_ready, timeout=30).elapsed < 5.0


def test_timeout_names_the_object_and_its_last_status(client, created_user):
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as err:
        wait_for(client, API, KIND, "iceberg", created_user, phase_ready, timeout=1.5)
    assert 1.4 < time.monotonic() - started < 4.0
    assert str(err.value) == (
        "Timed out after 1.5s waiting for CephObjectStoreUser %s/iceberg: last status: phase=Progressing" % created_user)


def test_failure_fails_fast_after_its_grace(kube_api, client, created_user):
    patch_status_later(kube_api, 0.3, API, KIND, created_user, "iceberg", {"phase": "ReconcileFailed"})
    started = time.monotonic()
    with pytest.raises(WaitFailed) as err:
        wait_for(client, API, KIND, "iceberg", created_user, phase_ready, phase_failed, timeout=60, failure_grace=1)
    assert 1.2 < time.monotonic() - started < 5.0  # grace respected, timeout far away
    assert "CephObjectStoreUser %s/iceberg failed: phase is ReconcileFailed" % created_user in str(err.value)


def test_short_failure_within_grace_is_tolerated(kube_api, client, created_user):
    patch_status(kube_api, API, KIND, created_user, "iceberg", {"phase": "ReconcileFailed"})
    patch_status_later(kube_api, 0.5, API, KIND, created_user, "iceberg", {"phase": "Progressing"})
    patch_status_later(kube_api, 1.0, API, KIND, created_user, "iceberg", {"phase": "Ready"})
    result = wait_for(client, API, KIND, "iceberg", created_user, phase_ready, phase_failed, timeout=30,
                      failure_grace=3)
    assert result.obj["status"]["phase"] == "Ready"


def test_wait_absent_and_delete_with_wait(kube_api, client, created_user):
    changed, before = kube.delete(client, API, KIND, "iceberg", created_user, check_mode=False, wait=True, timeout=30)
    assert changed and before["metadata"]["name"] == "iceberg"
    assert client.get(API, KIND, "iceberg", created_user) is None
    assert wait_absent(client, API, KIND, "iceberg", created_user, timeout=5).elapsed < 2.0


def test_watch_from_a_compacted_version_raises_watch_expired(client, created_user):
    with pytest.raises(kube.WatchExpired):
        for _event in client.watch(API, KIND, created_user, name="iceberg", resource_version="1", timeout=5):
            pass


def test_expired_watch_is_relisted_and_the_change_still_seen(kube_api, client, created_user):
    """The first list hands out a version the server no longer keeps (as after etcd compaction)."""
    real_list = client.list_with_version
    listed = []

    def list_with_stale_version(*args, **kwargs):
        items, version = real_list(*args, **kwargs)
        listed.append(version)
        return items, ("1" if len(listed) == 1 else version)

    client.list_with_version = list_with_stale_version
    written = {}
    patch_status_later(kube_api, 0.8, API, KIND, created_user, "iceberg", {"phase": "Ready"}, written)
    result = wait_for(client, API, KIND, "iceberg", created_user, phase_ready, timeout=30)
    assert time.monotonic() - written["at"] < 2.0
    assert result.obj["status"]["phase"] == "Ready" and len(listed) >= 2
