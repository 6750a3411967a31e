"""Per-type defaulting the real API server does on write (just what our clients can observe)."""
import base64
import ipaddress
import itertools
import threading

from .errors import invalid

_cluster_ips = itertools.count(10)
_cluster_ip_lock = threading.Lock()


def _next_cluster_ip():
    with _cluster_ip_lock:
        offset = next(_cluster_ips)
    return str(ipaddress.IPv4Address("10.96.0.0") + offset)


def _secret(obj, old):
    string_data = obj.pop("stringData", None) or {}
    data = obj.setdefault("data", {}) if string_data else obj.get("data")
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    if not obj.get("data"):
        obj.pop("data", None)
    if not obj.get("type"):
        obj["type"] = "Opaque"


def _namespace(obj, old):
    name = obj["metadata"]["name"]
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    if old is None:
        obj["status"] = {"phase": "Active"}


def _service(obj, old):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        if old is not None and (old.get("spec") or {}).get("clusterIP") and not spec.get("clusterIP"):
            spec["clusterIP"] = old["spec"]["clusterIP"]  # immutable: keep the allocated address
        if not spec.get("clusterIP"):
            spec["clusterIP"] = _next_cluster_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if "port" in port:
            port.setdefault("targetPort", port["port"])
    if old is None:
        obj["status"] = {"loadBalancer": {}}


def _pod(obj, old):
    if old is None:
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    spec = obj.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    if not spec.get("containers"):
        raise invalid("Pod", "", obj["metadata"]["name"], [
            {"reason": "FieldValueRequired", "field": "spec.containers", "message": "Required value"}])


def _pvc(obj, old):
    if old is None:
        obj["status"] = {"phase": "Pending"}
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")


def _pv(obj, old):
    if old is None:
        obj["status"] = {"phase": "Pending"}


def _replicated(obj, old):
    obj.setdefault("spec", {}).setdefault("replicas", 1)


def _deployment(obj, old):
    _replicated(obj, old)
    spec = obj["spec"]
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault("strategy", {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})


def _statefulset(obj, old):
    _replicated(obj, old)
    spec = obj["spec"]
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})


def _job(obj, old):
    spec = obj.setdefault("spec", {})
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)


_DEFAULTERS = {
    ("", "secrets"): _secret,
    ("", "namespaces"): _namespace,
    ("", "services"): _service,
    ("", "pods"): _pod,
    ("", "persistentvolumeclaims"): _pvc,
    ("", "persistentvolumes"): _pv,
    ("apps", "deployments"): _deployment,
    ("apps", "statefulsets"): _statefulset,
    ("apps", "replicasets"): _replicated,
    ("batch", "jobs"): _job,
}


def apply_builtin_defaults(resource_type, obj, old):
    """Default `obj` in place; `old` is the stored object on update, None on create."""
    defaulter = _DEFAULTERS.get(resource_type.key)
    if defaulter:
        defaulter(obj, old)
