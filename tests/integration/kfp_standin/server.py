"""A stateful stand-in for the Kubeflow Pipelines API server's v2beta1 REST API (see README.md)."""
import datetime
import email.parser
import email.policy
import json
import re
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

BASE = "/apis/v2beta1"
IR_KEYS = ("pipelineInfo", "root", "components", "deploymentSpec", "schemaVersion")
# google.rpc codes the gRPC gateway answers with, and the HTTP status it maps each to
NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION = 5, 3, 6, 9
HTTP_OF = {NOT_FOUND: 404, INVALID_ARGUMENT: 400, ALREADY_EXISTS: 409, FAILED_PRECONDITION: 400}
DEFAULT_EXPERIMENT = "00000000-0000-4000-8000-00000000da1e"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, code, message, upload=False):
        super().__init__(message)
        self.code, self.message, self.upload = code, message, upload

    def body(self):
        if self.upload:  # the upload handler's own shape (apiv1beta1.Error)
            return {"error_message": self.message, "error_details": self.message}
        return {"error": self.message, "code": self.code, "message": self.message, "details": []}


def ir_problem(text, filename):
    """Why an uploaded file is not a KFP pipeline (as the API server's ReadPipelineFile and compiler see it)."""
    if not filename.endswith((".yaml", ".yml", ".json")):
        return "Unexpected pipeline file format. Support .zip, .tar.gz, .json or YAML"
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        return "Failed to unmarshal pipeline spec: %s" % exc
    spec = documents[0] if documents else None
    if not isinstance(spec, dict):
        return "Failed to unmarshal pipeline spec: not a mapping"
    missing = [key for key in IR_KEYS if key not in spec]
    if missing:
        return "invalid pipeline spec: missing %s" % ", ".join(missing)
    if not str(spec["schemaVersion"]).startswith("2."):
        return "invalid pipeline spec: unsupported schemaVersion %s" % spec["schemaVersion"]
    if not (spec.get("pipelineInfo") or {}).get("name"):
        return "invalid pipeline spec: pipelineInfo.name is empty"
    tasks = ((spec.get("root") or {}).get("dag") or {}).get("tasks") or {}
    executors = (spec.get("deploymentSpec") or {}).get("executors") or {}
    for name, task in tasks.items():
        component = spec["components"].get((task.get("componentRef") or {}).get("name", ""))
        if component is None:
            return "invalid pipeline spec: task %s refers to an unknown component" % name
        if component.get("executorLabel") not in executors:
            return "invalid pipeline spec: component of task %s has no executor" % name
    return None


