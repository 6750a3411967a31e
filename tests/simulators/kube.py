"""A small dict-in/dict-out Kubernetes REST client for the simulators.

It sits on the official kubernetes Python client (auth, TLS and connection pooling come from the kubeconfig
through `kubernetes.config`), but addresses resources by explicit paths instead of discovery: the simulators
only touch the kinds listed in KINDS, and explicit paths keep every request they send predictable (tests
count requests per verb and resource).
"""
import json
import logging
import threading

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from kubernetes.watch.watch import iter_resp_lines

LOG = logging.getLogger(__name__)

# (apiVersion, kind) -> (plural, namespaced)
KINDS = {
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "Node"): ("nodes", False),
    ("v1", "Pod"): ("pods", True),
    ("v1", "Service"): ("services", True),
    ("v1", "Endpoints"): ("endpoints", True),
    ("v1", "Secret"): ("secrets", True),
    ("v1", "ConfigMap"): ("configmaps", True),
    ("v1", "Event"): ("events", True),
    ("v1", "PersistentVolumeClaim"): ("persistentvolumeclaims", True),
    ("v1", "PersistentVolume"): ("persistentvolumes", False),
    ("storage.k8s.io/v1", "StorageClass"): ("storageclasses", False),
    ("apps/v1", "Deployment"): ("deployments", True),
    ("apps/v1", "ReplicaSet"): ("replicasets", True),
    ("apps/v1", "StatefulSet"): ("statefulsets", True),
    ("batch/v1", "Job"): ("jobs", True),
    ("ceph.rook.io/v1", "CephObjectStoreUser"): ("cephobjectstoreusers", True),
    ("doris.selectdb.com/v1", "DorisCluster"): ("dorisclusters", True),
    ("ray.io/v1", "RayCluster"): ("rayclusters", True),
    ("postgresql.cnpg.io/v1", "Cluster"): ("clusters", True),
    ("postgresql.cnpg.io/v1", "Backup"): ("backups", True),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): ("scheduledbackups", True),
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"): ("helmreleases", True),
    ("argoproj.io/v1alpha1", "Application"): ("applications", True),
    ("sparkoperator.k8s.io/v1beta2", "SparkApplication"): ("sparkapplications", True),
    ("kubeflow.org/v1beta1", "Experiment"): ("experiments", True),
}


class KubeError(Exception):
    """An API error with the HTTP status and the server's message."""

    def __init__(self, status, reason, message, body=None):
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body


class NotFound(KubeError):
    pass


class Conflict(KubeError):
    """409: AlreadyExists on create, or a resourceVersion conflict on update."""


class Gone(KubeError):
    """410: a watch asked for a resourceVersion that is too old."""


def _raise_for(exc):
    body = None
    message = exc.reason
    reason = exc.reason
    try:
        body = json.loads(exc.body) if exc.body else None
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict):
        message = body.get("message", message)
        reason = body.get("reason", reason)
    cls = {404: NotFound, 409: Conflict, 410: Gone}.get(exc.status, KubeError)
    raise cls(exc.status, reason, message, body) from None


def resource_path(api_version, kind, namespace=None, name=None, subresource=None):
    try:
        plural, namespaced = KINDS[(api_version, kind)]
    except KeyError:
        raise ValueError(f"simulators do not know {kind} ({api_version})") from None
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespaced and namespace:
        base += f"/namespaces/{namespace}"
    path = f"{base}/{plural}"
    if name:
        path += f"/{name}"
        if subresource:
            path += f"/{subresource}"
    return path


