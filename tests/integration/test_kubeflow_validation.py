"""The kubeflow role's validation: a pipeline run in Kubeflow Pipelines and a Katib Experiment, end to end.

The KFP API is the stand-in of tests/integration/kfp_standin (v2beta1 REST, stateful), registered as the backend
of the Service ml-pipeline:8888 in the Kubernetes API test server, so lakehouse.platform.kfp_pipeline_check
reaches it through the API server's service proxy. Katib is the `katib` simulator (tests/simulators/katib.py)
on the real Katib Experiment CRD (tests/kubeapi/crds). Pinned down:

* pass: the shipped pipeline is uploaded (multipart), run to SUCCEEDED and deleted with its version, a pipeline
  an interrupted run left is deleted first, the Experiment reaches Succeeded with its trial counts and is deleted;
  the record says `<run id> SUCCEEDED in Ns via service proxy <ns>/ml-pipeline:8888 ...` and
  `<experiment> Succeeded ...`; nothing reports a change;
* failing: KFP down (record `not reachable: ...`, a warning; with kubeflow_pipelines_url it fails), a run that
  FAILS (message names kubeflow, the run id, FAILED and the API's error; run and pipeline still deleted), a
  Katib experiment that fails (message names kubeflow, the experiment, Failed and Katib's message);
* check mode: nothing reaches the KFP API and no Experiment is created.
"""
import json
import os
import socket
import urllib.request

import pytest

from tests.integration.kfp_standin import KfpStandIn
from tests.integration.kfp_standin.server import BASE
from tests.integration.phase1_helpers import REPO_ROOT, run_playbook

EXPERIMENTS = "/apis/kubeflow.org/v1beta1/namespaces/%s/experiments"
SHIPPED = os.path.join(REPO_ROOT, "roles", "kubeflow", "files", "validation_pipeline.yaml")
SHIPPED_LOOKUP = "{{ lookup('ansible.builtin.file', '%s') }}" % SHIPPED


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def kfp():
    standin = KfpStandIn(pending_s=0.3, running_s=0.7).start()
    yield standin
    standin.stop()


def _ml_pipeline_service(kube_api, namespace, port):
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces/%s/services" % namespace, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "ml-pipeline"},
        "spec": {"selector": {"app": "ml-pipeline"},
                 "ports": [{"name": "http", "port": 8888}, {"name": "grpc", "port": 8887}]}})
    assert status == 201, body
    status, body, _headers = kube_api.request("PUT", "/_test/service-backends/%s/ml-pipeline/8888" % namespace,
                                              {"target": "127.0.0.1:%d" % port})
    assert status == 200, body


def _validate(variables=None, ignore_errors=False):
    task = {"name": "Validate kubeflow", "ansible.builtin.include_role": {
        "name": "lakehouse.platform.kubeflow", "tasks_from": "validate"}, "vars": variables or {}}
    if ignore_errors:
        task["ansible.builtin.include_role"]["apply"] = {"ignore_errors": True}
    return task


def _keep(name):
    return {"name": "Keep the record " + name, "ansible.builtin.set_fact": {name: "{{ kubeflow_validation }}"}}


