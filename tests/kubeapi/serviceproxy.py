"""The service proxy: /api/v1/namespaces/<ns>/services/<[scheme:]name[:port]>/proxy/<path>.

kube-apiserver resolves the Service, its port and a ready endpoint address, then forwards the request there
and passes the backend's status, headers and body back. Here the "pod network" is a table of real local
servers that tests register per Service port (``PUT /_test/service-backends/<ns>/<service>/<port>``); an
Endpoints address on loopback is dialled as well. Nothing else is ever dialled: a simulated pod IP answers
the 503 kube-apiserver gives for an unreachable endpoint.
"""
import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading

from . import errors

PROXY_PATH = re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/services/(?P<id>[^/]+)/proxy(?P<path>/.*)?$")
REGISTRATION_PATH = re.compile(r"^/_test/service-backends(?:/(?P<namespace>[^/]+)/(?P<service>[^/]+)/(?P<port>[^/]+))?$")
# RBAC verbs of the services/proxy subresource per HTTP method (what the counters record).
VERBS = {"GET": "get", "HEAD": "get", "OPTIONS": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
         "DELETE": "delete"}
# Hop-by-hop headers (RFC 7230 6.1) never cross a proxy; Authorization and Impersonate-* are removed by
# kube-apiserver's authentication filter once the request is authenticated, so backends never see them.
_DROPPED_REQUEST = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                    "transfer-encoding", "upgrade", "host", "content-length", "authorization"}
_DROPPED_RESPONSE = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                     "transfer-encoding", "upgrade", "content-length"}
BACKEND_TIMEOUT = 300  # seconds for connect and each read (kube-apiserver treats proxy requests as long-running)


def is_proxy_path(path):
    return PROXY_PATH.match(path) is not None


class ServiceBackends:
    """(namespace, service, port) -> (host, port) of a real local server; port is a Service port name or number."""

    def __init__(self):
        self._lock = threading.Lock()
        self._table = {}

    def register(self, namespace, service, port, host, target_port):
        with self._lock:
            self._table[(namespace, service, str(port))] = (host, int(target_port))

    def unregister(self, namespace, service, port):
        with self._lock:
            return self._table.pop((namespace, service, str(port)), None) is not None

    def lookup(self, namespace, service, service_port):
        """The backend registered for this Service port (by its number or by its name), or None."""
        keys = [str(service_port.get("port"))] + ([service_port["name"]] if service_port.get("name") else [])
        with self._lock:
            for key in keys:
                found = self._table.get((namespace, service, key))
                if found:
                    return found
        return None

    def snapshot(self):
        with self._lock:
            return [{"namespace": ns, "service": svc, "port": port, "target": "%s:%d" % target}
                    for (ns, svc, port), target in sorted(self._table.items())]


def _is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def split_scheme_name_port(service_id):
    """kube's SplitSchemeNamePort: name, name:port or scheme:name:port (scheme "", http or https)."""
    parts = service_id.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        raise errors.bad_request('invalid service request "%s"' % service_id)
    if not name or scheme not in ("", "http", "https"):
        raise errors.bad_request('invalid service request "%s"' % service_id)
    return scheme or "http", name, port


def _unavailable(message):
    return errors.ApiError(503, "ServiceUnavailable", message)


def resolve(api, backends, namespace, service_id):
    """(scheme, host, port) the request goes to, or the ApiError kube-apiserver answers instead."""
    scheme, name, port = split_scheme_name_port(service_id)
    service = api.store.get(("", "services"), namespace, name)
    if service is None:
        raise errors.not_found("services", name)
    ports = (service.get("spec") or {}).get("ports") or []
    port_name = port
    if port.isdigit():  # a port number is the Service port of that number, known to endpoints by its name
        matching = [p for p in ports if str(p.get("port")) == port]
        if not matching:
            raise _unavailable('no service port %s found for service "%s"' % (port, name))
        port_name = matching[0].get("name") or ""
    service_port = next((p for p in ports if (p.get("name") or "") == port_name), None)
    if service_port is not None:
        registered = backends.lookup(namespace, name, service_port)
        if registered:
            return scheme, registered[0], registered[1]
    endpoints = api.store.get(("", "endpoints"), namespace, name) or {}
    for subset in endpoints.get("subsets") or []:
        for endpoint_port in subset.get("ports") or []:
            if (endpoint_port.get("name") or "") != port_name:
                continue
            for address in subset.get("addresses") or []:  # ready addresses only (notReadyAddresses are not used)
                ip, target = address.get("ip", ""), endpoint_port.get("port")
                if _is_loopback(ip):
                    return scheme, ip, int(target)
                raise _unavailable(
                    "error trying to reach service: dial tcp %s:%s: the Kubernetes API test server dials loopback "
                    "backends only (register one with PUT /_test/service-backends/%s/%s/%s)"
                    % (ip, target, namespace, name, port or port_name))
    raise _unavailable('no endpoints available for service "%s"' % name)


