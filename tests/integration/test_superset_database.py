"""The runbook's "Doris connected to Superset" against a REAL Apache Superset, through the service proxy.

Superset 6.1 (tests/requirements-superset.txt, its own venv from scripts/install-test-deps.d/superset.sh) runs on
loopback with a SQLite metadata database copied from the template the install script built, and is registered as
the backend of a Service in the API test server. Superset tests a connection before it creates it, so the Doris
FE must answer: the suite's real MariaDB stands in for the FE's MySQL protocol (a `mysql+pymysql://` URI, the
driver being in Superset's venv), with the account of the Doris auth Secret.

Pinned down, through the doris role's validate and rollback entry points and the module itself:

* create -> changed, the record `Doris OLAP id N via service proxy <ns>/superset:8088 (created)`, the row in
  Superset's own metadata database (with this collection's marker); a rerun -> unchanged; the explicit URL (JWT
  login) finds the same connection;
* check mode (--diff) writes nothing and says what it would create;
* a wrong Superset password fails naming doris, Superset, the request and the answer; a Superset that is down
  is recorded `not reachable: ...` naming the Service; not configured is recorded as such;
* rollback deletes the connection this collection created and keeps one made by hand;
* no password appears in any -vvv output.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest

from tests.fixtures.local_server import free_loopback_port
from tests.integration.leak_scan import assert_no_leak
from tests.integration.phase1_helpers import run_playbook

SUPERSET_VENV = os.environ.get("LAKEHOUSE_SUPERSET_VENV") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lakehouse", "superset")
TEMPLATE_DB = os.path.join(SUPERSET_VENV, "superset-template.db")
ADMIN = ("admin", "lakehouse-test-admin")  # the template's test-only admin (scripts/install-test-deps.d/superset.sh)
STARTUP_TIMEOUT = 240  # seconds: the app imports for ~8 s of CPU, more on a busy machine
NAME = "Doris OLAP"


class Superset:
    """`superset run` on loopback, in its own process group (stopped by that id, never by name)."""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="lakehouse-superset-")
        self.db = os.path.join(self.workdir, "superset.db")
        shutil.copyfile(TEMPLATE_DB, self.db)
        config = os.path.join(self.workdir, "superset_config.py")
        with open(config, "w") as handle:
            handle.write("SECRET_KEY = %r\nSQLALCHEMY_DATABASE_URI = %r\nWTF_CSRF_ENABLED = True\n"
                         % ("lakehouse-test-" + uuid.uuid4().hex, "sqlite:///" + self.db))
        self.port = free_loopback_port()
        self.log_path = os.path.join(self.workdir, "superset.log")
        env = dict(os.environ, SUPERSET_CONFIG_PATH=config, PYTHONUNBUFFERED="1",
                   PATH=os.path.join(SUPERSET_VENV, "bin") + os.pathsep + os.environ.get("PATH", ""))
        env.pop("VIRTUAL_ENV", None)
        self._log = open(self.log_path, "w")
        started = time.monotonic()
        self.process = subprocess.Popen(
            [os.path.join(SUPERSET_VENV, "bin", "superset"), "run", "-h", "127.0.0.1", "-p", str(self.port),
             "--with-threads"], cwd=self.workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.startup_s = self._wait_ready(started)

    def _wait_ready(self, started):
        while time.monotonic() < started + STARTUP_TIMEOUT and self.process.poll() is None:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.port, timeout=5) as answer:
                    if answer.status == 200:
                        return round(time.monotonic() - started, 1)
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError("Superset did not answer /health:\n" + self.log_tail())

    def log_tail(self):
        with open(self.log_path, errors="replace") as handle:
            return handle.read()[-4000:]

    def rows(self):
        """(id, database_name, sqlalchemy_uri, extra) of Superset's connections, read from its own database."""
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT id, database_name, sqlalchemy_uri, extra FROM dbs ORDER BY id").fetchall()

    def api(self, method, path, body=None):
        """A request to Superset directly, logged in over its REST API (JWT), with the CSRF token."""
        def call(method, path, body, headers):
            request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method,
                                             data=json.dumps(body).encode() if body is not None else None,
                                             headers=dict(headers, **{"Content-Type": "application/json"}))
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.load(answer), answer.headers.get("Set-Cookie", "").split(";")[0]
        login = {"username": ADMIN[0], "password": ADMIN[1], "provider": "db"}
        token, _headers = call("POST", "/api/v1/security/login", login, {})
        auth = {"Authorization": "Bearer " + token["access_token"]}
        csrf, cookie = call("GET", "/api/v1/security/csrf_token/", None, auth)
        return call(method, path, body, dict(auth, **{"X-CSRFToken": csrf["result"], "Cookie": cookie}))[0]

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def superset():
    binary = os.path.join(SUPERSET_VENV, "bin", "superset")
    if not os.access(binary, os.X_OK) or not os.path.exists(TEMPLATE_DB):
        pytest.fail("%s or %s missing: run scripts/install.sh --test (scripts/install-test-deps.d/superset.sh)"
                    % (binary, TEMPLATE_DB))
    server = Superset()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


