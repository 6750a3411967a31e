"""KubeRay calculateStatus (v1.7.0, conditions gate on) and what a waiter must (not) trust."""
from tests.simulators.kuberay import calculate_status, desired_resources, group_desired, raycluster_ready

NOW = "2026-01-01T10:00:00Z"


def rc(status=None, workers=2, num_hosts=1, generation=1, suspend=False):
    spec = {"headGroupSpec": {"template": {}},
            "workerGroupSpecs": [{"groupName": "cpu", "replicas": workers, "minReplicas": 1, "maxReplicas": 5,
                                  "numOfHosts": num_hosts}]}
    if suspend:
        spec["suspend"] = True
    return {"metadata": {"name": "ml", "generation": generation}, "spec": spec, "status": status or {}}


def pod(name, node_type, ready=True, phase="Running", ip="10.0.0.1", reason=None):
    ready_cond = {"type": "Ready", "status": "True" if ready else "False"}
    if reason:
        ready_cond["reason"] = reason
    return {"metadata": {"name": name, "labels": {"ray.io/node-type": node_type}},
            "status": {"phase": phase, "podIP": ip, "conditions": [ready_cond]}}


SERVICE = {"metadata": {"name": "ml-head-svc"},
           "spec": {"clusterIP": "10.96.0.9", "ports": [{"name": "client", "port": 10001, "targetPort": 10001},
                                                        {"name": "dashboard", "port": 8265, "targetPort": 8265},
                                                        {"port": 1234}]}}


def cond(status, type_):
    return next((c for c in status["conditions"] if c["type"] == type_), None)


def test_all_pods_ready_gives_state_ready_and_provisioned():
    pods = [pod("ml-head-x", "head"), pod("ml-cpu-worker-a", "worker"), pod("ml-cpu-worker-b", "worker")]
    status = calculate_status(rc(), pods, SERVICE, None, NOW)
    assert status["state"] == "ready" and status["stateTransitionTimes"] == {"ready": NOW}
    assert (status["readyWorkerReplicas"], status["availableWorkerReplicas"], status["desiredWorkerReplicas"]) == \
        (2, 2, 2)
    assert (status["minWorkerReplicas"], status["maxWorkerReplicas"]) == (1, 5)
    assert cond(status, "HeadPodReady")["reason"] == "HeadPodRunningAndReady"
    assert cond(status, "RayClusterProvisioned")["status"] == "True"
    assert cond(status, "ReplicaFailure") is None
    assert status["endpoints"] == {"client": "10001", "dashboard": "8265"}  # unnamed ports are skipped
    assert status["head"] == {"podIP": "10.0.0.1", "podName": "ml-head-x", "serviceIP": "10.96.0.9",
                              "serviceName": "ml-head-svc"}
    assert raycluster_ready({**rc(), "status": status})


def test_state_and_provisioned_are_sticky_when_workers_degrade():
    ready_pods = [pod("h", "head"), pod("w1", "worker"), pod("w2", "worker")]
    ready = calculate_status(rc(), ready_pods, SERVICE, None, NOW)
    degraded_pods = [pod("h", "head"), pod("w1", "worker", ready=False), pod("w2", "worker", ready=False)]
    degraded = calculate_status(rc(status=ready), degraded_pods, SERVICE, None, "2026-01-01T10:05:00Z")
    assert degraded["state"] == "ready"
    assert cond(degraded, "RayClusterProvisioned")["status"] == "True"
    assert degraded["readyWorkerReplicas"] == 0 and degraded["availableWorkerReplicas"] == 2
    assert not raycluster_ready({**rc(), "status": degraded})


def test_provisioning_and_missing_head():
    status = calculate_status(rc(), [pod("w1", "worker", ready=False)], SERVICE, None, NOW)
    assert "state" not in status
    assert cond(status, "HeadPodReady") | {"lastTransitionTime": None} == {
        "type": "HeadPodReady", "status": "False", "reason": "HeadPodNotFound", "message": "Head Pod not found",
        "lastTransitionTime": None}
    assert cond(status, "RayClusterProvisioned")["reason"] == "RayClusterPodsProvisioning"


def test_head_pod_not_ready_mirrors_the_pod_reason():
    status = calculate_status(rc(), [pod("h", "head", ready=False, reason="ContainersNotReady")], SERVICE, None, NOW)
    assert (cond(status, "HeadPodReady")["status"], cond(status, "HeadPodReady")["reason"]) == \
        ("False", "ContainersNotReady")


def test_replica_failure_is_set_and_removed_on_a_clean_reconcile():
    pods = [pod("h", "head")]
    failed = calculate_status(rc(), pods, SERVICE, ("FailedCreateWorkerPod", "FailedCreateWorkerPod\nquota"), NOW)
    assert cond(failed, "ReplicaFailure")["status"] == "True"
    assert cond(failed, "ReplicaFailure")["message"].endswith("quota")
    assert "state" not in failed
    assert not raycluster_ready({**rc(), "status": failed})
    clean = calculate_status(rc(status=failed), pods, SERVICE, None, NOW)
    assert cond(clean, "ReplicaFailure") is None


def test_desired_counts_multiply_hosts_and_clamp_to_min_max():
    assert group_desired({"replicas": 2, "minReplicas": 1, "maxReplicas": 5, "numOfHosts": 4}) == 8
    assert group_desired({"replicas": 9, "minReplicas": 1, "maxReplicas": 5}) == 5
    assert group_desired({"replicas": 0, "minReplicas": 2, "maxReplicas": 5}) == 2
    assert group_desired({"replicas": 3, "minReplicas": 1, "maxReplicas": 5, "suspend": True}) == 0
    status = calculate_status(rc(num_hosts=2), [], SERVICE, None, NOW)
    assert (status["desiredWorkerReplicas"], status["minWorkerReplicas"], status["maxWorkerReplicas"]) == (4, 2, 10)


def test_generation_must_be_observed():
    pods = [pod("h", "head"), pod("w1", "worker"), pod("w2", "worker")]
    status = calculate_status(rc(generation=1), pods, SERVICE, None, NOW)
    assert not raycluster_ready({**rc(generation=2), "status": status})


def test_suspended_cluster_without_pods():
    status = calculate_status(rc(suspend=True), [], SERVICE, None, NOW)
    assert status["state"] == "suspended"
    assert cond(status, "RayClusterSuspended")["status"] == "True"
    assert status["desiredWorkerReplicas"] == 0


def test_desired_resources_sum_head_and_worker_replicas():
    def spec(requests=None, limits=None):
        resources = {}
        if requests:
            resources["requests"] = requests
        if limits:
            resources["limits"] = limits
        return {"spec": {"containers": [{"name": "ray", "resources": resources}]}}
    cluster = {"spec": {"headGroupSpec": {"template": spec({"cpu": "500m", "memory": "1Gi"})},
                        "workerGroupSpecs": [{"groupName": "gpu", "replicas": 3,
                                              "template": spec({"cpu": "2"}, {"memory": "4Gi",
                                                                              "nvidia.com/gpu": "1"})}]}}
    assert desired_resources(cluster) == {"desiredCPU": "6500m", "desiredMemory": "13Gi", "desiredGPU": "3",
                                          "desiredTPU": "0"}
