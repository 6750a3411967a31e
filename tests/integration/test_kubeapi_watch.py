"""Watch streams: the Python client's watch.Watch, raw chunked streams, kubectl get -w, 410 Gone."""
import json
import subprocess
import threading
import time

from kubernetes import client, watch


def _collect(function, *args, **kwargs):
    events = []

    def run():
        for event in watch.Watch().stream(function, *args, **kwargs):
            obj = event["object"]
            events.append((event["type"], obj.metadata.name, dict(obj.data or {})))

    thread = threading.Thread(target=run)
    thread.start()
    return events, thread


def test_python_client_watch_sees_added_modified_deleted(kube_api, kube_namespace):
    core = client.CoreV1Api(kube_api.api_client())
    core.create_namespaced_config_map(kube_namespace, {"metadata": {"name": "before"}, "data": {"v": "0"}})
    events, thread = _collect(core.list_namespaced_config_map, kube_namespace, timeout_seconds=3)
    time.sleep(0.5)
    core.create_namespaced_config_map(kube_namespace, {"metadata": {"name": "w"}, "data": {"v": "1"}})
    core.patch_namespaced_config_map("w", kube_namespace, {"data": {"v": "2"}})
    core.delete_namespaced_config_map("w", kube_namespace)
    thread.join(10)
    assert events == [("ADDED", "before", {"v": "0"}), ("ADDED", "w", {"v": "1"}), ("MODIFIED", "w", {"v": "2"}),
                      ("DELETED", "w", {"v": "2"})]


def test_label_filtered_watch_sees_objects_enter_and_leave(kube_api, kube_namespace):
    core = client.CoreV1Api(kube_api.api_client())
    listing = core.list_namespaced_config_map(kube_namespace)
    events, thread = _collect(core.list_namespaced_config_map, kube_namespace, label_selector="pick=yes",
                              resource_version=listing.metadata.resource_version, timeout_seconds=3)
    time.sleep(0.5)
    core.create_namespaced_config_map(kube_namespace, {"metadata": {"name": "m", "labels": {"pick": "no"}}})
    core.patch_namespaced_config_map("m", kube_namespace, {"metadata": {"labels": {"pick": "yes"}}})
    core.patch_namespaced_config_map("m", kube_namespace, {"data": {"k": "v"}})
    core.patch_namespaced_config_map("m", kube_namespace, {"metadata": {"labels": {"pick": "no"}}})
    thread.join(10)
    assert [(e[0], e[1]) for e in events] == [("ADDED", "m"), ("MODIFIED", "m"), ("DELETED", "m")]


def test_raw_watch_stream_resumes_from_resource_version(kube_api, kube_namespace):
    base = f"/api/v1/namespaces/{kube_namespace}/configmaps"
    _status, first, _headers = kube_api.request("POST", base, {"metadata": {"name": "a"}})
    kube_api.request("POST", base, {"metadata": {"name": "b"}})
    since = first["metadata"]["resourceVersion"]
    status, body, headers = kube_api.request("GET", base + f"?watch=1&resourceVersion={since}&timeoutSeconds=1",
                                             decode=False)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert headers["Transfer-Encoding"] == "chunked"
    events = [json.loads(line) for line in body.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b")]
    assert events[0]["object"]["kind"] == "ConfigMap" and events[0]["object"]["apiVersion"] == "v1"
    status, body, _headers = kube_api.request("GET", f"/api/v1/watch/namespaces/{kube_namespace}/configmaps/a"
                                                     "?timeoutSeconds=1", decode=False)
    assert [json.loads(line)["object"]["metadata"]["name"] for line in body.splitlines()] == ["a"]


def test_too_old_resource_version_gets_410_error_event(kube_api, kube_namespace):
    status, body, _headers = kube_api.request(
        "GET", f"/api/v1/namespaces/{kube_namespace}/configmaps?watch=true&resourceVersion=5&timeoutSeconds=1",
        decode=False)
    event = json.loads(body.splitlines()[0])
    assert status == 200 and event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    assert event["object"]["kind"] == "Status"


def test_kubectl_get_watch(kube_api, kube_namespace, kubectl):
    watcher = subprocess.Popen(["kubectl", "get", "configmaps", "-n", kube_namespace, "-w", "-o", "name",
                                "--request-timeout=6s"], env=kube_api.env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        kubectl("create", "-n", kube_namespace, "-f", "-", input=json.dumps(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seen"}}))
        line = watcher.stdout.readline()
        assert line.strip() == "configmap/seen"
    finally:
        watcher.terminate()
        watcher.wait(10)
