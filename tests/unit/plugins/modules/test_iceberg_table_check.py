"""iceberg_table_check: the whole check against pyiceberg's SQL catalog on SQLite with a local warehouse
(no network), argument checks, failure reporting by step, check mode, secrets kept out of the result."""
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.lakehouse.platform.plugins.module_utils import iceberg_ops
from ansible_collections.lakehouse.platform.plugins.modules import iceberg_table_check


def run(args, capsys, check_mode=False):
    full = dict(args, _ansible_check_mode=check_mode)
    with patch_module_args(full):
        with pytest.raises(SystemExit) as exit_info:
            iceberg_table_check.main()
    return json.loads(capsys.readouterr().out), exit_info.value.code != 0


@pytest.fixture
def local_catalog(tmp_path):
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    return {"catalog_type": "sql", "catalog_uri": "sqlite:///%s" % (tmp_path / "catalog.db"),
            "warehouse": "file://%s" % warehouse, "rows": 4}


def files_under(path):
    return [os.path.join(d, f) for d, _dirs, files in os.walk(path) for f in files]


def test_full_check_on_a_local_catalog(local_catalog, capsys):
    result, failed = run(local_catalog, capsys)
    assert not failed, result
    assert result["changed"] is False
    assert result["rows_first_snapshot"] == 4 and result["rows_current"] == 8
    assert result["time_travel"]["columns"] == ["id", "name", "amount"]
    assert [c["name"] for c in result["schema_after"]] == ["id", "label", "amount", "category"]
    assert [s["name"] for s in result["steps"]] == [
        "create_namespace", "drop_leftover_table", "create_table", "append_first", "evolve_schema", "append_second",
        "read_current", "time_travel_read", "purge_table", "drop_namespace"]
    assert all(step["ok"] for step in result["steps"])
    assert files_under(local_catalog["warehouse"][len("file://"):]) == []


def test_cleanup_false_keeps_the_table_and_reports_changed(local_catalog, capsys):
    result, failed = run(dict(local_catalog, cleanup=False), capsys)
    assert not failed and result["changed"] is True
    data = files_under(os.path.join(local_catalog["warehouse"][len("file://"):], "lakehouse_check.db"))
    assert any(name.endswith(".parquet") for name in data)
    again, failed = run(local_catalog, capsys)
    assert not failed and again["leftover_table_dropped"] is True and again["changed"] is False


def test_check_mode_writes_nothing(local_catalog, capsys):
    result, failed = run(local_catalog, capsys, check_mode=True)
    assert not failed
    assert result["check_mode"] is True and result["steps"] == []
    assert files_under(local_catalog["warehouse"][len("file://"):]) == []


def test_a_broken_step_is_named_and_cleanup_still_runs(local_catalog, capsys, monkeypatch):
    def broken_evolve(*args, **kwargs):
        raise RuntimeError("schema update rejected")

    monkeypatch.setattr("pyiceberg.table.Table.update_schema", broken_evolve)
    result, failed = run(local_catalog, capsys)
    assert failed
    assert result["failed_step"] == "evolve_schema"
    assert "RuntimeError: schema update rejected" in result["msg"]
    assert result["table_dropped"] is True and result["namespace_dropped"] is True


def test_a_wrong_result_fails_with_expected_and_actual(local_catalog, capsys, monkeypatch):
    monkeypatch.setattr(iceberg_ops, "ORIGINAL_COLUMNS", ("id", "name", "amount", "extra"))
    result, failed = run(local_catalog, capsys)
    assert failed and result["failed_step"] == "time_travel_read"
    assert "expected ['id', 'name', 'amount', 'extra'], got ['id', 'name', 'amount']" in result["msg"]


def test_secrets_are_kept_out_of_the_result(local_catalog, capsys):
    result, failed = run(dict(local_catalog, s3_access_key="AKIAEXAMPLE", s3_secret_key="s3cr3t-value",
                              catalog_password="pw-value"), capsys)
    assert not failed
    assert "s3cr3t-value" not in json.dumps(result) and "pw-value" not in json.dumps(result)


@pytest.mark.parametrize("override, message", [
    ({"catalog_type": "hive"}, "catalog_uri must be a thrift:// URI"),
    ({"catalog_uri": "postgresql+psycopg2://u:pw@h/db"}, "must not carry a password"),
    ({"warehouse": "warehouse"}, "warehouse must be a URI"),
    ({"namespace": "Bad-Name"}, "namespace must be a lower-case identifier"),
    ({"rows": 0}, "rows must be at least 1"),
    ({"s3_access_key": "only-one"}, "must be given together"),
])
def test_bad_arguments_fail_before_the_catalog_is_opened(local_catalog, capsys, monkeypatch, override, message):
    monkeypatch.setattr(iceberg_table_check, "open_catalog", lambda *a: pytest.fail("catalog opened"))
    result, failed = run(dict(local_catalog, **override), capsys)
    assert failed and message in result["msg"]


def test_catalog_properties_for_ceph():
    props = iceberg_ops.catalog_properties("sql", "postgresql+psycopg2://hive@db:5432/metastore", "s3://w",
                                           s3_endpoint="http://rgw:80", s3_access_key="a", s3_secret_key="s",
                                           catalog_password="p@ss/word")
    assert props["uri"] == "postgresql+psycopg2://hive:p%40ss%2Fword@db:5432/metastore"
    assert props["s3.force-virtual-addressing"] == "false"
    assert props["s3.resolve-region"] == "false"
    assert props["s3.endpoint"] == "http://rgw:80"


def test_state_absent_removes_a_kept_table_and_its_empty_namespace(local_catalog, capsys):
    kept, failed = run(dict(local_catalog, cleanup=False), capsys)
    assert not failed and kept["changed"] is True
    removed, failed = run(dict(local_catalog, state="absent"), capsys)
    assert not failed
    assert removed["changed"] is True and removed["table_dropped"] and removed["namespace_dropped"]
    assert files_under(local_catalog["warehouse"][len("file://"):]) == []
    again, failed = run(dict(local_catalog, state="absent"), capsys)
    assert not failed and again["changed"] is False
