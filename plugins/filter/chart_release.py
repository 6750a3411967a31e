# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GitOps objects of a Helm chart release, per driver.

One definition serves the chart_release role and every component that hands its release objects to the
manifests role together with its own objects (one render or apply call per component):

* ``flux`` and ``render``: a Flux HelmRepository and HelmRelease (render writes what Flux would apply);
* ``argocd``: an Argo CD Application;
* ``helm``: nothing in apply mode (the helm CLI installs the release), the Flux equivalent in render mode.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

DRIVERS = ("helm", "flux", "argocd", "render")
DEFAULTS = {
    "interval": "30m",
    "install_retries": 3,
    "upgrade_retries": 3,
    "depends_on": [],
    "argocd_namespace": "argocd",
    "argocd_project": "default",
    "argocd_destination_server": "https://kubernetes.default.svc",
}


def chart_release_driver(driver, mode):
    """The driver in effect: the platform's choice, else render in render mode and flux in apply mode."""
    return driver or ("render" if mode == "render" else "flux")


def _checked(release, driver):
    if not isinstance(release, dict):
        raise AnsibleFilterError("chart_release_objects: a release is a dict, got %s" % type(release).__name__)
    merged = dict(DEFAULTS)
    merged.update(dict((k, v) for k, v in release.items() if v is not None))
    component = merged.get("component") or merged.get("name") or "?"
    problems = []
    for key in ("name", "namespace", "chart"):
        if not str(merged.get(key) or "").strip():
            problems.append("%s is empty" % key)
    if not str(merged.get("version") or "").strip():
        problems.append("version is not pinned")
    if not re.match(r"^(https?|oci)://", str(merged.get("repo_url") or "")):
        problems.append("repo_url=%s must start with http(s):// or oci://" % merged.get("repo_url"))
    if not isinstance(merged.get("values", {}), dict):
        problems.append("values must be a dict")
    if driver not in DRIVERS:
        problems.append("driver must be one of %s (got %r; platform_chart_driver)" % (", ".join(DRIVERS), driver))
    if not isinstance(merged["depends_on"], list):
        problems.append("depends_on must be a list of {name, namespace}")
    if problems:
        raise AnsibleFilterError("chart release %s (%s): %s" % (merged.get("name") or "?", component, "; ".join(problems)))
    return merged


def chart_release_objects(release, driver=None, mode="render"):
    """The objects the driver in effect applies (or a rendered tree holds) for ``release``.

    ``release``: name, namespace, repo_url, chart, version, values; optional repo_name, repo_namespace,
    interval, install_retries, upgrade_retries, depends_on, argocd_namespace, argocd_project,
    argocd_destination_server, target_namespace (where the chart's objects go when not in ``namespace``: Flux
    spec.targetNamespace with install.createNamespace, Argo CD destination.namespace), component (named in
    errors).
    """
    driver = chart_release_driver(driver, mode)
    r = _checked(release, driver)
    if driver == "helm" and mode == "apply":
        return []
    repo_url = str(r["repo_url"])
    is_oci = repo_url.startswith("oci://")
    name, namespace = str(r["name"]), str(r["namespace"])
    target = str(r.get("target_namespace") or "")
    if driver == "argocd":
        return [{
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": str(r["argocd_namespace"])},
            "spec": {
                "project": str(r["argocd_project"]),
                "source": {
                    "repoURL": re.sub(r"^oci://", "", repo_url),
                    "chart": str(r["chart"]),
                    "targetRevision": str(r["version"]),
                    "helm": {"releaseName": name, "valuesObject": r.get("values") or {}},
                },
                "destination": {"server": str(r["argocd_destination_server"]), "namespace": target or namespace},
                "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
            },
        }]
    repo_name = str(r.get("repo_name") or name)
    repo_namespace = str(r.get("repo_namespace") or namespace)
    interval = str(r["interval"])
    repository_spec = {"url": repo_url, "interval": interval}
    if is_oci:
        repository_spec["type"] = "oci"
    helmrelease = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": interval,
            "releaseName": name,
            "chart": {"spec": {
                "chart": str(r["chart"]),
                "version": str(r["version"]),
                "sourceRef": {"kind": "HelmRepository", "name": repo_name, "namespace": repo_namespace},
                "interval": interval,
            }},
            "install": {"remediation": {"retries": int(r["install_retries"])}},
            "upgrade": {"remediation": {"retries": int(r["upgrade_retries"])}},
            "values": r.get("values") or {},
        },
    }
    # The chart's objects in another namespace than the HelmRelease: Flux creates it on install.
    if target and target != namespace:
        helmrelease["spec"]["targetNamespace"] = target
        helmrelease["spec"]["install"]["createNamespace"] = True
    # spec.dependsOn only when the release has dependencies (an empty list would still be a diff).
    if r["depends_on"]:
        helmrelease["spec"]["dependsOn"] = [dict(d) for d in r["depends_on"]]
    return [
        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
         "metadata": {"name": repo_name, "namespace": repo_namespace}, "spec": repository_spec},
        helmrelease,
    ]


class FilterModule(object):
    def filters(self):
        return {
            "chart_release_objects": chart_release_objects,
            "chart_release_driver": chart_release_driver,
        }
