"""Authentication and RBAC authorization for token users, shaped like kube-apiserver's.

Who is who:
* no Authorization header, or the fixture's admin token (``kubeapi-test-token``): the admin, never refused;
* a bearer token found in a ``kubernetes.io/service-account-token`` Secret (``data.token``, annotated
  ``kubernetes.io/service-account.name``) or registered through ``POST /_test/tokens``: the user
  ``system:serviceaccount:<ns>:<name>`` in the groups ``system:serviceaccounts``,
  ``system:serviceaccounts:<ns>`` and ``system:authenticated``, authorized by the Roles, ClusterRoles,
  RoleBindings and ClusterRoleBindings stored on the server;
* the token of a token Secret whose ServiceAccount is gone: 401 Unauthorized;
* any other bearer token: the admin too (tests send arbitrary tokens, e.g. through the service proxy).

The token controller is modelled too: a service-account-token Secret of an existing ServiceAccount gets
``data.token`` and ``data.namespace`` filled after the write that created it (asynchronously, as on a real
cluster, so readers must wait for it). Every resource request of a token user is kept in an audit list
(``GET /_test/rbac/audit``, ``POST /_test/rbac/audit/reset``): user, verb, group, resource, subresource,
namespace, name and whether it was allowed.
"""
import base64
import secrets as _secrets
import threading
from dataclasses import dataclass, field

from . import errors

ADMIN_TOKENS = frozenset({"kubeapi-test-token"})
TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
_RBAC = "rbac.authorization.k8s.io"
_AUDIT_LIMIT = 50000


@dataclass
class User:
    name: str
    groups: list = field(default_factory=list)
    admin: bool = False


ADMIN = User("kubeapi-test-admin", ["system:masters", "system:authenticated"], admin=True)


@dataclass
class Attributes:
    """authorizer.Attributes of one request (k8s.io/apiserver RequestInfo)."""
    verb: str
    resource_request: bool
    path: str = ""
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


def service_account_user(namespace, name):
    return User(f"system:serviceaccount:{namespace}:{name}",
                ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"])


# ---- request attributes --------------------------------------------------------------------------
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "GET": "get", "HEAD": "get"}