class KubeApi:
    """Thread-safe: the underlying urllib3 pool is shared; each call is one request."""

    def __init__(self, api_client):
        self.api_client = api_client
        self._lock = threading.Lock()
        self._open_watches = set()

    @classmethod
    def from_kubeconfig(cls, kubeconfig, context=None, pool_size=64):
        """A client for the kubeconfig's server; the pool is sized for one long watch per informer."""
        configuration = k8s_client.Configuration()
        k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
        configuration.connection_pool_maxsize = pool_size
        return cls(k8s_client.ApiClient(configuration))

    def _call(self, path, method, query=None, body=None, content_type=None, timeout=30):
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        try:
            data, _status, _headers = self.api_client.call_api(
                path, method, query_params=list((query or {}).items()), header_params=headers, body=body,
                response_type="object", auth_settings=["BearerToken"], _request_timeout=timeout)
        except ApiException as exc:
            _raise_for(exc)
        return data

    # -- reads -------------------------------------------------------------------------------------------
    def get(self, api_version, kind, name, namespace=None):
        """The object as a dict, or None when it does not exist."""
        try:
            return self._call(resource_path(api_version, kind, namespace, name), "GET")
        except NotFound:
            return None

    def list_with_version(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        query = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        data = self._call(resource_path(api_version, kind, namespace), "GET", query=query)
        items = data.get("items") or []
        # List items carry no apiVersion/kind on the wire; put them back so objects look the same everywhere.
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items, (data.get("metadata") or {}).get("resourceVersion")

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        return self.list_with_version(api_version, kind, namespace, label_selector, field_selector)[0]

    # -- writes ------------------------------------------------------------------------------------------
    def create(self, obj):
        meta = obj.get("metadata") or {}
        path = resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"))
        return self._call(path, "POST", body=obj)

    def create_if_absent(self, obj):
        """Create; when the name is taken, return the existing object instead (idempotent creation)."""
        try:
            return self.create(obj)
        except Conflict:
            meta = obj["metadata"]
            return self.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))

    def patch(self, api_version, kind, name, namespace, patch, subresource=None):
        """JSON merge patch (RFC 7386) of the object or of a subresource such as `status`."""
        path = resource_path(api_version, kind, namespace, name, subresource)
        return self._call(path, "PATCH", body=patch, content_type="application/merge-patch+json")

    def delete(self, api_version, kind, name, namespace=None, propagation="Background"):
        """Delete; returns False when the object was already gone."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        try:
            self._call(resource_path(api_version, kind, namespace, name), "DELETE", body=body)
        except NotFound:
            return False
        return True

    # -- watch -------------------------------------------------------------------------------------------
    def watch(self, api_version, kind, resource_version, timeout_seconds=30, namespace=None):
        """Yield (event_type, object) until the server ends the watch after `timeout_seconds`.

        Raises Gone when the resourceVersion is too old (the caller relists).
        """
        query = [("watch", "true"), ("timeoutSeconds", str(int(timeout_seconds))),
                 ("allowWatchBookmarks", "true")]
        if resource_version:
            query.append(("resourceVersion", resource_version))
        try:
            resp = self.api_client.call_api(
                resource_path(api_version, kind, namespace), "GET", query_params=query,
                header_params={"Accept": "application/json"}, auth_settings=["BearerToken"],
                _preload_content=False, _request_timeout=(10, timeout_seconds + 15))[0]
        except ApiException as exc:
            _raise_for(exc)
        with self._lock:
            self._open_watches.add(resp)
        try:
            for line in iter_resp_lines(resp):
                if not line.strip():
                    continue
                event = json.loads(line)
                obj = event.get("object") or {}
                if event.get("type") == "ERROR":
                    code = obj.get("code")
                    if code == 410:
                        raise Gone(410, obj.get("reason", "Expired"), obj.get("message", ""), obj)
                    raise KubeError(code or 500, obj.get("reason", "Error"), obj.get("message", ""), obj)
                obj.setdefault("apiVersion", api_version)
                obj.setdefault("kind", kind)
                yield event["type"], obj
        finally:
            with self._lock:
                self._open_watches.discard(resp)
            resp.release_conn()

    def close_watches(self):
        """Unblock every watch in progress (used on shutdown)."""
        with self._lock:
            watches = list(self._open_watches)
        for resp in watches:
            try:
                resp.shutdown() if hasattr(resp, "shutdown") else resp.close()
            except Exception:  # noqa: BLE001 - best effort on shutdown
                pass

    def close(self):
        self.close_watches()
        self.api_client.close()
