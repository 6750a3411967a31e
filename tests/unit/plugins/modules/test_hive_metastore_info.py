"""hive_metastore_info: argument checks before any connection, retries only for unreachable servers,
expected databases enforced, Thrift errors turned into messages that name the endpoint and the call."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from hive_metastore.ttypes import Database, MetaException, NoSuchObjectException
from thrift.transport.TTransport import TTransportException

from ansible_collections.lakehouse.platform.plugins.module_utils import hive_metastore
from ansible_collections.lakehouse.platform.plugins.modules import hive_metastore_info


class FakeThriftClient(object):
    """Stands in for the generated ThriftHiveMetastore.Client (the transport is never opened)."""

    def __init__(self, databases, fail_get=None):
        self.databases = databases
        self.fail_get = fail_get
        self.calls = []

    def get_all_databases(self):
        self.calls.append("get_all_databases")
        return list(self.databases)

    def get_database(self, name):
        self.calls.append("get_database(%s)" % name)
        if self.fail_get:
            raise self.fail_get
        return Database(name=name, description="d", locationUri="s3a://warehouse/%s" % name, ownerName="hive",
                        ownerType=1, catalogName="hive", parameters={"k": "v"})


@pytest.fixture
def fake_server(monkeypatch):
    state = {"connect_failures": 0, "client": FakeThriftClient(["default", "sales"]), "opened": 0}

    def fake_open(self):
        state["opened"] += 1
        if state["connect_failures"]:
            state["connect_failures"] -= 1
            raise hive_metastore.MetastoreUnreachable("cannot connect to the Hive Metastore at %s: refused"
                                                      % self.endpoint)
        self._client = state["client"]
        return self

    monkeypatch.setattr(hive_metastore.MetastoreClient, "open", fake_open)
    monkeypatch.setattr(hive_metastore.MetastoreClient, "close", lambda self: None)
    return state


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            hive_metastore_info.main()
    return json.loads(capsys.readouterr().out), exit_info.value.code != 0


def test_lists_databases_and_details_of_expected_ones(fake_server, capsys):
    result, failed = run({"host": "hms", "expect_databases": ["default"], "databases": ["sales", "default"]}, capsys)
    assert not failed and result["changed"] is False
    assert result["databases"] == ["default", "sales"]
    assert [d["name"] for d in result["database_details"]] == ["default", "sales"]  # no duplicate
    assert result["database_details"][0]["location_uri"] == "s3a://warehouse/default"
    assert result["endpoint"] == "hms:9083"
    assert fake_server["client"].calls == ["get_all_databases", "get_database(default)", "get_database(sales)"]


def test_missing_expected_database_fails_naming_it(fake_server, capsys):
    result, failed = run({"host": "hms", "expect_databases": ["default", "metastore_check"]}, capsys)
    assert failed
    assert "metastore_check" in result["msg"] and "hms:9083" in result["msg"]


def test_unreachable_server_is_retried_then_answers(fake_server, capsys, monkeypatch):
    monkeypatch.setattr(hive_metastore.time, "sleep", lambda s: None)
    fake_server["connect_failures"] = 2
    result, failed = run({"host": "hms", "retries": 3, "retry_delay": 0}, capsys)
    assert not failed
    assert result["attempts"] == 3


def test_unreachable_after_retries_fails(fake_server, capsys):
    fake_server["connect_failures"] = 5
    result, failed = run({"host": "hms", "retries": 1, "retry_delay": 0}, capsys)
    assert failed and "cannot connect" in result["msg"]
    assert fake_server["opened"] == 2


def test_metastore_errors_are_not_retried(fake_server, capsys):
    fake_server["client"] = FakeThriftClient(["default"], fail_get=MetaException(message="JDO error: no DBS table"))
    result, failed = run({"host": "hms", "expect_databases": ["default"], "retries": 5}, capsys)
    assert failed
    assert "get_database(default)" in result["msg"] and "JDO error" in result["msg"]
    assert fake_server["opened"] == 1


def test_no_such_object_message():
    client = hive_metastore.MetastoreClient("h", 1)
    client._client = FakeThriftClient([], fail_get=NoSuchObjectException(message="nope not found"))
    with pytest.raises(hive_metastore.MetastoreError, match=r"no such object: nope not found"):
        client.get_database("nope")


def test_garbled_reply_becomes_a_metastore_error():
    class Broken(object):
        def get_all_databases(self):
            raise TTransportException(TTransportException.END_OF_FILE, "TSocket read 0 bytes")

    client = hive_metastore.MetastoreClient("h", 9083)
    client._client = Broken()
    with pytest.raises(hive_metastore.MetastoreError, match=r"get_all_databases on the Hive Metastore at h:9083"):
        client.get_all_databases()


@pytest.mark.parametrize("args, message", [
    ({"host": " "}, "host must not be empty"),
    ({"host": "h", "port": 0}, "port must be between 1 and 65535"),
    ({"host": "h", "timeout": 0}, "timeout must be greater than 0"),
    ({"host": "h", "retries": -1}, "retries must be 0 or more"),
])
def test_bad_arguments_fail_before_connecting(fake_server, capsys, args, message):
    result, failed = run(args, capsys)
    assert failed and message in result["msg"]
    assert fake_server["opened"] == 0
