"""The test server's fault injection (tests/kubeapi/faults.py), in process: which requests a rule hits, the
Status bodies and headers it answers, `after` (done, answer lost), dropped watches and the listener restart."""
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.kubeapi import KubeAPIServer
from tests.kubeapi.faults import (clear_faults, fault_report, request_drop_watches, request_restart,
                                  set_faults)


@pytest.fixture
def server():
    srv = KubeAPIServer().start()
    try:
        yield srv
    finally:
        srv.stop()


def call(server, method, path, body=None):
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.load(error), error.headers


CM = "/api/v1/namespaces/default/configmaps"


def test_every_nth_matching_request_gets_a_429_with_retry_after(server):
    set_faults(server.url, [{"code": 429, "every": 2, "verbs": ["get"], "resources": ["namespaces"],
                             "retry_after": 3}])
    codes = [call(server, "GET", "/api/v1/namespaces/default")[0] for _attempt in range(4)]
    assert codes == [200, 429, 200, 429]
    status, body, headers = call(server, "GET", "/api/v1/namespaces/default")
    assert status == 200
    call(server, "GET", "/api/v1/namespaces/default")  # the 6th: hit
    status, body, headers = call(server, "GET", "/api/v1/namespaces/kube-system")
    assert status == 200  # the 7th is not
    assert call(server, "GET", CM)[0] == 200  # another verb and resource: never
    set_faults(server.url, [{"code": 429, "every": 1, "retry_after": 3}])
    status, body, headers = call(server, "GET", "/api/v1/namespaces/default")
    assert headers["Retry-After"] == "3"
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "Too many requests, please try again later.", "reason": "TooManyRequests",
                    "details": {"retryAfterSeconds": 3}, "code": 429}


def test_500_and_409_bodies_are_kube_apiserver_statuses(server):
    set_faults(server.url, [{"code": 500, "every": 1, "verbs": ["create"]}])
    status, body, _headers = call(server, "POST", CM, {"metadata": {"name": "a"}})
    assert (status, body["reason"], body["message"]) == (500, "InternalError",
                                                         "Internal error occurred: injected fault (test server)")
    assert call(server, "GET", CM + "/a")[0] == 404  # refused before it was done
    set_faults(server.url, [{"code": 409, "every": 1, "verbs": ["update"]}])
    status, body, _headers = call(server, "PUT", CM + "/a", {"metadata": {"name": "a"}})
    assert (status, body["reason"]) == (409, "Conflict")
    assert body["message"].startswith('Operation cannot be fulfilled on configmaps "a": the object has been modified')


def test_after_performs_the_request_and_loses_its_answer(server):
    set_faults(server.url, [{"code": 500, "every": 1, "limit": 1, "after": True, "verbs": ["create"]}])
    assert call(server, "POST", CM, {"metadata": {"name": "b"}})[0] == 500
    assert call(server, "GET", CM + "/b")[0] == 200
    status, body, _headers = call(server, "POST", CM, {"metadata": {"name": "b"}})
    assert (status, body["reason"]) == (409, "AlreadyExists")  # the limit is spent: the real answer
    report = clear_faults(server.url)
    assert report["rules"][0]["matched"] == 2 and report["rules"][0]["injected"] == 1
    assert report["injected"] == [{"verb": "create", "resource": "configmaps", "namespace": "default", "name": "",
                                   "code": 500, "after": True}]


def test_a_seeded_probability_is_reproducible(server):
    def hits(seed):
        set_faults(server.url, [{"code": 503, "probability": 0.3, "verbs": ["list"]}], seed)
        return [call(server, "GET", CM)[0] for _attempt in range(30)]
    first = hits(4)
    assert first == hits(4)
    assert 3 <= first.count(503) <= 18


def test_bad_rules_are_refused(server):
    status, body, _headers = call(server, "POST", "/_test/faults", {"rules": [{"code": 418}]})
    assert status == 400 and "418" in body["message"]


def _watch(server, lines, ended):
    try:
        with urllib.request.urlopen(server.url + CM + "?watch=true", timeout=20) as response:
            for line in response:
                lines.append(line)
        ended.append("clean")
    except Exception as error:  # the cut stream
        ended.append(repr(error))


def test_dropped_watches_end_at_once(server):
    lines, ended = [], []
    thread = threading.Thread(target=_watch, args=(server, lines, ended), daemon=True)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    request_drop_watches(server.url)
    thread.join(5)
    assert ended and time.monotonic() - started < 2
    assert fault_report(server.url)["dropped_watches"] == 1


def test_restart_refuses_connections_then_listens_on_the_same_port_with_the_state_kept(server):
    assert call(server, "POST", CM, {"metadata": {"name": "kept"}})[0] == 201
    port = server.port
    request_restart(server.url, down_seconds=1.0)
    time.sleep(0.3)
    with pytest.raises(urllib.error.URLError):
        call(server, "GET", CM + "/kept")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            status = call(server, "GET", CM + "/kept")[0]
            break
        except urllib.error.URLError:
            time.sleep(0.1)
    assert status == 200 and server.port == port
    assert fault_report(server.url)["restarts"] == 1


def test_state_file_round_trip_keeps_objects_revision_and_crd_types(server, tmp_path):
    from tests.kubeapi import persist
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
    assert call(server, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
    widget_body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    status, widget, _headers = call(server, "POST", "/apis/example.com/v1/namespaces/default/widgets", widget_body)
    assert status == 201
    path = str(tmp_path / "state.json")
    persist.dump(server.api, path)
    revision = server.api.store.revision
    again = KubeAPIServer(namespaces=()).start()
    try:
        persist.load(again.api, path)
        status, body, _headers = call(again, "GET", "/apis/example.com/v1/namespaces/default/widgets/w")
        assert status == 200 and body["metadata"]["uid"] == widget["metadata"]["uid"]
        assert body["metadata"]["resourceVersion"] == widget["metadata"]["resourceVersion"]
        assert again.api.store.revision == revision
        assert call(again, "GET", "/api/v1/namespaces/default")[0] == 200
    finally:
        again.stop()


def test_a_rule_can_spare_or_target_the_status_subresource(server):
    set_faults(server.url, [{"code": 500, "every": 1, "subresource": "", "resources": ["namespaces"]}])
    assert call(server, "GET", "/api/v1/namespaces/default")[0] == 500
    assert call(server, "GET", "/api/v1/namespaces/default/status")[0] == 200
    set_faults(server.url, [{"code": 500, "every": 1, "subresource": "status"}])
    assert call(server, "GET", "/api/v1/namespaces/default")[0] == 200
    assert call(server, "GET", "/api/v1/namespaces/default/status")[0] == 500
