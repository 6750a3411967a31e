"""CustomResourceDefinitions: registration through the API, and admission of custom resources against the
real upstream CRDs (pruning, defaulting, 422 Invalid with kube-apiserver's message shape)."""
import glob
import json
import os

import pytest

from tests.integration.fixtures.kube import crd_dir

CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _widget_crd(scope="Namespaced"):
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.test"},
        "spec": {"group": "example.test", "scope": scope,
                 "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                 "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "properties": {
                                       "size": {"type": "integer", "default": 3}}}}}}}]},
    }


def test_crd_registers_a_type_and_deleting_it_removes_type_and_objects(kube_api, kube_namespace, kubectl):
    status, crd, _headers = kube_api.request("POST", CRD_PATH, _widget_crd())
    assert status == 201
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["acceptedNames"]["singular"] == "widget"
    assert crd["status"]["acceptedNames"]["listKind"] == "WidgetList"
    try:
        _status, resources, _headers = kube_api.request("GET", "/apis/example.test/v1")
        widget = next(r for r in resources["resources"] if r["name"] == "widgets")
        assert widget["kind"] == "Widget" and widget["shortNames"] == ["wd"] and widget["namespaced"]
        kubectl("apply", "-n", kube_namespace, "-f", "-", input=json.dumps(
            {"apiVersion": "example.test/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {}}))
        live = json.loads(kubectl("get", "-n", kube_namespace, "wd", "w1", "-o", "json").stdout)
        assert live["spec"] == {"size": 3}
    finally:
        kube_api.request("DELETE", CRD_PATH + "/widgets.example.test")
    status, _body, _headers = kube_api.request("GET", f"/apis/example.test/v1/namespaces/{kube_namespace}/widgets/w1")
    assert status == 404
    _status, groups, _headers = kube_api.request("GET", "/apis")
    assert "example.test" not in {g["name"] for g in groups["groups"]}
    # Recreating the CRD does not resurrect old objects.
    kube_api.request("POST", CRD_PATH, _widget_crd())
    try:
        _status, listing, _headers = kube_api.request("GET", "/apis/example.test/v1/widgets")
        assert listing["items"] == [] and listing["kind"] == "WidgetList"
    finally:
        kube_api.request("DELETE", CRD_PATH + "/widgets.example.test")


def test_invalid_crd_is_refused(kube_api):
    crd = _widget_crd()
    crd["metadata"]["name"] = "wrong.example.test"
    status, body, _headers = kube_api.request("POST", CRD_PATH, crd)
    assert status == 422 and body["details"]["causes"][0]["field"] == "metadata.name"


def test_cluster_scoped_custom_resources(kube_api):
    kube_api.request("POST", CRD_PATH, _widget_crd(scope="Cluster"))
    try:
        status, created, _headers = kube_api.request("POST", "/apis/example.test/v1/widgets",
                                                     {"apiVersion": "example.test/v1", "kind": "Widget",
                                                      "metadata": {"name": "global"}})
        assert status == 201 and "namespace" not in created["metadata"]
    finally:
        kube_api.request("DELETE", CRD_PATH + "/widgets.example.test")


def _post(kube_api, namespace, group, version, plural, body):
    return kube_api.request("POST", f"/apis/{group}/{version}/namespaces/{namespace}/{plural}", body)


def _doris(name, **fe):
    return {"apiVersion": "doris.selectdb.com/v1", "kind": "DorisCluster", "metadata": {"name": name},
            "spec": {"feSpec": dict({"image": "apache/doris:fe-2.1.7", "replicas": 1}, **fe),
                     "beSpec": {"image": "apache/doris:be-2.1.7", "replicas": 1}}}


def test_doris_wrong_type_is_422_with_the_real_message(kube_api, kube_namespace):
    status, body, _headers = _post(kube_api, kube_namespace, "doris.selectdb.com", "v1", "dorisclusters",
                                   _doris("doris", replicas="three"))
    assert status == 422
    assert body == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'DorisCluster.doris.selectdb.com "doris" is invalid: spec.feSpec.replicas: Invalid value: '
                   '"string": spec.feSpec.replicas in body must be of type integer: "string"',
        "reason": "Invalid",
        "details": {"name": "doris", "group": "doris.selectdb.com", "kind": "DorisCluster", "causes": [
            {"reason": "FieldValueTypeInvalid", "field": "spec.feSpec.replicas",
             "message": 'Invalid value: "string": spec.feSpec.replicas in body must be of type integer: "string"'}]},
        "code": 422}


def test_doris_missing_required_image(kube_api, kube_namespace):
    body = _doris("doris")
    del body["spec"]["beSpec"]["image"]
    status, error, _headers = _post(kube_api, kube_namespace, "doris.selectdb.com", "v1", "dorisclusters", body)
    assert status == 422
    assert error["details"]["causes"] == [{"reason": "FieldValueRequired", "field": "spec.beSpec.image",
                                           "message": "Required value"}]
    assert error["message"] == 'DorisCluster.doris.selectdb.com "doris" is invalid: spec.beSpec.image: Required value'


def test_ceph_object_store_user_enum(kube_api, kube_namespace):
    body = {"apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser", "metadata": {"name": "u"},
            "spec": {"store": "s3", "capabilities": {"bucket": "everything"}, "opMask": ["read", "fly"]}}
    status, error, _headers = _post(kube_api, kube_namespace, "ceph.rook.io", "v1", "cephobjectstoreusers", body)
    assert status == 422
    causes = {c["field"]: c for c in error["details"]["causes"]}
    assert causes["spec.capabilities.bucket"] == {
        "reason": "FieldValueNotSupported", "field": "spec.capabilities.bucket",
        "message": 'Unsupported value: "everything": supported values: "*", "read", "write", "read, write"'}
    assert causes["spec.opMask[1]"]["reason"] == "FieldValueNotSupported"
    assert error["message"].startswith('CephObjectStoreUser.ceph.rook.io "u" is invalid: [')


def test_raycluster_defaults_and_required_fields_in_both_served_versions(kube_api, kube_namespace):
    head = {"rayStartParams": {}, "template": {"spec": {"containers": [{"name": "h", "image": "ray"}]}}}
    worker = {"groupName": "w", "rayStartParams": {},
              "template": {"spec": {"containers": [{"name": "w", "image": "ray"}]}}}
    for version in ("v1", "v1alpha1"):
        body = {"apiVersion": f"ray.io/{version}", "kind": "RayCluster", "metadata": {"name": f"rc-{version}"},
                "spec": {"headGroupSpec": head, "workerGroupSpecs": [worker], "notAField": True}}
        status, created, headers = _post(kube_api, kube_namespace, "ray.io", version, "rayclusters", body)
        assert status == 201, created
        assert created["apiVersion"] == f"ray.io/{version}"
        assert "notAField" not in created["spec"]                       # pruned
        assert headers["Warning"] == '299 - "unknown field \\"spec.notAField\\""'
        assert created["spec"]["workerGroupSpecs"][0]["maxReplicas"] == 2147483647  # defaulted
    # Both versions are served from one storage, without conversion.
    _status, listing, _headers = kube_api.request("GET", f"/apis/ray.io/v1/namespaces/{kube_namespace}/rayclusters")
    assert sorted(i["metadata"]["name"] for i in listing["items"]) == ["rc-v1", "rc-v1alpha1"]
    assert {i["apiVersion"] for i in listing["items"]} == {"ray.io/v1"}
    missing = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "bad"},
               "spec": {"workerGroupSpecs": [{"template": {}}]}}
    status, error, _headers = _post(kube_api, kube_namespace, "ray.io", "v1", "rayclusters", missing)
    fields = {c["field"] for c in error["details"]["causes"]}
    assert status == 422 and {"spec.headGroupSpec", "spec.workerGroupSpecs[0].groupName"} <= fields


