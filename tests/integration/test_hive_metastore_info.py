"""hive_metastore_info makes a real Thrift call: it reads databases from a real Hive Metastore (state in
PostgreSQL, warehouse on the Ceph gateway) and tells a plain TCP listener apart from a metastore."""
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
    from hive_metastore.ttypes import AlreadyExistsException, Database

    location = hive_metastore.warehouse + "/sales.db"
    with hive_metastore.client() as hms:
        try:
            hms.create_database(Database(name="sales", description="sales data", locationUri=location))
        except AlreadyExistsException:
            pass
    # the database is really the metastore's: a row in its PostgreSQL schema
    assert postgres.execute('SELECT "DESC" FROM "DBS" WHERE "NAME" = %s', ("sales",),
                            dbname=hive_metastore.dbname) == [("sales data",)]
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
    assert sales["location_uri"] == location and sales["description"] == "sales data"
    assert run.results["not_hms"]["failed"] is True
    assert "get_all_databases on the Hive Metastore at 127.0.0.1:%d failed" % plain_tcp_listener \
        in run.results["not_hms"]["msg"]
    assert "missing_db" in run.results["missing"]["msg"]
