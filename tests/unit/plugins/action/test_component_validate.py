"""component_validate's checks: templated in turn with what the checks before registered, retried with until,
judged by failed_when, skipped (and registered as skipped) by when, the clean-up marked always run after a
failure, only check_mode checks in check mode, a lasting write's change counted, a no_log check's result neither
returned nor in a message, the workloads check, and a malformed check named."""
import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible._internal._datatag._tags import TrustedAsTemplate

from ansible_collections.lakehouse.platform.plugins.plugin_utils import validate_spec as component_validate
from ansible_collections.lakehouse.platform.plugins.plugin_utils.role_vars import StepFailure


def _trusted(value):
    if isinstance(value, str):
        return TrustedAsTemplate().tag(value)
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    return value


class _Calls:
    def __init__(self, answers):
        self.answers = answers  # module name -> list of results, the last repeated
        self.calls = []

    def __call__(self, _action, name, args, _task_vars, no_log=False):
        self.calls.append((name, args, no_log))
        answers = self.answers[name]
        return dict(answers.pop(0) if len(answers) > 1 else answers[0])


def _step(monkeypatch, answers, variables=None, check_mode=False):
    calls = _Calls(answers)
    monkeypatch.setattr(component_validate, "run_action", calls)
    monkeypatch.setattr(component_validate.time, "sleep", lambda _seconds: None)
    variables = dict(_trusted(variables or {}))
    step = component_validate._Step(object(), "demo", Templar(loader=DataLoader(), variables=variables), variables,
                                    {"kubeconfig": "/k"}, check_mode)
    return step, calls


def test_checks_see_what_the_checks_before_registered_and_until_retries(monkeypatch):
    answers = {"lakehouse.platform.k8s_service_request": [
        {"json": {"id": "j1"}, "reached": True}, {"json": {"status": "RUNNING"}}, {"json": {"status": "SUCCEEDED"}}]}
    step, calls = _step(monkeypatch, answers, {"base": "/api"})
    step.run(_trusted([
        {"name": "submit", "action": "lakehouse.platform.k8s_service_request", "args": {"path": "{{ base }}/jobs"},
         "register": "job"},
        {"name": "poll", "action": "lakehouse.platform.k8s_service_request",
         "args": {"path": "{{ base }}/jobs/{{ job.json.id }}"}, "register": "status",
         "until": "status.json.status == 'SUCCEEDED'", "retries": 3, "delay": 0},
        {"assert": ["status.json.status == 'SUCCEEDED'"], "fail_msg": "demo: {{ status.json.status }}"},
        {"record": {"job": "{{ job.json.id }} {{ status.json.status }} after {{ status.attempts }}"}},
    ]), {"lakehouse.platform.k8s_service_request": {"component": "demo"}})
    assert [call[1]["path"] for call in calls.calls] == ["/api/jobs", "/api/jobs/j1", "/api/jobs/j1"]
    # module defaults, then the task's Kubernetes connection options for a module of the k8s group
    assert calls.calls[0][1] == {"component": "demo", "path": "/api/jobs", "kubeconfig": "/k"}
    assert step.record == {"job": "j1 SUCCEEDED after 2"}
    assert step.changed is False and [item["check"] for item in step.ran] == [
        "submit", "poll", "demo_validate_spec[2]", "demo_validate_spec[3]"]
    assert all(item["elapsed"] >= 0 for item in step.ran)


def test_until_gives_up_after_the_retries_naming_the_check(monkeypatch):
    step, _calls = _step(monkeypatch, {"lakehouse.platform.k8s_info": [{"resources": []}]})
    with pytest.raises(StepFailure) as err:
        step.run(_trusted([{"name": "find", "action": "lakehouse.platform.k8s_info", "args": {}, "register": "found",
                            "until": "found.resources | length > 0", "retries": 2, "delay": 0}]), {})
    assert str(err.value) == "demo: find: not done after 3 attempts (until found.resources | length > 0)"


def test_a_skipped_check_registers_skipped_and_failed_when_judges(monkeypatch):
    step, calls = _step(monkeypatch, {"kubernetes.core.k8s_exec": [{"failed": True, "rc": 1, "msg": "refused"}]},
                        {"enabled": False})
    step.run(_trusted([
        {"name": "off", "action": "kubernetes.core.k8s_exec", "args": {}, "register": "off", "when": "enabled"},
        {"name": "exec", "action": "kubernetes.core.k8s_exec", "args": {}, "register": "ran", "failed_when": False},
        {"record": {"off": "{{ off is skipped }}", "rc": "{{ ran.rc }}"}},
    ]), {})
    assert len(calls.calls) == 1 and step.record == {"off": True, "rc": 1}
    assert step.registered["off"]["skipped"] is True


