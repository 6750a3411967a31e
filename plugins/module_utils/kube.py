# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes access for lakehouse.platform modules.

Three layers, like kubernetes.core:

* auth + client: ``kube_argument_spec()`` and ``KubeClient.from_module()`` reuse kubernetes.core's
  ``AUTH_ARG_SPEC`` and ``get_api_client()`` (module params, then ``K8S_AUTH_*`` environment, then
  kubeconfig, then in-cluster), so auth behaves exactly like kubernetes.core.k8s.
* service: ``ensure()``, ``ensure_secret()`` and ``delete()`` decide *whether* to write by comparing the
  desired fields with the live object, and write through merge patches (or not at all in check mode,
  where only ``dryRun=All`` requests are sent).
* waiting lives in ``waiter.py``; ``delete(wait=True)`` uses it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import os
import random
import socket
import threading
import time
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_native, to_text

try:
    from kubernetes.dynamic.exceptions import (
        DynamicApiError,
        GoneError,
        NotFoundError,
        ResourceNotFoundError,
        ResourceNotUniqueError,
    )
    from kubernetes.watch.watch import iter_resp_lines

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

    # Placeholders so that the except clauses below stay valid; check_requirements() fails first.
    class DynamicApiError(Exception):
        pass

    class GoneError(DynamicApiError):
        pass

    class NotFoundError(DynamicApiError):
        pass

    class ResourceNotFoundError(Exception):
        pass

    class ResourceNotUniqueError(Exception):
        pass

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

    HAS_K8S_CORE = True
    K8S_CORE_IMPORT_ERROR = None
except ImportError:
    HAS_K8S_CORE = False
    K8S_CORE_IMPORT_ERROR = traceback.format_exc()
    AUTH_ARG_SPEC = {}

    class CoreException(Exception):
        pass

from ansible_collections.lakehouse.platform.plugins.module_utils import waiter as _waiter
from ansible_collections.lakehouse.platform.plugins.module_utils.manifests import inventory_name

DEFAULT_FIELD_MANAGER = "lakehouse.platform"
DRY_RUN_ALL = "All"
# What ensure_secret() and redact_secret() put where a Secret value would be.
REDACTED = "<redacted>"
REDACTED_CHANGED = "<redacted:changed>"

# Written by the API server, never part of what a playbook asks for: ignored when telling whether
# a write changed anything and left out of diffs.
SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class KubeError(Exception):
    """A Kubernetes request failed; the message says what was asked and what the server answered."""

    connection = False  # True when no HTTP answer came (refused, reset, stream cut)

    def __init__(self, msg, status=None, reason=None):
        super(KubeError, self).__init__(msg)
        self.status = status
        self.reason = reason


# -- retries of transient failures ------------------------------------------------------------------------
# Answers that say "try again": the server (or a proxy in front of it) was overloaded or restarting.
RETRY_STATUSES = (429, 500, 502, 503, 504)
# Attempts per request (the first one included); LAKEHOUSE_KUBE_RETRIES overrides (tests, slow clusters).
DEFAULT_ATTEMPTS = 6
RETRY_BASE_DELAY = 0.25
RETRY_MAX_DELAY = 4.0
RETRY_AFTER_MAX = 10.0


def retry_attempts():
    try:
        return max(1, int(os.environ.get("LAKEHOUSE_KUBE_RETRIES") or DEFAULT_ATTEMPTS))
    except ValueError:
        return DEFAULT_ATTEMPTS


def backoff_delay(attempt, retry_after=None, rng=random):
    """Seconds to wait before attempt number attempt+1: capped exponential with jitter, or the server's Retry-After."""
    if retry_after is not None:
        return min(RETRY_AFTER_MAX, max(0.0, retry_after)) + rng.uniform(0, RETRY_BASE_DELAY)
    ceiling = min(RETRY_MAX_DELAY, RETRY_BASE_DELAY * (2 ** attempt))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def _is_connection_error(err):
    """A request that got no HTTP answer: refused, reset, dropped mid-answer, timed out."""
    if isinstance(err, (socket.error, OSError)):
        return True
    name = type(err).__module__ + "." + type(err).__name__
    return name.startswith(("urllib3.", "http.client.")) or "MaxRetryError" in name or "ProtocolError" in name


def _retry_after(err):
    headers = getattr(err, "headers", None) or {}
    try:
        value = headers.get("Retry-After")
    except AttributeError:
        value = None
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _status_reason(err):
    body = getattr(err, "body", None)
    if body:
        try:
            status = json.loads(to_text(body))
            if isinstance(status, dict):
                return status.get("reason")
        except ValueError:
            pass
    return None


def transient(err):
    """True when err is worth another attempt (retryable status or no answer at all)."""
    if isinstance(err, DynamicApiError):
        return getattr(err, "status", None) in RETRY_STATUSES
    if isinstance(err, KubeError):
        return err.status in RETRY_STATUSES or err.status is None and getattr(err, "connection", False)
    return _is_connection_error(err)


