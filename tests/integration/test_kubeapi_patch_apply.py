"""PATCH in all four content types, server-side apply and server-side dry run."""
import json

import yaml

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


def _deployment(name, image="nginx:1", replicas=1):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                         {"name": "app", "image": image, "env": [{"name": "A", "value": "1"}],
                          "ports": [{"containerPort": 80}]},
                         {"name": "sidecar", "image": "busybox"}]}}}}


def test_kubectl_patch_types_on_a_deployment(kube_api, kube_namespace, kubectl):
    kubectl("apply", "-n", kube_namespace, "-f", "-", input=json.dumps(_deployment("web")))
    kubectl("patch", "-n", kube_namespace, "deployment", "web", "--type", "strategic", "-p",
            json.dumps({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "env": [{"name": "B", "value": "2"}]}]}}}}))
    kubectl("patch", "-n", kube_namespace, "deployment", "web", "--type", "merge", "-p",
            json.dumps({"metadata": {"labels": {"tier": "front"}}}))
    kubectl("patch", "-n", kube_namespace, "deployment", "web", "--type", "json", "-p",
            json.dumps([{"op": "replace", "path": "/spec/replicas", "value": 4}]))
    live = json.loads(kubectl("get", "-n", kube_namespace, "deployment", "web", "-o", "json").stdout)
    containers = live["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["app", "sidecar"]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert live["metadata"]["labels"] == {"tier": "front"} and live["spec"]["replicas"] == 4
    assert live["metadata"]["generation"] == 3  # strategic + json patch changed the spec, merge did not
    failed = kubectl("patch", "-n", kube_namespace, "deployment", "web", "--type", "json", "-p",
                     json.dumps([{"op": "test", "path": "/spec/replicas", "value": 9}]), check=False)
    assert failed.returncode != 0


def test_strategic_merge_is_refused_for_custom_resources(kube_api, kube_namespace):
    path = f"/apis/ray.io/v1/namespaces/{kube_namespace}/rayclusters"
    kube_api.request("POST", path, {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "r"},
                                    "spec": {"headGroupSpec": {"template": {"spec": {"containers": [
                                        {"name": "h", "image": "ray"}]}}}}})
    status, body, _headers = kube_api.request("PATCH", path + "/r", {"spec": {"suspend": True}}, STRATEGIC)
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    assert "application/strategic-merge-patch+json" not in body["message"]
    status, body, _headers = kube_api.request("PATCH", path + "/r", {"spec": {"suspend": True}}, MERGE)
    assert status == 200 and body["spec"]["suspend"] is True
    status, body, _headers = kube_api.request("PATCH", path + "/r", [{"op": "remove", "path": "/spec/suspend"}], JSON_PATCH)
    assert status == 200 and "suspend" not in body["spec"]


