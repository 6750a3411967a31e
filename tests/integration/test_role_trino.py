"""The trino role on its own: render mode (the HelmRelease values: catalogs, S3 keys by Secret reference only),
bad settings refused before anything is written, and one apply-mode run against the Kubernetes API test server
with the Flux simulator (wait, validation through the Trino stand-in, idempotent rerun, rollback).

The validation counts a real Iceberg table: the one the phase-1 Iceberg check (the iceberg role, same run) leaves
in the suite's real Hive Metastore with its files on the real Ceph gateway; the stand-in reads it through that
metastore, and the role compares Trino's count with what pyiceberg read in the check."""
import glob
import os
import uuid

import pytest
import yaml

from tests.fixtures.local_server import serve
from tests.integration.phase1_helpers import run_playbook
from tests.integration.trino_standin.fixture import TrinoStandIn
from tests.integration.trino_standin.tables import (
    append,
    drop_namespace,
    hive_catalog_properties,
    open_hive_catalog,
)


def role_task(tasks_from="main"):
    return {"name": "Run trino %s" % tasks_from,
            "ansible.builtin.include_role": {"name": "lakehouse.platform.trino", "tasks_from": tasks_from}}


def rendered(build):
    docs = {}
    for path in glob.glob(os.path.join(str(build), "phase2", "trino", "*.yaml")):
        with open(path) as handle:
            docs[os.path.basename(path)] = yaml.safe_load(handle)
    return docs


def properties(text):
    return dict(line.split("=", 1) for line in text.splitlines() if line.strip())


def test_render_writes_catalogs_and_secret_references_only(tmp_path):
    build = tmp_path / "build"
    run = run_playbook(tmp_path, [role_task("apply")], extra_vars={
        "platform_mode": "render", "platform_phase": "phase2", "platform_render_dir": str(build),
        "trino_hive_catalog_enabled": True, "hive_metastore_release": "hms", "hive_metastore_namespace": "meta"})
    assert run.returncode == 0, run
    docs = rendered(build)
    release = docs["helmrelease-trino.yaml"]
    assert release["spec"]["chart"]["spec"]["version"] == "1.42.2"
    assert docs["helmrepository-trino.yaml"]["spec"]["url"] == "https://trinodb.github.io/charts"
    values = release["spec"]["values"]
    assert values["server"]["workers"] == 5
    assert values["coordinator"]["resources"]["requests"] == {"cpu": "2", "memory": "10Gi"}
    assert values["worker"]["resources"]["limits"] == {"cpu": "2", "memory": "12Gi"}
    assert values["worker"]["jvm"]["maxHeapSize"] == "9G"
    iceberg = properties(values["catalogs"]["iceberg"])
    assert iceberg == {
        "connector.name": "iceberg", "iceberg.catalog.type": "hive_metastore",
        "hive.metastore.uri": "thrift://hms.meta.svc.cluster.local:9083", "fs.native-s3.enabled": "true",
        "s3.endpoint": "http://rook-ceph-rgw-storage.storage.svc:80", "s3.region": "us-east-1",
        "s3.path-style-access": "true", "s3.aws-access-key": "${ENV:AWS_ACCESS_KEY_ID}",
        "s3.aws-secret-key": "${ENV:AWS_SECRET_ACCESS_KEY}"}
    assert properties(values["catalogs"]["hive"])["connector.name"] == "hive"
    assert values["env"] == [
        {"name": "AWS_ACCESS_KEY_ID",
         "valueFrom": {"secretKeyRef": {"name": "iceberg-s3-credentials", "key": "AWS_ACCESS_KEY_ID"}}},
        {"name": "AWS_SECRET_ACCESS_KEY",
         "valueFrom": {"secretKeyRef": {"name": "iceberg-s3-credentials", "key": "AWS_SECRET_ACCESS_KEY"}}}]
    refs = docs["secret-references.yaml"]["secretReferences"]
    assert [(r["name"], r["keys"]) for r in refs] == [
        ("iceberg-s3-credentials", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])]
    assert not any(doc.get("kind") == "Secret" for doc in docs.values() if isinstance(doc, dict))


@pytest.mark.parametrize("overrides, named", [
    ({"trino_workers": 0}, "trino_workers must be at least 1 (got 0)"),
    ({"trino_iceberg_catalog_type": "glue"}, "hive_metastore or rest (got glue)"),
    ({"trino_s3_credentials_secret": ""}, "trino_s3_credentials_secret must name the S3 credentials Secret (got '')"),
])
def test_bad_settings_are_refused_before_anything_is_written(tmp_path, overrides, named):
    build = tmp_path / "build"
    run = run_playbook(tmp_path, [role_task("apply")], extra_vars=dict(
        {"platform_mode": "render", "platform_phase": "phase2", "platform_render_dir": str(build)}, **overrides))
    assert run.returncode != 0
    assert named in " ".join(run.errors().split()), run.errors()
    assert not build.exists() or rendered(build) == {}


