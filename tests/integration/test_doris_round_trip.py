"""Doris' runbook integration test "create table and run simple query", and the FE node check, through the
doris role's validate entry point and the doris_cluster module.

The FE is tests/integration/doris_fe_standin (README there): Doris' SQL HTTP API and /api/health executing on
the suite's REAL MariaDB, registered as the FE Service's backend in the Kubernetes API test server. Pinned down:

* through an explicit FE URL (doris_fe_sql_url) the round trip creates a database and table, writes 3 rows,
  reads the same 3 rows back and drops the database (MariaDB no longer has it), and the record says so;
* by default, through the API server's service proxy, the FE answers /api/health (backends online) and the
  round trip records that it cannot run there: the proxy removes the Authorization header (the stand-in sees
  none, as a Doris FE behind kube-apiserver would), so the FE never gets the Doris credentials;
* the direct MySQL path runs the same statements over pymysql against MariaDB;
* failures name doris, the statement and the answer: a wrong password, the FE down (not reachable, naming the
  Service), rows that are not read back (the database is dropped anyway); check mode sends nothing.
"""
import base64
import os
import secrets
import sys

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import doris
from tests.integration.doris_fe_standin import DorisFEStandIn, translate
from tests.integration.phase1_helpers import run_playbook
from tests.fixtures.local_server import free_loopback_port

CLUSTER = "doris-cluster"
FE_SERVICE = CLUSTER + "-fe-service"
USER = "doris_rt"
PREFIX = "lakehouse_check"
FE_POD = CLUSTER + "-fe-0"
STANDIN_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "doris_fe_standin", "bin")


@pytest.fixture(scope="module")
def fe_standin(mariadb):
    password = secrets.token_urlsafe(16)
    mariadb.execute("CREATE OR REPLACE USER `%s`@'127.0.0.1' IDENTIFIED BY %%s" % USER, (password,))
    # Only the round trip's databases (the underscores of the prefix escaped in the grant's pattern).
    mariadb.execute("GRANT ALL PRIVILEGES ON `%s\\_%%`.* TO `%s`@'127.0.0.1'" % (PREFIX.replace("_", "\\_"), USER))
    standin = DorisFEStandIn(mariadb.host, mariadb.port).start()
    try:
        yield {"standin": standin, "password": password, "url": "http://127.0.0.1:%d" % standin.port,
               "mariadb": mariadb}
    finally:
        standin.stop()


def _request(kube_api, method, path, body, content_type="application/json"):
    status, answer, _headers = kube_api.request(method, path, body, content_type=content_type)
    assert status in (200, 201), answer
    return answer


def _secret(kube_api, ns, password, name="doris-auth"):
    _request(kube_api, "POST", "/api/v1/namespaces/%s/secrets" % ns, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "kubernetes.io/basic-auth",
        "data": {"username": base64.b64encode(USER.encode()).decode(),
                 "password": base64.b64encode(password.encode()).decode()}})


