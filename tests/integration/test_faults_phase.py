"""A tag-limited phase-3 run (`--tags doris`, apply) with the simulators while the API test server fails a
quarter of the requests in the phase's namespaces (HTTP 500, 429 with Retry-After, the Lease included). First a
run whose DorisCluster apply answers 500 every time fails naming it, then the next run converges from there; the
run lock is released (its Lease gone) after both. The tests run in this order (the second continues the first).
"""
import json
import time
import uuid

import pytest

from tests.integration.k8s_compare import create_ready_node, delete_node, require_real_crds
from tests.integration.phase_copy import copy_collection, recap, run_playbook, write_inventory
from tests.kubeapi.faults import clear_faults, set_faults

LEASE = "/apis/coordination.k8s.io/v1/namespaces/%s/leases/lakehouse-platform-run"


def _get(kube_api, path):
    status, body, _headers = kube_api.request("GET", path)
    return body if status == 200 else None


@pytest.fixture(scope="module")
def doris_phase(kube_api, tmp_path_factory):
    require_real_crds(kube_api)
    suffix = uuid.uuid4().hex[:6]
    ns = {key: "%s-f-%s" % (key, suffix)
          for key in ("dp", "doris", "dorisop", "raysys", "ml", "kubeflow", "flux", "state")}
    # The operator's namespace exists beforehand: the Flux simulator does not create a targetNamespace.
    for key in ("dp", "doris", "dorisop", "raysys", "ml", "kubeflow", "flux"):
        status, body, _headers = kube_api.request("POST", "/api/v1/namespaces", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": ns[key], "annotations": {"helmrelease.sim.lakehouse.test/workloads": "true"}}})
        assert status == 201, body
    nodes = [create_ready_node(kube_api, "faults-%s-%d" % (suffix, i)) for i in range(2)]
    collection = copy_collection(tmp_path_factory.mktemp("faults-phase"))
    variables = {
        "platform_mode": "apply", "platform_kubeconfig": kube_api.kubeconfig, "platform_operator": "faults-test",
        "platform_render_dir": str(collection / "build"),
        "platform_namespace": ns["dp"], "platform_state_namespace": ns["state"], "doris_namespace": ns["doris"],
        "doris_operator_namespace": ns["dorisop"], "ray_operator_namespace": ns["raysys"], "ray_namespace": ns["ml"], "mlflow_namespace": ns["ml"],
        "kubeflow_namespace": ns["kubeflow"], "kubeflow_flux_namespace": ns["flux"],
        "mlflow_bucket_create": False, "phase3_min_health_percent": 0,
        "doris_failure_grace": 2, "doris_wait_timeout": 300, "doris_operator_wait_timeout": 300,
    }
    inventory = write_inventory(collection, "faults", variables)
    try:
        yield {"collection": collection, "inventory": inventory, "ns": ns}
    finally:
        clear_faults(kube_api.url)
        for node in nodes:
            delete_node(kube_api, node)


LEASES = "leases.coordination.k8s.io"


def _faults(kube_api, ns, seed, first=()):
    """About a quarter of the requests in the phase's namespaces fail; the run lock's create is stored but its
    answer lost (the retried create meets the Lease: ours), and its delete answers 503 once."""
    scope = [ns["doris"], ns["state"]]
    return set_faults(kube_api.url, list(first) + [
        {"code": 500, "every": 1, "limit": 1, "after": True, "verbs": ["create"], "resources": [LEASES]},
        {"code": 503, "every": 1, "limit": 1, "verbs": ["delete"], "resources": [LEASES]},
        # A 429 costs its Retry-After (1 s) each time: fewer of them keep the run short. Status writes are
        # spared: they are the simulated controllers' (stand-ins that do not retry a lost status update).
        {"code": 500, "probability": 0.17, "namespaces": scope, "subresource": ""},
        {"code": 429, "probability": 0.07, "retry_after": 1, "namespaces": scope, "subresource": ""},
    ], seed)


def _report(kube_api, label):
    report = clear_faults(kube_api.url)
    codes = {}
    for fault in report["injected"]:
        key = "%s %s %s" % (fault["code"], fault["verb"], fault["resource"])
        codes[key] = codes.get(key, 0) + 1
    print("%s: %s" % (label, json.dumps({"matched": report["rules"][-2]["matched"], "injected": codes})))
    return report


def test_a_failing_doris_run_under_faults_still_releases_the_lock(doris_phase, kube_api, simulators):
    """Every apply of the Doris operator's HelmRelease answers 500 (the rest fails a quarter of the time): the run
    fails naming the object, the request and the last status, and the always-section still deletes the Lease."""
    collection, inventory, ns = doris_phase["collection"], doris_phase["inventory"], doris_phase["ns"]
    _faults(kube_api, ns, seed=33, first=[{"code": 500, "every": 1, "namespaces": [ns["doris"]], "verbs": ["patch"],
                                           "resources": ["helmreleases.helm.toolkit.fluxcd.io"]}])
    started = time.monotonic()
    run = run_playbook(collection, "-i", inventory, "playbooks/phase3.yml", "--tags", "doris", env=kube_api.env,
                       check=False, timeout=900)
    print("failing run: %.1fs" % (time.monotonic() - started))
    report = _report(kube_api, "failing run")
    assert run.returncode != 0
    assert report["rules"][0]["injected"] == 6, report["rules"][0]
    assert ("Failed to apply HelmRelease %s/doris-operator" % ns["doris"]) in run.stdout, run.stdout[-6000:]
    assert "6 attempts; last status: HTTP 500 InternalError" in run.stdout, run.stdout[-6000:]
    assert _get(kube_api, LEASE % ns["state"]) is None, "the run lock is released after a failing run too"


def test_doris_tag_run_converges_under_faults_and_releases_the_lock(doris_phase, kube_api, simulators):
    collection, inventory, ns = doris_phase["collection"], doris_phase["inventory"], doris_phase["ns"]
    _faults(kube_api, ns, seed=21)
    started = time.monotonic()
    run = run_playbook(collection, "-i", inventory, "playbooks/phase3.yml", "--tags", "doris", env=kube_api.env,
                       check=False, timeout=900)
    print("converging run: %.1fs" % (time.monotonic() - started))
    report = _report(kube_api, "converging run")
    assert run.returncode == 0, run.stdout[-6000:]
    assert recap(run.stdout)["failed"] == 0
    matched, injected = report["rules"][-2]["matched"], len(report["injected"])
    assert matched >= 20 and injected >= 0.15 * matched, (matched, report["injected"])
    assert {f["code"] for f in report["injected"]} == {500, 503, 429}, report["injected"]
    assert [rule["injected"] for rule in report["rules"][:2]] == [1, 1], "the Lease's create and delete were hit"
    cluster = _get(kube_api, "/apis/doris.selectdb.com/v1/namespaces/%s/dorisclusters/doris-cluster" % ns["doris"])
    assert cluster is not None
    assert _get(kube_api, "/api/v1/namespaces/%s/secrets/doris-auth" % ns["doris"]) is not None
    assert _get(kube_api, LEASE % ns["state"]) is None, "the run lock is released"
