# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "Complete ML workflow tested": a Ray job that logs a run with a metric to MLflow, read back.

``run_workflow()`` drives it through two endpoints (callables that send one HTTP request and return a
``service_proxy.ServiceResponse`` or raise ``service_proxy.Unreachable``): the Ray dashboard's Jobs REST API
and the MLflow tracking server's REST API, each reached through the API server's service proxy or an explicit
URL. The job itself runs ``JOB_SCRIPT`` in the cluster: it computes with Ray tasks and logs the run to the
tracking URI it is given, with nothing but the Python standard library (``urllib``), so the stock
``rayproject/ray`` image needs no extra package. The job prints what it made (``MARKER`` lines); the read-back
is MLflow's own ``runs/search`` for the run's unique tag, then the run (and the experiment when the job made
or restored it) is deleted again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time
import uuid

from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six.moves import shlex_quote

from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import Unreachable

MARKER = "LAKEHOUSE_ML_WORKFLOW "
TAG = "lakehouse_workflow_id"
METRIC = "sum_of_squares"
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
MLFLOW_API = "/api/2.0/mlflow/"
LOG_TAIL_LINES = 12
LOG_TAIL_CHARS = 1500

# Runs in the Ray job (the image's Python, 3.8 or later; standard library and ray only). Its one argument is
# the JSON configuration. Each step it completes is printed as a MARKER line; any failure ends the job with
# a message naming the tracking URI, the request and MLflow's answer.
JOB_SCRIPT = r'''
import json, sys, time, urllib.error, urllib.parse, urllib.request
config = json.loads(sys.argv[1])
uri = config["tracking_uri"].rstrip("/")
OPENER = urllib.request.build_opener()


def report(**fields):
    print("LAKEHOUSE_ML_WORKFLOW " + json.dumps(fields, sort_keys=True), flush=True)


def call(method, path, body=None, query=None):
    url = uri + "/api/2.0/mlflow/" + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with OPENER.open(request, timeout=config["request_timeout"]) as answer:
            return answer.status, json.loads(answer.read().decode("utf-8") or "{}")
    except urllib.error.HTTPError as err:
        text = err.read().decode("utf-8", "replace")
        try:
            return err.code, json.loads(text)
        except ValueError:
            return err.code, {"body": " ".join(text.split())[:300]}
    except (urllib.error.URLError, OSError) as err:
        sys.exit("ml workflow: MLflow at %s not reachable: %s %s: %s" % (uri, method, path, getattr(err, "reason", err)))
    except ValueError as err:
        sys.exit("ml workflow: MLflow at %s: %s %s answered no JSON: %s" % (uri, method, path, err))


def expect(what, answer, statuses=(200,)):
    status, payload = answer
    if status not in statuses:
        sys.exit("ml workflow: MLflow at %s: %s answered HTTP %s: %s" % (uri, what, status, json.dumps(payload)[:400]))
    return payload


def now():
    return int(time.time() * 1000)


name = config["experiment"]
status, found = call("GET", "experiments/get-by-name", query={"experiment_name": name})
if not (status == 200 and found.get("experiment")) and not (status == 404 and found.get("error_code") == "RESOURCE_DOES_NOT_EXIST"):
    expect("GET experiments/get-by-name " + name, (status, found), ())
created = restored = False
if status == 200:
    experiment_id = found["experiment"]["experiment_id"]
    if found["experiment"].get("lifecycle_stage") == "deleted":
        expect("POST experiments/restore", call("POST", "experiments/restore", {"experiment_id": experiment_id}))
        restored = True
else:
    experiment_id = expect("POST experiments/create " + name, call("POST", "experiments/create", {"name": name}))["experiment_id"]
    created = True
report(experiment_id=experiment_id, created_experiment=created, restored_experiment=restored)
tags = [{"key": "lakehouse_workflow_id", "value": config["workflow_id"]},
        {"key": "ray_job_submission_id", "value": config["job_id"]}]
run = expect("POST runs/create", call("POST", "runs/create", {
    "experiment_id": experiment_id, "run_name": config["run_name"], "start_time": now(), "tags": tags}))["run"]
run_id = run["info"]["run_id"]
report(run_id=run_id)
try:
    import ray
    ray.init()

    @ray.remote
    def square(x):
        return x * x

    value = float(sum(ray.get([square.remote(i) for i in range(config["tasks"])])))
except BaseException:
    call("POST", "runs/update", {"run_id": run_id, "status": "FAILED", "end_time": now()})
    raise
expect("POST runs/log-parameter", call("POST", "runs/log-parameter", {"run_id": run_id, "key": "tasks", "value": str(config["tasks"])}))
expect("POST runs/log-metric", call("POST", "runs/log-metric", {
    "run_id": run_id, "key": config["metric"], "value": value, "timestamp": now(), "step": 0}))
expect("POST runs/update", call("POST", "runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now()}))
report(metric=config["metric"], value=value, status="FINISHED")
'''