def _create(kube_api, path, body):
    status, answer, _headers = kube_api.request("POST", path, body)
    assert status == 201, answer
    return answer


def _service(kube_api, namespace, name, port):
    _create(kube_api, "/api/v1/namespaces/%s/services" % namespace, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 8088}]}})
    status, answer, _headers = kube_api.request("PUT", "/_test/service-backends/%s/%s/8088" % (namespace, name),
                                                {"target": "127.0.0.1:%d" % port})
    assert status == 200, answer


def _secret(kube_api, namespace, name, username, password):
    _create(kube_api, "/api/v1/namespaces/%s/secrets" % namespace, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "kubernetes.io/basic-auth",
        "stringData": {"username": username, "password": password}})


@pytest.fixture
def setup(kube_api, kube_namespace, superset, mariadb):
    """Superset's Service (and one whose backend is down), the Doris auth Secret of a real MariaDB account, the
    Superset admin Secret and one with a wrong password; the role variables that point at them."""
    ns = kube_namespace
    user, password = "doris_" + uuid.uuid4().hex[:6], "Dp-" + uuid.uuid4().hex
    mariadb.create_user(user, password, mariadb.create_database("doris_standin"))
    _service(kube_api, ns, "superset", superset.port)
    _service(kube_api, ns, "superset-down", free_loopback_port())  # nothing listens there
    _secret(kube_api, ns, "doris-auth", user, password)
    _secret(kube_api, ns, "superset-admin", *ADMIN)
    wrong = "Wrong-" + uuid.uuid4().hex
    _secret(kube_api, ns, "superset-wrong", ADMIN[0], wrong)
    role_vars = {"platform_mode": "apply", "doris_stage": "2", "doris_namespace": ns,
                 "doris_superset_namespace": ns, "doris_superset_service": "superset",
                 "doris_superset_uri_scheme": "mysql+pymysql", "doris_superset_fe_host": "127.0.0.1",
                 "doris_superset_fe_port": mariadb.port,
                 # No DorisCluster here (MariaDB stands in for the FE's query port): Superset's part of validation only.
                 "doris_validate_fe_check": False}
    secrets = {"doris password": password, "superset password": ADMIN[1], "wrong superset password": wrong}
    yield {"ns": ns, "vars": role_vars, "secrets": secrets, "user": user, "mariadb": mariadb}
    for row in superset.rows():  # each test starts from an empty Superset
        superset.api("DELETE", "/api/v1/database/%d" % row[0])


def _validate(name, variables=None):
    return {"name": name, "ansible.builtin.include_role": {"name": "lakehouse.platform.doris", "tasks_from": "validate"},
            "vars": dict(variables or {})}


