"""roles/chart_release and roles/manifests against the Kubernetes API test server (and its simulators).

What is pinned down: render writes exactly what apply stores (one source of truth); apply is idempotent,
labels every object, records only the objects it created, and rollback removes exactly those; check mode
sends no write; the Flux and Argo CD drivers wait for their readiness and fail naming the object.
"""
import json

import pytest
import yaml

from tests.integration.k8s_compare import require_real_crds, is_subset, load_rendered

CHART = {
    "chart_release_component": "demo",
    "chart_release_name": "demo-chart",
    "chart_release_repo_url": "https://charts.example.invalid/demo",
    "chart_release_chart": "demo",
    "chart_release_version": "1.2.0",
    "chart_release_values": {"auth": {"existingSecret": "demo-credentials"}, "replicaCount": 1},
    "chart_release_wait_timeout": 60,
    "chart_release_failure_grace": 0,
}


def include(role, tasks_from, **variables):
    return {"name": "%s %s" % (role, tasks_from),
            "ansible.builtin.include_role": {"name": "lakehouse.platform." + role, "tasks_from": tasks_from},
            "vars": variables}


def platform(namespace, mode="apply", render_dir="/nonexistent"):
    return {"platform_mode": mode, "platform_phase": "phase1", "platform_render_dir": str(render_dir),
            "platform_state_namespace": namespace}


def release(namespace, tasks_from="main", driver="flux", mode="apply", render_dir="/nonexistent", **extra):
    variables = dict(platform(namespace, mode, render_dir), chart_release_namespace=namespace,
                     chart_release_driver=driver, **CHART)
    variables.update(extra)
    return include("chart_release", tasks_from, **variables)


def get(kube_api, path):
    status, body, _headers = kube_api.request("GET", path)
    return body if status == 200 else None


def inventory(kube_api, namespace, component="demo"):
    cm = get(kube_api, "/api/v1/namespaces/%s/configmaps/lakehouse-platform-inventory-%s" % (namespace, component))
    return None if cm is None else json.loads(cm["data"]["objects"])


def assert_ok(run):
    assert run.rc == 0, run


@pytest.fixture(scope="module")
def helmrepository_crd(kube_api):
    require_real_crds(kube_api)


# First in the module, before any simulator process exists: the request counters are server-wide.
def test_check_mode_sends_only_dry_run_writes(kube_api, kube_namespace, k8s_playbook, helmrepository_crd):
    kube_api.reset_counts()
    run = k8s_playbook([release(kube_namespace, "apply")], check=True)
    assert_ok(run)
    counts = kube_api.request_counts()
    assert counts.count(verb="patch", dry_run=False) + counts.count(verb="create", dry_run=False) \
        + counts.count(verb="update", dry_run=False) + counts.count(verb="delete", dry_run=False) == 0
    assert counts.count(resource="helmreleases", dry_run=True) >= 1  # the server validated the would-be object
    assert get(kube_api, "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/demo-chart" % kube_namespace) is None


def test_flux_render_equals_apply_and_apply_is_idempotent(kube_api, kube_namespace, k8s_playbook, simulators,
                                                          helmrepository_crd, tmp_path):
    render_dir = tmp_path / "build"
    assert_ok(k8s_playbook([release(kube_namespace, "apply", driver="render", mode="render", render_dir=render_dir)]))
    rendered = load_rendered(str(render_dir / "phase1" / "demo"))
    assert sorted(rendered) == [("HelmRelease", kube_namespace, "demo-chart"),
                                ("HelmRepository", kube_namespace, "demo-chart")]

    first = k8s_playbook([release(kube_namespace, "main")])
    assert_ok(first)
    stored = {
        ("HelmRelease", kube_namespace, "demo-chart"):
            get(kube_api, "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/demo-chart" % kube_namespace),
        ("HelmRepository", kube_namespace, "demo-chart"):
            get(kube_api, "/apis/source.toolkit.fluxcd.io/v1/namespaces/%s/helmrepositories/demo-chart" % kube_namespace),
    }
    for key, obj in rendered.items():
        assert stored[key] is not None, key
        assert is_subset(obj, stored[key]) == [], key
    labels = stored[("HelmRelease", kube_namespace, "demo-chart")]["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "lakehouse.platform"
    assert labels["lakehouse.platform/component"] == "demo"
    assert labels["lakehouse.platform/phase"] == "phase1"
    # The simulated helm-controller released it, and the wait saw Ready for the current generation.
    hr = stored[("HelmRelease", kube_namespace, "demo-chart")]
    ready = [c for c in hr["status"]["conditions"] if c["type"] == "Ready"][0]
    assert ready["status"] == "True" and ready["observedGeneration"] == hr["metadata"]["generation"]

    recorded = inventory(kube_api, kube_namespace)
    assert {(r["kind"], r["name"]) for r in recorded} == {("HelmRepository", "demo-chart"), ("HelmRelease", "demo-chart")}

    second = k8s_playbook([release(kube_namespace, "main")])
    assert_ok(second)
    assert [r for r in second.results if r.get("changed")] == []


def test_rollback_removes_only_what_the_component_created(kube_api, kube_namespace, k8s_playbook, helmrepository_crd):
    # A ConfigMap that was there before the component: the component lists it, but did not create it.
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces/%s/configmaps" % kube_namespace, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pre-existing"}, "data": {"owner": "someone"}})
    assert status == 201, body
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pre-existing", "namespace": kube_namespace},
         "data": {"owner": "someone"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "created-here", "namespace": kube_namespace},
         "data": {"owner": "demo"}},
    ]
    apply = include("manifests", "apply", manifests_component="demo", manifests_objects=objects, **platform(kube_namespace))
    assert_ok(k8s_playbook([apply]))
    assert [r["name"] for r in inventory(kube_api, kube_namespace)] == ["created-here"]
    # A rerun finds both present and must not forget what it created.
    assert_ok(k8s_playbook([apply]))
    assert [r["name"] for r in inventory(kube_api, kube_namespace)] == ["created-here"]

    rollback = include("manifests", "rollback", manifests_component="demo", **platform(kube_namespace))
    assert_ok(k8s_playbook([rollback]))
    assert get(kube_api, "/api/v1/namespaces/%s/configmaps/created-here" % kube_namespace) is None
    assert get(kube_api, "/api/v1/namespaces/%s/configmaps/pre-existing" % kube_namespace) is not None
    assert inventory(kube_api, kube_namespace) is None
    # Nothing recorded any more: a second rollback is a no-op.
    second = k8s_playbook([rollback])
    assert_ok(second)
    assert [r for r in second.results if r.get("changed")] == []


