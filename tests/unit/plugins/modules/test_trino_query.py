# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""trino_query: statement classification, validation before any connection, connect arguments, result shape,
check mode and Trino's errors (the trino client replaced by a fake)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import decimal

import pytest
import trino.exceptions

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.lakehouse.platform.plugins.modules import trino_query as module_under_test
from ansible_collections.lakehouse.platform.plugins.modules.trino_query import (
    clean_statement,
    connect_kwargs,
    is_read_statement,
    jsonable,
    validate,
)


@pytest.mark.parametrize("statement, expected", [
    ("SELECT count(*) FROM iceberg.s.t", True),
    ("  select 1", True),
    ("-- a comment\nSHOW CATALOGS", True),
    ("/* block */ DESCRIBE iceberg.s.t", True),
    ("desc iceberg.s.t", True),
    ("(SELECT 1) UNION (SELECT 2)", True),
    ("WITH x AS (SELECT 1) SELECT * FROM x", True),
    ("VALUES 1, 2", True),
    ("EXPLAIN INSERT INTO t VALUES 1", True),  # plain EXPLAIN only plans
    ("EXPLAIN ANALYZE SELECT 1", True),
    ("EXPLAIN ANALYZE VERBOSE SELECT 1", True),
    ("EXPLAIN ANALYZE INSERT INTO t VALUES 1", False),  # executed by Trino
    ("EXPLAIN ANALYZE (FORMAT TEXT) DELETE FROM t", False),
    ("INSERT INTO t VALUES 1", False),
    ("CREATE SCHEMA iceberg.x", False),
    ("DROP TABLE t", False),
    ("CALL system.sync_partition_metadata('s', 't', 'FULL')", False),
    ("USE iceberg.x", False),
    ("", False),
    ("-- only a comment", False),
])
def test_read_statements(statement, expected):
    assert is_read_statement(statement) is expected


def test_clean_statement_drops_terminating_semicolons():
    assert clean_statement("  SHOW CATALOGS ;\n ; ") == "SHOW CATALOGS"


def params(**overrides):
    base = dict(host="trino", port=8080, http_scheme="http", user="lakehouse", password=None, catalog=None,
                schema=None, statement="SHOW CATALOGS", verify=True, ca_cert=None, request_timeout=30.0, max_rows=1000)
    base.update(overrides)
    return base


@pytest.mark.parametrize("overrides, message", [
    (dict(host=" "), "Option 'host' must not be empty"),
    (dict(port=0), "Option 'port' must be between 1 and 65535"),
    (dict(statement=" ; "), "Option 'statement' must not be empty"),
    (dict(max_rows=-1), "Option 'max_rows' must be 0 or more"),
    (dict(request_timeout=0), "Option 'request_timeout' must be more than 0"),
    (dict(schema="s"), "Option 'schema' needs option 'catalog'"),
    (dict(password="secret"), "Option 'password' needs http_scheme=https"),
])
def test_validation_names_the_option(overrides, message):
    with pytest.raises(ValueError) as err:
        validate(params(**overrides))
    assert message in str(err.value)


def test_connect_kwargs_tls_and_basic_auth():
    kwargs = connect_kwargs(params(http_scheme="https", port=443, password="pw", ca_cert="/ca.pem", catalog="iceberg",
                                   schema="s"))
    assert kwargs["verify"] == "/ca.pem" and kwargs["http_scheme"] == "https"
    assert isinstance(kwargs["auth"], trino.auth.BasicAuthentication)
    assert (kwargs["catalog"], kwargs["schema"], kwargs["request_timeout"]) == ("iceberg", "s", 30.0)
    assert connect_kwargs(params(verify=False, ca_cert="/ca.pem"))["verify"] is False
    assert "auth" not in connect_kwargs(params())


def test_jsonable_values():
    assert jsonable([decimal.Decimal("1.50"), datetime.date(2026, 1, 2), b"\x00\x01", {"k": (1, 2)}]) == [
        "1.50", "2026-01-02", "AAE=", {"k": [1, 2]}]


# -- main(): the module in-process with trino.dbapi.connect replaced ------------------------------------------
class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get("msg"))
        self.result = result
        self.failed = failed


class FakeCursor(object):
    def __init__(self, server):
        self.server = server
        self._rows = []
        self.description = None
        self.update_type = None
        self.rowcount = -1
        self.query_id = None
        self.stats = None
        self.closed = False

    def execute(self, statement):
        self.server.statements.append(statement)
        if isinstance(self.server.outcome, Exception):
            raise self.server.outcome
        columns, rows, update_type = self.server.outcome
        self.description = [(name, kind, None, None, None, None, None) for name, kind in columns]
        self._rows = list(rows)
        self.update_type = update_type
        self.rowcount = len(rows) if update_type else -1
        self.query_id = "20260101_000000_00001_abcde"
        self.stats = {"state": "FINISHED", "processedRows": len(rows)}
        return self

    def fetchmany(self, size):
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def close(self):
        self.closed = True