@pytest.fixture
def doris_ns(kube_api, kube_namespace, fe_standin):
    """An available DorisCluster (2 FE, 2 BE, 1 CN: the recorded SHOW output's alive nodes), its auth Secret and
    FE Service, the stand-in registered for the Service's HTTP port."""
    ns = kube_namespace
    _secret(kube_api, ns, fe_standin["password"])
    path = "/apis/doris.selectdb.com/v1/namespaces/%s/dorisclusters" % ns
    spec = {"authSecret": "doris-auth"}
    for component, replicas in (("fe", 2), ("be", 2), ("cn", 1)):
        spec[doris.SPEC_KEYS[component]] = {"image": "apache/doris:%s-3.0.8" % component, "replicas": replicas}
    _request(kube_api, "POST", path, {"apiVersion": "doris.selectdb.com/v1", "kind": "DorisCluster",
                                      "metadata": {"name": CLUSTER}, "spec": spec})
    status = {}
    for component, replicas in (("fe", 2), ("be", 2), ("cn", 1)):
        status[doris.STATUS_KEYS[component]] = {
            "accessService": "%s-%s-service" % (CLUSTER, component),
            "runningInstances": ["%s-%s-%d" % (CLUSTER, component, i) for i in range(replicas)],
            "componentCondition": {"subResourceName": "%s-%s" % (CLUSTER, component), "phase": "available",
                                   "lastTransitionTime": "2026-01-21T09:48:36Z", "reason": "", "message": ""}}
    _request(kube_api, "PATCH", "%s/%s/status" % (path, CLUSTER), {"status": status},
             content_type="application/merge-patch+json")
    _request(kube_api, "POST", "/api/v1/namespaces/%s/services" % ns, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": FE_SERVICE},
        "spec": {"selector": {"app": FE_SERVICE},
                 "ports": [{"name": "http-port", "port": 8030}, {"name": "query-port", "port": 9030}]}})
    _request(kube_api, "PUT", "/_test/service-backends/%s/%s/8030" % (ns, FE_SERVICE),
             {"target": "127.0.0.1:%d" % fe_standin["standin"].port})
    # The FE pod (labelled as doris-operator labels it) whose container's mysql client the exec way runs.
    _request(kube_api, "POST", "/api/v1/namespaces/%s/pods" % ns, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": FE_POD, "labels": {
            "app.doris.ownerreference/name": CLUSTER + "-fe", "app.kubernetes.io/component": "fe"}},
        "spec": {"nodeName": "node-a", "containers": [{"name": "fe", "image": "apache/doris:fe-3.0.8"}]}})
    _request(kube_api, "PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (ns, FE_POD),
             {"status": {"phase": "Running", "podIP": "10.244.1.7"}}, content_type="application/merge-patch+json")
    _request(kube_api, "PUT", "/_test/exec-backends/%s/%s/fe" % (ns, FE_POD), {
        "path": STANDIN_BIN, "timeout": 60, "env": {
            "DORIS_STANDIN_PYTHON": sys.executable,
            "DORIS_STANDIN_MARIADB": "%s:%s" % (fe_standin["mariadb"].host, fe_standin["mariadb"].port)}})
    return ns


def _validate(ns, **variables):
    return {"name": "Validate doris",
            "ansible.builtin.include_role": {"name": "lakehouse.platform.doris", "tasks_from": "validate"},
            "vars": dict({"platform_mode": "apply", "doris_namespace": ns, "doris_wait_timeout": 10}, **variables)}


def _keep(name):
    return {"name": "Keep " + name, "ansible.builtin.set_fact": {name: "{{ doris_validation }}"}}


def _databases(mariadb):
    return [row[0] for row in mariadb.execute("SHOW DATABASES LIKE 'lakehouse\\_check\\_%'")]


