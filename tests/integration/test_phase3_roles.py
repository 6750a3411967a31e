"""Phase 3 roles on their own, against the Kubernetes API test server and the simulators: paths the phase
test does not take. Kubeflow through Argo CD (Applications with path sources, waited Synced + Healthy, then the
seed's Deployments); a Doris member failure that fails the wait fast, naming the component, the object and
its last status."""
import json
import threading
import uuid

import pytest

from tests.integration.k8s_compare import require_real_crds
from tests.integration.phase1_helpers import run_playbook

APP_DEPLOYMENTS = {"kubeflow-pipelines-crds": [],
                   "kubeflow-pipelines": ["ml-pipeline", "ml-pipeline-ui", "ml-pipeline-persistenceagent"],
                   "katib": ["katib-controller", "katib-db-manager", "katib-ui"]}
KUBEFLOW_DEPLOYMENTS = [name for names in APP_DEPLOYMENTS.values() for name in names]


def _steer_applications(kube_api, namespace, stop):
    """Tell the Argo CD simulator which Deployments each Application's sync creates (one owner each)."""
    path = "/apis/argoproj.io/v1alpha1/namespaces/%s/applications" % namespace
    while not stop.wait(0.2):
        status, body, _headers = kube_api.request("GET", path)
        for app in body.get("items", []) if status == 200 else []:
            name = app["metadata"]["name"]
            if name in APP_DEPLOYMENTS and "sim.lakehouse.test/workloads" not in (app["metadata"].get("annotations") or {}):
                kube_api.request("PATCH", path + "/" + name, {"metadata": {"annotations": {
                    "sim.lakehouse.test/workloads": ",".join(APP_DEPLOYMENTS[name]) or "false"}}},
                    content_type="application/merge-patch+json")


def role_task(role, tasks_from="main"):
    return {"name": "Run %s %s" % (role, tasks_from),
            "ansible.builtin.include_role": {"name": "lakehouse.platform." + role, "tasks_from": tasks_from}}


def _get(kube_api, path):
    status, body, _headers = kube_api.request("GET", path)
    return body if status == 200 else None


def _namespace(kube_api, name, annotations=None):
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": annotations or {}}})
    assert status == 201, body
    return name


@pytest.fixture
def suffix():
    return uuid.uuid4().hex[:6]


def test_kubeflow_through_argocd_waits_for_the_applications_and_deployments(tmp_path, kube_api, simulators, suffix):
    argocd = _namespace(kube_api, "argocd-" + suffix)
    kubeflow = _namespace(kube_api, "kubeflow-" + suffix)
    variables = {"platform_mode": "apply", "platform_phase": "phase3", "platform_state_namespace": "state-" + suffix,
                 "platform_chart_driver": "argocd", "kubeflow_argocd_namespace": argocd,
                 "kubeflow_namespace": kubeflow, "kubeflow_wait_timeout": 120}
    stop = threading.Event()
    steering = threading.Thread(target=_steer_applications, args=(kube_api, argocd, stop), daemon=True)
    steering.start()
    try:
        run = run_playbook(tmp_path, [role_task("kubeflow")], extra_vars=variables, env=kube_api.env)
    finally:
        stop.set()
        steering.join(timeout=10)
    assert run.returncode == 0, run

    apps = {name: _get(kube_api, "/apis/argoproj.io/v1alpha1/namespaces/%s/applications/%s" % (argocd, name))
            for name in ("kubeflow-pipelines-crds", "kubeflow-pipelines", "katib")}
    assert apps["kubeflow-pipelines"]["spec"]["source"] == {
        "repoURL": "https://github.com/kubeflow/pipelines", "targetRevision": "2.4.0",
        "path": "manifests/kustomize/env/platform-agnostic"}
    assert apps["katib"]["spec"]["source"]["targetRevision"] == "v0.17.0"
    assert all(app["status"]["health"]["status"] == "Healthy" for app in apps.values())
    assert all(app["metadata"]["labels"]["lakehouse.platform/component"] == "kubeflow" for app in apps.values())
    for name in KUBEFLOW_DEPLOYMENTS:
        deployment = _get(kube_api, "/apis/apps/v1/namespaces/%s/deployments/%s" % (kubeflow, name))
        assert deployment["status"]["readyReplicas"] == 1, name
    recorded = json.loads(_get(kube_api, "/api/v1/namespaces/state-%s/configmaps/lakehouse-platform-inventory-kubeflow"
                               % suffix)["data"]["objects"])
    assert sorted(r["name"] for r in recorded) == ["katib", "kubeflow-pipelines", "kubeflow-pipelines-crds"]

    rerun = run_playbook(tmp_path, [role_task("kubeflow")], extra_vars=variables, env=kube_api.env)
    assert rerun.returncode == 0, rerun
    assert rerun.changed_tasks() == [], rerun.changed_tasks()

    rollback = run_playbook(tmp_path, [role_task("kubeflow", "rollback")], extra_vars=variables, env=kube_api.env)
    assert rollback.returncode == 0, rollback
    for name in apps:
        assert _get(kube_api, "/apis/argoproj.io/v1alpha1/namespaces/%s/applications/%s" % (argocd, name)) is None
    # The namespace was not the component's: it stays.
    assert _get(kube_api, "/api/v1/namespaces/" + kubeflow) is not None


def test_doris_member_failure_fails_fast_naming_the_object_and_its_status(tmp_path, kube_api, simulators, suffix):
    require_real_crds(kube_api)
    doris = _namespace(kube_api, "doris-" + suffix)
    simulators.set_namespace_behaviour(doris, kind="DorisCluster", **{
        "be.mode": "fail", "be.message": "Back-off restarting failed container be in pod doris-cluster-be-0"})
    variables = {"platform_mode": "apply", "platform_phase": "phase3", "platform_state_namespace": "state-" + suffix,
                 "doris_namespace": doris, "doris_operator_namespace": "doris-operator-" + suffix,
                 "doris_failure_grace": 2, "doris_wait_timeout": 120, "doris_operator_wait_timeout": 120}
    run = run_playbook(tmp_path, [role_task("doris")], extra_vars=variables, env=kube_api.env)
    assert run.returncode != 0
    errors = run.errors()
    assert "DorisCluster %s/doris-cluster failed: be haveMemberFailed" % doris in errors, errors
    assert "Back-off restarting failed container be" in errors
    # Stage 1 went through before the cluster failed: the operator release is Ready, the Secret exists.
    release = _get(kube_api, "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/doris-operator" % doris)
    assert [c["status"] for c in release["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    assert _get(kube_api, "/api/v1/namespaces/%s/secrets/doris-auth" % doris)["type"] == "kubernetes.io/basic-auth"
