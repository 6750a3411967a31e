"""roles/preflight: variable checks first and without the cluster, capacity fit (declared or measured),
the phase 1 storage trigger with a recorded override, and the run lock. Every refusal states the measured
figure and the threshold, and a refused preflight changes nothing."""
import time
import uuid

import pytest

from tests.integration.k8s_compare import create_ready_node, delete_node

DECLARED = {
    "nodes": [{"name": "node-1", "cpu": "8", "memory": "32Gi", "requested": {"cpu": "2", "memory": "8Gi"}},
              {"name": "node-2", "cpu": "8", "memory": "32Gi", "requested": {"cpu": "2", "memory": "8Gi"}}],
    "storage_used": "146Gi",
    "pods": {"running": 108, "total": 130},
}
BUDGETS = {
    "demo_a_budget": {"cpu": "400m", "memory": "3Gi", "storage": "10Gi",
                      "pods": [{"name": "api", "cpu": "200m", "memory": "1Gi", "count": 2}]},
    "demo_b_budget": {"storage": "55Gi", "pods": [{"name": "db", "cpu": "1", "memory": "4Gi"}]},
}
REASON = "Build the foundation ahead of need, as the phase 1 runbook did."


def preflight_play(mode="render", tasks_from="main", **overrides):
    variables = {"platform_mode": mode, "platform_phase": "phase1", "platform_phase_components": ["demo_a", "demo_b"],
                 "platform_declared_capacity": DECLARED, "platform_operator": "tester"}
    variables.update(BUDGETS)
    variables.update(overrides)
    role = {"name": "lakehouse.platform.preflight", "tasks_from": tasks_from}
    return [{"name": "Preflight", "ansible.builtin.include_role": role, "vars": variables},
            {"name": "Show the result", "ansible.builtin.debug": {"var": "preflight_run"}}]


def failure(run):
    failed = [r for r in run.results if r.get("failed")]
    assert run.rc != 0 and failed, run
    return failed[-1]["msg"]


def result(run):
    assert run.rc == 0, run
    return run.results[-1]["preflight_run"]


def test_below_the_trigger_without_a_reason_is_refused_with_both_figures(k8s_playbook):
    message = failure(k8s_playbook(preflight_play()))
    assert "storage used is 146Gi, below the trigger of 200Gi" in message
    assert "platform_override_reason" in message


def test_a_reason_too_short_to_be_a_justification_is_refused(k8s_playbook):
    message = failure(k8s_playbook(preflight_play(platform_override_reason="because")))
    assert "platform_override_reason has 7 characters" in message and "at least 20" in message


def test_override_is_recorded_with_who_when_why(k8s_playbook):
    run = result(k8s_playbook(preflight_play(platform_override_reason=REASON)))
    override = run["override"]
    assert override["who"] == "tester" and override["why"] == REASON
    assert override["measured"] == "146Gi" and override["threshold"] == "200Gi"
    assert override["when"] == run["started_at"]
    assert run["trigger"]["met"] is False
    # Budget: component totals where stated (demo_a), sum of pods otherwise (demo_b), exact.
    assert run["budget"]["cpu"] == "1400m" and run["budget"]["memory"] == "7Gi" and run["budget"]["storage"] == "65Gi"
    assert run["fit"]["fits"] is True
    assert sorted(run["fit"]["placements"]) == ["demo_a/api-0", "demo_a/api-1", "demo_b/db"]
    assert run["health_before"]["summary"] == "83.1% (108/130 pods)"
    assert run["lock"]["taken"] is False  # render mode has no cluster to lock


def test_trigger_met_needs_no_override(k8s_playbook):
    declared = dict(DECLARED, storage_used="250Gi")
    run = result(k8s_playbook(preflight_play(platform_declared_capacity=declared)))
    assert run["trigger"]["met"] is True and run["override"] == {}


def test_budget_that_does_not_fit_a_node_is_refused_with_the_shortfall(k8s_playbook):
    budgets = {"demo_b_budget": {"pods": [{"name": "db", "cpu": "7", "memory": "4Gi"}]}}
    message = failure(k8s_playbook(preflight_play(platform_override_reason=REASON, **budgets)))
    assert "does not fit the 2 schedulable nodes (free cpu 12, memory 48Gi" in message
    assert "demo_b/db: needs cpu 7, memory 4Gi" in message and "short of cpu 1" in message