class FakeServer(object):
    def __init__(self):
        self.outcome = ([("Catalog", "varchar")], [["iceberg"], ["system"]], None)
        self.statements = []
        self.connects = []
        self.cursors = []

    def connect(self, **kwargs):
        self.connects.append(kwargs)
        server = self

        class Connection(object):
            def cursor(self):
                cursor = FakeCursor(server)
                server.cursors.append(cursor)
                return cursor

            def close(self):
                pass
        return Connection()


@pytest.fixture
def server(monkeypatch):
    fake = FakeServer()
    monkeypatch.setattr(module_under_test.trino.dbapi, "connect", fake.connect)
    return fake


@pytest.fixture
def run_module(monkeypatch):
    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(args):
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as done:
                module_under_test.main()
        return done.value
    return run


def test_read_statement_returns_columns_rows_and_reports_no_change(run_module, server):
    done = run_module(dict(host="trino", statement="SHOW CATALOGS;", catalog="iceberg", schema="s", user="me"))
    assert not done.failed
    result = done.result
    assert result["changed"] is False and result["read_only"] is True and result["skipped"] is False
    assert result["columns"] == [{"name": "Catalog", "type": "varchar"}]
    assert result["rows"] == [["iceberg"], ["system"]] and result["row_count"] == 2 and result["truncated"] is False
    assert result["query_id"] == "20260101_000000_00001_abcde" and result["stats"]["state"] == "FINISHED"
    assert server.statements == ["SHOW CATALOGS"]  # the semicolon is not sent
    assert server.connects[0]["user"] == "me" and server.connects[0]["catalog"] == "iceberg"
    assert server.cursors[0].closed


def test_max_rows_truncates(run_module, server):
    server.outcome = ([("n", "bigint")], [[i] for i in range(5)], None)
    done = run_module(dict(host="trino", statement="SELECT n FROM t", max_rows=3))
    assert done.result["rows"] == [[0], [1], [2]] and done.result["truncated"] is True
    assert server.cursors[0].closed  # close() cancels the rest of the query


def test_write_statement_reports_a_change_and_update_count(run_module, server):
    server.outcome = ([("rows", "bigint")], [[3]], "INSERT")
    done = run_module(dict(host="trino", statement="INSERT INTO t VALUES 1, 2, 3"))
    assert done.result["changed"] is True and done.result["update_type"] == "INSERT"
    assert done.result["update_count"] == 1 and done.result["read_only"] is False


def test_check_mode_skips_a_write_without_connecting(run_module, server):
    done = run_module(dict(host="trino", statement="DROP TABLE iceberg.s.t", _ansible_check_mode=True))
    assert not done.failed and done.result["skipped"] is True and done.result["changed"] is False
    assert "not a read statement" in done.result["msg"]
    assert server.connects == []


def test_check_mode_runs_a_read(run_module, server):
    done = run_module(dict(host="trino", statement="SELECT count(*) FROM t", _ansible_check_mode=True))
    assert not done.failed and done.result["skipped"] is False and server.statements == ["SELECT count(*) FROM t"]


def test_trino_user_error_names_error_name_and_message(run_module, server):
    server.outcome = trino.exceptions.TrinoUserError(
        {"errorName": "TABLE_NOT_FOUND", "errorType": "USER_ERROR", "errorCode": 46,
         "message": "line 1:22: Table 'iceberg.s.t' does not exist"}, "20260101_000000_00002_abcde")
    done = run_module(dict(host="trino", statement="SELECT count(*) FROM iceberg.s.t"))
    assert done.failed
    assert "TABLE_NOT_FOUND (USER_ERROR): line 1:22: Table 'iceberg.s.t' does not exist" in done.result["msg"]
    assert done.result["error_name"] == "TABLE_NOT_FOUND" and done.result["error_code"] == 46
    assert done.result["query_id"] == "20260101_000000_00002_abcde"


def test_connection_error_names_the_coordinator(run_module, server):
    server.outcome = trino.exceptions.TrinoConnectionError("failed to execute: Connection refused")
    done = run_module(dict(host="trino", port=8443, http_scheme="https", statement="SHOW CATALOGS"))
    assert done.failed and "https://trino:8443" in done.result["msg"] and "Connection refused" in done.result["msg"]


def test_password_over_http_fails_before_connecting(run_module, server):
    done = run_module(dict(host="trino", statement="SHOW CATALOGS", password="pw"))
    assert done.failed and "http_scheme=https" in done.result["msg"] and server.connects == []
    assert "pw" not in str(done.result)
