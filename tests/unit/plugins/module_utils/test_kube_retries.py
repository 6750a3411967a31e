# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeClient's retries: which requests are retried on which failures, the backoff, Retry-After, the create
whose answer was lost, and the message after the last attempt. The transport is a scripted dynamic client
raising kubernetes' own exception types."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import random

import pytest
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import api_exception
from urllib3.exceptions import MaxRetryError, ProtocolError

from ansible_collections.lakehouse.platform.plugins.module_utils import kube
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KubeClient, KubeError

REASONS = {409: "Conflict", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 400: "BadRequest"}


def http_error(code, reason=None, message="injected", retry_after=None):
    """What kubernetes raises for an HTTP error answer (a DynamicApiError subclass by status)."""
    body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                       "reason": reason or REASONS.get(code, "InternalError"), "code": code}).encode()

    class Response(object):
        status = code
        data = body

        def getheaders(self):
            return {"Retry-After": str(retry_after)} if retry_after is not None else {}

    Response.reason = "x"
    return api_exception(ApiException(http_resp=Response()))


class Resource(object):
    namespaced = True
    group_version = "v1"
    kind = "ConfigMap"


class Answer(object):
    def __init__(self, obj):
        self.data = json.dumps(obj).encode()


class ScriptedDynamic(object):
    """Each call pops the next outcome of its verb's script: an exception to raise or an object to answer."""

    def __init__(self, **scripts):
        self.scripts = dict((verb, list(outcomes)) for verb, outcomes in scripts.items())
        self.calls = []

    def _next(self, verb, **kwargs):
        self.calls.append(verb)
        outcome = self.scripts[verb].pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return Answer(outcome)

    def get(self, resource, **kwargs):
        return self._next("get", **kwargs)

    def create(self, resource, **kwargs):
        return self._next("create", **kwargs)

    def replace(self, resource, **kwargs):
        return self._next("replace", **kwargs)

    def patch(self, resource, **kwargs):
        return self._next("patch", **kwargs)

    def server_side_apply(self, resource, **kwargs):
        return self._next("apply", **kwargs)

    def delete(self, resource, **kwargs):
        return self._next("delete", **kwargs)


class K8SClient(object):
    def __init__(self, dynamic):
        self.client = dynamic

    def resource(self, kind, api_version):
        return Resource()


def client_for(dynamic):
    client = KubeClient(K8SClient(dynamic))
    client.sleeps = []
    client.sleep = client.sleeps.append
    return client


def cm(name="c", **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}, "data": data or {"a": "1"}}


@pytest.mark.parametrize("code", [429, 500, 502, 503, 504])
def test_reads_are_retried_on_retryable_statuses(code):
    dynamic = ScriptedDynamic(get=[http_error(code), http_error(code), cm()])
    client = client_for(dynamic)
    assert client.get("v1", "ConfigMap", "c", "ns")["data"] == {"a": "1"}
    assert dynamic.calls == ["get"] * 3
    assert len(client.sleeps) == 2


def test_connection_errors_are_retried():
    dynamic = ScriptedDynamic(apply=[MaxRetryError(None, "/api", "refused"), ProtocolError("reset"), cm()])
    client = client_for(dynamic)
    assert client.apply(cm())["data"] == {"a": "1"}
    assert [what for what, _failure in client.retried] == ["PATCH (apply) ConfigMap ns/c"] * 2


def test_other_errors_are_not_retried():
    dynamic = ScriptedDynamic(get=[http_error(400, message="bad selector")])
    with pytest.raises(KubeError) as error:
        client_for(dynamic).get("v1", "ConfigMap", "c", "ns")
    assert dynamic.calls == ["get"] and error.value.status == 400
    assert str(error.value) == "Failed to read ConfigMap ns/c: bad selector"


def test_after_the_last_attempt_the_message_names_object_request_and_status():
    dynamic = ScriptedDynamic(delete=[http_error(500, message="Internal error occurred: boom")] * 6)
    client = client_for(dynamic)
    with pytest.raises(KubeError) as error:
        client.delete("v1", "ConfigMap", "c", "ns")
    assert str(error.value) == ("Failed to delete ConfigMap ns/c: Internal error occurred: boom "
                                "(DELETE request, 6 attempts; last status: HTTP 500 InternalError)")
    assert error.value.status == 500 and len(dynamic.calls) == 6


