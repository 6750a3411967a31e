"""lakehouse.platform.k8s_apply (module + action plugin) against the Kubernetes API test server.

One task applies a component's objects: created/updated/unchanged per object, the inventory of created
objects, zero writes on a no-op rerun, check mode on a fresh cluster, and the manifests_changes fact.
The last tests pin what the test server answers to a server-side apply the way kube-apiserver does.
"""
import json
import time
import uuid

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import kube
from ansible_collections.lakehouse.platform.plugins.modules import k8s_apply
from tests.integration.kube_status import kube_client, patch_status

APPLY = "application/apply-patch+yaml"
MANAGER = "lakehouse.platform"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def state_namespace(kube_api):
    """A name for the inventory's namespace, absent at first (the module creates it); deleted after."""
    name = unique("st")
    yield name
    kube_api.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def fresh_namespace(kube_api):
    """A namespace name that does not exist yet (the objects under test create it); deleted after."""
    name = unique("app")
    yield name
    kube_api.request("DELETE", f"/api/v1/namespaces/{name}")


def configmap(namespace, name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": data or {"mode": "lakehouse"}}


def raycluster(namespace, name="ray", workers=1):
    return {
        "apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "rayVersion": "2.40.0",
            "headGroupSpec": {"rayStartParams": {}, "template": {"spec": {"containers": [
                {"name": "ray-head", "image": "rayproject/ray:2.40.0"}]}}},
            "workerGroupSpecs": [{"groupName": "cpu", "replicas": workers, "minReplicas": 0, "maxReplicas": 4,
                                  "rayStartParams": {}, "template": {"spec": {"containers": [
                                      {"name": "ray-worker", "image": "rayproject/ray:2.40.0"}]}}}],
        },
    }


def service(namespace, name="web"):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


def apply_task(component, objects, state_namespace, register="applied", **options):
    args = dict(component=component, phase="phase1", objects=objects, state_namespace=state_namespace)
    args.update(options)
    return {"name": f"apply {component}", "lakehouse.platform.k8s_apply": args, "register": register}


def ref(obj):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "namespace": obj["metadata"].get("namespace", ""),
            "name": obj["metadata"]["name"]}


def inventory(kube_api, state_namespace, component):
    name = "lakehouse-platform-inventory-" + component.replace("_", "-")
    status, body, _headers = kube_api.request("GET", f"/api/v1/namespaces/{state_namespace}/configmaps/{name}")
    if status == 404:
        return None
    assert status == 200, body
    return body


def actions(result):
    return [(r["kind"], r["name"], r["action"]) for r in result["results"]]


def test_first_apply_creates_all_in_one_task_and_a_rerun_writes_nothing(kube_api, k8s_playbook, fresh_namespace,
                                                                        state_namespace):
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": fresh_namespace}},
               configmap(fresh_namespace, "settings"), service(fresh_namespace), raycluster(fresh_namespace)]
    kube_api.reset_counts()
    run = k8s_playbook([apply_task("hive_metastore", objects, state_namespace)])
    assert run.rc == 0, run
    [result] = run.results
    assert result["changed"] is True
    assert [a for _k, _n, a in actions(result)] == ["created"] * 4
    assert result["created"] == [ref(o) for o in objects] and result["updated"] == [] and result["unchanged"] == []
    assert result["inventory"] == {"name": "lakehouse-platform-inventory-hive-metastore", "namespace": state_namespace,
                                   "written": True}
    counts = kube_api.request_counts()
    # 4 applies + namespace of the inventory + the inventory: nothing per object beyond its apply
    assert counts.count("patch", dry_run=False) == 6 and counts.writes() == 6

    cm = inventory(kube_api, state_namespace, "hive_metastore")
    assert json.loads(cm["data"]["objects"]) == [ref(o) for o in objects]
    assert json.loads(cm["data"]["helm_releases"]) == []
    assert cm["metadata"]["labels"] == {"app.kubernetes.io/part-of": "lakehouse.platform",
                                        "lakehouse.platform/state": "inventory",
                                        "lakehouse.platform/inventory-of": "hive_metastore"}
    assert cm["metadata"]["annotations"] == {"lakehouse.platform/phase": "phase1"}
    _status, state_ns, _headers = kube_api.request("GET", f"/api/v1/namespaces/{state_namespace}")
    assert state_ns["metadata"]["labels"]["app.kubernetes.io/part-of"] == "lakehouse.platform"
    _status, live, _headers = kube_api.request("GET", f"/apis/ray.io/v1/namespaces/{fresh_namespace}/rayclusters/ray")
    assert live["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "lakehouse.platform",
                                          "lakehouse.platform/component": "hive_metastore",
                                          "lakehouse.platform/phase": "phase1"}

    kube_api.reset_counts()
    again = k8s_playbook([apply_task("hive_metastore", objects, state_namespace)])
    assert again.rc == 0, again
    [result] = again.results
    assert result["changed"] is False and result["created"] == [] and result["updated"] == []
    assert [a for _k, _n, a in actions(result)] == ["unchanged"] * 4
    assert result["inventory"]["written"] is False
    counts = kube_api.request_counts()
    assert counts.writes() == 0 and counts.dry_run_writes() == 0, counts