def _upload_leftover(kfp, name):
    """A pipeline of the validation's name, as an interrupted earlier probe leaves it."""
    with open(SHIPPED, "rb") as handle:
        spec = handle.read()
    boundary = "leftover"
    body = (b"--leftover\r\nContent-Disposition: form-data; name=\"uploadfile\"; filename=\"left.yaml\"\r\n\r\n"
            + spec + b"\r\n--leftover--\r\n")
    request = urllib.request.Request("http://127.0.0.1:%d%s/pipelines/upload?name=%s" % (kfp.port, BASE, name),
                                     data=body, method="POST",
                                     headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["pipeline_id"]


def _names(kube_api, namespace):
    status, body, _headers = kube_api.request("GET", EXPERIMENTS % namespace)
    assert status == 200, body
    return [item["metadata"]["name"] for item in body["items"]]


def test_the_pipeline_runs_and_the_experiment_succeeds_and_both_are_deleted(
        tmp_path, kube_api, kube_namespace, kfp, simulators):
    ns = kube_namespace
    _ml_pipeline_service(kube_api, ns, kfp.port)
    leftover = _upload_leftover(kfp, "lakehouse-platform-validation")
    kfp.requests.clear()
    kube_api.reset_counts()
    run = run_playbook(tmp_path, [_validate({"kubeflow_validation_pipeline_parameters": {"message": "hello " + ns}}),
                                  _keep("record")],
                       extra_vars={"platform_mode": "apply", "kubeflow_namespace": ns}, env=kube_api.env,
                       results=["record", "kubeflow_pipeline_check", "kubeflow_katib_waited"])
    assert run.returncode == 0, run
    assert run.changed_tasks() == [], run.changed_tasks()
    record, check = run.results["record"], run.results["kubeflow_pipeline_check"]
    via = "via service proxy %s/ml-pipeline:8888" % ns
    run_id = check["run_id"]
    assert record["pipeline_run"].startswith("%s SUCCEEDED in " % run_id), record
    assert record["pipeline_run"].endswith("s %s (pipeline lakehouse-platform-validation, deleted)" % via), record
    assert record["pipelines_health"] == '{"commit_sha": "stand-in", "tag_name": "2.4.0", "multi_user": false} ' + via
    assert check["leftovers_deleted"] == [leftover] and check["state"] == "SUCCEEDED" and check["error"] == ""
    assert check["deleted"] == ["run " + run_id, "pipeline " + check["pipeline_id"]]
    # What went over the wire, in order; the upload is multipart; nothing is left in KFP.
    paths = [(method, path.replace(check["pipeline_id"], "P").replace(leftover, "L").replace(run_id, "R")
              .replace(check["pipeline_version_id"], "V"), ctype) for method, path, ctype in kfp.requests]
    polls = [p for p in paths if p[:2] == ("GET", BASE + "/runs/R")]
    assert len(polls) >= 1
    left_version = [p for p in paths if p[0] == "DELETE" and p[1].startswith(BASE + "/pipelines/L/versions/")]
    assert len(left_version) == 1
    expected = ([("GET", BASE + "/healthz", ""), ("GET", BASE + "/pipelines/names/lakehouse-platform-validation", ""),
                 ("GET", BASE + "/pipelines/L/versions", "")] + left_version
                + [("DELETE", BASE + "/pipelines/L", ""),
                   ("POST", BASE + "/pipelines/upload", "multipart/form-data"),
                   ("GET", BASE + "/pipelines/P/versions", ""), ("POST", BASE + "/runs", "application/json")]
                + polls + [("DELETE", BASE + "/runs/R", ""), ("GET", BASE + "/pipelines/P/versions", ""),
                           ("DELETE", BASE + "/pipelines/P/versions/V", ""), ("DELETE", BASE + "/pipelines/P", "")])
    assert paths == expected, paths
    assert kfp.pipelines == {} and kfp.versions == {} and kfp.runs == {}

    # Katib: Succeeded with the counts of the spec (2 trials), recorded, deleted.
    experiment = run.results["kubeflow_katib_waited"]["resource"]
    name = experiment["metadata"]["name"]
    assert name.startswith("lakehouse-platform-validation-")
    assert experiment["status"]["trialsSucceeded"] == 2 and experiment["status"]["trials"] == 2
    assert record["katib_experiment"].startswith("%s Succeeded in " % name), record
    assert record["katib_experiment"].endswith(
        "s: trials 2, succeeded 2 (ExperimentMaxTrialsReached) via the Kubernetes API, deleted"), record
    assert _names(kube_api, ns) == []
    counts = kube_api.request_counts()
    assert counts.count(verb="create", resource="experiments") == 1
    assert counts.count(verb="delete", resource="experiments") == 1
    assert counts.count(verb="delete", subresource="proxy") == 5  # leftover version + pipeline; run, version, pipeline


def test_kfp_down_a_failing_run_and_a_failing_experiment_name_what_failed(
        tmp_path, kube_api, kube_namespace, kfp, simulators):
    ns = kube_namespace
    _ml_pipeline_service(kube_api, ns, kfp.port)
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces/%s/services" % ns, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "kfp-down"},
        "spec": {"selector": {"app": "kfp-down"}, "ports": [{"name": "http", "port": 8888}]}})
    assert status == 201, body
    closed = _free_port()
    status, body, _headers = kube_api.request("PUT", "/_test/service-backends/%s/kfp-down/8888" % ns,
                                              {"target": "127.0.0.1:%d" % closed})
    assert status == 200, body
    kfp.failing["lakehouse-validation-failing"] = "failed to create pod: image busybox:1.36.1 not pulled"
    simulators.set_namespace_behaviour(ns, kind="Experiment", mode="fail")
    no_katib = {"kubeflow_katib_enabled": False}
    tasks = [
        # KFP down, default way in: recorded, warned, not failed.
        _validate(dict(no_katib, kubeflow_validate_service="kfp-down")), _keep("down"),
        # KFP down at a URL the user gave: fails.
        _validate(dict(no_katib, kubeflow_pipelines_url="http://127.0.0.1:%d" % closed), ignore_errors=True),
        # A run that FAILS.
        # (A failed task sets no facts: the failed check's result is the step's check_result.)
        {"name": "A run that fails", "block": [
            _validate(dict(no_katib, kubeflow_validation_pipeline_name="lakehouse-validation-failing"))],
         "rescue": [{"name": "Keep the failed check",
                     "ansible.builtin.set_fact": {"failed_check": "{{ ansible_failed_result.check_result }}"}}]},
        # A Katib experiment that fails (no KFP asked).
        _validate({"kubeflow_validate_service": ""}, ignore_errors=True),
    ]
    run = run_playbook(tmp_path, tasks, extra_vars={"platform_mode": "apply", "kubeflow_namespace": ns},
                       env=kube_api.env, results=["down", "failed_check"])
    assert run.returncode == 0, run  # every failure above is ignored on purpose; each is asserted below
    down = run.results["down"]["pipeline_run"]
    assert down == ("not reachable: error trying to reach service: dial tcp 127.0.0.1:%d: connect: connection refused "
                    "(HTTP 503 from the API server for Service %s/kfp-down) (GET /apis/v2beta1/healthz via service "
                    "proxy %s/kfp-down:8888)" % (closed, ns, ns)), down
    assert "[WARNING]: kubeflow: not reachable: error trying to reach service" in run.output
    assert ("kubeflow: not reachable: http://127.0.0.1:%d did not answer: [Errno 111] Connection refused "
            "(GET /apis/v2beta1/healthz via url http://127.0.0.1:%d)" % (closed, closed)) in run.output, run.output[-3000:]

    failed = run.results["failed_check"]
    assert failed["failed"] is True and failed["state"] == "FAILED"
    assert failed["msg"].startswith("kubeflow: pipeline run %s of pipeline lakehouse-validation-failing ended FAILED "
                                    "after " % failed["run_id"]), failed["msg"]
    assert failed["msg"].endswith("s via service proxy %s/ml-pipeline:8888: failed to create pod: image "
                                  "busybox:1.36.1 not pulled" % ns), failed["msg"]
    assert failed["deleted"] == ["run " + failed["run_id"], "pipeline " + failed["pipeline_id"]]
    assert kfp.pipelines == {} and kfp.runs == {}

    assert "kubeflow: Katib experiment lakehouse-platform-validation-" in run.output
    assert (" ended Failed: Experiment has failed because max failed count has reached (trials 1, succeeded 0, "
            "failed 1)") in run.output, run.errors()
    assert _names(kube_api, ns) == []  # deleted after the failure as well


