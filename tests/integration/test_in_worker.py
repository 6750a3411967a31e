"""The collection's modules run in the task's worker process (plugins/plugin_utils/in_worker.py) with the
results a separate module process gives: the same playbook, once in the worker and once with
LAKEHOUSE_IN_WORKER=0, against the test server: a server-side apply that creates then finds nothing to
change, check mode, a generated Secret whose value stays out of the output, a failing wait naming its
object, kubernetes.core.k8s_info's read (lakehouse.platform.k8s_info), an option error, an async task (a
separate process both ways), and a task ``environment`` the module sees."""
import base64
import copy
import uuid

import pytest

from tests.integration.fixtures.kube import run_k8s_playbook

VOLATILE = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "elapsed",
            "ansible_job_id", "results_file")


def _tasks(namespace, state_namespace):
    configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "settings", "namespace": namespace, "labels": {"app": "in-worker"}},
                 "data": {"mode": "lakehouse"}}
    apply = {"component": "demo", "phase": "phase1", "objects": [configmap], "state_namespace": state_namespace}
    return [
        {"name": "apply (creates)", "lakehouse.platform.k8s_apply": apply},
        {"name": "apply again (unchanged)", "lakehouse.platform.k8s_apply": apply},
        {"name": "apply a change in check mode", "check_mode": True, "lakehouse.platform.k8s_apply": dict(
            apply, objects=[dict(configmap, data={"mode": "changed"})])},
        {"name": "generate a secret", "lakehouse.platform.k8s_generated_secret": {
            "name": "generated", "namespace": namespace, "keys": {"password": {"random": {"length": 24}}}}},
        {"name": "read the ConfigMaps", "lakehouse.platform.k8s_info": {
            "kind": "ConfigMap", "namespace": namespace, "label_selectors": ["app=in-worker"]}},
        {"name": "wait for what is not there", "ignore_errors": True, "lakehouse.platform.k8s_status_wait": {
            "kind": "ConfigMap", "name": "absent", "namespace": namespace, "ready": "data", "timeout": 0}},
        {"name": "an unknown option", "ignore_errors": True, "lakehouse.platform.k8s_status_wait": {
            "kind": "ConfigMap", "name": "x", "ready": "data", "timeout": 0, "colour": "blue"}},
        # An async task runs as a separate process (as ansible.builtin.normal runs it), polled to its end.
        {"name": "an async read", "async": 60, "poll": 1, "lakehouse.platform.k8s_info": {
            "kind": "ConfigMap", "namespace": namespace, "label_selectors": ["app=in-worker"]}},
        # The task's environment reaches the module: a kubeconfig that does not exist is refused by the client.
        {"name": "an environment the module sees", "ignore_errors": True,
         "environment": {"K8S_AUTH_KUBECONFIG": "/nonexistent/in-worker-kubeconfig"},
         "lakehouse.platform.k8s_info": {"kind": "ConfigMap", "namespace": namespace}},
    ]


def _normalized(value, namespace):
    """The result with per-run identities taken out (namespace names, uids, versions, times)."""
    value = copy.deepcopy(value)

    def walk(node):
        if isinstance(node, dict):
            for key in VOLATILE:
                node.pop(key, None)
            for key in list(node):
                node[key] = walk(node[key])
            return node
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            return node.replace(namespace, "<ns>")
        return node
    return walk(value)


@pytest.fixture
def two_namespaces(kube_api):
    names = ["inw-%s" % uuid.uuid4().hex[:8], "inw-%s" % uuid.uuid4().hex[:8]]
    for name in names:
        kube_api.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    yield names
    for name in names:
        kube_api.request("DELETE", "/api/v1/namespaces/" + name)
        kube_api.request("DELETE", "/api/v1/namespaces/" + name + "-state")


def test_worker_and_module_process_give_the_same_results(kube_api, tmp_path, two_namespaces):
    runs = {}
    for mode, namespace in zip(("1", "0"), two_namespaces):
        run = run_k8s_playbook(kube_api, tmp_path, _tasks(namespace, namespace + "-state"), env={
            "LAKEHOUSE_IN_WORKER": mode, "ANSIBLE_VERBOSITY": "3", "ANSIBLE_VERBOSE_TO_STDERR": "True"})
        assert run.rc == 0, run
        runs[mode] = (run, namespace)

    worker = runs["1"][0]
    process = runs["0"][0]
    # How each ran, as -vvv says it.
    assert worker.stderr.count("runs in the worker process") == 8, worker.stderr[-3000:]
    assert "runs as a separate process: LAKEHOUSE_IN_WORKER is off" in process.stderr
    assert worker.stderr.count("runs as a separate process: the task is async") == 1
    assert "runs in the worker process" not in process.stderr

    results = dict((mode, [_normalized(result, namespace) for result in run.results])
                   for mode, (run, namespace) in runs.items())
    created, unchanged, check, generated, read, wait, unknown, async_read, environment = results["1"]
    assert created["changed"] is True and [r["action"] for r in created["results"]] == ["created"]
    assert unchanged["changed"] is False and [r["action"] for r in unchanged["results"]] == ["unchanged"]
    assert check["changed"] is True
    assert generated["changed"] is True and generated["keys"] == ["password"]
    assert [o["metadata"]["name"] for o in read["resources"]] == ["settings"]
    assert async_read["finished"] == 1 and [o["metadata"]["name"] for o in async_read["resources"]] == ["settings"]
    assert wait["failed"] is True and "absent" in wait["msg"]
    assert unknown["failed"] is True and "colour" in unknown["msg"]
    assert environment["failed"] is True and "Invalid kube-config file" in environment["msg"]  # read it: failed
    assert results["1"] == results["0"]

    # Neither way lets the generated value out.
    for mode, (run, namespace) in runs.items():
        _status, secret, _headers = kube_api.request("GET", "/api/v1/namespaces/%s/secrets/generated" % namespace)
        password = base64.b64decode(secret["data"]["password"]).decode()
        assert password not in run.stdout and password not in run.stderr, mode
