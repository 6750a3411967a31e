"""warm_workers: the Kubernetes client is imported in the controller after the first task that talks to Kubernetes
(a Kubernetes module, or a phase action in apply mode), never after a render run's tasks; and the controller-side
phase actions do not import it themselves (so a render run never pays for it)."""
import subprocess
import sys

from ansible_collections.lakehouse.platform.plugins.callback import warm_workers
from ansible_collections.lakehouse.platform.plugins.plugin_utils import role_vars


class _Task:
    def __init__(self, action):
        self.resolved_action = action


class _Result:
    def __init__(self, action, answer):
        self._task = _Task(action)
        self._result = answer


def _warmed(monkeypatch, results):
    loaded = []
    monkeypatch.setattr(warm_workers.in_worker, "preload", lambda: loaded.append(True))
    callback = warm_workers.CallbackModule()
    for result in results:
        callback.v2_runner_on_ok(result)
    return len(loaded)


def test_a_render_run_imports_nothing(monkeypatch):
    assert _warmed(monkeypatch, [
        _Result("lakehouse.platform.phase_plan", {"ansible_facts": {"platform_plan": {"mode": "render"}}}),
        _Result("lakehouse.platform.phase_preflight", {"ansible_facts": {"preflight_run": {"mode": "render"}}}),
        _Result("lakehouse.platform.component_apply", {"components": [{"component": "ray", "mode": "render"}]}),
        _Result("lakehouse.platform.component_validate", {"components": [{"component": "ray", "ran": []}]}),
        _Result("lakehouse.platform.controller_files", {}),
    ]) == 0


def test_the_plan_of_an_apply_run_or_a_kubernetes_module_warms_once(monkeypatch):
    assert _warmed(monkeypatch, [
        _Result("lakehouse.platform.phase_plan", {"ansible_facts": {"platform_plan": {"mode": "apply"}}}),
        _Result("lakehouse.platform.k8s_info", {}),
    ]) == 1
    assert _warmed(monkeypatch, [_Result("lakehouse.platform.k8s_status_wait", {})]) == 1
    assert _warmed(monkeypatch, [_Result("lakehouse.platform.component_wait", {"components": [{"waited": []}]})]) == 1


def test_the_controller_side_actions_do_not_import_the_kubernetes_client():
    code = ("import sys\n"
            "from ansible_collections.lakehouse.platform.plugins.action import (component_apply, component_validate,"
            " component_wait, phase_preflight, phase_plan)\n"
            "print(sorted(name for name in sys.modules if name == 'kubernetes' or name.startswith('kubernetes.')))\n")
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": ":".join(sys.path)})
    assert answer.stdout.strip() == "[]", answer.stdout + answer.stderr
    assert "kubeconfig" in role_vars.AUTH_OPTIONS and "steps" in role_vars.STEP_OPTIONS
