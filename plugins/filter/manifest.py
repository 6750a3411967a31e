# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the manifests role uses to name, reference and label Kubernetes objects.

Render and apply both start from the same labelled object list; these filters keep the
naming of files and inventory entries in one place so both modes agree.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _metadata(obj):
    if not isinstance(obj, dict):
        raise AnsibleFilterError("expected a Kubernetes object (dict), got %s" % type(obj).__name__)
    metadata = obj.get("metadata") or {}
    if not obj.get("kind") or not obj.get("apiVersion") or not metadata.get("name"):
        raise AnsibleFilterError(
            "a Kubernetes object needs apiVersion, kind and metadata.name; got apiVersion=%r kind=%r name=%r"
            % (obj.get("apiVersion"), obj.get("kind"), metadata.get("name"))
        )
    return metadata


def manifest_filename(obj):
    """File name of an object in a rendered GitOps tree: ``<kind>-<name>.yaml`` in lower case."""
    metadata = _metadata(obj)
    return "%s-%s.yaml" % (str(obj["kind"]).lower(), str(metadata["name"]).lower())


def manifest_ref(obj):
    """The identity of an object as recorded for rollback: apiVersion, kind, namespace, name."""
    metadata = _metadata(obj)
    return {
        "apiVersion": str(obj["apiVersion"]),
        "kind": str(obj["kind"]),
        "namespace": str(metadata.get("namespace") or ""),
        "name": str(metadata["name"]),
    }


def manifest_labelled(obj, labels):
    """A copy of ``obj`` whose metadata.labels also carry ``labels`` (ours win on a clash)."""
    metadata = _metadata(obj)
    if not isinstance(labels, dict):
        raise AnsibleFilterError("labels must be a dict, got %s" % type(labels).__name__)
    result = dict(obj)
    result["metadata"] = dict(metadata)
    merged = dict(metadata.get("labels") or {})
    merged.update({str(k): str(v) for k, v in labels.items()})
    result["metadata"]["labels"] = merged
    return result


class FilterModule(object):
    def filters(self):
        return {
            "manifest_filename": manifest_filename,
            "manifest_ref": manifest_ref,
            "manifest_labelled": manifest_labelled,
        }
