# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP requests to a Service through the Kubernetes API server's service proxy (or to an explicit URL).

``request_via_proxy()`` sends ``<METHOD> /api/v1/namespaces/<ns>/services/<scheme>:<name>:<port>/proxy/<path>``
with the ApiClient that kubernetes.core's ``get_api_client()`` built (``KubeClient.from_module``): the same
host, TLS settings, client certificates, HTTP proxy and bearer token (refreshed by the kubeconfig's
exec/OIDC hooks) as every kubernetes.core module. kubernetes.core has no module for the service proxy, and
the kubernetes client's generated ``connect_*_namespaced_service_proxy_with_path`` calls take no request
body, query string or headers and raise on any non-2xx answer; so the request is sent here through that
ApiClient's connection pool, and the answer is read whole.

What came back is sorted into two outcomes:

* the backend answered (any status: it is the service's own answer) -> ``ServiceResponse``;
* the service was not reached -> ``Unreachable`` with a ``not reachable: <why>`` message: the API server
  did not answer (connection, TLS, timeout), refused the proxy request (401/403 Status), has no such
  Service (404 Status naming services), or could not reach an endpoint (503 ServiceUnavailable Status: no
  ready endpoint, the backend refused the connection).

``request_url()`` does the same for an explicit URL (``ansible.module_utils.urls``), so a caller treats both
paths alike and reports how it reached the service (``via``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import Request

try:
    import urllib3

    HAS_URLLIB3 = True
except ImportError:  # kubernetes depends on urllib3; check_requirements() reports a missing kubernetes first
    HAS_URLLIB3 = False

READ_METHODS = ("GET", "HEAD")
CONTENT_EXCERPT = 300  # characters of an answer quoted in messages


class Unreachable(Exception):
    """The service was not reached; str() is ``not reachable: <why>``."""

    def __init__(self, why, status=None):
        super(Unreachable, self).__init__("not reachable: %s" % why)
        self.why = why
        self.status = status


class ServiceResponse(object):
    """The backend's answer: status, headers (lower-cased names), text, JSON (None when not JSON)."""

    def __init__(self, status, headers, raw, elapsed_ms, via):
        self.status = int(status)
        self.headers = dict((to_native(k).lower(), to_native(v)) for k, v in (headers or {}).items())
        self.content = to_text(raw or b"", errors="surrogate_or_replace")
        self.elapsed_ms = elapsed_ms
        self.via = via
        self.json = None
        if self.content:
            try:
                self.json = json.loads(self.content)
            except ValueError:
                pass

    def excerpt(self):
        text = " ".join(self.content.split())
        return text if len(text) <= CONTENT_EXCERPT else text[:CONTENT_EXCERPT] + "..."

    def as_dict(self):
        return {"status": self.status, "headers": self.headers, "content": self.content, "json": self.json,
                "elapsed_ms": self.elapsed_ms, "via": self.via}


def service_id(service, port="", scheme=""):
    """``[scheme:]name[:port]`` as the API server parses it (two parts are always name:port)."""
    port = to_native(port or "")
    if scheme:
        return "%s:%s:%s" % (scheme, service, port)
    return "%s:%s" % (service, port) if port else service


def proxy_path(namespace, service, port="", scheme="", path="/"):
    """The API path of the service proxy for path (which keeps its slashes; every other part is quoted)."""
    return "/api/v1/namespaces/%s/services/%s/proxy/%s" % (
        quote(namespace, safe=""), quote(service_id(service, port, scheme), safe=":"),
        quote((path or "/").lstrip("/"), safe="/:@!$&'()*+,;=-._~%"))


def describe_proxy(namespace, service, port="", scheme=""):
    target = "%s/%s" % (namespace, service) + (":%s" % port if port else "")
    return "service proxy %s%s" % (target, " (%s)" % scheme if scheme == "https" else "")


def encode_body(body, body_format, headers):
    """(bytes or None, headers) for a body given as data (json) or text/bytes (raw)."""
    headers = dict(headers or {})
    if body is None:
        return None, headers
    names = dict((key.lower(), key) for key in headers)
    if body_format == "json":
        if "content-type" not in names:
            headers["Content-Type"] = "application/json"
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    else:
        data = body if isinstance(body, (bytes, str)) else to_native(body)
    return (data.encode("utf-8") if not isinstance(data, bytes) else data), headers


def _api_status(raw):
    """A kube ``Status`` object in an API server answer, else None."""
    try:
        status = json.loads(to_text(raw or b""))
    except ValueError:
        return None
    if isinstance(status, dict) and status.get("kind") == "Status" and status.get("apiVersion") == "v1":
        return status
    return None


def proxy_failure(status, raw, namespace, service):
    """The reason the API server did not reach the service (``Unreachable`` text), or None for a backend answer.

    Only Status objects shaped as the API server's own errors count: a backend that answers 404 or 503 in
    its own words is an answer, checked by the caller like any other.
    """
    api_status = _api_status(raw)
    if api_status is None or api_status.get("status") != "Failure":
        return None
    message = api_status.get("message") or api_status.get("reason") or ""
    if status in (401, 403):
        return "the API server refused the proxy request to Service %s/%s (HTTP %d %s: %s)" % (
            namespace, service, status, api_status.get("reason", ""), message)
    details = api_status.get("details") or {}
    if status == 404 and details.get("kind") == "services":
        return "Service %s/%s not found (HTTP 404 from the API server: %s)" % (namespace, service, message)
    if status == 503 and api_status.get("reason") == "ServiceUnavailable":
        return "%s (HTTP 503 from the API server for Service %s/%s)" % (message, namespace, service)
    if status == 400 and api_status.get("reason") == "BadRequest":
        return "the API server refused the proxy request to Service %s/%s (HTTP 400: %s)" % (namespace, service, message)
    return None


def request_via_proxy(kube_client, namespace, service, port="", path="/", method="GET", scheme="", query=None,
                      body=None, headers=None, timeout=30, connect_timeout=10):
    """Send one request to a Service through the API server -> ServiceResponse; raises Unreachable.

    kube_client is a ``kube.KubeClient``; timeout bounds each read (seconds), connect_timeout the connection
    to the API server.
    """
    api_client = kube_client.dynamic.client  # kubernetes.client.ApiClient, configured by kubernetes.core
    configuration = api_client.configuration
    url = configuration.host.rstrip("/") + proxy_path(namespace, service, port, scheme, path)
    if query:
        url += "?" + urlencode(sorted((k, v) for k, v in query.items()), doseq=True)
    request_headers = dict(api_client.default_headers)
    request_headers.setdefault("Accept", "*/*")
    request_headers.update(headers or {})
    api_client.update_params_for_auth(request_headers, [], ["BearerToken"])
    via = describe_proxy(namespace, service, port, scheme)
    started = time.time()
    try:
        answer = api_client.rest_client.pool_manager.request(
            method, url, body=body, headers=request_headers, preload_content=True, retries=False, redirect=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=timeout))
    except urllib3.exceptions.TimeoutError as e:
        raise Unreachable("no answer from the API server %s within %s s for Service %s/%s (%s)"
                          % (configuration.host, timeout, namespace, service, to_native(e)))
    except urllib3.exceptions.HTTPError as e:
        raise Unreachable("the API server %s did not answer: %s" % (configuration.host, to_native(e)))
    elapsed_ms = int((time.time() - started) * 1000)
    raw = answer.data
    why = proxy_failure(answer.status, raw, namespace, service)
    if why:
        raise Unreachable(why, answer.status)
    return ServiceResponse(answer.status, answer.headers, raw, elapsed_ms, via)


def request_url(url, path="/", method="GET", query=None, body=None, headers=None, timeout=30, validate_certs=True):
    """The same request to an explicit base URL (port-forward, ingress) -> ServiceResponse; raises Unreachable."""
    target = url.rstrip("/") + "/" + (path or "/").lstrip("/")
    if query:
        target += ("&" if "?" in target else "?") + urlencode(sorted((k, v) for k, v in query.items()), doseq=True)
    started = time.time()
    try:
        answer = Request().open(method, target, data=body, headers=headers or {}, timeout=timeout,
                                validate_certs=validate_certs, follow_redirects="safe")
        status, answer_headers, raw = answer.getcode(), dict(answer.headers.items()), answer.read()
    except HTTPError as e:  # an HTTP answer with an error status: the service's own answer
        status, answer_headers = e.code, dict(e.headers.items()) if e.headers else {}
        raw = e.read() if hasattr(e, "read") else b""
    except (URLError, socket.error, ValueError) as e:
        raise Unreachable("%s did not answer: %s" % (url, to_native(getattr(e, "reason", e))))
    return ServiceResponse(status, answer_headers, raw, int((time.time() - started) * 1000), "url %s" % url)
