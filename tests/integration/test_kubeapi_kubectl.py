"""kubectl against the test server: typed create commands, scale, wait, label/annotate, delete, field validation
of built-in kinds, discovery listing."""
import json
import threading
import time

MERGE = "application/merge-patch+json"


def test_typed_create_commands(kube_api, kubectl):
    namespace = "typed-create"
    kubectl("create", "namespace", namespace)
    try:
        kubectl("create", "configmap", "cm", "-n", namespace, "--from-literal=a=1", "--from-literal=b=2")
        kubectl("create", "secret", "generic", "creds", "-n", namespace, "--from-literal=user=admin")
        kubectl("create", "serviceaccount", "robot", "-n", namespace)
        cm = json.loads(kubectl("get", "cm", "cm", "-n", namespace, "-o", "json").stdout)
        secret = json.loads(kubectl("get", "secret", "creds", "-n", namespace, "-o", "json").stdout)
        assert cm["data"] == {"a": "1", "b": "2"}
        assert secret["data"] == {"user": "YWRtaW4="} and secret["type"] == "Opaque"
        assert kubectl("get", "sa", "robot", "-n", namespace, "-o", "name").stdout.strip() == "serviceaccount/robot"
        _status, ns, _headers = kube_api.request("GET", f"/api/v1/namespaces/{namespace}")
        assert ns["status"]["phase"] == "Active"
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")


def test_scale_label_annotate_and_delete(kube_api, kube_namespace, kubectl):
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    kubectl("apply", "-n", kube_namespace, "-f", "-", input=json.dumps(deployment))
    kubectl("scale", "-n", kube_namespace, "deployment/web", "--replicas=4")
    _status, scale, _headers = kube_api.request("GET", f"/apis/apps/v1/namespaces/{kube_namespace}/deployments/web/scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4 and scale["status"]["selector"] == "app=web"
    kubectl("label", "-n", kube_namespace, "deployment/web", "tier=front")
    kubectl("annotate", "-n", kube_namespace, "deployment/web", "note=hello")
    live = json.loads(kubectl("get", "-n", kube_namespace, "deployment", "web", "-o", "json").stdout)
    assert live["spec"]["replicas"] == 4 and live["metadata"]["generation"] == 2
    assert live["metadata"]["labels"] == {"tier": "front"} and live["metadata"]["annotations"]["note"] == "hello"
    names = kubectl("get", "-n", kube_namespace, "deployments", "-l", "tier=front", "-o", "name").stdout.split()
    assert names == ["deployment.apps/web"]
    out = kubectl("delete", "-n", kube_namespace, "deployment", "web").stdout
    assert 'deployment.apps "web" deleted' in out
    missing = kubectl("get", "-n", kube_namespace, "deployment", "web", check=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): deployments.apps "web" not found' in missing.stderr


def test_scale_subresource_of_a_custom_resource(kube_api, kube_namespace, kubectl):
    kubectl("apply", "-n", kube_namespace, "-f", "-", input=json.dumps({
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"},
        "spec": {"instances": 1, "storage": {"size": "1Gi"}}}))
    kubectl("scale", "-n", kube_namespace, "clusters.postgresql.cnpg.io/pg", "--replicas=3")
    _status, live, _headers = kube_api.request("GET", f"/apis/postgresql.cnpg.io/v1/namespaces/{kube_namespace}/clusters/pg")
    assert live["spec"]["instances"] == 3


def test_kubectl_wait_for_a_condition_set_later(kube_api, kube_namespace, kubectl):
    kubectl("apply", "-n", kube_namespace, "-f", "-", input=json.dumps({
        "apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "rc"},
        "spec": {"headGroupSpec": {"template": {"spec": {"containers": [{"name": "h", "image": "ray"}]}}}}}))
    path = f"/apis/ray.io/v1/namespaces/{kube_namespace}/rayclusters/rc/status"

    def become_ready():
        time.sleep(1.5)
        kube_api.request("PATCH", path, {"status": {"state": "ready", "conditions": [{
            "type": "Ready", "status": "True", "reason": "AllPodsReady", "message": "",
            "lastTransitionTime": "2025-01-01T00:00:00Z"}]}}, MERGE)

    thread = threading.Thread(target=become_ready)
    thread.start()
    started = time.monotonic()
    out = kubectl("wait", "-n", kube_namespace, "raycluster/rc", "--for=condition=Ready", "--timeout=30s").stdout
    thread.join()
    assert "raycluster.ray.io/rc condition met" in out
    assert time.monotonic() - started >= 1.0


def test_builtin_unknown_fields_follow_field_validation(kube_api, kube_namespace, kubectl):
    manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typo"},
                           "dat": {"a": "b"}})
    strict = kubectl("apply", "-n", kube_namespace, "-f", "-", input=manifest, check=False)
    assert strict.returncode == 1
    assert ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
            'unknown field "dat"') in strict.stderr
    warned = kubectl("apply", "-n", kube_namespace, "--validate=warn", "-f", "-", input=manifest)
    assert 'Warning: unknown field "dat"' in warned.stderr
    _status, stored, _headers = kube_api.request("GET", f"/api/v1/namespaces/{kube_namespace}/configmaps/typo")
    assert "dat" not in stored


def test_delete_collection_by_label(kube_api, kube_namespace, kubectl):
    for name, app in (("a", "x"), ("b", "x"), ("c", "y")):
        kube_api.request("POST", f"/api/v1/namespaces/{kube_namespace}/configmaps",
                         {"metadata": {"name": name, "labels": {"app": app}}})
    status, _body, _headers = kube_api.request("DELETE", f"/api/v1/namespaces/{kube_namespace}/configmaps?labelSelector=app%3Dx")
    assert status == 200
    remaining = kubectl("get", "-n", kube_namespace, "configmaps", "-o", "name").stdout.split()
    assert remaining == ["configmap/c"]


def test_api_resources_lists_builtin_and_custom_types(kubectl):
    out = kubectl("api-resources", "-o", "name").stdout.split()
    for resource in ("pods", "deployments.apps", "customresourcedefinitions.apiextensions.k8s.io",
                     "rayclusters.ray.io", "dorisclusters.doris.selectdb.com", "cephobjectstoreusers.ceph.rook.io",
                     "clusters.postgresql.cnpg.io", "helmreleases.helm.toolkit.fluxcd.io",
                     "applications.argoproj.io", "leases.coordination.k8s.io", "storageclasses.storage.k8s.io"):
        assert resource in out
