"""lakehouse.platform.iceberg_table_check against real services: PostgreSQL (SQL catalog), the real Ceph
object gateway (warehouse), and a real Hive Metastore (hive catalog, state in PostgreSQL, warehouse on RGW)."""
import uuid

import pytest

from tests.integration.phase1_helpers import create_rgw_user, list_keys, run_playbook, s3_client


@pytest.fixture(scope="module")
def warehouse(ceph_rgw):
    """An RGW user of its own and an empty bucket for the warehouse."""
    access_key, secret_key = create_rgw_user(ceph_rgw, "iceberg-check-" + uuid.uuid4().hex[:6])
    bucket = "warehouse-" + uuid.uuid4().hex[:8]
    client = s3_client(ceph_rgw.endpoint, access_key, secret_key)
    client.create_bucket(Bucket=bucket)
    return {"endpoint": ceph_rgw.endpoint, "access_key": access_key, "secret_key": secret_key,
            "bucket": bucket, "client": client}


@pytest.fixture(scope="module")
def sql_catalog_db(postgres):
    postgres.create_role("iceberg_catalog", "catalog-pass-1")
    postgres.create_database("iceberg_catalog", owner="iceberg_catalog")
    return {"uri": "postgresql+psycopg2://iceberg_catalog@%s:%d/iceberg_catalog" % (postgres.host, postgres.port),
            "password": "catalog-pass-1"}


def check_task(args, register="check", ignore_errors=False):
    task = {"name": "Iceberg check", "lakehouse.platform.iceberg_table_check": args, "register": register}
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def sql_args(sql_catalog_db, warehouse, **overrides):
    args = {"catalog_type": "sql", "catalog_uri": sql_catalog_db["uri"],
            "catalog_password": sql_catalog_db["password"], "warehouse": "s3://%s" % warehouse["bucket"],
            "s3_endpoint": warehouse["endpoint"], "s3_access_key": warehouse["access_key"],
            "s3_secret_key": warehouse["secret_key"], "rows": 7}
    args.update(overrides)
    return args


def test_sql_catalog_full_cycle_on_real_postgres_and_rgw(tmp_path, sql_catalog_db, warehouse, postgres):
    run = run_playbook(tmp_path, [check_task(sql_args(sql_catalog_db, warehouse, namespace="sqlcheck"))],
                       results=["check"])
    assert run.returncode == 0, run
    check = run.results["check"]
    assert check["changed"] is False
    assert check["rows_first_snapshot"] == 7 and check["rows_current"] == 14
    assert [c["name"] for c in check["schema_before"]] == ["id", "name", "amount"]
    assert [c["name"] for c in check["schema_after"]] == ["id", "label", "amount", "category"]
    # rename keeps the field id: that is what makes old data files readable under the new name
    assert check["schema_before"][1]["id"] == check["schema_after"][1]["id"]
    assert check["time_travel"] == {"snapshot_id": check["first_snapshot_id"], "rows": 7,
                                    "columns": ["id", "name", "amount"]}
    assert check["first_snapshot_id"] != check["last_snapshot_id"]
    assert [s["operation"] for s in check["snapshots"]] == ["append", "append"]
    assert check["namespace_created"] and check["namespace_dropped"] and check["table_dropped"]
    # cleanup really happened: no catalog rows, no objects left in the warehouse
    assert postgres.execute("SELECT count(*) FROM iceberg_tables", dbname="iceberg_catalog")[0][0] == 0
    assert list_keys(warehouse["client"], warehouse["bucket"], "sqlcheck.db/") == []
    # secrets never reach the output
    assert warehouse["secret_key"] not in run.output
    assert sql_catalog_db["password"] not in run.output


def test_keep_table_reports_changed_and_leaves_data(tmp_path, sql_catalog_db, warehouse, postgres):
    run = run_playbook(tmp_path, [check_task(sql_args(sql_catalog_db, warehouse, namespace="keptcheck",
                                                      cleanup=False))], results=["check"])
    assert run.returncode == 0, run
    assert run.results["check"]["changed"] is True
    rows = postgres.execute("SELECT table_namespace, table_name FROM iceberg_tables", dbname="iceberg_catalog")
    assert rows == [("keptcheck", "phase1_check")]
    assert any(key.endswith(".parquet") for key in list_keys(warehouse["client"], warehouse["bucket"], "keptcheck.db/"))
    # the next run purges the leftover first and ends clean
    rerun = run_playbook(tmp_path, [check_task(sql_args(sql_catalog_db, warehouse, namespace="keptcheck"))],
                         results=["check"])
    assert rerun.returncode == 0, rerun
    assert rerun.results["check"]["leftover_table_dropped"] is True
    assert rerun.results["check"]["namespace_created"] is False  # it existed, so it is kept
    assert postgres.execute("SELECT count(*) FROM iceberg_tables", dbname="iceberg_catalog")[0][0] == 0