def test_budget_must_leave_the_buffer_free(k8s_playbook):
    # Fits the nodes (4500m on each 6-core free node) but not within 70% of the free 12 cores.
    budgets = {"demo_b_budget": {"pods": [{"name": "db", "cpu": "4500m", "memory": "4Gi", "count": 2}]}}
    message = failure(k8s_playbook(preflight_play(platform_override_reason=REASON, **budgets)))
    assert "needs cpu 9400m and memory 10Gi" in message
    assert "keeping 30% of the free capacity (cpu 12, memory 48Gi)" in message
    assert "at most cpu 8400m and memory 33.6Gi" in message


def test_disabled_component_is_left_out_of_the_budget(k8s_playbook):
    run = result(k8s_playbook(preflight_play(platform_override_reason=REASON, demo_b_enabled=False)))
    assert run["enabled_components"] == ["demo_a"] and run["budget"]["cpu"] == "400m"


def test_missing_budget_names_the_component(k8s_playbook):
    message = failure(k8s_playbook(preflight_play(platform_phase_components=["demo_a", "demo_c"])))
    assert "no budget for demo_c" in message


def test_variable_errors_are_refused_before_any_request(kube_api, k8s_playbook):
    budgets = {"demo_a_budget": {"pods": [{"name": "api", "cpu": "4Gx", "memory": "1Gi"}]}}
    kube_api.reset_counts()
    run = k8s_playbook(preflight_play(mode="apply", **budgets))
    assert "demo_a_budget.pods[0].cpu" in failure(run) and "4Gx" in failure(run)
    assert kube_api.request_counts().count() == 0


def _lease(kube_api, namespace):
    status, body, _headers = kube_api.request(
        "GET", "/apis/coordination.k8s.io/v1/namespaces/%s/leases/lakehouse-platform-run" % namespace)
    return body if status == 200 else None


@pytest.fixture
def roomy_node(kube_api):
    """A Ready node with room for the budgets (the fit may use other tests' nodes too)."""
    name = create_ready_node(kube_api, "preflight-" + uuid.uuid4().hex[:8])
    yield name
    delete_node(kube_api, name)


def apply_play(namespace, **overrides):
    variables = {"platform_state_namespace": namespace, "platform_override_reason": REASON,
                 # Storage of the whole (shared) test cluster is unknown: a threshold no test reaches.
                 "platform_phase_triggers": {"phase1": {"storage_used": "1Ei"}}}
    variables.update(overrides)
    return preflight_play(mode="apply", **variables)


def test_check_mode_measures_but_takes_no_lock(kube_api, kube_namespace, roomy_node, k8s_playbook):
    kube_api.reset_counts()
    run = result(k8s_playbook(apply_play(kube_namespace), check=True))
    assert run["fit"]["fits"] is True and run["capacity_source"] == "cluster"
    assert run["lock"]["taken"] is False
    counts = kube_api.request_counts()
    assert sum(counts.count(verb=v, dry_run=False) for v in ("create", "update", "patch", "delete")) == 0
    assert _lease(kube_api, kube_namespace) is None


def test_run_lock_is_exclusive_refusal_changes_nothing_and_stale_locks_are_taken_over(
        kube_api, kube_namespace, roomy_node, k8s_playbook):
    first = result(k8s_playbook(apply_play(kube_namespace, platform_operator="alice")))
    assert first["lock"]["taken"] is True
    lease = _lease(kube_api, kube_namespace)
    assert lease["spec"]["holderIdentity"] == "alice/" + first["id"]
    annotations = lease["metadata"]["annotations"]
    assert annotations["lakehouse.platform/phase"] == "phase1"
    assert annotations["lakehouse.platform/since"] == first["started_at"]

    kube_api.reset_counts()
    refused = k8s_playbook(apply_play(kube_namespace, platform_operator="bob"))
    message = failure(refused)
    assert "held by alice/%s (phase phase1, since %s" % (first["id"], first["started_at"]) in message
    assert "platform_lock_ttl=3600s" in message
    counts = kube_api.request_counts()
    assert sum(counts.count(verb=v, dry_run=False) for v in ("create", "update", "patch", "delete")) == 0
    assert _lease(kube_api, kube_namespace)["spec"]["holderIdentity"] == "alice/" + first["id"]

    time.sleep(2.5)
    tasks = apply_play(kube_namespace, platform_operator="carol", platform_lock_ttl=1)
    tasks.insert(1, {"name": "Release", "ansible.builtin.include_role": {"name": "lakehouse.platform.preflight",
                                                                         "tasks_from": "release"},
                     "vars": {"platform_mode": "apply"}})
    takeover = k8s_playbook(tasks)
    third = result(takeover)
    assert third["lock"]["took_over"] == "alice/" + first["id"]
    assert any("Taking over the stale run lock of alice/" in str(r.get("warnings", [])) for r in takeover.results)
    assert _lease(kube_api, kube_namespace) is None  # released by its holder at the end