def _keep(name):
    return {"name": "Keep " + name, "ansible.builtin.set_fact": {name: "{{ doris_validation.superset }}"}}


def _run(tmp_path, kube_api, tasks, play_vars, results=(), check=False, diff=False):
    """The tasks with play_vars as play vars (so a task's include_role vars can change one of them)."""
    env = dict(kube_api.env, ANSIBLE_VERBOSITY="3")  # -vvv: the leak scan reads everything the run printed
    return run_playbook(tmp_path, tasks, pre_vars=play_vars, env=env, check=check, diff=diff, results=results)


def test_check_mode_then_create_rerun_and_the_url_find_one_connection(tmp_path, kube_api, superset, setup):
    ns, role_vars = setup["ns"], setup["vars"]
    via = "via service proxy %s/superset:8088" % ns

    # Check mode (and --diff) on an empty Superset: it logs in and reads, says it would create, writes nothing.
    checked = _run(tmp_path, kube_api, [_validate("Validate doris in check mode"), _keep("check_record")],
                   role_vars, results=["check_record", "doris_superset_result"], check=True, diff=True)
    assert checked.returncode == 0, checked
    assert checked.results["check_record"] == "Doris OLAP %s (check mode: would be created)" % via, checked.results
    assert checked.results["doris_superset_result"]["changed"] is True
    assert checked.results["doris_superset_result"]["diff"]["before"] == {}
    assert checked.results["doris_superset_result"]["diff"]["after"] == {
        "database_name": NAME, "expose_in_sqllab": True,
        "sqlalchemy_uri": "mysql+pymysql://%s:XXXXXXXXXX@127.0.0.1:%d/information_schema"
                          % (setup["user"], setup["mariadb"].port)}
    assert superset.rows() == []

    # Create, rerun, then the same connection through the explicit URL (JWT login instead of the login form).
    tasks = [_validate("Validate doris"), _keep("created"),
             {"name": "Keep the first result", "ansible.builtin.set_fact": {"first": "{{ doris_superset_result }}"}},
             _validate("Validate doris again"), _keep("rerun"),
             _validate("Validate doris through the URL", {"doris_superset_url": "http://127.0.0.1:%d" % superset.port}),
             _keep("by_url"),
             {"name": "Keep the URL result", "ansible.builtin.set_fact": {"url_result": "{{ doris_superset_result }}"}},
             # Another database in the URI: the connection is updated (PUT), not made again.
             _validate("Validate doris with another schema", {"doris_superset_schema": "doris_standin"}),
             _keep("updated")]
    kept = ["created", "rerun", "by_url", "first", "url_result", "updated", "doris_superset_result"]
    run = _run(tmp_path, kube_api, tasks, role_vars, results=kept)
    assert run.returncode == 0, run
    rows = superset.rows()
    assert len(rows) == 1, rows
    database_id, name, uri, extra = rows[0]
    assert (name, uri) == (NAME, "mysql+pymysql://%s:XXXXXXXXXX@127.0.0.1:%d/doris_standin"
                           % (setup["user"], setup["mariadb"].port))
    assert json.loads(extra)["lakehouse_platform"]["component"] == "doris"
    assert run.results["created"] == "Doris OLAP id %d %s (created)" % (database_id, via)
    assert run.results["first"]["changed"] is True
    assert [r.split(" -> ")[0] for r in run.results["first"]["requests"]] == [
        "GET /login/", "POST /login/", "GET /api/v1/security/csrf_token/", "GET /api/v1/database/",
        "POST /api/v1/database/"]
    assert run.results["rerun"] == "Doris OLAP id %d %s (unchanged)" % (database_id, via)
    assert run.results["by_url"] == "Doris OLAP id %d via url http://127.0.0.1:%d (unchanged)" % (
        database_id, superset.port)
    assert run.results["url_result"]["changed"] is False
    assert run.results["url_result"]["requests"][0] == "POST /api/v1/security/login -> 200"
    assert run.results["updated"] == "Doris OLAP id %d %s (updated)" % (database_id, via)
    assert run.results["doris_superset_result"]["requests"][-1] == "PUT /api/v1/database/%d -> 200" % database_id
    assert "changed=2 " in run.stdout.split("PLAY RECAP")[1], run.stdout[-2000:]  # the create and the update
    # Superset stored a working connection: its own test of it succeeds (with the password it keeps).
    tested = superset.api("POST", "/api/v1/database/test_connection/", {
        "database_name": NAME, "sqlalchemy_uri": uri})
    assert tested == {"message": "OK"}, tested
    assert_no_leak(setup["secrets"], {"check run -vvv": checked.output, "apply run -vvv": run.output})