def _forward(handler, scheme, host, port, path, query, raw):
    if scheme == "https":  # kube-apiserver does not verify the certificates of proxied backends
        connection = http.client.HTTPSConnection(host, port, timeout=BACKEND_TIMEOUT,
                                                 context=ssl._create_unverified_context())  # noqa: S323
    else:
        connection = http.client.HTTPConnection(host, port, timeout=BACKEND_TIMEOUT)
    headers = {}
    for key, value in handler.headers.items():
        lowered = key.lower()
        if lowered in _DROPPED_REQUEST or lowered.startswith("impersonate-"):
            continue
        headers[key] = value
    headers["Host"] = "%s:%d" % (host, port)
    headers["X-Forwarded-For"] = handler.client_address[0]
    if raw or handler.command in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(raw))
    target = path + ("?" + query if query else "")
    try:
        connection.request(handler.command, target, body=raw or None, headers=headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise _unavailable("error trying to reach service: dial tcp %s:%d: %s" % (host, port, _describe(exc)))
    connection.close()
    handler.send_response(response.status, response.reason)
    for key, value in response.getheaders():
        if key.lower() not in _DROPPED_RESPONSE:
            handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def _describe(exc):
    if isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    if isinstance(exc, socket.timeout):
        return "i/o timeout"
    return str(exc) or type(exc).__name__


def serve(handler, url, raw):
    """Answer one proxy request on the KubeAPIHandler `handler`."""
    match = PROXY_PATH.match(url.path)
    namespace = match.group("namespace")
    verb = VERBS.get(handler.command)
    if verb is None:
        raise errors.method_not_allowed()
    handler.server.counters.record(verb, "", "services", "proxy", False)
    scheme, host, port = resolve(handler.server.api, handler.server.service_backends, namespace, match.group("id"))
    _forward(handler, scheme, host, port, match.group("path") or "/", url.query, raw)


def serve_registration(handler, path, raw):
    """GET /_test/service-backends; PUT|DELETE /_test/service-backends/<ns>/<service>/<port> ({"target": "127.0.0.1:N"})."""
    match = REGISTRATION_PATH.match(path)
    if match is None:
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})
    backends = handler.server.service_backends
    if match.group("namespace") is None:
        if handler.command != "GET":
            raise errors.method_not_allowed()
        return handler._send_json(200, {"backends": backends.snapshot()})
    key = (match.group("namespace"), match.group("service"), match.group("port"))
    if handler.command == "DELETE":
        return handler._send_json(200, {"unregistered": backends.unregister(*key)})
    if handler.command != "PUT":
        raise errors.method_not_allowed()
    try:
        target = json.loads(raw or b"{}").get("target", "")
        host, _sep, target_port = target.rpartition(":")
        target_port = int(target_port)
    except (ValueError, AttributeError):
        raise errors.bad_request('body must be {"target": "127.0.0.1:<port>"}')
    if not _is_loopback(host) or not 0 < target_port < 65536:
        raise errors.bad_request("target %r: only loopback backends (127.0.0.0/8, ::1) can be registered" % target)
    backends.register(*key, host=host, target_port=target_port)
    return handler._send_json(200, {"registered": {"namespace": key[0], "service": key[1], "port": key[2],
                                                   "target": "%s:%d" % (host, target_port)}})