def test_round_trip_through_the_sql_api_and_the_default_way_through_the_proxy(
        tmp_path, kube_api, doris_ns, fe_standin, mariadb):
    standin = fe_standin["standin"]
    del standin.requests[:]
    kube_api.reset_counts()
    run = run_playbook(tmp_path, [_validate(doris_ns, doris_fe_sql_url=fe_standin["url"]), _keep("by_url"),
                                  _validate(doris_ns, doris_fe_check_way="proxy"), _keep("by_proxy"),
                                  _validate(doris_ns), _keep("by_exec")],
                       env=kube_api.env, results=["by_url", "by_proxy", "by_exec"])
    assert run.returncode == 0, run
    assert run.changed_tasks() == [], run.changed_tasks()  # the probe leaves nothing behind: changed=false

    by_url = run.results["by_url"]
    trip = by_url["sql_round_trip"]
    assert trip.startswith(PREFIX + "_") and trip.endswith(
        ".lakehouse_check: 3 rows written, 3 read back, dropped, via url %s" % fe_standin["url"]), trip
    database = trip.split(".")[0]
    assert database not in _databases(mariadb)  # the test database is gone afterwards
    statements = [r["statement"] for r in standin.requests if r["statement"]]
    assert statements[:2] == ["SHOW FRONTENDS", "SHOW BACKENDS"]
    assert statements[2:] == list(doris.round_trip_statements(database, "lakehouse_check", 2).values())
    assert 'PROPERTIES ("replication_num" = "2")' in statements[3]  # min(2 alive BEs, 3)
    assert by_url["fe_check"]["fe_alive"] == 2 and by_url["fe_check"]["be_alive"] == 2
    assert by_url["fe_check"]["reach"] == "via url " + fe_standin["url"]
    assert fe_standin["password"] not in run.output

    by_proxy = run.results["by_proxy"]
    via = "via service proxy %s/%s:8030" % (doris_ns, FE_SERVICE)
    assert by_proxy["fe_check"] == {"be_online": 3, "be_total": 4, "reach": via}
    assert by_proxy["sql_round_trip"].startswith("not run: Doris' SQL HTTP API needs the Doris password in the "
                                                 "Authorization header, which the Kubernetes API server removes")
    health = [r for r in standin.requests if r["path"] == "/api/health"]
    assert len(health) == 1 and health[0]["authorization"] is False
    assert kube_api.request_counts().count(verb="get", subresource="proxy") == 1

    # What the proxy does to the SQL API: the FE gets no credentials and refuses (the stand-in like a Doris FE).
    status, answer, _headers = kube_api.request(
        "POST", "/api/v1/namespaces/%s/services/%s:8030/proxy/api/query/default_cluster/information_schema"
        % (doris_ns, FE_SERVICE), {"stmt": "SHOW FRONTENDS"},
        headers={"Authorization": "Basic " + base64.b64encode(b"doris_rt:x").decode()})
    assert (status, answer["code"], answer["data"]) == (200, 401, "Cookie is invalid")

    # The default way: the FE container's mysql client through pod exec (the runbook's kubectl exec), one exec per
    # statement, the password on stdin: the same round trip, on MariaDB through the real mysql client.
    by_exec = run.results["by_exec"]
    via = "via pod exec %s/%s (container fe)" % (doris_ns, FE_POD)
    trip = by_exec["sql_round_trip"]
    assert trip.startswith(PREFIX + "_") and trip.endswith(
        ".lakehouse_check: 3 rows written, 3 read back, dropped, " + via), trip
    assert trip.split(".")[0] not in _databases(mariadb)
    assert by_exec["fe_check"]["fe_alive"] == 2 and by_exec["fe_check"]["be_alive"] == 2
    assert by_exec["fe_check"]["reach"] == via
    # SHOW FRONTENDS, SHOW BACKENDS and the six statements of the round trip
    assert kube_api.request_counts().count(verb="get", subresource="exec") == 8


def test_the_direct_mysql_way_runs_the_same_round_trip_on_mariadb(fe_standin, mariadb):
    """doris_fe_check_host: the statements over pymysql; MariaDB cannot parse the Doris-only clauses, so the
    runner sends them through the stand-in's translate() -- everything after the statement is the production path."""

    class Translating(doris.MySQLRunner):
        def execute(self, statement):
            return super(Translating, self).execute(translate(statement))

    runner = Translating({"host": mariadb.host, "port": mariadb.port, "user": USER,
                          "password": fe_standin["password"], "connect_timeout": 5})
    database = doris.round_trip_database(PREFIX)
    try:
        report = doris.round_trip(runner, database, replicas=doris.replication_num(2))
    finally:
        runner.close()
    assert report == {"database": database, "table": "lakehouse_check", "written": 3, "read_back": 3,
                      "dropped": True, "replication_num": 2}
    assert database not in _databases(mariadb)


def _module(ns, register, **fe_check):
    return {"name": "FE check " + register, "lakehouse.platform.doris_cluster": {
        "name": CLUSTER, "namespace": ns, "apply": False, "auth_secret": "doris-auth", "wait_timeout": 4,
        "fe_check": fe_check}, "register": register, "ignore_errors": True}


