"""platform_capacity_info end to end without a cluster: module args in, a fake client's lists, JSON out."""
import json
from collections import namedtuple

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KubeError
from ansible_collections.lakehouse.platform.plugins.modules import platform_capacity_info

GI = 2 ** 30


class FakeClient(object):
    """Answers list() from canned objects and records every call."""

    def __init__(self, objects, fail=None):
        self.objects = objects
        self.fail = fail
        self.calls = []

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        self.calls.append((api_version, kind, namespace, label_selector, field_selector))
        if self.fail:
            raise KubeError(self.fail, 403)
        items = self.objects.get(kind, [])
        if label_selector:
            wanted = dict(part.split("=", 1) for part in label_selector.split(","))
            items = [i for i in items if all(i["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())]
        return items


def node(name, cpu, memory, pods="110", labels=None, ready="True"):
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "50Gi"},
            "conditions": [{"type": "Ready", "status": ready}],
        },
    }


def pod(name, namespace, node_name, cpu, memory, phase="Running", ready="True"):
    result = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]},
    }
    if node_name:
        result["spec"]["nodeName"] = node_name
    return result


def pvc(name, namespace, size, storage_class, phase="Bound"):
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"storageClassName": storage_class, "resources": {"requests": {"storage": size}}},
        "status": {"phase": phase, "capacity": {"storage": size}} if phase == "Bound" else {"phase": phase},
    }


CLUSTER = {
    "Node": [
        node("worker-1", "8", "32Gi", labels={"role": "worker"}),
        node("worker-2", "8", "32Gi", labels={"role": "worker"}),
        node("control", "4", "16Gi", labels={"role": "control"}),
        node("broken", "16", "64Gi", labels={"role": "worker"}, ready="False"),
    ],
    "Pod": [
        pod("es-0", "data-platform", "worker-1", "2", "8Gi"),
        pod("es-1", "data-platform", "worker-2", "2", "8Gi"),
        pod("kafka-0", "data-platform", "worker-1", "1500m", "4Gi", ready="False"),
        pod("waiting", "data-platform", None, "1", "1Gi", phase="Pending", ready="False"),
        pod("etcd", "kube-system", "control", "500m", "1Gi"),
        pod("job", "ml-platform", "worker-2", "4", "4Gi", phase="Succeeded", ready="False"),
    ],
    "PersistentVolumeClaim": [
        pvc("data-es-0", "data-platform", "100Gi", "ceph-block"),
        pvc("data-es-1", "data-platform", "46Gi", "ceph-block"),
        pvc("new", "ml-platform", "200Gi", "ceph-block", phase="Pending"),
    ],
}


Run = namedtuple("Run", "result client created")


def run_module(monkeypatch, capsys, args, client=None):
    client = client if client is not None else FakeClient(CLUSTER)
    created = []

    def from_module(module):
        created.append(module)
        return client

    monkeypatch.setattr(platform_capacity_info.KubeClient, "from_module", staticmethod(from_module))
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            platform_capacity_info.main()
    return Run(json.loads(capsys.readouterr().out), client, created)


def test_reports_nodes_totals_storage_and_health(monkeypatch, capsys):
    result, client = run_module(monkeypatch, capsys, {})[:2]
    assert result["changed"] is False
    assert "failed" not in result
    # One list each: nodes, pods of all namespaces, PVCs of all namespaces.
    assert [call[1] for call in client.calls] == ["Node", "Pod", "PersistentVolumeClaim"]
    assert all(call[2] is None for call in client.calls)

    nodes = dict((n["name"], n) for n in result["nodes"])
    assert [n["name"] for n in result["nodes"]] == ["broken", "control", "worker-1", "worker-2"]
    w1 = nodes["worker-1"]
    assert w1["requested"]["cpu"] == "3500m"
    assert w1["requested"]["memory"] == "12Gi"
    assert w1["free"]["cpu_millicores"] == 4500
    assert w1["free"]["memory_bytes"] == 20 * GI
    assert w1["pods"] == 2
    assert nodes["worker-2"]["pods"] == 1  # the Succeeded job holds nothing
    assert nodes["broken"]["schedulable"] is False
    assert nodes["broken"]["unschedulable_reasons"] == ["NotReady"]

    totals = result["totals"]
    assert totals["allocatable"]["cpu"] == "36"
    assert totals["requested"]["cpu"] == "6"
    assert totals["schedulable_free"]["cpu"] == "14"  # worker-1 4.5 + worker-2 6 + control 3.5
    assert totals["pending"]["pods"] == 1
    assert totals["pending"]["cpu"] == "1"

    assert result["storage"]["total"]["capacity"] == "146Gi"
    assert result["storage"]["storage_classes"]["ceph-block"]["pending"] == 1

    health = result["health"]
    assert health["namespaces"]["data-platform"]["healthy"] == 2
    assert health["namespaces"]["data-platform"]["total"] == 4
    assert health["overall"]["summary"] == "66.7% (4/6 pods)"
    assert "fit" not in result


