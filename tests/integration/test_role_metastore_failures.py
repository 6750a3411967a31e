"""Failure paths of the metastore components, each failing fast with the operator's own words:
a CloudNativePG Cluster in an error phase, a failed Backup, and a restore test that finds the restored
database different from the live one (the restore Cluster is removed all the same)."""
import base64
import uuid

import pytest

from tests.integration.phase1_helpers import run_playbook


def role(name, tasks_from="main"):
    return {"name": "Run %s %s" % (name, tasks_from),
            "ansible.builtin.include_role": {"name": "lakehouse.platform." + name, "tasks_from": tasks_from}}


def get(kube, api_version, kind, name, namespace=None):
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        return kube.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


@pytest.fixture
def platform(kube_api, simulators_with_postgres, postgres, tmp_path):
    suffix = uuid.uuid4().hex[:6]
    namespace = "dpf-" + suffix
    kube = kube_api.client()
    kube.resources.get(api_version="v1", kind="Namespace").create(body={"metadata": {"name": namespace}})
    extra_vars = {"platform_mode": "apply", "platform_phase": "phase1", "platform_namespace": namespace,
                  "platform_state_namespace": "lhf-" + suffix, "postgres_database": "metastore_" + suffix,
                  "postgres_owner": "hive_" + suffix, "postgres_connect_host": postgres.host,
                  "postgres_connect_port": postgres.port, "postgres_connect_sslmode": "disable",
                  "postgres_failure_grace": 0}
    return {"namespace": namespace, "vars": extra_vars, "kube": kube, "env": kube_api.env, "tmp": tmp_path,
            "sim": simulators_with_postgres, "suffix": suffix}


def test_cluster_error_phase_fails_the_wait_with_its_reason(platform):
    platform["sim"].set_namespace_behaviour(platform["namespace"], kind="Cluster", mode="fail", delay_seconds=0.5,
                                            message="pods are forbidden: exceeded quota: compute-resources")
    run = run_playbook(platform["tmp"], [role("postgres")], extra_vars=dict(platform["vars"], postgres_wait_timeout=60),
                       env=platform["env"])
    assert run.returncode != 0
    errors = run.errors()
    assert "Unable to create required cluster objects" in errors, errors
    assert "exceeded quota: compute-resources" in errors
    assert "hive-metastore-postgres" in errors


def test_failed_backup_fails_with_its_error(platform):
    ns = platform["namespace"]
    ready = run_playbook(platform["tmp"], [role("postgres", "apply"), role("postgres", "wait")],
                         extra_vars=platform["vars"], env=platform["env"])
    assert ready.returncode == 0, ready
    platform["sim"].set_namespace_behaviour(ns, kind="Backup", mode="fail", delay_seconds=0.3,
                                            message="barman-cloud-backup: could not reach the object store")
    run = run_playbook(platform["tmp"], [role("metadata_backup")], env=platform["env"],
                       extra_vars=dict(platform["vars"], metadata_backup_restore_test="none", metadata_backup_timeout=60))
    assert run.returncode != 0
    errors = run.errors()
    assert "Backup failed: barman-cloud-backup: could not reach the object store" in errors, errors
    # the ScheduledBackup went in before the on-demand check
    scheduled = get(platform["kube"], "postgresql.cnpg.io/v1", "ScheduledBackup", "hive-metastore-postgres-daily", ns)
    assert scheduled["spec"]["schedule"] == "0 0 2 * * *"


def test_cluster_restore_that_differs_is_reported_and_cleaned_up(platform, postgres):
    """The CNPG simulator does not replay backups: its restore Cluster gets an empty database. The comparison
    must notice (a restore test that passes on an empty restore would prove nothing)."""
    ns = platform["namespace"]
    ready = run_playbook(platform["tmp"], [role("postgres", "apply"), role("postgres", "wait")],
                         extra_vars=platform["vars"], env=platform["env"])
    assert ready.returncode == 0, ready
    auth = platform["kube"].resources.get(api_version="v1", kind="Secret").get(
        name="hive-metastore-pgauth", namespace=ns).to_dict()["data"]
    owner = postgres.connect(platform["vars"]["postgres_database"], user=platform["vars"]["postgres_owner"],
                             password=base64.b64decode(auth["password"]).decode())
    try:
        with owner.cursor() as cur:  # as the owner, like the metastore creates its schema
            cur.execute('CREATE TABLE "DBS" ("DB_ID" bigint PRIMARY KEY, "NAME" text)')
            cur.execute('INSERT INTO "DBS" VALUES (1, %s)', ("default",))
    finally:
        owner.close()
    run = run_playbook(platform["tmp"], [role("metadata_backup")], env=platform["env"],
                       extra_vars=dict(platform["vars"], metadata_backup_restore_test="cluster",
                                       metadata_backup_restore_timeout=120))
    assert run.returncode != 0
    errors = run.errors()
    assert "differs from the live" in errors, errors
    assert 'missing public.DBS' in errors
    restore = get(platform["kube"], "postgresql.cnpg.io/v1", "Cluster", "hive-metastore-postgres-restore-check", ns)
    assert restore is None or restore["metadata"].get("deletionTimestamp")
    # it restored from the live Cluster's object store, as CloudNativePG would
    backup = platform["kube"].resources.get(api_version="postgresql.cnpg.io/v1", kind="Backup").get(
        namespace=ns).to_dict()["items"]
    assert [b["status"]["phase"] for b in backup] == ["completed"]