class WorkflowFailed(Exception):
    """The workflow ran and something was wrong; str() is the message, ``result`` what was found so far."""

    def __init__(self, msg, result):
        super(WorkflowFailed, self).__init__(msg)
        self.result = result


class NotReached(Exception):
    """A service was not reached (``Unreachable`` of the first request to it)."""

    def __init__(self, reach, result):
        super(NotReached, self).__init__(reach)
        self.reach = reach
        self.result = result


def expected_value(tasks):
    """The metric the job's Ray tasks compute: the sum of i*i for i < tasks."""
    return float(sum(i * i for i in range(tasks)))


def entrypoint(config):
    """The shell command of the Ray job: ``python -c <JOB_SCRIPT> <config JSON>``."""
    return "python -c %s %s" % (shlex_quote(JOB_SCRIPT), shlex_quote(json.dumps(config, sort_keys=True)))


def parse_markers(logs):
    """Everything the job reported (the MARKER lines of its log, merged in order)."""
    found = {}
    for line in (logs or "").splitlines():
        index = line.find(MARKER)
        if index < 0:
            continue
        try:
            fields = json.loads(line[index + len(MARKER):])
        except ValueError:
            continue
        if isinstance(fields, dict):
            found.update(fields)
    return found


def log_tail(logs):
    lines = [line for line in (logs or "").splitlines() if line.strip()][-LOG_TAIL_LINES:]
    text = " | ".join(line.strip() for line in lines)
    return text if len(text) <= LOG_TAIL_CHARS else "..." + text[-LOG_TAIL_CHARS:]


def _excerpt(answer):
    return answer.excerpt() or "(empty body)"


