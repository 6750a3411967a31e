"""Helpers shared by the framework's integration tests: render-vs-apply comparison and a minimal CRD for
Flux's HelmRepository (the shared CRD set carries HelmRelease but not the source controller's kinds)."""
import glob
import os

import yaml

HELMREPOSITORY_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "helmrepositories.source.toolkit.fluxcd.io"},
    "spec": {
        "group": "source.toolkit.fluxcd.io",
        "names": {"kind": "HelmRepository", "listKind": "HelmRepositoryList", "plural": "helmrepositories",
                  "singular": "helmrepository", "shortNames": ["helmrepo"]},
        "scope": "Namespaced",
        "versions": [{
            "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                    "spec": {"type": "object", "required": ["url"], "properties": {
                        "url": {"type": "string"}, "interval": {"type": "string"},
                        "type": {"type": "string", "enum": ["default", "oci"]}}},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }},
        }],
    },
}


def ensure_helmrepository_crd(kube_api):
    status, body, _headers = kube_api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                                              + HELMREPOSITORY_CRD["metadata"]["name"])
    if status == 404:
        status, body, _headers = kube_api.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                                  HELMREPOSITORY_CRD)
        assert status in (200, 201), body


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
