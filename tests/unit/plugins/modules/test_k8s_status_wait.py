# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_status_wait: expression semantics, validation before any cluster access, and result shape."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import WaitResult, WaitTimeout
from ansible_collections.lakehouse.platform.plugins.modules import k8s_status_wait as module_under_test
from ansible_collections.lakehouse.platform.plugins.modules.k8s_status_wait import (
    StatusExpressions,
    jmespath_true,
    validate,
)


def app(health, sync, generation=1, observed=None, operation="Succeeded"):
    status = {"health": {"status": health}, "sync": {"status": sync}, "operationState": {"phase": operation}}
    if observed is not None:
        status["observedGeneration"] = observed
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "mlflow", "namespace": "argocd", "generation": generation}, "status": status}


APP_READY = "status.health.status == 'Healthy' && status.sync.status == 'Synced'"


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (None, False), ("", False), ([], False), ({}, False),
    ("x", True), (0, True), ([0], True), ({"a": 1}, True),
])
def test_jmespath_truthiness(value, expected):
    assert jmespath_true(value) is expected


def test_ready_expression_over_nested_status():
    expressions = StatusExpressions(APP_READY)
    assert expressions.ready(app("Healthy", "Synced"))
    assert not expressions.ready(app("Healthy", "OutOfSync"))
    assert expressions.matched["ready"] is False


def test_observed_generation_must_be_current_when_reported():
    expressions = StatusExpressions(APP_READY)
    assert not expressions.ready(app("Healthy", "Synced", generation=2, observed=1))
    assert expressions.matched["generation_current"] is False
    assert "older generation" in expressions.describe(app("Healthy", "Synced", generation=2, observed=1))
    assert expressions.ready(app("Healthy", "Synced", generation=2, observed=2))
    assert expressions.ready(app("Healthy", "Synced", generation=2))  # not reported: expression alone
    relaxed = StatusExpressions(APP_READY, require_observed_generation=False)
    assert relaxed.ready(app("Healthy", "Synced", generation=2, observed=1))


def test_failed_expression_message():
    expressions = StatusExpressions(APP_READY, "status.health.status == 'Degraded'")
    assert expressions.failed(app("Progressing", "Synced")) is None
    assert expressions.failed(app("Degraded", "Synced")) == "failed expression \"status.health.status == 'Degraded'\" is true"
    with_message = StatusExpressions(
        "status.phase == 'Ready'", "status.conditions[?type=='ReplicaFailure' && status=='True'].message | [0]")
    failing = {"status": {"conditions": [{"type": "ReplicaFailure", "status": "True", "message": "quota exceeded"}]}}
    assert with_message.failed(failing) == "quota exceeded"
    assert with_message.failed({"status": {"conditions": []}}) is None


def test_expression_type_error_means_not_ready_yet():
    expressions = StatusExpressions("length(status.conditions) > `0`")
    assert not expressions.ready({"status": {}})
    assert "ready expression error" in expressions.describe({"status": {}})
    assert expressions.ready({"status": {"conditions": [{"type": "Ready"}]}})


def params(**overrides):
    base = dict(ready=APP_READY, failed=None, failure_grace=0, require_observed_generation=True, timeout=300)
    base.update(overrides)
    return base


@pytest.mark.parametrize("overrides, message", [
    (dict(ready="status.phase == 'Ready"), "Invalid JMESPath expression in option 'ready'"),
    (dict(failed="status.[phase"), "Invalid JMESPath expression in option 'failed'"),
    (dict(timeout=-1), "Option 'timeout' must be 0 or more"),
    (dict(failure_grace=-5, failed="status.x"), "Option 'failure_grace' must be 0 or more"),
    (dict(failure_grace=5), "Option 'failure_grace' needs option 'failed'"),
])
def test_validation_names_the_option(overrides, message):
    with pytest.raises(ValueError) as err:
        validate(params(**overrides))
    assert message in str(err.value)