def test_check_mode_sends_nothing(tmp_path, kube_api, kube_namespace, kfp):
    ns = kube_namespace
    _ml_pipeline_service(kube_api, ns, kfp.port)
    kfp.requests.clear()
    kube_api.reset_counts()
    tasks = [_validate(), {"name": "The module in check mode", "lakehouse.platform.kfp_pipeline_check": {
        "namespace": ns, "pipeline_spec": SHIPPED_LOOKUP},
        "register": "checked"}]
    run = run_playbook(tmp_path, tasks, extra_vars={"platform_mode": "apply", "kubeflow_namespace": ns},
                       env=kube_api.env, check=True, results=["checked"])
    assert run.returncode == 0, run
    assert run.results["checked"]["sent"] is False and run.results["checked"]["requests"] == []
    assert run.results["checked"]["record"] == "not run (check mode)" and run.results["checked"]["changed"] is False
    assert "kubeflow: apply mode, check mode; validation runs in apply mode." in run.output
    assert kfp.requests == []
    counts = kube_api.request_counts()
    assert counts.count(subresource="proxy") == 0 and counts.count(resource="experiments") == 0, counts


def test_bad_input_fails_before_anything_is_sent(tmp_path, kube_api, kube_namespace, kfp):
    kfp.requests.clear()
    tasks = [{"name": "Not a compiled pipeline", "lakehouse.platform.kfp_pipeline_check": {
        "namespace": kube_namespace, "pipeline_spec": "name: x\nsteps: []\n"}, "ignore_errors": True},
        {"name": "An unknown parameter", "lakehouse.platform.kfp_pipeline_check": {
            "namespace": kube_namespace, "parameters": {"nope": 1},
            "pipeline_spec": SHIPPED_LOOKUP}}]
    run = run_playbook(tmp_path, tasks, env=kube_api.env)
    assert run.returncode != 0
    assert ("kubeflow: Option pipeline_spec: it is not a compiled KFP pipeline (IR YAML): pipelineInfo, root, "
            "deploymentSpec, schemaVersion missing") in run.output
    assert ("kubeflow: Option parameters names nope, which pipeline lakehouse-platform-validation does not take "
            "(its inputs: message)") in run.output
    assert kfp.requests == []
