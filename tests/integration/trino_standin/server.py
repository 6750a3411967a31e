"""The HTTP side of the Trino stand-in: Trino's client REST protocol (v1 statement resource).

POST /v1/statement (SQL body, X-Trino-User required, X-Trino-Catalog / X-Trino-Schema as the session) answers
a QUEUED QueryResults with a nextUri; GET on it walks queued/<id>/<slug>/<token> (QUEUED for `queued_polls`
polls) -> executing/<id>/<slug>/0 (RUNNING, where the statement is executed) -> one page of `page_size` rows
per GET -> FINISHED without nextUri; a failed statement ends FAILED with its `error`. DELETE on a nextUri cancels
(204), later GETs answer FAILED/USER_CANCELED. GET /v1/info answers like a coordinator that finished starting.
Test helpers: GET /v1/standin/requests (every request: method, path, Trino headers; Authorization is recorded
as present or not, never its value) and GET /v1/standin/queries (id, sql, user, catalog, schema, state).
"""
import datetime
import json
import logging
import random
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .engine import Engine, QueryError

LOG = logging.getLogger("trino-standin")
TRINO_HEADERS = ("X-Trino-User", "X-Trino-Catalog", "X-Trino-Schema", "X-Trino-Source", "X-Trino-Time-Zone",
                 "X-Trino-Client-Capabilities", "X-Trino-Query-Data-Encoding")


class Query:
    def __init__(self, query_id, sql, user, catalog, schema):
        self.id = query_id
        self.slug = "x" + "".join(random.choice(string.hexdigits.lower()) for _index in range(32))
        self.sql = sql
        self.user = user
        self.catalog = catalog
        self.schema = schema
        self.state = "QUEUED"
        self.started = time.monotonic()
        self.columns = None
        self.rows = None
        self.error = None
        self.executed = False

    def summary(self):
        return {"id": self.id, "sql": self.sql, "user": self.user, "catalog": self.catalog, "schema": self.schema,
                "state": self.state, "error": self.error.name if self.error else None}


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, config):
        super().__init__(address, Handler)
        self.engine = Engine(config.get("catalogs") or {})
        self.page_size = max(1, int(config.get("page_size", 2)))
        self.queued_polls = max(1, int(config.get("queued_polls", 1)))
        self.queries = {}
        self.requests = []
        self.lock = threading.Lock()
        self.counter = 0

    def new_query_id(self):
        with self.lock:
            self.counter += 1
            counter = self.counter
        now = datetime.datetime.now(datetime.timezone.utc)
        return "%s_%05d_%s" % (now.strftime("%Y%m%d_%H%M%S"), counter,
                               "".join(random.choice(string.ascii_lowercase) for _index in range(5)))


def stats(query, state):
    elapsed = int((time.monotonic() - query.started) * 1000)
    done = state in ("FINISHED", "FAILED")
    rows = len(query.rows or []) if state == "FINISHED" else 0
    return {"state": state, "queued": state == "QUEUED", "scheduled": state not in ("QUEUED",), "nodes": 1,
            "totalSplits": 1 if state != "QUEUED" else 0, "queuedSplits": 0, "runningSplits": 0,
            "completedSplits": 1 if done else 0, "cpuTimeMillis": 0, "wallTimeMillis": elapsed,
            "queuedTimeMillis": 0, "elapsedTimeMillis": elapsed, "processedRows": rows, "processedBytes": 0,
            "physicalInputBytes": 0, "peakMemoryBytes": 0, "spilledBytes": 0}


