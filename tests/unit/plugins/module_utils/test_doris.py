"""DorisCluster: building the CR, input validation, readiness/failure from status, SHOW output parsing."""
import copy
import os

import jsonschema
import pytest
import yaml

from ansible_collections.lakehouse.platform.plugins.module_utils import doris

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "doris")


def load_show(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return yaml.safe_load(handle)


class RecordedCursor(object):
    """A DB-API cursor replaying a recorded result: description holds 7-tuples whose first item is the name."""

    def __init__(self, results, executed):
        self._results = results
        self._executed = executed
        self.description = None
        self._rows = []

    def execute(self, statement):
        self._executed.append(statement)
        recorded = self._results[statement]
        self.description = tuple((name, 253, None, None, None, None, True) for name in recorded["columns"])
        self._rows = [tuple(row) for row in recorded["rows"]]

    def fetchall(self):
        return tuple(self._rows)

    def close(self):
        pass


class RecordedConnection(object):
    def __init__(self, *recorded):
        self.results = {r["statement"]: r for r in recorded}
        self.executed = []
        self.closed = False

    def cursor(self):
        return RecordedCursor(self.results, self.executed)

    def close(self):
        self.closed = True


FE = {"image": "apache/doris:fe-3.0.8", "replicas": 3, "requests": {"cpu": "1", "memory": "2Gi"},
      "limits": {"cpu": 2, "memory": "4Gi"}, "storage_size": "30Gi", "storage_class": "local-storage-standard"}
BE = {"image": "apache/doris:be-3.0.8", "replicas": 2, "requests": {"cpu": 2, "memory": "4Gi"},
      "limits": {"cpu": 4, "memory": "8Gi"}, "storage_size": "100Gi"}


# ------------------------------------------------------------------------------------------------ building


def test_build_cluster_from_seed_figures():
    definition = doris.build_cluster("doris", "doris-analytics", {"fe": FE, "be": BE}, auth_secret="doris-admin")
    assert definition["apiVersion"] == "doris.selectdb.com/v1"
    assert definition["kind"] == "DorisCluster"
    assert definition["metadata"] == {"name": "doris", "namespace": "doris-analytics"}
    spec = definition["spec"]
    assert spec["authSecret"] == "doris-admin"
    assert set(spec) == {"feSpec", "beSpec", "authSecret"}
    assert spec["feSpec"]["replicas"] == 3
    assert spec["feSpec"]["requests"] == {"cpu": "1", "memory": "2Gi"}
    assert spec["feSpec"]["persistentVolumes"] == [{
        "name": "fe-meta",
        "mountPath": "/opt/apache-doris/fe/doris-meta",
        "persistentVolumeClaimSpec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "30Gi"}},
            "storageClassName": "local-storage-standard",
        },
    }]
    be_claim = spec["beSpec"]["persistentVolumes"][0]
    assert be_claim["mountPath"] == "/opt/apache-doris/be/storage"
    assert "storageClassName" not in be_claim["persistentVolumeClaimSpec"]


def test_build_cluster_validates_against_the_real_crd_schema():
    # The upstream CRD is read from the shared checkout beside the repository (never copied into it), located
    # the same way as the integration suite's kube fixture: $LAKEHOUSE_SHARED_DIR or <repo>/../shared.
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))))
    shared = os.environ.get("LAKEHOUSE_SHARED_DIR") or os.path.join(os.path.dirname(repo_root), "shared")
    crd_dir = os.path.join(shared, "reference", "crds")
    with open(os.path.join(crd_dir, "DorisCluster.doris.selectdb.com_v1.yaml")) as handle:
        crd = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    components = {"fe": dict(FE, election_number=3), "be": BE, "cn": {"image": "apache/doris:be-3.0.8", "replicas": 1}}
    definition = doris.build_cluster("doris", "ns", components, auth_secret="doris-admin")
    jsonschema.validate(definition["spec"], schema["properties"]["spec"])


def test_extra_spec_is_merged_under_explicit_options():
    extra = {"feSpec": {"replicas": 9, "service": {"type": "NodePort"}}, "enableRestartWhenConfigChange": True}
    spec = doris.build_cluster("d", "ns", {"fe": FE}, extra_spec=extra)["spec"]
    assert spec["feSpec"]["replicas"] == 3  # the explicit option wins
    assert spec["feSpec"]["service"] == {"type": "NodePort"}
    assert spec["enableRestartWhenConfigChange"] is True
    assert extra["feSpec"]["replicas"] == 9  # input left untouched


