"""ml_workflow: the job's script is Python that runs on its own (its one argument survives the shell), the job's
reports are read from its log, option errors are named before anything is sent, and a job that outlives its
timeout is stopped and named. (Real Ray and MLflow: tests/integration/test_service_proxy.py.)"""
import json
import shlex
import subprocess
import sys

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import ml_workflow
from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import ServiceResponse, Unreachable
from ansible_collections.lakehouse.platform.plugins.modules.ml_workflow_check import argument_spec, validate


def test_the_entrypoint_runs_the_script_with_its_configuration_through_a_shell():
    config = {"tracking_uri": "http://127.0.0.1:1", "experiment": "it's \"quoted\" $HOME", "workflow_id": "0" * 32,
              "job_id": "j", "run_name": "r", "tasks": 3, "metric": "m", "request_timeout": 2}
    words = shlex.split(ml_workflow.entrypoint(config))
    assert words[:2] == ["python", "-c"] and words[2] == ml_workflow.JOB_SCRIPT and json.loads(words[3]) == config
    # Nothing listens on port 1: the script ends at once, naming the tracking URI and the request.
    command = ml_workflow.entrypoint(config).replace("python", shlex.quote(sys.executable), 1)
    proc = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1, proc
    assert proc.stderr.startswith("ml workflow: MLflow at http://127.0.0.1:1 not reachable: GET experiments/get-by-name:")


def test_reports_are_merged_from_the_log_and_the_tail_is_short():
    logs = "\n".join(["noise"] * 30 + [
        'LAKEHOUSE_ML_WORKFLOW {"experiment_id": "7", "created_experiment": true}',
        "(pid=1) LAKEHOUSE_ML_WORKFLOW {\"run_id\": \"abc\"}", "LAKEHOUSE_ML_WORKFLOW not json"])
    assert ml_workflow.parse_markers(logs) == {"experiment_id": "7", "created_experiment": True, "run_id": "abc"}
    tail = ml_workflow.log_tail(logs)
    assert tail.count("noise") == ml_workflow.LOG_TAIL_LINES - 3 and tail.endswith("not json")
    assert ml_workflow.expected_value(10) == 285.0


def _params(**overrides):
    params = dict((name, spec.get("default")) for name, spec in argument_spec().items())
    params.update(ray_namespace="ml", ray_service="head", mlflow_namespace="ml", mlflow_service="mlflow",
                  tracking_uri="http://mlflow.ml.svc:80")
    params.update(overrides)
    return params


@pytest.mark.parametrize("overrides, message", [
    ({"ray_service": None}, "Options ray_service are required when ray_url is empty"),
    ({"mlflow_namespace": "", "mlflow_service": ""}, "Options mlflow_namespace and mlflow_service are required"),
    ({"mlflow_service": "mlflow:80"}, "Option mlflow_service must be a Service name"),
    ({"ray_url": "ray:8265"}, "Option ray_url must start with http://"),
    ({"tracking_uri": "mlflow.ml.svc"}, "Option tracking_uri must be an http:// or https:// URL"),
    ({"tracking_uri": "http://user:secret@mlflow:80"}, "Option tracking_uri must not hold credentials"),
    ({"tasks": 0}, "Option tasks must be between 1 and 1000"),
    ({"timeout": 0}, "Option timeout must be 1 or more seconds"),
])
def test_bad_options_are_named(overrides, message):
    problem = validate(_params(**overrides))
    assert problem and problem.startswith(message), problem
    assert "secret" not in problem
    assert validate(_params()) is None


def _answer(status, payload):
    return ServiceResponse(status, {}, json.dumps(payload).encode(), 1, "fake")


def test_a_job_that_outlives_its_timeout_is_stopped_and_named():
    sent, now = [], [0.0]

    def ray(method, path, body=None, query=None, timeout=None):
        sent.append((method, path))
        if path.endswith("/logs"):
            return _answer(200, {"logs": 'LAKEHOUSE_ML_WORKFLOW {"experiment_id": "3", "run_id": "r1"}\nstill going'})
        return _answer(200, {"status": "RUNNING", "message": "running"} if method == "GET" else {"job_id": "x"})

    def mlflow(method, path, body=None, query=None, timeout=None):
        sent.append((method, path))
        return _answer(200, {})

    def sleep(seconds):
        now[0] += seconds

    workflow = ml_workflow.Workflow((ray, "ray-way"), (mlflow, "mlflow-way"), "http://t", "e", timeout=3,
                                    clock=lambda: now[0], sleep=sleep, ident="f" * 32)
    with pytest.raises(ml_workflow.WorkflowFailed) as failure:
        workflow.run()
    assert str(failure.value).startswith(
        "ray: ML workflow job lakehouse-ml-workflow-ffffffffffff (submitted via ray-way) still RUNNING after 3 s "
        "(stopped): running; log tail: LAKEHOUSE_ML_WORKFLOW")
    assert ("POST", "/api/jobs/lakehouse-ml-workflow-ffffffffffff/stop") in sent
    # The run it had reported is deleted (best effort); the experiment was not the job's to delete.
    assert ("POST", "/api/2.0/mlflow/runs/delete") in sent and ("POST", "/api/2.0/mlflow/experiments/delete") not in sent


def test_mlflow_not_reached_first_is_not_reached_and_nothing_is_submitted():
    sent = []

    def ray(method, path, body=None, query=None, timeout=None):
        sent.append(path)

    def mlflow(method, path, body=None, query=None, timeout=None):
        raise Unreachable("Service ml/mlflow not found")

    workflow = ml_workflow.Workflow((ray, "r"), (mlflow, "service proxy ml/mlflow:80"), "http://t", "e")
    with pytest.raises(ml_workflow.NotReached) as failure:
        workflow.run()
    assert failure.value.reach == ("not reachable: Service ml/mlflow not found (GET /health via service proxy "
                                   "ml/mlflow:80)")
    assert sent == []
