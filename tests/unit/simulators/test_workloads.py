"""Workload controller decisions and statuses (pure functions)."""
import copy

from tests.simulators.workloads import (deployment_status, job_status, pod_from_template, pods_to_delete,
                                        replicaset_status, statefulset_plan, statefulset_status)

NOW = "2026-01-01T10:00:00Z"


def pod(name, ready=True, phase="Running", revision="r1", created="2026-01-01T00:00:00Z"):
    return {"metadata": {"name": name, "labels": {"controller-revision-hash": revision},
                         "creationTimestamp": created},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def sts(replicas, parallel=False):
    spec = {"replicas": replicas}
    if parallel:
        spec["podManagementPolicy"] = "Parallel"
    return {"metadata": {"name": "db", "generation": 4}, "spec": spec}


def test_ordered_ready_creates_one_pod_at_a_time():
    assert statefulset_plan(sts(3), [], "r1") == ([0], [])
    assert statefulset_plan(sts(3), [pod("db-0", ready=False)], "r1") == ([], [])
    assert statefulset_plan(sts(3), [pod("db-0")], "r1") == ([1], [])


def test_parallel_creates_every_missing_ordinal():
    assert statefulset_plan(sts(3, parallel=True), [pod("db-1", ready=False)], "r1") == ([0, 2], [])


def test_scale_down_removes_highest_ordinals_first():
    pods = [pod("db-0"), pod("db-1"), pod("db-2")]
    assert statefulset_plan(sts(1), pods, "r1") == ([], ["db-2", "db-1"])


def test_new_revision_rolls_one_pod_at_a_time_from_the_top():
    pods = [pod("db-0", revision="old"), pod("db-1", revision="old")]
    assert statefulset_plan(sts(2), pods, "new") == ([], ["db-1"])
    assert statefulset_plan(sts(2), [pods[0], pod("db-1", ready=False, revision="new")], "new") == ([], [])


def test_statefulset_status_counts_ready_and_updated():
    status = statefulset_status(sts(2), [pod("db-0"), pod("db-1", ready=False, revision="old")], "r1")
    assert status == {"observedGeneration": 4, "replicas": 2, "readyReplicas": 1, "availableReplicas": 1,
                      "currentReplicas": 1, "updatedReplicas": 1, "currentRevision": "r1", "updateRevision": "r1",
                      "collisionCount": 0}


def test_scale_down_prefers_unready_then_newest_pods():
    old = pod("a", created="2026-01-01T00:00:00Z")
    new = pod("b", created="2026-01-02T00:00:00Z")
    broken = pod("c", ready=False)
    assert [p["metadata"]["name"] for p in pods_to_delete([old, new, broken], 2)] == ["c", "b"]


def test_deployment_status_from_replicasets():
    deploy = {"metadata": {"generation": 3}, "spec": {"replicas": 2}}
    new_rs = {"metadata": {"name": "web-new"}, "status": {"replicas": 2, "readyReplicas": 1, "availableReplicas": 1}}
    old_rs = {"metadata": {"name": "web-old"}, "status": {"replicas": 0}}
    status = deployment_status(deploy, [new_rs, old_rs], "web-new")
    assert status["updatedReplicas"] == 2 and status["readyReplicas"] == 1 and status["unavailableReplicas"] == 1
    assert status["observedGeneration"] == 3
    available = next(c for c in status["conditions"] if c["type"] == "Available")
    assert available["status"] == "False" and available["reason"] == "MinimumReplicasUnavailable"
    new_rs["status"].update(readyReplicas=2, availableReplicas=2)
    status = deployment_status(deploy, [new_rs, old_rs], "web-new")
    assert "unavailableReplicas" not in status
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "NewReplicaSetAvailable"


def test_replicaset_status():
    assert replicaset_status({"metadata": {"generation": 2}}, [pod("a"), pod("b", ready=False)]) == {
        "replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 2}


def test_job_completes_or_fails_after_the_backoff_limit():
    job = {"spec": {"backoffLimit": 1}, "status": {}}
    assert job_status(job, [pod("j1", phase="Running")], NOW)["active"] == 1
    done = job_status(job, [pod("j1", phase="Succeeded")], NOW)
    assert [c["type"] for c in done["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert done["completionTime"] == NOW
    one_failure = job_status(job, [pod("j1", phase="Failed")], NOW)
    assert "conditions" not in one_failure and one_failure["failed"] == 1
    failed = job_status(job, [pod("j1", phase="Failed"), pod("j2", phase="Failed")], NOW)
    assert next(c for c in failed["conditions"] if c["type"] == "Failed")["reason"] == "BackoffLimitExceeded"


def test_pod_from_template_keeps_template_settings_over_inherited_ones():
    template = {"metadata": {"labels": {"app": "x"}, "annotations": {"sim.lakehouse.test/mode": "fail"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]}}
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs", "uid": "u"}}
    before = copy.deepcopy(template)
    created = pod_from_template(template, "rs-abcde", "ns", owner, extra_labels={"pod-template-hash": "h"},
                                inherited_annotations={"sim.lakehouse.test/mode": "ready",
                                                       "sim.lakehouse.test/delay-seconds": "2"},
                                node_name="node-1")
    assert created["metadata"]["annotations"] == {"sim.lakehouse.test/mode": "fail",
                                                  "sim.lakehouse.test/delay-seconds": "2"}
    assert created["metadata"]["labels"] == {"app": "x", "pod-template-hash": "h"}
    assert created["metadata"]["ownerReferences"][0]["uid"] == "u"
    assert created["spec"]["nodeName"] == "node-1"
    assert template == before  # the template itself is not modified