def test_cnpg_cluster_defaults_and_enum(kube_api, kube_namespace):
    body = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"},
            "spec": {"storage": {"size": "1Gi"}}}
    status, created, _headers = _post(kube_api, kube_namespace, "postgresql.cnpg.io", "v1", "clusters", body)
    assert status == 201
    assert created["spec"]["instances"] == 1 and created["spec"]["logLevel"] == "info"
    body["metadata"]["name"] = "pg2"
    body["spec"]["logLevel"] = "loud"
    status, error, _headers = _post(kube_api, kube_namespace, "postgresql.cnpg.io", "v1", "clusters", body)
    assert status == 422 and error["details"]["causes"][0] == {
        "reason": "FieldValueNotSupported", "field": "spec.logLevel",
        "message": 'Unsupported value: "loud": supported values: "error", "warning", "info", "debug", "trace"'}


def test_updates_are_validated_too(kube_api, kube_namespace):
    body = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"},
            "spec": {"instances": 2, "storage": {"size": "1Gi"}}}
    _post(kube_api, kube_namespace, "postgresql.cnpg.io", "v1", "clusters", body)
    path = f"/apis/postgresql.cnpg.io/v1/namespaces/{kube_namespace}/clusters/pg"
    status, error, _headers = kube_api.request("PATCH", path, {"spec": {"instances": "many"}},
                                               "application/merge-patch+json")
    assert status == 422 and error["details"]["causes"][0]["field"] == "spec.instances"
    _status, live, _headers = kube_api.request("GET", path)
    assert live["spec"]["instances"] == 2


@pytest.mark.parametrize("validate, refused", [("strict", True), ("false", False)])
def test_kubectl_field_validation(kube_api, kube_namespace, kubectl, validate, refused):
    manifest = json.dumps({"apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser",
                           "metadata": {"name": f"u-{validate}"}, "spec": {"store": "s3", "bogus": 1}})
    result = kubectl("apply", "-n", kube_namespace, f"--validate={validate}", "-f", "-", input=manifest, check=False)
    if refused:
        assert result.returncode != 0
        assert 'strict decoding error: unknown field "spec.bogus"' in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        live = json.loads(kubectl("get", "-n", kube_namespace, "cephobjectstoreuser", f"u-{validate}",
                                  "-o", "json").stdout)
        assert live["spec"] == {"store": "s3"}


def test_client_side_apply_of_a_big_crd_hits_the_annotation_limit(kube_api, kubectl):
    """Like a real cluster: the last-applied annotation of the RayCluster CRD is over 256 KiB, so client-side
    apply is refused and server-side apply works."""
    path = glob.glob(os.path.join(crd_dir(), "RayCluster.*.yaml"))[0]
    refused = kubectl("apply", "-f", path, check=False)
    assert refused.returncode == 1
    assert "metadata.annotations: Too long: may not be more than 262144 bytes" in refused.stderr
    assert "serverside-applied" in kubectl("apply", "--server-side", "--force-conflicts", "-f", path).stdout


def test_invalid_labels_are_refused(kube_api, kube_namespace):
    status, body, _headers = kube_api.request("POST", f"/api/v1/namespaces/{kube_namespace}/configmaps", {
        "metadata": {"name": "bad-label", "labels": {"app": "not ok!"}}})
    assert status == 422 and body["details"]["causes"][0]["field"] == "metadata.labels"
    assert body["message"].startswith('ConfigMap "bad-label" is invalid: metadata.labels: Invalid value: "not ok!"')
