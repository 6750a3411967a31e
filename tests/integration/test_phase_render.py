"""playbooks/phase1.yml end to end, in a private copy of the collection.

Render mode (the embedded default inventory, no cluster): the GitOps tree, objectives and report are
written, a second run changes nothing, tags limit a rerun or roll one component back, a failure is
rescued and recorded, and a refused preflight writes nothing. Apply mode against the API test server:
the objects stored by the server are exactly the labelled objects render writes, the run lock is
released, objectives are kept in a ConfigMap, and a second run changes nothing.

Component roles that are not in the checkout yet are replaced by stand-ins (tests/integration/phase_copy.py).
"""
import json
import os
import uuid

import pytest
import yaml

from tests.integration.k8s_compare import create_ready_node, delete_node, is_subset, load_rendered
from tests.integration.phase_copy import (PHASE1_COMPONENTS, copy_collection, default_fake_objects,
                                          ensure_phase1_components, fake_component, recap, run_playbook)

# What the real component roles render (checked for those present in the checkout), and what the
# whole phase 1 tree holds once every component role is real.
EXPECTED_KINDS = {
    "s3_storage": {"Namespace", "CephObjectStoreUser"},
    "postgres": {"Cluster"},
    "hive_metastore": {"HelmRelease", "HelmRepository"},
}
PHASE1_KINDS = {"Namespace", "CephObjectStoreUser", "Cluster", "ScheduledBackup", "HelmRelease", "HelmRepository"}
RUN_RECORDS = {"report.md", "report.json"}


def tree_snapshot(build):
    """{relative path: content} of every file under build/ except the per-run report."""
    snapshot = {}
    for root, _dirs, files in os.walk(str(build)):
        for name in files:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, str(build))
            if os.path.basename(relative) not in RUN_RECORDS:
                with open(path) as handle:
                    snapshot[relative] = handle.read()
    return snapshot


