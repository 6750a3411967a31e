# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GitOps objects of the Kubeflow installs (lakehouse.platform.kubeflow_gitops_objects): per driver, a Flux
GitRepository per upstream repository pinned to its release tag and a Flux Kustomization per install, or an
Argo CD Application per install."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

INSTALL_KEYS = ("name", "source", "repo", "version", "path")
SETTINGS = ("flux_namespace", "interval", "wait_timeout", "argocd_namespace", "argocd_project",
            "argocd_destination_server", "namespace")


def _flux(installs, settings):
    objects = []
    seen = set()
    for install in installs:
        if install["source"] in seen:
            continue
        seen.add(install["source"])
        objects.append({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": install["source"], "namespace": settings["flux_namespace"]},
            "spec": {"url": install["repo"], "ref": {"tag": install["version"]}, "interval": settings["interval"]},
        })
    for install in installs:
        spec = {"interval": settings["interval"], "path": "./" + str(install["path"]), "prune": True, "wait": True,
                "timeout": "%ss" % settings["wait_timeout"],
                "sourceRef": {"kind": "GitRepository", "name": install["source"]}}
        if install.get("depends_on"):
            spec["dependsOn"] = install["depends_on"]
        objects.append({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": install["name"], "namespace": settings["flux_namespace"]},
            "spec": spec,
        })
    return objects


def _argocd(installs, settings):
    # No dependsOn in Argo CD: the pipelines retry until the CRDs application has installed its kinds.
    return [{
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": install["name"], "namespace": settings["argocd_namespace"]},
        "spec": {
            "project": settings["argocd_project"],
            "source": {"repoURL": install["repo"], "targetRevision": install["version"], "path": install["path"]},
            "destination": {"server": settings["argocd_destination_server"], "namespace": settings["namespace"]},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                "retry": {"limit": 10, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "5m"}},
            },
        },
    } for install in installs]


def kubeflow_gitops_objects(installs, driver, settings):
    """The objects that install ``installs`` ({name, source, repo, version, path, depends_on}) with ``driver``
    (flux or argocd), with ``settings`` ({flux_namespace, interval, wait_timeout, argocd_namespace,
    argocd_project, argocd_destination_server, namespace})."""
    if not is_sequence(installs):
        raise AnsibleFilterError("kubeflow_gitops_objects: expects a list of installs, got %s" % type(installs).__name__)
    if not isinstance(settings, dict) or set(SETTINGS) - set(settings):
        raise AnsibleFilterError("kubeflow_gitops_objects: settings need %s" % ", ".join(SETTINGS))
    for index, install in enumerate(installs):
        missing = [key for key in INSTALL_KEYS if not isinstance(install, dict) or key not in install]
        if missing:
            raise AnsibleFilterError("kubeflow_gitops_objects: install %d needs %s" % (index, ", ".join(missing)))
    if driver == "flux":
        return _flux(installs, settings)
    if driver == "argocd":
        return _argocd(installs, settings)
    raise AnsibleFilterError("kubeflow_gitops_objects: driver must be flux or argocd, got %r" % (driver,))


class FilterModule(object):
    def filters(self):
        return {"kubeflow_gitops_objects": kubeflow_gitops_objects}
