# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubeflow Pipelines v2beta1 REST calls of a validation run (upload, run, wait, delete).

The paths, parameters and fields are those of the KFP API server's v2beta1 swagger
(backend/api/v2beta1/swagger/{pipeline.upload,pipeline,run}.swagger.json, the same in KFP 2.4 and 2.17) and
of what the kfp SDK's client sends through kfp_server_api:

* ``POST /apis/v2beta1/pipelines/upload?name=&description=[&namespace=]``, multipart/form-data with the file
  in the form field ``uploadfile`` (``Client.upload_pipeline``); the API server creates the pipeline and
  its first version (named like the pipeline) and answers the pipeline (``pipeline_id``);
* ``GET /apis/v2beta1/pipelines/{pipeline_id}/versions`` -> ``pipeline_versions[].pipeline_version_id``;
* ``POST /apis/v2beta1/runs`` with a ``V2beta1Run``: ``display_name``, ``pipeline_version_reference``
  (``pipeline_id``, ``pipeline_version_id``), ``runtime_config.parameters``, ``experiment_id`` (empty: the
  API server's default experiment) (``Client.run_pipeline``);
* ``GET /apis/v2beta1/runs/{run_id}`` -> ``state`` (V2beta1RuntimeState: PENDING, RUNNING, SUCCEEDED, SKIPPED,
  FAILED, CANCELING, CANCELED, PAUSED) and ``error`` (google.rpc.Status); ``Client.wait_for_run_completion``
  polls the same call;
* ``DELETE /apis/v2beta1/runs/{run_id}``, ``DELETE /apis/v2beta1/pipelines/{id}/versions/{version_id}``,
  then ``DELETE /apis/v2beta1/pipelines/{id}`` (KFP 2.4 refuses to delete a pipeline that still has
  versions; ``cascade`` exists only from 2.5 on);
* ``GET /apis/v2beta1/pipelines/names/{name}`` finds a pipeline an interrupted earlier probe left behind.

Errors: the upload handler answers ``{"error_message", "error_details"}``, the gRPC gateway
``{"error", "code", "message", "details"}``; ``api_error()`` reads either.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time
import uuid

from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.module_utils.six.moves.urllib.parse import quote

BASE = "/apis/v2beta1"
TERMINAL_STATES = ("SUCCEEDED", "SKIPPED", "FAILED", "CANCELED")
REQUIRED_IR_KEYS = ("pipelineInfo", "root", "deploymentSpec", "schemaVersion")
EXCERPT = 300


class KfpError(Exception):
    """A KFP call answered wrongly or a run did not succeed; str() is the whole message."""


def check_pipeline_spec(spec):
    """What is wrong with a parsed KFP pipeline spec (IR), or None. spec is the first YAML document."""
    if not isinstance(spec, dict):
        return "it is not a mapping (a compiled KFP pipeline, IR YAML, is expected)"
    missing = [key for key in REQUIRED_IR_KEYS if key not in spec]
    if missing:
        return "it is not a compiled KFP pipeline (IR YAML): %s missing" % ", ".join(missing)
    if not isinstance(spec["pipelineInfo"], dict) or not spec["pipelineInfo"].get("name"):
        return "pipelineInfo.name is missing"
    if not isinstance(spec["root"], dict) or "dag" not in spec["root"]:
        return "root.dag is missing"
    return None


def multipart(field, filename, content, boundary=None):
    """(body bytes, Content-Type) of a multipart/form-data body with one file field."""
    boundary = boundary or "lakehouse-" + uuid.uuid4().hex
    body = b"".join([
        to_bytes("--%s\r\n" % boundary),
        to_bytes('Content-Disposition: form-data; name="%s"; filename="%s"\r\n' % (field, filename)),
        b"Content-Type: application/octet-stream\r\n\r\n",
        to_bytes(content),
        to_bytes("\r\n--%s--\r\n" % boundary),
    ])
    return body, "multipart/form-data; boundary=%s" % boundary


def api_error(answer):
    """The error text of a KFP answer (either error shape), else an excerpt of the body."""
    data = answer.json if isinstance(answer.json, dict) else {}
    for key in ("error_message", "message", "error"):
        if data.get(key):
            return to_native(data[key])
    return answer.excerpt() or "(empty body)"


def run_error(run):
    """Why a run did not succeed: its error, else the errors of its failed tasks, else ''."""
    error = run.get("error") or {}
    texts = [error["message"]] if error.get("message") else []
    for task in (run.get("run_details") or {}).get("task_details") or []:
        task_error = (task.get("error") or {}).get("message")
        if task_error and task_error not in texts:
            texts.append("task %s: %s" % (task.get("display_name") or task.get("task_id") or "?", task_error))
    return "; ".join(texts)


class KfpApi(object):
    """v2beta1 calls over one send(method, path, query, body, headers) -> ServiceResponse (raises Unreachable)."""

    def __init__(self, send, component, via):
        self.send = send
        self.component = component
        self.via = via
        self.calls = []  # "METHOD path" of every request sent, in order

    def call(self, method, path, expect=(200,), query=None, body=None, headers=None):
        self.calls.append("%s %s" % (method, path))
        if body is not None and not isinstance(body, bytes):
            body = to_bytes(json.dumps(body))
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        answer = self.send(method, path, query, body, dict({"Accept": "application/json"}, **(headers or {})))
        if answer.status not in expect:
            raise KfpError("%s: %s %s via %s answered HTTP %d, expected %s: %s" % (
                self.component, method, path, self.via, answer.status, ", ".join(str(s) for s in expect),
                api_error(answer)))
        return answer

    def health(self):
        return self.call("GET", BASE + "/healthz").json or {}

    def find_pipeline(self, name, namespace=""):
        answer = self.call("GET", "%s/pipelines/names/%s" % (BASE, quote(name, safe="")), expect=(200, 404),
                           query={"namespace": namespace} if namespace else None)
        return answer.json if answer.status == 200 and isinstance(answer.json, dict) else None

    def upload(self, name, description, filename, content, namespace=""):
        body, content_type = multipart("uploadfile", filename, content)
        query = {"name": name, "description": description}
        if namespace:
            query["namespace"] = namespace
        pipeline = self.call("POST", BASE + "/pipelines/upload", query=query, body=body,
                             headers={"Content-Type": content_type}).json or {}
        if not pipeline.get("pipeline_id"):
            raise KfpError("%s: POST %s/pipelines/upload via %s answered without a pipeline_id: %s"
                           % (self.component, BASE, self.via, json.dumps(pipeline)[:EXCERPT]))
        return pipeline

    def versions(self, pipeline_id):
        answer = self.call("GET", "%s/pipelines/%s/versions" % (BASE, quote(pipeline_id, safe="")),
                           query={"page_size": "100"})
        return (answer.json or {}).get("pipeline_versions") or []

    def create_run(self, display_name, pipeline_id, version_id, parameters, experiment_id=""):
        run = {"display_name": display_name,
               "description": "lakehouse.platform validation run (deleted when it ends)",
               "pipeline_version_reference": {"pipeline_id": pipeline_id, "pipeline_version_id": version_id},
               "runtime_config": {"parameters": parameters or {}}}
        if experiment_id:
            run["experiment_id"] = experiment_id
        created = self.call("POST", BASE + "/runs", body=run).json or {}
        if not created.get("run_id"):
            raise KfpError("%s: POST %s/runs via %s answered without a run_id: %s"
                           % (self.component, BASE, self.via, json.dumps(created)[:EXCERPT]))
        return created

    def get_run(self, run_id):
        return self.call("GET", "%s/runs/%s" % (BASE, quote(run_id, safe=""))).json or {}

    def delete_run(self, run_id):
        self.call("DELETE", "%s/runs/%s" % (BASE, quote(run_id, safe="")), expect=(200, 404))

    def delete_pipeline(self, pipeline_id):
        """Delete every version, then the pipeline (as KFP 2.4 requires)."""
        for version in self.versions(pipeline_id):
            self.call("DELETE", "%s/pipelines/%s/versions/%s" % (
                BASE, quote(pipeline_id, safe=""), quote(version.get("pipeline_version_id") or "", safe="")),
                expect=(200, 404))
        self.call("DELETE", "%s/pipelines/%s" % (BASE, quote(pipeline_id, safe="")), expect=(200, 404))


def wait_for_run(api, run_id, timeout, poll_interval, clock=time.monotonic, sleep=time.sleep):
    """Poll the run until it is in a terminal state -> (run, waited seconds); raises KfpError on timeout."""
    started = clock()
    while True:
        run = api.get_run(run_id)
        state = run.get("state") or "RUNTIME_STATE_UNSPECIFIED"
        waited = clock() - started
        if state in TERMINAL_STATES:
            return run, waited
        if waited >= timeout:
            raise KfpError("%s: pipeline run %s did not finish within %d s via %s (last state %s)"
                           % (api.component, run_id, timeout, api.via, state))
        sleep(min(poll_interval, max(0.1, timeout - waited)))
