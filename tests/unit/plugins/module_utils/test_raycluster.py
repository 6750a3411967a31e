"""RayCluster readiness: conditions, worker counts, generations; never the sticky status.state."""
import copy

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import raycluster


def cond(type_, status, reason="Reason", message=""):
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": "2026-01-01T00:00:00Z"}


def ray_cluster(workers=None, status=None, generation=1, autoscaling=False, **spec_extra):
    """A ray.io/v1 RayCluster as KubeRay v1.7.0 reports it once healthy, with overrides."""
    groups = workers if workers is not None else [
        {"groupName": "cpu", "replicas": 2, "minReplicas": 1, "maxReplicas": 5, "template": {}},
    ]
    spec = {"rayVersion": "2.46.0", "headGroupSpec": {"template": {}}, "workerGroupSpecs": groups}
    if autoscaling:
        spec["enableInTreeAutoscaling"] = True
    spec.update(spec_extra)
    healthy_status = {
        "state": "ready",
        "observedGeneration": generation,
        "readyWorkerReplicas": 2,
        "availableWorkerReplicas": 2,
        "desiredWorkerReplicas": 2,
        "minWorkerReplicas": 1,
        "maxWorkerReplicas": 5,
        "endpoints": {"client": "10001", "dashboard": "8265", "gcs-server": "6379", "metrics": "8080"},
        "head": {"podName": "ml-head-abcde", "serviceName": "ml-head-svc", "podIP": "10.0.0.5"},
        "conditions": [
            cond("HeadPodReady", "True", "HeadPodRunningAndReady"),
            cond("RayClusterProvisioned", "True", "AllPodRunningAndReadyFirstTime"),
        ],
    }
    if status is not None:
        healthy_status.update(status)
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": "ml", "namespace": "ml-platform", "generation": generation},
        "spec": spec,
        "status": healthy_status,
    }


def test_healthy_cluster_is_ready():
    obj = ray_cluster()
    assert raycluster.readiness_problems(obj) == []
    assert raycluster.is_ready(obj)
    assert raycluster.failure(obj) is None


def test_sticky_ready_state_with_head_pod_not_ready_is_not_ready():
    # KubeRay keeps state=ready forever once reached; the head pod restarting shows only in HeadPodReady.
    obj = ray_cluster(status={"conditions": [
        cond("HeadPodReady", "False", "ContainersNotReady", "containers with unready status: [ray-head]"),
        cond("RayClusterProvisioned", "True", "AllPodRunningAndReadyFirstTime"),
    ]})
    assert obj["status"]["state"] == "ready"
    assert not raycluster.is_ready(obj)
    assert raycluster.readiness_problems(obj) == ["HeadPodReady is False (ContainersNotReady)"]


def test_state_ready_without_any_conditions_is_not_ready():
    obj = ray_cluster(status={"conditions": []})
    problems = raycluster.readiness_problems(obj)
    assert "HeadPodReady is absent" in problems
    assert "RayClusterProvisioned is absent" in problems
    assert "feature gate" in raycluster.describe(obj)


def test_not_provisioned_yet():
    obj = ray_cluster(status={"state": None, "readyWorkerReplicas": 0, "conditions": [
        cond("HeadPodReady", "True", "HeadPodRunningAndReady"),
        cond("RayClusterProvisioned", "False", "RayClusterPodsProvisioning"),
    ]})
    assert raycluster.readiness_problems(obj) == [
        "RayClusterProvisioned is False (RayClusterPodsProvisioning)",
        "0 of 2 desired workers ready",
    ]


def test_stale_observed_generation_is_not_ready():
    # The spec was just scaled (generation 2) but the status still describes generation 1.
    obj = ray_cluster(generation=2, status={"observedGeneration": 1})
    assert not raycluster.is_ready(obj)
    assert raycluster.readiness_problems(obj) == ["status is stale: observedGeneration 1, generation 2"]


def test_missing_observed_generation_is_not_current():
    obj = ray_cluster()
    del obj["status"]["observedGeneration"]
    assert raycluster.readiness_problems(obj) == ["status is stale: observedGeneration None, generation 1"]


def test_cluster_without_status_is_not_ready():
    obj = ray_cluster()
    del obj["status"]
    assert not raycluster.is_ready(obj)
    assert "no status yet" in raycluster.describe(obj)


def test_fewer_ready_workers_than_desired_is_not_ready():
    obj = ray_cluster(status={"readyWorkerReplicas": 1})
    assert raycluster.readiness_problems(obj) == ["1 of 2 desired workers ready"]


def test_desired_count_taken_from_spec_when_status_omits_it():
    # desiredWorkerReplicas is omitempty: a status without it must not make "0 ready of 0" pass.
    obj = ray_cluster(status={"readyWorkerReplicas": 0})
    del obj["status"]["desiredWorkerReplicas"]
    assert raycluster.readiness_problems(obj) == ["0 of 2 desired workers ready"]