def test_changed_field_updates_only_that_object_and_pre_existing_objects_are_not_recorded(
        kube_api, k8s_playbook, kube_namespace, state_namespace):
    client = kube_client(kube_api)
    client.create(configmap(kube_namespace, "pre", mode="kept"))  # created outside the platform
    objects = [configmap(kube_namespace, "pre", mode="kept"), configmap(kube_namespace, "a"),
               configmap(kube_namespace, "b", mode="one")]
    first = k8s_playbook([apply_task("ray", objects, state_namespace)])
    assert first.rc == 0, first
    [result] = first.results
    # pre exists: adopted (our labels added, our field manager now owns its fields) but never recorded
    assert actions(result) == [("ConfigMap", "pre", "updated"), ("ConfigMap", "a", "created"),
                               ("ConfigMap", "b", "created")]
    recorded = json.loads(inventory(kube_api, state_namespace, "ray")["data"]["objects"])
    assert recorded == [ref(objects[1]), ref(objects[2])]

    objects[2]["data"]["mode"] = "two"
    kube_api.reset_counts()
    second = k8s_playbook([apply_task("ray", objects, state_namespace)], diff=True)
    assert second.rc == 0, second
    [result] = second.results
    assert actions(result) == [("ConfigMap", "pre", "unchanged"), ("ConfigMap", "a", "unchanged"),
                               ("ConfigMap", "b", "updated")]
    assert result["changed"] is True and result["updated"] == [ref(objects[2])] and result["created"] == []
    assert result["inventory"]["written"] is False
    assert kube_api.request_counts().writes() == 1  # the one apply; the inventory has nothing new
    [diff] = result["diff"]
    assert diff["before"]["data"] == {"mode": "one"} and diff["after"]["data"] == {"mode": "two"}
    assert "managedFields" not in diff["after"]["metadata"]
    assert json.loads(inventory(kube_api, state_namespace, "ray")["data"]["objects"]) == recorded


def test_status_written_by_an_operator_between_runs_is_unchanged(kube_api, k8s_playbook, kube_namespace,
                                                                 state_namespace):
    objects = [raycluster(kube_namespace)]
    first = k8s_playbook([apply_task("ray", objects, state_namespace)])
    assert first.rc == 0, first
    patch_status(kube_api, "ray.io/v1", "RayCluster", kube_namespace, "ray",
                 {"state": "ready", "readyWorkerReplicas": 1, "desiredWorkerReplicas": 1})
    kube_api.reset_counts()
    second = k8s_playbook([apply_task("ray", objects, state_namespace)])
    assert second.rc == 0, second
    [result] = second.results
    assert result["changed"] is False and actions(result) == [("RayCluster", "ray", "unchanged")]
    assert kube_api.request_counts().writes() == 0


def test_status_written_between_get_and_patch_is_unchanged(kube_api, kube_namespace, monkeypatch):
    """The apply is sent (no-op detection off) and the operator writes status just before it arrives: the
    answer has a new resourceVersion and status, and still nothing the apply owns changed."""
    client = kube_client(kube_api)
    params = dict(component="ray", phase="phase3", field_manager=MANAGER, force_conflicts=True,
                  state_namespace="unused", record=False, extra_created=[], helm_releases=[],
                  objects=[raycluster(kube_namespace)])

    def run():
        objects, extra, releases = k8s_apply.prepare(params)
        apply = k8s_apply.ComponentApply(client, params, False, False, objects, extra, releases)
        apply.run()
        return apply.result()

    assert actions(run()) == [("RayCluster", "ray", "created")]
    monkeypatch.setattr(k8s_apply, "apply_in_sync", lambda live, manifest, manager: False)
    real_apply = client.apply
    sent = []

    def operator_then_apply(definition, **kwargs):
        patch_status(kube_api, "ray.io/v1", "RayCluster", kube_namespace, "ray", {"state": "ready"})
        answer = real_apply(definition, **kwargs)
        sent.append(answer)
        return answer

    monkeypatch.setattr(client, "apply", operator_then_apply)
    result = run()
    assert actions(result) == [("RayCluster", "ray", "unchanged")] and result["changed"] is False
    assert sent and sent[0]["status"] == {"state": "ready"}
    assert sent[0]["metadata"]["generation"] == 1


