"""raycluster_wait against the Kubernetes API test server and the KubeRay simulator.

The simulator computes RayCluster status like KubeRay v1.7.0 (sticky `state`, conditions, worker counts,
observedGeneration) and is steered by annotations on the RayCluster (`sim.lakehouse.test/<setting>`,
`sim.lakehouse.test/worker.<setting>`), which the test creates itself (the module only waits).

The latency test runs the module's own run() in-process next to an independent observer that polls the
object every 50 ms: the difference between the observer first seeing the cluster ready and the module
returning is the module's reaction time. The main paths also run through ansible-playbook.
"""
import threading
import time
import types
import uuid

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import raycluster
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import WaitTimeout, condition
from ansible_collections.lakehouse.platform.plugins.modules import raycluster_wait
from tests.integration.kube_status import kube_client
from tests.integration.phase1_helpers import run_playbook

pytestmark = [pytest.mark.latency, pytest.mark.usefixtures("simulators")]

SIM = "sim.lakehouse.test"
RAY_RESOURCE = "rayclusters.ray.io"


def ray_cluster(namespace, name, workers=2, annotations=None):
    container = {"image": "rayproject/ray:2.46.0", "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}}
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": name, "namespace": namespace, "annotations": dict(annotations or {})},
        "spec": {
            "rayVersion": "2.46.0",
            "headGroupSpec": {"rayStartParams": {}, "template": {"spec": {"containers": [dict(
                container, name="ray-head", ports=[{"name": "dashboard", "containerPort": 8265}])]}}},
            "workerGroupSpecs": [{
                "groupName": "cpu", "replicas": workers, "minReplicas": 1, "maxReplicas": 4, "rayStartParams": {},
                "template": {"spec": {"containers": [dict(container, name="ray-worker")]}},
            }],
        },
    }


@pytest.fixture
def client(kube_api):
    return kube_client(kube_api)


def create(client, definition):
    return client.create(definition)


def get(client, namespace, name):
    return client.get(raycluster.RAY_API_VERSION, raycluster.RAY_KIND, name, namespace)


def module_run(client, namespace, name, timeout):
    """The module's run() with the parameters a task would give it (not check mode)."""
    module = types.SimpleNamespace(params={"name": name, "namespace": namespace, "timeout": timeout},
                                   check_mode=False)
    return raycluster_wait.run(module, client)


