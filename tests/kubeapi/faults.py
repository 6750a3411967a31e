"""Fault injection for the test API server: error answers on a share of requests, dropped watches, restarts.

Set over HTTP (the server may run in another process):

    POST   /_test/faults          {"rules": [RULE, ...], "seed": 7}   replaces the rules (and resets the log)
    GET    /_test/faults          the rules, and per rule how many requests matched and how many were hit
    DELETE /_test/faults          clears every rule
    POST   /_test/faults/drop-watches                 closes every open watch stream mid-wait (no final chunk)
    POST   /_test/faults/restart  {"down_seconds": 2}  a restart: every connection closed, the port refuses
                                                     connections for down_seconds, then listens again on the
                                                     same port with the stored state kept (as etcd keeps it)

RULE: {"code": 500 | 502 | 503 | 504 | 429 | 409, "every": N (every Nth matching request) or
"probability": p (seeded), "verbs": [...], "resources": ["secrets", "leases.coordination.k8s.io"],
"namespace": ... (or "namespaces": [...]), "name": ..., "subresource": "" (main resource only) or "status",
"dry_run": true/false, "limit": most hits, "retry_after": seconds (429),
"after": true (perform the request, then answer the error instead: the client cannot tell whether it was done;
not for watches)}. Verbs: get, list, watch, create, update, patch, delete, deletecollection.

Error bodies are kube-apiserver's Status objects for each code (InternalError, TooManyRequests with
details.retryAfterSeconds and a Retry-After header, Conflict, ServiceUnavailable, ...).
"""
import io
import json
import random
import socket
import threading
import time

from . import errors

