"""Resource types the server knows: the built-in ones plus those registered by CRDs."""
from dataclasses import dataclass, field


@dataclass
class ResourceType:
    group: str               # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: list = field(default_factory=list)
    has_status: bool = False
    categories: list = field(default_factory=list)
    # metadata.generation is kept only by types whose strategy tracks it (workloads, custom resources).
    has_generation: bool = False
    # /scale subresource paths (specReplicasPath, statusReplicasPath, labelSelectorPath) or None.
    scale: dict = None
    # For custom resources: the CRD's version schema (openAPIV3Schema) or None; strategic merge is refused.
    custom: bool = False
    schema: dict = None
    verbs: list = field(default_factory=lambda: [
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"])

    @property
    def group_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self):
        """Objects are stored per group+plural: every served version shares one storage."""
        return (self.group, self.plural)

    def __post_init__(self):
        if not self.singular:
            self.singular = self.kind.lower()


_GENERATION_GROUPS = {"apps", "batch", "apiextensions.k8s.io", "networking.k8s.io", "policy", "autoscaling"}


_SCALABLE = {"deployments", "statefulsets", "replicasets"}
_BUILTIN_SCALE = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                  "labelSelectorPath": None}  # None: the selector string is built from spec.selector


def _t(group, version, plural, kind, namespaced, short=(), status=False, categories=()):
    return ResourceType(group=group, version=version, plural=plural, kind=kind, namespaced=namespaced,
                        short_names=list(short), has_status=status, categories=list(categories),
                        has_generation=group in _GENERATION_GROUPS,
                        scale=dict(_BUILTIN_SCALE) if plural in _SCALABLE else None)


BUILTIN_TYPES = [
    _t("", "v1", "namespaces", "Namespace", False, ["ns"], status=True),
    _t("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    _t("", "v1", "secrets", "Secret", True),
    _t("", "v1", "services", "Service", True, ["svc"], status=True, categories=["all"]),
    _t("", "v1", "pods", "Pod", True, ["po"], status=True, categories=["all"]),
    _t("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"], status=True),
    _t("", "v1", "persistentvolumes", "PersistentVolume", False, ["pv"], status=True),
    _t("", "v1", "nodes", "Node", False, ["no"], status=True),
    _t("", "v1", "events", "Event", True, ["ev"]),
    _t("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
    _t("", "v1", "endpoints", "Endpoints", True, ["ep"]),
    _t("", "v1", "resourcequotas", "ResourceQuota", True, ["quota"], status=True),
    _t("", "v1", "limitranges", "LimitRange", True, ["limits"]),
    _t("apps", "v1", "deployments", "Deployment", True, ["deploy"], status=True, categories=["all"]),
    _t("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], status=True, categories=["all"]),
    _t("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], status=True, categories=["all"]),
    _t("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], status=True, categories=["all"]),
    _t("batch", "v1", "jobs", "Job", True, status=True, categories=["all"]),
    _t("batch", "v1", "cronjobs", "CronJob", True, ["cj"], status=True, categories=["all"]),
    _t("coordination.k8s.io", "v1", "leases", "Lease", True),
    _t("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ["sc"]),
    _t("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False,
       ["crd", "crds"], status=True),
    _t("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _t("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    _t("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _t("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _t("networking.k8s.io", "v1", "ingresses", "Ingress", True, ["ing"], status=True),
    _t("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ["netpol"]),
    _t("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"], status=True),
    _t("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ["hpa"],
       status=True, categories=["all"]),
]


# Top-level fields of the built-in kinds (besides apiVersion/kind/metadata), for fieldValidation: the server
# reports anything else as an unknown field. Deeper levels are not checked (no built-in schemas here).
_SPEC_STATUS = ("spec", "status")
BUILTIN_TOP_LEVEL_FIELDS = {
    "ConfigMap": ("data", "binaryData", "immutable"),
    "Secret": ("data", "stringData", "type", "immutable"),
    "Event": ("involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type",
              "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance"),
    "ServiceAccount": ("secrets", "imagePullSecrets", "automountServiceAccountToken"),
    "Endpoints": ("subsets",),
    "LimitRange": ("spec",),
    "Lease": ("spec",),
    "StorageClass": ("provisioner", "parameters", "reclaimPolicy", "mountOptions", "allowVolumeExpansion",
                     "volumeBindingMode", "allowedTopologies"),
    "Role": ("rules",),
    "ClusterRole": ("rules", "aggregationRule"),
    "RoleBinding": ("subjects", "roleRef"),
    "ClusterRoleBinding": ("subjects", "roleRef"),
}
OBJECT_META_FIELDS = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                      "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
                      "annotations", "ownerReferences", "finalizers", "managedFields")


def unknown_builtin_fields(kind, obj):
    """Field paths of `obj` a built-in kind does not have (top level and metadata only)."""
    allowed = BUILTIN_TOP_LEVEL_FIELDS.get(kind, _SPEC_STATUS)
    unknown = [key for key in obj if key not in allowed and key not in ("apiVersion", "kind", "metadata")]
    unknown += [f"metadata.{key}" for key in obj.get("metadata") or {} if key not in OBJECT_META_FIELDS]
    return unknown
