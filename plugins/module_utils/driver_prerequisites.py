# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the chart driver of an apply run needs on the cluster (or the controller) before anything is written.

Flux: the CRDs of the objects the run writes (HelmRepository and HelmRelease; GitRepository and Kustomization
when a component installs by kustomize) and the controllers that act on them, Ready, in the Flux namespace.
Argo CD: the Application CRD and the application controller. helm: the helm v3 binary on the controller.
The items have the shape of the phase catalog's ``requires`` (what, api_version, kind, name, namespace, ready,
how), so preflight reads and judges them with the phase's other prerequisites, in the same call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shutil
import subprocess

CRD_API = "apiextensions.k8s.io/v1"
FLUX_HELM_CRDS = (("HelmRepository", "helmrepositories.source.toolkit.fluxcd.io"),
                  ("HelmRelease", "helmreleases.helm.toolkit.fluxcd.io"))
FLUX_KUSTOMIZE_CRDS = (("GitRepository", "gitrepositories.source.toolkit.fluxcd.io"),
                       ("Kustomization", "kustomizations.kustomize.toolkit.fluxcd.io"))
ARGOCD_CRD = ("Application", "applications.argoproj.io")
ARGOCD_CONTROLLER = "argocd-application-controller"


def _crd(tool, kind, name, how):
    return {"what": "%s CRD of %s" % (tool, kind), "api_version": CRD_API, "kind": "CustomResourceDefinition",
            "name": name, "ready": True, "how": how}


def _controller(tool, kind, name, namespace, how):
    return {"what": "%s %s" % (tool, name), "api_version": "apps/v1", "kind": kind, "name": name,
            "namespace": namespace, "ready": True, "how": how}


def driver_prerequisites(driver, flux_namespace="flux-system", argocd_namespace="argocd", kustomize=False):
    """The cluster objects the driver of an apply run needs, in the catalog's ``requires`` shape."""
    if driver == "flux":
        how = ("install Flux into %s (flux install, or its Helm chart), set platform_flux_namespace to where it runs, "
               "or choose another platform_chart_driver (argocd, helm)" % flux_namespace)
        crds = FLUX_HELM_CRDS + (FLUX_KUSTOMIZE_CRDS if kustomize else ())
        controllers = ("source-controller", "helm-controller") + (("kustomize-controller",) if kustomize else ())
        return ([_crd("Flux", kind, name, how) for kind, name in crds]
                + [_controller("Flux", "Deployment", name, flux_namespace, how) for name in controllers])
    if driver == "argocd":
        how = ("install Argo CD into %s, set chart_release_argocd_namespace to where it runs, or choose another "
               "platform_chart_driver (flux, helm)" % argocd_namespace)
        return [_crd("Argo CD", ARGOCD_CRD[0], ARGOCD_CRD[1], how),
                _controller("Argo CD", "StatefulSet", ARGOCD_CONTROLLER, argocd_namespace, how)]
    return []


def helm_binary_problem(which=shutil.which, run=subprocess.run):
    """None when a helm v3 binary is on the PATH, else what is wrong (for the helm driver, checked on the controller)."""
    path = which("helm")
    how = "put a helm v3 binary on the controller's PATH (https://helm.sh/docs/intro/install/), or choose another platform_chart_driver (flux, argocd)"
    if not path:
        return "platform_chart_driver=helm needs the helm binary, and there is none on the PATH: %s" % how
    try:
        done = run([path, "version", "--template", "{{.Version}}"], capture_output=True, text=True, timeout=30,
                   check=False)
    except (OSError, subprocess.SubprocessError) as err:
        return "platform_chart_driver=helm: %s cannot be run (%s): %s" % (path, err, how)
    version = (done.stdout or "").strip()
    if done.returncode != 0 or not re.match(r"^v3\.\d+", version):
        return "platform_chart_driver=helm needs helm v3; %s answers %r%s: %s" % (
            path, version or "nothing", (" (%s)" % done.stderr.strip()[:200]) if done.stderr else "", how)
    return None