def test_check_mode_on_a_fresh_cluster_skips_what_it_cannot_dry_run(kube_api, k8s_playbook, kube_namespace,
                                                                    fresh_namespace, state_namespace):
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": fresh_namespace}},
               configmap(fresh_namespace, "settings"), raycluster(fresh_namespace),
               configmap(kube_namespace, "here"),
               {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": kube_namespace},
                "spec": {}}]
    kube_api.reset_counts()
    run = k8s_playbook([apply_task("ray", objects, state_namespace)], check=True)
    assert run.rc == 0, run
    [result] = run.results
    assert actions(result) == [("Namespace", fresh_namespace, "created"), ("ConfigMap", "settings", "skipped"),
                               ("RayCluster", "ray", "skipped"), ("ConfigMap", "here", "created"),
                               ("Widget", "w", "skipped")]
    assert all(r["check_mode"] for r in result["results"])
    reasons = [r.get("reason") for r in result["results"]]
    assert reasons[1] == reasons[2] == f"namespace {fresh_namespace} does not exist yet (a real run creates it first)"
    assert "not served yet" in reasons[4]
    assert result["absent_namespaces"] == [fresh_namespace]
    assert result["skipped_objects"] == [ref(objects[1]), ref(objects[2]), ref(objects[4])]
    assert result["changed"] is True and result["inventory"]["written"] is False
    assert "skipped" not in result  # the task itself ran
    counts = kube_api.request_counts()
    assert counts.writes() == 0 and counts.dry_run_writes() == 2, counts
    assert counts.count("get", resource="namespaces") >= 2  # each distinct namespace looked up
    assert kube_api.request("GET", f"/api/v1/namespaces/{fresh_namespace}")[0] == 404
    assert inventory(kube_api, state_namespace, "ray") is None


