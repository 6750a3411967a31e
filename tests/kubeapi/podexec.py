"""Pod exec: GET|POST /api/v1/namespaces/<ns>/pods/<pod>/exec?command=..&container=..&stdout=true&stderr=true.

What kube-apiserver (and the kubelet and container runtime behind it) does for a WebSocket client such as the
kubernetes Python client's ``kubernetes.stream.stream`` (which kubernetes.core.k8s_exec uses) or kubectl:

* authorization: the request is authorized from its method (a WebSocket GET is ``get pods/exec``) and, as
  kube-apiserver 1.35+ does by default (feature gate AuthorizePodWebsocketUpgradeCreatePermission), the GET
  must also be allowed to ``create pods/exec``; a POST is ``create pods/exec``;
* the pod must exist (404), name a container of its spec (400 ``container x is not valid for pod y``; with
  no container given the only one, else 400 naming the choices), have a node and be Running (400);
* a request that is not a WebSocket upgrade is 400 ``Upgrade request required``;
* RFC 6455 handshake with Sec-WebSocket-Protocol negotiation in the client's order of preference among
  ``v5.channel.k8s.io``, ``v4.channel.k8s.io``, ``v4.base64.channel.k8s.io``, ``channel.k8s.io``,
  ``base64.channel.k8s.io`` (and none offered: the binary channel protocol);
* frames from the server: binary (text with base64 for the base64 protocols), first byte the channel
  (1 stdout, 2 stderr, 3 error); client frames must be masked; channel 0 is stdin, v5's channel 255 closes
  stdin; on exit the error channel carries the v1 Status (v4/v5: ``Success``, or ``Failure`` with reason
  ``NonZeroExitCode`` and ``details.causes[0]`` ``{"reason": "ExitCode", "message": "<n>"}``; before v4 only a
  failure's message), then a close frame.

What runs: the "container" is a table entry that a test registers per pod and container,
``PUT /_test/exec-backends/<ns>/<pod>/<container>`` with ``{"path": "/dir[:/dir]", "env": {...},
"timeout": 60}``. The command's argv runs as a real local process (no shell added), argv[0] looked up on the
registered directories first and then /usr/local/bin:/usr/bin:/bin, in a fresh temporary directory (also
HOME), with the container's environment from the pod spec (env and envFrom, Secrets and ConfigMaps read at
exec time, as the kubelet builds it), then the registered ``env``, and HOSTNAME=<pod>, killed after ``timeout`` seconds (exit code 137, as
a SIGKILL in a container). A pod with no registration answers 500 ``error dialing backend`` (the kubelet is
not reachable). See README.md for what is not modelled.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

from . import errors

EXEC_PATH = re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<pod>[^/]+)/exec/?$")
REGISTRATION_PATH = re.compile(r"^/_test/exec-backends(?:/(?P<namespace>[^/]+)/(?P<pod>[^/]+)/(?P<container>[^/]+))?$")
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
DEFAULT_TIMEOUT = 60

# Sub-protocol -> (base64 codec, Status JSON on the error channel) as the kubelet's remotecommand server has them.
PROTOCOLS = {
    "v5.channel.k8s.io": (False, True),
    "v4.channel.k8s.io": (False, True),
    "v4.base64.channel.k8s.io": (True, True),
    "channel.k8s.io": (False, False),
    "base64.channel.k8s.io": (True, False),
    "": (False, False),
}
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
_OP_CONT, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def is_exec_path(path):
    return EXEC_PATH.match(path) is not None


class ExecBackends:
    """(namespace, pod, container) -> {"path", "env", "timeout"} of the local "container"."""

    def __init__(self):
        self._lock = threading.Lock()
        self._table = {}

    def register(self, namespace, pod, container, entry):
        with self._lock:
            self._table[(namespace, pod, container)] = entry

    def unregister(self, namespace, pod, container):
        with self._lock:
            return self._table.pop((namespace, pod, container), None) is not None

    def lookup(self, namespace, pod, container):
        with self._lock:
            return self._table.get((namespace, pod, container))

    def snapshot(self):
        with self._lock:
            return [dict({"namespace": ns, "pod": pod, "container": container}, path=entry["path"],
                         env=sorted(entry["env"]), timeout=entry["timeout"])
                    for (ns, pod, container), entry in sorted(self._table.items())]


def _backends(server):
    backends = getattr(server, "exec_backends", None)
    if backends is None:
        backends = server.exec_backends = ExecBackends()
    return backends


def _truthy(values):
    return bool(values) and values[-1].lower() in ("true", "1")


# ---- the API server's part: authorization, options, the pod ---------------------------------------------------
def _container(pod, name, requested):
    spec = pod.get("spec") or {}
    containers = [c.get("name") for c in spec.get("containers") or []]
    others = [c.get("name") for key in ("initContainers", "ephemeralContainers") for c in spec.get(key) or []]
    if not requested:
        if len(containers) == 1:
            return containers[0]
        if not containers:
            raise errors.bad_request("a container name must be specified for pod %s" % name)
        message = "a container name must be specified for pod %s, choose one of: [%s]" % (name, " ".join(containers))
        init = [c.get("name") for c in spec.get("initContainers") or []]
        if init:
            message += " or one of the init containers: [%s]" % " ".join(init)
        raise errors.bad_request(message)
    if requested not in containers + others:
        raise errors.bad_request("container %s is not valid for pod %s" % (requested, name))
    return requested


_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def _decoded(data):
    return {key: base64.b64decode(value).decode("utf-8", "replace") for key, value in (data or {}).items()}


def container_environment(store, pod, container_name):
    """The container's environment as the kubelet builds it from the pod spec: envFrom (ConfigMaps, Secrets,
    with prefix; keys that are not valid names are skipped), then env (value, configMapKeyRef, secretKeyRef,
    fieldRef metadata.name/namespace/uid, status.podIP, spec.nodeName), read from the store at exec time."""
    metadata, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    namespace = metadata.get("namespace", "")
    containers = [c for key in ("containers", "initContainers", "ephemeralContainers") for c in spec.get(key) or []]
    container = next((c for c in containers if c.get("name") == container_name), {})

    def source(kind, name):
        obj = store.get(("", kind), namespace, name) or {}
        if kind == "secrets":
            return _decoded(obj.get("data"))
        return dict(obj.get("data") or {})

    env = {}
    for item in container.get("envFrom") or []:
        for kind, key in (("configmaps", "configMapRef"), ("secrets", "secretRef")):
            if item.get(key):
                for name, value in source(kind, item[key].get("name", "")).items():
                    name = (item.get("prefix") or "") + name
                    if _ENV_NAME.match(name):
                        env[name] = value
    fields = {"metadata.name": metadata.get("name", ""), "metadata.namespace": namespace,
              "metadata.uid": metadata.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
              "status.podIP": (pod.get("status") or {}).get("podIP", "")}
    for item in container.get("env") or []:
        value_from = item.get("valueFrom") or {}
        if "value" in item or not value_from:
            env[item["name"]] = item.get("value", "")
        elif value_from.get("fieldRef"):
            env[item["name"]] = fields.get(value_from["fieldRef"].get("fieldPath"), "")
        else:
            for kind, key in (("configmaps", "configMapKeyRef"), ("secrets", "secretKeyRef")):
                ref = value_from.get(key)
                if ref:
                    values = source(kind, ref.get("name", ""))
                    if ref.get("key") in values:
                        env[item["name"]] = values[ref["key"]]
    return env


def _is_websocket_upgrade(headers):
    connection = [part.strip().lower() for part in (headers.get("Connection") or "").split(",")]
    return "upgrade" in connection and (headers.get("Upgrade") or "").strip().lower() == "websocket"


def serve(handler, url):
    """Answer one pods/exec request on the KubeAPIHandler `handler` (already authorized for its method's verb)."""
    match = EXEC_PATH.match(url.path)
    namespace, name = match.group("namespace"), match.group("pod")
    if handler.command not in ("GET", "POST"):
        raise errors.method_not_allowed()
    if handler.command == "GET":
        # kube-apiserver 1.35+ (AuthorizePodWebsocketUpgradeCreatePermission, on by default): the WebSocket GET,
        # authorized as `get pods/exec` from its method, must be allowed to `create pods/exec` as well.
        handler._authorizer().check(handler.headers.get("Authorization"), "POST", url.path, handler.query)
    handler.server.counters.record("get" if handler.command == "GET" else "create", "", "pods", "exec", False)
    query = handler.query
    command = query.get("command") or []
    pod = handler.server.api.store.get(("", "pods"), namespace, name)
    if pod is None:
        raise errors.not_found("pods", name)
    container = _container(pod, name, (query.get("container") or [""])[-1])
    if not (pod.get("spec") or {}).get("nodeName"):
        raise errors.bad_request("pod %s does not have a host assigned" % name)
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    if phase != "Running":
        raise errors.bad_request("unable to upgrade connection: container %s of pod %s is not running (pod phase %s)"
                                 % (container, name, phase))
    stdin, stdout, stderr = (_truthy(query.get(key)) for key in ("stdin", "stdout", "stderr"))
    if _truthy(query.get("tty")):
        raise errors.bad_request("tty=true is not modelled by the Kubernetes API test server (no terminal, no resize)")
    if not (stdin or stdout or stderr):
        raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    if not command:
        raise errors.bad_request("you must specify at least 1 command")
    if not _is_websocket_upgrade(handler.headers):
        if (handler.headers.get("Upgrade") or "").lower().startswith("spdy"):
            raise errors.bad_request("Upgrade request required: SPDY is not modelled by the Kubernetes API test "
                                     "server, use a WebSocket (v5/v4.channel.k8s.io)")
        raise errors.bad_request("Upgrade request required")
    backend = _backends(handler.server).lookup(namespace, name, container)
    if backend is None:
        raise errors.ApiError(500, "InternalError",
                              "error dialing backend: the Kubernetes API test server runs pod exec in registered "
                              "backends only (PUT /_test/exec-backends/%s/%s/%s)" % (namespace, name, container))
    protocol = _handshake(handler)
    if protocol is None:
        return None
    session = _Session(handler, protocol, backend, name, command, stdin, stdout, stderr)
    session.container_env = container_environment(handler.server.api.store, pod, container)
    session.run()
    return None


def _offered_protocols(headers):
    offered = []
    for value in headers.get_all("Sec-WebSocket-Protocol") or []:
        offered += [part.strip() for part in value.split(",") if part.strip()]
    return offered


def _plain_answer(handler, code, reason, text):
    payload = text.encode()
    handler.send_response(code, reason)
    handler.send_header("Content-Type", "text/plain; charset=utf-8")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def _handshake(handler):
    """RFC 6455 server handshake; the negotiated sub-protocol, or None after answering a refusal."""
    headers = handler.headers
    key = (headers.get("Sec-WebSocket-Key") or "").strip()
    if (headers.get("Sec-WebSocket-Version") or "").strip() != "13" or not key:
        handler.send_response(400, "Bad Request")
        handler.send_header("Sec-WebSocket-Version", "13")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return None
    offered = _offered_protocols(headers) or [""]
    chosen = next((protocol for protocol in offered if protocol in PROTOCOLS), None)
    if chosen is None:
        supported = [p for p in PROTOCOLS if p]
        _plain_answer(handler, 403, "Forbidden", "requested protocol(s) are not supported: %s; supports %s"
                      % (offered, supported))
        return None
    accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept)
    if chosen:
        handler.send_header("Sec-WebSocket-Protocol", chosen)
    handler.end_headers()
    handler.wfile.flush()
    handler.close_connection = True
    return chosen


