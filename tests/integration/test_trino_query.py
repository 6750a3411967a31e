"""lakehouse.platform.trino_query through the real trino client against the Trino stand-in, whose iceberg catalog
is the suite's real Hive Metastore (Thrift) with the real Ceph object gateway as its warehouse: the table it
counts was created and appended with pyiceberg's Hive catalog, so catalog, metadata and data files are real and
only the SQL engine is stood in."""
import uuid

import pytest

from tests.fixtures.local_server import serve
from tests.integration.phase1_helpers import run_playbook
from tests.integration.trino_standin.fixture import TrinoStandIn
from tests.integration.trino_standin.tables import (
    create_table,
    drop_namespace,
    hive_catalog_properties,
    open_hive_catalog,
)

ROWS = 23


@pytest.fixture(scope="module")
def lakehouse(hive_metastore):
    """A namespace in the real metastore and a table of ROWS rows (two appends: two snapshots) written with
    pyiceberg's Hive catalog to the metastore's warehouse bucket on the real Ceph gateway."""
    catalog = open_hive_catalog(hive_metastore)
    schema = "trino_" + uuid.uuid4().hex[:6]
    create_table(catalog, hive_metastore.warehouse, schema, "events", [15, ROWS - 15])
    yield {"props": hive_catalog_properties(hive_metastore), "catalog": catalog, "schema": schema, "table": "events",
           "secret_key": hive_metastore.s3["secret_key"]}
    drop_namespace(catalog, hive_metastore.warehouse, schema)


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


def test_count_matches_pyiceberg(tmp_path, trino_server, lakehouse, hive_metastore):
    table = lakehouse["catalog"].load_table((lakehouse["schema"], lakehouse["table"]))
    expected = table.scan().to_arrow().num_rows
    assert expected == ROWS and len(table.metadata.snapshots) == 2
    # The table is the metastore's: an Iceberg table entry pointing at metadata on the Ceph warehouse.
    with hive_metastore.client() as client:
        entry = client.get_table(lakehouse["schema"], lakehouse["table"])
    assert entry.parameters["table_type"].upper() == "ICEBERG"
    assert entry.parameters["metadata_location"] == table.metadata_location
    assert table.metadata_location.startswith(hive_metastore.warehouse + "/" + lakehouse["schema"] + ".db/")
    qualified = "iceberg.%s.%s" % (lakehouse["schema"], lakehouse["table"])
    run = run_playbook(tmp_path, [
        query_task(trino_server, statement="SELECT count(*) FROM %s" % qualified),
        query_task(trino_server, register="session", catalog="iceberg", schema=lakehouse["schema"],
                   statement="SELECT count(*) FROM events"),
        query_task(trino_server, register="schemas", statement="SHOW SCHEMAS FROM iceberg"),
        query_task(trino_server, register="tables", statement='SHOW TABLES FROM iceberg."%s"' % lakehouse["schema"])],
        results=["query", "session", "schemas", "tables"])
    assert run.returncode == 0, run
    assert run.results["query"]["rows"] == [[expected]]
    assert run.results["query"]["columns"] == [{"name": "_col0", "type": "bigint"}]
    assert run.results["session"]["rows"] == [[expected]]
    # the metastore's databases: its own "default" and ours
    schemas = run.results["schemas"]["rows"]
    assert [lakehouse["schema"]] in schemas and ["default"] in schemas and ["information_schema"] in schemas
    assert run.results["tables"]["rows"] == [[lakehouse["table"]]]
    assert lakehouse["secret_key"] not in run.output


def test_missing_table_schema_and_catalog_fail_with_trinos_error_names(tmp_path, trino_server, lakehouse):
    missing = "iceberg.%s.nope" % lakehouse["schema"]
    run = run_playbook(tmp_path, [
        query_task(trino_server, statement="SELECT count(*) FROM %s" % missing, ignore_errors=True),
        query_task(trino_server, register="schema", statement="SELECT count(*) FROM iceberg.no_such_schema.t",
                   ignore_errors=True),
        query_task(trino_server, register="catalog", statement="SHOW SCHEMAS FROM lakehouse", ignore_errors=True)],
        results=["query", "schema", "catalog"])
    result = run.results["query"]
    assert result["failed"] is True
    assert result["error_name"] == "TABLE_NOT_FOUND" and result["error_type"] == "USER_ERROR"
    assert "TABLE_NOT_FOUND" in result["msg"] and "Table '%s' does not exist" % missing in result["msg"]
    assert run.results["schema"]["error_name"] == "SCHEMA_NOT_FOUND"
    assert "Schema 'no_such_schema' does not exist" in run.results["schema"]["msg"]
    assert run.results["catalog"]["error_name"] == "CATALOG_NOT_FOUND"
    assert "Catalog 'lakehouse' not found" in run.results["catalog"]["msg"]


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
