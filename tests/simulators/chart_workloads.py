"""The workloads a Helm chart would install, for the Flux and Argo CD simulators.

A chart's pods are what platform health and capacity checks see, so a HelmRelease or Application can ask
for Deployments through simulator settings (on the object, or namespace-wide as
`helmrelease.sim.lakehouse.test/<setting>` / `application.sim.lakehouse.test/<setting>`):

  sim.lakehouse.test/workloads: "true"            -> one Deployment named after the release
  sim.lakehouse.test/workloads: "api,worker"      -> Deployments with these names
  sim.lakehouse.test/workload-replicas: "2"       -> replicas of each (default 1)
  sim.lakehouse.test/workload-requests: "cpu=100m,memory=128Mi"   -> container requests

Deployments carry Helm's ownership labels/annotations (no ownerReference: Helm-installed objects have none)
plus the owner's tracking (Flux labels, Argo CD tracking-id annotation), so the owner's deletion
(uninstall) finds and removes them.
"""
from . import behaviour as beh

WORKLOADS = "workloads"
REPLICAS = "workload-replicas"
REQUESTS = "workload-requests"


def requested_workloads(obj, namespace_annotations, release):
    """(names, replicas, requests) asked for by annotations; names is [] when none (pure function)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    kind = obj.get("kind", "")
    value = beh.lookup(WORKLOADS, annotations, namespace_annotations, kind)
    if not value or value.lower() in ("false", "no", "0"):
        return [], 0, {}
    names = [release] if value.lower() in ("true", "yes", "1") else [n.strip() for n in value.split(",") if n.strip()]
    replicas_raw = beh.lookup(REPLICAS, annotations, namespace_annotations, kind)
    try:
        replicas = int(replicas_raw) if replicas_raw is not None else 1
    except ValueError:
        raise beh.BehaviourError(f"{beh.PREFIX}/{REPLICAS} must be an integer, got {replicas_raw!r}") from None
    requests = {}
    for item in (beh.lookup(REQUESTS, annotations, namespace_annotations, kind) or "").split(","):
        if "=" in item:
            key, val = item.split("=", 1)
            requests[key.strip()] = val.strip()
    return names, replicas, requests


def deployment(name, namespace, release, image, replicas, requests, owner_labels):
    """A Deployment as `helm install` would create it for the release (pure function)."""
    selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": release}
    labels = {**selector, "app.kubernetes.io/managed-by": "Helm", **owner_labels}
    container = {"name": name, "image": image}
    if requests:
        container["resources"] = {"requests": dict(requests)}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels,
                         "annotations": {"meta.helm.sh/release-name": release,
                                         "meta.helm.sh/release-namespace": namespace}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": selector},
                     "template": {"metadata": {"labels": selector}, "spec": {"containers": [container]}}}}


def deployment_ready(deploy):
    """The kubernetes.core notion: observed, all replicas updated, ready and available."""
    spec, status = deploy.get("spec") or {}, deploy.get("status") or {}
    want = spec.get("replicas", 1)
    return (status.get("observedGeneration") == (deploy.get("metadata") or {}).get("generation")
            and status.get("updatedReplicas", 0) == want and status.get("readyReplicas", 0) == want
            and status.get("availableReplicas", 0) == want)


def ensure(kube, desired_list):
    """Create or update each Deployment; returns the live objects."""
    live = []
    for desired in desired_list:
        md = desired["metadata"]
        current = kube.create_if_absent(desired)
        spec = current.get("spec") or {}
        if (spec.get("replicas") != desired["spec"]["replicas"]
                or spec.get("template") != desired["spec"]["template"]):
            current = kube.patch("apps/v1", "Deployment", md["name"], md["namespace"],
                                 {"spec": {"replicas": desired["spec"]["replicas"],
                                           "template": desired["spec"]["template"]}})
        live.append(current)
    return live


def remove(kube, namespace, owned):
    """Uninstall: delete the Deployments in namespace for which owned(deployment) is true."""
    for deploy in kube.list("apps/v1", "Deployment", namespace):
        if owned(deploy):
            kube.delete("apps/v1", "Deployment", deploy["metadata"]["name"], namespace)
