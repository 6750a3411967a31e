"""HTTP front end: URL routing, request decoding, JSON/watch responses, request counting."""
import json
import re
import sys
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import yaml

from . import errors, faults, podexec, serviceproxy
from .api import WriteOptions
from . import protobuf
from . import rbac
from .discovery import (VERSION_INFO, api_versions, openapi_v2_protobuf, openapi_v3_group_version,
                        openapi_v3_root)
from .selectors import ObjectFilter
from .store import ResourceVersionTooOld

_RESOURCE_PATH = re.compile(r"^/(?:api/(?P<core_version>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
                            r"(?:/(?P<rest>.*))?$")


@dataclass
class ResourceRequest:
    resource_type: object
    namespace: str
    name: str
    subresource: str
    legacy_watch: bool


def _truthy(value):
    return (value or "").lower() in ("true", "1")


class KubeAPIHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubeapi-test"
    _answer_type = protobuf.JSON  # the media type of answers; resource requests negotiate their own

    # The server object carries: api (KubeAPI), counters (RequestCounters), stopping (threading.Event).
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by BaseHTTPRequestHandler
        log = getattr(self.server, "access_log", None)
        if log is not None:
            log.write("%s %s\n" % (self.log_date_time_string(), format % args))
            log.flush()

    # ---- plumbing --------------------------------------------------------------------------------
    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, code, body, warnings=()):
        """Answer `body` as JSON, or as the YAML or protobuf a resource request negotiated (_answer_type)."""
        media_type = self._answer_type
        if media_type == protobuf.PROTOBUF:
            payload = protobuf.encode_object(body)
        elif media_type == protobuf.YAML:
            payload = yaml.safe_dump(body, sort_keys=False).encode()
        else:
            payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", media_type)
        for warning in warnings:
            # RFC 7234 warning header as kube-apiserver sends it: 299 - "<text>"
            self.send_header("Warning", '299 - "%s"' % warning.replace('"', '\\"'))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _json_body(self, raw):
        if not raw:
            return None
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == protobuf.PROTOBUF:
            return protobuf.decode_object(raw)  # client-go's typed clients (kubectl create, helm)
        if content_type in ("application/yaml", "application/x-yaml"):
            try:
                return yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise errors.bad_request(f"error decoding YAML: {exc}")
        if content_type not in ("", "application/json", "*/*"):
            raise errors.unsupported_media_type(["application/json", "application/yaml"])
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}")

    def _param(self, name, default=""):
        values = self.query.get(name)
        return values[-1] if values else default

    def _write_options(self, dry_run):
        validation = self._param("fieldValidation") or "Warn"
        if validation not in ("Ignore", "Warn", "Strict"):
            raise errors.bad_request(f'fieldValidation parameter unsupported: "{validation}"')
        return WriteOptions(dry_run=dry_run, manager=self._field_manager(),
                            manager_given=bool(self._param("fieldManager")), field_validation=validation,
                            force=_truthy(self._param("force")))

    def _field_manager(self):
        manager = self._param("fieldManager")
        if manager:
            return manager
        agent = self.headers.get("User-Agent") or "unknown"
        return agent.split("/")[0] or "unknown"

    # ---- dispatch --------------------------------------------------------------------------------
    def _dispatch(self):
        self._answer_type = protobuf.JSON  # until a resource request negotiates its Accept header
        url = urlsplit(self.path)
        self.query = parse_qs(url.query, keep_blank_values=True)
        raw = self._raw_body = self._read_body()
        try:
            if url.path.startswith("/_test/service-backends"):
                return serviceproxy.serve_registration(self, url.path, raw)
            if url.path.startswith("/_test/exec-backends"):
                return podexec.serve_registration(self, url.path, raw)
            if url.path.startswith("/_test/"):
                return self._test_endpoint(url.path, raw)
            self._authorizer().check(self.headers.get("Authorization"), self.command, url.path, self.query)
            if serviceproxy.is_proxy_path(url.path):
                return serviceproxy.serve(self, url, raw)
            if podexec.is_exec_path(url.path):
                return podexec.serve(self, url)
            request = self._route_resource(url.path)
            if request is None:
                return self._discovery(url.path)
            faults.serve_resource(self, request, raw, self._serve_resource)
            if request.resource_type.key == ("", "secrets") and self.command in ("POST", "PUT", "PATCH"):
                self._authorizer().fill_tokens(request.namespace)  # the token controller, after the write
        except errors.ApiError as exc:
            self._send_json(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # a server bug: answer like kube-apiserver's 500 and keep the traceback
            traceback.print_exc(file=sys.stderr)
            try:
                self._send_json(500, errors.ApiError(500, "InternalError", f"Internal error occurred: {exc!r}",
                                                     {"causes": [{"message": repr(exc)}]}).status())
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch  # noqa: N815 - http.server's naming

    def _authorizer(self):
        authorizer = getattr(self.server, "authorizer", None)
        if authorizer is None:  # one per server, created on first use (rbac.py: token users' RBAC)
            authorizer = self.server.authorizer = rbac.Authorizer(self.server.api)
        return authorizer

    def _test_endpoint(self, path, raw=b""):
        if path == "/_test/tokens" or path.startswith("/_test/rbac/"):
            answer = self._authorizer().test_endpoint(self.command, path, self._json_body(raw) if raw else None)
            if answer is not None:
                return self._send_json(*answer)
        counters = self.server.counters
        if faults.test_endpoint(self, path, self._json_body(self._raw_body) if self.command == "POST" else None):
            return None
        if path == "/_test/requests" and self.command == "GET":
            return self._send_json(200, counters.snapshot())
        if path == "/_test/requests/reset" and self.command == "POST":
            counters.reset()
            return self._send_json(200, {"reset": True})
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _discovery(self, path):
        if self.command != "GET":
            raise errors.method_not_allowed()
        self.server.counters.record("discovery", resource=path)
        registry = self.server.api.registry
        path = path.rstrip("/") or "/"
        if path == "/version":
            return self._send_json(200, VERSION_INFO)
        if path in ("/healthz", "/livez", "/readyz"):
            payload = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return None
        if path == "/api":
            host = self.headers.get("Host") or "%s:%s" % self.server.server_address[:2]
            return self._send_json(200, api_versions(host))
        if path == "/apis":
            return self._send_json(200, registry.api_group_list())
        if path == "/openapi/v2":
            payload = openapi_v2_protobuf()
            self.send_response(200)
            self.send_header("Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return None
        if path == "/openapi/v3":
            return self._send_json(200, openapi_v3_root(registry))
        match = re.match(r"^/openapi/v3/(?:api/(v1)|apis/([^/]+)/([^/]+))$", path)
        if match:
            group, version = (match.group(2) or ""), (match.group(1) or match.group(3))
            if registry.api_resource_list(group, version) is not None:
                return self._send_json(200, openapi_v3_group_version(registry, group, version))
        match = _RESOURCE_PATH.match(path)
        if match:
            group = match.group("group") or ""
            listing = registry.api_resource_list(group, match.group("core_version") or match.group("version"))
            if listing is not None:
                return self._send_json(200, listing)
        match = re.match(r"^/apis/([^/]+)$", path)
        if match and registry.api_group(match.group(1)):
            return self._send_json(200, registry.api_group(match.group(1)))
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _route_resource(self, path):
        """Parse /api/v1/... and /apis/<g>/<v>/... resource paths; None for discovery documents."""
        match = _RESOURCE_PATH.match(path)
        if not match:
            return None
        group = match.group("group") or ""
        version = match.group("core_version") or match.group("version")
        rest = [p for p in (match.group("rest") or "").split("/") if p]
        if not rest:
            return None  # /api/v1, /apis/<group>/<version>: an APIResourceList
        legacy_watch = rest[0] == "watch"
        if legacy_watch:
            rest = rest[1:]
        namespace = ""
        # /namespaces/<ns>/<plural>/... is namespaced; /namespaces/<name>[/status|finalize] is a Namespace.
        if len(rest) >= 3 and rest[0] == "namespaces" and not (
                group == "" and len(rest) == 3 and rest[2] in ("status", "finalize")):
            namespace, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else ""
        subresource = rest[2] if len(rest) > 2 else ""
        resource_type = self.server.api.registry.find(group, version, plural)
        if resource_type is None or (namespace and not resource_type.namespaced):
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if subresource:
            allowed = (resource_type.has_status and subresource == "status"
                       or resource_type.scale and subresource == "scale"
                       or resource_type.key == ("", "namespaces") and subresource == "finalize")
            if not allowed:
                raise errors.ApiError(404, "NotFound", "the server could not find the requested resource", {})
            if subresource == "finalize":
                subresource = "status"  # only spec.finalizers matters, which we never hold deletion on
        return ResourceRequest(resource_type, namespace, name, subresource, legacy_watch)

    # ---- resource verbs ----------------------------------------------------------------------------
    def _serve_resource(self, request, raw):
        api = self.server.api
        rtype, namespace, name, sub = request.resource_type, request.namespace, request.name, request.subresource
        dry_run = "All" in self.query.get("dryRun", [])
        counters = self.server.counters
        method = self.command
        if rtype.namespaced and not namespace and method != "GET":
            # The all-namespaces collection of a namespaced type is read-only.
            raise errors.method_not_allowed()

        def count(verb, is_dry_run=False):
            counters.record(verb, rtype.group, rtype.plural, sub, is_dry_run)

        watching = method == "GET" and (request.legacy_watch or _truthy(self._param("watch")))
        if sub in ("", "status", "scale"):
            # An object's media type, negotiated before anything is read or written: a 406 changes nothing
            # (errors after it are answered in it too). Other subresources (proxy, ...) are not objects.
            offered = protobuf.offered_types(rtype, watching) if sub != "scale" else [protobuf.JSON, protobuf.YAML]
            self._answer_type = protobuf.negotiate(self.headers.get("Accept"), offered, streaming=watching)
        if sub == "scale":
            return self._serve_scale(rtype, namespace, name, raw, dry_run, count)

        if method == "GET":
            if watching:
                count("watch")
                field_selector = self._param("fieldSelector")
                if name:  # legacy /watch/.../<name>
                    field_selector = ",".join(filter(None, [field_selector, f"metadata.name={name}"]))
                return self._watch(rtype, namespace or None, self._param("labelSelector"), field_selector)
            if name:
                count("get")
                return self._send_json(200, api.get(rtype, namespace, name))
            count("list")
            return self._send_json(200, api.list(rtype, namespace or None, self._param("labelSelector"),
                                                 self._param("fieldSelector")))
        if method == "POST":
            count("create", dry_run)
            if name:
                raise errors.method_not_allowed()
            body = self._json_body(raw)
            options = self._write_options(dry_run)
            return self._send_json(201, api.create(rtype, namespace, body, options), options.warnings)
        if method == "PUT":
            count("update", dry_run)
            if not name:
                raise errors.method_not_allowed()
            body = self._json_body(raw)
            options = self._write_options(dry_run)
            return self._send_json(200, api.replace(rtype, namespace, name, body, sub, options), options.warnings)
        if method == "PATCH":
            count("patch", dry_run)
            if not name:
                raise errors.method_not_allowed()
            existed = api.store.get(rtype.key, namespace if rtype.namespaced else "", name) is not None
            options = self._write_options(dry_run)
            result = api.patch(rtype, namespace, name, self.headers.get("Content-Type"), raw, sub, options)
            return self._send_json(200 if existed else 201, result, options.warnings)
        if method == "DELETE":
            options = self._json_body(raw) or {}
            if not isinstance(options, dict):
                raise errors.bad_request("DeleteOptions must be an object")
            dry_run = dry_run or "All" in (options.get("dryRun") or [])
            if self._param("propagationPolicy"):
                options["propagationPolicy"] = self._param("propagationPolicy")
            if not name:
                count("deletecollection", dry_run)
                return self._send_json(200, api.delete_collection(
                    rtype, namespace or None, self._param("labelSelector"), self._param("fieldSelector"),
                    options, dry_run))
            count("delete", dry_run)
            return self._send_json(200, api.delete(rtype, namespace, name, options, dry_run))
        raise errors.method_not_allowed()

    def _serve_scale(self, rtype, namespace, name, raw, dry_run, count):
        api = self.server.api
        if self.command == "GET":
            count("get")
            return self._send_json(200, api.get_scale(rtype, namespace, name))
        if self.command == "PUT":
            count("update", dry_run)
            return self._send_json(200, api.replace_scale(rtype, namespace, name, self._json_body(raw),
                                                          self._write_options(dry_run)))
        if self.command == "PATCH":
            count("patch", dry_run)
            return self._send_json(200, api.patch_scale(rtype, namespace, name, self.headers.get("Content-Type"),
                                                        raw, self._write_options(dry_run)))
        raise errors.method_not_allowed()

    # ---- watch -----------------------------------------------------------------------------------
    def _write_chunk(self, payload):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.wfile.flush()

    def _send_event(self, event_type, obj):
        self._write_chunk(json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n")

    def _watch(self, rtype, namespace, label_selector, field_selector):
        api = self.server.api
        selector = ObjectFilter(namespace if rtype.namespaced else None, label_selector, field_selector)
        timeout = float(self._param("timeoutSeconds") or 0) or 1800  # 0/absent: the server's own limit
        deadline = time.monotonic() + timeout
        requested = self._param("resourceVersion")
        generation = faults.watch_started(self.server)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if requested in ("", "0"):
            items, revision = api.store.list(rtype.key, selector.matches)
            for item in items:
                self._send_event("ADDED", api._present(rtype, item))
        else:
            try:
                revision = int(requested)
            except ValueError:
                revision = -1
            if revision < 0:
                self._send_event("ERROR", errors.bad_request(f"invalid resource version: {requested}").status())
                self._write_chunk(b"")
                return
        while not self.server.stopping.is_set():
            if faults.watch_dropped(self.server, generation):
                return faults.break_watch(self)
            try:
                events = api.store.events_after(revision)
            except ResourceVersionTooOld:
                self._send_event("ERROR", errors.gone(
                    f"too old resource version: {revision} ({api.store.revision})").status())
                break
            for event in events:
                revision = event.resource_version
                if event.type_key != rtype.key:
                    continue
                event_type = self._visible_event(event, selector)
                if event_type:
                    self._send_event(event_type, api._present(rtype, dict(event.obj)))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            api.store.wait_for_change(revision, min(remaining, 1.0))
        self._write_chunk(b"")

    @staticmethod
    def _visible_event(event, selector):
        """What a filtered watcher sees: objects entering the selection are ADDED, leaving it DELETED."""
        now_matches = selector.matches(event.obj)
        if event.event_type == "DELETED":
            return "DELETED" if now_matches else None
        before_matches = event.old is not None and selector.matches(event.old)
        if now_matches and before_matches:
            return "MODIFIED"
        if now_matches:
            return "ADDED"
        if before_matches:
            return "DELETED"
        return None
