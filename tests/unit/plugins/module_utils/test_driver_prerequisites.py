# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""driver_prerequisites: what each chart driver needs before an apply run writes anything."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

from ansible_collections.lakehouse.platform.plugins.module_utils.driver_prerequisites import (
    driver_prerequisites,
    helm_binary_problem,
)


def names(items):
    return [(i["kind"], i.get("namespace"), i["name"]) for i in items]


def test_flux_needs_its_crds_and_controllers_ready():
    items = driver_prerequisites("flux", flux_namespace="gitops")
    assert names(items) == [
        ("CustomResourceDefinition", None, "helmrepositories.source.toolkit.fluxcd.io"),
        ("CustomResourceDefinition", None, "helmreleases.helm.toolkit.fluxcd.io"),
        ("Deployment", "gitops", "source-controller"), ("Deployment", "gitops", "helm-controller")]
    assert all(i["ready"] for i in items)
    assert "install Flux into gitops" in items[0]["how"] and "platform_flux_namespace" in items[0]["how"]


def test_flux_with_a_kustomize_component_needs_the_kustomize_controller_too():
    kinds = names(driver_prerequisites("flux", kustomize=True))
    assert ("CustomResourceDefinition", None, "kustomizations.kustomize.toolkit.fluxcd.io") in kinds
    assert ("Deployment", "flux-system", "kustomize-controller") in kinds


def test_argocd_needs_the_application_crd_and_controller():
    assert names(driver_prerequisites("argocd", argocd_namespace="cd")) == [
        ("CustomResourceDefinition", None, "applications.argoproj.io"),
        ("StatefulSet", "cd", "argocd-application-controller")]


def test_helm_and_render_need_nothing_on_the_cluster():
    assert driver_prerequisites("helm") == [] and driver_prerequisites("render") == []


def answer(stdout, rc=0, stderr=""):
    return lambda *a, **k: subprocess.CompletedProcess(a[0], rc, stdout, stderr)


def test_helm_binary_missing_wrong_version_and_fine():
    assert "there is none on the PATH" in helm_binary_problem(which=lambda _: None)
    problem = helm_binary_problem(which=lambda _: "/bin/helm", run=answer("v4.0.1"))
    assert "needs helm v3" in problem and "'v4.0.1'" in problem
    problem = helm_binary_problem(which=lambda _: "/bin/helm", run=answer("", 1, "boom"))
    assert "(boom)" in problem
    assert helm_binary_problem(which=lambda _: "/bin/helm", run=answer("v3.17.2")) is None