class Workflow(object):
    """One run of the workflow. ray and mlflow: (send, via) pairs; send(method, path, body=None, query=None,
    timeout=None) -> ServiceResponse, raising Unreachable."""

    def __init__(self, ray, mlflow, tracking_uri, experiment, tasks=10, timeout=300, request_timeout=30,
                 poll_interval=1.0, component="ray", clock=time.time, sleep=time.sleep, ident=None):
        self.ray_send, self.ray_via = ray
        self.mlflow_send, self.mlflow_via = mlflow
        self.tracking_uri, self.experiment, self.tasks = tracking_uri, experiment, tasks
        self.timeout, self.request_timeout, self.poll_interval = timeout, request_timeout, poll_interval
        self.component, self.clock, self.sleep = component, clock, sleep
        ident = ident or uuid.uuid4().hex
        self.workflow_id = ident
        self.job_id = "lakehouse-ml-workflow-" + ident[:12]
        self.result = dict(changed=False, reached=False, workflow_id=ident, job_id=self.job_id, job_status="",
                           tracking_uri=tracking_uri, experiment=experiment, ray_via=self.ray_via,
                           mlflow_via=self.mlflow_via, experiment_id="", run_id="",
                           metric={"key": METRIC, "value": None, "expected": expected_value(tasks)},
                           deleted={"run": False, "experiment": False}, job_logs_tail="")

    # -- helpers ---------------------------------------------------------------------------------
    def _prefix(self):
        return "%s: ML workflow" % self.component

    def _fail(self, msg):
        self.result["msg"] = "%s %s" % (self._prefix(), msg)
        raise WorkflowFailed(self.result["msg"], self.result)

    def _ray(self, method, path, body=None, timeout=None, first=False):
        try:
            return self.ray_send(method, path, body=body, timeout=timeout or self.request_timeout)
        except Unreachable as e:
            reach = "%s (%s %s via %s)" % (to_native(e), method, path, self.ray_via)
            if first:
                raise NotReached(reach, self.result)
            self._fail("job %s: the Ray dashboard %s" % (self.job_id, reach))

    def _mlflow(self, method, path, body=None, query=None, first=False):
        try:
            return self.mlflow_send(method, path, body=body, query=query, timeout=self.request_timeout)
        except Unreachable as e:
            reach = "%s (%s %s via %s)" % (to_native(e), method, path, self.mlflow_via)
            if first:
                raise NotReached(reach, self.result)
            self._fail("read-back: MLflow %s" % reach)

    # -- steps -----------------------------------------------------------------------------------
    def run(self):
        health = self._mlflow("GET", "/health", first=True)
        if health.status != 200:
            self._fail("read-back: MLflow GET /health via %s answered HTTP %d: %s"
                       % (self.mlflow_via, health.status, _excerpt(health)))
        config = {"tracking_uri": self.tracking_uri, "experiment": self.experiment, "workflow_id": self.workflow_id,
                  "job_id": self.job_id, "run_name": "lakehouse-ml-workflow-" + self.workflow_id[:8],
                  "tasks": self.tasks, "metric": METRIC, "request_timeout": 15}
        submitted = self._ray("POST", "/api/jobs/", body={
            "entrypoint": entrypoint(config), "submission_id": self.job_id,
            "metadata": {"submitted_by": "lakehouse.platform", "lakehouse_workflow_id": self.workflow_id}},
            timeout=self.timeout, first=True)
        self.result["reached"] = True
        if submitted.status != 200:
            self._fail("job %s: POST /api/jobs/ via %s answered HTTP %d: %s"
                       % (self.job_id, self.ray_via, submitted.status, _excerpt(submitted)))
        status, message = self._wait()
        logs = self._logs()
        reported = parse_markers(logs)
        self.result.update(experiment_id=to_native(reported.get("experiment_id", "")),
                           run_id=to_native(reported.get("run_id", "")), job_status=status,
                           job_logs_tail=log_tail(logs))
        if status != "SUCCEEDED":
            cleanup = self._cleanup(reported, quiet=True)
            self._fail("job %s (submitted via %s, tracking URI %s) ended %s: %s; log tail: %s%s"
                       % (self.job_id, self.ray_via, self.tracking_uri, status, message or "(no message)",
                          self.result["job_logs_tail"] or "(no log)", cleanup))
        if not reported.get("run_id") or reported.get("status") != "FINISHED":
            self._fail("job %s SUCCEEDED via %s but did not report a finished run (tracking URI %s); log tail: %s"
                       % (self.job_id, self.ray_via, self.tracking_uri, self.result["job_logs_tail"] or "(no log)"))
        self._read_back(reported)
        self._cleanup(reported)
        self.result["record"] = "run %s metric %s=%s logged by Ray job %s read back via %s" % (
            reported["run_id"], METRIC, self.result["metric"]["value"], self.job_id, self.mlflow_via)
        self.result["msg"] = "%s: job %s SUCCEEDED via %s; run %s logged to %s; %s read back via %s; run deleted%s" % (
            self._prefix(), self.job_id, self.ray_via, reported["run_id"], self.tracking_uri,
            "%s=%s" % (METRIC, self.result["metric"]["value"]), self.mlflow_via,
            ", experiment deleted" if self.result["deleted"]["experiment"] else "")
        return self.result

    def _wait(self):
        deadline = self.clock() + self.timeout
        path = "/api/jobs/%s" % self.job_id
        status, message = "PENDING", ""
        while True:
            answer = self._ray("GET", path)
            if answer.status != 200 or not isinstance(answer.json, dict):
                self._fail("job %s: GET %s via %s answered HTTP %d: %s"
                           % (self.job_id, path, self.ray_via, answer.status, _excerpt(answer)))
            status, message = to_native(answer.json.get("status") or "?"), to_native(answer.json.get("message") or "")
            self.result["job_status"] = status
            if status in TERMINAL:
                return status, message
            if self.clock() >= deadline:
                self._ray("POST", path + "/stop")
                logs = self._logs()
                self.result["job_logs_tail"] = log_tail(logs)
                self._cleanup(parse_markers(logs), quiet=True)
                self._fail("job %s (submitted via %s) still %s after %s s (stopped): %s; log tail: %s"
                           % (self.job_id, self.ray_via, status, self.timeout, message or "(no message)",
                              self.result["job_logs_tail"] or "(no log)"))
            self.sleep(self.poll_interval)

    def _logs(self):
        answer = self._ray("GET", "/api/jobs/%s/logs" % self.job_id)
        if answer.status == 200 and isinstance(answer.json, dict):
            return to_native(answer.json.get("logs") or "")
        return ""

    def _read_back(self, reported):
        search = {"experiment_ids": [to_native(reported.get("experiment_id", ""))],
                  "filter": "tags.%s = '%s'" % (TAG, self.workflow_id), "run_view_type": "ACTIVE_ONLY",
                  "max_results": 10}
        asked = "POST %sruns/search (experiment %s, filter %s) via %s" % (
            MLFLOW_API, search["experiment_ids"][0], search["filter"], self.mlflow_via)
        answer = self._mlflow("POST", MLFLOW_API + "runs/search", body=search)
        runs = (answer.json or {}).get("runs") if isinstance(answer.json, dict) else None
        runs = runs if isinstance(runs, list) else []
        if answer.status != 200 or len(runs) != 1:
            self._fail("read-back: %s answered HTTP %d with %d runs, expected run %s that Ray job %s logged at %s "
                       "(left there): %s"
                       % (asked, answer.status, len(runs), reported["run_id"], self.job_id, self.tracking_uri,
                          _excerpt(answer)))
        found = runs[0]
        info, data = found.get("info") or {}, found.get("data") or {}
        metrics = dict((m.get("key"), m.get("value")) for m in data.get("metrics") or [] if isinstance(m, dict))
        value = metrics.get(METRIC)
        self.result["metric"]["value"] = value
        expected = self.result["metric"]["expected"]
        if info.get("run_id") != reported["run_id"] or info.get("status") != "FINISHED" or value != expected:
            self._cleanup(reported, quiet=True)
            self._fail("read-back: %s found run %s (%s) with metrics %s, expected run %s FINISHED with %s=%s"
                       % (asked, info.get("run_id"), info.get("status"), json.dumps(metrics, sort_keys=True),
                          reported["run_id"], METRIC, expected))

    def _cleanup(self, reported, quiet=False):
        """Delete the run, and the experiment when the job made or restored it. quiet: best effort (the
        workflow already failed) -> a note for the message."""
        steps = []
        if reported.get("run_id"):
            steps.append(("run", "runs/delete", {"run_id": reported["run_id"]}))
        if reported.get("experiment_id") and (reported.get("created_experiment") or reported.get("restored_experiment")):
            steps.append(("experiment", "experiments/delete", {"experiment_id": reported["experiment_id"]}))
        notes = []
        for what, path, body in steps:
            try:
                answer = self.mlflow_send("POST", MLFLOW_API + path, body=body, query=None,
                                          timeout=self.request_timeout)
            except Unreachable as e:
                answer, problem = None, to_native(e)
            else:
                problem = None if answer.status == 200 else "HTTP %d: %s" % (answer.status, _excerpt(answer))
            if problem is None:
                self.result["deleted"][what] = True
                notes.append("%s %s deleted" % (what, list(body.values())[0]))
                continue
            if not quiet:
                self._fail("clean-up: POST %s%s %s via %s: %s"
                           % (MLFLOW_API, path, json.dumps(body), self.mlflow_via, problem))
            notes.append("%s %s not deleted (%s)" % (what, list(body.values())[0], problem))
        return ("; clean-up: " + ", ".join(notes)) if notes else ""
