"""Faults survived, measured: the API test server injects errors (tests/kubeapi/faults.py) and the collection's
client and waiter retry, re-watch and converge, or fail naming the object, the request and the last status.

Each test clears its fault rules afterwards; rules are limited to the test's namespace, so nothing else the
session runs is hit. The fault report (what was injected, how often) is printed for the record.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import kube
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import ObjectFeed, wait_for
from tests.integration.fixtures.kube import REPO_ROOT
from tests.integration.kube_status import kube_client, patch_status
from tests.kubeapi.faults import clear_faults, fault_report, request_drop_watches, request_restart, set_faults

ROOK = ("ceph.rook.io/v1", "CephObjectStoreUser")


@pytest.fixture
def faults(kube_api):
    """set(rules, seed) -> report; the rules are cleared (and the report printed) after the test."""
    def apply(rules, seed=11):
        return set_faults(kube_api.url, rules, seed)
    try:
        yield apply
    finally:
        report = clear_faults(kube_api.url)
        print("fault report:", json.dumps({"rules": report["rules"], "dropped_watches": report["dropped_watches"],
                                           "restarts": report["restarts"]}))


def user(namespace, name="iceberg"):
    return {"apiVersion": ROOK[0], "kind": ROOK[1], "metadata": {"name": name, "namespace": namespace},
            "spec": {"store": "lakehouse", "displayName": "iceberg"}}


def phase_ready(obj):
    return (obj.get("status") or {}).get("phase") == "Ready"


def _feed_recorder(feeds):
    def factory(client, api_version, kind, name, namespace, deadline):
        feed = ObjectFeed(client, api_version, kind, name, namespace, deadline)
        feeds.append(feed)
        return feed
    return factory


def _later(delay, action):
    thread = threading.Thread(target=lambda: (time.sleep(delay), action()), daemon=True)
    thread.start()
    return thread


def _wait_until_answering(kube_api, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if kube_api.request("GET", "/version")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the test server did not come back")


# -- the waiter -------------------------------------------------------------------------------------------------
def test_waiter_survives_dropped_watches_and_sees_the_change(kube_api, kube_namespace, faults):
    client = kube_client(kube_api)
    kube.ensure(client, user(kube_namespace), check_mode=False)
    patch_status(kube_api, ROOK[0], ROOK[1], kube_namespace, "iceberg", {"phase": "Progressing"})
    feeds = []

    def steer():
        for _attempt in range(3):  # three watches cut mid-wait, then the change
            time.sleep(0.5)
            request_drop_watches(kube_api.url)
        time.sleep(0.5)
        patch_status(kube_api, ROOK[0], ROOK[1], kube_namespace, "iceberg", {"phase": "Ready"})

    thread = _later(0, steer)
    result = wait_for(client, ROOK[0], ROOK[1], "iceberg", kube_namespace, phase_ready, timeout=30,
                      feed_factory=_feed_recorder(feeds))
    thread.join(10)
    assert result.obj["status"]["phase"] == "Ready"
    assert result.elapsed < 10
    assert fault_report(kube_api.url)["dropped_watches"] >= 3
    assert feeds[0].rewatches >= 3, "every dropped watch is re-established"
    assert not feeds[0].polling, "a dropped watch is watched again, not replaced by polling"


def test_waiter_survives_a_server_restart_during_the_wait(kube_api, kube_namespace, faults):
    client = kube_client(kube_api)
    kube.ensure(client, user(kube_namespace), check_mode=False)
    patch_status(kube_api, ROOK[0], ROOK[1], kube_namespace, "iceberg", {"phase": "Progressing"})
    feeds = []

    def steer():
        time.sleep(0.5)
        request_restart(kube_api.url, down_seconds=2.0)
        time.sleep(0.5)
        try:  # the port refuses connections while "down"
            kube_api.request("GET", "/version")
            refused = False
        except OSError:
            refused = True
        steered["refused"] = refused
        _wait_until_answering(kube_api)
        time.sleep(0.3)
        patch_status(kube_api, ROOK[0], ROOK[1], kube_namespace, "iceberg", {"phase": "Ready"})

    steered = {}
    thread = _later(0, steer)
    result = wait_for(client, ROOK[0], ROOK[1], "iceberg", kube_namespace, phase_ready, timeout=40,
                      feed_factory=_feed_recorder(feeds))
    thread.join(15)
    assert steered["refused"], "the restart closed the port"
    assert result.obj["status"]["phase"] == "Ready"
    assert fault_report(kube_api.url)["restarts"] == 1
    assert feeds[0].rewatches >= 1 and not feeds[0].polling
    # Stored state survived the restart, as etcd's does.
    assert kube_api.request("GET", "/api/v1/namespaces/" + kube_namespace)[0] == 200


class RestartableServer:
    """A test server process of this test's own, with --state-file, that can be stopped and started again on
    the same port (no CRDs: core kinds only, so it starts in about a second)."""

    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.kubeconfig = os.path.join(self.workdir, "kubeconfig")
        self.state_file = os.path.join(self.workdir, "state.json")
        self.ready_file = os.path.join(self.workdir, "ready")
        self.port = 0
        self.process = None
        self.start()

    def start(self):
        if os.path.exists(self.ready_file):
            os.remove(self.ready_file)
        self.log = open(os.path.join(self.workdir, "kubeapi.log"), "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.kubeapi", "--port", str(self.port), "--kubeconfig", self.kubeconfig,
             "--ready-file", self.ready_file, "--state-file", self.state_file], cwd=REPO_ROOT,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.ready_file):
            assert self.process.poll() is None and time.monotonic() < deadline, "test server did not start"
            time.sleep(0.05)
        with open(self.ready_file) as handle:
            self.url = handle.read().strip()
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.log.close()

    def request(self, method, path, body=None, content_type="application/json"):
        import urllib.request
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


def test_waiter_survives_a_server_process_restart_with_its_state_kept(tmp_path):
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

    server = RestartableServer(tmp_path)
    try:
        path = "/api/v1/namespaces/default/configmaps"
        created = server.request("POST", path, {"metadata": {"name": "job"}, "data": {"state": "running"}})
        client = kube.KubeClient(get_api_client(kubeconfig=server.kubeconfig))
        feeds = []

        def steer():
            time.sleep(0.7)
            server.stop()  # the process ends, its state is written
            time.sleep(0.5)  # connections refused meanwhile
            server.start()  # a new process on the same port, the state read back
            server.request("PATCH", path + "/job", {"data": {"state": "done"}}, "application/merge-patch+json")

        thread = _later(0, steer)
        result = wait_for(client, "v1", "ConfigMap", "job", "default", lambda o: o["data"]["state"] == "done",
                          timeout=60, feed_factory=_feed_recorder(feeds))
        thread.join(30)
        assert result.obj["data"]["state"] == "done"
        assert result.obj["metadata"]["uid"] == created["metadata"]["uid"], "the same object, kept across restart"
        assert int(result.obj["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
        assert feeds[0].rewatches >= 1 and not feeds[0].polling
    finally:
        server.stop()


# -- the client: retries, and the create that already happened ----------------------------------------------------
def test_client_retries_reads_and_applies_and_honours_retry_after(kube_api, kube_namespace, faults):
    client = kube_client(kube_api)
    faults([{"code": 429, "every": 2, "retry_after": 1, "namespace": kube_namespace, "verbs": ["get"]},
            {"code": 503, "every": 2, "namespace": kube_namespace, "verbs": ["patch", "delete"]}])
    definition = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": kube_namespace},
                  "data": {"a": "1"}}
    started = time.monotonic()
    for _attempt in range(2):
        client.apply(definition)
        assert client.get("v1", "ConfigMap", "c", kube_namespace)["data"] == {"a": "1"}
    client.delete("v1", "ConfigMap", "c", kube_namespace)
    waited = time.monotonic() - started
    assert client.get("v1", "ConfigMap", "c", kube_namespace) is None
    statuses = [failure.split(":")[0] for _what, failure in client.retried]
    assert "HTTP 503 ServiceUnavailable" in statuses, client.retried
    # A 429 with Retry-After on a GET is retried by the transport itself (urllib3 honours the header) or by
    # KubeClient: either way after the server's Retry-After.
    report = fault_report(kube_api.url)
    assert [rule["injected"] for rule in report["rules"]] == [2, 2], report
    assert waited >= 1.0, "Retry-After: 1 was honoured"


def test_a_create_whose_answer_was_lost_is_the_object_existing(kube_api, kube_namespace, faults):
    client = kube_client(kube_api)
    # The server stores the object, then answers 500: the client cannot know the create happened.
    faults([{"code": 500, "every": 1, "limit": 1, "after": True, "namespace": kube_namespace, "verbs": ["create"]}])
    definition = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "once", "namespace": kube_namespace},
                  "data": {"a": "1"}}
    created = client.create(definition)
    assert created["metadata"]["name"] == "once" and created["data"] == {"a": "1"}
    assert [what for what, _failure in client.retried] == ["POST ConfigMap %s/once" % kube_namespace]
    # Someone else's object of that name is not taken for ours: the 409 stands.
    faults([{"code": 500, "every": 1, "limit": 1, "after": True, "namespace": kube_namespace, "verbs": ["create"]}])
    other = dict(definition, metadata={"name": "taken", "namespace": kube_namespace}, data={"a": "theirs"})
    client.create(other)
    with pytest.raises(kube.KubeError) as error:
        client.create(dict(other, data={"a": "ours"}))
    assert error.value.status == 409 and "already exists" in str(error.value)


# -- modules under ansible-playbook ------------------------------------------------------------------------------
def _module_tasks(namespace, state_namespace):
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-%d" % i, "namespace": namespace},
                "data": {"i": str(i)}} for i in range(4)]
    objects.append(user(namespace))
    return [
        {"name": "apply", "lakehouse.platform.k8s_apply": {
            "component": "faults", "phase": "phase1", "objects": objects, "state_namespace": state_namespace},
         "register": "applied"},
        {"name": "secret", "lakehouse.platform.k8s_generated_secret": {
            "name": "generated", "namespace": namespace, "component": "faults", "phase": "phase1",
            "state_namespace": state_namespace,
            "keys": {"password": {"random": {"length": 24, "chars": "alnum"}}, "user": {"value": "admin"}}},
         "register": "generated"},
        {"name": "wait", "lakehouse.platform.k8s_status_wait": {
            "api_version": ROOK[0], "kind": ROOK[1], "namespace": namespace, "name": "iceberg",
            "ready": "status.phase == 'Ready'", "timeout": 60},
         "register": "waited"},
    ]


def test_modules_converge_with_a_quarter_of_requests_failing(kube_api, kube_namespace, faults, k8s_playbook):
    state = kube_namespace  # the inventory ConfigMap lives beside the objects
    kube.ensure(kube_client(kube_api), user(kube_namespace), check_mode=False)
    patch_status(kube_api, ROOK[0], ROOK[1], kube_namespace, "iceberg", {"phase": "Ready"})
    rules = [{"code": 500, "probability": 0.15, "namespace": kube_namespace},
             {"code": 429, "probability": 0.12, "retry_after": 0, "namespace": kube_namespace},
             # a create that is stored but whose answer is lost
             {"code": 500, "every": 1, "limit": 1, "after": True, "namespace": kube_namespace, "verbs": ["create"],
              "resources": ["secrets"]}]
    faults(rules, seed=3)
    run = k8s_playbook(_module_tasks(kube_namespace, state))
    first = fault_report(kube_api.url)
    assert run.rc == 0, run
    injected = first["injected"]
    print("injected in the first run:", json.dumps(injected))
    matched = sum(rule["matched"] for rule in first["rules"][:1])
    assert matched >= 10 and 0.15 <= len(injected) / matched <= 0.6, (matched, injected)
    assert {fault["code"] for fault in injected} >= {500, 429}
    assert any(f["after"] and f["resource"] == "secrets" for f in injected), "the lost create was exercised"
    secret = kube_api.request("GET", "/api/v1/namespaces/%s/secrets/generated" % kube_namespace)[1]
    assert sorted(secret["data"]) == ["password", "user"]
    for i in range(4):
        assert kube_api.request("GET", "/api/v1/namespaces/%s/configmaps/cm-%d" % (kube_namespace, i))[0] == 200

    # Rerun under the same fault rate: converged, nothing changes, the secret keeps its value.
    faults(rules[:2], seed=5)
    rerun = k8s_playbook(_module_tasks(kube_namespace, state))
    assert rerun.rc == 0, rerun
    assert [r.get("changed") for r in rerun.results] == [False, False, False], rerun.results
    # The faults are cleared before the test reads the secret itself: its own GET must not meet an injected 500.
    assert clear_faults(kube_api.url)["injected"], "the rerun met faults too"
    assert kube_api.request("GET", "/api/v1/namespaces/%s/secrets/generated" % kube_namespace)[1]["data"] == \
        secret["data"]


def test_a_persistent_500_fails_naming_the_object_the_request_and_the_last_status(kube_api, kube_namespace, faults,
                                                                                  k8s_playbook):
    faults([{"code": 500, "every": 1, "namespace": kube_namespace, "resources": ["secrets"], "verbs": ["get"]}])
    started = time.monotonic()
    run = k8s_playbook(_module_tasks(kube_namespace, kube_namespace)[1:2])
    elapsed = time.monotonic() - started
    assert run.rc != 0
    msg = run.results[0]["msg"]
    assert "Secret %s/generated" % kube_namespace in msg, msg
    assert "GET request, 6 attempts; last status: HTTP 500 InternalError" in msg, msg
    assert elapsed < 40
    report = fault_report(kube_api.url)
    assert report["rules"][0]["injected"] == 6, report


def test_a_conflict_is_not_retried_and_names_the_object(kube_api, kube_namespace, faults, k8s_playbook):
    faults([{"code": 409, "every": 1, "namespace": kube_namespace, "verbs": ["patch"], "resources": ["configmaps"]}])
    run = k8s_playbook(_module_tasks(kube_namespace, kube_namespace)[:1])
    assert run.rc != 0
    msg = run.results[0]["msg"]
    assert "ConfigMap %s/cm-0" % kube_namespace in msg and "the object has been modified" in msg, msg
    assert fault_report(kube_api.url)["rules"][0]["injected"] == 1, "a 409 is an answer, not retried"
