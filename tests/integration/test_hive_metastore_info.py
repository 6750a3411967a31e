"""hive_metastore_info makes a real Thrift call: it reads databases from the metastore stand-in (state in
PostgreSQL) and tells a plain TCP listener apart from a metastore."""
import socket
import threading

import pytest

from tests.integration.phase1_helpers import run_playbook


@pytest.fixture
def plain_tcp_listener():
    """Accepts connections and answers garbage, like a service that is not a Thrift server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _address = server.accept()
            except socket.timeout:
                continue
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_thrift_call_answers_from_the_metastore_database(tmp_path, hive_metastore, postgres, plain_tcp_listener):
    postgres.execute('INSERT INTO "DBS" VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING',
                     (900, "sales data", "s3a://warehouse/sales.db", "sales", "hive", "USER", "hive"),
                     dbname=hive_metastore.dbname)
    tasks = [
        {"name": "Query the metastore", "lakehouse.platform.hive_metastore_info": {
            "host": "127.0.0.1", "port": hive_metastore.port, "expect_databases": ["default", "sales"]},
         "register": "hms"},
        {"name": "Query a TCP service that is not a metastore", "lakehouse.platform.hive_metastore_info": {
            "host": "127.0.0.1", "port": plain_tcp_listener, "timeout": 3}, "register": "not_hms",
         "ignore_errors": True},
        {"name": "Expect a database the metastore does not have", "lakehouse.platform.hive_metastore_info": {
            "host": "127.0.0.1", "port": hive_metastore.port, "expect_databases": ["missing_db"]},
         "register": "missing", "ignore_errors": True},
    ]
    run = run_playbook(tmp_path, tasks, check=True, results=["hms", "not_hms", "missing"])
    hms = run.results["hms"]
    assert hms["failed"] is False, run
    assert "sales" in hms["databases"] and "default" in hms["databases"]
    sales = [d for d in hms["database_details"] if d["name"] == "sales"][0]
    assert sales["location_uri"] == "s3a://warehouse/sales.db" and sales["description"] == "sales data"
    assert run.results["not_hms"]["failed"] is True
    assert "get_all_databases on the Hive Metastore at 127.0.0.1:%d failed" % plain_tcp_listener \
        in run.results["not_hms"]["msg"]
    assert "missing_db" in run.results["missing"]["msg"]
