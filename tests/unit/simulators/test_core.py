"""Kubelet-like pod status and endpoints (pure functions)."""
from tests.simulators import behaviour as beh
from tests.simulators.core import endpoint_subsets, pod_status

NOW = "2026-01-01T10:00:00Z"
LATER = "2026-01-01T10:05:00Z"


def pod(restart_policy=None, status=None, name="p", labels=None):
    spec = {"containers": [{"name": "main", "image": "busybox"}, {"name": "side", "image": "busybox"}]}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return {"metadata": {"name": name, "namespace": "ns", "uid": "u-1", "labels": labels or {}},
            "spec": spec, "status": status or {}}


def cond(status, type_):
    return next(c for c in status["conditions"] if c["type"] == type_)


def test_progressing_pod_is_pending_with_containers_creating():
    status = pod_status(pod(), beh.PROGRESSING, None, "192.168.0.1", NOW)
    assert status["phase"] == "Pending" and "podIP" not in status
    assert cond(status, "Ready")["status"] == "False"
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}


def test_ready_pod_runs_with_all_conditions_true_and_addresses():
    status = pod_status(pod(), beh.READY, "10.244.0.5", "192.168.0.1", NOW)
    assert status["phase"] == "Running" and status["podIP"] == "10.244.0.5" and status["hostIP"] == "192.168.0.1"
    assert all(c["status"] == "True" for c in status["conditions"])
    assert [cs["ready"] for cs in status["containerStatuses"]] == [True, True]
    assert status["qosClass"] == "BestEffort"


def test_not_ready_pod_runs_but_reports_unready_containers():
    status = pod_status(pod(), beh.NOT_READY, "10.244.0.5", None, NOW)
    ready = cond(status, "Ready")
    assert status["phase"] == "Running"
    assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [main side]"


def test_failed_pod_carries_reason_and_message():
    status = pod_status(pod(), beh.FAILED, "10.244.0.5", None, NOW, message="evicted: disk pressure")
    assert status["phase"] == "Failed" and status["reason"] == "Error"
    assert status["message"] == "evicted: disk pressure"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 1
    default = pod_status(pod(), beh.FAILED, "10.244.0.5", None, NOW)
    assert "exited with code 1" in default["message"]


def test_run_to_completion_pod_succeeds_instead_of_staying_ready():
    running = pod_status(pod("Never"), beh.PROGRESSING, "10.244.0.6", None, NOW)
    assert running["phase"] == "Running"
    done = pod_status(pod("Never", status=running), beh.READY, "10.244.0.6", None, LATER)
    assert done["phase"] == "Succeeded"
    assert done["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert cond(done, "Ready")["reason"] == "PodCompleted"


def test_unchanged_state_gives_an_identical_status_so_nothing_is_written():
    first = pod_status(pod(), beh.READY, "10.244.0.5", None, NOW)
    again = pod_status(pod(status=first), beh.READY, "10.244.0.5", None, LATER)
    assert again == first


def test_guaranteed_qos_when_requests_equal_limits():
    guaranteed = pod()
    for container in guaranteed["spec"]["containers"]:
        container["resources"] = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert pod_status(guaranteed, beh.READY, "10.0.0.1", None, NOW)["qosClass"] == "Guaranteed"


def test_endpoints_split_ready_and_not_ready_addresses():
    service = {"spec": {"selector": {"app": "fe"}, "ports": [{"name": "query", "port": 9030, "targetPort": 9030},
                                                             {"name": "http", "port": 80, "targetPort": "http"}]}}
    ready = pod(name="fe-0", labels={"app": "fe"}, status={"podIP": "10.0.0.1", "phase": "Running",
                                                           "conditions": [{"type": "Ready", "status": "True"}]})
    ready["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8030}]
    starting = pod(name="fe-1", labels={"app": "fe"}, status={"podIP": "10.0.0.2", "phase": "Running"})
    other = pod(name="be-0", labels={"app": "be"}, status={"podIP": "10.0.0.3", "phase": "Running"})
    subsets = endpoint_subsets(service, [ready, starting, other])
    assert [a["ip"] for a in subsets[0]["addresses"]] == ["10.0.0.1"]
    assert [a["ip"] for a in subsets[0]["notReadyAddresses"]] == ["10.0.0.2"]
    assert subsets[0]["ports"] == [{"port": 9030, "protocol": "TCP", "name": "query"},
                                   {"port": 8030, "protocol": "TCP", "name": "http"}]
    assert endpoint_subsets(service, [other]) == []
