"""lakehouse.platform.kubeflow_gitops_objects: a Flux GitRepository per upstream repository (first install of each
source) then a Kustomization per install with dependsOn where given, or an Argo CD Application per install; a
malformed install or an unknown driver is refused naming it."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.kubeflow import kubeflow_gitops_objects

SETTINGS = {"flux_namespace": "flux-system", "interval": "1h", "wait_timeout": 900, "argocd_namespace": "argocd",
            "argocd_project": "default", "argocd_destination_server": "https://kubernetes.default.svc",
            "namespace": "kubeflow"}
INSTALLS = [
    {"name": "kubeflow-pipelines-crds", "source": "kubeflow-pipelines", "repo": "https://github.com/kubeflow/pipelines",
     "version": "2.5.0", "path": "manifests/kustomize/cluster-scoped-resources", "depends_on": []},
    {"name": "kubeflow-pipelines", "source": "kubeflow-pipelines", "repo": "https://github.com/kubeflow/pipelines",
     "version": "2.5.0", "path": "manifests/kustomize/env/platform-agnostic",
     "depends_on": [{"name": "kubeflow-pipelines-crds"}]},
    {"name": "katib", "source": "katib", "repo": "https://github.com/kubeflow/katib", "version": "v0.18.0",
     "path": "manifests/v1beta1/installs/katib-standalone", "depends_on": []},
]


def test_flux_one_repository_per_source_then_one_kustomization_per_install():
    objects = kubeflow_gitops_objects(INSTALLS, "flux", SETTINGS)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("GitRepository", "kubeflow-pipelines"), ("GitRepository", "katib"),
        ("Kustomization", "kubeflow-pipelines-crds"), ("Kustomization", "kubeflow-pipelines"), ("Kustomization", "katib")]
    assert objects[0]["spec"] == {"url": "https://github.com/kubeflow/pipelines", "ref": {"tag": "2.5.0"}, "interval": "1h"}
    pipelines = objects[3]["spec"]
    assert list(pipelines) == ["interval", "path", "prune", "wait", "timeout", "sourceRef", "dependsOn"]
    assert pipelines["path"] == "./manifests/kustomize/env/platform-agnostic" and pipelines["timeout"] == "900s"
    assert pipelines["dependsOn"] == [{"name": "kubeflow-pipelines-crds"}]
    assert "dependsOn" not in objects[2]["spec"]


def test_argocd_one_application_per_install_synced_server_side():
    objects = kubeflow_gitops_objects(INSTALLS, "argocd", SETTINGS)
    assert [o["kind"] for o in objects] == ["Application"] * 3
    spec = objects[2]["spec"]
    assert spec["source"] == {"repoURL": "https://github.com/kubeflow/katib", "targetRevision": "v0.18.0",
                              "path": "manifests/v1beta1/installs/katib-standalone"}
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "kubeflow"}
    assert "ServerSideApply=true" in spec["syncPolicy"]["syncOptions"]


@pytest.mark.parametrize("installs, driver, settings, words", [
    ([{"name": "x"}], "flux", SETTINGS, "install 0 needs source, repo, version, path"),
    (INSTALLS, "helm", SETTINGS, "driver must be flux or argocd, got 'helm'"),
    (INSTALLS, "flux", {"interval": "1h"}, "settings need"),
    ("katib", "flux", SETTINGS, "expects a list of installs"),
])
def test_bad_input_is_refused_naming_it(installs, driver, settings, words):
    with pytest.raises(AnsibleFilterError, match=words):
        kubeflow_gitops_objects(installs, driver, settings)
