"""A stateful stand-in for DataHub GMS (v1.7), speaking the Rest.li / OpenAPI subset acryl-datahub's
``DataHubGraph`` sends for an emit / read back / lineage / hard delete (README.md says what it does not model).

Protocol (as captured from acryl-datahub 1.7.0.17, captured_protocol.json):

* ``GET /config`` -> the server configuration (``noCode: "true"`` tells the client it talks to GMS);
* ``GET /health`` -> 200 (the chart's readiness probe);
* ``POST /aspects?action=ingestProposal`` {"proposal": {entityType, entityUrn, changeType, aspectName,
  aspect: {value: <JSON string>, contentType}, systemMetadata}, "async": "false"} -> {"value": <urn>};
* ``GET /aspects/<url-encoded urn>?aspect=<name>&version=0`` -> {"version": 0, "aspect": {<FQCN>: {...}}}, or
  a Rest.li 404 error;
* ``GET /openapi/relationships/v1/?urn=&direction=INCOMING|OUTGOING&relationshipTypes=&start=`` -> {"start",
  "count", "total", "entities": [{"relationshipType", "urn"}]} from the graph index;
* ``POST /entities?action=delete`` {"urn"} -> {"value": {"urn", "rows", "timeseriesRows"}} (hard delete).

Errors are Rest.li error documents ({"exceptionClass", "stackTrace", "message", "status"}). With a token set,
every path but /config and /health wants ``Authorization: Bearer <token>`` (401 otherwise, as GMS with
metadata service authentication on). Test controls: ``POST /_standin/faults`` ({"ingest_error": {"status",
"message"}} answers every ingest with that error; {"graph_indexing": false} stores aspects but writes no graph
edge, as when the MAE consumer is down; {"require_token": "<t>"} turns authentication on), ``GET /_standin/state`` (entities, edges, requests seen),
``POST /_standin/reset``.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

VERSION = "v1.7.0"
# aspect name -> the record's fully qualified name GMS answers under (the PDL models of entity-registry.yml).
ASPECTS = {
    "datasetKey": "com.linkedin.metadata.key.DatasetKey",
    "schemaMetadata": "com.linkedin.schema.SchemaMetadata",
    "upstreamLineage": "com.linkedin.dataset.UpstreamLineage",
    "datasetProperties": "com.linkedin.dataset.DatasetProperties",
    "status": "com.linkedin.common.Status",
}
# Required fields GMS's record validation checks (the subset of the PDL schemas this stand-in validates).
REQUIRED = {
    "schemaMetadata": ("schemaName", "platform", "version", "hash", "platformSchema", "fields"),
    "upstreamLineage": ("upstreams",),
}
REQUIRED_ITEM = {"schemaMetadata": ("fields", ("fieldPath", "type", "nativeDataType")),
                 "upstreamLineage": ("upstreams", ("dataset", "type", "auditStamp"))}
RESTLI_EXCEPTION = "com.linkedin.restli.server.RestLiServiceException"


def server_config():
    return {
        "models": {}, "patchCapable": True, "statefulIngestionCapable": True, "supportsImpactAnalysis": True,
        "timeZone": "GMT", "datasetUrnNameCasing": False, "retention": "true", "noCode": "true",
        "versions": {"acryldata/datahub": {"version": VERSION, "commit": "0000000000000000000000000000000000000000"}},
        "managedIngestion": {"defaultCliVersion": "1.7.0", "enabled": True},
        "telemetry": {"enabledCli": True, "enabledIngestion": False},
        "datahub": {"serverType": "prod"},
    }


def dataset_key(urn):
    """DatasetKey of urn:li:dataset:(urn:li:dataPlatform:<p>,<name>,<env>), or None for another URN."""
    if not (urn.startswith("urn:li:dataset:(") and urn.endswith(")")):
        return None
    inner = urn[len("urn:li:dataset:("):-1]
    platform, rest = inner.split(",", 1) if "," in inner else (inner, "")
    name, _sep, origin = rest.rpartition(",")
    if not platform.startswith("urn:li:dataPlatform:") or not name or not origin:
        return None
    return {"platform": platform, "name": name, "origin": origin}


class RestliError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


class GmsState:
    """Aspects per URN (latest version only), graph edges derived from upstreamLineage, faults, requests."""

    def __init__(self, token=None):
        self.lock = threading.Lock()
        self.token = token
        self.reset()

    def reset(self):
        with self.lock:
            self.entities = {}  # urn -> {aspect name: value}
            self.edges = set()  # (source urn, relationship type, destination urn)
            self.faults = {}
            self.requests = []

    def ingest(self, proposal):
        urn, name = proposal.get("entityUrn"), proposal.get("aspectName")
        if proposal.get("changeType") != "UPSERT":
            raise RestliError(400, "Unsupported change type %s for ingestProposal" % proposal.get("changeType"))
        key = dataset_key(urn or "")
        if proposal.get("entityType") != "dataset" or key is None:
            raise RestliError(400, "java.lang.IllegalArgumentException: Failed to convert urn to entity key: urns "
                                   "parts and key fields do not have same length for %s" % urn)
        if name not in ASPECTS:
            raise RestliError(400, "Unknown aspect %s for entity dataset" % name)
        aspect = proposal.get("aspect") or {}
        if aspect.get("contentType") != "application/json":
            raise RestliError(400, "Unsupported content-type %s" % aspect.get("contentType"))
        try:
            value = json.loads(aspect.get("value") or "")
        except ValueError as exc:
            raise RestliError(400, "Failed to parse aspect value: %s" % exc)
        missing = [field for field in REQUIRED.get(name, ()) if field not in value]
        if name in REQUIRED_ITEM:
            items, fields = REQUIRED_ITEM[name]
            for index, item in enumerate(value.get(items) or []):
                missing += ["%s/%d/%s" % (items, index, field) for field in fields if field not in item]
        if missing:
            raise RestliError(422, "com.linkedin.metadata.entity.validation.ValidationException: Failed to validate "
                                   "record with class %s: ERROR :: %s :: field is required but not found and has no "
                                   "default value" % (ASPECTS[name], ", ".join("/" + m for m in missing)))
        with self.lock:
            error = self.faults.get("ingest_error")
            if error:
                raise RestliError(int(error.get("status", 500)), error.get("message", "java.lang.RuntimeException"))
            aspects = self.entities.setdefault(urn, {"datasetKey": key})
            aspects[name] = value
            if name == "upstreamLineage":
                self.edges = set(e for e in self.edges if not (e[0] == urn and e[1] == "DownstreamOf"))
                if self.faults.get("graph_indexing", True):
                    for upstream in value.get("upstreams") or []:
                        self.edges.add((urn, "DownstreamOf", upstream["dataset"]))
        return urn

    def get_aspect(self, urn, name, version):
        if version != "0":
            raise RestliError(404, "Aspect %s version %s of %s not found" % (name, version, urn))
        if name not in ASPECTS:
            raise RestliError(400, "Unknown aspect %s for entity dataset" % name)
        with self.lock:
            value = (self.entities.get(urn) or {}).get(name)
        if value is None:
            raise RestliError(404, "Failed to find aspect %s for urn %s" % (name, urn))
        return {"version": 0, "aspect": {ASPECTS[name]: value}}

    def related(self, urn, direction, types, start, count):
        with self.lock:
            if direction == "INCOMING":
                found = sorted((rel, src) for src, rel, dst in self.edges if dst == urn and (not types or rel in types))
            elif direction == "OUTGOING":
                found = sorted((rel, dst) for src, rel, dst in self.edges if src == urn and (not types or rel in types))
            else:
                raise RestliError(400, "direction must be INCOMING or OUTGOING, got %s" % direction)
        page = found[start:start + count]
        return {"start": start, "count": len(page), "total": len(found),
                "entities": [{"relationshipType": rel, "urn": other} for rel, other in page]}

    def delete(self, urn):
        with self.lock:
            aspects = self.entities.pop(urn, None) or {}
            self.edges = set(e for e in self.edges if urn not in (e[0], e[2]))
        return {"urn": urn, "rows": len(aspects), "timeseriesRows": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Jetty(12.0.16)"

    def log_message(self, *args):
        pass

    def _send(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-RestLi-Protocol-Version", "2.0.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status, message):
        self._send(status, {"exceptionClass": RESTLI_EXCEPTION, "message": message, "status": status,
                            "stackTrace": "%s: %s\n\tat com.linkedin.restli.server..." % (RESTLI_EXCEPTION, message)})

    def _handle(self):
        state = self.server.state
        url = urlsplit(self.path)
        path, query = unquote(url.path), parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path.startswith("/_standin/"):
            return self._control(path, raw)
        with state.lock:
            state.requests.append({"method": self.command, "path": path, "query": url.query,
                                   "restli": self.headers.get("X-RestLi-Protocol-Version"),
                                   "user_agent": self.headers.get("User-Agent", ""),
                                   "authorization": bool(self.headers.get("Authorization"))})
        try:
            if path in ("/health", "/config") and self.command == "GET":
                return self._send(200, server_config()) if path == "/config" else self._send(200, {})
            if state.token and self.headers.get("Authorization") != "Bearer %s" % state.token:
                raise RestliError(401, "Unauthorized to perform this action. Please provide a valid token."
                                  if not self.headers.get("Authorization") else
                                  "Failed to authenticate: the token is invalid or expired")
            action = (query.get("action") or [""])[0]
            if self.command == "POST" and path == "/aspects" and action == "ingestProposal":
                body = self._json(raw)
                return self._send(200, {"value": state.ingest(body.get("proposal") or {})})
            if self.command == "POST" and path == "/entities" and action == "delete":
                return self._send(200, {"value": state.delete(self._json(raw).get("urn", ""))})
            if self.command == "GET" and path.startswith("/aspects/"):
                return self._send(200, state.get_aspect(path[len("/aspects/"):], (query.get("aspect") or [""])[0],
                                                        (query.get("version") or ["0"])[0]))
            if self.command == "GET" and path.rstrip("/") == "/openapi/relationships/v1":
                return self._send(200, state.related((query.get("urn") or [""])[0],
                                                     (query.get("direction") or [""])[0],
                                                     query.get("relationshipTypes") or [],
                                                     int((query.get("start") or ["0"])[0]),
                                                     int((query.get("count") or ["200"])[0])))
            raise RestliError(404, "No root resource defined for path '%s'" % path)
        except RestliError as exc:
            return self._error(exc.status, exc.message)

    def _json(self, raw):
        if self.headers.get("X-RestLi-Protocol-Version") != "2.0.0":
            raise RestliError(400, "Rest.li protocol version header X-RestLi-Protocol-Version 2.0.0 required")
        try:
            return json.loads(raw or b"{}")
        except ValueError as exc:
            raise RestliError(400, "Cannot parse request entity: %s" % exc)

    def _control(self, path, raw):
        state = self.server.state
        if path == "/_standin/faults" and self.command == "POST":
            with state.lock:
                state.faults = json.loads(raw or b"{}")
                state.token = state.faults.pop("require_token", state.token) or None
            return self._send(200, state.faults)
        if path == "/_standin/reset" and self.command == "POST":
            state.reset()
            return self._send(200, {})
        if path == "/_standin/state" and self.command == "GET":
            with state.lock:
                return self._send(200, {"entities": state.entities, "requests": state.requests,
                                        "edges": sorted(list(e) for e in state.edges)})
        return self._send(404, {"message": "unknown control %s" % path})

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class DataHubGmsStandIn:
    """The stand-in on 127.0.0.1 (a free port) in a thread of the test process: ``start()``, ``port``, ``stop()``."""

    def __init__(self, token=None):
        self.state = GmsState(token)
        self.httpd = None

    def start(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state
        threading.Thread(target=self.httpd.serve_forever, name="datahub-gms-standin", daemon=True).start()
        self.started = time.time()
        return self

    @property
    def port(self):
        return self.httpd.server_address[1]

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