def test_failures_name_doris_the_statement_and_the_answer_and_check_mode_sends_nothing(
        tmp_path, kube_api, doris_ns, fe_standin, mariadb):
    standin = fe_standin["standin"]
    _secret(kube_api, doris_ns, "wrong-" + fe_standin["password"], name="doris-wrong")
    closed = free_loopback_port()
    tasks = [
        dict(_module(doris_ns, "wrong_password", url=fe_standin["url"], password_secret="doris-wrong")),
        _module(doris_ns, "not_read_back", url=fe_standin["url"]),
        {"name": "The FE goes down", "ansible.builtin.uri": {
            "url": "%s/_test/service-backends/%s/%s/8030" % (kube_api.url, doris_ns, FE_SERVICE), "method": "PUT",
            "body_format": "json", "body": {"target": "127.0.0.1:%d" % closed}, "validate_certs": False,
            "headers": {"Authorization": "Bearer kubeapi-test-token"}}},
        _module(doris_ns, "fe_down", way="proxy", fail_unreachable=False),
    ]
    del standin.requests[:]
    standin.faults["drop_inserts"] = True
    try:
        run = run_playbook(tmp_path, tasks[:2], env=kube_api.env, results=["wrong_password", "not_read_back"])
    finally:
        standin.faults["drop_inserts"] = False
    wrong, lost = run.results["wrong_password"], run.results["not_read_back"]
    assert wrong["failed"] and wrong["msg"].startswith(
        "doris: SHOW FRONTENDS via url %s answered code 401 Unauthorized: Access denied for user 'doris_rt@"
        % fe_standin["url"]), wrong["msg"]
    assert "wrong-" not in wrong["msg"]
    assert lost["failed"] and "read back 0 rows, 3 were written" in lost["msg"], lost["msg"]
    assert lost["msg"].startswith("doris: SELECT id, name FROM %s_" % PREFIX)
    assert lost["round_trip"]["dropped"] is True and not _databases(mariadb)

    run = run_playbook(tmp_path, tasks[2:], env=kube_api.env, results=["fe_down"])
    down = run.results["fe_down"]
    assert not down.get("failed"), down
    reach = down["fe_check"]["reach"]
    assert reach.startswith("not reachable: error trying to reach service: dial tcp 127.0.0.1:%d: connect: "
                            "connection refused (HTTP 503 from the API server for Service %s/%s)"
                            % (closed, doris_ns, FE_SERVICE)), reach
    assert reach.endswith("(GET /api/health via service proxy %s/%s:8030)" % (doris_ns, FE_SERVICE))
    assert "[WARNING]: doris: not reachable" in run.output

    # The exec way: MariaDB's refusal through the real mysql client in the "FE container", named with the statement;
    # no Running FE pod is not reachable, recorded with a warning.
    run = run_playbook(tmp_path, [_module(doris_ns, "exec_wrong", password_secret="doris-wrong")], env=kube_api.env,
                       results=["exec_wrong"])
    refused = run.results["exec_wrong"]
    assert refused["failed"] and refused["msg"].startswith(
        "doris: SHOW FRONTENDS via pod exec %s/%s (container fe) exited 1: ERROR 1045 (28000): Access denied for user "
        "'%s'@" % (doris_ns, FE_POD, USER)), refused["msg"]
    assert "wrong-" not in run.output
    _request(kube_api, "PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (doris_ns, FE_POD),
             {"status": {"phase": "Pending"}}, content_type="application/merge-patch+json")
    run = run_playbook(tmp_path, [_module(doris_ns, "no_pod", fail_unreachable=False)], env=kube_api.env,
                       results=["no_pod"])
    assert run.results["no_pod"]["fe_check"]["reach"] == (
        "not reachable: no Running pod labelled app.doris.ownerreference/name=%s-fe in namespace %s (pod exec)"
        % (CLUSTER, doris_ns)), run.results["no_pod"]
    assert "[WARNING]: doris: not reachable: no Running pod" in run.output

    del standin.requests[:]
    kube_api.reset_counts()
    run = run_playbook(tmp_path, [_validate(doris_ns, doris_fe_sql_url=fe_standin["url"]), _validate(doris_ns)],
                       env=kube_api.env, check=True)
    assert run.returncode == 0, run
    assert standin.requests == [] and kube_api.request_counts().count(subresource="proxy") == 0
    assert kube_api.request_counts().count(subresource="exec") == 0
