"""kube.ensure / ensure_secret / delete against the Kubernetes API test server: idempotence, check mode
(dry-run only), diff, validation errors and Secret redaction, counted by the server."""
import base64
import json

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import kube
from tests.integration.kube_status import kube_client


@pytest.fixture
def client(kube_api):
    return kube_client(kube_api)


def configmap(namespace, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": namespace},
            "data": data or {"mode": "lakehouse"}}


def raycluster(namespace, workers=1):
    return {
        "apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "ray", "namespace": namespace},
        "spec": {
            "rayVersion": "2.40.0",
            "headGroupSpec": {"rayStartParams": {}, "template": {"spec": {"containers": [
                {"name": "ray-head", "image": "rayproject/ray:2.40.0"}]}}},
            "workerGroupSpecs": [{"groupName": "cpu", "replicas": workers, "minReplicas": 0, "maxReplicas": 4,
                                  "rayStartParams": {}, "template": {"spec": {"containers": [
                                      {"name": "ray-worker", "image": "rayproject/ray:2.40.0"}]}}}],
        },
    }


def test_create_then_rerun_is_unchanged_with_zero_writes(kube_api, client, kube_namespace):
    kube_api.reset_counts()
    created = kube.ensure(client, raycluster(kube_namespace), check_mode=False)
    assert created.changed and created.after["metadata"]["uid"]
    assert kube_api.request_counts().writes() == 1
    kube_api.reset_counts()
    again = kube.ensure(client, raycluster(kube_namespace), check_mode=False)
    assert not again.changed and again.diff is None
    counts = kube_api.request_counts()
    assert counts.writes() == 0 and counts.dry_run_writes() == 0


def test_check_mode_sends_only_dry_run_writes(kube_api, client, kube_namespace):
    kube_api.reset_counts()
    predicted = kube.ensure(client, raycluster(kube_namespace), check_mode=True)
    assert predicted.changed and predicted.after["spec"]["workerGroupSpecs"][0]["replicas"] == 1
    assert client.get("ray.io/v1", "RayCluster", "ray", kube_namespace) is None
    kube.ensure(client, raycluster(kube_namespace), check_mode=False)
    kube_api.reset_counts()
    update = kube.ensure(client, raycluster(kube_namespace, workers=3), check_mode=True)
    assert update.changed
    assert update.diff["before"]["spec"]["workerGroupSpecs"][0]["replicas"] == 1
    assert update.diff["after"]["spec"]["workerGroupSpecs"][0]["replicas"] == 3
    counts = kube_api.request_counts()
    assert counts.writes() == 0 and counts.dry_run_writes() == 1
    assert client.get("ray.io/v1", "RayCluster", "ray", kube_namespace)["spec"]["workerGroupSpecs"][0]["replicas"] == 1


def test_update_diff_and_generation(client, kube_namespace):
    kube.ensure(client, raycluster(kube_namespace), check_mode=False)
    result = kube.ensure(client, raycluster(kube_namespace, workers=2), check_mode=False)
    assert result.changed and result.action == "patch"
    assert result.after["metadata"]["generation"] == result.before["metadata"]["generation"] + 1
    assert "managedFields" not in result.diff["after"]["metadata"]
    assert not kube.ensure(client, raycluster(kube_namespace, workers=2), check_mode=False).changed


def test_invalid_custom_resource_is_refused_in_check_mode_too(client, kube_namespace):
    bad = raycluster(kube_namespace)
    bad["spec"]["workerGroupSpecs"][0]["replicas"] = "three"
    for check_mode in (True, False):
        with pytest.raises(kube.KubeError) as err:
            kube.ensure(client, bad, check_mode=check_mode)
        assert "RayCluster %s/ray" % kube_namespace in str(err.value)
        assert err.value.status == 422


def test_check_mode_in_a_namespace_that_does_not_exist_yet(kube_api, client):
    kube_api.reset_counts()
    result = kube.ensure(client, configmap("not-created-yet"), check_mode=True)
    assert result.changed and result.after["data"] == {"mode": "lakehouse"} and result.warnings
    assert kube_api.request_counts().writes() == 0


def test_check_mode_for_a_kind_not_installed_is_predicted(kube_api, client, kube_namespace):
    cr = {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": kube_namespace}}
    result = kube.ensure(client, cr, check_mode=True)
    assert result.changed and result.warnings
    with pytest.raises(kube.KindNotFound):
        kube.ensure(client, cr, check_mode=False)


def test_delete_check_mode_then_real(kube_api, client, kube_namespace):
    kube.ensure(client, configmap(kube_namespace), check_mode=False)
    kube_api.reset_counts()
    assert kube.delete(client, "v1", "ConfigMap", "settings", kube_namespace, check_mode=True)[0]
    assert kube_api.request_counts().writes() == 0
    changed, before = kube.delete(client, "v1", "ConfigMap", "settings", kube_namespace, check_mode=False, wait=True,
                                  timeout=10)
    assert changed and before["data"] == {"mode": "lakehouse"}
    assert kube.delete(client, "v1", "ConfigMap", "settings", kube_namespace, check_mode=False) == (False, None)


def test_ensure_secret_round_trip_without_leaking(kube_api, client, kube_namespace):
    values = {"AccessKey": "AKIAEXAMPLE123", "SecretKey": "wJalrXUtnFEMI/K7MDENG"}
    created = kube.ensure_secret(client, "s3", kube_namespace, values, labels={"app": "mlflow"})
    assert created.changed
    assert client.read_secret("s3", kube_namespace) == values
    kube_api.reset_counts()
    again = kube.ensure_secret(client, "s3", kube_namespace, values, labels={"app": "mlflow"})
    assert not again.changed and kube_api.request_counts().writes() == 0
    rotated = kube.ensure_secret(client, "s3", kube_namespace, dict(values, SecretKey="rotated-secret-value"),
                                 check_mode=True)
    assert rotated.changed and rotated.diff["after"]["data"]["SecretKey"] == kube.REDACTED_CHANGED
    assert client.read_secret("s3", kube_namespace) == values
    text = json.dumps([created.__dict__, again.__dict__, rotated.__dict__])
    for secret in list(values.values()) + ["rotated-secret-value"]:
        assert secret not in text and base64.b64encode(secret.encode()).decode() not in text


def test_list_and_read_helpers(client, kube_namespace):
    kube.ensure(client, configmap(kube_namespace), check_mode=False)
    names = [item["metadata"]["name"] for item in client.list("v1", "ConfigMap", kube_namespace)]
    assert "settings" in names
    items, version = client.list_with_version("v1", "ConfigMap", kube_namespace, field_selector="metadata.name=settings")
    assert [i["kind"] for i in items] == ["ConfigMap"] and version
    assert client.read_secret("absent", kube_namespace) is None
    with pytest.raises(kube.KubeError, match="namespaced"):
        client.get("v1", "ConfigMap", "settings")