def request_attributes(method, path, query):
    """RequestInfo as kube-apiserver's RequestInfoFactory derives it from the method and the path."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return Attributes(verb=method.lower() if method != "HEAD" else "get", resource_request=False, path=path)
    if parts[0] == "api":
        group, rest = "", parts[2:]
        if len(parts) < 2:
            return Attributes(verb="get", resource_request=False, path=path)
    else:
        if len(parts) < 3:
            return Attributes(verb="get", resource_request=False, path=path)
        group, rest = parts[1], parts[3:]
    if not rest:
        return Attributes(verb="get", resource_request=False, path=path)
    watch_path = rest[0] == "watch"
    if watch_path:
        rest = rest[1:]
    namespace = ""
    if len(rest) >= 2 and rest[0] == "namespaces":
        namespace = rest[1]
        # /namespaces/<name>[/status|/finalize] is the Namespace itself, its namespace being its name
        if len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = "watch" if watch_path else _VERBS.get(method, method.lower())
        if verb == "get" and not name:
            verb = "list"
        if verb == "list" and (query.get("watch") or [""])[-1].lower() in ("true", "1"):
            verb = "watch"
        if verb in ("list", "watch") and not name:
            # a single-object list/watch names its object through the field selector (RequestInfo does so)
            for term in ((query.get("fieldSelector") or [""])[-1]).split(","):
                key, _sep, value = term.partition("=")
                value = value[1:] if value.startswith("=") else value  # "==" is "=" too
                if key == "metadata.name" and value:
                    name = value
    return Attributes(verb=verb, resource_request=True, path=path, group=group, resource=resource,
                      subresource=subresource, namespace=namespace, name=name)


# ---- rules ---------------------------------------------------------------------------------------
def _matches(values, wanted):
    return "*" in values or wanted in values


def rule_allows(rule, attrs):
    """rbac/v1 PolicyRule matching (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac RuleAllows)."""
    if not _matches(rule.get("verbs") or [], attrs.verb):
        return False
    if not attrs.resource_request:
        for url in rule.get("nonResourceURLs") or []:
            if url == "*" or url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1])):
                return True
        return False
    if not _matches(rule.get("apiGroups") or [], attrs.group):
        return False
    resources = rule.get("resources") or []
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    if not ("*" in resources or combined in resources
            or (attrs.subresource and f"*/{attrs.subresource}" in resources)):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def _subject_applies(subject, user, binding_namespace):
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"system:serviceaccount:{namespace}:{subject.get('name')}"
    if kind == "User":
        return user.name == subject.get("name")
    if kind == "Group":
        return subject.get("name") in user.groups
    return False


# Roles every authenticated user has on a real cluster (system:discovery, system:basic-user,
# system:public-info-viewer): discovery documents, version, health, openapi.
_DEFAULT_RULES = [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/version",
                                                         "/version/", "/openapi", "/openapi/*", "/healthz",
                                                         "/livez", "/readyz"]}]


class Authorizer:
    """Decides from what the store holds now (bindings and roles are read on every request)."""

    def __init__(self, api):
        self.api = api
        self._tokens = {}
        self._lock = threading.Lock()
        self.audit = []

    # ---- authentication ----------------------------------------------------------------------
    def register_token(self, token, namespace, name):
        with self._lock:
            self._tokens[token] = (namespace, name)

    def authenticate(self, authorization):
        if not authorization:
            return ADMIN
        scheme, _sep, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return ADMIN  # basic/client-cert style credentials are not modelled: the fixture's admin
        if token in ADMIN_TOKENS:
            return ADMIN
        with self._lock:
            registered = self._tokens.get(token)
        if registered:
            return service_account_user(*registered)
        for secret in self._objects(("", "secrets")):
            if secret.get("type") != TOKEN_SECRET_TYPE:
                continue
            stored = (secret.get("data") or {}).get("token")
            if stored and _b64decode(stored) == token:
                metadata = secret["metadata"]
                sa_name = (metadata.get("annotations") or {}).get(SA_NAME_ANNOTATION)
                if sa_name and self._get(("", "serviceaccounts"), metadata["namespace"], sa_name):
                    return service_account_user(metadata["namespace"], sa_name)
                raise errors.ApiError(401, "Unauthorized", "Unauthorized")  # its ServiceAccount is gone
        return ADMIN  # any other token: the fixture's admin (tests send arbitrary tokens through the proxy)

    # ---- authorization -----------------------------------------------------------------------
    def _objects(self, key, namespace=None):
        items, _revision = self.api.store.list(
            key, lambda obj: namespace is None or obj["metadata"].get("namespace") == namespace)
        return items

    def _get(self, key, namespace, name):
        return self.api.store.get(key, namespace, name)

    def _role_rules(self, role_ref, binding_namespace, reasons):
        kind, name = role_ref.get("kind"), role_ref.get("name")
        if kind == "ClusterRole":
            role = self._get((_RBAC, "clusterroles"), "", name)
            label = f'clusterrole.{_RBAC} "{name}" not found'
        else:
            role = self._get((_RBAC, "roles"), binding_namespace, name)
            label = f'role.{_RBAC} "{name}" not found'
        if role is None:
            reasons.append(label)
            return []
        return role.get("rules") or []

    def allowed(self, user, attrs):
        """(allowed, reason): reason lists bindings whose role is missing, as RBAC's visitor reports."""
        if user.admin:
            return True, ""
        reasons = []
        if any(rule_allows(rule, attrs) for rule in _DEFAULT_RULES):
            return True, ""
        for binding in self._objects((_RBAC, "clusterrolebindings")):
            if any(_subject_applies(s, user, "") for s in binding.get("subjects") or []):
                if any(rule_allows(r, attrs) for r in self._role_rules(binding.get("roleRef") or {}, "", reasons)):
                    return True, ""
        if attrs.resource_request and attrs.namespace:
            for binding in self._objects((_RBAC, "rolebindings"), attrs.namespace):
                if any(_subject_applies(s, user, attrs.namespace) for s in binding.get("subjects") or []):
                    rules = self._role_rules(binding.get("roleRef") or {}, attrs.namespace, reasons)
                    if any(rule_allows(r, attrs) for r in rules):
                        return True, ""
        reason = f"RBAC: [{', '.join(reasons)}]" if len(reasons) > 1 else (f"RBAC: {reasons[0]}" if reasons else "")
        return False, reason

    def check(self, authorization, method, path, query):
        """Raise the 401/403 kube-apiserver would answer; record token users' resource requests."""
        user = self.authenticate(authorization)
        if user.admin:
            return user
        attrs = request_attributes(method, path, query)
        ok, reason = self.allowed(user, attrs)
        if attrs.resource_request:
            with self._lock:
                if len(self.audit) < _AUDIT_LIMIT:
                    self.audit.append({"user": user.name, "verb": attrs.verb, "group": attrs.group,
                                       "resource": attrs.resource, "subresource": attrs.subresource,
                                       "namespace": attrs.namespace, "name": attrs.name, "allowed": ok})
        if not ok:
            raise forbidden(user, attrs, reason)
        return user

    # ---- token controller --------------------------------------------------------------------
    def fill_tokens(self, namespace):
        """Fill data.token/data.namespace of the namespace's token Secrets whose ServiceAccount exists."""
        from .api import MERGE_PATCH, WriteOptions  # late: api imports nothing from here
        import json
        secret_type = self.api.registry.find("", "v1", "secrets")
        for secret in self._objects(("", "secrets"), namespace):
            metadata = secret["metadata"]
            sa_name = (metadata.get("annotations") or {}).get(SA_NAME_ANNOTATION)
            if (secret.get("type") != TOKEN_SECRET_TYPE or (secret.get("data") or {}).get("token") or not sa_name
                    or metadata.get("deletionTimestamp")
                    or not self._get(("", "serviceaccounts"), namespace, sa_name)):
                continue
            token = _secrets.token_urlsafe(32)
            patch = {"data": {"token": base64.b64encode(token.encode()).decode(),
                              "namespace": base64.b64encode(namespace.encode()).decode()}}
            try:
                self.api.patch(secret_type, namespace, metadata["name"], MERGE_PATCH, json.dumps(patch).encode(),
                               "", WriteOptions(manager="kube-controller-manager"))
            except errors.ApiError:
                pass  # deleted meanwhile

    # ---- /_test/ endpoints -------------------------------------------------------------------
    def test_endpoint(self, method, path, body):
        """(code, answer) for /_test/tokens and /_test/rbac/audit[/reset], None for other paths."""
        if path == "/_test/tokens" and method == "POST":
            body = body if isinstance(body, dict) else {}
            if not body.get("token") or not body.get("namespace") or not body.get("serviceAccount"):
                raise errors.bad_request("token, namespace and serviceAccount are required")
            self.register_token(body["token"], body["namespace"], body["serviceAccount"])
            return 201, {"registered": service_account_user(body["namespace"], body["serviceAccount"]).name}
        if path == "/_test/rbac/audit" and method == "GET":
            with self._lock:
                return 200, {"requests": list(self.audit)}
        if path == "/_test/rbac/audit/reset" and method == "POST":
            with self._lock:
                self.audit.clear()
            return 200, {"reset": True}
        return None


def _b64decode(value):
    try:
        return base64.b64decode(value).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def forbidden_message(user, attrs):
    if not attrs.resource_request:
        return f'User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    if attrs.namespace:
        return (f'User "{user.name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.group}" '
                f'in the namespace "{attrs.namespace}"')
    return (f'User "{user.name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.group}" '
            "at the cluster scope")


def forbidden(user, attrs, reason=""):
    """403 as apiserver's responsewriters.ForbiddenStatusError + apierrors.NewForbidden build it."""
    message = forbidden_message(user, attrs)
    if reason:
        message = f"{message}: {reason}"
    if not attrs.resource_request or not attrs.resource:
        return errors.ApiError(403, "Forbidden", f"forbidden: {message}", {})
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    details = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.group:
        details["group"] = attrs.group
    details["kind"] = attrs.resource
    prefix = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    return errors.ApiError(403, "Forbidden", f"{prefix} is forbidden: {message}", details)
