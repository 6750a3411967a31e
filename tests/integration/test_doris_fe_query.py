"""The FE check's query path (connect, execute, fetch with column names, count alive nodes) against a REAL
MySQL-protocol server: MariaDB, standing in for a Doris FE.

What MariaDB stands in for, and what it cannot:

* It is a real server speaking the MySQL wire protocol that Doris FEs speak on port 9030: TCP connect,
  handshake, password authentication, errors, result sets with column names in ``cursor.description``.
  pymysql cannot tell the difference, so ``doris.connect`` / ``query_rows`` / ``read_membership`` /
  ``check_fe`` run here exactly as they run against a FE.
* It cannot run ``SHOW FRONTENDS`` / ``SHOW BACKENDS`` (Doris-only statements). The tables ``frontends``
  and ``backends`` below carry the recorded Doris 3.x result (tests/unit/fixtures/doris/, columns and order
  from the Doris docs) as text columns, as Doris returns them, and the check is pointed at
  ``SELECT * FROM ...`` through the statement parameters of ``read_membership``/``check_fe`` (the Doris docs
  state that SHOW FRONTENDS is equivalent to ``SELECT * FROM FRONTENDS()``). Everything after the statement
  is the production code path; the exact Doris statements and result types are pinned by the unit tests on
  the recorded output, not here.
* It does not reproduce Doris' own behaviour: heartbeats, Alive flipping after a node dies, privileges
  needed for SHOW BACKENDS (ADMIN_PRIV). Here a test flips ``Alive`` itself.
"""
import os
import secrets
import threading
import time

import pytest
import yaml

from ansible_collections.lakehouse.platform.plugins.module_utils import doris

pytestmark = pytest.mark.latency

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "unit", "fixtures", "doris")
DATABASE = "doris_standin"
FRONTENDS_SQL = "SELECT * FROM %s.frontends" % DATABASE
BACKENDS_SQL = "SELECT * FROM %s.backends" % DATABASE


def recorded(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return yaml.safe_load(handle)


def load_table(mariadb, table, result):
    columns = ", ".join("`%s` VARCHAR(512)" % column for column in result["columns"])
    mariadb.execute("DROP TABLE IF EXISTS %s" % table, database=DATABASE)
    mariadb.execute("CREATE TABLE %s (%s)" % (table, columns), database=DATABASE)
    placeholders = ", ".join(["%s"] * len(result["columns"]))
    conn = mariadb.connect(database=DATABASE)
    try:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO %s VALUES (%s)" % (table, placeholders), [tuple(r) for r in result["rows"]])
    finally:
        conn.close()


@pytest.fixture
def fe_standin(mariadb):
    """MariaDB loaded with the recorded SHOW output, and a password-protected account that reads it."""
    mariadb.create_database(DATABASE)
    load_table(mariadb, "frontends", recorded("show_frontends.yaml"))
    load_table(mariadb, "backends", recorded("show_backends.yaml"))
    password = secrets.token_urlsafe(16)
    mariadb.create_user("doris_check", password, DATABASE)
    return {"host": mariadb.host, "port": mariadb.port, "user": "doris_check", "password": password,
            "connect_timeout": 5}


def test_membership_over_a_real_mysql_protocol_connection(fe_standin):
    connection = doris.connect(**fe_standin)
    try:
        rows = doris.query_rows(connection, FRONTENDS_SQL)
        counts = doris.read_membership(connection, FRONTENDS_SQL, BACKENDS_SQL)
    finally:
        connection.close()
    # Column names come from the server's result-set metadata, in the documented order.
    assert list(rows[0]) == recorded("show_frontends.yaml")["columns"]
    assert (counts["fe_alive"], counts["fe_total"]) == (2, 3)
    assert (counts["be_alive"], counts["be_total"]) == (2, 3)
    assert (counts["cn_alive"], counts["cn_total"]) == (1, 1)
    assert counts["fe_master"].startswith("doris-fe-0.")
    assert sorted(n["name"] for n in counts["not_alive"]) == ["10004", "fe_d4c3b2a1_7e6f_4a5b_8c9d_0e1f2a3b4c52"]


def test_check_fe_sees_a_backend_come_alive(mariadb, fe_standin):
    # The BE 10004 heartbeat "comes back" 1.5 s into the check; the FE check must poll, not judge once.
    def heal():
        time.sleep(1.5)
        mariadb.execute("UPDATE backends SET Alive = 'true', ErrMsg = '' WHERE BackendId = '10004'",
                        database=DATABASE)

    healer = threading.Thread(target=heal)
    started = time.monotonic()
    healer.start()
    try:
        counts, mismatches = doris.check_fe(fe_standin, {"fe": 2, "be": 3, "cn": 1}, timeout=20, interval=0.5,
                                            frontends_sql=FRONTENDS_SQL, backends_sql=BACKENDS_SQL)
    finally:
        healer.join()
    elapsed = time.monotonic() - started
    assert mismatches == []
    assert counts["be_alive"] == 3
    assert 1.5 <= elapsed < 5, elapsed


def test_check_fe_reports_the_mismatch_at_its_deadline(fe_standin):
    counts, mismatches = doris.check_fe(fe_standin, {"fe": 3, "be": 3}, timeout=1.5, interval=0.5,
                                        frontends_sql=FRONTENDS_SQL, backends_sql=BACKENDS_SQL)
    assert mismatches == ["fe alive 2, expected 3", "be alive 2, expected 3"]
    assert counts["fe_total"] == 3


def test_wrong_password_names_endpoint_and_user_never_the_password(fe_standin):
    wrong = dict(fe_standin, password="not-" + fe_standin["password"])
    with pytest.raises(doris.DorisQueryError) as err:
        doris.check_fe(wrong, {"fe": 2}, timeout=1, interval=0.5,
                       frontends_sql=FRONTENDS_SQL, backends_sql=BACKENDS_SQL)
    message = str(err.value)
    assert "127.0.0.1:%d as 'doris_check'" % fe_standin["port"] in message
    assert "Access denied" in message
    assert wrong["password"] not in message and fe_standin["password"] not in message


def test_a_statement_the_server_refuses_is_reported_with_its_error(fe_standin):
    # MariaDB does not know SHOW FRONTENDS: the server's own syntax error reaches the message.
    connection = doris.connect(**fe_standin)
    try:
        with pytest.raises(doris.DorisQueryError) as err:
            doris.read_membership(connection)
    finally:
        connection.close()
    assert "SHOW FRONTENDS / SHOW BACKENDS failed" in str(err.value)
    assert "1064" in str(err.value)  # ER_PARSE_ERROR
