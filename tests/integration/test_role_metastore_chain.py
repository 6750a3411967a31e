"""Phase-1 components in apply mode, chained the way the phase runs them, against the Kubernetes API test
server with the operator simulators, the real Ceph object gateway and a real PostgreSQL:

s3_storage -> postgres (CNPG simulator creates the metastore database on the real PostgreSQL) ->
hive_metastore (Flux simulator releases the chart; a real Hive Metastore serves that very database) ->
iceberg (pyiceberg through that metastore, data on RGW) -> metadata_backup (CNPG Backup simulated; the
restore test really dumps, restores and compares on PostgreSQL).
"""
import base64
import uuid

import pytest

from tests.integration.fixtures.hive_metastore import HiveMetastoreServer
from tests.integration.k8s_compare import require_real_crds
from tests.integration.phase1_helpers import create_rgw_user, list_keys, run_playbook, s3_client


def _b64(value):
    return base64.b64decode(value).decode()


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
def chain(kube_api, simulators_with_postgres, ceph_rgw, postgres, tmp_path):
    suffix = uuid.uuid4().hex[:6]
    names = {"platform": "dp-" + suffix, "rook": "storage-" + suffix, "state": "lh-" + suffix,
             "warehouse": "warehouse-" + suffix, "backups": "backups-" + suffix,
             "database": "metastore_" + suffix, "owner": "hive_" + suffix}
    access_key, secret_key = create_rgw_user(ceph_rgw, "iceberg-" + suffix)
    simulators_with_postgres.set_rook_keys(access_key, secret_key, namespace=names["rook"], user="iceberg")
    require_real_crds(kube_api)
    kube = kube_api.client()
    kube.resources.get(api_version="v1", kind="Namespace").create(body={"metadata": {"name": names["rook"]}})
    extra_vars = {
        "platform_mode": "apply", "platform_phase": "phase1", "platform_namespace": names["platform"],
        "platform_state_namespace": names["state"], "platform_s3_endpoint": ceph_rgw.endpoint,
        "platform_s3_warehouse_bucket": names["warehouse"], "platform_s3_backups_bucket": names["backups"],
        "s3_storage_rook_namespace": names["rook"],
        "postgres_database": names["database"], "postgres_owner": names["owner"],
        "hive_metastore_db_name": names["database"],
        # The simulator provisions the database on the real server; the controller reaches it there.
        "postgres_connect_host": postgres.host, "postgres_connect_port": postgres.port,
        "postgres_connect_sslmode": "disable",
        "hive_metastore_validate_retries": 3, "hive_metastore_validate_retry_delay": 1,
        "iceberg_catalog_wait_retries": 3, "iceberg_catalog_wait_delay": 1, "iceberg_check_rows": 6,
        "metadata_backup_restore_test": "database",
        "metadata_backup_restore_database": "restore_check_" + suffix,
        "metadata_backup_restore_admin_secret": "pg-admin",
        # Midnight on January 1st: the simulated schedule must not fire a Backup while the test counts requests.
        "metadata_backup_schedule": "0 0 0 1 1 *",
    }
    state = {"names": names, "vars": extra_vars, "kube": kube, "env": kube_api.env, "metastore": None,
             "s3": s3_client(ceph_rgw.endpoint, access_key, secret_key), "tmp": tmp_path,
             "s3_store": {"endpoint": ceph_rgw.endpoint, "access_key": access_key, "secret_key": secret_key,
                          "bucket": names["warehouse"]}}
    yield state
    if state["metastore"] is not None:
        state["metastore"].stop()


def start_metastore(chain, postgres):
    """The Hive Metastore "pod": a real metastore on the database the CNPG simulator created, with the
    credentials Secret the postgres role wrote, its warehouse in the bucket s3_storage made."""
    names, kube = chain["names"], chain["kube"]
    auth = get(kube, "v1", "Secret", "hive-metastore-pgauth", names["platform"])
    metastore = HiveMetastoreServer(postgres, chain["s3_store"], dbname=names["database"],
                                    db_user=_b64(auth["data"]["username"]), db_password=_b64(auth["data"]["password"]))
    chain["metastore"] = metastore
    try:
        metastore.start()
    except metastore.error as exc:
        pytest.fail("Hive Metastore: %s" % exc, pytrace=False)
    chain["vars"].update({"hive_metastore_connect_host": metastore.host,
                          "hive_metastore_connect_port": metastore.port, "iceberg_catalog_uri": metastore.uri})
    return metastore