def describe_failure(err):
    """'HTTP 500 InternalError: <message>' or 'no answer (<error>)' for messages."""
    if isinstance(err, DynamicApiError):
        reason = _status_reason(err) or getattr(err, "reason", "")
        return "HTTP %s %s: %s" % (err.status, reason, _api_error_message(err))
    return "no answer (%s)" % to_native(err)


class KindNotFound(KubeError):
    """Discovery has no such apiVersion/kind (CRD not installed, or a typo)."""


class WatchExpired(KubeError):
    """The watch's resourceVersion is too old (HTTP 410 Gone): list again, then watch again."""


def kube_argument_spec():
    """kubernetes.core's auth options (names, aliases, K8S_AUTH_* env vars); a copy callers may extend.

    Options without a type get an explicit type str (the same default), so the spec and the
    k8s_auth doc fragment agree key for key.
    """
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    for option in spec.values():
        option.setdefault("type", "str")
    return spec


def check_requirements(module):
    """Fail the module with the usual missing-library message when kubernetes or kubernetes.core is absent."""
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    if not HAS_K8S_CORE:
        module.fail_json(msg=missing_required_lib("the kubernetes.core collection"), exception=K8S_CORE_IMPORT_ERROR)


def _api_error_message(err):
    """The server's own message from a Status body, else the exception text."""
    body = getattr(err, "body", None)
    if body:
        try:
            status = json.loads(to_text(body))
            if isinstance(status, dict) and status.get("message"):
                return to_native(status["message"])
        except ValueError:
            pass
        return to_native(body)
    return to_native(err)


def _api_failure(action, what, verb, err):
    """KubeError for a request that failed with an HTTP answer: what was asked, the server's message, and,
    after retries, how many attempts were made and the last status."""
    msg = "Failed to %s %s: %s" % (action, what, _api_error_message(err))
    attempts = getattr(err, "lakehouse_attempts", 1)
    if attempts > 1:
        msg += " (%s request, %d attempts; last status: HTTP %s %s)" % (
            verb, attempts, err.status, _status_reason(err) or getattr(err, "reason", "") or "")
    return KubeError(msg, err.status, _status_reason(err))


def _content(definition):
    """What a create or replace asked for, to recognise it in the live object (server fields left out)."""
    wanted = _encode_string_data(copy.deepcopy(definition))
    wanted.pop("status", None)
    metadata = wanted.get("metadata") or {}
    wanted["metadata"] = dict((key, value) for key, value in metadata.items()
                              if key in ("name", "namespace", "labels", "annotations"))
    return wanted


def _describe(kind, name, namespace):
    if namespace:
        return "%s %s/%s" % (kind, namespace, name)
    return "%s %s" % (kind, name)


def _decode(resp):
    data = resp.data if hasattr(resp, "data") else resp
    if not data:
        return {}
    return json.loads(to_text(data))


