# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Naming, referencing and labelling of the Kubernetes objects a component owns.

One place for the rules that render (``manifests_render`` action) and apply (``k8s_apply``
module) share, so that a rendered GitOps tree and what apply sends are the same objects.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

MANAGED_BY = "lakehouse.platform"


class ManifestError(ValueError):
    """An object that is not a Kubernetes object (the message names what is missing)."""


def metadata_of(obj):
    if not isinstance(obj, dict):
        raise ManifestError("expected a Kubernetes object (dict), got %s" % type(obj).__name__)
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict) or not obj.get("kind") or not obj.get("apiVersion") or not metadata.get("name"):
        raise ManifestError(
            "a Kubernetes object needs apiVersion, kind and metadata.name; got apiVersion=%r kind=%r name=%r"
            % (obj.get("apiVersion"), obj.get("kind"), metadata.get("name") if isinstance(metadata, dict) else None)
        )
    return metadata


def filename(obj):
    """File name of an object in a rendered GitOps tree: ``<kind>-<name>.yaml`` in lower case."""
    metadata = metadata_of(obj)
    return "%s-%s.yaml" % (str(obj["kind"]).lower(), str(metadata["name"]).lower())


def ref(obj):
    """The identity of an object as recorded for rollback: apiVersion, kind, namespace, name."""
    metadata = metadata_of(obj)
    return {
        "apiVersion": str(obj["apiVersion"]),
        "kind": str(obj["kind"]),
        "namespace": str(metadata.get("namespace") or ""),
        "name": str(metadata["name"]),
    }


def ref_key(reference):
    """A hashable, printable key of a ref: ``Kind/namespace/name``."""
    return "%s/%s/%s" % (reference["kind"], reference.get("namespace") or "", reference["name"])


def labelled(obj, labels):
    """A copy of ``obj`` whose metadata.labels also carry ``labels`` (ours win on a clash)."""
    metadata = metadata_of(obj)
    if not isinstance(labels, dict):
        raise ManifestError("labels must be a dict, got %s" % type(labels).__name__)
    result = dict(obj)
    result["metadata"] = dict(metadata)
    merged = dict(metadata.get("labels") or {})
    merged.update(dict((str(k), str(v)) for k, v in labels.items()))
    result["metadata"]["labels"] = merged
    return result


def component_labels(component, phase):
    """The labels every object of a component carries."""
    return {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "lakehouse.platform/component": str(component),
        "lakehouse.platform/phase": str(phase),
    }


def secret_values(objects):
    """Names of Secrets in ``objects`` that carry values (data or stringData)."""
    return [metadata_of(o)["name"] for o in objects
            if isinstance(o, dict) and o.get("kind") == "Secret" and ("data" in o or "stringData" in o)]


def secret_values_message(component, names):
    """Why a list of objects carrying Secret values is refused (render and apply say the same)."""
    return ("%s: the manifest list carries Secret values (%s). Create Secrets with no_log tasks in apply mode "
            "(lakehouse.platform.k8s_generated_secret) and list them in secret_references instead."
            % (component, ", ".join(names)))


def inventory_name(component):
    """The ConfigMap that records what a component created (rollback reads it)."""
    return "lakehouse-platform-inventory-%s" % str(component).replace("_", "-")
