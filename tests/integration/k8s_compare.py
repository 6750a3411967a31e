"""Helpers shared by the framework's integration tests: render-vs-apply comparison, and a check that the Flux
CRDs the test server serves are the real ones (../shared/reference/crds, loaded when the server starts)."""
import glob
import os

import yaml

FLUX_CRDS = ("helmrepositories.source.toolkit.fluxcd.io", "helmreleases.helm.toolkit.fluxcd.io",
             "gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io")


def require_real_crds(kube_api, names=FLUX_CRDS):
    """Fail unless the server serves these CRDs: the real ones, loaded from ../shared/reference/crds at start
    (no hand-written stand-in: every object is validated against the real schema)."""
    for name in names:
        status, body, _headers = kube_api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + name)
        assert status == 200, "CRD %s is not loaded from the shared reference CRDs: %s" % (name, body)
        storage = [v for v in body["spec"]["versions"] if v.get("storage")][0]
        spec_schema = storage["schema"]["openAPIV3Schema"]["properties"]["spec"]
        assert spec_schema.get("properties"), "CRD %s has no spec schema: not the real CRD" % name


def is_subset(expected, actual, path=""):
    """Every field of ``expected`` is in ``actual`` with the same value (lists element by element).
    Returns a list of differences (empty when ``expected`` is contained in ``actual``)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return ["%s: expected a mapping, found %r" % (path or "/", actual)]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append("%s/%s: missing" % (path, key))
            else:
                problems.extend(is_subset(value, actual[key], "%s/%s" % (path, key)))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return ["%s: expected %r, found %r" % (path, expected, actual)]
        problems = []
        for index, (left, right) in enumerate(zip(expected, actual)):
            problems.extend(is_subset(left, right, "%s[%d]" % (path, index)))
        return problems
    if expected != actual:
        return ["%s: expected %r, found %r" % (path, expected, actual)]
    return []


def load_rendered(directory):
    """{(kind, namespace, name): object} of every object file (not kustomization/secret refs) under directory."""
    objects = {}
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.yaml"), recursive=True)):
        if os.path.basename(path) in ("kustomization.yaml", "secret-references.yaml"):
            continue
        with open(path) as handle:
            obj = yaml.safe_load(handle)
        key = (obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        assert key not in objects, "object rendered twice: %s" % (key,)
        objects[key] = obj
    return objects


def create_ready_node(kube_api, name, cpu="64", memory="256Gi", pods="110"):
    """A Ready, schedulable Node (nodes are cluster-wide on the shared test server: delete it afterwards)."""
    status, body, _headers = kube_api.request("POST", "/api/v1/nodes",
                                              {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    assert status == 201, body
    figures = {"cpu": cpu, "memory": memory, "pods": pods}
    status, body, _headers = kube_api.request("PATCH", "/api/v1/nodes/%s/status" % name, {"status": {
        "allocatable": figures, "capacity": figures, "conditions": [{"type": "Ready", "status": "True"}]}},
        content_type="application/merge-patch+json")
    assert status == 200, body
    return name


def delete_node(kube_api, name):
    kube_api.request("DELETE", "/api/v1/nodes/" + name)