class Handler(BaseHTTPRequestHandler):
    server_version = "TrinoStandIn/480"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        LOG.info("%s %s", self.address_string(), fmt % args)

    # -- plumbing --------------------------------------------------------------------------------------------
    def _base(self):
        return "http://%s:%d" % self.server.server_address[:2]

    def _record(self):
        entry = {"method": self.command, "path": self.path,
                 "headers": {name: self.headers[name] for name in TRINO_HEADERS if self.headers.get(name) is not None},
                 "authorization": self.headers.get("Authorization") is not None}
        with self.server.lock:
            self.server.requests.append(entry)

    def _send(self, status, body=None, content_type="application/json"):
        data = b""
        if body is not None:
            data = (json.dumps(body) if content_type == "application/json" else body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _results(self, query, state, next_uri=None, data=None, columns=False):
        body = {"id": query.id, "infoUri": "%s/ui/query.html?%s" % (self._base(), query.id),
                "stats": stats(query, state), "warnings": []}
        if next_uri:
            body["nextUri"] = next_uri
        if columns and query.columns is not None:
            body["columns"] = query.columns
        if data:
            body["data"] = data
        if state == "FAILED" and query.error is not None:
            body["error"] = query.error.to_json()
        return body

    def _uri(self, query, stage, token):
        return "%s/v1/statement/%s/%s/%s/%d" % (self._base(), stage, query.id, query.slug, token)

    def _lookup(self):
        """(query, stage, token) for /v1/statement/<stage>/<id>/<slug>/<token>, or None (answered 404)."""
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 6 or parts[:2] != ["v1", "statement"] or parts[2] not in ("queued", "executing"):
            self._send(404, "Not found", "text/plain")
            return None
        with self.server.lock:
            query = self.server.queries.get(parts[3])
        if query is None or query.slug != parts[4] or not parts[5].isdigit():
            self._send(404, "Query not found", "text/plain")
            return None
        return query, parts[2], int(parts[5])

    # -- verbs -----------------------------------------------------------------------------------------------
    def do_GET(self):  # noqa: N802 - http.server's naming
        self._record()
        path = self.path.split("?")[0]
        if path == "/v1/info":
            self._send(200, {"nodeVersion": {"version": "480-standin"}, "environment": "standin",
                             "coordinator": True, "starting": False, "uptime": "1.00m"})
            return
        if path == "/v1/standin/requests":
            with self.server.lock:
                self._send(200, list(self.server.requests))
            return
        if path == "/v1/standin/queries":
            with self.server.lock:
                self._send(200, [q.summary() for q in self.server.queries.values()])
            return
        found = self._lookup()
        if found is None:
            return
        query, stage, token = found
        if query.state == "FAILED":
            self._send(200, self._results(query, "FAILED", columns=True))
            return
        if stage == "queued":
            if token < self.server.queued_polls:
                self._send(200, self._results(query, "QUEUED", self._uri(query, "queued", token + 1)))
                return
            self._execute(query)
            if query.error is not None:
                self._send(200, self._results(query, "FAILED"))
                return
            query.state = "RUNNING"
            self._send(200, self._results(query, "RUNNING", self._uri(query, "executing", 0)))
            return
        pages = (len(query.rows) + self.server.page_size - 1) // self.server.page_size
        if token < pages:
            page = query.rows[token * self.server.page_size:(token + 1) * self.server.page_size]
            self._send(200, self._results(query, "RUNNING", self._uri(query, "executing", token + 1), page, True))
            return
        query.state = "FINISHED"
        self._send(200, self._results(query, "FINISHED", columns=True))

    def do_POST(self):  # noqa: N802
        self._record()
        if self.path.split("?")[0] != "/v1/statement":
            self._send(404, "Not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        sql = self.rfile.read(length).decode("utf-8")
        user = self.headers.get("X-Trino-User")
        if not user:
            self._send(400, "Error 400 Bad Request: User must be set", "text/plain")
            return
        if not sql.strip():
            self._send(400, "Error 400 Bad Request: SQL statement is empty", "text/plain")
            return
        query = Query(self.server.new_query_id(), sql, user, self.headers.get("X-Trino-Catalog") or None,
                      self.headers.get("X-Trino-Schema") or None)
        with self.server.lock:
            self.server.queries[query.id] = query
        self._send(200, self._results(query, "QUEUED", self._uri(query, "queued", 0)))

    def do_DELETE(self):  # noqa: N802
        self._record()
        found = self._lookup()
        if found is None:
            return
        query = found[0]
        if query.state not in ("FINISHED", "FAILED"):
            query.state = "FAILED"
            query.error = QueryError("USER_CANCELED", "Query was canceled")
        self._send(204)

    def _execute(self, query):
        if query.executed:
            return
        query.executed = True
        try:
            query.columns, query.rows = self.server.engine.execute(query.sql, query.catalog, query.schema)
        except QueryError as error:
            query.error = error
            query.state = "FAILED"
        except Exception as exc:  # noqa: BLE001 - an unexpected failure is still answered as Trino would
            LOG.exception("query %s failed", query.id)
            query.error = QueryError("GENERIC_INTERNAL_ERROR", "%s: %s" % (type(exc).__name__, exc))
            query.state = "FAILED"