class KfpStandIn:
    """Pipelines, versions and runs in memory. A run is PENDING for `pending_s`, RUNNING for `running_s`, then
    SUCCEEDED, or FAILED when its pipeline's name is in `failing` (name -> error message)."""

    def __init__(self, pending_s=0.3, running_s=0.7):
        self.pending_s, self.running_s = pending_s, running_s
        self.failing = {}
        self.pipelines, self.versions, self.runs = {}, {}, {}
        self.requests = []  # (method, path, content type)
        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = None

    @property
    def port(self):
        return self._httpd.server_address[1]

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="kfp-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- the API -----------------------------------------------------------------------------------------------
    def handle(self, method, path, query, content_type, raw):
        """-> (status, JSON body)."""
        routes = [
            ("GET", r"/healthz", lambda: {"commit_sha": "stand-in", "tag_name": "2.4.0", "multi_user": False}),
            ("POST", r"/pipelines/upload", lambda: self.upload(query, content_type, raw)),
            ("GET", r"/pipelines/names/(?P<name>[^/]+)", lambda name: self.pipeline_by_name(name, query)),
            ("GET", r"/pipelines/(?P<pid>[^/]+)/versions", self.list_versions),
            ("DELETE", r"/pipelines/(?P<pid>[^/]+)/versions/(?P<vid>[^/]+)", self.delete_version),
            ("GET", r"/pipelines/(?P<pid>[^/]+)", self._pipeline),
            ("DELETE", r"/pipelines/(?P<pid>[^/]+)", self.delete_pipeline),
            ("POST", r"/runs", lambda: self.create_run(raw)),
            ("GET", r"/runs/(?P<rid>[^/]+)", self.get_run),
            ("DELETE", r"/runs/(?P<rid>[^/]+)", self.delete_run),
        ]
        if not path.startswith(BASE + "/"):
            return 404, {"error": "Not Found", "code": NOT_FOUND, "message": "Not Found", "details": []}
        tail = path[len(BASE):]
        for verb, pattern, action in routes:
            match = re.fullmatch(pattern, tail)
            if match and verb == method:
                try:
                    with self.lock:
                        return 200, action(**{k: urllib.parse.unquote(v) for k, v in match.groupdict().items()})
                except ApiError as exc:
                    return HTTP_OF.get(exc.code, 500), exc.body()
        return 404, {"error": "Not Found", "code": NOT_FOUND, "message": "Not Found", "details": []}

    def upload(self, query, content_type, raw):
        if not content_type.startswith("multipart/form-data"):
            raise ApiError(INVALID_ARGUMENT, "Failed to read pipeline from file: request Content-Type isn't "
                           "multipart/form-data", upload=True)
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        part = parts.get("uploadfile")
        if part is None:
            raise ApiError(INVALID_ARGUMENT, "Failed to read pipeline from file: http: no such file", upload=True)
        filename = part.get_filename() or ""
        text = part.get_payload(decode=True).decode()
        problem = ir_problem(text, filename)
        if problem:
            raise ApiError(INVALID_ARGUMENT, "Failed to read a pipeline spec file: " + problem, upload=True)
        name = (query.get("name") or [""])[0] or filename.rsplit(".", 1)[0]
        namespace = (query.get("namespace") or [""])[0]
        if any(p["display_name"] == name and p.get("namespace", "") == namespace for p in self.pipelines.values()):
            raise ApiError(ALREADY_EXISTS, "Failed to create a pipeline and a pipeline version. The pipeline "
                           "already exists.: name %s" % name, upload=True)
        pid, vid, now = str(uuid.uuid4()), str(uuid.uuid4()), _now()
        pipeline = {"pipeline_id": pid, "display_name": name,
                    "description": (query.get("description") or [""])[0], "created_at": now}
        if namespace:
            pipeline["namespace"] = namespace
        self.pipelines[pid] = pipeline
        self.versions[vid] = {"pipeline_id": pid, "pipeline_version_id": vid, "display_name": name,
                              "description": pipeline["description"], "created_at": now,
                              "pipeline_spec": yaml.safe_load_all(text).__next__()}
        return pipeline

    def _pipeline(self, pid):
        if pid not in self.pipelines:
            raise ApiError(NOT_FOUND, "Failed to get pipeline %s: ResourceNotFoundError: Pipeline %s not found"
                           % (pid, pid))
        return self.pipelines[pid]

    def pipeline_by_name(self, name, query):
        namespace = (query.get("namespace") or [""])[0]
        for pipeline in self.pipelines.values():
            if pipeline["display_name"] == name and pipeline.get("namespace", "") == namespace:
                return pipeline
        raise ApiError(NOT_FOUND, "Failed to get a pipeline with name %s and namespace %s: ResourceNotFoundError: "
                       "Namespace/name [%s/%s] not found" % (name, namespace, namespace, name))

    def list_versions(self, pid):
        self._pipeline(pid)
        versions = [v for v in self.versions.values() if v["pipeline_id"] == pid]
        return {"pipeline_versions": versions, "total_size": len(versions)} if versions else {}

    def delete_version(self, pid, vid):
        version = self.versions.get(vid)
        if version is None or version["pipeline_id"] != pid:
            raise ApiError(NOT_FOUND, "Failed to delete pipeline version %s: not found" % vid)
        del self.versions[vid]
        return {}

    def delete_pipeline(self, pid):
        self._pipeline(pid)
        left = [v["pipeline_version_id"] for v in self.versions.values() if v["pipeline_id"] == pid]
        if left:  # KFP 2.4: versions first
            raise ApiError(INVALID_ARGUMENT, "Failed to delete pipeline with id %s as it has existing pipeline "
                           "versions (e.g. %s)" % (pid, left[0]))
        del self.pipelines[pid]
        return {}

    def create_run(self, raw):
        try:
            run = json.loads(raw or b"{}")
        except ValueError as exc:
            raise ApiError(INVALID_ARGUMENT, "invalid JSON: %s" % exc)
        if not run.get("display_name"):
            raise ApiError(INVALID_ARGUMENT, "Failed to create a new run: Invalid input error: The run name is empty")
        reference = run.get("pipeline_version_reference") or {}
        version = self.versions.get(reference.get("pipeline_version_id") or "")
        if version is None or version["pipeline_id"] != reference.get("pipeline_id"):
            raise ApiError(NOT_FOUND, "Failed to create a new run: Failed to fetch pipeline version %s"
                           % reference.get("pipeline_version_id"))
        inputs = ((version["pipeline_spec"]["root"].get("inputDefinitions") or {}).get("parameters") or {})
        parameters = (run.get("runtime_config") or {}).get("parameters") or {}
        unknown = sorted(set(parameters) - set(inputs))
        if unknown:
            raise ApiError(INVALID_ARGUMENT, "Failed to create a new run: Invalid input error: parameter(s) %s "
                           "not found in the pipeline's inputs" % ", ".join(unknown))
        rid = str(uuid.uuid4())
        stored = {"run_id": rid, "display_name": run["display_name"], "description": run.get("description", ""),
                  "experiment_id": run.get("experiment_id") or DEFAULT_EXPERIMENT,
                  "pipeline_version_reference": reference, "runtime_config": run.get("runtime_config") or {},
                  "storage_state": "AVAILABLE", "created_at": _now(), "scheduled_at": _now(),
                  "_started": time.monotonic(), "_pipeline": self.pipelines[reference["pipeline_id"]]["display_name"]}
        self.runs[rid] = stored
        return self._view(stored)

    def _view(self, run):
        """The run as GET answers it now: its state follows the clock."""
        age = time.monotonic() - run["_started"]
        view = {k: v for k, v in run.items() if not k.startswith("_")}
        states = [("PENDING", 0.0)]
        if age >= self.pending_s:
            states.append(("RUNNING", self.pending_s))
        if age >= self.pending_s + self.running_s:
            failing = self.failing.get(run["_pipeline"])
            states.append(("FAILED" if failing is not None else "SUCCEEDED", self.pending_s + self.running_s))
            view["finished_at"] = _now()
            task = {"display_name": "echo-message", "task_id": run["run_id"][:8] + "-echo",
                    "state": states[-1][0]}
            if failing is not None:
                view["error"] = {"code": 2, "message": failing, "details": []}
                task["error"] = {"code": 2, "message": failing}
            view["run_details"] = {"task_details": [task]}
        view["state"] = states[-1][0]
        view["state_history"] = [{"state": state, "update_time": _now()} for state, _at in states]
        return view

    def get_run(self, rid):
        if rid not in self.runs:
            raise ApiError(NOT_FOUND, "Failed to get run %s: ResourceNotFoundError: Run %s not found" % (rid, rid))
        return self._view(self.runs[rid])

    def delete_run(self, rid):
        if rid not in self.runs:
            raise ApiError(NOT_FOUND, "Failed to delete run %s: ResourceNotFoundError: Run %s not found" % (rid, rid))
        del self.runs[rid]
        return {}


def _handler(standin):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type") or ""
            with standin.lock:
                standin.requests.append((self.command, url.path, content_type.split(";")[0]))
            status, body = standin.handle(self.command, url.path, urllib.parse.parse_qs(url.query),
                                          content_type, raw)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args):
            pass

    return Handler
