"""The controllers' own workloads, as their installers leave them: a simulated operator group also stands in
for the Deployment (or StatefulSet) the real controller runs as, so a preflight that asks "is Flux (Argo CD)
installed and running?" finds what it would find on a cluster where it is.

  flux    -> Namespace flux-system, Deployments source-controller, helm-controller, kustomize-controller
  argocd  -> Namespace argocd, StatefulSet argocd-application-controller

  always  -> the StorageClasses the volume binder (core) stands in for: ceph-block (Rook RBD, the runbooks'),
             local-storage-standard (Doris's default) and standard (the cluster's default)

Created once when the simulators start (never updated or deleted; a test that wants them gone deletes them),
one replica each, no resource requests; the workload simulators make their pods Ready like any other's. The
pods run no controller: the group's simulators in this process do the controllers' work.
"""
INSTALLS = {
    "flux": ("flux-system", "Deployment", ("source-controller", "helm-controller", "kustomize-controller")),
    "argocd": ("argocd", "StatefulSet", ("argocd-application-controller",)),
}


def workload(kind, name, namespace):
    """A one-replica workload of the controller's name (pure function)."""
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "simulated-controllers"}
    spec = {"replicas": 1, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "manager", "image": "simulated/%s:0" % name}]}}}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    metadata = {"name": name, "namespace": namespace, "labels": labels}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata, "spec": spec}


STORAGE_CLASSES = (("ceph-block", "rook-ceph.rbd.csi.ceph.com", False),
                   ("local-storage-standard", "rancher.io/local-path", False),
                   ("standard", "rancher.io/local-path", True))


def storage_class(name, provisioner, default):
    """A StorageClass as its provisioner's installer leaves it (pure function)."""
    metadata = {"name": name}
    if default:
        metadata["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": metadata,
            "provisioner": provisioner, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}


def announce(kube, groups):
    """Create the StorageClasses, and the namespaces and workloads of the controllers of the given operator
    groups (idempotent)."""
    for name, provisioner, default in STORAGE_CLASSES:
        kube.create_if_absent(storage_class(name, provisioner, default))
    for group in groups:
        if group not in INSTALLS:
            continue
        namespace, kind, names = INSTALLS[group]
        kube.create_if_absent({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        for name in names:
            kube.create_if_absent(workload(kind, name, namespace))
