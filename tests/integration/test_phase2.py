"""playbooks/phase2.yml end to end, in a private copy of the collection: phase 2 is one more entry of the phase
catalog (the Spark operator and Trino on the phase-1 Iceberg lakehouse).

* render mode writes build/phase2 (both components, objectives 2.1 and 2.2, the report) and a rerun changes nothing;
* apply mode on a cluster without phase 1 is refused by preflight, naming each missing prerequisite, before any write;
* with phase 1's outputs present (the Hive Metastore's Thrift endpoint, the S3 credentials Secret) it converges
  against the API test server and the simulators (Flux, spark-operator): the SparkPi validation job COMPLETED, the
  Trino validation (through the Trino stand-in, whose iceberg catalog is the suite's real Hive Metastore on the
  real Ceph gateway) counted the table phase 1's Iceberg check leaves and found what pyiceberg reads, and a rerun
  changes nothing.
"""
import json
import uuid

import pytest
import yaml

from tests.fixtures.local_server import serve
from tests.integration.k8s_compare import create_ready_node, delete_node, require_real_crds
from tests.integration.phase_copy import seed_phase1_outputs, copy_collection, write_inventory, recap, run_playbook
from tests.integration.trino_standin.fixture import TrinoStandIn
from tests.integration.trino_standin.tables import (
    create_table,
    drop_namespace,
    hive_catalog_properties,
    open_hive_catalog,
)


@pytest.fixture(scope="module")
def phase2(kube_api, tmp_path_factory):
    require_real_crds(kube_api, ["sparkapplications.sparkoperator.k8s.io", "helmreleases.helm.toolkit.fluxcd.io"])
    suffix = uuid.uuid4().hex[:6]
    ns = {key: "%s-%s" % (key, suffix) for key in ("dp", "spark", "jobs", "state")}
    collection = copy_collection(tmp_path_factory.mktemp("phase2"))
    variables = {
        "platform_mode": "apply", "platform_kubeconfig": kube_api.kubeconfig, "platform_operator": "phase2-test",
        "platform_namespace": ns["dp"], "platform_state_namespace": ns["state"],
        "platform_render_dir": str(collection / "build"),
        "spark_operator_namespace": ns["spark"], "spark_operator_job_namespace": ns["jobs"],
        "spark_operator_wait_timeout": 300, "spark_operator_validation_timeout": 300, "trino_wait_timeout": 300,
        "phase2_min_health_percent": 0,
    }
    node = create_ready_node(kube_api, "phase2-" + suffix)
    try:
        yield {"collection": collection, "ns": ns, "suffix": suffix,
               "apply": write_inventory(collection, "apply-test", variables)}
    finally:
        delete_node(kube_api, node)


@pytest.fixture(scope="module")
def phase1_table(hive_metastore):
    """What phase 1's Iceberg check leaves with iceberg_check_cleanup=false: <namespace>.phase1_check, two
    snapshots, in the real metastore with its files on the real Ceph gateway (written here with pyiceberg's Hive
    catalog, as the check does)."""
    catalog = open_hive_catalog(hive_metastore)
    namespace = "lakehouse_check_" + uuid.uuid4().hex[:6]
    table = create_table(catalog, hive_metastore.warehouse, namespace, "phase1_check", [6, 4])
    yield {"namespace": namespace, "name": "iceberg.%s.phase1_check" % namespace,
           "rows": table.scan().to_arrow().num_rows}
    drop_namespace(catalog, hive_metastore.warehouse, namespace)


@pytest.fixture(scope="module")
def trino_standin(hive_metastore, phase1_table):
    yield from serve(TrinoStandIn({"iceberg": {"connector": "iceberg", "pyiceberg": hive_catalog_properties(
        hive_metastore)}}), "Trino stand-in")


def test_render_writes_phase2_and_a_rerun_changes_nothing(phase2):
    collection = phase2["collection"]
    first = run_playbook(collection, "playbooks/phase2.yml")
    second = run_playbook(collection, "playbooks/phase2.yml")
    assert recap(first.stdout)["changed"] > 0 and recap(second.stdout)["changed"] == 0, second.stdout[-3000:]
    build = collection / "build" / "phase2"
    assert yaml.safe_load((build / "kustomization.yaml").read_text())["resources"] == ["spark_operator", "trino"]
    objectives = json.loads((build / "objectives.json").read_text())
    assert [(o["id"], o["state"]) for o in objectives["objectives"]] == [("2.1", "rendered"), ("2.2", "rendered")]
    report = json.loads((build / "report.json").read_text())
    assert [c["component"] for c in report["components"]] == ["spark_operator", "trino"]
    assert report["fit"]["fits"] is True
    tags = run_playbook(collection, "playbooks/phase2.yml", "--list-tags").stdout
    for tag in ("spark_operator", "trino", "objective_2_1", "objective_2_2", "rollback_trino", "rollback_spark_operator"):
        assert tag in tags


def test_apply_without_phase1_is_refused_before_any_write(phase2, kube_api):
    kube_api.reset_counts()
    run = run_playbook(phase2["collection"], "-i", phase2["apply"], "playbooks/phase2.yml", env=kube_api.env,
                       check=False)
    counts = kube_api.request_counts()
    assert run.returncode != 0
    assert "phase2 needs what earlier phases deploy" in run.stdout
    assert "the phase-1 Hive Metastore" in run.stdout and "hive-metastore): not found" in run.stdout
    assert "the S3 credentials of the phase-1 Rook user" in run.stdout
    assert counts.writes() == 0, counts