def test_election_number_is_written_for_fe():
    spec = doris.build_component_spec("fe", dict(FE, election_number=3))
    assert spec["electionNumber"] == 3


@pytest.mark.parametrize(
    "component, options, message",
    [
        ("fe", dict(FE, requests={"memory": "4Gx"}), "fe.requests.memory: invalid quantity '4Gx'"),
        ("be", dict(BE, limits={"cpu": "-1"}), "be.limits.cpu: invalid quantity '-1'"),
        ("fe", dict(FE, requests={"cpu": "4"}, limits={"cpu": "2"}), "fe.requests.cpu (4) exceeds fe.limits.cpu (2)"),
        ("fe", dict(FE, storage_size="4Gi"), "fe.storage_size 4Gi is below the 5Gi minimum"),
        ("fe", dict(FE, storage_size="5G"), "fe.storage_size 5G is below the 5Gi minimum"),
        ("be", dict(BE, storage_size="lots"), "be.storage_size: invalid quantity 'lots'"),
        ("be", dict(BE, storage_size="0"), "be.storage_size must be greater than zero"),
        ("be", dict(BE, storage_size=None, storage_class="fast"), "be.storage_class is set but be.storage_size is not"),
        ("broker", {"image": "apache/doris:broker-3.0.8", "storage_size": "10Gi"}, "broker.storage_size: a broker"),
        ("fe", dict(FE, replicas=0), "fe.replicas must be at least 1"),
        ("fe", dict(FE, election_number=5), "fe.election_number (5) cannot exceed fe.replicas (3)"),
        ("be", dict(BE, election_number=1), "be.election_number: only the FE"),
        ("be", dict(BE, image=""), "be.image is required"),
    ],
)
def test_invalid_options_are_refused_naming_the_option(component, options, message):
    with pytest.raises(doris.DorisSpecError) as err:
        doris.build_component_spec(component, options)
    assert message in str(err.value)


def test_fe_meta_volume_of_exactly_5gi_is_accepted():
    assert doris.build_component_spec("fe", dict(FE, storage_size="5Gi"))["persistentVolumes"]


def test_cluster_without_fe_is_refused():
    with pytest.raises(doris.DorisSpecError, match="fe is required"):
        doris.build_cluster("d", "ns", {"be": BE})


# ------------------------------------------------------------------------------------------------ status


def doris_cluster(fe_phase="available", fe_running=3, be_phase="available", be_running=2, be_reason="",
                  be_message="", with_status=True):
    obj = {
        "apiVersion": "doris.selectdb.com/v1",
        "kind": "DorisCluster",
        "metadata": {"name": "doris", "namespace": "doris-analytics", "generation": 1},
        "spec": {"feSpec": {"image": "fe", "replicas": 3}, "beSpec": {"image": "be", "replicas": 2}},
    }
    if with_status:
        obj["status"] = {
            "feStatus": {
                "accessService": "doris-fe-service",
                "runningInstances": ["doris-fe-%d" % i for i in range(fe_running)],
                "componentCondition": {"phase": fe_phase, "reason": "", "message": "",
                                       "lastTransitionTime": "2026-01-01T00:00:00Z"},
            },
            "beStatus": {
                "accessService": "doris-be-service",
                "runningInstances": ["doris-be-%d" % i for i in range(be_running)],
                "failedInstances": ["doris-be-1"] if be_phase == "haveMemberFailed" else [],
                "componentCondition": {"phase": be_phase, "reason": be_reason, "message": be_message,
                                       "lastTransitionTime": "2026-01-01T00:00:00Z"},
            },
        }
    return obj


def test_all_components_available_with_full_counts_is_ready():
    obj = doris_cluster()
    assert doris.is_ready(obj)
    assert doris.failure(obj) is None


def test_available_phase_with_fewer_running_instances_is_not_ready():
    # Right after a scale-up the old "available" phase stays until the operator reconciles.
    assert not doris.is_ready(doris_cluster(be_running=1))


def test_one_component_still_initializing_is_not_ready():
    obj = doris_cluster(be_phase="initializing", be_running=0)
    assert not doris.is_ready(obj)
    assert doris.describe(obj) == "fe phase available, running 3/3; be phase initializing, running 0/2"


