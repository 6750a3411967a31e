"""raycluster_wait module: check mode reads once, waits use the RayCluster predicates, failures carry KubeRay's message."""
import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.lakehouse.platform.plugins.module_utils import raycluster
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import WaitFailed, WaitResult, WaitTimeout
from ansible_collections.lakehouse.platform.plugins.modules import raycluster_wait

from tests.unit.plugins.module_utils.test_raycluster import cond, ray_cluster


class FakeClient(object):
    def __init__(self, obj=None):
        self.obj = obj
        self.gets = 0

    def get(self, api_version, kind, name, namespace=None):
        assert (api_version, kind) == ("ray.io/v1", "RayCluster")
        self.gets += 1
        return self.obj


def run(args, monkeypatch, capsys, client, check_mode=False):
    monkeypatch.setattr(raycluster_wait.KubeClient, "from_module", staticmethod(lambda module: client))
    full = dict(name="ml", namespace="ml-platform", _ansible_check_mode=check_mode)
    full.update(args)
    with patch_module_args(full):
        with pytest.raises(SystemExit) as exit_info:
            raycluster_wait.main()
    return json.loads(capsys.readouterr().out), exit_info.value.code != 0


def test_waits_with_the_raycluster_predicates_and_reports_endpoints(monkeypatch, capsys):
    calls = []

    def fake_wait(client, api_version, kind, name, namespace, **kwargs):
        calls.append((api_version, kind, name, namespace, kwargs))
        return WaitResult(ray_cluster(), 0.8)

    monkeypatch.setattr(raycluster_wait, "wait_for", fake_wait)
    result, failed = run({"timeout": 30}, monkeypatch, capsys, FakeClient())
    assert not failed
    api_version, kind, name, namespace, kwargs = calls[0]
    assert (api_version, kind, name, namespace) == ("ray.io/v1", "RayCluster", "ml", "ml-platform")
    assert kwargs["ready"] is raycluster.is_ready
    assert kwargs["failed"] is raycluster.failure
    assert kwargs["failure_grace"] == 0 and kwargs["timeout"] == 30
    assert result["ready"] is True and result["waited"] is True and result["changed"] is False
    assert result["head_service"] == "ml-head-svc"
    assert result["dashboard_url"] == "http://ml-head-svc.ml-platform.svc:8265"
    assert result["workers"]["ready"] == 2 and result["workers"]["required"] == 2
    assert result["elapsed"] == 0.8
    assert result["problems"] == []


def test_check_mode_reads_once_and_reports_without_waiting(monkeypatch, capsys):
    monkeypatch.setattr(raycluster_wait, "wait_for", lambda *a, **k: pytest.fail("waited in check mode"))
    not_ready = ray_cluster(status={"readyWorkerReplicas": 1})
    client = FakeClient(not_ready)
    result, failed = run({}, monkeypatch, capsys, client, check_mode=True)
    assert not failed
    assert client.gets == 1
    assert result["waited"] is False and result["ready"] is False
    assert result["problems"] == ["1 of 2 desired workers ready"]


def test_check_mode_on_a_missing_cluster(monkeypatch, capsys):
    result, failed = run({}, monkeypatch, capsys, FakeClient(None), check_mode=True)
    assert not failed
    assert result["problems"] == ["the RayCluster does not exist"]


def test_replica_failure_fails_with_kuberays_message(monkeypatch, capsys):
    broken = ray_cluster(status={"conditions": [
        cond("HeadPodReady", "True", "HeadPodRunningAndReady"),
        cond("ReplicaFailure", "True", "FailedCreateWorkerPod", "exceeded quota: compute"),
    ]})

    def fail(*args, **kwargs):
        raise WaitFailed("RayCluster ml-platform/ml failed: %s" % raycluster.failure(broken), broken, 0.4)

    monkeypatch.setattr(raycluster_wait, "wait_for", fail)
    result, failed = run({}, monkeypatch, capsys, FakeClient())
    assert failed
    assert result["failure"] == "ReplicaFailure: FailedCreateWorkerPod: exceeded quota: compute"
    assert result["msg"].startswith("RayCluster ml-platform/ml failed: ReplicaFailure")
    assert "ReplicaFailure is True" in result["problems"]


def test_timeout_returns_last_problems(monkeypatch, capsys):
    stale = ray_cluster(generation=2, status={"observedGeneration": 1})

    def timeout(*args, **kwargs):
        raise WaitTimeout("Timed out after 5s waiting for RayCluster ml-platform/ml to be ready: last status: %s"
                          % raycluster.describe(stale), stale, 5.0)

    monkeypatch.setattr(raycluster_wait, "wait_for", timeout)
    result, failed = run({"timeout": 5}, monkeypatch, capsys, FakeClient())
    assert failed
    assert "observedGeneration 1 of generation 2" in result["msg"]
    assert result["problems"] == ["status is stale: observedGeneration 1, generation 2"]
    assert "failure" not in result


def test_negative_timeout_is_refused_before_any_request(monkeypatch, capsys):
    monkeypatch.setattr(raycluster_wait.KubeClient, "from_module",
                        staticmethod(lambda m: pytest.fail("reached for the cluster")))
    with patch_module_args(dict(name="ml", namespace="ml-platform", timeout=-1)):
        with pytest.raises(SystemExit):
            raycluster_wait.main()
    assert "Option 'timeout' must be 0 or more seconds" in json.loads(capsys.readouterr().out)["msg"]


def test_argument_spec_matches_documentation():
    documented = yaml.safe_load(raycluster_wait.DOCUMENTATION)["options"]
    own = set(raycluster_wait.argument_spec()) - set(raycluster_wait.kube_argument_spec())
    assert own == set(documented)