class KubeClient(object):
    """A small, dict-in dict-out client over kubernetes.core's K8SClient and its dynamic client."""

    def __init__(self, k8s_client):
        self.k8s_client = k8s_client  # kubernetes.core K8SClient
        self.dynamic = k8s_client.client  # kubernetes.core K8SDynamicClient (a kubernetes DynamicClient)
        self._resources = {}
        self._lock = threading.Lock()
        self.attempts = retry_attempts()
        self.sleep = time.sleep
        self.retried = []  # (request, failure) of every retried attempt, for tests and debugging

    def _request(self, what, call, retry=True):
        """call() with retries of transient failures -> its result; DynamicApiError of the last attempt.

        Raises KubeError naming the request when every attempt failed without an HTTP answer; a final
        HTTP error is re-raised for the caller to word (with its status). retry=False: one attempt.
        """
        attempts = self.attempts if retry else 1
        for attempt in range(attempts):
            try:
                return call()
            except Exception as e:
                if isinstance(e, (NotFoundError, KubeError)) or not transient(e):
                    raise
                last = attempt == attempts - 1
                if isinstance(e, DynamicApiError):
                    if last:
                        e.lakehouse_attempts = attempts
                        raise
                elif last:
                    error = KubeError("%s failed after %d attempts: last error: %s"
                                      % (what, attempts, describe_failure(e)))
                    error.connection = True
                    raise error
                self.retried.append((what, describe_failure(e)))
                self.sleep(backoff_delay(attempt, _retry_after(e) if isinstance(e, DynamicApiError) else None))
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def from_module(cls, module):
        """Build a client from the module's auth options (and K8S_AUTH_* / kubeconfig / in-cluster).

        Auth is passed as keyword arguments rather than as the module so that any AnsibleModule works
        (kubernetes.core's own module wrapper would also switch on client-wide dry-run; ensure() decides
        dry-run per request instead).
        """
        check_requirements(module)
        auth = dict((key, module.params.get(key)) for key in AUTH_ARG_SPEC if module.params.get(key) is not None)
        try:
            return cls(get_api_client(**auth))
        except CoreException as e:
            raise KubeError(to_native(e))
        except Exception as e:  # kubeconfig parsing, missing files, ...
            raise KubeError("Could not create a Kubernetes API client: %s" % to_native(e))

    # -- discovery -------------------------------------------------------------------------------
    def resource(self, api_version, kind):
        """The dynamic-client resource for apiVersion/kind (kind, plural, singular or short name)."""
        key = (api_version, kind)
        with self._lock:
            if key in self._resources:
                return self._resources[key]
        try:
            found = self._request("discovery of %s %s" % (api_version, kind),
                                  lambda: self.k8s_client.resource(kind, api_version))
        except (ResourceNotFoundError, ResourceNotUniqueError) as e:
            raise KindNotFound(
                "Kind %s not found in apiVersion %s (is its CRD installed?): %s" % (kind, api_version, to_native(e))
            )
        except DynamicApiError as e:
            raise KubeError("Discovery of %s %s failed: %s" % (api_version, kind, _api_error_message(e)), e.status)
        with self._lock:
            self._resources[key] = found
        return found

    def _namespace_for(self, resource, namespace, what):
        if resource.namespaced and not namespace:
            raise KubeError("%s is namespaced: a namespace is required" % what)
        return namespace if resource.namespaced else None

    # -- reads -----------------------------------------------------------------------------------
    def get(self, api_version, kind, name, namespace=None):
        """The object as a dict, or None when it does not exist."""
        resource = self.resource(api_version, kind)
        namespace = self._namespace_for(resource, namespace, _describe(kind, name, namespace))
        what = _describe(kind, name, namespace)
        try:
            return _decode(self._request("GET %s" % what, lambda: self.dynamic.get(
                resource, name=name, namespace=namespace, serialize=False)))
        except NotFoundError:
            return None
        except DynamicApiError as e:
            raise _api_failure("read", what, "GET", e)

    def list_with_version(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        """(items, resourceVersion of the list): the starting point of a watch."""
        resource = self.resource(api_version, kind)
        params = {}
        if label_selector:
            params["label_selector"] = label_selector
        if field_selector:
            params["field_selector"] = field_selector
        what = "%s %s" % (api_version, kind) + (" in %s" % namespace if namespace else "")
        try:
            listing = _decode(self._request("LIST %s" % what, lambda: self.dynamic.get(
                resource, namespace=namespace or None, serialize=False, **params)))
        except DynamicApiError as e:
            raise _api_failure("list", what, "LIST", e)
        items = listing.get("items") or []
        # List items come without apiVersion/kind; put them back so objects look the same everywhere.
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items, (listing.get("metadata") or {}).get("resourceVersion")

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        """Objects of a kind as dicts (all namespaces when namespace is None)."""
        return self.list_with_version(api_version, kind, namespace, label_selector, field_selector)[0]

    def watch(self, api_version, kind, namespace=None, name=None, label_selector=None, field_selector=None,
              resource_version=None, timeout=None):
        """A WatchStream of (event_type, object dict); iterate it, close() it from any thread."""
        resource = self.resource(api_version, kind)
        if name:
            field_selector = "metadata.name=%s" % name
        return WatchStream(self.dynamic, resource, namespace, label_selector, field_selector, resource_version, timeout)

    def read_secret(self, name, namespace):
        """The Secret's data decoded to strings, or None when the Secret does not exist."""
        secret = self.get("v1", "Secret", name, namespace)
        if secret is None:
            return None
        return decode_secret_data(secret, name)

    # -- writes (dry_run=True sends dryRun=All: validated and defaulted by the server, never stored) --
    def create(self, definition, dry_run=False, field_manager=DEFAULT_FIELD_MANAGER):
        """POST definition. A create that got no usable answer is sent again; when the server then says
        AlreadyExists and the live object holds what was sent, the first attempt did it: that object is
        returned. An object that holds something else is someone else's: the 409 is raised."""
        resource, name, namespace = self._target(definition)
        params = self._write_params(dry_run, field_manager)
        what = _describe(definition["kind"], name, namespace)
        sent = []

        def call():
            sent.append(True)
            return self.dynamic.create(resource, body=definition, namespace=namespace, serialize=False, **params)

        try:
            return _decode(self._request("POST %s" % what, call))
        except DynamicApiError as e:
            if e.status == 409 and len(sent) > 1 and not dry_run and _status_reason(e) == "AlreadyExists":
                live = self.get(definition["apiVersion"], definition["kind"], name, namespace)
                if live is not None and desired_matches(_content(definition), live):
                    return live
            raise _api_failure("create", what, "POST", e)

    def patch(self, definition, patch, patch_type="merge", dry_run=False, field_manager=DEFAULT_FIELD_MANAGER):
        """Patch the object named by definition; patch_type is merge, strategic-merge or json."""
        resource, name, namespace = self._target(definition)
        params = self._write_params(dry_run, field_manager)
        what = _describe(definition["kind"], name, namespace)
        try:
            # A merge patch gives the same object however often it is applied: retried. A JSON patch may not.
            return _decode(self._request("PATCH %s" % what, lambda: self.dynamic.patch(
                resource, body=patch, name=name, namespace=namespace, serialize=False,
                content_type="application/%s-patch+json" % patch_type, **params), retry=patch_type != "json"))
        except DynamicApiError as e:
            raise _api_failure("patch", what, "PATCH", e)

    def apply(self, definition, dry_run=False, field_manager=DEFAULT_FIELD_MANAGER, force_conflicts=True):
        """Server-side apply of definition (PATCH application/apply-patch+yaml) -> the object the server answers.

        The server creates the object when it is absent; with dry_run=True nothing is stored.
        """
        resource, name, namespace = self._target(definition)
        params = self._write_params(dry_run, field_manager or DEFAULT_FIELD_MANAGER)
        what = _describe(definition["kind"], name, namespace)
        try:
            return _decode(self._request("PATCH (apply) %s" % what, lambda: self.dynamic.server_side_apply(
                resource, body=definition, name=name, namespace=namespace, serialize=False,
                force_conflicts=bool(force_conflicts), **params)))
        except DynamicApiError as e:
            raise _api_failure("apply", what, "PATCH (server-side apply)", e)

    def replace(self, definition, dry_run=False, field_manager=DEFAULT_FIELD_MANAGER):
        """PUT the whole object; with metadata.resourceVersion set the server refuses (409) if it changed."""
        resource, name, namespace = self._target(definition)
        params = self._write_params(dry_run, field_manager)
        what = _describe(definition["kind"], name, namespace)
        sent = []

        def call():
            sent.append(True)
            return self.dynamic.replace(resource, body=definition, name=name, namespace=namespace,
                                        serialize=False, **params)

        # With metadata.resourceVersion set, a PUT that already took effect is refused on its retry (409
        # Conflict): then the live object tells whether it holds what was sent. Without one it is not retried.
        guarded = bool((definition.get("metadata") or {}).get("resourceVersion"))
        try:
            return _decode(self._request("PUT %s" % what, call, retry=guarded))
        except DynamicApiError as e:
            if e.status == 409 and len(sent) > 1 and not dry_run:
                live = self.get(definition["apiVersion"], definition["kind"], name, namespace)
                if live is not None and desired_matches(_content(definition), live):
                    return live
            raise _api_failure("replace", what, "PUT", e)

    def delete(self, api_version, kind, name, namespace=None, dry_run=False, propagation_policy=None):
        """Delete one object; returns the server's answer, or None if it was already gone."""
        resource = self.resource(api_version, kind)
        namespace = self._namespace_for(resource, namespace, _describe(kind, name, namespace))
        params = {}
        if dry_run:
            params["dry_run"] = DRY_RUN_ALL
        if propagation_policy:
            params["propagation_policy"] = propagation_policy
        what = _describe(kind, name, namespace)
        try:
            return _decode(self._request("DELETE %s" % what, lambda: self.dynamic.delete(
                resource, name=name, namespace=namespace, serialize=False, **params)))
        except NotFoundError:
            return None  # gone already (or deleted by an attempt whose answer was lost)
        except DynamicApiError as e:
            raise _api_failure("delete", what, "DELETE", e)

    def _target(self, definition):
        check_definition(definition)
        metadata = definition["metadata"]
        resource = self.resource(definition["apiVersion"], definition["kind"])
        what = _describe(definition["kind"], metadata["name"], metadata.get("namespace"))
        return resource, metadata["name"], self._namespace_for(resource, metadata.get("namespace"), what)

    @staticmethod
    def _write_params(dry_run, field_manager):
        params = {}
        if dry_run:
            params["dry_run"] = DRY_RUN_ALL
        if field_manager:
            params["field_manager"] = field_manager
        return params


class WatchStream(object):
    """One watch request (``?watch=true``) read line by line.

    Kept apart from kubernetes' Watch helper because a waiter must be able to abort a blocked read
    from another thread (close()) and must see 410 Gone itself to re-list instead of being retried
    silently.
    """

    def __init__(self, dynamic, resource, namespace, label_selector, field_selector, resource_version, timeout):
        self._dynamic = dynamic
        self._resource = resource
        self._namespace = namespace if resource.namespaced else None
        self._label_selector = label_selector
        self._field_selector = field_selector
        self._resource_version = resource_version
        self._timeout = timeout
        self._response = None
        self._closed = False

    def __iter__(self):
        params = dict(watch=True, allow_watch_bookmarks=True, serialize=False)
        if self._label_selector:
            params["label_selector"] = self._label_selector
        if self._field_selector:
            params["field_selector"] = self._field_selector
        if self._resource_version:
            params["resource_version"] = self._resource_version
        if self._timeout is not None:
            # The server ends the stream after timeoutSeconds; the socket read timeout is a backstop
            # for a server (or proxy) that does not.
            params["timeout_seconds"] = max(1, int(self._timeout))
            params["_request_timeout"] = (10, max(1, int(self._timeout)) + 10)
        path = self._resource.path(namespace=self._namespace)
        try:
            self._response = self._dynamic.request("get", path, **params)
        except GoneError as e:
            raise WatchExpired("Watch of %s expired: %s" % (path, _api_error_message(e)), 410)
        except DynamicApiError as e:
            raise KubeError("Failed to watch %s: %s" % (path, _api_error_message(e)), e.status, _status_reason(e))
        except Exception as e:
            if not _is_connection_error(e):
                raise
            error = KubeError("Failed to watch %s: %s" % (path, describe_failure(e)))
            error.connection = True
            raise error
        try:
            for line in iter_resp_lines(self._response):
                if self._closed:
                    return
                if not line.strip():
                    continue
                event = json.loads(line)
                event_type = event.get("type")
                obj = event.get("object") or {}
                if event_type == "ERROR":
                    code = obj.get("code")
                    if code == 410:
                        raise WatchExpired("Watch of %s expired: %s" % (path, obj.get("message")), 410)
                    raise KubeError("Watch of %s failed: %s" % (path, obj.get("message") or obj), code)
                if event_type == "BOOKMARK":
                    continue
                obj.setdefault("apiVersion", self._resource.group_version)
                obj.setdefault("kind", self._resource.kind)
                yield event_type, obj
        except (WatchExpired, KubeError):
            raise
        except Exception as e:
            if self._closed:
                return
            error = KubeError("Watch of %s broke: %s" % (path, to_native(e)))
            error.connection = True  # the stream was cut: watch again (after a list)
            raise error
        finally:
            self._closed = True
            self._release()

    def close(self):
        """Abort the stream; safe from another thread and safe to repeat.

        The reading thread may be blocked inside the response's buffered reader, whose close()
        would wait for that read to return (up to timeoutSeconds). Shutting the socket down wakes
        the reader at once; the reader's own finally clause then closes the response.
        """
        self._closed = True
        response = self._response
        if response is None:
            return
        connection = getattr(response, "connection", None) or getattr(response, "_connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass

    def _release(self):
        response, self._response = self._response, None
        if response is not None:
            try:
                response.close()
                response.release_conn()
            except Exception:
                pass


# -- comparing desired and live objects ------------------------------------------------------------
def check_definition(definition):
    """Raise KubeError unless definition names apiVersion, kind and metadata.name."""
    if not isinstance(definition, dict):
        raise KubeError("A resource definition must be a mapping, got %s" % type(definition).__name__)
    missing = [k for k in ("apiVersion", "kind") if not definition.get(k)]
    if not (definition.get("metadata") or {}).get("name"):
        missing.append("metadata.name")
    if missing:
        raise KubeError("Resource definition is missing %s" % ", ".join(missing))


def desired_matches(desired, live):
    """True when every field given in desired has the same value in live.

    desired is a subset: keys it does not mention (defaults, server-populated fields, status) are
    ignored. Mappings compare key by key, recursively; lists compare element by element and must have
    the same length (a merge patch replaces lists whole); a desired None means "absent".
    Numbers compare by value (1 == 1.0).
    """
    if desired is None:
        return live is None
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(desired_matches(value, live.get(key)) for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(desired_matches(d, l) for d, l in zip(desired, live))
    if isinstance(desired, bool) or isinstance(live, bool):
        return type(desired) is type(live) and desired == live
    return desired == live


def without_server_fields(obj):
    """A copy of obj without the metadata the server rewrites on every write (and kubectl's annotation)."""
    if obj is None:
        return None
    result = copy.deepcopy(obj)
    metadata = result.get("metadata") or {}
    for key in SERVER_METADATA:
        metadata.pop(key, None)
    annotations = metadata.get("annotations")
    if annotations and LAST_APPLIED in annotations:
        annotations.pop(LAST_APPLIED)
        if not annotations:
            metadata.pop("annotations")
    return result


def _for_display(obj):
    """What before/after show: the object minus managedFields (large, and changes on every write)."""
    if obj is None:
        return None
    result = copy.deepcopy(obj)
    (result.get("metadata") or {}).pop("managedFields", None)
    return result


def _encode_string_data(definition):
    """Secret stringData -> data (base64), as the API server does, so comparison sees like with like."""
    if definition.get("kind") != "Secret" or "stringData" not in definition:
        return definition
    result = copy.deepcopy(definition)
    data = result.setdefault("data", {}) or {}
    for key, value in (result.pop("stringData") or {}).items():
        data[key] = base64.b64encode(to_text(value).encode("utf-8")).decode("ascii")
    result["data"] = data
    return result


class EnsureResult(object):
    """What ensure() did: changed, before/after objects, diff ({before, after} when changed), action."""

    def __init__(self, changed, before, after, diff=None, action=None, warnings=None):
        self.changed = changed
        self.before = before
        self.after = after
        self.diff = diff
        self.action = action  # "create", "patch" or None
        self.warnings = warnings or []

    def __iter__(self):  # allows: changed, before, after, diff = ensure(...)
        return iter((self.changed, self.before, self.after, self.diff))

    def __repr__(self):
        return "EnsureResult(changed=%r, action=%r)" % (self.changed, self.action)


def ensure(client, definition, check_mode, field_manager=DEFAULT_FIELD_MANAGER):
    """Make the live object carry every field of definition; write only when a field differs.

    Absent -> create (POST). Present and a desired field differs -> merge patch of the desired
    fields. In check mode the same requests go out with dryRun=All, so the server validates them and
    returns the would-be object without storing anything. changed is decided by the field-wise
    comparison and confirmed against the server's answer (a patch the server normalises back to the
    live object, e.g. "1000m" -> "1", is not a change).
    To remove a field, set it to None in definition (merge-patch semantics).
    """
    check_definition(definition)
    desired = _encode_string_data(copy.deepcopy(definition))
    desired.pop("status", None)  # status belongs to the controller (and its own subresource)
    metadata = desired["metadata"]
    what = _describe(desired["kind"], metadata["name"], metadata.get("namespace"))
    try:
        client.resource(desired["apiVersion"], desired["kind"])
    except KindNotFound:
        if not check_mode:
            raise
        # In check mode the CRD is often one that an earlier (simulated) task would have installed.
        return EnsureResult(
            True, None, desired, {"before": {}, "after": desired}, "create",
            ["%s: kind not found, predicted from the definition (check mode)" % what],
        )

    live = client.get(desired["apiVersion"], desired["kind"], metadata["name"], metadata.get("namespace"))
    warnings = []
    if live is None:
        try:
            after = client.create(desired, dry_run=check_mode, field_manager=field_manager)
        except KubeError as e:
            # Check mode: the namespace may be one an earlier task would have created.
            if not (check_mode and e.status == 404):
                raise
            after = desired
            warnings.append("%s: dry-run create not possible (%s); predicted from the definition" % (what, e))
        return EnsureResult(True, None, after, {"before": {}, "after": _for_display(after)}, "create", warnings)

    if desired_matches(desired, live):
        return EnsureResult(False, live, live, None, None)

    after = client.patch(desired, desired, patch_type="merge", dry_run=check_mode, field_manager=field_manager)
    if without_server_fields(after) == without_server_fields(live):
        return EnsureResult(False, live, live, None, None)
    return EnsureResult(True, live, after, {"before": _for_display(live), "after": _for_display(after)}, "patch")


# -- server-side apply: did our apply change what we own? ---------------------------------------------
# Written by the server (or by controllers through /status) on every write: never a change of ours.
APPLY_IGNORED_METADATA = ("resourceVersion", "generation", "managedFields")
APPLY_IGNORED_TOP = ("status",)


def _owned_manifest(manifest):
    """The manifest minus the fields whose values are not ours to judge (server metadata, status)."""
    result = dict(manifest or {})
    for key in APPLY_IGNORED_TOP:
        result.pop(key, None)
    if isinstance(result.get("metadata"), dict):
        result["metadata"] = dict(
            (key, value) for key, value in result["metadata"].items() if key not in APPLY_IGNORED_METADATA
        )
    return result


def _project(value, shape):
    if isinstance(shape, dict) and shape:
        if not isinstance(value, dict):
            return value
        return dict((key, _project(value[key], child)) for key, child in shape.items() if key in value)
    return value  # scalars, lists (compared whole) and empty maps


def owned_projection(obj, manifest):
    """obj restricted to the field paths of manifest: dict keys recursively, lists and scalars whole.

    Server metadata (resourceVersion, generation, managedFields) and status are left out. A path of
    the manifest that obj does not have is absent from the projection, so a removal shows too.
    """
    if obj is None:
        return None
    return _project(obj, _owned_manifest(manifest))


def applied_fields(obj, field_manager):
    """fieldsV1 of field_manager's Apply entry in obj's managedFields (main resource), or None."""
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == field_manager and entry.get("operation") == "Apply" and not entry.get("subresource"):
            return entry.get("fieldsV1") or {}
    return None


def apply_changed(before, after, manifest, field_manager=DEFAULT_FIELD_MANAGER):
    """Whether a server-side apply of manifest changed the existing object before into after.

    Only what the apply owns counts: the projection of both objects onto the manifest's field paths,
    and the applying manager's managedFields entry (which shrinks when the manifest stopped setting a
    field, and the field was removed). Status, resourceVersion, generation, other managers' fields
    and server normalisation present on both sides (C(1000m) stored as C(1)) do not make a change.
    """
    if before is None:
        return after is not None
    if owned_projection(before, manifest) != owned_projection(after, manifest):
        return True
    return applied_fields(before, field_manager) != applied_fields(after, field_manager)


# List map keys the API server fills in when the manifest leaves them out (ports are keyed by port and protocol).
KEY_DEFAULTS = {"protocol": "TCP"}


def _fields_cover(value, node):
    """True when the fieldsV1 node records exactly the fields of value (conservative: False when unsure)."""
    if not isinstance(node, dict):
        return False
    children = set(key for key in node if key != ".")
    if isinstance(value, dict):
        if children != set("f:%s" % key for key in value):
            return False
        return all(_fields_cover(child, node["f:%s" % key]) for key, child in value.items())
    if isinstance(value, list):
        if not children:
            return True  # atomic list: owned whole, its value is compared by desired_matches
        if len(children) != len(value):
            return False
        remaining = set(children)
        for item in value:
            match = None
            for key in remaining:
                if key.startswith("v:"):
                    try:
                        if json.loads(key[2:]) == item:
                            match = key
                    except ValueError:
                        return False
                elif key.startswith("k:") and isinstance(item, dict):
                    try:
                        wanted = json.loads(key[2:])
                    except ValueError:
                        return False
                    if isinstance(wanted, dict) and all(item.get(k, KEY_DEFAULTS.get(k)) == v for k, v in wanted.items()):
                        match = key
                if match:
                    break
            if match is None or (match.startswith("k:") and not _fields_cover(item, node[match])):
                return False
            remaining.discard(match)
        return not remaining
    if value is None:
        return False  # null asks the server to remove the field: let the server decide
    return not children


def apply_in_sync(live, manifest, field_manager=DEFAULT_FIELD_MANAGER):
    """True only when applying manifest to live certainly changes nothing, so the apply can be skipped.

    Requires every manifest field to hold its value in live (desired_matches), field_manager's Apply
    entry to be for the manifest's apiVersion and to record exactly the manifest's fields (nothing to
    remove, nothing new to own). Any doubt (status in the manifest, lists keyed in a way not recognised,
    server-normalised values) answers False: the apply is sent and apply_changed() judges the answer.
    """
    if live is None or not isinstance(manifest, dict) or "status" in manifest:
        return False
    entry = None
    for candidate in (live.get("metadata") or {}).get("managedFields") or []:
        if (candidate.get("manager") == field_manager and candidate.get("operation") == "Apply"
                and not candidate.get("subresource")):
            entry = candidate
            break
    if entry is None or entry.get("apiVersion") != manifest.get("apiVersion"):
        return False
    if not desired_matches(_owned_manifest(manifest), live):
        return False
    owned = dict((key, value) for key, value in manifest.items() if key not in ("apiVersion", "kind", "metadata"))
    metadata = dict(
        (key, value) for key, value in (manifest.get("metadata") or {}).items()
        if key in ("labels", "annotations", "ownerReferences", "finalizers")
    )
    if metadata:
        owned["metadata"] = metadata
    return _fields_cover(owned, entry.get("fieldsV1") or {})


def delete(client, api_version, kind, name, namespace, check_mode, wait=False, timeout=120, propagation_policy=None):
    """Delete an object if it exists -> (changed, before). A missing kind counts as already absent.

    Check mode sends no request beyond the read. wait=True waits (watch) until the object is gone,
    which includes its finalizers.
    """
    try:
        before = client.get(api_version, kind, name, namespace)
    except KindNotFound:
        return False, None
    if before is None:
        return False, None
    if check_mode:
        return True, before
    if client.delete(api_version, kind, name, namespace, propagation_policy=propagation_policy) is None:
        return False, before
    if wait:
        _waiter.wait_absent(client, api_version, kind, name, namespace, timeout=timeout)
    return True, before


# -- Secrets ---------------------------------------------------------------------------------------
def decode_secret_data(secret, name=None):
    """Secret.data decoded from base64 to str."""
    decoded = {}
    for key, value in ((secret or {}).get("data") or {}).items():
        try:
            decoded[key] = base64.b64decode(value).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise KubeError("Secret %s key %s does not hold UTF-8 text" % (name or "", key))
    return decoded


def redact_secret(secret, changed_keys=()):
    """A copy of a Secret safe to return or diff: every value replaced by a marker.

    Keys listed in changed_keys get REDACTED_CHANGED so a diff still shows which keys change.
    """
    if secret is None:
        return None
    result = _for_display(secret)
    for field in ("data", "stringData"):
        if result.get(field):
            result[field] = dict(
                (key, REDACTED_CHANGED if key in changed_keys else REDACTED) for key in result[field]
            )
    annotations = (result.get("metadata") or {}).get("annotations") or {}
    if LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = REDACTED
    return result


def ensure_secret(client, name, namespace, string_data, labels=None, check_mode=False, secret_type="Opaque",
                  field_manager=DEFAULT_FIELD_MANAGER):
    """Make Secret namespace/name hold string_data (and labels); values never appear in the result.

    Compares decoded values, so a Secret written by anyone else with the same text is unchanged.
    Keys of the live Secret that string_data does not mention are left alone. secret_type is used
    only when creating (the API makes it immutable).
    """
    for key, value in string_data.items():
        if value is None:
            raise KubeError("Secret %s/%s: value of key %s is null" % (namespace, name, key))
    wanted = dict((key, to_text(value)) for key, value in string_data.items())
    live = client.get("v1", "Secret", name, namespace)
    if live is None:
        definition = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": secret_type or "Opaque",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": wanted,
        }
        if labels:
            definition["metadata"]["labels"] = dict(labels)
        definition = _encode_string_data(definition)
        try:
            after = client.create(definition, dry_run=check_mode, field_manager=field_manager)
        except KubeError as e:
            if not (check_mode and e.status == 404):
                raise
            after = definition
        safe_after = redact_secret(after, changed_keys=wanted.keys())
        return EnsureResult(True, None, safe_after, {"before": {}, "after": safe_after}, "create")

    current = decode_secret_data(live, name)
    changed_keys = sorted(key for key, value in wanted.items() if current.get(key) != value)
    labels_differ = bool(labels) and not desired_matches(dict(labels), (live.get("metadata") or {}).get("labels"))
    if not changed_keys and not labels_differ:
        safe = redact_secret(live)
        return EnsureResult(False, safe, safe, None, None)

    patch = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}}
    if changed_keys:
        patch["data"] = dict(
            (key, base64.b64encode(wanted[key].encode("utf-8")).decode("ascii")) for key in changed_keys
        )
    if labels_differ:
        patch["metadata"]["labels"] = dict(labels)
    after = client.patch(patch, patch, patch_type="merge", dry_run=check_mode, field_manager=field_manager)
    safe_before = redact_secret(live)
    safe_after = redact_secret(after, changed_keys=changed_keys)
    return EnsureResult(True, safe_before, safe_after, {"before": safe_before, "after": safe_after}, "patch")


