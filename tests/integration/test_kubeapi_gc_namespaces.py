"""Garbage collection through ownerReferences, finalizers, and namespace deletion."""
import json

MERGE = "application/merge-patch+json"


def _create(kube_api, namespace, name, owners=(), finalizers=None, kind="configmaps"):
    metadata = {"name": name}
    if owners:
        metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"],
                                        "uid": o["metadata"]["uid"]} for o in owners]
    if finalizers:
        metadata["finalizers"] = finalizers
    status, obj, _headers = kube_api.request("POST", f"/api/v1/namespaces/{namespace}/{kind}", {"metadata": metadata})
    assert status == 201, obj
    return obj


def _exists(kube_api, namespace, name):
    return kube_api.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}")[0] == 200


def test_deleting_an_owner_cascades_to_dependents(kube_api, kube_namespace):
    owner = _create(kube_api, kube_namespace, "owner")
    child = _create(kube_api, kube_namespace, "child", [owner])
    _create(kube_api, kube_namespace, "grandchild", [child])
    _create(kube_api, kube_namespace, "unrelated")
    status, _body, _headers = kube_api.request("DELETE", f"/api/v1/namespaces/{kube_namespace}/configmaps/owner")
    assert status == 200
    assert not _exists(kube_api, kube_namespace, "child")
    assert not _exists(kube_api, kube_namespace, "grandchild")
    assert _exists(kube_api, kube_namespace, "unrelated")


def test_orphan_propagation_keeps_dependents_without_the_reference(kube_api, kube_namespace):
    owner = _create(kube_api, kube_namespace, "owner")
    _create(kube_api, kube_namespace, "child", [owner])
    kube_api.request("DELETE", f"/api/v1/namespaces/{kube_namespace}/configmaps/owner",
                     {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"})
    _status, child, _headers = kube_api.request("GET", f"/api/v1/namespaces/{kube_namespace}/configmaps/child")
    assert "ownerReferences" not in child["metadata"]


def test_dependent_with_a_surviving_owner_is_kept(kube_api, kube_namespace):
    first, second = _create(kube_api, kube_namespace, "first"), _create(kube_api, kube_namespace, "second")
    _create(kube_api, kube_namespace, "shared", [first, second])
    kube_api.request("DELETE", f"/api/v1/namespaces/{kube_namespace}/configmaps/first")
    _status, shared, _headers = kube_api.request("GET", f"/api/v1/namespaces/{kube_namespace}/configmaps/shared")
    assert [r["name"] for r in shared["metadata"]["ownerReferences"]] == ["second"]
    kube_api.request("DELETE", f"/api/v1/namespaces/{kube_namespace}/configmaps/second")
    assert not _exists(kube_api, kube_namespace, "shared")


def test_custom_resource_owner_collects_builtin_dependents(kube_api, kube_namespace, kubectl):
    ray = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "rc"},
           "spec": {"headGroupSpec": {"template": {"spec": {"containers": [{"name": "h", "image": "ray"}]}}}}}
    _status, cluster, _headers = kube_api.request("POST", f"/apis/ray.io/v1/namespaces/{kube_namespace}/rayclusters", ray)
    pod = {"metadata": {"name": "rc-head", "ownerReferences": [
        {"apiVersion": "ray.io/v1", "kind": "RayCluster", "name": "rc", "uid": cluster["metadata"]["uid"],
         "controller": True}]}, "spec": {"containers": [{"name": "h", "image": "ray"}]}}
    kube_api.request("POST", f"/api/v1/namespaces/{kube_namespace}/pods", pod)
    kubectl("delete", "-n", kube_namespace, "raycluster", "rc")
    assert kube_api.request("GET", f"/api/v1/namespaces/{kube_namespace}/pods/rc-head")[0] == 404


def test_finalizers_hold_deletion_until_removed(kube_api, kube_namespace):
    owner = _create(kube_api, kube_namespace, "guarded", finalizers=["example.test/cleanup"])
    _create(kube_api, kube_namespace, "dependent", [owner])
    path = f"/api/v1/namespaces/{kube_namespace}/configmaps/guarded"
    status, deleting, _headers = kube_api.request("DELETE", path)
    assert status == 200 and deleting["metadata"]["deletionTimestamp"]
    _status, live, _headers = kube_api.request("GET", path)
    assert live["metadata"]["deletionTimestamp"] and live["metadata"]["finalizers"] == ["example.test/cleanup"]
    assert _exists(kube_api, kube_namespace, "dependent")
    status, _body, _headers = kube_api.request("PATCH", path, {"metadata": {"finalizers": None}}, MERGE)
    assert status == 200
    assert kube_api.request("GET", path)[0] == 404
    assert not _exists(kube_api, kube_namespace, "dependent")


def test_namespace_deletion_removes_its_contents(kube_api, kubectl):
    kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": "doomed"}}))
    _create(kube_api, "doomed", "cm")
    _create(kube_api, "doomed", "held", finalizers=["example.test/hold"])
    kube_api.request("POST", "/apis/ray.io/v1/namespaces/doomed/rayclusters", {
        "apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "rc"},
        "spec": {"headGroupSpec": {"template": {"spec": {"containers": [{"name": "h", "image": "ray"}]}}}}})
    status, namespace, _headers = kube_api.request("DELETE", "/api/v1/namespaces/doomed")
    assert status == 200 and namespace["status"]["phase"] == "Terminating"
    assert not _exists(kube_api, "doomed", "cm")
    assert kube_api.request("GET", "/apis/ray.io/v1/namespaces/doomed/rayclusters/rc")[0] == 404
    status, refused, _headers = kube_api.request("POST", "/api/v1/namespaces/doomed/configmaps", {"metadata": {"name": "x"}})
    assert status == 403 and refused["reason"] == "Forbidden"
    # The finalizer holds the namespace until it is removed; then everything is gone.
    assert kube_api.request("GET", "/api/v1/namespaces/doomed")[0] == 200
    kube_api.request("PATCH", "/api/v1/namespaces/doomed/configmaps/held", {"metadata": {"finalizers": []}}, MERGE)
    assert kube_api.request("GET", "/api/v1/namespaces/doomed")[0] == 404
    assert kubectl("get", "namespace", "doomed", check=False).returncode != 0