@pytest.fixture
def standin(hive_metastore):
    """The stand-in with its iceberg catalog on the real metastore (Thrift) and the real Ceph warehouse."""
    yield from serve(TrinoStandIn({"iceberg": dict(connector="iceberg", pyiceberg=hive_catalog_properties(
        hive_metastore))}), "Trino stand-in")


def _get(kube_api, path):
    status, body, _headers = kube_api.request("GET", path)
    return body if status == 200 else None


def test_apply_wait_validate_rerun_and_rollback(tmp_path, kube_api, simulators, standin, hive_metastore):
    suffix = uuid.uuid4().hex[:6]
    namespace = "trino-" + suffix
    check_namespace = "lakehouse_check_" + suffix
    table = "iceberg.%s.phase1_check" % check_namespace
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "annotations": {
            "helmrelease.sim.lakehouse.test/workloads": "trino-coordinator,trino-worker"}}})
    assert status == 201, body
    s3 = hive_metastore.s3
    # What phase 1 leaves: the Rook user's keys (here the metastore's warehouse user) in the consumer Secret.
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces/%s/secrets" % namespace, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "iceberg-s3-credentials"},
        "stringData": {"AWS_ACCESS_KEY_ID": s3["access_key"], "AWS_SECRET_ACCESS_KEY": s3["secret_key"]}})
    assert status == 201, body
    variables = {"platform_mode": "apply", "platform_phase": "phase2", "platform_state_namespace": "state-" + suffix,
                 "trino_namespace": namespace, "trino_wait_timeout": 120, "trino_validate_host": standin.host,
                 "trino_validate_port": standin.port, "trino_validate_retries": 2, "trino_validate_delay": 1,
                 "iceberg_check_cleanup": False, "iceberg_check_namespace": check_namespace}
    # The phase-1 Iceberg check on the real metastore and gateway (5 + 5 rows, kept), then the trino role.
    phase1_check = {"iceberg_namespace": namespace, "iceberg_catalog_uri": hive_metastore.uri,
                    "iceberg_warehouse": hive_metastore.warehouse, "iceberg_s3_endpoint": s3["endpoint"],
                    "iceberg_check_rows": 5}
    catalog = open_hive_catalog(hive_metastore)
    try:
        run = run_playbook(tmp_path, [
            {"name": "Run the phase-1 Iceberg check", "ansible.builtin.include_role": {
                "name": "lakehouse.platform.iceberg", "tasks_from": "validate"}},
            role_task()], extra_vars=dict(variables, **phase1_check), env=kube_api.env,
            results=["trino_validation", "iceberg_validation"])
        assert run.returncode == 0, run
        assert run.results["iceberg_validation"]["table"] == "%s.phase1_check" % check_namespace
        iceberg_rows = run.results["iceberg_validation"]["rows_current"]
        pyiceberg_rows = catalog.load_table((check_namespace, "phase1_check")).scan().to_arrow().num_rows
        assert iceberg_rows == pyiceberg_rows == 10
        validation = run.results["trino_validation"]
        assert validation["catalogs"] == ["iceberg", "system"]
        # Trino's count, compared in the role with what pyiceberg read in the check (the default expectation).
        assert validation["table"] == table and validation["table_rows"] == 10
        assert validation["expected_rows"] == 10
        assert validation["workloads"] == ["trino-coordinator", "trino-worker"]
        assert s3["secret_key"] not in run.output
        release = _get(kube_api, "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/trino" % namespace)
        assert release["spec"]["values"]["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "iceberg-s3-credentials"
        assert [q["sql"] for q in standin.queries()] == ["SHOW CATALOGS", "SELECT count(*) FROM " + table]

        rerun = run_playbook(tmp_path, [role_task()], extra_vars=variables, env=kube_api.env)
        assert rerun.returncode == 0, rerun
        assert rerun.changed_tasks() == [], rerun.changed_tasks()

        # The table moves on after the check (3 more rows, a new snapshot committed through the metastore):
        # Trino reads the current snapshot, no longer what the check read, and validation says so naming the table.
        append(catalog.load_table((check_namespace, "phase1_check")), 3, first_id=1000)
        wrong = run_playbook(tmp_path, [role_task("validate")], env=kube_api.env,
                             extra_vars=dict(variables, trino_validate_expected_rows=iceberg_rows))
        assert wrong.returncode != 0
        assert "SELECT count(*) FROM %s returned 13, expected 10" % table in " ".join(wrong.errors().split()), \
            wrong.errors()

        rollback = run_playbook(tmp_path, [role_task("rollback")], extra_vars=variables, env=kube_api.env)
        assert rollback.returncode == 0, rollback
        assert _get(kube_api, "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/trino" % namespace) is None
        assert _get(kube_api,
                    "/apis/source.toolkit.fluxcd.io/v1/namespaces/%s/helmrepositories/trino" % namespace) is None
        # The namespace was there before the component: it stays.
        assert _get(kube_api, "/api/v1/namespaces/" + namespace) is not None
    finally:
        drop_namespace(catalog, hive_metastore.warehouse, check_namespace)