def secret_values_in(build):
    """Rendered Secrets carrying data, and files mentioning a value-like password/key field."""
    problems = []
    for root, _dirs, files in os.walk(str(build)):
        for name in files:
            path = os.path.join(root, name)
            with open(path) as handle:
                text = handle.read()
            if name.endswith(".yaml"):
                for doc in yaml.safe_load_all(text):
                    if isinstance(doc, dict) and doc.get("kind") == "Secret" and (doc.get("data") or doc.get("stringData")):
                        problems.append(path)
            for marker in ("password:", "\"password\":", "secretKey:", "AWS_SECRET_ACCESS_KEY:"):
                for line in text.splitlines():
                    stripped = line.strip()
                    if stripped.startswith(marker) and stripped[len(marker):].strip() not in ("", "null"):
                        problems.append("%s: %s" % (path, stripped))
    return problems


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One collection copy, phase 1 rendered twice with the default inventory."""
    collection = copy_collection(tmp_path_factory.mktemp("phase1-render"))
    faked = ensure_phase1_components(collection)
    first = run_playbook(collection, "playbooks/phase1.yml")
    build = collection / "build"
    after_first = tree_snapshot(build)
    first_report = json.loads((build / "phase1" / "report.json").read_text())
    second = run_playbook(collection, "playbooks/phase1.yml")
    return {"collection": collection, "build": build, "faked": faked, "first": first, "second": second,
            "after_first": after_first, "first_report": first_report, "after_second": tree_snapshot(build)}


def test_render_writes_the_gitops_tree_objectives_and_report(rendered):
    phase = rendered["build"] / "phase1"
    top = yaml.safe_load((phase / "kustomization.yaml").read_text())
    # A component that renders nothing (a check run against the cluster) has no directory.
    rendered_components = sorted(p.name for p in phase.iterdir() if p.is_dir())
    assert top["resources"] == rendered_components
    assert set(rendered["faked"]) | set(EXPECTED_KINDS) <= set(rendered_components)
    for component in rendered_components:
        kustomization = yaml.safe_load((phase / component / "kustomization.yaml").read_text())
        files = sorted(p.name for p in (phase / component).glob("*.yaml")
                       if p.name not in ("kustomization.yaml", "secret-references.yaml"))
        assert kustomization["resources"] == files, component
        for name in files:
            obj = yaml.safe_load((phase / component / name).read_text())
            assert obj["metadata"]["labels"]["lakehouse.platform/component"] == component
            assert obj["metadata"]["labels"]["lakehouse.platform/phase"] == "phase1"
    objects = load_rendered(str(phase))
    for component, kinds in EXPECTED_KINDS.items():
        if component not in rendered["faked"]:
            found = {kind for (kind, _ns, _name), obj in objects.items()
                     if obj["metadata"]["labels"]["lakehouse.platform/component"] == component}
            assert kinds <= found, (component, found)
    if not rendered["faked"]:
        assert PHASE1_KINDS <= {kind for (kind, _ns, _name) in objects}
    assert secret_values_in(rendered["build"]) == []

    objectives = json.loads((phase / "objectives.json").read_text())
    assert [(o["id"], o["state"]) for o in objectives["objectives"]] == [
        ("1.1", "rendered"), ("1.2", "rendered"), ("1.3", "rendered"), ("1.4", "rendered")]
    assert objectives["current_status"]["state"] == "rendered"
    assert objectives["override"]["why"].startswith("Manual override from the Phase 1 runbook")
    assert objectives["override"]["measured"] == "146Gi" and objectives["override"]["threshold"] == "200Gi"

    report = rendered["first_report"]
    assert report["outcome"] == "succeeded" and report["mode"] == "render"
    assert [c["component"] for c in report["components"]] == PHASE1_COMPONENTS
    assert all(c["timing"]["status"] == "ok" and c["timing"]["duration_s"] >= 0 for c in report["components"])
    assert report["override"]["who"] == objectives["override"]["who"]
    assert report["health"]["before"]["summary"] == "83.1% (108/130 pods)"
    assert report["storage"]["before"]["capacity"] == "146Gi"
    assert report["fit"]["fits"] is True
    assert {c["action"] for c in report["changes"]} == {"rendered"}
    assert "## Validations" in (phase / "report.md").read_text()
    markdown = (phase / "report.md").read_text()
    assert "**Manual override** by" in markdown and "| 1.4 | Metadata Backup | rendered |" in markdown


def test_second_render_changes_nothing(rendered):
    assert recap(rendered["second"].stdout)["changed"] == 0
    assert rendered["after_second"] == rendered["after_first"]
    report = json.loads((rendered["build"] / "phase1" / "report.json").read_text())
    assert report["changes"] == []


def test_objective_tag_runs_one_objective(rendered):
    run = run_playbook(rendered["collection"], "playbooks/phase1.yml", "--tags", "objective_1_3")
    report = json.loads((rendered["build"] / "phase1" / "report.json").read_text())
    assert [c["component"] for c in report["components"]] == ["iceberg"]
    assert recap(run.stdout)["changed"] == 0
    assert tree_snapshot(rendered["build"]) == rendered["after_first"]


def test_status_playbook_by_fqcn_prints_the_objectives(rendered):
    run = run_playbook(rendered["collection"], "lakehouse.platform.status")
    assert "1.3 | Iceberg Table Operations | rendered" in run.stdout
    assert "current_status" in run.stdout


def test_rollback_tag_removes_one_component_from_the_tree(rendered):
    phase = rendered["build"] / "phase1"
    before = sorted(p.name for p in phase.iterdir() if p.is_dir())
    assert "metadata_backup" in before
    run_playbook(rendered["collection"], "lakehouse.platform.phase1", "--tags", "rollback_metadata_backup")
    assert not (phase / "metadata_backup").exists()
    after = [name for name in before if name != "metadata_backup"]
    assert sorted(p.name for p in phase.iterdir() if p.is_dir()) == after
    assert yaml.safe_load((phase / "kustomization.yaml").read_text())["resources"] == after
    objectives = json.loads((phase / "objectives.json").read_text())
    assert {o["id"]: o["state"] for o in objectives["objectives"]} == {
        "1.1": "rendered", "1.2": "rendered", "1.3": "rendered", "1.4": "pending"}


def test_failure_is_rescued_recorded_and_reported(tmp_path):
    collection = copy_collection(tmp_path)
    ensure_phase1_components(collection)
    fake_component(collection, "iceberg", default_fake_objects("iceberg"), fail_in="apply")  # render mode waits for nothing
    run = run_playbook(collection, "playbooks/phase1.yml", check=False)
    assert run.returncode != 0
    assert "phase1 failed in iceberg (objective 1.3" in run.stdout
    assert "iceberg: injected failure in apply" in run.stdout
    phase = collection / "build" / "phase1"
    objectives = json.loads((phase / "objectives.json").read_text())
    states = {o["id"]: o for o in objectives["objectives"]}
    assert [states[i]["state"] for i in ("1.1", "1.2", "1.3", "1.4")] == ["rendered", "rendered", "failed", "pending"]
    assert "iceberg: injected failure in apply" in states["1.3"]["message"]
    report = json.loads((phase / "report.json").read_text())
    assert report["outcome"] == "failed" and report["failure"]["component"] == "iceberg"
    assert [c["timing"]["status"] for c in report["components"]] == ["ok", "ok", "ok", "failed"]
    # The failure stops the phase: metadata backup never ran.
    assert "metadata_backup" not in [c["component"] for c in report["components"]]


def test_a_failure_in_the_one_call_render_is_recorded_as_the_stages_would(tmp_path):
    """Phase 3's roles declare their apply step as data, so render mode renders every stage in one call: a failure in
    it (ray, the sixth step of stage 1) still names the component, fails its objective, leaves the stage's earlier
    members started but not done (as the stage runner would) and never starts the later steps."""
    collection = copy_collection(tmp_path)
    variables = collection / "roles" / "ray" / "vars" / "main.yml"
    text = variables.read_text()
    assert "\nray_apply_spec:\n" in text
    variables.write_text(text.replace("\nray_apply_spec:\n", "\nray_apply_spec:\n  notes: ['{{ ray_setting_the_test_never_sets }}']\n"))
    run = run_playbook(collection, "playbooks/phase3.yml", check=False)
    assert run.returncode != 0
    assert "phase3 failed in ray (objective 3.3" in run.stdout and "ray_setting_the_test_never_sets" in run.stdout
    phase = collection / "build" / "phase3"
    objectives = json.loads((phase / "objectives.json").read_text())
    states = dict((o["id"], o["state"]) for o in objectives["objectives"])
    assert states == {"3.1": "in_progress", "3.2": "in_progress", "3.3": "failed"}, states
    report = json.loads((phase / "report.json").read_text())
    assert report["outcome"] == "failed" and report["failure"]["component"] == "ray"
    timing = dict((c["component"], c["timing"]["status"]) for c in report["components"])
    assert timing == {"elasticsearch": "running", "kafka": "running", "neo4j": "running", "datahub": "running",
                      "doris": "running", "ray": "failed"}, timing
    # What rendered before the failure is in the tree, the later steps are not.
    assert (phase / "elasticsearch").is_dir() and not (phase / "kubeflow").exists()


def test_refused_preflight_writes_nothing(tmp_path):
    collection = copy_collection(tmp_path)
    ensure_phase1_components(collection)
    run = run_playbook(collection, "playbooks/phase1.yml", "-e", "platform_override_reason=''", check=False)
    assert run.returncode != 0
    assert "storage used is 146Gi, below the trigger of 200Gi" in run.stdout
    assert not (collection / "build").exists()


def _apply_inventory(collection, kube_api, state_namespace):
    inventory = collection / "inventories" / "apply-test"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    (inventory / "group_vars" / "all" / "platform.yml").write_text(yaml.safe_dump({
        "platform_mode": "apply", "platform_kubeconfig": kube_api.kubeconfig,
        "platform_state_namespace": state_namespace, "platform_operator": "phase-test",
        "platform_phase_triggers": {"phase1": {"storage_used": "1Ei"}},
        "platform_override_reason": "Integration test of the phase framework against the API test server.",
        "platform_render_dir": str(collection / "build")}))
    return "inventories/apply-test"


@pytest.fixture
def phase_node(kube_api, simulators):  # the simulators stand in for Flux, the driver preflight checks for
    name = create_ready_node(kube_api, "phase-" + uuid.uuid4().hex[:8])
    yield name
    delete_node(kube_api, name)


def test_apply_stores_exactly_what_render_writes_and_reruns_change_nothing(tmp_path, kube_api, phase_node):
    suffix = uuid.uuid4().hex[:6]
    namespace, state_namespace = "dp-" + suffix, "state-" + suffix
    collection = copy_collection(tmp_path)
    for index, component in enumerate(PHASE1_COMPONENTS):  # stand-ins for every component: a framework test
        fake_component(collection, component, default_fake_objects(component, namespace, with_namespace=index == 0))
    inventory = _apply_inventory(collection, kube_api, state_namespace)

    run_playbook(collection, "playbooks/phase1.yml")  # render, default inventory
    rendered_objects = load_rendered(str(collection / "build" / "phase1"))

    first = run_playbook(collection, "-i", inventory, "playbooks/phase1.yml", env=kube_api.env)
    client = kube_api.client()
    stored = {}
    for api_version, kind in {(o["apiVersion"], o["kind"]) for o in rendered_objects.values()}:
        resource = client.resources.get(api_version=api_version, kind=kind)
        for item in resource.get(label_selector="app.kubernetes.io/managed-by=lakehouse.platform").to_dict()["items"]:
            labels = item["metadata"].get("labels") or {}
            if labels.get("lakehouse.platform/phase") == "phase1" and (
                    item["metadata"].get("namespace") == namespace or item["metadata"]["name"] == namespace):
                stored[(kind, item["metadata"].get("namespace", ""), item["metadata"]["name"])] = item
    assert sorted(stored) == sorted(rendered_objects)
    for key, obj in rendered_objects.items():
        assert is_subset(obj, stored[key]) == [], key

    core = client.resources.get(api_version="v1", kind="ConfigMap")
    objectives = json.loads(core.get(name="lakehouse-platform-objectives", namespace=state_namespace).data["phase1"])
    assert objectives["current_status"]["state"] == "completed" and objectives["mode"] == "apply"
    recorded = json.loads(core.get(name="lakehouse-platform-inventory-s3-storage", namespace=state_namespace).data["objects"])
    assert {(r["kind"], r["name"]) for r in recorded} == {("Namespace", namespace), ("ConfigMap", "s3-storage-settings")}
    leases = client.resources.get(api_version="coordination.k8s.io/v1", kind="Lease")
    assert leases.get(namespace=state_namespace).to_dict()["items"] == []  # released
    report = json.loads((collection / "build" / "phase1" / "report.json").read_text())
    assert report["mode"] == "apply" and report["lock"]["released"] is True
    assert {c["action"] for c in report["changes"]} == {"created"}
    assert "after" in report["health"] and report["capacity_source"] == "cluster"
    assert report["validations"] == {"s3_storage": {"objects": 2}, "postgres": {"objects": 1},
                                     "hive_metastore": {"objects": 1}, "iceberg": {"objects": 1},
                                     "metadata_backup": {"objects": 1}}

    second = run_playbook(collection, "-i", inventory, "playbooks/phase1.yml", env=kube_api.env)
    assert recap(second.stdout)["changed"] == 0, second.stdout[-4000:]
    assert recap(first.stdout)["changed"] > 0


def test_apply_failure_rolls_back_the_failed_component_and_releases_the_lock(tmp_path, kube_api, phase_node):
    suffix = uuid.uuid4().hex[:6]
    namespace, state_namespace = "dp-" + suffix, "state-" + suffix
    collection = copy_collection(tmp_path)
    for index, component in enumerate(PHASE1_COMPONENTS):
        fake_component(collection, component, default_fake_objects(component, namespace, with_namespace=index == 0),
                       fail_in="wait" if component == "hive_metastore" else None)
    inventory = _apply_inventory(collection, kube_api, state_namespace)
    run = run_playbook(collection, "-i", inventory, "playbooks/phase1.yml", "-e", "platform_rollback_on_failure=true",
                       env=kube_api.env, check=False)
    assert run.returncode != 0
    assert "phase1 failed in hive_metastore (objective 1.2" in run.stdout
    client = kube_api.client()
    configmaps = client.resources.get(api_version="v1", kind="ConfigMap")
    names = {item["metadata"]["name"] for item in configmaps.get(namespace=namespace).to_dict()["items"]}
    # The failed component's object is gone; the components before it are untouched.
    assert "hive-metastore-settings" not in names
    assert {"s3-storage-settings", "postgres-settings"} <= names
    leases = client.resources.get(api_version="coordination.k8s.io/v1", kind="Lease")
    assert leases.get(namespace=state_namespace).to_dict()["items"] == []
    objectives = json.loads(configmaps.get(name="lakehouse-platform-objectives", namespace=state_namespace).data["phase1"])
    states = {o["id"]: o["state"] for o in objectives["objectives"]}
    assert states == {"1.1": "completed", "1.2": "failed", "1.3": "pending", "1.4": "pending"}
    report = json.loads((collection / "build" / "phase1" / "report.json").read_text())
    assert report["outcome"] == "failed" and report["failure"]["component"] == "hive_metastore"


def test_check_mode_on_a_fresh_cluster_sends_no_write(tmp_path, kube_api, phase_node):
    suffix = uuid.uuid4().hex[:6]
    namespace, state_namespace = "dp-" + suffix, "state-" + suffix
    collection = copy_collection(tmp_path)
    for index, component in enumerate(PHASE1_COMPONENTS):
        fake_component(collection, component, default_fake_objects(component, namespace, with_namespace=index == 0))
    inventory = _apply_inventory(collection, kube_api, state_namespace)
    kube_api.reset_counts()
    run = run_playbook(collection, "-i", inventory, "playbooks/phase1.yml", "--check", env=kube_api.env)
    counts = kube_api.request_counts()
    assert sum(counts.count(verb=v, dry_run=False) for v in ("create", "update", "patch", "delete")) == 0
    # The new Namespace is validated by a server dry run; objects inside it cannot be (it does not exist yet).
    assert counts.count(resource="namespaces", dry_run=True) >= 1
    assert "would be created without a server dry run" in run.stdout
    namespaces = kube_api.client().resources.get(api_version="v1", kind="Namespace")
    assert namespace not in {item["metadata"]["name"] for item in namespaces.get().to_dict()["items"]}
    report = json.loads((collection / "build" / "phase1" / "report.json").read_text())
    assert report["check_mode"] is True and report["outcome"] == "succeeded"
    assert "check mode: nothing was changed" in (collection / "build" / "phase1" / "report.md").read_text()
    assert recap(run.stdout)["failed"] == 0


def test_adding_a_component_is_its_role_and_one_catalog_line(tmp_path):
    """The phase engine's promise: a new component is its role, one line of the catalog (and a changelog
    fragment); no playbook, preflight, objectives or report file changes."""
    collection = copy_collection(tmp_path)
    fake_component(collection, "throwaway", default_fake_objects("throwaway"))
    catalog = collection / "playbooks" / "vars" / "phases.yml"
    before = catalog.read_text()
    after = before.replace("      - [metadata_backup]\n", "      - [metadata_backup, throwaway]\n")
    changed = [(old, new) for old, new in zip(before.splitlines(), after.splitlines()) if old != new]
    assert len(changed) == 1 and len(before.splitlines()) == len(after.splitlines()), changed
    catalog.write_text(after)

    tags = run_playbook(collection, "playbooks/phase1.yml", "--list-tags")
    assert "throwaway" in tags.stdout and "rollback_throwaway" in tags.stdout
    run_playbook(collection, "playbooks/phase1.yml")
    phase = collection / "build" / "phase1"
    assert (phase / "throwaway" / "configmap-throwaway-settings.yaml").exists()
    assert "throwaway" in yaml.safe_load((phase / "kustomization.yaml").read_text())["resources"]
    report = json.loads((phase / "report.json").read_text())
    assert [c["component"] for c in report["components"]][-1] == "throwaway"
    # preflight budgeted it from its role's defaults
    assert "throwaway" in report["budget_per_component"]
    only = run_playbook(collection, "playbooks/phase1.yml", "--tags", "throwaway")
    assert recap(only.stdout)["changed"] == 0
    assert [c["component"] for c in json.loads((phase / "report.json").read_text())["components"]] == ["throwaway"]


def test_an_unknown_tag_is_refused_before_anything(tmp_path):
    collection = copy_collection(tmp_path)
    run = run_playbook(collection, "playbooks/phase1.yml", "--tags", "icebrg", check=False)
    assert run.returncode != 0
    assert "unknown tag(s) icebrg" in run.stdout
    assert not (collection / "build").exists()


def test_a_bad_component_setting_is_named_before_anything(tmp_path):
    collection = copy_collection(tmp_path)
    run = run_playbook(collection, "playbooks/phase1.yml", "-e", '{"postgres_instances": "three"}', check=False)
    assert run.returncode != 0
    assert "postgres: " in run.stdout and "postgres_instances" in run.stdout
    assert not (collection / "build").exists()