def test_secret_values_are_refused_before_anything_is_sent(kube_api, kube_namespace, k8s_playbook):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "leak", "namespace": kube_namespace},
              "stringData": {"password": "hunter2hunter2"}}
    kube_api.reset_counts()
    run = k8s_playbook([include("manifests", "apply", manifests_component="demo", manifests_objects=[secret],
                                **platform(kube_namespace))])
    assert run.rc != 0
    assert "demo: the manifest list carries Secret values (leak)" in run.stdout
    assert "hunter2hunter2" not in run.stdout + run.stderr
    assert kube_api.request_counts().count(resource="secrets") == 0


def test_flux_release_that_stalls_fails_naming_the_object(kube_api, kube_namespace, k8s_playbook, simulators,
                                                          helmrepository_crd):
    simulators.set_namespace_behaviour(kube_namespace, kind="HelmRelease", mode="fail", delay_seconds=0.2,
                                       message="chart demo: image pull failed")
    run = k8s_playbook([release(kube_namespace, "main")])
    assert run.rc != 0
    failed = [r for r in run.results if r.get("failed")][-1]
    assert "HelmRelease" in failed["msg"] and "demo-chart" in failed["msg"], failed["msg"]
    assert "image pull failed" in failed["msg"] or "Stalled" in failed["msg"] or "retries" in failed["msg"].lower(), failed["msg"]


def test_argocd_release_waits_for_synced_and_healthy(kube_api, kube_namespace, k8s_playbook, simulators):
    run = k8s_playbook([release(kube_namespace, "main", driver="argocd", chart_release_argocd_namespace=kube_namespace)])
    assert_ok(run)
    app = get(kube_api, "/apis/argoproj.io/v1alpha1/namespaces/%s/applications/demo-chart" % kube_namespace)
    assert app["spec"]["source"] == {
        "repoURL": "https://charts.example.invalid/demo", "chart": "demo", "targetRevision": "1.2.0",
        "helm": {"releaseName": "demo-chart", "valuesObject": CHART["chart_release_values"]}}
    assert app["spec"]["destination"]["namespace"] == kube_namespace
    assert app["status"]["sync"]["status"] == "Synced" and app["status"]["health"]["status"] == "Healthy"
    assert {(r["kind"], r["name"]) for r in inventory(kube_api, kube_namespace)} == {("Application", "demo-chart")}


def test_release_inputs_are_checked_before_the_cluster_is_touched(kube_api, kube_namespace, k8s_playbook):
    kube_api.reset_counts()
    run = k8s_playbook([release(kube_namespace, "apply", chart_release_repo_url="ftp://charts.example.invalid")])
    assert run.rc != 0
    assert "repo_url=ftp://charts.example.invalid" in run.stdout
    # Nothing the release would touch was read or written (the simulators of other tests' objects may be
    # reading pods meanwhile: the counts are the server's).
    counts = kube_api.request_counts()
    assert counts.writes() == 0 and counts.dry_run_writes() == 0, counts
    assert sum(counts.count(resource=r) for r in ("helmrepositories", "helmreleases", "configmaps", "leases")) == 0, counts


def test_render_tree_files_and_kustomization(tmp_path, kube_namespace, k8s_playbook):
    render_dir = tmp_path / "build"
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "data-platform"},
                "data": {"a": "1"}}]
    refs = [{"name": "demo-credentials", "namespace": "data-platform", "keys": ["username", "password"]}]
    tasks = [include("manifests", "apply", manifests_component="demo", manifests_objects=objects,
                     manifests_secret_references=refs, **platform(kube_namespace, "render", render_dir)),
             release(kube_namespace, "apply", mode="render", render_dir=render_dir)]
    assert_ok(k8s_playbook(tasks))
    directory = render_dir / "phase1" / "demo"
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["configmap-settings.yaml", "helmrelease-demo-chart.yaml",
                                          "helmrepository-demo-chart.yaml"]
    assert yaml.safe_load((directory / "secret-references.yaml").read_text()) == {"secretReferences": refs}
    again = k8s_playbook(tasks)
    assert_ok(again)
    assert [r for r in again.results if r.get("changed")] == []