# ---- the WebSocket session: frames both ways, the process ------------------------------------------------------
class _Session:
    def __init__(self, handler, protocol, backend, pod, command, stdin, stdout, stderr):
        self.handler = handler
        self.base64, self.status_json = PROTOCOLS[protocol]
        self.v5 = protocol.startswith("v5.")
        self.backend, self.pod, self.command = backend, pod, command
        self.want_stdin, self.want_stdout, self.want_stderr = stdin, stdout, stderr
        self._send_lock = threading.Lock()
        self._closed = threading.Event()  # the client's close frame arrived or the connection broke
        self._close_sent = False
        self.process = None
        self.container_env = {}

    # frames
    def _send_frame(self, opcode, payload):
        if opcode == _OP_CLOSE:
            if self._close_sent:
                return  # RFC 6455 5.5.1: one close frame per side
            self._close_sent = True
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([length])
        elif length < 65536:
            header += bytes([126]) + struct.pack("!H", length)
        else:
            header += bytes([127]) + struct.pack("!Q", length)
        with self._send_lock:
            try:
                self.handler.wfile.write(header + payload)
                self.handler.wfile.flush()
            except OSError:
                self._closed.set()

    def send_channel(self, channel, data):
        if self.base64:
            self._send_frame(_OP_TEXT, str(channel).encode() + base64.b64encode(data))
        else:
            self._send_frame(_OP_BINARY, bytes([channel]) + data)

    def _read_exact(self, count):
        data = b""
        while len(data) < count:
            chunk = self.handler.rfile.read(count - len(data))
            if not chunk:
                raise ConnectionError("connection closed")
            data += chunk
        return data

    def _read_frame(self):
        first, second = self._read_exact(2)
        opcode, masked, length = first & 0x0F, second & 0x80, second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read_exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read_exact(8))[0]
        if not masked:  # RFC 6455 5.1: a server closes the connection on an unmasked client frame
            raise ValueError("unmasked client frame")
        mask = self._read_exact(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exact(length)))
        return bool(first & 0x80), opcode, payload

    def _reader(self):
        """Client frames: stdin data, v5's close signal, ping, close."""
        message, message_opcode = b"", None
        try:
            while not self._closed.is_set():
                fin, opcode, payload = self._read_frame()
                if opcode == _OP_CLOSE:
                    self._send_frame(_OP_CLOSE, payload[:2])
                    break
                if opcode == _OP_PING:
                    self._send_frame(_OP_PONG, payload)
                    continue
                if opcode == _OP_PONG:
                    continue
                if opcode != _OP_CONT:
                    message, message_opcode = b"", opcode
                message += payload
                if fin and message_opcode in (_OP_TEXT, _OP_BINARY):
                    self._client_message(message)
                    message = b""
        except ValueError:
            self._send_frame(_OP_CLOSE, struct.pack("!H", 1002))
        except (OSError, ConnectionError):
            pass
        finally:
            self._closed.set()
            self._close_stdin()

    def _client_message(self, message):
        if not message:
            return
        channel, data = message[0], message[1:]
        if self.base64:
            channel -= ord("0")
            try:
                data = base64.b64decode(data)
            except ValueError:
                return
        if channel == STDIN and self.want_stdin and data:
            try:
                self.process.stdin.write(data)
                self.process.stdin.flush()
            except (OSError, ValueError):
                pass
        elif channel == CLOSE and self.v5 and data[:1] == bytes([STDIN]):
            self._close_stdin()
        # RESIZE (4) and anything else: no terminal here, ignored

    def _close_stdin(self):
        if self.process is not None and self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def _pump(self, stream, channel, wanted):
        while True:
            data = os.read(stream.fileno(), 32768)
            if not data:
                return
            if wanted and not self._closed.is_set():
                self.send_channel(channel, data)

    # the process
    def _environment(self, workdir):
        directories = [d for d in (self.backend["path"] or "").split(os.pathsep) if d]
        env = {"PATH": os.pathsep.join(directories + [SYSTEM_PATH]), "HOME": workdir, "HOSTNAME": self.pod,
               "LANG": "C.UTF-8"}
        env.update(self.container_env)
        env.update(self.backend["env"])
        return env

    def _which(self, env):
        program = self.command[0]
        if "/" in program:
            return program if os.access(program, os.X_OK) else None
        return shutil.which(program, path=env["PATH"])

    def run(self):
        workdir = tempfile.mkdtemp(prefix="kubeapi-exec-")
        try:
            self._run(workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, workdir):
        env = self._environment(workdir)
        executable = self._which(env)
        reader = None
        if executable is None:
            # What runc answers through the runtime: an InternalError Status, no exit code.
            status = {"metadata": {}, "status": "Failure", "reason": "InternalError", "code": 500,
                      "message": 'Internal error occurred: error executing command in container: failed to exec in '
                                 'container: OCI runtime exec failed: exec failed: unable to start container '
                                 'process: exec: "%s": executable file not found in $PATH: unknown' % self.command[0],
                      "details": {"causes": [{"message": 'exec: "%s": executable file not found in $PATH'
                                              % self.command[0]}]}}
            return self._finish(status)
        self.process = subprocess.Popen([executable] + self.command[1:], cwd=workdir, env=env,
                                        stdin=subprocess.PIPE if self.want_stdin else subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        reader = threading.Thread(target=self._reader, name="kubeapi-exec-reader", daemon=True)
        reader.start()
        pumps = [threading.Thread(target=self._pump, args=(self.process.stdout, STDOUT, self.want_stdout), daemon=True),
                 threading.Thread(target=self._pump, args=(self.process.stderr, STDERR, self.want_stderr), daemon=True)]
        for pump in pumps:
            pump.start()
        deadline = time.monotonic() + float(self.backend["timeout"])
        while True:
            try:
                code = self.process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if self._closed.is_set() or time.monotonic() > deadline:  # the client went away, or too long
                    self._kill()
        for pump in pumps:
            pump.join(timeout=5)
        if code < 0:  # killed by a signal: a container runtime reports 128 + n
            code = 128 - code
        if code == 0:
            status = {"metadata": {}, "status": "Success"}
        else:
            argv = "[%s]" % " ".join(self.command)
            status = {"metadata": {}, "status": "Failure",
                      "message": "command terminated with non-zero exit code: error executing command %s, exit code %d"
                                 % (argv, code),
                      "reason": "NonZeroExitCode",
                      "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
        self._finish(status, reader)
        return None

    def _kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _finish(self, status, reader=None):
        if self.status_json:
            self.send_channel(ERROR, json.dumps(status, separators=(",", ":")).encode())
        elif status["status"] != "Success":
            self.send_channel(ERROR, status["message"].encode())
        self._send_frame(_OP_CLOSE, struct.pack("!H", 1000))
        if reader is None:
            reader = threading.Thread(target=self._reader, name="kubeapi-exec-reader", daemon=True)
            reader.start()
        self._closed.wait(5)  # the client answers the close frame
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self.process is not None and self.process.poll() is None:
            self._kill()


# ---- /_test/exec-backends ----------------------------------------------------------------------------------------
def serve_registration(handler, path, raw):
    """GET /_test/exec-backends; PUT|DELETE /_test/exec-backends/<ns>/<pod>/<container> ({"path", "env", "timeout"})."""
    match = REGISTRATION_PATH.match(path)
    if match is None:
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})
    backends = _backends(handler.server)
    if match.group("namespace") is None:
        if handler.command != "GET":
            raise errors.method_not_allowed()
        return handler._send_json(200, {"backends": backends.snapshot()})
    key = (match.group("namespace"), match.group("pod"), match.group("container"))
    if handler.command == "DELETE":
        return handler._send_json(200, {"unregistered": backends.unregister(*key)})
    if handler.command != "PUT":
        raise errors.method_not_allowed()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise errors.bad_request('body must be {"path": "/dir[:/dir]", "env": {...}, "timeout": seconds}')
    search_path = body.get("path") or ""
    env = body.get("env") or {}
    timeout = body.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(search_path, str) or any(not os.path.isabs(d) for d in search_path.split(os.pathsep) if d):
        raise errors.bad_request("path must be absolute directories joined by %r" % os.pathsep)
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise errors.bad_request("env must map names to strings")
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
        raise errors.bad_request("timeout must be a number of seconds in (0, 3600]")
    backends.register(*key, entry={"path": search_path, "env": dict(env), "timeout": timeout})
    return handler._send_json(200, {"registered": {"namespace": key[0], "pod": key[1], "container": key[2],
                                                   "path": search_path, "timeout": timeout}})