def test_hive_catalog_through_thrift_metastore(tmp_path, hive_metastore, postgres):
    # The metastore itself writes the table directories, so the check uses the metastore's warehouse and keys.
    store = hive_metastore.s3
    client = s3_client(store["endpoint"], store["access_key"], store["secret_key"])
    args = {"catalog_type": "hive", "catalog_uri": hive_metastore.uri, "warehouse": hive_metastore.warehouse,
            "s3_endpoint": store["endpoint"], "s3_access_key": store["access_key"],
            "s3_secret_key": store["secret_key"], "namespace": "hivecheck", "rows": 5, "cleanup": False}
    run = run_playbook(tmp_path, [check_task(args)], results=["check"])
    assert run.returncode == 0, run
    check = run.results["check"]
    assert check["rows_first_snapshot"] == 5 and check["rows_current"] == 10
    # the metastore holds the table with Iceberg's pointer to its current metadata file
    params = dict(postgres.execute(
        'SELECT p."PARAM_KEY", p."PARAM_VALUE" FROM "TABLE_PARAMS" p JOIN "TBLS" t ON t."TBL_ID" = p."TBL_ID"'
        ' WHERE t."TBL_NAME" = %s', ("phase1_check",), dbname=hive_metastore.dbname))
    assert params["table_type"] == "ICEBERG"
    assert params["metadata_location"].startswith("%s/hivecheck.db/phase1_check/metadata/" % hive_metastore.warehouse)
    cleanup = run_playbook(tmp_path, [check_task(dict(args, cleanup=True))], results=["check"])
    assert cleanup.returncode == 0, cleanup
    assert cleanup.results["check"]["leftover_table_dropped"] is True
    assert postgres.execute('SELECT count(*) FROM "TBLS" t JOIN "DBS" d ON d."DB_ID" = t."DB_ID"'
                            ' WHERE d."NAME" = %s', ("hivecheck",), dbname=hive_metastore.dbname)[0][0] == 0
    # the namespace existed before this run (the first run kept it), so this run leaves it in place
    assert ("hivecheck",) in postgres.execute('SELECT "NAME" FROM "DBS"', dbname=hive_metastore.dbname)
    assert [key for key in list_keys(client, store["bucket"], "hivecheck.db/phase1_check/")
            if not key.endswith("/")] == []


def test_wrong_secret_key_fails_naming_the_step(tmp_path, sql_catalog_db, warehouse):
    run = run_playbook(tmp_path, [check_task(sql_args(sql_catalog_db, warehouse, namespace="badkey",
                                                      s3_secret_key="not-the-key"), ignore_errors=True)],
                       results=["check"])
    check = run.results["check"]
    assert check["failed"] is True
    assert check["failed_step"] == "create_table"
    assert "create_table" in check["msg"]
    assert check["namespace_dropped"] is True  # best-effort cleanup of what it created


def test_check_mode_only_lists_namespaces(tmp_path, sql_catalog_db, warehouse, postgres):
    run = run_playbook(tmp_path, [check_task(sql_args(sql_catalog_db, warehouse, namespace="dryrun"))],
                       check=True, results=["check"])
    assert run.returncode == 0, run
    assert run.results["check"]["check_mode"] is True
    assert "dryrun" not in run.results["check"]["namespaces"]
    assert postgres.execute("SELECT count(*) FROM iceberg_namespace_properties WHERE namespace = 'dryrun'",
                            dbname="iceberg_catalog")[0][0] == 0


def test_bad_input_fails_before_any_connection(tmp_path, warehouse):
    run = run_playbook(tmp_path, [check_task({"catalog_type": "hive", "catalog_uri": "http://nope:9083",
                                              "warehouse": "s3a://w"}, ignore_errors=True),
                                  check_task({"catalog_type": "sql",
                                              "catalog_uri": "postgresql://u:secret@h/db",
                                              "warehouse": "s3://w"}, register="check2", ignore_errors=True)],
                       results=["check", "check2"])
    assert "catalog_uri must be a thrift:// URI" in run.results["check"]["msg"]
    assert "catalog_password" in run.results["check2"]["msg"]