def test_namespaces_narrow_health_and_storage_but_not_nodes(monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, {"namespaces": ["ml-platform"]}).result
    assert list(result["health"]["namespaces"]) == ["ml-platform"]
    assert result["storage"]["total"]["requested"] == "200Gi"
    assert result["totals"]["requested"]["cpu"] == "6"


def test_node_selector_becomes_a_label_selector(monkeypatch, capsys):
    result, client = run_module(monkeypatch, capsys, {"node_selector": {"role": "worker"}})[:2]
    assert client.calls[0][3] == "role=worker"
    assert [n["name"] for n in result["nodes"]] == ["broken", "worker-1", "worker-2"]
    assert result["totals"]["pods_on_unlisted_nodes"] == 1  # etcd on the control node


def test_budget_fit(monkeypatch, capsys):
    budget = [
        {"name": "doris-be", "cpu": "4", "memory": "16Gi", "count": 2, "storage": "200Gi"},
        {"name": "ray-head", "cpu": 2, "memory": "30Gi"},
    ]
    result = run_module(monkeypatch, capsys, {"budget": budget}).result
    fit = result["fit"]
    # Free: control 3.5 cpu / 15Gi, worker-1 4.5 / 20Gi, worker-2 6 / 24Gi (broken is NotReady): 14 / 59Gi.
    # Dominant shares: ray-head 30/59 memory > doris-be 4/14 cpu, so ray-head is tried first and fits
    # nowhere; worker-2 comes closest, 6Gi short. Then doris-be skips control (3.5 cpu < 4).
    assert fit["placements"] == {"doris-be-0": "worker-1", "doris-be-1": "worker-2"}
    assert fit["fits"] is False
    (miss,) = fit["unplaced"]
    assert miss["pod"] == "ray-head"
    assert miss["node"] == "worker-2"
    assert miss["short"] == {"memory": "6Gi"}
    assert fit["requested_storage"] == "400Gi"
    assert fit["fits_in_total"] is False
    assert fit["total_shortfall"]["memory"] == "3Gi"


def test_include_pods(monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, {"include_pods": True}).result
    w1 = [n for n in result["nodes"] if n["name"] == "worker-1"][0]
    assert [(p["namespace"], p["name"], p["cpu"]) for p in w1["pod_requests"]] == [
        ("data-platform", "es-0", "2"), ("data-platform", "kafka-0", "1500m")]


@pytest.mark.parametrize(
    "budget, message",
    [
        ([{"name": "a", "cpu": "1"}, {"name": "b", "cpu": "2"}, {"name": "c", "cpu": "4Gx"}],
         "budget[2].cpu: invalid quantity '4Gx': unknown suffix 'Gx'"),
        ([{"name": "a", "memory": "-1Gi"}], "budget[0].memory: invalid quantity '-1Gi': negative quantities are not allowed"),
        ([{"name": "a", "count": -2}], "budget[0].count: must not be negative, got -2"),
        ([{"name": "a"}, {"name": "a"}], "budget[1].name: duplicate name 'a'"),
    ],
)
def test_bad_budget_fails_before_any_request(monkeypatch, capsys, budget, message):
    result, client, created = run_module(monkeypatch, capsys, {"budget": budget})
    assert result["failed"] is True
    assert result["msg"] == message
    assert created == [] and client.calls == []


def test_unknown_budget_key_is_refused_by_the_argument_spec(monkeypatch, capsys):
    result, client, created = run_module(monkeypatch, capsys, {"budget": [{"name": "a", "gpus": 1}]})
    assert result["failed"] is True
    assert "gpus" in result["msg"]
    assert created == []


def test_api_errors_are_reported(monkeypatch, capsys):
    result = run_module(monkeypatch, capsys, {}, client=FakeClient(CLUSTER, fail="nodes is forbidden")).result
    assert result["failed"] is True
    assert result["msg"] == "Could not read the cluster: nodes is forbidden"


def test_check_mode_reports_the_same(monkeypatch, capsys):
    normal = run_module(monkeypatch, capsys, {}).result
    checked, client = run_module(monkeypatch, capsys, {"_ansible_check_mode": True})[:2]
    assert checked["nodes"] == normal["nodes"]
    assert [call[1] for call in client.calls] == ["Node", "Pod", "PersistentVolumeClaim"]


def test_label_selector_rendering():
    assert platform_capacity_info.label_selector({"b": "2", "a": "1", "worker": ""}) == "a=1,b=2,worker="
    assert platform_capacity_info.label_selector({}) == ""


def test_unreadable_object_fails_naming_it(monkeypatch, capsys):
    broken = dict(CLUSTER, Node=[node("odd", "4Gx", "1Gi")])
    result = run_module(monkeypatch, capsys, {}, client=FakeClient(broken)).result
    assert result["failed"] is True
    assert result["msg"] == "Could not measure the cluster: Node odd: invalid quantity '4Gx': unknown suffix 'Gx'"