def test_failures_are_named_and_rollback_deletes_only_what_it_created(tmp_path, kube_api, superset, setup):
    ns, role_vars = setup["ns"], setup["vars"]
    module = {"component": "doris", "database_name": NAME, "namespace": ns, "service": "superset",
              "sqlalchemy_uri": "mysql+pymysql://127.0.0.1:%d/information_schema" % setup["mariadb"].port,
              "credentials_secret": {"name": "doris-auth", "namespace": ns},
              "superset_secret": {"name": "superset-wrong", "namespace": ns}}
    tasks = [
        {"name": "Log in with a wrong password", "lakehouse.platform.superset_database": module,
         "register": "wrong", "ignore_errors": True},
        _validate("Validate doris with Superset down", {"doris_superset_service": "superset-down"}), _keep("down"),
        _validate("Validate doris without Superset", {"doris_superset_service": ""}), _keep("unconfigured"),
        _validate("Validate doris"), _keep("created"),
        {"name": "Roll back doris", "ansible.builtin.include_role": {"name": "lakehouse.platform.doris",
                                                                     "tasks_from": "rollback"}},
    ]
    run = _run(tmp_path, kube_api, tasks, role_vars, results=["wrong", "down", "unconfigured", "created"])
    assert run.returncode == 0, run
    wrong = run.results["wrong"]
    assert wrong["failed"] is True and wrong["reached"] is True
    assert wrong["msg"] == (
        "doris: database Doris OLAP: Superset login as admin refused: POST /login/ via service proxy %s/superset:8088 "
        "answered HTTP 302 to /login/?next=/ (Superset sends a wrong user name or password back to its login page)" % ns), wrong["msg"]
    assert run.results["down"].startswith("not reachable: error trying to reach service: dial tcp 127.0.0.1:")
    assert run.results["down"].endswith("(HTTP 503 from the API server for Service %s/superset-down) "
                                        "(GET /login/ via service proxy %s/superset-down:8088)" % (ns, ns))
    assert "[WARNING]: doris: Superset not reachable: error trying to reach service" in run.output
    assert run.results["unconfigured"].startswith("not configured (doris_superset_service and doris_superset_url")
    assert run.results["created"].endswith("(created)")
    assert superset.rows() == []  # the rollback deleted the connection it created

    # A connection made by hand (no marker) survives the rollback; the module says it kept it.
    made = superset.api("POST", "/api/v1/database/", {
        "database_name": NAME, "sqlalchemy_uri": "mysql+pymysql://%s:%s@127.0.0.1:%d/information_schema"
        % (setup["user"], setup["secrets"]["doris password"], setup["mariadb"].port)})
    rollback = [{"name": "Roll back doris",
                 "ansible.builtin.include_role": {"name": "lakehouse.platform.doris", "tasks_from": "rollback"}}]
    kept = _run(tmp_path, kube_api, rollback, role_vars)
    assert kept.returncode == 0, kept
    assert [row[0] for row in superset.rows()] == [made["id"]]
    assert "doris: Superset database Doris OLAP id %d kept via service proxy" % made["id"] in kept.output
    assert_no_leak(setup["secrets"], {"failure run -vvv": run.output, "rollback run -vvv": kept.output})
    print("superset up in %s s" % superset.startup_s)
