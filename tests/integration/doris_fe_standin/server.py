"""The stand-in Doris FE HTTP server: Doris' SQL HTTP API (``POST /api/query/<ns>/<db>``) and ``GET /api/health``.

Statements run on a real MariaDB, as the user and password of the request's basic auth, exactly as Doris'
StatementSubmitter runs them on the FE's own MySQL port: a refused password is MariaDB's refusal, a failing
statement MariaDB's error, rows read back are MariaDB's rows. Only the Doris-only clauses MariaDB cannot parse
are removed first (``translate``); SHOW FRONTENDS / SHOW BACKENDS are answered from the recorded Doris output in
tests/unit/fixtures/doris/. Answers are shaped like fe-core's ResponseEntityBuilder (always HTTP 200, the
outcome in ``code``/``msg``/``data``). README.md says what is not modelled.
"""
import base64
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pymysql
import yaml

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "unit", "fixtures", "doris")
QUERY_PATH = re.compile(r"^/api/query/(?P<ns>[^/]+)/(?P<db>[^/?]+)$")

# Doris-only clauses of CREATE TABLE / DROP DATABASE that MariaDB does not parse (and that change nothing
# MariaDB could model: key model, bucketing, replica properties, skipping the recycle bin).
_STRIP = [
    re.compile(r"\s+DUPLICATE\s+KEY\s*\([^)]*\)", re.I),
    re.compile(r"\s+DISTRIBUTED\s+BY\s+HASH\s*\([^)]*\)(\s+BUCKETS\s+(\d+|AUTO))?", re.I),
    re.compile(r"\s+PROPERTIES\s*\((\s*\"[^\"]*\"\s*=\s*\"[^\"]*\"\s*,?)*\s*\)", re.I),
]
_DROP_FORCE = re.compile(r"^(\s*DROP\s+DATABASE\s+.*?)\s+FORCE\s*;?\s*$", re.I | re.S)
_RESULT_SET = re.compile(r"^\s*(SELECT|SHOW|WITH|DESC|DESCRIBE|EXPLAIN)\b", re.I)
_SHOW_NODES = re.compile(r"^\s*SHOW\s+(FRONTENDS|BACKENDS)\s*;?\s*$", re.I)
_INSERT = re.compile(r"^\s*INSERT\b", re.I)
# pymysql field type codes -> the type names Doris' JDBC metadata reports
_TYPE_NAMES = {1: "TINYINT", 2: "SMALLINT", 3: "INT", 8: "BIGINT", 4: "FLOAT", 5: "DOUBLE", 246: "DECIMAL",
               10: "DATE", 12: "DATETIME", 253: "VARCHAR", 254: "CHAR", 252: "STRING"}


def translate(statement):
    """The statement as MariaDB runs it: Doris-only clauses removed, nothing else changed."""
    for pattern in _STRIP:
        statement = pattern.sub("", statement)
    match = _DROP_FORCE.match(statement)
    return match.group(1) if match else statement


def recorded(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return yaml.safe_load(handle)


def _body(code, msg, data):
    return {"msg": msg, "code": code, "data": data, "count": 0}


class _Handler(BaseHTTPRequestHandler):
    server_version = "DorisFEStandIn"

    def log_message(self, *args):
        pass

    def _send(self, document):
        payload = json.dumps(document).encode()
        self.send_response(200)  # the FE answers 200 to everything; the outcome is in the body
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _record(self, statement=None):
        self.server.standin.requests.append({"method": self.command, "path": self.path, "statement": statement,
                                             "authorization": "Authorization" in self.headers})

    def do_GET(self):  # noqa: N802
        if self.path.split("?")[0] != "/api/health":
            self._record()
            return self._send(_body(404, "Not Found", "no such path"))
        self._record()
        backends = self.server.standin.backends()
        alive = sum(1 for row in backends if row.get("Alive") == "true")
        self._send(_body(0, "success", {"total_backend_num": len(backends), "online_backend_num": alive}))

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        match = QUERY_PATH.match(self.path)
        try:
            statement = (json.loads(raw or b"{}") or {}).get("stmt")
        except ValueError:
            statement = None
        self._record(statement)
        if match is None:
            return self._send(_body(404, "Not Found", "no such path"))
        credentials = self._credentials()
        if credentials is None:  # BaseController.checkWithCookie without Authorization and without a session
            return self._send(_body(401, "Unauthorized", "Cookie is invalid"))
        if not statement:
            return self._send(_body(403, "Bad Request", "Missing statement request body"))
        self._send(self.server.standin.execute(credentials, match.group("db"), statement, self.client_address[0]))

    def _credentials(self):
        header = self.headers.get("Authorization") or ""
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "basic" or not token:
            return None
        try:
            user, _sep, password = base64.b64decode(token).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password


class DorisFEStandIn:
    """One stand-in FE on 127.0.0.1 backed by the MariaDB at (host, port). ``faults`` steers injected faults."""

    def __init__(self, mariadb_host, mariadb_port):
        self.mariadb = (mariadb_host, mariadb_port)
        self.requests = []
        self.faults = {"drop_inserts": False}
        self.frontends = recorded("show_frontends.yaml")
        self.backends_result = recorded("show_backends.yaml")
        self._server = None
        self._thread = None
        self.port = None

    def backends(self):
        columns = self.backends_result["columns"]
        return [dict(zip(columns, row)) for row in self.backends_result["rows"]]

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def execute(self, credentials, database, statement, remote_ip):
        user, password = credentials
        host, port = self.mariadb
        try:
            connection = pymysql.connect(host=host, port=port, user=user, password=password, database=database,
                                         connect_timeout=5, autocommit=True)
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] == 1045:  # checkPassword: ErrorCode.ERR_ACCESS_DENIED_ERROR
                used = "YES" if password else "NO"
                return _body(401, "Unauthorized",
                             "Access denied for user '%s@%s' (using password: %s)" % (user, remote_ip, used))
            return _body(1, "Error", "Failed to execute sql: java.sql.SQLException: %s" % exc.args[-1])
        try:
            return self._run(connection, statement)
        finally:
            connection.close()

    def _run(self, connection, statement):
        show = _SHOW_NODES.match(statement)
        if show:
            result = self.frontends if show.group(1).upper() == "FRONTENDS" else self.backends_result
            return _body(0, "success", {"type": "result_set", "meta": [{"name": c, "type": "CHAR"}
                                                                       for c in result["columns"]],
                                        "data": result["rows"], "time": 0})
        if _INSERT.match(statement) and self.faults["drop_inserts"]:
            return _body(0, "success", {"type": "exec_status", "status": {}, "time": 0})
        try:
            with connection.cursor() as cursor:
                cursor.execute(translate(statement))
                if _RESULT_SET.match(statement):
                    meta = [{"name": d[0], "type": _TYPE_NAMES.get(d[1], "VARCHAR")} for d in cursor.description or ()]
                    rows = [list(row) for row in cursor.fetchall()]
                    return _body(0, "success", {"type": "result_set", "meta": meta, "data": rows, "time": 0})
                return _body(0, "success", {"type": "exec_status", "status": {}, "time": 0})
        except pymysql.err.MySQLError as exc:
            # StmtExecutionAction: okWithCommonError("Failed to execute sql: " + ExecutionException message)
            return _body(1, "Error", "Failed to execute sql: java.sql.SQLException: (conn=%d) %s"
                         % (connection.thread_id(), exc.args[-1]))