def test_no_status_yet_is_not_ready():
    obj = doris_cluster(with_status=False)
    assert not doris.is_ready(obj)
    assert doris.describe(obj) == "fe phase (none yet), running 0/3; be phase (none yet), running 0/2"


def test_components_present_in_spec_only_are_judged():
    obj = doris_cluster()
    obj["spec"]["cnSpec"] = {"image": "be", "replicas": 1}
    assert doris.components_in_spec(obj) == ["fe", "be", "cn"]
    assert not doris.is_ready(obj)  # the CN has no status yet
    obj["status"]["cnStatus"] = {"runningInstances": ["doris-cn-0"], "componentCondition": {"phase": "available"}}
    assert doris.is_ready(obj)


def test_have_member_failed_reports_reason_message_and_pods():
    obj = doris_cluster(be_phase="haveMemberFailed", be_running=1, be_reason="CrashLoopBackOff",
                        be_message="back-off 5m0s restarting failed container=be")
    assert doris.failure(obj) == (
        "be haveMemberFailed: CrashLoopBackOff: back-off 5m0s restarting failed container=be "
        "(failed pods: doris-be-1)"
    )
    assert "be phase haveMemberFailed, running 1/2, failed 1 (CrashLoopBackOff)" in doris.describe(obj)


def test_summary_names_the_fe_service():
    assert doris.summary(doris_cluster())["fe_service"] == "doris-fe-service.doris-analytics.svc"
    assert doris.fe_service_host(doris_cluster(with_status=False)) == "doris-fe-service.doris-analytics.svc"


# ------------------------------------------------------------------------------------------------ SHOW parsing


def test_recorded_show_frontends_parses_by_column_name():
    connection = RecordedConnection(load_show("show_frontends.yaml"))
    rows = doris.query_rows(connection, "SHOW FRONTENDS")
    assert len(rows) == 3
    assert rows[0]["Host"].startswith("doris-fe-0.")
    assert [row["Alive"] for row in rows] == ["true", "true", "false"]
    assert doris.count_alive(rows) == 2


def test_membership_from_recorded_output_splits_be_and_cn():
    connection = RecordedConnection(load_show("show_frontends.yaml"), load_show("show_backends.yaml"))
    counts = doris.read_membership(connection)
    assert connection.executed == ["SHOW FRONTENDS", "SHOW BACKENDS"]
    assert (counts["fe_alive"], counts["fe_total"]) == (2, 3)
    assert (counts["be_alive"], counts["be_total"]) == (2, 3)
    assert (counts["cn_alive"], counts["cn_total"]) == (1, 1)
    assert counts["fe_master"].startswith("doris-fe-0.")
    assert {(n["name"], n["error"]) for n in counts["not_alive"]} == {
        ("fe_d4c3b2a1_7e6f_4a5b_8c9d_0e1f2a3b4c52", "java.net.ConnectException: Connection refused"),
        ("10004", "java.net.ConnectException: Connection refused"),
    }
    assert doris.expected_mismatches(counts, {"fe": 3, "be": 3, "cn": 1}) == [
        "fe alive 2, expected 3", "be alive 2, expected 3",
    ]
    assert doris.expected_mismatches(counts, {"fe": 2, "be": 2, "cn": None}) == []


def test_alive_accepts_booleans_and_bytes():
    rows = [{"Alive": True}, {"Alive": b"true"}, {"Alive": 1}, {"Alive": "false"}, {"Alive": None}]
    assert doris.count_alive(rows) == 3


def test_result_without_alive_column_is_an_error():
    with pytest.raises(doris.DorisQueryError, match="no Alive column"):
        doris.count_alive([{"Name": "x"}])