def test_after_a_failure_only_always_checks_run_and_the_first_failure_is_raised(monkeypatch):
    step, calls = _step(monkeypatch, {"kubernetes.core.k8s": [{"changed": True, "result": {"metadata": {"name": "e1"}}}],
                                      "lakehouse.platform.k8s_status_wait": [{"failed": True, "msg": "demo: e1 ended Failed"}]})
    with pytest.raises(StepFailure) as err:
        step.run(_trusted([
            {"name": "start", "action": "kubernetes.core.k8s", "args": {"state": "present"}, "register": "started"},
            {"name": "wait", "action": "lakehouse.platform.k8s_status_wait", "args": {}},
            {"name": "later", "action": "kubernetes.core.k8s", "args": {"state": "later"}},
            {"name": "clean", "action": "kubernetes.core.k8s", "args": {"state": "absent", "name": "{{ started.result.metadata.name }}"},
             "always": True},
        ]), {})
    assert str(err.value) == "demo: e1 ended Failed" and err.value.check == "wait"
    assert [call[1].get("state") for call in calls.calls] == ["present", None, "absent"]
    assert calls.calls[2][1]["name"] == "e1"
    assert step.changed is False  # a probe's change does not count


def test_check_mode_runs_only_check_mode_checks_and_a_lasting_change_counts(monkeypatch):
    step, calls = _step(monkeypatch, {"lakehouse.platform.superset_database": [{"changed": True, "action": "created"}],
                                      "lakehouse.platform.k8s_info": [{"resources": []}]}, check_mode=True)
    step.run(_trusted([
        {"name": "read", "action": "lakehouse.platform.k8s_info", "args": {}},
        {"name": "connect", "action": "lakehouse.platform.superset_database", "args": {}, "register": "connected",
         "lasting": True, "check_mode": True},
        {"record": {"superset": "{{ connected.action }}"}, "check_mode": True},
    ]), {})
    assert [call[0] for call in calls.calls] == ["lakehouse.platform.superset_database"]
    assert step.changed is True and step.record == {"superset": "created"}


def test_a_no_log_check_keeps_its_result_and_message_to_itself(monkeypatch):
    step, _calls = _step(monkeypatch, {"lakehouse.platform.k8s_info": [{"failed": True, "msg": "secret value s3cr3t"}]})
    with pytest.raises(StepFailure) as err:
        step.run(_trusted([{"name": "read the password", "action": "lakehouse.platform.k8s_info", "args": {},
                            "register": "auth", "no_log": True}]), {})
    assert str(err.value) == "demo: read the password: failed (details hidden: no_log)"
    assert err.value.result == {} and "auth" not in step.registered


def test_the_workloads_check_names_what_is_missing_and_what_is_not_ready(monkeypatch):
    ready = {"kind": "StatefulSet", "metadata": {"name": "db", "generation": 1},
             "spec": {"replicas": 1}, "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1,
                                                 "updatedReplicas": 1, "currentReplicas": 1, "availableReplicas": 1}}
    step, calls = _step(monkeypatch, {"lakehouse.platform.k8s_info": [{"resources": [ready]}, {"resources": []},
                                                                      {"resources": []}, {"resources": []}]})
    with pytest.raises(StepFailure) as err:
        step.run(_trusted([{"workloads": {"namespace": "ns", "selectors": ["app=db", "app=web"]}}]), {})
    assert str(err.value) == "demo: no StatefulSet or Deployment labelled app=web in ns"
    assert [(call[1]["kind"], call[1]["label_selectors"]) for call in calls.calls] == [
        ("StatefulSet", ["app=db"]), ("Deployment", ["app=db"]), ("StatefulSet", ["app=web"]), ("Deployment", ["app=web"])]


def test_a_malformed_check_is_named(monkeypatch):
    step, _calls = _step(monkeypatch, {})
    with pytest.raises(StepFailure) as err:
        step.run(_trusted([{"name": "two kinds", "assert": ["true"], "record": {}}]), {})
    assert str(err.value).startswith("demo: demo_validate_spec[0] is one of action, assert, workloads, record")
