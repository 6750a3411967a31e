"""Validations reach their services through the Kubernetes API server's service proxy.

The API test server's proxy (tests/kubeapi/serviceproxy.py) forwards to real local servers registered for a
Service port: a small HTTP server here, and the REAL MLflow tracking server and the REAL Ray head (both from
tests/requirements-ml-services.txt, installed by scripts/install-test-deps.d/ml-services.sh, started on
loopback by the module fixture below and stopped by process group id). Pinned down:

* the proxy passes method, path, query, body, headers and the backend's status back, answers kube-apiserver's
  404/503 Status when there is no Service, no such port, no endpoint or a backend that refuses, never dials a
  non-loopback endpoint, and drops the caller's Authorization header;
* the mlflow and ray validate entry points, with no URL given, log a run in the real MLflow and run a job on
  the real Ray head through the proxy, and record what they measured and `via service proxy <ns>/<svc>:<port>`;
* the ML workflow (lakehouse.platform.ml_workflow_check, in ray's validation): a job on the real Ray head logs a
  run with a metric to the real MLflow, read back through the proxy and deleted; a job that cannot reach MLflow
  and a read-back that does not find the run fail, naming the job, its status and log tail, or the search and
  its answer; check mode submits nothing;
* when the service is not reached (backend down, no Service), the record says `not reachable: <why>` naming
  the service and what the API server answered, with a warning; a reached service answering wrongly fails,
  naming the component, the request, the way in and the answer; check mode sends no proxied write.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.phase1_helpers import run_playbook

ML_VENV = os.environ.get("LAKEHOUSE_ML_SERVICES_VENV") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lakehouse", "ml-services")
MLFLOW_TEMPLATE_DB = os.path.join(ML_VENV, "mlflow-template.db")
STARTUP_TIMEOUT = 420  # seconds: MLflow imports for ~10 s of CPU and migrates its database on a busy machine


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalServer:
    """A real server process on loopback, in its own process group (stopped by that id, never by name)."""

    def __init__(self, name, command, env, ready_url, workdir):
        self.name, self.ready_url = name, ready_url
        self.log_path = os.path.join(workdir, name + ".log")
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_ready(self, deadline, started):
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.ready_url, timeout=5) as answer:
                    if answer.status == 200:
                        return round(time.monotonic() - started, 1)
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        with open(self.log_path) as handle:
            raise RuntimeError("%s did not answer %s:\n%s" % (self.name, self.ready_url, handle.read()[-4000:]))

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        try:  # children (uvicorn, raylet, gcs_server, dashboard ...) share the group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


def _warm_up_ray(dashboard_port, deadline):
    """Run one job directly: the dashboard answers before its job agent does, and the first job starts the
    job supervisor machinery (seconds on a busy machine); the validation under test then meets a ready head."""
    base = "http://127.0.0.1:%d/api/jobs/" % dashboard_port
    submitted = None
    while submitted is None and time.monotonic() < deadline:
        request = urllib.request.Request(base, data=json.dumps({"entrypoint": "true"}).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                submitted = json.load(answer)["submission_id"]
        except OSError:
            time.sleep(1)
    while submitted and time.monotonic() < deadline:
        with urllib.request.urlopen(base + submitted, timeout=30) as answer:
            status = json.load(answer)["status"]
        if status in ("SUCCEEDED", "FAILED", "STOPPED"):
            assert status == "SUCCEEDED", "the warm-up job on the Ray head ended %s" % status
            return
        time.sleep(0.5)
    raise RuntimeError("the Ray head did not run a warm-up job in time")


@pytest.fixture(scope="module")
def ml_services():
    """The real MLflow tracking server (SQLite store) and a real Ray head with its dashboard, started together."""
    binaries = [os.path.join(ML_VENV, "bin", name) for name in ("mlflow", "ray")]
    missing = [path for path in binaries if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail("%s missing: run scripts/install.sh --test (scripts/install-test-deps.d/ml-services.sh)" % missing)
    workdir = tempfile.mkdtemp(prefix="svcp-", dir="/tmp")  # short: Ray's socket paths must stay < 108 bytes
    env = dict(os.environ, PATH=os.path.join(ML_VENV, "bin") + os.pathsep + os.environ.get("PATH", ""),
               MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", RAY_USAGE_STATS_ENABLED="0", PYTHONUNBUFFERED="1")
    env.pop("VIRTUAL_ENV", None)
    mlflow_port, dashboard_port, gcs_port = _free_port(), _free_port(), _free_port()
    if os.path.exists(MLFLOW_TEMPLATE_DB):  # already migrated (ml-services.sh): saves the server ~10 s of CPU
        shutil.copyfile(MLFLOW_TEMPLATE_DB, os.path.join(workdir, "mlflow.db"))
    mlflow = LocalServer("mlflow", [binaries[0], "server", "--host", "127.0.0.1", "--port", str(mlflow_port),
                                    "--workers", "1", "--backend-store-uri", "sqlite:///%s/mlflow.db" % workdir,
                                    "--default-artifact-root", "file://%s/artifacts" % workdir],
                         env, "http://127.0.0.1:%d/health" % mlflow_port, workdir)
    ray = LocalServer("ray", [binaries[1], "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                              "--port", str(gcs_port), "--dashboard-host", "127.0.0.1",
                              "--dashboard-port", str(dashboard_port), "--ray-client-server-port", str(_free_port()),
                              "--dashboard-agent-listen-port", str(_free_port()), "--num-cpus", "1",
                              "--include-dashboard", "true", "--disable-usage-stats",
                              "--temp-dir", os.path.join(workdir, "ray")],
                      env, "http://127.0.0.1:%d/api/jobs/" % dashboard_port, workdir)
    started = time.monotonic()
    try:
        deadline = started + STARTUP_TIMEOUT
        ray_s = ray.wait_ready(deadline, started)
        _warm_up_ray(dashboard_port, deadline)
        mlflow_s = mlflow.wait_ready(deadline, started)
        yield {"mlflow": mlflow_port, "ray": dashboard_port, "startup_s": {"mlflow": mlflow_s, "ray": ray_s}}
    finally:
        ray.stop()
        mlflow.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class _Echo(BaseHTTPRequestHandler):
    """Answers with what it was sent; /status/<n> answers that status."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps({"method": self.command, "path": self.path, "body": body.decode(),
                              "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        status = int(self.path.split("/status/")[1].split("?")[0]) if "/status/" in self.path else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", "yes")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _create(kube_api, path, body):
    status, answer, _headers = kube_api.request("POST", path, body)
    assert status == 201, answer
    return answer