def test_connection_failures_after_the_last_attempt_name_the_request():
    dynamic = ScriptedDynamic(get=[ProtocolError("Connection aborted.")] * 6)
    with pytest.raises(KubeError) as error:
        client_for(dynamic).get("v1", "ConfigMap", "c", "ns")
    assert str(error.value) == ("GET ConfigMap ns/c failed after 6 attempts: last error: no answer "
                                "(Connection aborted.)")


def test_retry_after_is_honoured_and_capped():
    dynamic = ScriptedDynamic(get=[http_error(429, retry_after=3), http_error(429, retry_after=600), cm()])
    client = client_for(dynamic)
    client.get("v1", "ConfigMap", "c", "ns")
    assert 3 <= client.sleeps[0] <= 3 + kube.RETRY_BASE_DELAY
    assert kube.RETRY_AFTER_MAX <= client.sleeps[1] <= kube.RETRY_AFTER_MAX + kube.RETRY_BASE_DELAY


def test_backoff_is_exponential_capped_and_jittered():
    rng = random.Random(1)
    delays = [kube.backoff_delay(attempt, rng=rng) for attempt in range(8)]
    for attempt, delay in enumerate(delays):
        ceiling = min(kube.RETRY_MAX_DELAY, kube.RETRY_BASE_DELAY * 2 ** attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered: no two alike


def test_a_json_patch_is_not_retried_a_merge_patch_is():
    dynamic = ScriptedDynamic(patch=[http_error(503), http_error(503), cm()])
    client = client_for(dynamic)
    with pytest.raises(KubeError):
        client.patch(cm(), [{"op": "add", "path": "/data/b", "value": "2"}], patch_type="json")
    assert client.patch(cm(), {"data": {"a": "1"}})["data"] == {"a": "1"}
    assert dynamic.calls == ["patch"] * 3


def test_a_retried_create_that_meets_its_own_object_returns_it():
    dynamic = ScriptedDynamic(create=[http_error(500), http_error(409, "AlreadyExists", 'configmaps "c" already exists')],
                              get=[dict(cm(), metadata={"name": "c", "namespace": "ns", "uid": "u1"})])
    client = client_for(dynamic)
    assert client.create(cm())["metadata"]["uid"] == "u1"
    assert dynamic.calls == ["create", "create", "get"]


def test_a_retried_create_that_meets_another_object_raises_the_conflict():
    dynamic = ScriptedDynamic(create=[ProtocolError("reset"), http_error(409, "AlreadyExists", 'configmaps "c" already exists')],
                              get=[cm(a="theirs")])
    with pytest.raises(KubeError) as error:
        client_for(dynamic).create(cm())
    assert error.value.status == 409 and error.value.reason == "AlreadyExists"


def test_a_first_attempt_already_exists_is_not_taken_for_ours():
    dynamic = ScriptedDynamic(create=[http_error(409, "AlreadyExists", 'configmaps "c" already exists')])
    with pytest.raises(KubeError) as error:
        client_for(dynamic).create(cm())
    assert error.value.status == 409 and dynamic.calls == ["create"]


def test_a_put_is_retried_only_with_a_resource_version_precondition():
    guarded = dict(cm(), metadata={"name": "c", "namespace": "ns", "resourceVersion": "7"})
    # The first PUT took effect but its answer was lost: the retry is refused (409); the live object holds it.
    dynamic = ScriptedDynamic(replace=[http_error(503), http_error(409)], get=[cm()])
    assert client_for(dynamic).replace(guarded)["data"] == {"a": "1"}
    unguarded = ScriptedDynamic(replace=[http_error(503)])
    with pytest.raises(KubeError):
        client_for(unguarded).replace(cm())
    assert unguarded.calls == ["replace"]


def test_a_conflict_is_an_answer_not_retried():
    dynamic = ScriptedDynamic(apply=[http_error(409, message="Apply failed with 1 conflict")])
    with pytest.raises(KubeError) as error:
        client_for(dynamic).apply(cm())
    assert dynamic.calls == ["apply"] and "ConfigMap ns/c" in str(error.value)


def test_the_attempts_can_be_set_by_environment(monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_KUBE_RETRIES", "2")
    dynamic = ScriptedDynamic(get=[http_error(503)] * 2)
    with pytest.raises(KubeError) as error:
        client_for(dynamic).get("v1", "ConfigMap", "c", "ns")
    assert "2 attempts" in str(error.value)