def test_autoscaling_requires_only_the_sum_of_min_replicas():
    groups = [
        {"groupName": "cpu", "replicas": 4, "minReplicas": 1, "maxReplicas": 8, "template": {}},
        {"groupName": "tpu", "replicas": 2, "minReplicas": 2, "maxReplicas": 4, "numOfHosts": 2, "template": {}},
    ]
    obj = ray_cluster(workers=groups, autoscaling=True,
                      status={"readyWorkerReplicas": 5, "desiredWorkerReplicas": 8, "minWorkerReplicas": 5})
    counts = raycluster.worker_counts(obj)
    assert counts["min"] == 1 + 2 * 2
    assert counts["desired"] == 4 + 2 * 2
    assert counts["max"] == 8 + 4 * 2
    assert counts["required"] == 5
    assert raycluster.is_ready(obj)

    below_min = copy.deepcopy(obj)
    below_min["status"]["readyWorkerReplicas"] = 4
    assert raycluster.readiness_problems(below_min) == ["4 of 5 minimum workers ready"]


def test_without_autoscaling_the_same_cluster_needs_desired_workers():
    groups = [{"groupName": "cpu", "replicas": 4, "minReplicas": 1, "maxReplicas": 8, "template": {}}]
    obj = ray_cluster(workers=groups, status={"readyWorkerReplicas": 1, "desiredWorkerReplicas": 4})
    assert raycluster.readiness_problems(obj) == ["1 of 4 desired workers ready"]


@pytest.mark.parametrize(
    "group, expected",
    [
        ({"replicas": 3, "minReplicas": 1, "maxReplicas": 5}, 3),
        ({"replicas": 0, "minReplicas": 2, "maxReplicas": 5}, 2),   # below min -> min
        ({"replicas": 9, "minReplicas": 1, "maxReplicas": 5}, 5),   # above max -> max
        ({"minReplicas": 2, "maxReplicas": 5}, 2),                  # no replicas -> min
        ({"replicas": 3, "minReplicas": 6, "maxReplicas": 4}, 4),   # min > max -> max
        ({"replicas": 3, "minReplicas": 1, "maxReplicas": 5, "numOfHosts": 4}, 12),
        ({"replicas": 3, "minReplicas": 1, "maxReplicas": 5, "suspend": True}, 0),
    ],
)
def test_group_desired_matches_kuberay_clamping(group, expected):
    assert raycluster.spec_worker_counts({"spec": {"workerGroupSpecs": [group]}})["desired"] == expected


def test_replica_failure_fails_fast_with_its_message():
    message = 'pods "ml-worker-cpu-x" is forbidden: exceeded quota: compute, requested: cpu=4, limited: cpu=8'
    obj = ray_cluster(status={"conditions": [
        cond("HeadPodReady", "True", "HeadPodRunningAndReady"),
        cond("RayClusterProvisioned", "False", "RayClusterPodsProvisioning"),
        cond("ReplicaFailure", "True", "FailedCreateWorkerPod", message),
    ]})
    assert raycluster.failure(obj) == "ReplicaFailure: FailedCreateWorkerPod: " + message
    assert "ReplicaFailure is True" in raycluster.readiness_problems(obj)


def test_replica_failure_false_is_not_a_failure():
    obj = ray_cluster()
    obj["status"]["conditions"].append(cond("ReplicaFailure", "False", "NoFailure"))
    assert raycluster.failure(obj) is None
    assert raycluster.is_ready(obj)


def test_suspended_cluster_is_a_failure():
    obj = ray_cluster(suspend=True, status={"state": "suspended"})
    assert "suspended" in raycluster.failure(obj)


def test_describe_names_conditions_counts_generations_and_untrusted_state():
    obj = ray_cluster(generation=3, status={"observedGeneration": 2, "readyWorkerReplicas": 1})
    text = raycluster.describe(obj)
    assert "HeadPodReady=True (HeadPodRunningAndReady)" in text
    assert "RayClusterProvisioned=True (AllPodRunningAndReadyFirstTime)" in text
    assert "workers ready 1/2 desired" in text
    assert "observedGeneration 2 of generation 3" in text
    assert "state 'ready' (sticky, not used)" in text


def test_head_service_and_dashboard_url_from_status():
    obj = ray_cluster(status={"endpoints": {"dashboard": "8266"}})
    assert raycluster.head_service_name(obj) == "ml-head-svc"
    assert raycluster.dashboard_url(obj) == "http://ml-head-svc.ml-platform.svc:8266"


def test_head_service_falls_back_to_spec_then_default_name():
    obj = ray_cluster()
    del obj["status"]["head"]
    assert raycluster.head_service_name(obj) == "ml-head-svc"  # KubeRay's <name>-head-svc
    obj["spec"]["headGroupSpec"]["headService"] = {"metadata": {"name": "ray-head"}}
    assert raycluster.head_service_name(obj) == "ray-head"


def test_dashboard_url_ignores_node_port_endpoint():
    # With a NodePort head Service KubeRay records the node port, which the Service DNS name does not serve.
    obj = ray_cluster(status={"endpoints": {"dashboard": "31265"}})
    obj["spec"]["headGroupSpec"]["serviceType"] = "NodePort"
    assert raycluster.dashboard_url(obj) == "http://ml-head-svc.ml-platform.svc:8265"


def test_summary_carries_counts_and_conditions():
    result = raycluster.summary(ray_cluster())
    assert result["head_service"] == "ml-head-svc"
    assert result["dashboard_url"] == "http://ml-head-svc.ml-platform.svc:8265"
    assert result["workers"]["ready"] == 2 and result["workers"]["desired"] == 2
    assert [c["type"] for c in result["conditions"]] == ["HeadPodReady", "RayClusterProvisioned"]