def wait_until(predicate, timeout=60, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached within %ss" % timeout)


def test_readiness_is_seen_within_a_second_of_the_simulator_setting_it(client, kube_namespace):
    name = "ray-%s" % uuid.uuid4().hex[:6]
    create(client, ray_cluster(kube_namespace, name, annotations={SIM + "/delay-seconds": "2"}))
    observed = {}

    def ready_now():
        obj = get(client, kube_namespace, name)
        return obj if obj and raycluster.is_ready(obj) else None

    def observe():  # independent poller: when did the object first satisfy the predicate?
        observed["obj"] = wait_until(ready_now, timeout=60)
        observed["at"] = time.monotonic()

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    result = module_run(client, kube_namespace, name, timeout=60)
    returned_at = time.monotonic()
    observer.join(60)
    latency = returned_at - observed["at"]
    print("raycluster_wait returned %.3fs after the poller first saw the cluster ready (waited %.3fs)"
          % (latency, result["elapsed"]))
    assert result["ready"] is True
    assert latency < 1.0
    assert result["elapsed"] >= 1.5  # it really waited for the simulator's 2 s delay
    assert result["workers"]["ready"] == 2 and result["workers"]["desired"] == 2
    assert result["head_service"] == "%s-head-svc" % name
    assert result["dashboard_url"] == "http://%s-head-svc.%s.svc:8265" % (name, kube_namespace)


def test_a_scale_up_is_not_answered_by_the_stale_status(client, kube_namespace):
    name = "ray-%s" % uuid.uuid4().hex[:6]
    create(client, ray_cluster(kube_namespace, name, annotations={SIM + "/delay-seconds": "1"}))
    module_run(client, kube_namespace, name, timeout=60)
    # Generation 2 asks for 3 workers; right after the patch the status still says 2/2 ready, generation 1.
    client.patch(ray_cluster(kube_namespace, name), {"spec": {"workerGroupSpecs": [
        dict(ray_cluster(kube_namespace, name)["spec"]["workerGroupSpecs"][0], replicas=3)]}})
    result = module_run(client, kube_namespace, name, timeout=60)
    status = result["raycluster"]
    assert status["generation"] == 2 and status["observed_generation"] == 2
    assert result["workers"]["ready"] == 3 and result["workers"]["desired"] == 3


def test_sticky_ready_state_after_degrade_is_not_trusted(client, kube_namespace):
    name = "ray-%s" % uuid.uuid4().hex[:6]
    create(client, ray_cluster(kube_namespace, name, annotations={
        SIM + "/delay-seconds": "0.5", SIM + "/mode": "degrade", SIM + "/degrade-after": "1"}))

    def degraded():
        obj = get(client, kube_namespace, name)
        status = (obj or {}).get("status") or {}
        return obj if status.get("state") == "ready" and status.get("readyWorkerReplicas", 0) < 2 else None

    obj = wait_until(degraded, timeout=60)
    assert condition(obj, "RayClusterProvisioned")["status"] == "True"  # also sticky in KubeRay
    with pytest.raises(WaitTimeout) as err:
        module_run(client, kube_namespace, name, timeout=3)
    message = str(err.value)
    assert "RayCluster %s/%s" % (kube_namespace, name) in message
    assert "state 'ready' (sticky, not used)" in message
    assert "/2 desired" in message  # readyWorkerReplicas below the 2 desired workers


def test_playbook_waits_and_returns_endpoints_then_check_mode_only_reads(kube_api, client, kube_namespace, tmp_path):
    name = "ray-%s" % uuid.uuid4().hex[:6]
    create(client, ray_cluster(kube_namespace, name, annotations={SIM + "/delay-seconds": "1"}))
    task = {"name": "Wait for Ray", "lakehouse.platform.raycluster_wait": {
        "name": name, "namespace": kube_namespace, "timeout": 120}, "register": "ray"}
    done = run_playbook(tmp_path, [task], env=kube_api.env, results=("ray",))
    assert done.returncode == 0, done
    ray = done.results["ray"]
    assert ray["ready"] is True and ray["waited"] is True and ray["changed"] is False
    assert ray["dashboard_url"] == "http://%s-head-svc.%s.svc:8265" % (name, kube_namespace)
    assert ray["workers"]["ready"] == 2 and ray["raycluster"]["state"] == "ready"

    kube_api.reset_counts()
    checked = run_playbook(tmp_path, [task], env=kube_api.env, results=("ray",), check=True)
    assert checked.returncode == 0, checked
    assert checked.results["ray"]["waited"] is False and checked.results["ray"]["ready"] is True
    counts = kube_api.request_counts()
    assert counts.count("get", resource=RAY_RESOURCE) >= 1
    assert sum(counts.count(verb, resource=RAY_RESOURCE, subresource="")
               for verb in ("create", "update", "patch", "delete")) == 0


def test_replica_failure_fails_fast_with_kuberays_message(kube_api, client, kube_namespace, tmp_path):
    name = "ray-%s" % uuid.uuid4().hex[:6]
    create(client, ray_cluster(kube_namespace, name, annotations={
        SIM + "/worker.mode": "fail",
        SIM + "/worker.message": 'pods "%s-cpu-worker-x" is forbidden: exceeded quota: ray-quota' % name}))
    task = {"name": "Wait for Ray", "lakehouse.platform.raycluster_wait": {
        "name": name, "namespace": kube_namespace, "timeout": 300}, "register": "ray"}
    started = time.monotonic()
    outcome = run_playbook(tmp_path, [task], env=kube_api.env, results=("ray",))
    wall = time.monotonic() - started
    assert outcome.returncode != 0, outcome
    ray = outcome.results["ray"]
    assert ray["failed"] is True
    assert ray["failure"].startswith("ReplicaFailure: FailedCreateWorkerPod")
    assert "exceeded quota: ray-quota" in ray["failure"]
    assert "RayCluster %s/%s failed" % (kube_namespace, name) in ray["msg"]
    assert ray["elapsed"] < 10 and wall < 120  # far from the 300 s timeout


def test_the_autoscaler_container_is_reported_when_the_spec_turns_it_on(client, kube_namespace):
    name = "ray-%s" % uuid.uuid4().hex[:6]
    definition = ray_cluster(kube_namespace, name, workers=2)
    definition["spec"].update(enableInTreeAutoscaling=True, autoscalerOptions={
        "upscalingMode": "Conservative", "idleTimeoutSeconds": 30})
    create(client, definition)
    result = module_run(client, kube_namespace, name, timeout=60)
    scaler = result["autoscaler"]
    assert scaler["enabled"] is True and scaler["container"] is True, scaler
    assert scaler["head_pod"] == result["raycluster"]["head_pod"]
    assert (scaler["upscaling_mode"], scaler["idle_timeout_seconds"]) == ("Conservative", 30)
    assert (scaler["min"], scaler["desired"], scaler["max"], scaler["within_bounds"]) == (1, 2, 4, True)
    assert result["workers"]["autoscaling"] is True and result["workers"]["required"] == 1

    # Without it: no head pod read, nothing claimed.
    fixed = "ray-%s" % uuid.uuid4().hex[:6]
    create(client, ray_cluster(kube_namespace, fixed, workers=1))
    scaler = module_run(client, kube_namespace, fixed, timeout=60)["autoscaler"]
    assert scaler["enabled"] is False and scaler["container"] is None and scaler["head_pod"] is None
