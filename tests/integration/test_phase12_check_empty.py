"""--check of phases 1 and 2 with their real roles on a cluster EMPTY of the platform (none of the phase's
namespaces exist), whole and tag-limited: nothing is stored, what cannot be dry-run is reported, nothing fails.

The cluster has what the phases do not install: the real CRDs, two Ready nodes, Rook's namespace (phase 1's
prerequisite), Flux (the simulators stand in for its controllers) and the StorageClasses (announced by the
simulators); phase 2 also finds what phase 1 leaves (the metastore's Endpoints and the S3 keys Secret), made by
hand in a namespace of its own.
"""
import os
import uuid

import pytest
import yaml

from tests.integration.k8s_compare import create_ready_node, delete_node, require_real_crds
from tests.integration.phase_copy import copy_collection, recap, run_playbook, seed_phase1_leftovers


@pytest.fixture(scope="module")
def empty_cluster(kube_api, tmp_path_factory, _simulator_runner):
    require_real_crds(kube_api)
    _simulator_runner.ensure(kube_api)
    suffix = uuid.uuid4().hex[:6]
    fresh = dict((key, "%s-empty-%s" % (key, suffix)) for key in ("dp", "state", "spark", "jobs", "p1dp"))
    rook = "storage-empty-" + suffix
    nodes = [create_ready_node(kube_api, "empty12-%s-%d" % (suffix, i)) for i in range(2)]

    def create(path, body):
        status, answer, _headers = kube_api.request("POST", path, body)
        assert status == 201, answer
    # Rook's namespace is the operator's, not the phase's; phase 1's outputs for phase 2 in a namespace of their own.
    for name in (rook, fresh["p1dp"]):
        create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    seed_phase1_leftovers(kube_api, fresh["p1dp"])
    collection = copy_collection(tmp_path_factory.mktemp("phase12-empty"))
    inventories = {}
    for phase, variables in (
            ("phase1", {"platform_namespace": fresh["dp"], "s3_storage_rook_namespace": rook}),
            ("phase2", {"platform_namespace": fresh["p1dp"], "spark_operator_namespace": fresh["spark"],
                        "spark_operator_job_namespace": fresh["jobs"], "trino_namespace": fresh["jobs"]})):
        inventory = collection / "inventories" / ("empty-" + phase)
        (inventory / "group_vars" / "all").mkdir(parents=True)
        (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
        (inventory / "group_vars" / "all" / "test.yml").write_text(yaml.safe_dump(dict(
            variables, platform_mode="apply", platform_kubeconfig=kube_api.kubeconfig,
            platform_operator="empty-check-test", platform_state_namespace=fresh["state"],
            platform_render_dir=str(collection / "build"),
            platform_override_reason="check mode of a fresh cluster, below the storage trigger")))
        inventories[phase] = os.path.join("inventories", "empty-" + phase)
    try:
        yield {"collection": collection, "inventories": inventories, "fresh": fresh}
    finally:
        for node in nodes:
            delete_node(kube_api, node)
        for name in (rook, fresh["p1dp"]):
            kube_api.request("DELETE", "/api/v1/namespaces/" + name)


PHASE1 = ("s3_storage", "postgres", "hive_metastore", "iceberg", "metadata_backup")
PHASE2 = ("spark_operator", "trino")
CASES = ([("phase1", None)] + [("phase1", c) for c in PHASE1]
         + [("phase2", None)] + [("phase2", c) for c in PHASE2])


@pytest.mark.parametrize("phase,component", CASES, ids=["%s-%s" % (p, c or "whole") for p, c in CASES])
def test_check_mode_on_an_empty_cluster_sends_no_write(empty_cluster, kube_api, phase, component):
    collection, fresh = empty_cluster["collection"], empty_cluster["fresh"]
    tags = ["--tags", component] if component else []
    kube_api.reset_counts()
    run = run_playbook(collection, "-i", empty_cluster["inventories"][phase], "playbooks/%s.yml" % phase, "--check",
                       *tags, env=kube_api.env, timeout=900)
    counts = kube_api.request_counts()
    assert recap(run.stdout)["failed"] == 0, run.stdout[-4000:]
    assert sum(counts.count(verb=v, dry_run=False) for v in ("create", "update", "patch", "delete")) == 0, counts
    # What goes into a namespace that does not exist yet cannot be dry-run and is reported; s3_storage's objects
    # can (its Namespace, the user in Rook's existing namespace) and iceberg writes no object.
    if component not in ("s3_storage", "iceberg"):
        assert "would be created without a server dry run" in run.stdout, run.stdout[-3000:]
    names = {item["metadata"]["name"] for item in kube_api.client().resources.get(
        api_version="v1", kind="Namespace").get().to_dict()["items"]}
    assert not {fresh[key] for key in ("dp", "state", "spark", "jobs")} & names