def test_check_fe_polls_until_counts_match(monkeypatch):
    frontends, backends = load_show("show_frontends.yaml"), load_show("show_backends.yaml")
    healed = copy.deepcopy(backends)
    healed["rows"][2][9] = "true"  # the third BE's heartbeat comes back
    answers = [RecordedConnection(frontends, backends), RecordedConnection(frontends, healed)]
    opened = []

    def fake_connect(**kwargs):
        opened.append(kwargs)
        return answers[len(opened) - 1]

    monkeypatch.setattr(doris, "connect", fake_connect)
    now = [0.0]
    counts, mismatches = doris.check_fe(
        {"host": "fe", "port": 9030, "user": "root", "password": "pw"}, {"fe": 2, "be": 3},
        timeout=30, interval=2, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert mismatches == []
    assert counts["be_alive"] == 3
    assert len(opened) == 2 and now[0] == 2
    assert all(c.closed for c in answers)


def test_check_fe_returns_last_mismatch_at_deadline(monkeypatch):
    frontends, backends = load_show("show_frontends.yaml"), load_show("show_backends.yaml")
    monkeypatch.setattr(doris, "connect", lambda **kw: RecordedConnection(frontends, backends))
    now = [0.0]
    counts, mismatches = doris.check_fe(
        {"host": "fe", "port": 9030, "user": "root", "password": None}, {"fe": 3, "be": 3},
        timeout=5, interval=2, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert mismatches == ["fe alive 2, expected 3", "be alive 2, expected 3"]
    assert now[0] >= 5


def test_check_fe_raises_connection_error_after_deadline(monkeypatch):
    def refuse(**kwargs):
        raise doris.DorisQueryError("cannot connect to the Doris FE at fe:9030 as 'root': refused")

    monkeypatch.setattr(doris, "connect", refuse)
    now = [0.0]
    with pytest.raises(doris.DorisQueryError, match="fe:9030"):
        doris.check_fe({"host": "fe", "port": 9030, "user": "root", "password": "pw"}, {"fe": 1}, timeout=3,
                       interval=1, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert now[0] >= 3


# -- SQL HTTP API answers, replicas, the round trip's clean-up ---------------------------------------------
def test_sql_api_answers_are_read_as_fe_core_shapes_them():
    ok = {"msg": "success", "code": 0, "count": 0,
          "data": {"type": "result_set", "meta": [{"name": "id", "type": "INT"}, {"name": "name", "type": "VARCHAR"}],
                   "data": [[1, "a"]], "time": 3}}
    result = doris.parse_sql_api_answer(200, ok, "", "SELECT 1", "url u")
    assert (result.kind, result.dicts()) == ("result_set", [{"id": 1, "name": "a"}])
    assert doris.parse_sql_api_answer(200, {"code": 0, "data": {"type": "exec_status", "status": {}}}, "", "X",
                                      "u").kind == "exec_status"
    with pytest.raises(doris.DorisAuthError) as err:
        doris.parse_sql_api_answer(200, {"code": 401, "msg": "Unauthorized", "data": "Access denied for user 'u@ip'"},
                                   "", "SHOW FRONTENDS", "url u")
    assert str(err.value) == "SHOW FRONTENDS via url u answered code 401 Unauthorized: Access denied for user 'u@ip'"
    with pytest.raises(doris.DorisQueryError) as err:
        doris.parse_sql_api_answer(200, {"code": 1, "msg": "Error", "data": "Failed to execute sql: boom"}, "", "S", "u")
    assert "answered code 1 Error: Failed to execute sql: boom" in str(err.value)
    with pytest.raises(doris.DorisQueryError) as err:
        doris.parse_sql_api_answer(502, None, "<html>bad gateway</html>", "S", "u")
    assert "answered HTTP 502, not a Doris SQL API document: <html>bad gateway</html>" in str(err.value)


@pytest.mark.parametrize("backends, replicas", [(0, 1), (1, 1), (2, 2), (3, 3), (7, 3)])
def test_replication_num_is_min_of_backends_and_three(backends, replicas):
    assert doris.replication_num(backends) == replicas


class _Runner(object):
    via = "fake"

    def __init__(self, fail_on=None, rows=None):
        self.sent, self.fail_on, self.rows = [], fail_on, rows

    def execute(self, statement):
        self.sent.append(statement)
        if self.fail_on and statement.startswith(self.fail_on):
            raise doris.DorisQueryError("%s via fake answered code 1 Error: nope" % statement)
        if statement.startswith("SELECT"):
            return doris.SqlResult("result_set", ["id", "name"], self.rows if self.rows is not None else
                                   [list(r) for r in doris.ROUND_TRIP_ROWS])
        if statement.startswith("SHOW DATABASES"):
            return doris.SqlResult("result_set", ["Database"], [])
        return doris.SqlResult("exec_status")


def test_round_trip_drops_the_database_also_when_a_step_fails():
    runner = _Runner(fail_on="INSERT")
    with pytest.raises(doris.DorisQueryError) as err:
        doris.round_trip(runner, "lakehouse_check_x", replicas=2)
    assert str(err.value).startswith("INSERT INTO lakehouse_check_x.lakehouse_check")
    assert runner.sent[-2:] == ["DROP DATABASE IF EXISTS lakehouse_check_x FORCE", "SHOW DATABASES LIKE 'lakehouse_check_x'"]
    assert err.value.report["dropped"] is True and err.value.report["written"] == 0


def test_round_trip_reports_rows_that_differ():
    with pytest.raises(doris.DorisQueryError) as err:
        doris.round_trip(_Runner(rows=[[1, "lakehouse"]]), "lakehouse_check_y")
    assert "read back 1 rows, 3 were written" in str(err.value)


def test_a_database_prefix_that_is_no_identifier_is_refused():
    with pytest.raises(doris.DorisSpecError) as err:
        doris.round_trip_database("bad-prefix")
    assert "fe_check.database_prefix 'bad-prefix'" in str(err.value)


# ------------------------------------------------------------------ the exec way: the FE container's mysql client

class _Exec(object):
    def __init__(self, rc=0, stdout="", stderr=""):
        self.rc, self.stdout, self.stderr, self.message = rc, stdout, stderr, ""


def test_batch_output_is_read_as_the_mysql_client_prints_it():
    result = doris.parse_batch_output("Name\tAlive\tErrMsg\nfe-0\ttrue\tNULL\nfe-1\tfalse\tline\\none\\ttab\\\\\n")
    assert result.columns == ["Name", "Alive", "ErrMsg"]
    assert result.rows == [["fe-0", "true", None], ["fe-1", "false", "line\none\ttab\\"]]
    assert doris.parse_batch_output("").rows == [] and doris.parse_batch_output("\n").columns == []


def test_the_exec_runner_sends_the_password_on_stdin_never_in_the_command():
    sent = []

    def run(command, stdin):
        sent.append((command, stdin))
        return _Exec(stdout="id\tname\n1\tlakehouse\n")

    runner = doris.ExecSqlRunner(run, "root", "s3cret", 9030, "pod exec ns/fe-0 (container fe)")
    assert runner.execute("SELECT id, name FROM t").rows == [["1", "lakehouse"]]
    (command, stdin), = sent
    assert command[:3] == ["sh", "-c", doris.EXEC_SCRIPT] and command[3:] == ["doris-sql", "9030", "root",
                                                                              "SELECT id, name FROM t"]
    assert stdin == "s3cret\n" and not any("s3cret" in part for part in command)


def test_the_exec_runner_names_the_statement_the_way_and_the_answer():
    refused = doris.ExecSqlRunner(lambda c, s: _Exec(1, "", "ERROR 1045 (28000): Access denied for user 'root'@'x'\n"),
                                  "root", "x", 9030, "pod exec ns/fe-0 (container fe)")
    with pytest.raises(doris.DorisAuthError) as err:
        refused.execute("SHOW FRONTENDS")
    assert str(err.value) == ("SHOW FRONTENDS via pod exec ns/fe-0 (container fe) exited 1: ERROR 1045 (28000): "
                              "Access denied for user 'root'@'x'")
    failing = doris.ExecSqlRunner(lambda c, s: _Exec(1, "", "ERROR 1105 (HY000): errCode = 2, detailMessage = x\n"),
                                  "root", "x", 9030, "pod exec ns/fe-0 (container fe)")
    with pytest.raises(doris.DorisQueryError) as err:
        failing.execute("CREATE DATABASE d")
    assert not isinstance(err.value, doris.DorisAuthError) and "CREATE DATABASE d via pod exec" in str(err.value)

    class Refused(Exception):
        pass

    def unreachable(command, stdin):
        raise Refused("not reachable: pod exec ns/fe-0 (container fe): the API server answered 403 Forbidden")

    gone = doris.ExecSqlRunner(unreachable, "root", "x", 9030, "pod exec ns/fe-0 (container fe)", (Refused,))
    with pytest.raises(doris.DorisUnreachable, match=r"^not reachable: pod exec .*403 Forbidden \(SHOW BACKENDS via"):
        gone.execute("SHOW BACKENDS")