def test_phase1_components_chain_with_real_sql_and_rollback(chain, postgres, kube_api):
    names, kube, tmp = chain["names"], chain["kube"], chain["tmp"]

    # -- s3_storage + postgres ------------------------------------------------------------------------------
    first = run_playbook(tmp, [role("s3_storage"), role("postgres")], extra_vars=chain["vars"], env=chain["env"],
                         results=["postgres_validation"])
    assert first.returncode == 0, first
    cluster = get(kube, "postgresql.cnpg.io/v1", "Cluster", "hive-metastore-postgres", names["platform"])
    assert cluster["status"]["phase"] == "Cluster in healthy state"
    assert cluster["spec"]["bootstrap"]["initdb"] == {"database": names["database"], "owner": names["owner"],
                                                      "secret": {"name": "hive-metastore-pgauth"}}
    store = cluster["spec"]["backup"]["barmanObjectStore"]
    assert store["destinationPath"] == "s3://%s/cnpg" % names["backups"]
    assert store["s3Credentials"]["accessKeyId"] == {"name": "iceberg-s3-credentials", "key": "AWS_ACCESS_KEY_ID"}
    assert cluster["spec"]["backup"]["retentionPolicy"] == "30d"
    auth = get(kube, "v1", "Secret", "hive-metastore-pgauth", names["platform"])
    assert auth["type"] == "kubernetes.io/basic-auth" and _b64(auth["data"]["username"]) == names["owner"]
    password = _b64(auth["data"]["password"])
    assert len(password) == 32 and password not in first.output
    # the real database exists, owned by the owner, reachable with the generated password
    assert postgres.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                            (names["database"],)) == [(names["owner"],)]
    assert first.results["postgres_validation"]["owner"] == names["owner"]

    # a rerun reuses the Secret (same password) and changes nothing
    again = run_playbook(tmp, [role("s3_storage"), role("postgres")], extra_vars=chain["vars"], env=chain["env"])
    assert again.returncode == 0, again
    assert again.changed_tasks() == [], again.changed_tasks()
    assert _b64(get(kube, "v1", "Secret", "hive-metastore-pgauth", names["platform"])["data"]["password"]) == password

    # -- hive_metastore + iceberg + metadata_backup -----------------------------------------------------------
    metastore = start_metastore(chain, postgres)
    # Existing metadata, so the backup comparison has tables with rows: a real Iceberg table registered in
    # the metastore through Thrift.
    from pyiceberg.catalog import load_catalog
    import pyarrow as pa
    import os
    os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED")
    access_key, secret_key = get_keys(kube, names)
    catalog = load_catalog("t", **{"type": "hive", "uri": metastore.uri, "warehouse": "s3a://" + names["warehouse"],
                                   "s3.endpoint": chain["vars"]["platform_s3_endpoint"], "s3.access-key-id": access_key,
                                   "s3.secret-access-key": secret_key, "s3.region": "us-east-1"})
    catalog.create_namespace("sales", {"location": "s3a://%s/sales.db" % names["warehouse"]})
    orders = catalog.create_table("sales.orders", schema=pa.schema([("id", pa.int64())]))
    orders.append(pa.table({"id": pa.array([1, 2, 3], pa.int64())}))
    kube.resources.get(api_version="v1", kind="Secret").create(namespace=names["platform"], body={
        "metadata": {"name": "pg-admin"}, "type": "kubernetes.io/basic-auth",
        "stringData": {"username": postgres.user, "password": postgres.password}})

    second_tasks = [role("hive_metastore"), role("iceberg"), role("metadata_backup")]
    validations = ["hive_metastore_validation", "iceberg_validation", "metadata_backup_validation"]
    second = run_playbook(tmp, second_tasks, extra_vars=chain["vars"], env=chain["env"], results=validations)
    assert second.returncode == 0, second
    checks = {name[:-len("_validation")]: second.results[name] for name in validations}

    release = get(kube, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "hive-metastore", names["platform"])
    assert release["spec"]["values"]["postgres"] == {
        "host": "hive-metastore-postgres-rw.%s.svc" % names["platform"], "port": 5432, "db": names["database"]}
    assert [c["status"] for c in release["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    s3a = get(kube, "v1", "Secret", "hive-metastore-s3a", names["platform"])
    core_site = _b64(s3a["data"]["core-site.xml"])
    assert "<value>%s</value>" % chain["vars"]["platform_s3_endpoint"] in core_site
    assert "<value>%s</value>" % secret_key in core_site and secret_key not in second.output
    assert set(checks["hive_metastore"]["databases"]) == {"default", "sales"}

    assert checks["iceberg"]["catalog"] == "hive"
    assert checks["iceberg"]["rows_first_snapshot"] == 6 and checks["iceberg"]["rows_current"] == 12
    assert [c["name"] for c in checks["iceberg"]["schema_after"]] == ["id", "label", "amount", "category"]
    assert list_keys(chain["s3"], names["warehouse"], "lakehouse_check.db/") == []

    scheduled = get(kube, "postgresql.cnpg.io/v1", "ScheduledBackup", "hive-metastore-postgres-daily", names["platform"])
    assert scheduled["spec"]["schedule"] == "0 0 0 1 1 *" and scheduled["spec"]["backupOwnerReference"] == "self"
    backup = checks["metadata_backup"]["backup"]
    assert get(kube, "postgresql.cnpg.io/v1", "Backup", backup["name"], names["platform"])["status"]["phase"] == "completed"
    comparison = checks["metadata_backup"]["comparison"]
    assert comparison["matches"] is True
    live_tbls = postgres.execute('SELECT count(*) FROM "TBLS"', dbname=names["database"])[0][0]
    assert live_tbls == 1  # sales.orders (the check table was purged)
    assert comparison["tables"] == comparison["restored_tables"] >= 9
    assert comparison["rows"] == comparison["restored_rows"] > 0
    assert postgres.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                            ("restore_check_" + names["database"][len("metastore_"):],))[0][0] == 0

    # rerun: the chart, Secret and schedule are unchanged, the recent backup is reused, throwaways leave nothing
    rerun = run_playbook(tmp, second_tasks, extra_vars=chain["vars"], env=chain["env"], results=validations)
    assert rerun.returncode == 0, rerun
    assert rerun.changed_tasks() == [], rerun.changed_tasks()
    assert rerun.results["metadata_backup_validation"]["backup"]["reused"] is True

    # check mode over the whole chain: only dry-run writes reach the API
    kube_api.reset_counts()
    dry = run_playbook(tmp, [role("s3_storage"), role("postgres")] + second_tasks, extra_vars=chain["vars"],
                       env=chain["env"], check=True)
    assert dry.returncode == 0, dry
    counts = kube_api.request_counts()
    for resource in ("clusters", "scheduledbackups", "backups", "helmreleases", "helmrepositories", "secrets",
                     "configmaps", "cephobjectstoreusers"):
        for verb in ("create", "patch", "update", "delete"):
            # status writes are the simulated operators'
            assert counts.count(verb=verb, resource=resource, subresource="", dry_run=False) == 0, (verb, resource)

    # -- rollback, newest first -------------------------------------------------------------------------------
    undo = run_playbook(tmp, [role("metadata_backup", "rollback"), role("iceberg", "rollback"),
                              role("hive_metastore", "rollback"), role("postgres", "rollback")],
                        extra_vars=chain["vars"], env=chain["env"])
    assert undo.returncode == 0, undo
    assert get(kube, "postgresql.cnpg.io/v1", "ScheduledBackup", "hive-metastore-postgres-daily", names["platform"]) is None
    assert get(kube, "postgresql.cnpg.io/v1", "Backup", backup["name"], names["platform"]) is None
    assert get(kube, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "hive-metastore", names["platform"]) is None
    assert get(kube, "v1", "Secret", "hive-metastore-s3a", names["platform"]) is None
    assert get(kube, "postgresql.cnpg.io/v1", "Cluster", "hive-metastore-postgres", names["platform"]) is None
    # keep_data: the instance volume outlives the Cluster, and so does the credentials Secret
    volume = get(kube, "v1", "PersistentVolumeClaim", "hive-metastore-postgres-1", names["platform"])
    assert volume is not None and not volume["metadata"].get("ownerReferences")
    assert get(kube, "v1", "Secret", "hive-metastore-pgauth", names["platform"]) is not None
    # the admin Secret the test created is not the component's: untouched
    assert get(kube, "v1", "Secret", "pg-admin", names["platform"]) is not None


def get_keys(kube, names):
    copy = get(kube, "v1", "Secret", "iceberg-s3-credentials", names["platform"])
    return _b64(copy["data"]["AWS_ACCESS_KEY_ID"]), _b64(copy["data"]["AWS_SECRET_ACCESS_KEY"])
