"""lakehouse.platform.trino_query through the real trino client against the Trino stand-in, whose iceberg catalog
holds a real Iceberg table: data and metadata files on the real Ceph object gateway, the catalog a pyiceberg SQL
catalog (SQLite; the suite's Hive Metastore fixture is being replaced concurrently, and the stand-in reads any
pyiceberg catalog the same way)."""
import uuid

import pyarrow as pa
import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils.iceberg_ops import (
    catalog_properties,
    namespace_location,
    s3_checksums_when_required,
)
from tests.fixtures.local_server import serve
from tests.integration.phase1_helpers import create_rgw_user, run_playbook, s3_client
from tests.integration.trino_standin.fixture import TrinoStandIn

ROWS = 23


@pytest.fixture(scope="module")
def lakehouse(ceph_rgw, tmp_path_factory):
    """A warehouse bucket, a namespace and a table of ROWS rows (two appends) written with pyiceberg."""
    from pyiceberg.catalog import load_catalog

    s3_checksums_when_required()
    access_key, secret_key = create_rgw_user(ceph_rgw, "trino-query-" + uuid.uuid4().hex[:6])
    bucket = "trino-" + uuid.uuid4().hex[:8]
    s3_client(ceph_rgw.endpoint, access_key, secret_key).create_bucket(Bucket=bucket)
    sqlite = tmp_path_factory.mktemp("trino-catalog") / "catalog.db"
    props = catalog_properties("sql", "sqlite:///%s" % sqlite, "s3://%s" % bucket, s3_endpoint=ceph_rgw.endpoint,
                               s3_access_key=access_key, s3_secret_key=secret_key)
    catalog = load_catalog("iceberg", **props)
    schema = "trino_" + uuid.uuid4().hex[:6]
    catalog.create_namespace(schema, {"location": namespace_location("s3://%s" % bucket, schema)})
    table = catalog.create_table((schema, "events"), schema=pa.schema([("id", pa.int64()), ("name", pa.string())]))
    table.append(pa.table({"id": list(range(15)), "name": ["a"] * 15}))
    table.append(pa.table({"id": list(range(15, ROWS)), "name": ["b"] * (ROWS - 15)}))
    return {"props": props, "catalog": catalog, "schema": schema, "table": "events", "secret_key": secret_key}


@pytest.fixture(scope="module")
def trino_server(lakehouse):
    yield from serve(TrinoStandIn({"iceberg": {"connector": "iceberg", "pyiceberg": lakehouse["props"]},
                                   "hive": {"connector": "hive"}}, page_size=1), "Trino stand-in")


def query_task(server, register="query", ignore_errors=False, **args):
    task = {"name": "Trino query", "lakehouse.platform.trino_query": dict({"host": server.host, "port": server.port},
                                                                          **args), "register": register}
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def test_show_catalogs_through_the_client_protocol(tmp_path, trino_server):
    run = run_playbook(tmp_path, [query_task(trino_server, statement="SHOW CATALOGS", user="validator")],
                       results=["query"])
    assert run.returncode == 0, run
    result = run.results["query"]
    assert result["rows"] == [["hive"], ["iceberg"], ["system"]] and result["row_count"] == 3
    assert result["columns"] == [{"name": "Catalog", "type": "varchar"}]
    assert result["changed"] is False and result["stats"]["state"] == "FINISHED"
    seen = [r for r in trino_server.requests() if r["path"].startswith("/v1/statement")]
    posts = [r for r in seen if r["method"] == "POST"]
    assert posts[-1]["headers"]["X-Trino-User"] == "validator"
    # the client polled: the queued hop, then one page per row, then FINISHED
    query_id = result["query_id"]
    polls = [r["path"] for r in seen if r["method"] == "GET" and query_id in r["path"]]
    assert "/queued/" in polls[0] and len(polls) >= 1 + 3 + 1, polls


def test_count_matches_pyiceberg(tmp_path, trino_server, lakehouse):
    expected = lakehouse["catalog"].load_table((lakehouse["schema"], lakehouse["table"])).scan().to_arrow().num_rows
    assert expected == ROWS
    qualified = "iceberg.%s.%s" % (lakehouse["schema"], lakehouse["table"])
    run = run_playbook(tmp_path, [
        query_task(trino_server, statement="SELECT count(*) FROM %s" % qualified),
        query_task(trino_server, register="session", catalog="iceberg", schema=lakehouse["schema"],
                   statement="SELECT count(*) FROM events"),
        query_task(trino_server, register="schemas", statement="SHOW SCHEMAS FROM iceberg")],
        results=["query", "session", "schemas"])
    assert run.returncode == 0, run
    assert run.results["query"]["rows"] == [[expected]]
    assert run.results["query"]["columns"] == [{"name": "_col0", "type": "bigint"}]
    assert run.results["session"]["rows"] == [[expected]]
    assert [lakehouse["schema"]] in run.results["schemas"]["rows"]
    assert lakehouse["secret_key"] not in run.output


def test_missing_table_fails_naming_table_not_found(tmp_path, trino_server, lakehouse):
    missing = "iceberg.%s.nope" % lakehouse["schema"]
    run = run_playbook(tmp_path, [query_task(trino_server, statement="SELECT count(*) FROM %s" % missing,
                                             ignore_errors=True)], results=["query"])
    result = run.results["query"]
    assert result["failed"] is True
    assert result["error_name"] == "TABLE_NOT_FOUND" and result["error_type"] == "USER_ERROR"
    assert "TABLE_NOT_FOUND" in result["msg"] and "Table '%s' does not exist" % missing in result["msg"]


def test_check_mode_skips_a_write_and_runs_a_read(tmp_path, trino_server, lakehouse):
    before = len(trino_server.queries())
    write = "INSERT INTO iceberg.%s.events VALUES (99, 'z')" % lakehouse["schema"]
    run = run_playbook(tmp_path, [query_task(trino_server, register="write", statement=write),
                                  query_task(trino_server, register="read", statement="SHOW CATALOGS")],
                       check=True, results=["write", "read"])
    assert run.returncode == 0, run
    assert run.results["write"]["skipped"] is True and run.results["write"]["changed"] is False
    assert run.results["read"]["rows"][1] == ["iceberg"]
    sent = [q["sql"] for q in trino_server.queries()[before:]]
    assert sent == ["SHOW CATALOGS"]


def test_max_rows_cancels_the_rest(tmp_path, trino_server):
    run = run_playbook(tmp_path, [query_task(trino_server, statement="SHOW CATALOGS", max_rows=1)],
                       results=["query"])
    assert run.returncode == 0, run
    assert run.results["query"]["rows"] == [["hive"]] and run.results["query"]["truncated"] is True
    query_id = run.results["query"]["query_id"]
    assert any(r["method"] == "DELETE" and query_id in r["path"] for r in trino_server.requests())


def test_not_modelled_statement_and_unreachable_coordinator(tmp_path, trino_server):
    run = run_playbook(tmp_path, [
        query_task(trino_server, statement="CREATE SCHEMA iceberg.x", ignore_errors=True),
        {"name": "Nobody listens", "lakehouse.platform.trino_query": {
            "host": "127.0.0.1", "port": 9, "statement": "SHOW CATALOGS", "request_timeout": 2},
         "register": "down", "ignore_errors": True}], results=["query", "down"])
    assert run.results["query"]["error_name"] == "NOT_SUPPORTED"
    assert run.results["down"]["failed"] is True and "http://127.0.0.1:9" in run.results["down"]["msg"]