def test_unknown_kind_fails_naming_the_object_and_records_what_was_created(kube_api, k8s_playbook, kube_namespace,
                                                                           state_namespace):
    objects = [configmap(kube_namespace, "first"),
               {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": kube_namespace}}]
    run = k8s_playbook([apply_task("doris", objects, state_namespace)])
    assert run.rc != 0
    [result] = run.results
    assert result["failed"] is True
    assert "Component doris" in result["msg"] and f"Widget/{kube_namespace}/w" in result["msg"]
    assert "not served" in result["msg"]
    assert actions(result) == [("ConfigMap", "first", "created"), ("Widget", "w", "failed")]
    assert json.loads(inventory(kube_api, state_namespace, "doris")["data"]["objects"]) == [ref(objects[0])]


def test_api_error_fails_with_the_servers_message(kube_api, k8s_playbook, kube_namespace, state_namespace):
    bad = raycluster(kube_namespace)
    bad["spec"]["workerGroupSpecs"][0]["replicas"] = "many"  # the CRD schema wants an integer
    run = k8s_playbook([apply_task("ray", [bad], state_namespace)])
    assert run.rc != 0
    [result] = run.results
    assert f"RayCluster/{kube_namespace}/ray" in result["msg"] and "replicas" in result["msg"], result["msg"]
    assert actions(result) == [("RayCluster", "ray", "failed")]
    assert inventory(kube_api, state_namespace, "ray") is None  # nothing was created


def test_extra_created_and_helm_releases_are_recorded_once(kube_api, k8s_playbook, kube_namespace, state_namespace):
    secret_ref = {"apiVersion": "v1", "kind": "Secret", "namespace": kube_namespace, "name": "db"}
    release = {"name": "mlflow", "namespace": kube_namespace}
    task = apply_task("mlflow", [configmap(kube_namespace, "a")], state_namespace, extra_created=[secret_ref],
                      helm_releases=[release])
    first = k8s_playbook([task])
    assert first.rc == 0, first
    cm = inventory(kube_api, state_namespace, "mlflow")
    assert json.loads(cm["data"]["objects"]) == [ref(configmap(kube_namespace, "a")), secret_ref]
    assert json.loads(cm["data"]["helm_releases"]) == [release]
    kube_api.reset_counts()
    again = k8s_playbook([task])
    assert again.rc == 0, again
    assert again.results[0]["changed"] is False and kube_api.request_counts().writes() == 0


def test_action_plugin_accumulates_manifests_changes(kube_api, k8s_playbook, kube_namespace, state_namespace):
    earlier = {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "x", "name": "old", "component": "base",
               "action": "created"}
    kube_client(kube_api).create(configmap(kube_namespace, "pre"))
    first = apply_task("kafka", [configmap(kube_namespace, "k1"), configmap(kube_namespace, "pre")], state_namespace)
    # The previous value comes from the task's variables. (Given by set_fact instead, it would also shadow the
    # fact the plugin returns: Ansible ranks set_fact above facts.)
    first["vars"] = {"manifests_changes": [earlier]}
    run = k8s_playbook([
        first,
        apply_task("neo4j", [configmap(kube_namespace, "n1")], state_namespace),
        apply_task("neo4j", [configmap(kube_namespace, "n1")], state_namespace),  # unchanged: adds nothing
        {"ansible.builtin.debug": {"var": "manifests_changes"}},
    ])
    assert run.rc == 0, run
    changes = run.results[-1]["manifests_changes"]
    assert changes == [
        earlier,
        dict(ref(configmap(kube_namespace, "k1")), component="kafka", action="created"),
        dict(ref(configmap(kube_namespace, "pre")), component="kafka", action="updated"),
        dict(ref(configmap(kube_namespace, "n1")), component="neo4j", action="created"),
    ]


# -- the test server answers a server-side apply as kube-apiserver does --------------------------------
def _apply(kube_api, path, body, manager=MANAGER):
    status, answer, _headers = kube_api.request("PATCH", f"{path}?fieldManager={manager}&force=true", body, APPLY)
    assert status in (200, 201), answer
    return answer


def _entry(obj, manager=MANAGER):
    return next(e for e in obj["metadata"]["managedFields"] if e["manager"] == manager and not e.get("subresource"))


def test_server_no_op_apply_of_a_cr_with_status_stores_nothing(kube_api, kube_namespace):
    path = f"/apis/ray.io/v1/namespaces/{kube_namespace}/rayclusters/ray"
    created = _apply(kube_api, path, raycluster(kube_namespace))
    patch_status(kube_api, "ray.io/v1", "RayCluster", kube_namespace, "ray", {"state": "ready"})
    _status, live, _headers = kube_api.request("GET", path)
    kube_api.reset_counts()
    again = _apply(kube_api, path, raycluster(kube_namespace))
    assert again["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    assert again["metadata"]["managedFields"] == live["metadata"]["managedFields"]
    assert again["metadata"]["generation"] == created["metadata"]["generation"] == 1
    assert again["status"] == {"state": "ready"}
    status_entry = next(e for e in live["metadata"]["managedFields"] if e.get("subresource") == "status")
    assert status_entry["fieldsV1"] == {"f:status": {"f:state": {}}} and "f:status" not in _entry(live)["fieldsV1"]


def test_server_renews_the_entry_time_when_an_apply_changes_a_value(kube_api, kube_namespace):
    path = f"/api/v1/namespaces/{kube_namespace}/configmaps/timed"
    first = _apply(kube_api, path, configmap(kube_namespace, "timed", mode="one"))
    time.sleep(1.1)  # managedFields times have second resolution
    same = _apply(kube_api, path, configmap(kube_namespace, "timed", mode="one"))
    assert _entry(same)["time"] == _entry(first)["time"]  # a no-op keeps the time (and the resourceVersion)
    assert same["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    changed = _apply(kube_api, path, configmap(kube_namespace, "timed", mode="two"))
    assert _entry(changed)["fieldsV1"] == _entry(first)["fieldsV1"]
    assert _entry(changed)["time"] > _entry(first)["time"]  # kube-apiserver stamps a write that changed the object
    assert changed["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"]


def test_kube_apply_helper_dry_run_stores_nothing(kube_api, kube_namespace):
    client = kube_client(kube_api)
    kube_api.reset_counts()
    answer = client.apply(configmap(kube_namespace, "dry"), dry_run=True)
    assert answer["metadata"]["name"] == "dry" and answer["data"] == {"mode": "lakehouse"}
    assert client.get("v1", "ConfigMap", "dry", kube_namespace) is None
    counts = kube_api.request_counts()
    assert counts.writes() == 0 and counts.dry_run_writes() == 1
    with pytest.raises(kube.KubeError) as err:
        client.apply(configmap("no-such-namespace-x", "c"))
    assert err.value.status == 404 and "ConfigMap no-such-namespace-x/c" in str(err.value)
