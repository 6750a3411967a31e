"""lakehouse.platform.k8s_generated_secret through ansible-playbook against the Kubernetes API test server.

Created once (and recorded in the component's inventory), never changed afterwards (a rerun sends no write),
an existing Secret is neither touched nor recorded, check mode into an absent namespace reports without
sending anything, and no generated value reaches the task output.
"""
import base64
import json
import uuid

import pytest

INVENTORY = "lakehouse-platform-inventory-test-comp"


def secret_task(namespace, name="generated", **options):
    args = dict(name=name, namespace=namespace, keys={
        "password": {"random": {"length": 32, "chars": "alnum"}},
        "auth": {"template": "neo4j/{password}"},
        "username": {"value": "lakehouse_admin"},
        "cluster-id": {"uuid": {"format": "base64url"}},
    })
    args.update(options)
    return {"name": "generate", "lakehouse.platform.k8s_generated_secret": args, "register": "generated"}


def _get(kube_api, path):
    status, body, _headers = kube_api.request("GET", path)
    return body if status == 200 else None


def _decoded(secret):
    return dict((k, base64.b64decode(v).decode()) for k, v in secret["data"].items())


@pytest.fixture
def state_namespace(kube_api):
    """A state namespace that does not exist yet (the module creates it); deleted afterwards."""
    name = "state-%s" % uuid.uuid4().hex[:8]
    yield name
    kube_api.request("DELETE", "/api/v1/namespaces/" + name)


def test_creates_once_records_and_reruns_without_writes(kube_api, k8s_playbook, kube_namespace, state_namespace):
    task = secret_task(kube_namespace, component="test_comp", phase="phase3", state_namespace=state_namespace,
                       type="kubernetes.io/basic-auth")
    run = k8s_playbook([task])
    assert run.rc == 0, run
    result = run.results[0]
    assert result["changed"] is True and result["created"] is True
    assert result["keys"] == ["auth", "cluster-id", "password", "username"]
    assert result["inventory"] == {"name": INVENTORY, "namespace": state_namespace, "written": True}

    secret = _get(kube_api, "/api/v1/namespaces/%s/secrets/generated" % kube_namespace)
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert secret["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "lakehouse.platform",
                                            "lakehouse.platform/component": "test_comp",
                                            "lakehouse.platform/phase": "phase3"}
    values = _decoded(secret)
    assert len(values["password"]) == 32 and values["password"].isalnum()
    assert values["auth"] == "neo4j/" + values["password"]
    assert values["username"] == "lakehouse_admin"
    assert len(base64.urlsafe_b64decode(values["cluster-id"] + "==")) == 16
    # No generated value in the task output (the task has no no_log: the module itself must not leak).
    for key in ("password", "auth", "cluster-id"):
        assert values[key] not in run.stdout and values[key] not in run.stderr, key

    inventory = _get(kube_api, "/api/v1/namespaces/%s/configmaps/%s" % (state_namespace, INVENTORY))
    assert json.loads(inventory["data"]["objects"]) == [
        {"apiVersion": "v1", "kind": "Secret", "namespace": kube_namespace, "name": "generated"}]
    assert json.loads(inventory["data"]["helm_releases"]) == []
    assert inventory["metadata"]["labels"]["lakehouse.platform/inventory-of"] == "test_comp"
    assert inventory["metadata"]["annotations"]["lakehouse.platform/phase"] == "phase3"
    assert _get(kube_api, "/api/v1/namespaces/" + state_namespace)["metadata"]["labels"][
        "app.kubernetes.io/part-of"] == "lakehouse.platform"

    kube_api.reset_counts()
    rerun = k8s_playbook([task])
    counts = kube_api.request_counts()
    assert rerun.rc == 0, rerun
    assert rerun.results[0]["changed"] is False and rerun.results[0]["created"] is False
    assert counts.writes() == 0 and counts.dry_run_writes() == 0, counts
    assert _decoded(_get(kube_api, "/api/v1/namespaces/%s/secrets/generated" % kube_namespace)) == values


def test_record_merges_with_what_the_inventory_holds(kube_api, k8s_playbook, kube_namespace):
    known = {"apiVersion": "v1", "kind": "ConfigMap", "namespace": kube_namespace, "name": "other"}
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces/%s/configmaps" % kube_namespace, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": INVENTORY},
        "data": {"objects": json.dumps([known]), "helm_releases": json.dumps([{"name": "r", "namespace": "n"}])}})
    assert status == 201, body
    run = k8s_playbook([secret_task(kube_namespace, component="test_comp", phase="phase3",
                                    state_namespace=kube_namespace)])
    assert run.rc == 0, run
    inventory = _get(kube_api, "/api/v1/namespaces/%s/configmaps/%s" % (kube_namespace, INVENTORY))
    assert json.loads(inventory["data"]["objects"]) == [
        known, {"apiVersion": "v1", "kind": "Secret", "namespace": kube_namespace, "name": "generated"}]
    assert json.loads(inventory["data"]["helm_releases"]) == [{"name": "r", "namespace": "n"}]