def _service(kube_api, namespace, name, ports):
    return _create(kube_api, "/api/v1/namespaces/%s/services" % namespace, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": ports}})


def _register(kube_api, namespace, service, port, target_port):
    status, answer, _headers = kube_api.request("PUT", "/_test/service-backends/%s/%s/%s" % (namespace, service, port),
                                                {"target": "127.0.0.1:%d" % target_port})
    assert status == 200, answer


def _ready_deployment(kube_api, namespace, name, labels):
    """A Deployment whose status says every replica is ready (what the validations read first)."""
    path = "/apis/apps/v1/namespaces/%s/deployments" % namespace
    created = _create(kube_api, path, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": name}]}}}})
    status, answer, _headers = kube_api.request("PATCH", "%s/%s/status" % (path, name), {"status": {
        "observedGeneration": created["metadata"]["generation"], "replicas": 1, "readyReplicas": 1,
        "updatedReplicas": 1, "availableReplicas": 1}}, content_type="application/merge-patch+json")
    assert status == 200, answer


def _proxy(kube_api, namespace, service_id, path, method="GET", body=None, headers=None):
    return kube_api.request(method, "/api/v1/namespaces/%s/services/%s/proxy%s" % (namespace, service_id, path),
                            body, headers=headers)


def test_the_proxy_forwards_to_the_registered_server_and_answers_like_kube_apiserver(
        kube_api, kube_namespace, echo_server):
    ns = kube_namespace
    status, answer, _headers = _proxy(kube_api, ns, "web:80", "/x")
    assert (status, answer["reason"], answer["message"]) == (404, "NotFound", 'services "web" not found')
    _service(kube_api, ns, "web", [{"name": "http", "port": 80, "targetPort": 8080},
                                   {"name": "admin", "port": 9000}])
    status, answer, _headers = _proxy(kube_api, ns, "web:80", "/x")
    assert (status, answer["reason"], answer["message"]) == (503, "ServiceUnavailable",
                                                             'no endpoints available for service "web"')
    status, answer, _headers = _proxy(kube_api, ns, "web:81", "/x")
    assert (status, answer["message"]) == (503, 'no service port 81 found for service "web"')

    _register(kube_api, ns, "web", "http", echo_server)
    kube_api.reset_counts()
    status, answer, headers = _proxy(kube_api, ns, "http:web:80", "/a/b?q=1&q=2&r=x%20y", method="POST",
                                     body={"k": "v"}, headers={"Authorization": "Bearer secret-token",
                                                               "X-Custom": "kept"})
    assert status == 200 and headers["X-Echo"] == "yes"
    assert (answer["method"], answer["path"], json.loads(answer["body"])) == ("POST", "/a/b?q=1&q=2&r=x%20y", {"k": "v"})
    assert answer["headers"]["x-custom"] == "kept" and answer["headers"]["host"] == "127.0.0.1:%d" % echo_server
    assert "authorization" not in answer["headers"]  # the API server consumed the caller's credentials
    # By port name, the same backend; the backend's own status comes back as it is.
    for method in ("GET", "PUT", "DELETE"):
        status, answer, _headers = _proxy(kube_api, ns, "web:http", "/status/418", method=method,
                                          body={} if method == "PUT" else None)
        assert (status, answer["method"]) == (418, method)
    counts = kube_api.request_counts()
    assert counts.count(verb="create", resource="services", subresource="proxy") == 1
    assert counts.count(verb="get", resource="services", subresource="proxy") == 1
    assert counts.count(verb="update", subresource="proxy") == 1 and counts.count(verb="delete", subresource="proxy") == 1

    # Endpoints with a (simulated) pod IP are never dialled; the admin port has no registered server.
    _create(kube_api, "/api/v1/namespaces/%s/endpoints" % ns, {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
        "subsets": [{"addresses": [{"ip": "10.244.0.7"}], "ports": [{"name": "admin", "port": 9000}]}]})
    status, answer, _headers = _proxy(kube_api, ns, "web:9000", "/")
    assert status == 503 and answer["message"].startswith("error trying to reach service: dial tcp 10.244.0.7:9000")

    closed = _free_port()
    _register(kube_api, ns, "web", "80", closed)  # by number, over the name registration
    status, answer, _headers = _proxy(kube_api, ns, "web:80", "/")
    assert (status, answer["message"]) == (503, "error trying to reach service: dial tcp 127.0.0.1:%d: connect: "
                                                "connection refused" % closed)
    status, answer, _headers = kube_api.request("PUT", "/_test/service-backends/%s/web/80" % ns, {"target": "10.0.0.1:80"})
    assert status == 400 and "only loopback" in answer["message"]


def _role(role, variables):
    return {"name": "Validate %s" % role, "ansible.builtin.include_role": {
        "name": "lakehouse.platform." + role, "tasks_from": "validate"}, "vars": variables}


def test_mlflow_and_ray_validations_reach_the_real_servers_through_the_proxy(
        tmp_path, kube_api, kube_namespace, ml_services):
    ns, suffix = kube_namespace, uuid.uuid4().hex[:6]
    experiment, workflow_experiment = "svc-proxy-" + suffix, "ml-workflow-" + suffix
    mlflow_url = "http://127.0.0.1:%d" % ml_services["mlflow"]
    _service(kube_api, ns, "mlflow", [{"name": "http", "port": 80, "targetPort": 5000}])
    _service(kube_api, ns, "mlflow-down", [{"name": "http", "port": 80, "targetPort": 5000}])
    _service(kube_api, ns, "ml-cluster-head-svc", [{"name": "gcs", "port": 6379},
                                                   {"name": "dashboard", "port": 8265}])
    _register(kube_api, ns, "mlflow", "80", ml_services["mlflow"])
    _register(kube_api, ns, "mlflow-down", "http", _free_port())  # nothing listens there
    _register(kube_api, ns, "ml-cluster-head-svc", "dashboard", ml_services["ray"])
    _ready_deployment(kube_api, ns, "mlflow", {"app.kubernetes.io/instance": "mlflow"})
    common = {"platform_mode": "apply", "mlflow_namespace": ns, "ray_namespace": ns}
    tasks = [
        _role("mlflow", {"mlflow_validation_experiment": experiment}),
        {"name": "Keep the mlflow record", "ansible.builtin.set_fact": {"mlflow_record": "{{ mlflow_validation }}"}},
        # The ML workflow's job logs to the real MLflow at its local URL (in a cluster: http://mlflow.<ns>.svc:80);
        # the read-back goes through the proxy to the Service mlflow.
        _role("ray", {"ray_job_entrypoint": "python -c \"print('lakehouse-proxy-" + suffix + "')\"", "ray_job_timeout": 120,
                      "ray_mlflow_tracking_uri": mlflow_url, "ray_mlflow_workflow_experiment": workflow_experiment}),
        {"name": "Keep the ray record", "ansible.builtin.set_fact": {"ray_record": "{{ ray_validation }}"}},
        # Not reached: the backend is down; no Service at all. Recorded and warned, not failed.
        _role("mlflow", {"mlflow_validate_service": "mlflow-down"}),
        {"name": "Keep the mlflow-down record", "ansible.builtin.set_fact": {"mlflow_down": "{{ mlflow_validation }}"}},
        _role("ray", {"ray_validate_service": "absent-head-svc"}),
        {"name": "Keep the absent ray record", "ansible.builtin.set_fact": {"ray_absent": "{{ ray_validation }}"}},
    ]
    kube_api.reset_counts()
    run = run_playbook(tmp_path, tasks, extra_vars=common, env=kube_api.env,
                       results=["mlflow_record", "ray_record", "mlflow_down", "ray_absent"])
    assert run.returncode == 0, run
    records = run.results

    # MLflow: the run the validation logged is in the real tracking server, with its metric.
    via_mlflow = "via service proxy %s/mlflow:80" % ns
    test_run = records["mlflow_record"]["test_run"]
    assert test_run.endswith("read back " + via_mlflow), test_run
    run_id = test_run.split("run ")[1].split(",")[0]
    with urllib.request.urlopen("http://127.0.0.1:%d/api/2.0/mlflow/runs/get?run_id=%s"
                                % (ml_services["mlflow"], run_id), timeout=10) as answer:
        logged = json.load(answer)["run"]
    assert logged["info"]["status"] == "FINISHED" and logged["info"]["run_name"] == "lakehouse-platform-validation"
    assert [(m["key"], m["value"]) for m in logged["data"]["metrics"]] == [("lakehouse_validation", 1.0)]
    with urllib.request.urlopen("http://127.0.0.1:%d/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s"
                                % (ml_services["mlflow"], experiment), timeout=10) as answer:
        assert json.load(answer)["experiment"]["experiment_id"] == logged["info"]["experiment_id"]

    # Ray: the job ran on the real head and printed what the entrypoint says.
    job_id, state, via = records["ray_record"]["test_job"].split(" ", 2)
    assert (state, via) == ("SUCCEEDED", "via service proxy %s/ml-cluster-head-svc:8265" % ns), records["ray_record"]
    with urllib.request.urlopen("http://127.0.0.1:%d/api/jobs/%s/logs" % (ml_services["ray"], job_id),
                                timeout=10) as answer:
        assert "lakehouse-proxy-" + suffix in json.load(answer)["logs"]

    # The ML workflow: a Ray job computed 0+1+4+...+81 with Ray tasks and logged it to MLflow; the run was read
    # back through the proxy, then deleted with the experiment the job created.
    workflow = records["ray_record"]["ml_workflow"]
    prefix, _sep, rest = workflow.partition(" metric sum_of_squares=285.0 logged by Ray job ")
    workflow_job, _sep, reach = rest.partition(" read back ")
    assert prefix.startswith("run ") and reach == via_mlflow, workflow
    workflow_run = prefix[len("run "):]
    assert workflow_job.startswith("lakehouse-ml-workflow-") and workflow_job != job_id, workflow
    logged = _mlflow_get(ml_services, "runs/get?run_id=" + workflow_run)["run"]
    assert logged["info"]["lifecycle_stage"] == "deleted" and logged["info"]["status"] == "FINISHED", logged["info"]
    assert [(m["key"], m["value"]) for m in logged["data"]["metrics"]] == [("sum_of_squares", 285.0)]
    tags = {t["key"]: t["value"] for t in logged["data"]["tags"]}
    assert tags["ray_job_submission_id"] == workflow_job and len(tags["lakehouse_workflow_id"]) == 32, tags
    made = _mlflow_get(ml_services, "experiments/get-by-name?experiment_name=" + workflow_experiment)["experiment"]
    assert made["experiment_id"] == logged["info"]["experiment_id"] and made["lifecycle_stage"] == "deleted", made
    with urllib.request.urlopen("http://127.0.0.1:%d/api/jobs/%s" % (ml_services["ray"], workflow_job),
                                timeout=10) as answer:
        assert json.load(answer)["status"] == "SUCCEEDED"
    assert records["ray_absent"]["ml_workflow"].startswith(
        "not run: the Ray test job did not run (not reachable: Service %s/absent-head-svc not found" % ns)

    # Not reached: the record names the service and what the API server answered; a warning says it too.
    down = records["mlflow_down"]["test_run"]
    assert down.startswith("not reachable: error trying to reach service: dial tcp 127.0.0.1:"), down
    assert ("connect: connection refused (HTTP 503 from the API server for Service %s/mlflow-down) "
            "(GET /health via service proxy %s/mlflow-down:80)" % (ns, ns)) in down
    absent = records["ray_absent"]["test_job"]
    assert absent == ('not reachable: Service %s/absent-head-svc not found (HTTP 404 from the API server: services '
                      '"absent-head-svc" not found) (POST /api/jobs/ via service proxy %s/absent-head-svc:8265)' % (ns, ns))
    assert "[WARNING]: mlflow: not reachable: error trying to reach service" in run.output

    counts = kube_api.request_counts()
    # mlflow: health, lookup, create experiment, create run, log metric, finish, read back; ray: submit + polls;
    # the workflow: MLflow health, submit + polls + logs, search, delete run, delete experiment; the two misses
    assert counts.count(verb="create", subresource="proxy") == 10, counts
    assert counts.count(verb="get", subresource="proxy") >= 5, counts
    print("ml services up in %s s" % ml_services["startup_s"])


def _mlflow_get(ml_services, path):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/2.0/mlflow/%s" % (ml_services["mlflow"], path),
                                timeout=10) as answer:
        return json.load(answer)


def _mlflow_post(ml_services, path, body):
    request = urllib.request.Request("http://127.0.0.1:%d/api/2.0/mlflow/%s" % (ml_services["mlflow"], path),
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def test_the_ml_workflow_fails_naming_the_job_or_the_read_back_and_check_mode_submits_nothing(
        tmp_path, kube_api, kube_namespace, ml_services, echo_server):
    """MLflow down at the job's tracking URI: the Ray job fails, and the message names ray, the job, its status
    and its log tail. A read-back that does not find the run - the MLflow Service here fronts an HTTP server that
    answers 200 to everything and knows no run (the echo server), as a Service pointing at another tracking
    server would - names the search, the way in and what came back. Check mode submits no job."""
    ns, suffix = kube_namespace, uuid.uuid4().hex[:6]
    experiment = "ml-workflow-fail-" + suffix
    _service(kube_api, ns, "ml-cluster-head-svc", [{"name": "dashboard", "port": 8265}])
    _service(kube_api, ns, "mlflow", [{"name": "http", "port": 80}])
    _service(kube_api, ns, "mlflow-other", [{"name": "http", "port": 80}])
    _register(kube_api, ns, "ml-cluster-head-svc", "8265", ml_services["ray"])
    _register(kube_api, ns, "mlflow", "80", ml_services["mlflow"])
    _register(kube_api, ns, "mlflow-other", "80", echo_server)
    down = "http://127.0.0.1:%d" % _free_port()
    workflow = {"ray_namespace": ns, "ray_service": "ml-cluster-head-svc", "mlflow_namespace": ns,
                "mlflow_service": "mlflow", "experiment": experiment, "timeout": 120,
                "tracking_uri": "http://127.0.0.1:%d" % ml_services["mlflow"]}
    module = "lakehouse.platform.ml_workflow_check"
    tasks = [
        {"name": "In check mode", module: workflow, "check_mode": True, "register": "checked"},
        {"name": "MLflow down at the tracking URI", module: dict(workflow, tracking_uri=down),
         "register": "mlflow_down", "ignore_errors": True},
        {"name": "The read-back finds no run", module: dict(workflow, mlflow_service="mlflow-other"),
         "register": "not_found", "ignore_errors": True},
    ]
    kube_api.reset_counts()
    run = run_playbook(tmp_path, tasks, extra_vars={}, env=kube_api.env, results=["checked", "mlflow_down", "not_found"])
    results = run.results
    checked, failed, missing = (results.get(name) or {} for name in ("checked", "mlflow_down", "not_found"))
    try:
        assert run.returncode == 0, run
        assert checked["record"] == "not run (check mode)" and checked["changed"] is False, checked

        assert failed["failed"] and failed["job_status"] == "FAILED", failed
        job = failed["job_id"]
        assert failed["msg"].startswith(
            "ray: ML workflow job %s (submitted via service proxy %s/ml-cluster-head-svc:8265, tracking URI %s) "
            "ended FAILED: " % (job, ns, down)), failed["msg"]
        assert ("log tail: " in failed["msg"] and "ml workflow: MLflow at %s not reachable: GET experiments/get-by-name"
                % down in failed["msg"].split("log tail: ", 1)[1]), failed["msg"]
        assert failed["run_id"] == "" and failed["deleted"] == {"run": False, "experiment": False}

        assert missing["failed"] and missing["job_status"] == "SUCCEEDED", missing
        search = "POST /api/2.0/mlflow/runs/search (experiment %s, filter tags.lakehouse_workflow_id = '%s') via " \
                 "service proxy %s/mlflow-other:80 answered HTTP 200 with 0 runs, expected run %s that Ray job %s " \
                 "logged at %s (left there): " % (missing["experiment_id"], missing["workflow_id"], ns,
                                                  missing["run_id"], missing["job_id"], workflow["tracking_uri"])
        assert missing["msg"].startswith("ray: ML workflow read-back: " + search), missing["msg"]
        assert '"path": "/api/2.0/mlflow/runs/search"' in missing["msg"]  # what came back: not MLflow's answer
        # ... while the real MLflow holds the run the job logged.
        logged = _mlflow_get(ml_services, "runs/get?run_id=" + missing["run_id"])["run"]
        assert logged["info"]["lifecycle_stage"] == "active"
        assert [(m["key"], m["value"]) for m in logged["data"]["metrics"]] == [("sum_of_squares", 285.0)]
    finally:  # what the failing read-back left in the real MLflow
        if missing.get("run_id"):
            _mlflow_post(ml_services, "runs/delete", {"run_id": missing["run_id"]})
        if missing.get("experiment_id"):
            _mlflow_post(ml_services, "experiments/delete", {"experiment_id": missing["experiment_id"]})
    counts = kube_api.request_counts()
    # check mode: nothing; each run: MLflow health and one job submitted; the read-back search once
    assert counts.count(verb="create", subresource="proxy") == 3, counts


def test_a_reached_service_with_a_wrong_answer_fails_and_check_mode_writes_nothing(
        tmp_path, kube_api, kube_namespace, ml_services):
    """The MLflow server behind the KFP Service answers 404 to the KFP health path: the validation fails, naming
    the component, the request, the way in and the answer. In check mode no proxied write is sent."""
    ns = kube_namespace
    _service(kube_api, ns, "ml-pipeline", [{"name": "http", "port": 8888}])
    _register(kube_api, ns, "ml-pipeline", "8888", ml_services["mlflow"])
    request = {"lakehouse.platform.k8s_service_request": {
        "component": "ray", "namespace": ns, "service": "ml-pipeline", "port": "8888", "path": "/api/jobs/",
        "method": "POST", "body": {"entrypoint": "true"}}}
    tasks = [
        {"name": "A write in check mode", **request, "check_mode": True, "register": "checked"},
        {"name": "Validate kubeflow", "ansible.builtin.include_role": {"name": "lakehouse.platform.kubeflow",
                                                                       "tasks_from": "validate"}},
    ]
    kube_api.reset_counts()
    run = run_playbook(tmp_path, tasks, extra_vars={"platform_mode": "apply", "kubeflow_namespace": ns,
                                                    "kubeflow_deployments": ["ml-pipeline"]},
                       env=kube_api.env, results=["checked"])
    assert run.returncode != 0
    assert run.results["checked"]["sent"] is False and run.results["checked"]["reach"] == "not sent (check mode)"
    assert ("kubeflow: GET /apis/v2beta1/healthz via service proxy %s/ml-pipeline:8888 answered HTTP 404, expected 200:"
            % ns) in run.output, run.errors()
    counts = kube_api.request_counts()
    assert counts.count(subresource="proxy") == 1 and counts.count(verb="get", subresource="proxy") == 1, counts
