"""The test API server's RBAC for token users (tests/kubeapi/rbac.py): request attributes, rule matching, bindings,
the 401/403 Status shapes of kube-apiserver, the token controller, and the admin staying unrestricted."""
import base64
import json
import time
import urllib.error
import urllib.request

import pytest

from tests.kubeapi import KubeAPIServer
from tests.kubeapi.rbac import request_attributes, rule_allows

SA = "system:serviceaccount:team:deployer"


@pytest.fixture(scope="module")
def server():
    srv = KubeAPIServer(namespaces=("default", "kube-system", "team", "other")).start()
    try:
        yield srv
    finally:
        srv.stop()


def call(server, method, path, body=None, token=None, content_type="application/json"):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def admin(server, method, path, body=None):
    status, answer = call(server, method, path, body)
    assert status in (200, 201), answer
    return answer


def rbac_object(kind, name, namespace=None, **fields):
    plural = kind.lower() + "s"
    metadata = {"name": name}
    prefix = "/apis/rbac.authorization.k8s.io/v1"
    path = f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"
    if namespace:
        metadata["namespace"] = namespace
    return path, dict({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata}, **fields)


def grant(server, name, rules, namespace=None, sa=("team", "deployer")):
    kind = "Role" if namespace else "ClusterRole"
    path, body = rbac_object(kind, name, namespace, rules=rules)
    admin(server, "POST", path, body)
    path, body = rbac_object(kind + "Binding", name, namespace, roleRef={
        "apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
        subjects=[{"kind": "ServiceAccount", "name": sa[1], "namespace": sa[0]}])
    admin(server, "POST", path, body)


def test_request_attributes_follow_request_info():
    a = request_attributes("GET", "/apis/apps/v1/namespaces/team/deployments/web", {})
    assert (a.verb, a.group, a.resource, a.namespace, a.name) == ("get", "apps", "deployments", "team", "web")
    assert request_attributes("GET", "/api/v1/namespaces/team/pods", {"watch": ["true"]}).verb == "watch"
    assert request_attributes("GET", "/api/v1/watch/namespaces/team/pods", {}).verb == "watch"
    listed = request_attributes("GET", "/api/v1/namespaces/team/secrets", {"fieldSelector": ["metadata.name=s"]})
    assert (listed.verb, listed.name) == ("list", "s")
    ns = request_attributes("GET", "/api/v1/namespaces/team", {})
    assert (ns.resource, ns.name, ns.namespace) == ("namespaces", "team", "team")
    status = request_attributes("PUT", "/api/v1/namespaces/team/status", {})
    assert (status.verb, status.resource, status.subresource) == ("update", "namespaces", "status")
    proxy = request_attributes("GET", "/api/v1/namespaces/team/services/web:80/proxy/healthz", {})
    assert (proxy.resource, proxy.name, proxy.subresource) == ("services", "web:80", "proxy")
    assert request_attributes("POST", "/api/v1/namespaces/team/pods/p/exec", {}).verb == "create"
    assert request_attributes("DELETE", "/api/v1/namespaces/team/configmaps", {}).verb == "deletecollection"
    assert not request_attributes("GET", "/version", {}).resource_request


def test_rule_matching_wildcards_subresources_and_resource_names():
    deploy = request_attributes("PATCH", "/apis/apps/v1/namespaces/team/deployments/web", {})
    assert rule_allows({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}, deploy)
    assert rule_allows({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, deploy)
    assert not rule_allows({"apiGroups": [""], "resources": ["deployments"], "verbs": ["patch"]}, deploy)
    assert not rule_allows({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}, deploy)
    assert rule_allows({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"],
                        "resourceNames": ["web"]}, deploy)
    assert not rule_allows({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"],
                            "resourceNames": ["db"]}, deploy)
    listing = request_attributes("GET", "/apis/apps/v1/namespaces/team/deployments", {})
    assert not rule_allows({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"],
                            "resourceNames": ["web"]}, listing)
    scale = request_attributes("PATCH", "/apis/apps/v1/namespaces/team/deployments/web/scale", {})
    assert not rule_allows({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}, scale)
    assert rule_allows({"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]}, scale)
    assert rule_allows({"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["patch"]}, scale)
    version = request_attributes("GET", "/version", {})
    assert rule_allows({"nonResourceURLs": ["/version"], "verbs": ["get"]}, version)


def _token_for(server, namespace, sa):
    admin(server, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts",
          {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa}})
    admin(server, "POST", f"/api/v1/namespaces/{namespace}/secrets", {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": sa + "-token", "annotations": {"kubernetes.io/service-account.name": sa}}})
    for _attempt in range(50):
        secret = admin(server, "GET", f"/api/v1/namespaces/{namespace}/secrets/{sa}-token")
        if (secret.get("data") or {}).get("token"):
            assert base64.b64decode(secret["data"]["namespace"]).decode() == namespace
            return base64.b64decode(secret["data"]["token"]).decode()
        time.sleep(0.05)
    raise AssertionError("the token controller did not fill the Secret")


def test_token_secret_user_is_authorized_by_roles_and_bindings(server):
    token = _token_for(server, "team", "deployer")
    status, body = call(server, "GET", "/api/v1/namespaces/team/configmaps/cfg", token=token)
    assert status == 403
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": f'configmaps "cfg" is forbidden: User "{SA}" cannot get resource "configmaps" in '
                               'API group "" in the namespace "team"',
                    "reason": "Forbidden", "details": {"name": "cfg", "kind": "configmaps"}, "code": 403}
    grant(server, "cm-rw", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "list"]}],
          namespace="team")
    created = call(server, "POST", "/api/v1/namespaces/team/configmaps",
                   {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}, token=token)
    assert created[0] == 201, created
    assert call(server, "GET", "/api/v1/namespaces/team/configmaps/cfg", token=token)[0] == 200
    # the Role binds in its namespace only; other verbs stay refused
    status, body = call(server, "GET", "/api/v1/namespaces/other/configmaps", token=token)
    assert status == 403 and body["message"] == (
        f'configmaps is forbidden: User "{SA}" cannot list resource "configmaps" in API group "" in the namespace '
        '"other"') and body["details"] == {"kind": "configmaps"}
    status, body = call(server, "DELETE", "/api/v1/namespaces/team/configmaps/cfg", token=token)
    assert status == 403 and "cannot delete resource" in body["message"]
    # discovery is open to every authenticated user
    assert call(server, "GET", "/version", token=token)[0] == 200


def test_cluster_scope_group_subresource_and_missing_role_reason(server):
    token = "registered-" + "x" * 20
    registration = {"token": token, "namespace": "team", "serviceAccount": "runner"}
    assert call(server, "POST", "/_test/tokens", registration)[0] == 201
    user = "system:serviceaccount:team:runner"
    status, body = call(server, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", token=token)
    assert status == 403 and body["message"] == (
        f'customresourcedefinitions.apiextensions.k8s.io is forbidden: User "{user}" cannot list resource '
        '"customresourcedefinitions" in API group "apiextensions.k8s.io" at the cluster scope')
    assert body["details"] == {"group": "apiextensions.k8s.io", "kind": "customresourcedefinitions"}
    grant(server, "runner-crd-read", [{"apiGroups": ["apiextensions.k8s.io"],
                                       "resources": ["customresourcedefinitions"],
                                       "verbs": ["get", "list", "watch"]}], sa=("team", "runner"))
    assert call(server, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", token=token)[0] == 200
    # a ClusterRole bound by a RoleBinding grants in that namespace only; subresources are their own resource
    path, body = rbac_object("ClusterRole", "pod-exec", rules=[
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["p1"]}])
    admin(server, "POST", path, body)
    path, body = rbac_object("RoleBinding", "pod-exec", "other", roleRef={
        "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-exec"},
        subjects=[{"kind": "Group", "name": "system:serviceaccounts:team"}])
    admin(server, "POST", path, body)
    admin(server, "POST", "/api/v1/namespaces/other/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "p1"}, "spec": {"containers": [{"name": "c", "image": "i"}]}})
    assert call(server, "GET", "/api/v1/namespaces/other/pods/p1", token=token)[0] == 200
    assert call(server, "GET", "/api/v1/namespaces/other/pods/p2", token=token)[0] == 403
    status, body = call(server, "GET", "/api/v1/namespaces/other/pods/p1/status", token=token)
    assert status == 403 and 'cannot get resource "pods/status" in API group "" in the namespace "other"' \
        in body["message"]
    # a binding to a Role that does not exist is named in the refusal, as RBAC's rule visitor reports it
    path, body = rbac_object("RoleBinding", "dangling", "other", roleRef={
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "absent"},
        subjects=[{"kind": "ServiceAccount", "name": "runner", "namespace": "team"}])
    admin(server, "POST", path, body)
    status, body = call(server, "GET", "/api/v1/namespaces/other/secrets", token=token)
    assert status == 403 and body["message"].endswith(
        ': RBAC: role.rbac.authorization.k8s.io "absent" not found')
    audit = call(server, "GET", "/_test/rbac/audit")[1]["requests"]
    assert {"user": user, "verb": "list", "group": "", "resource": "secrets", "subresource": "",
            "namespace": "other", "name": "", "allowed": False} in audit


def test_a_deleted_service_accounts_token_is_unauthorized_and_admin_is_unrestricted(server):
    token = _token_for(server, "other", "gone")
    assert call(server, "GET", "/api/v1/namespaces/other/pods", token=token)[0] == 403
    admin(server, "DELETE", "/api/v1/namespaces/other/serviceaccounts/gone")
    status, body = call(server, "GET", "/api/v1/namespaces", token=token)
    assert (status, body) == (401, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    assert call(server, "GET", "/api/v1/namespaces", token="kubeapi-test-token")[0] == 200
    assert call(server, "DELETE", "/api/v1/namespaces/team/configmaps/cfg", token="any-other-token")[0] == 200
    assert call(server, "DELETE", "/api/v1/namespaces/other/pods/p1")[0] == 200  # no header: the admin