_REASONS = {
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def _qualified(resource, group):
    return f"{resource}.{group}" if group else resource


def fault_status(code, resource, group, name, retry_after=1):
    """The Status body kube-apiserver answers for an error of this code (apimachinery's errors.New* shapes:
    a 429 or 500 comes from a filter that names no object; a 409 Conflict names it)."""
    qualified = _qualified(resource, group)
    details = None
    if code == 500:
        message = "Internal error occurred: injected fault (test server)"
        details = {"causes": [{"message": "injected fault (test server)"}]}
    elif code == 429:
        message = "Too many requests, please try again later."
        details = {"retryAfterSeconds": retry_after}
    elif code == 409:
        message = (f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
                   "please apply your changes to the latest version and try again")
        details = {"name": name, "kind": resource}
        if group:
            details["group"] = group
    elif code == 503:
        message = "The server is currently unable to handle the request (injected fault)"
    elif code == 504:
        message = "Timeout: request did not complete within the allowed duration (injected fault)"
        details = {"retryAfterSeconds": retry_after}
    else:
        message = f"injected HTTP {code} (test server)"
    return errors.ApiError(code, _REASONS.get(code, "InternalError"), message, details).status()


class Rule:
    def __init__(self, spec, rng):
        if not isinstance(spec, dict):
            raise errors.bad_request("a fault rule must be an object")
        self.spec = dict(spec)
        self.code = int(spec.get("code", 500))
        if self.code not in _REASONS:
            raise errors.bad_request(f"fault code {self.code} is not one of {sorted(_REASONS)}")
        self.every = int(spec["every"]) if spec.get("every") else None
        self.probability = float(spec["probability"]) if spec.get("probability") is not None else None
        if self.every is None and self.probability is None:
            self.every = 1
        self.verbs = set(spec.get("verbs") or [])
        self.resources = set(spec.get("resources") or [])
        self.namespaces = set(spec.get("namespaces") or ([spec["namespace"]] if spec.get("namespace") is not None else []))
        self.name = spec.get("name")
        self.subresource = spec.get("subresource")  # "" = the main resource only; "status"; None = any
        self.dry_run = spec.get("dry_run")
        self.limit = spec.get("limit")
        self.retry_after = int(spec.get("retry_after", 1))
        self.after = bool(spec.get("after"))
        self.rng = rng
        self.matched = 0
        self.injected = 0

    def matches(self, verb, group, resource, namespace, name, dry_run, subresource=""):
        if self.verbs and verb not in self.verbs:
            return False
        if self.resources and resource not in self.resources and _qualified(resource, group) not in self.resources:
            return False
        if self.namespaces and namespace not in self.namespaces:
            return False
        if self.name is not None and name != self.name:
            return False
        if self.subresource is not None and subresource != self.subresource:
            return False
        if self.dry_run is not None and bool(self.dry_run) != bool(dry_run):
            return False
        return not (self.after and verb == "watch")

    def hit(self):
        """Count a matching request; True when this one gets the fault."""
        self.matched += 1
        if self.limit is not None and self.injected >= int(self.limit):
            return False
        if self.every is not None:
            fire = self.matched % self.every == 0
        else:
            fire = self.rng.random() < self.probability
        if fire:
            self.injected += 1
        return fire

    def report(self):
        return dict(self.spec, matched=self.matched, injected=self.injected)


class FaultState:
    """Held by the HTTP server object (server.faults); every handler thread shares it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.log = []                 # one entry per injected fault: verb, resource, name, code, when
        self.watch_generation = 0     # bumped to drop every watch opened before
        self.dropped_watches = 0
        self.restarts = 0
        self.connections = set()      # open client sockets (so a restart can close them)
        self.restarting = threading.Event()
        self.resumed = threading.Event()
        self.resumed.set()

    def set_rules(self, specs, seed):
        rng = random.Random(seed)
        rules = [Rule(spec, rng) for spec in specs or []]
        with self.lock:
            self.rules = rules
            self.log = []

    def clear(self):
        with self.lock:
            self.rules = []

    def pick(self, verb, group, resource, namespace, name, dry_run, subresource=""):
        with self.lock:
            for rule in self.rules:
                if rule.matches(verb, group, resource, namespace, name, dry_run, subresource) and rule.hit():
                    self.log.append({"verb": verb, "resource": _qualified(resource, group), "namespace": namespace,
                                     "name": name, "code": rule.code, "after": rule.after})
                    return rule
        return None

    def report(self):
        with self.lock:
            return {"rules": [rule.report() for rule in self.rules], "injected": list(self.log),
                    "dropped_watches": self.dropped_watches, "restarts": self.restarts}


def install(httpd):
    """Give an HTTP server its FaultState and track its client connections (for restarts)."""
    state = FaultState()
    httpd.faults = state
    original_process, original_shutdown = httpd.process_request, httpd.shutdown_request

    def process_request(request, client_address):
        with state.lock:
            state.connections.add(request)
        return original_process(request, client_address)

    def shutdown_request(request):
        with state.lock:
            state.connections.discard(request)
        return original_shutdown(request)

    httpd.process_request = process_request
    httpd.shutdown_request = shutdown_request
    return state


def serve(httpd, poll_interval=0.2):
    """serve_forever that comes back after an injected restart (until the server really stops)."""
    state = httpd.faults
    while True:
        httpd.serve_forever(poll_interval=poll_interval)
        if httpd.stopping.is_set() or not state.restarting.is_set():
            return
        state.resumed.wait()
        if httpd.stopping.is_set():
            return


def _request_verb(method, name, watching):
    if method == "GET":
        return "watch" if watching else ("get" if name else "list")
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method) or (
        "delete" if name else "deletecollection")


def serve_resource(handler, request, raw, serve):
    """The dispatch hook: answer an injected fault for this request, or serve it (`serve(request, raw)`)."""
    state = getattr(handler.server, "faults", None)
    if state is None or not state.rules:
        return serve(request, raw)
    watching = handler.command == "GET" and (request.legacy_watch or handler._param("watch").lower() in ("true", "1"))
    verb = _request_verb(handler.command, request.name, watching)
    rtype = request.resource_type
    dry_run = "All" in handler.query.get("dryRun", [])
    rule = state.pick(verb, rtype.group, rtype.plural, request.namespace, request.name, dry_run,
                      request.subresource)
    if rule is None:
        return serve(request, raw)
    if rule.after:
        real_wfile = handler.wfile
        handler.wfile = io.BytesIO()  # done, but its answer is lost
        try:
            serve(request, raw)
        except errors.ApiError:
            pass
        finally:
            handler.wfile = real_wfile
    _send_fault(handler, rule, rtype.group, rtype.plural, request.name)
    return None


def _send_fault(handler, rule, group, resource, name):
    payload = json.dumps(fault_status(rule.code, resource, group, name, rule.retry_after),
                         separators=(",", ":")).encode()
    handler.send_response(rule.code)
    handler.send_header("Content-Type", "application/json")
    if rule.code in (429, 504):
        handler.send_header("Retry-After", str(rule.retry_after))
    handler.send_header("Cache-Control", "no-cache, private")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def watch_started(server):
    """The generation a new watch belongs to (pass it to watch_dropped)."""
    state = getattr(server, "faults", None)
    return state.watch_generation if state is not None else 0


def watch_dropped(server, generation):
    """True when this watch must end at once, as if the connection broke."""
    state = getattr(server, "faults", None)
    return state is not None and state.watch_generation != generation


def break_watch(handler):
    """End a watch stream without its final chunk and close the connection: the client sees it break."""
    state = handler.server.faults
    with state.lock:
        state.dropped_watches += 1
    handler.close_connection = True
    try:
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def drop_watches(httpd, store):
    state = httpd.faults
    with state.lock:
        state.watch_generation += 1
    with store.changed:  # wake the watch loops now rather than at their next one-second tick
        store.changed.notify_all()


def restart(httpd, store, down_seconds):
    """Stop listening, close every connection, refuse connections for down_seconds, listen again (same port)."""
    state = httpd.faults
    state.restarting.set()
    state.resumed.clear()
    httpd.shutdown()  # serve_forever returns; faults.serve() waits for `resumed`
    address = httpd.server_address
    httpd.socket.close()
    drop_watches(httpd, store)
    with state.lock:
        open_connections = list(state.connections)
    for connection in open_connections:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    time.sleep(max(0.0, float(down_seconds)))
    sock = socket.socket(httpd.address_family, httpd.socket_type)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(httpd.request_queue_size)
    httpd.socket = sock
    with state.lock:
        state.restarts += 1
    state.restarting.clear()
    state.resumed.set()


def test_endpoint(handler, path, body):
    """/_test/faults[...]: True when answered here."""
    if not path.startswith("/_test/faults"):
        return False
    httpd = handler.server
    state = httpd.faults
    store = httpd.api.store
    method = handler.command
    if path == "/_test/faults" and method == "GET":
        handler._send_json(200, state.report())
    elif path == "/_test/faults" and method == "POST":
        body = body or {}
        state.set_rules(body.get("rules"), body.get("seed", 0))
        handler._send_json(200, state.report())
    elif path == "/_test/faults" and method == "DELETE":
        state.clear()
        handler._send_json(200, state.report())
    elif path == "/_test/faults/drop-watches" and method == "POST":
        drop_watches(httpd, store)
        handler._send_json(200, {"dropped": True})
    elif path == "/_test/faults/restart" and method == "POST":
        down = float((body or {}).get("down_seconds", 1))
        handler._send_json(200, {"restarting": True, "down_seconds": down})
        handler.close_connection = True
        threading.Thread(target=restart, args=(httpd, store, down), name="kubeapi-restart", daemon=True).start()
    else:
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})
    return True


# -- the client side, for tests (the server may be another process) ------------------------------------------
def _call(url, method, path, body=None):
    import urllib.request
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def set_faults(url, rules, seed=0):
    return _call(url, "POST", "/_test/faults", {"rules": rules, "seed": seed})


def clear_faults(url):
    """Clear the rules -> the report of what was injected while they were set."""
    report = _call(url, "GET", "/_test/faults")
    _call(url, "DELETE", "/_test/faults")
    return report


def fault_report(url):
    return _call(url, "GET", "/_test/faults")


def request_drop_watches(url):
    return _call(url, "POST", "/_test/faults/drop-watches")


def request_restart(url, down_seconds=1.0):
    return _call(url, "POST", "/_test/faults/restart", {"down_seconds": down_seconds})