def test_apply_with_phase1_present_converges_and_a_rerun_changes_nothing(
        phase2, kube_api, simulators, trino_standin, phase1_table):
    ns = phase2["ns"]
    # The coordinator as the controller reaches it (the stand-in), the table phase 1 kept, and the row count
    # pyiceberg reads from it.
    (phase2["collection"] / phase2["apply"] / "group_vars" / "all" / "trino.yml").write_text(yaml.safe_dump({
        "trino_validate_host": trino_standin.host, "trino_validate_port": trino_standin.port,
        "trino_validate_retries": 2, "trino_validate_delay": 1, "iceberg_check_cleanup": False,
        "iceberg_check_namespace": phase1_table["namespace"],
        "trino_validate_expected_rows": phase1_table["rows"]}))
    seed_phase1_outputs(kube_api, ns)  # what phase 1 leaves
    collection = phase2["collection"]
    first = run_playbook(collection, "-i", phase2["apply"], "playbooks/phase2.yml", env=kube_api.env, timeout=2400)
    assert recap(first.stdout)["changed"] > 0
    report = json.loads((collection / "build" / "phase2" / "report.json").read_text())
    assert report["outcome"] == "succeeded" and report["mode"] == "apply"
    assert report["validations"]["spark_operator"]["state"] == "COMPLETED", report["validations"]
    trino = report["validations"]["trino"]
    assert trino["catalogs"] == ["iceberg", "system"], trino
    assert phase1_table["rows"] == 10
    assert (trino["table"], trino["table_rows"], trino["expected_rows"]) == (phase1_table["name"], 10, 10), trino
    assert ["SHOW CATALOGS", "SELECT count(*) FROM " + phase1_table["name"]] == [
        q["sql"] for q in trino_standin.queries()]
    state = ns["state"]
    status, body, _headers = kube_api.request("GET", "/api/v1/namespaces/%s/configmaps/lakehouse-platform-objectives"
                                              % state)
    assert status == 200, body
    objectives = json.loads(body["data"]["phase2"])
    assert objectives["current_status"]["state"] == "completed"

    kube_api.reset_counts()
    second = run_playbook(collection, "-i", phase2["apply"], "playbooks/phase2.yml", env=kube_api.env, timeout=2400)
    assert recap(second.stdout)["changed"] == 0, second.stdout[-5000:]


def _exists(kube_api, path):
    return kube_api.request("GET", path)[0] == 200


def test_a_failed_spark_job_fails_the_run_and_rolls_back_only_spark_then_rollback_tags_and_check_mode(
        phase2, kube_api, simulators):
    """Failure injection (the SparkPi job FAILED), then the rollback tags, then --check with zero writes."""
    ns, collection, inventory = phase2["ns"], phase2["collection"], phase2["apply"]
    spark_release = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/spark-operator" % ns["spark"]
    trino_release = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/trino" % ns["dp"]
    if not (_exists(kube_api, spark_release) and _exists(kube_api, trino_release)):
        pytest.fail("needs the converged phase 2 of the apply test")
    simulators.set_namespace_behaviour(ns["jobs"], kind="SparkApplication", mode="fail", message="injected failure")
    failed = run_playbook(collection, "-i", inventory, "playbooks/phase2.yml", "-e", "platform_rollback_on_failure=true",
                          env=kube_api.env, check=False, timeout=1800)
    simulators.set_namespace_behaviour(ns["jobs"], kind="SparkApplication", mode=None, message=None)
    assert failed.returncode != 0
    assert "phase2 failed in spark_operator (objective 2.1, step validate" in failed.stdout, failed.stdout[-4000:]
    assert "FAILED" in failed.stdout
    # Only the failing component was rolled back; Trino (and the namespaces, which the test made) stay.
    assert not _exists(kube_api, spark_release)
    assert _exists(kube_api, trino_release)
    report = json.loads((collection / "build" / "phase2" / "report.json").read_text())
    assert report["outcome"] == "failed" and report["failure"]["component"] == "spark_operator"

    run_playbook(collection, "-i", inventory, "playbooks/phase2.yml", "--tags", "rollback_trino", env=kube_api.env,
                 timeout=900)
    assert not _exists(kube_api, trino_release)
    status, body, _headers = kube_api.request(
        "GET", "/api/v1/namespaces/%s/configmaps/lakehouse-platform-objectives" % ns["state"])
    assert status == 200, body
    states = {o["id"]: o["state"] for o in json.loads(body["data"]["phase2"])["objectives"]}
    # 2.1 keeps its failure (and message) until it is rolled back by tag or deployed again.
    assert states == {"2.1": "failed", "2.2": "pending"}, states
    run_playbook(collection, "-i", inventory, "playbooks/phase2.yml", "--tags", "rollback", env=kube_api.env,
                 timeout=900)  # the whole phase, newest first; nothing is left to delete, it still succeeds
    status, body, _headers = kube_api.request(
        "GET", "/api/v1/namespaces/%s/configmaps/lakehouse-platform-objectives" % ns["state"])
    states = {o["id"]: o["state"] for o in json.loads(body["data"]["phase2"])["objectives"]}
    assert states == {"2.1": "pending", "2.2": "pending"}, states

    # --check of the whole phase on what is left: nothing persisted (the simulators are stopped so every write
    # counted would be the playbook's).
    simulators.stop()
    kube_api.reset_counts()
    check = run_playbook(collection, "-i", inventory, "playbooks/phase2.yml", "--check", env=kube_api.env, timeout=900)
    counts = kube_api.request_counts()
    assert sum(counts.count(verb=v, dry_run=False) for v in ("create", "update", "patch", "delete")) == 0, counts
    assert recap(check.stdout)["failed"] == 0
