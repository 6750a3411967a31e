"""doris-operator status computation (ClassifyPodsByStatus) and desired objects."""
from tests.simulators.doris import build_services, build_statefulset, classify_pods, cluster_available

NOW = "2026-01-01T10:00:00Z"
LATER = "2026-01-01T10:01:00Z"


def pod(name, ready=False, phase="Running", reason=None, message=None):
    status = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    return {"metadata": {"name": name}, "status": status}


def classify(pods, previous=None, replicas=2, now=NOW):
    return classify_pods(previous, pods, replicas, "c-be", "c-be-service", now)


def test_first_status_is_initializing_even_without_pods():
    status = classify([])
    assert status == {"componentCondition": {"subResourceName": "c-be", "phase": "initializing",
                                             "lastTransitionTime": NOW, "reason": "", "message": ""},
                      "accessService": "c-be-service"}


def test_available_when_every_replica_is_ready():
    status = classify([pod("c-be-0", ready=True), pod("c-be-1", ready=True)], previous=classify([]), now=LATER)
    assert status["componentCondition"]["phase"] == "available"
    assert status["componentCondition"]["lastTransitionTime"] == LATER
    assert status["runningInstances"] == ["c-be-0", "c-be-1"]
    assert "creatingInstances" not in status and "failedInstances" not in status


def test_failed_pod_gives_have_member_failed_with_its_reason_and_message():
    pods = [pod("c-be-0", ready=True), pod("c-be-1", phase="Failed", reason="Evicted", message="disk pressure")]
    status = classify(pods, previous=classify([]))
    assert status["componentCondition"]["phase"] == "haveMemberFailed"
    assert (status["componentCondition"]["reason"], status["componentCondition"]["message"]) == \
        ("Evicted", "disk pressure")
    assert status["failedInstances"] == ["c-be-1"] and status["runningInstances"] == ["c-be-0"]


def test_creating_pods_keep_the_previous_phase():
    available = classify([pod("c-be-0", ready=True), pod("c-be-1", ready=True)])
    degraded = classify([pod("c-be-0", ready=True), pod("c-be-1")], previous=available, now=LATER)
    assert degraded["componentCondition"]["phase"] == "available"  # the operator keeps it
    assert degraded["creatingInstances"] == ["c-be-1"] and degraded["runningInstances"] == ["c-be-0"]


def dcr(status=None):
    return {"apiVersion": "doris.selectdb.com/v1", "kind": "DorisCluster",
            "metadata": {"name": "c", "namespace": "ns", "uid": "u"},
            "spec": {"feSpec": {"replicas": 1, "image": "fe"}, "beSpec": {"replicas": 2, "image": "be",
                                                                          "requests": {"cpu": "4"}}},
            "status": status or {}}


def test_cluster_available_needs_every_component_available_with_all_replicas_running():
    fe = {"componentCondition": {"phase": "available"}, "runningInstances": ["c-fe-0"]}
    be = {"componentCondition": {"phase": "available"}, "runningInstances": ["c-be-0", "c-be-1"]}
    assert cluster_available(dcr({"feStatus": fe, "beStatus": be}))
    assert not cluster_available(dcr({"feStatus": fe}))
    assert not cluster_available(dcr({"feStatus": fe, "beStatus": {**be, "runningInstances": ["c-be-0"]}}))


def test_desired_objects_follow_the_operator_naming():
    access, internal = build_services(dcr(), "fe")
    assert access["metadata"]["name"] == "c-fe-service" and internal["metadata"]["name"] == "c-fe-internal"
    assert internal["spec"]["clusterIP"] == "None"
    assert {p["port"] for p in access["spec"]["ports"]} >= {8030, 9030}
    sts = build_statefulset(dcr(), "be", {"sim.lakehouse.test/mode": "fail"})
    assert sts["metadata"]["name"] == "c-be" and sts["spec"]["replicas"] == 2
    assert sts["spec"]["serviceName"] == "c-be-internal" and sts["spec"]["podManagementPolicy"] == "Parallel"
    template = sts["spec"]["template"]
    assert template["metadata"]["labels"] == {"app.doris.ownerreference/name": "c-be",
                                              "app.kubernetes.io/component": "be"}
    assert template["metadata"]["annotations"] == {"sim.lakehouse.test/mode": "fail"}
    assert template["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "4"}}