# -- the inventory of created objects (what rollback deletes) -----------------------------------------
INVENTORY_PART_OF = {"app.kubernetes.io/part-of": "lakehouse.platform"}


def _inventory_list(text, name, key):
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError as e:
        raise KubeError("inventory %s: data.%s is not JSON: %s" % (name, key, to_native(e)))
    if not isinstance(value, list):
        raise KubeError("inventory %s: data.%s is not a JSON list" % (name, key))
    return value


def _union(known, new):
    """known followed by the entries of new it does not hold yet (order kept, duplicates dropped)."""
    result = list(known)
    for entry in new:
        if entry not in result:
            result.append(entry)
    return result


def record_created(client, component, phase, refs, helm_releases=(), state_namespace="lakehouse-system",
                   field_manager=DEFAULT_FIELD_MANAGER):
    """Add refs ({apiVersion, kind, namespace, name}) and helm_releases ({name, namespace}) to the component's
    inventory ConfigMap (the format roles/manifests/tasks/record.yml writes) -> True when it was written.

    The lists are merged with what earlier runs recorded; nothing is written when every entry is already
    there. The state namespace is created when the ConfigMap does not exist and neither does the namespace.
    Both writes are server-side applies by field_manager. Never call this in check mode.
    """
    name = inventory_name(component)
    refs = [dict((key, str(ref.get(key) or "")) for key in ("apiVersion", "kind", "namespace", "name")) for ref in refs]
    helm_releases = [dict((key, str(release.get(key) or "")) for key in ("name", "namespace")) for release in helm_releases]
    live = client.get("v1", "ConfigMap", name, state_namespace)
    data = (live or {}).get("data") or {}
    known_objects = _inventory_list(data.get("objects"), name, "objects")
    known_releases = _inventory_list(data.get("helm_releases"), name, "helm_releases")
    objects = _union(known_objects, refs)
    releases = _union(known_releases, helm_releases)
    if live is not None and objects == known_objects and releases == known_releases:
        return False
    if live is None and client.get("v1", "Namespace", state_namespace) is None:
        client.apply({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": state_namespace, "labels": dict(INVENTORY_PART_OF)}},
                     field_manager=field_manager, force_conflicts=True)
    labels = dict(INVENTORY_PART_OF)
    labels.update({"lakehouse.platform/state": "inventory", "lakehouse.platform/inventory-of": str(component)})
    client.apply({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": state_namespace, "labels": labels,
                     "annotations": {"lakehouse.platform/phase": str(phase)}},
        "data": {"objects": json.dumps(objects), "helm_releases": json.dumps(releases)},
    }, field_manager=field_manager, force_conflicts=True)
    return True
