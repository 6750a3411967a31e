"""JSON patch (RFC 6902), merge patch (RFC 7386) and strategic merge patch semantics."""
import pytest

from tests.kubeapi.errors import ApiError
from tests.kubeapi.patch import json_patch, merge_patch, strategic_merge


def test_json_patch_operations():
    doc = {"a": {"b": 1}, "list": [1, 2, 3], "x~y": 1, "s/t": 2}
    patched = json_patch(doc, [
        {"op": "add", "path": "/a/c", "value": 2},
        {"op": "replace", "path": "/a/b", "value": 5},
        {"op": "remove", "path": "/list/0"},
        {"op": "add", "path": "/list/-", "value": 4},
        {"op": "add", "path": "/list/0", "value": 0},
        {"op": "move", "from": "/x~0y", "path": "/moved"},
        {"op": "copy", "from": "/s~1t", "path": "/copied"},
        {"op": "test", "path": "/a/b", "value": 5},
    ])
    assert patched == {"a": {"b": 5, "c": 2}, "list": [0, 2, 3, 4], "moved": 1, "s/t": 2, "copied": 2}
    assert doc["a"] == {"b": 1}  # input untouched


@pytest.mark.parametrize("operation", [
    {"op": "test", "path": "/a", "value": 2},
    {"op": "remove", "path": "/missing"},
    {"op": "replace", "path": "/missing/deeper", "value": 1},
    {"op": "add", "path": "/list/9", "value": 1},
])
def test_json_patch_failures_are_refused(operation):
    with pytest.raises(ApiError) as caught:
        json_patch({"a": 1, "list": []}, [operation])
    assert caught.value.code in (400, 422)


def test_merge_patch_rfc7386():
    original = {"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "list": [3], "new": {"x": 1}}
    assert merge_patch(original, patch) == {"a": "z", "c": {"d": "e"}, "list": [3], "new": {"x": 1}}


def _pod(*containers, **spec):
    return {"spec": dict({"containers": list(containers)}, **spec)}


def test_strategic_merge_containers_by_name_and_env_by_name():
    original = _pod({"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "side", "image": "s:1"})
    patch = _pod({"name": "app", "image": "a:2", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]})
    merged = strategic_merge(original, patch)
    app, side = merged["spec"]["containers"]
    assert app["image"] == "a:2" and side == {"name": "side", "image": "s:1"}
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]


def test_strategic_merge_ports_volume_mounts_and_volumes():
    original = {"spec": {"volumes": [{"name": "v1", "emptyDir": {}}],
                         "containers": [{"name": "c", "ports": [{"containerPort": 80, "name": "http"}],
                                         "volumeMounts": [{"name": "v1", "mountPath": "/a"}]}]}}
    patch = {"spec": {"volumes": [{"name": "v2", "emptyDir": {}}],
                      "containers": [{"name": "c", "ports": [{"containerPort": 80, "protocol": "TCP"},
                                                             {"containerPort": 443}],
                                      "volumeMounts": [{"name": "v2", "mountPath": "/b"}]}]}}
    merged = strategic_merge(original, patch)
    container = merged["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 443}]
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/a", "/b"]
    assert [v["name"] for v in merged["spec"]["volumes"]] == ["v1", "v2"]


def test_strategic_merge_service_ports_merge_by_port():
    original = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 81}]}}
    merged = strategic_merge(original, {"spec": {"ports": [{"port": 81, "targetPort": 8081}]}})
    assert merged["spec"]["ports"] == [{"port": 80, "name": "http"}, {"port": 81, "targetPort": 8081}]


def test_strategic_merge_directives():
    original = {"spec": {"containers": [{"name": "a"}, {"name": "b"}], "template": {"x": 1, "y": 2}},
                "metadata": {"finalizers": ["f1", "f2"]}}
    merged = strategic_merge(original, {
        "spec": {"containers": [{"name": "a", "$patch": "delete"}],
                 "template": {"$patch": "replace", "z": 3}},
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]},
    })
    assert merged["spec"]["containers"] == [{"name": "b"}]
    assert merged["spec"]["template"] == {"z": 3}
    assert merged["metadata"]["finalizers"] == ["f2"]
    replaced = strategic_merge(original, {"spec": {"containers": [{"$patch": "replace"}, {"name": "c"}]}})
    assert replaced["spec"]["containers"] == [{"name": "c"}]
    deleted_map = strategic_merge(original, {"spec": {"template": {"$patch": "delete"}}})
    assert "template" not in deleted_map["spec"]


def test_strategic_merge_owner_references_conditions_and_finalizers():
    original = {"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}], "finalizers": ["x"]},
                "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Synced", "status": "True"}]}}
    merged = strategic_merge(original, {
        "metadata": {"ownerReferences": [{"uid": "2", "name": "b"}], "finalizers": ["y", "x"]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    })
    assert [r["uid"] for r in merged["metadata"]["ownerReferences"]] == ["1", "2"]
    assert merged["metadata"]["finalizers"] == ["x", "y"]
    assert merged["status"]["conditions"] == [{"type": "Ready", "status": "True"},
                                              {"type": "Synced", "status": "True"}]


def test_strategic_merge_plain_maps_lists_and_nulls():
    original = {"data": {"a": "1", "b": "2"}, "spec": {"args": ["x", "y"], "tolerations": [{"key": "k"}]}}
    merged = strategic_merge(original, {"data": {"b": None, "c": "3"}, "spec": {"args": ["z"],
                                                                                "tolerations": []}})
    assert merged == {"data": {"a": "1", "c": "3"}, "spec": {"args": ["z"], "tolerations": []}}


def test_strategic_merge_ignores_set_element_order_and_honors_retain_keys():
    original = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    merged = strategic_merge(original, {
        "$setElementOrder/containers": [{"name": "a"}],
        "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert merged == {"spec": {"strategy": {"type": "Recreate"}}}