def test_patch_with_stale_resource_version_conflicts(kube_api, kube_namespace):
    path = f"/api/v1/namespaces/{kube_namespace}/configmaps"
    _status, created, _headers = kube_api.request("POST", path, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    kube_api.request("PATCH", path + "/c", {"data": {"a": "2"}}, MERGE)
    status, body, _headers = kube_api.request("PATCH", path + "/c", {
        "metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}, "data": {"a": "3"}}, MERGE)
    assert status == 409 and body["reason"] == "Conflict"
    status, _body, _headers = kube_api.request("PATCH", path + "/ghost", {"data": {}}, MERGE)
    assert status == 404


def test_server_side_apply_creates_updates_and_forgets_fields(kube_api, kube_namespace):
    path = f"/api/v1/namespaces/{kube_namespace}/configmaps/ssa"
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "labels": {"a": "1"}},
              "data": {"x": "1", "y": "2"}}
    status, created, _headers = kube_api.request("PATCH", path + "?fieldManager=tool&force=true", yaml.safe_dump(config),
                                                 APPLY)
    assert status == 201 and created["data"] == {"x": "1", "y": "2"}
    entry = next(e for e in created["metadata"]["managedFields"] if e["manager"] == "tool")
    assert entry["operation"] == "Apply" and entry["fieldsV1"]["f:data"] == {"f:x": {}, "f:y": {}}
    # Another manager's field survives; the field "tool" stopped applying is removed.
    kube_api.request("PATCH", path + "?fieldManager=other", {"data": {"z": "3"}}, MERGE)
    config["data"] = {"x": "10"}
    status, updated, _headers = kube_api.request("PATCH", path + "?fieldManager=tool&force=true", yaml.safe_dump(config),
                                                 APPLY)
    assert status == 200 and updated["data"] == {"x": "10", "z": "3"}
    status, again, _headers = kube_api.request("PATCH", path + "?fieldManager=tool&force=true", yaml.safe_dump(config),
                                               APPLY)
    assert again["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]
    status, _body, _headers = kube_api.request("PATCH", path, yaml.safe_dump(config), APPLY)
    assert status == 400  # apply needs a fieldManager


def test_kubectl_server_side_apply(kube_api, kube_namespace, kubectl):
    manifest = json.dumps(_deployment("api"))
    out = kubectl("apply", "--server-side", "-n", kube_namespace, "-f", "-", input=manifest).stdout
    assert "serverside-applied" in out
    live = json.loads(kubectl("get", "-n", kube_namespace, "deploy", "api", "-o", "json",
                              "--show-managed-fields").stdout)
    assert any(e["manager"] == "kubectl" and e["operation"] == "Apply" for e in live["metadata"]["managedFields"])
    kubectl("apply", "--server-side", "-n", kube_namespace, "-f", "-",
            input=json.dumps(_deployment("api", image="nginx:2")))
    live = json.loads(kubectl("get", "-n", kube_namespace, "deploy", "api", "-o", "json").stdout)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    assert live["metadata"]["generation"] == 2


def test_dry_run_persists_nothing_and_emits_no_events(kube_api, kube_namespace):
    base = f"/api/v1/namespaces/{kube_namespace}/configmaps"
    _status, created, _headers = kube_api.request("POST", base, {"metadata": {"name": "keep"}, "data": {"a": "1"}})
    revision = created["metadata"]["resourceVersion"]
    status, would_be, _headers = kube_api.request("POST", base + "?dryRun=All",
                                                  {"metadata": {"name": "new"}, "data": {"a": "1"}})
    assert status == 201 and would_be["metadata"]["name"] == "new" and would_be["metadata"]["uid"]
    assert kube_api.request("GET", base + "/new")[0] == 404
    status, body, _headers = kube_api.request("POST", base + "?dryRun=All", {"metadata": {"name": "keep"}})
    assert status == 409  # dry run still validates against the live state
    _status, patched, _headers = kube_api.request("PATCH", base + "/keep?dryRun=All", {"data": {"a": "2"}}, MERGE)
    assert patched["data"] == {"a": "2"}
    current = kube_api.request("GET", base + "/keep")[1]
    _status, replaced, _headers = kube_api.request("PUT", base + "/keep?dryRun=All", dict(current, data={"a": "3"}))
    assert replaced["data"] == {"a": "3"}
    _status, applied, _headers = kube_api.request("PATCH", base + "/applied?dryRun=All&fieldManager=t",
                                                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\n", APPLY)
    assert applied["metadata"]["name"] == "applied"
    status, _body, _headers = kube_api.request("DELETE", base + "/keep?dryRun=All")
    assert status == 200
    status, live, _headers = kube_api.request("GET", base + "/keep")
    assert live["data"] == {"a": "1"} and live["metadata"]["resourceVersion"] == revision
    assert kube_api.request("GET", base + "/applied")[0] == 404
    # Nothing happened since `revision`: a watch from there delivers no event before its timeout.
    status, stream, _headers = kube_api.request("GET", base + f"?watch=true&resourceVersion={revision}&timeoutSeconds=1")
    assert status == 200 and stream == ""


def test_server_side_apply_conflicts_with_other_managers_unless_forced(kube_api, kube_namespace):
    base = f"/apis/apps/v1/namespaces/{kube_namespace}/deployments"
    kube_api.request("POST", base + "?fieldManager=kubectl-client-side-apply", _deployment("owned"))
    desired = _deployment("owned", replicas=3)
    status, body, _headers = kube_api.request("PATCH", base + "/owned?fieldManager=ansible", yaml.safe_dump(desired), APPLY)
    assert status == 409 and body["reason"] == "Conflict"
    assert body["message"] == ('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using '
                               "apps/v1: .spec.replicas")
    assert body["details"]["causes"] == [{"reason": "FieldManagerConflict", "field": ".spec.replicas",
                                          "message": 'conflict with "kubectl-client-side-apply" using apps/v1'}]
    status, forced, _headers = kube_api.request("PATCH", base + "/owned?fieldManager=ansible&force=true",
                                                yaml.safe_dump(desired), APPLY)
    assert status == 200 and forced["spec"]["replicas"] == 3
    owners = {e["manager"]: e["fieldsV1"]["f:spec"] for e in forced["metadata"]["managedFields"]}
    assert "f:replicas" in owners["ansible"] and "f:replicas" not in owners["kubectl-client-side-apply"]
    # An update by another manager takes the field over; the next apply without force conflicts with it.
    kube_api.request("PATCH", base + "/owned?fieldManager=autoscaler", {"spec": {"replicas": 5}}, MERGE)
    status, body, _headers = kube_api.request("PATCH", base + "/owned?fieldManager=ansible", yaml.safe_dump(desired), APPLY)
    assert status == 409 and '"autoscaler"' in body["message"]
    # Applying the live value again is no conflict (shared ownership).
    status, _body, _headers = kube_api.request("PATCH", base + "/owned?fieldManager=ansible", yaml.safe_dump(
        _deployment("owned", replicas=5)), APPLY)
    assert status == 200


def test_server_side_apply_removes_list_items_it_no_longer_applies(kube_api, kube_namespace):
    base = f"/apis/apps/v1/namespaces/{kube_namespace}/deployments/lists?fieldManager=role&force=true"
    desired = _deployment("lists")
    desired["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "B", "value": "2"})
    kube_api.request("PATCH", base, yaml.safe_dump(desired), APPLY)
    # Another manager adds its own env entry, which must survive the role's next apply.
    kube_api.request("PATCH", f"/apis/apps/v1/namespaces/{kube_namespace}/deployments/lists?fieldManager=other",
                     {"spec": {"template": {"spec": {"containers": [
                         {"name": "app", "env": [{"name": "C", "value": "3"}]}]}}}}, STRATEGIC)
    smaller = _deployment("lists")
    del smaller["spec"]["template"]["spec"]["containers"][1]  # the sidecar goes, env B goes
    status, live, _headers = kube_api.request("PATCH", base, yaml.safe_dump(smaller), APPLY)
    assert status == 200
    containers = live["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["app"]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]