# -- main(): runs the module in-process with the client and the wait replaced -------------------------
class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get("msg"))
        self.result = result
        self.failed = failed


@pytest.fixture
def run_module(monkeypatch):
    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(args):
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as done:
                module_under_test.main()
        return done.value
    return run


ARGS = dict(api_version="argoproj.io/v1alpha1", kind="Application", namespace="argocd", name="mlflow",
            ready=APP_READY, failed="status.health.status == 'Degraded'", failure_grace=10, timeout=60)


def test_invalid_expression_fails_before_any_client_is_made(run_module, monkeypatch):
    def no_client(module):
        raise AssertionError("the cluster must not be contacted")
    monkeypatch.setattr(module_under_test.KubeClient, "from_module", staticmethod(no_client))
    done = run_module(dict(ARGS, ready="status.health.status == 'Healthy"))
    assert done.failed and "option 'ready'" in done.result["msg"]


def test_success_returns_object_elapsed_and_matched(run_module, monkeypatch):
    seen = {}
    monkeypatch.setattr(module_under_test.KubeClient, "from_module", staticmethod(lambda module: "client"))

    def fake_wait_for(client, api_version, kind, name, namespace, ready, failed, timeout, failure_grace, describe):
        seen.update(api_version=api_version, kind=kind, timeout=timeout, failure_grace=failure_grace)
        obj = app("Healthy", "Synced")
        assert failed(obj) is None and ready(obj)
        return WaitResult(obj, 1.23456)

    monkeypatch.setattr(module_under_test, "wait_for", fake_wait_for)
    done = run_module(ARGS)
    assert not done.failed and done.result["changed"] is False
    assert done.result["ready"] and done.result["waited"] and done.result["elapsed"] == 1.235
    assert done.result["matched"] == {"ready": True, "failed": False, "generation_current": True}
    assert done.result["resource"]["metadata"]["name"] == "mlflow"
    assert seen == dict(api_version="argoproj.io/v1alpha1", kind="Application", timeout=60, failure_grace=10)


def test_timeout_fails_with_the_waiters_message_and_last_object(run_module, monkeypatch):
    monkeypatch.setattr(module_under_test.KubeClient, "from_module", staticmethod(lambda module: "client"))

    def fake_wait_for(*args, **kwargs):
        raise WaitTimeout("Timed out after 60s waiting for Application argocd/mlflow: last status: ...",
                          app("Progressing", "Synced"), 60.0)

    monkeypatch.setattr(module_under_test, "wait_for", fake_wait_for)
    done = run_module(ARGS)
    assert done.failed and done.result["msg"].startswith("Timed out after 60s waiting for Application argocd/mlflow")
    assert done.result["resource"]["status"]["health"]["status"] == "Progressing"


def test_check_mode_reads_once_and_does_not_fail(run_module, monkeypatch):
    class Client(object):
        def get(self, api_version, kind, name, namespace):
            return app("Progressing", "OutOfSync")

    monkeypatch.setattr(module_under_test.KubeClient, "from_module", staticmethod(lambda module: Client()))
    monkeypatch.setattr(module_under_test, "wait_for", None)  # must not be called
    done = run_module(dict(ARGS, _ansible_check_mode=True))
    assert not done.failed and done.result["ready"] is False and done.result["waited"] is False
    assert done.result["matched"]["ready"] is False


def test_check_mode_with_kind_not_installed_reports_not_ready(run_module, monkeypatch):
    from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KindNotFound

    class Client(object):
        def get(self, api_version, kind, name, namespace):
            raise KindNotFound("Kind Application not found in apiVersion argoproj.io/v1alpha1")

    warnings = []
    monkeypatch.setattr(module_under_test.KubeClient, "from_module", staticmethod(lambda module: Client()))
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, message: warnings.append(message))
    done = run_module(dict(ARGS, _ansible_check_mode=True))
    assert not done.failed and done.result["ready"] is False and "resource" not in done.result
    assert warnings and "Kind Application not found" in warnings[0]