def test_existing_secret_is_untouched_and_not_recorded(kube_api, k8s_playbook, kube_namespace):
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces/%s/secrets" % kube_namespace, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "generated"}, "type": "Opaque",
        "data": {"password": base64.b64encode(b"chosen-by-someone").decode()}})
    assert status == 201, body
    before = _get(kube_api, "/api/v1/namespaces/%s/secrets/generated" % kube_namespace)
    kube_api.reset_counts()
    run = k8s_playbook([secret_task(kube_namespace, component="test_comp", phase="phase3",
                                    state_namespace=kube_namespace)])
    counts = kube_api.request_counts()
    assert run.rc == 0, run
    assert run.results[0]["changed"] is False
    assert counts.writes() == 0, counts
    after = _get(kube_api, "/api/v1/namespaces/%s/secrets/generated" % kube_namespace)
    assert after["data"] == before["data"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert _get(kube_api, "/api/v1/namespaces/%s/configmaps/%s" % (kube_namespace, INVENTORY)) is None


def test_missing_keys_add_adds_only_what_is_missing(kube_api, k8s_playbook, kube_namespace):
    kept = base64.b64encode(b"kept-id").decode()
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces/%s/secrets" % kube_namespace, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kraft"}, "data": {"cluster-id": kept}})
    assert status == 201, body
    keys = {"cluster-id": {"uuid": {}}, "controller-0-id": {"uuid": {}}, "controller-1-id": {"uuid": {}}}
    task = {"name": "ids", "lakehouse.platform.k8s_generated_secret": {
        "name": "kraft", "namespace": kube_namespace, "missing_keys": "add", "keys": keys}}
    run = k8s_playbook([task])
    assert run.rc == 0, run
    assert run.results[0]["added"] == ["controller-0-id", "controller-1-id"]
    secret = _get(kube_api, "/api/v1/namespaces/%s/secrets/kraft" % kube_namespace)
    assert secret["data"]["cluster-id"] == kept
    for key in ("controller-0-id", "controller-1-id"):
        value = base64.b64decode(secret["data"][key]).decode()
        assert len(base64.urlsafe_b64decode(value + "==")) == 16
        assert value not in run.stdout
    kube_api.reset_counts()
    rerun = k8s_playbook([task])
    assert rerun.rc == 0 and rerun.results[0]["changed"] is False, rerun
    assert kube_api.request_counts().writes() == 0


def test_check_mode_with_an_absent_namespace_reports_and_sends_nothing(kube_api, k8s_playbook):
    absent = "absent-%s" % uuid.uuid4().hex[:8]
    kube_api.reset_counts()
    run = k8s_playbook([secret_task(absent, name="kafka-kraft", component="test_comp", phase="phase3",
                                    state_namespace=absent)], check=True)
    counts = kube_api.request_counts()
    assert run.rc == 0, run
    result = run.results[0]
    assert result["changed"] is True and result["created"] is True and result["namespace_absent"] is True
    assert result["msg"] == "would create Secret %s/kafka-kraft (namespace absent)" % absent
    assert result["inventory"]["written"] is False
    assert counts.writes() == 0 and counts.dry_run_writes() == 0, counts


def test_check_mode_with_the_namespace_is_a_dry_run(kube_api, k8s_playbook, kube_namespace):
    kube_api.reset_counts()
    run = k8s_playbook([secret_task(kube_namespace, component="test_comp", phase="phase3",
                                    state_namespace=kube_namespace)], check=True)
    counts = kube_api.request_counts()
    assert run.rc == 0, run
    assert run.results[0]["changed"] is True and run.results[0]["namespace_absent"] is False
    assert counts.writes() == 0 and counts.dry_run_writes() == 1, counts
    assert _get(kube_api, "/api/v1/namespaces/%s/secrets/generated" % kube_namespace) is None


def test_invalid_keys_fail_naming_the_key(k8s_playbook, kube_namespace):
    run = k8s_playbook([secret_task(kube_namespace, keys={"p": {"template": "{missing}"}})])
    assert run.rc != 0
    assert "keys.p: template refers to {missing}" in run.results[0]["msg"]
