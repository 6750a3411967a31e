"""doris_cluster through ansible-playbook against the Kubernetes API test server and the doris-operator simulator.

The simulator plays doris-operator (StatefulSets, pods, componentCondition from pod readiness) and is steered
with annotations on the namespace (`doriscluster.sim.lakehouse.test/<component>.<setting>`, set through the
fixture's set_namespace_behaviour), because the module creates the DorisCluster itself. The FE MySQL check
is covered against a real MariaDB in test_doris_fe_query.py: no Doris FE runs here, so playbooks in this
file do not set fe_check (test_doris_round_trip.py runs it against the FE stand-in).
"""
import base64
import threading
import time

import pytest
from kubernetes import client as k8s

from ansible_collections.lakehouse.platform.plugins.module_utils import doris
from tests.integration.kube_status import kube_client
from tests.integration.phase1_helpers import run_playbook

pytestmark = [pytest.mark.latency, pytest.mark.usefixtures("simulators")]

DORIS_RESOURCE = "dorisclusters.doris.selectdb.com"


def doris_task(namespace, **overrides):
    args = {
        "name": "doris",
        "namespace": namespace,
        "auth_secret": "doris-admin",
        "fe": {"image": "apache/doris:fe-3.0.8", "replicas": 1, "requests": {"cpu": "1", "memory": "2Gi"},
               "limits": {"cpu": 2, "memory": "4Gi"}, "storage_size": "10Gi"},
        "be": {"image": "apache/doris:be-3.0.8", "replicas": 2, "requests": {"cpu": 2, "memory": "4Gi"},
               "limits": {"cpu": 4, "memory": "8Gi"}, "storage_size": "20Gi"},
        "wait_timeout": 60,
        "failure_grace": 2,
    }
    args.update(overrides)
    return {"name": "Doris cluster", "lakehouse.platform.doris_cluster": args, "register": "doris"}


def run(kube_api, tmp_path, tasks, **kwargs):
    return run_playbook(tmp_path, tasks, env=kube_api.env, results=("doris",), **kwargs)


@pytest.fixture
def doris_namespace(kube_api, kube_namespace):
    """A fresh namespace holding the basic-auth Secret the operator needs."""
    core = k8s.CoreV1Api(kube_api.api_client())
    core.create_namespaced_secret(kube_namespace, {
        "metadata": {"name": "doris-admin"}, "type": "kubernetes.io/basic-auth",
        "data": {"username": base64.b64encode(b"root").decode(), "password": base64.b64encode(b"pw-123").decode()}})
    return kube_namespace


def live_cluster(kube_api, namespace):
    return kube_client(kube_api).get(doris.DORIS_API_VERSION, doris.DORIS_KIND, "doris", namespace)


def persisting_cr_writes(counts):
    """Writes to DorisCluster objects themselves (not /status, which the simulator writes), dry runs excluded."""
    return sum(counts.count(verb, resource=DORIS_RESOURCE, subresource="", dry_run=False)
               for verb in ("create", "update", "patch", "delete"))


def test_converges_then_reruns_unchanged_and_check_mode_writes_nothing(kube_api, doris_namespace, tmp_path):
    started = time.monotonic()
    first = run(kube_api, tmp_path, [doris_task(doris_namespace)])
    assert first.returncode == 0, first
    result = first.results["doris"]
    assert result["changed"] is True and result["ready"] is True
    assert result["components"]["fe"]["phase"] == "available" and result["components"]["fe"]["running"] == 1
    assert result["components"]["be"]["phase"] == "available" and result["components"]["be"]["running"] == 2
    assert result["cluster"]["fe_service"] == "doris-fe-service.%s.svc" % doris_namespace
    assert result["elapsed"] < time.monotonic() - started

    live = live_cluster(kube_api, doris_namespace)
    assert live["spec"]["authSecret"] == "doris-admin"
    assert live["spec"]["feSpec"]["persistentVolumes"][0]["mountPath"] == "/opt/apache-doris/fe/doris-meta"
    assert doris.is_ready(live)

    kube_api.reset_counts()
    second = run(kube_api, tmp_path, [doris_task(doris_namespace)])
    assert second.returncode == 0, second
    assert second.results["doris"]["changed"] is False
    assert second.results["doris"]["ready"] is True
    assert persisting_cr_writes(kube_api.request_counts()) == 0

    # Check mode with a change (3 BEs): predicted as a change, shown in the diff, nothing written.
    kube_api.reset_counts()
    scaled = doris_task(doris_namespace, be=dict(doris_task(doris_namespace)["lakehouse.platform.doris_cluster"]["be"],
                                                 replicas=3))
    checked = run(kube_api, tmp_path, [scaled], check=True, diff=True)
    assert checked.returncode == 0, checked
    assert checked.results["doris"]["changed"] is True
    counts = kube_api.request_counts()
    assert persisting_cr_writes(counts) == 0, counts
    assert counts.count("patch", resource=DORIS_RESOURCE, dry_run=True) == 1
    assert "replicas" in checked.output  # the --diff output
    assert live_cluster(kube_api, doris_namespace)["spec"]["beSpec"]["replicas"] == 2


def test_member_failure_past_grace_fails_with_reason(kube_api, simulators, doris_namespace, tmp_path):
    # The module creates the DorisCluster, so the namespace says how its BEs behave.
    simulators.set_namespace_behaviour(doris_namespace, kind="DorisCluster", **{
        "be.mode": "fail", "be.message": "Back-off restarting failed container be in pod doris-be-0"})
    started = time.monotonic()
    outcome = run(kube_api, tmp_path, [doris_task(doris_namespace, failure_grace=2, wait_timeout=60)])
    elapsed = time.monotonic() - started
    assert outcome.returncode != 0, outcome
    result = outcome.results["doris"]
    assert result["failed"] is True
    assert "DorisCluster %s/doris failed: be haveMemberFailed" % doris_namespace in result["msg"]
    assert "Back-off restarting failed container be" in result["msg"]
    assert result["components"]["be"]["phase"] == "haveMemberFailed"
    assert result["components"]["fe"]["phase"] == "available"
    assert 2 <= result["elapsed"] < 30  # failed after the grace, long before the 60 s timeout
    assert elapsed < 45


def test_timeout_names_each_component(kube_api, simulators, doris_namespace, tmp_path):
    simulators.set_namespace_behaviour(doris_namespace, kind="DorisCluster", **{"be.mode": "never-ready"})
    outcome = run(kube_api, tmp_path, [doris_task(doris_namespace, wait_timeout=4)])
    assert outcome.returncode != 0, outcome
    message = outcome.results["doris"]["msg"]
    assert message.startswith("Timed out after 4s waiting for DorisCluster %s/doris" % doris_namespace)
    assert "fe phase available, running 1/1" in message
    assert "be phase " in message and "running 0/2" in message


def test_invalid_quantity_fails_before_any_request(kube_api, doris_namespace, tmp_path):
    kube_api.reset_counts()
    bad = doris_task(doris_namespace, fe={"image": "apache/doris:fe-3.0.8", "requests": {"memory": "4Gx"}})
    outcome = run(kube_api, tmp_path, [bad])
    assert outcome.returncode != 0
    assert "fe.requests.memory: invalid quantity '4Gx'" in outcome.results["doris"]["msg"]
    # Request counts are server-wide and the simulators read DorisClusters of other tests' namespaces, so
    # reads cannot be attributed here (the unit test pins that no client is even built); no write happened.
    counts = kube_api.request_counts()
    assert live_cluster(kube_api, doris_namespace) is None
    assert persisting_cr_writes(counts) == 0


def test_absent_deletes_and_waits_until_gone(kube_api, doris_namespace, tmp_path):
    created = run(kube_api, tmp_path, [doris_task(doris_namespace, wait=False)])
    assert created.returncode == 0, created
    assert live_cluster(kube_api, doris_namespace) is not None

    kube_api.reset_counts()
    checked = run(kube_api, tmp_path, [{"name": "Remove", "lakehouse.platform.doris_cluster": {
        "name": "doris", "namespace": doris_namespace, "state": "absent"}, "register": "doris"}], check=True)
    assert checked.returncode == 0, checked
    assert checked.results["doris"]["changed"] is True
    assert persisting_cr_writes(kube_api.request_counts()) == 0
    assert live_cluster(kube_api, doris_namespace) is not None

    removed = run(kube_api, tmp_path, [{"name": "Remove", "lakehouse.platform.doris_cluster": {
        "name": "doris", "namespace": doris_namespace, "state": "absent", "wait_timeout": 30}, "register": "doris"}])
    assert removed.returncode == 0, removed
    assert removed.results["doris"]["changed"] is True
    assert live_cluster(kube_api, doris_namespace) is None

    again = run(kube_api, tmp_path, [{"name": "Remove", "lakehouse.platform.doris_cluster": {
        "name": "doris", "namespace": doris_namespace, "state": "absent"}, "register": "doris"}])
    assert again.returncode == 0 and again.results["doris"]["changed"] is False


# -- apply: false: the DorisCluster is applied by something else (the doris role's manifests step) ---------------
APPLY_LABELS = {"app.kubernetes.io/managed-by": "lakehouse.platform", "lakehouse.platform/component": "doris",
                "lakehouse.platform/phase": "3"}


def apply_as_the_manifests_step(kube_api, namespace):
    """Server-side apply of the DorisCluster with k8s_apply's field manager and labels, as the role's apply step does."""
    options = doris_task(namespace)["lakehouse.platform.doris_cluster"]
    definition = doris.build_cluster("doris", namespace, {"fe": options["fe"], "be": options["be"]},
                                     auth_secret="doris-admin", labels=APPLY_LABELS)
    return kube_client(kube_api).apply(definition, field_manager="lakehouse.platform")


def wait_task(namespace, **overrides):
    """The doris role's wait step: no fe/be/spec, apply: false."""
    args = {"name": "doris", "namespace": namespace, "apply": False, "auth_secret": "doris-admin",
            "wait_timeout": 60, "failure_grace": 2}
    args.update(overrides)
    return {"name": "Wait for Doris", "lakehouse.platform.doris_cluster": args, "register": "doris"}


def cr_writes(counts, verb=None):
    """Every write to DorisCluster objects themselves (not /status), dry runs included."""
    verbs = (verb,) if verb else ("create", "update", "patch", "delete")
    return sum(counts.count(v, resource=DORIS_RESOURCE, subresource="") for v in verbs)


def updates_by_the_module(obj):
    """managedFields entries a merge patch or POST by the module (field manager lakehouse.platform) would leave."""
    return [entry for entry in obj["metadata"].get("managedFields") or []
            if entry.get("manager") == "lakehouse.platform" and entry.get("operation") != "Apply"]


def test_apply_false_only_waits_and_sends_no_write(kube_api, doris_namespace, tmp_path):
    apply_as_the_manifests_step(kube_api, doris_namespace)
    kube_api.reset_counts()
    waited = run(kube_api, tmp_path, [wait_task(doris_namespace)])
    assert waited.returncode == 0, waited
    result = waited.results["doris"]
    assert result["changed"] is False and result["ready"] is True
    assert result["components"]["fe"]["phase"] == "available" and result["components"]["be"]["running"] == 2
    assert result["cluster"]["fe_service"] == "doris-fe-service.%s.svc" % doris_namespace
    counts = kube_api.request_counts()
    assert cr_writes(counts) == 0, counts  # no create, patch or dry run of the DorisCluster
    live = live_cluster(kube_api, doris_namespace)
    assert live["metadata"]["labels"] == APPLY_LABELS  # nothing rewrote the object without the apply's labels
    assert updates_by_the_module(live) == []

    # Options that differ from the live object (3 BEs) are not written either (apply=true would patch them), for
    # real and in check mode (no dry run): only a warning.
    be = dict(doris_task(doris_namespace)["lakehouse.platform.doris_cluster"]["be"], replicas=3)
    for check in (False, True):
        kube_api.reset_counts()
        again = run(kube_api, tmp_path, [wait_task(doris_namespace, be=be)], check=check, diff=True)
        assert again.returncode == 0, again
        assert again.results["doris"]["changed"] is False
        assert again.results["doris"]["components"]["be"] == dict(again.results["doris"]["components"]["be"],
                                                                  phase="available", replicas=2, running=2)
        assert "apply=false: options be are not used" in again.output
        assert cr_writes(kube_api.request_counts()) == 0
    assert live_cluster(kube_api, doris_namespace)["spec"]["beSpec"]["replicas"] == 2


def test_apply_false_waits_for_a_cluster_that_appears_later(kube_api, doris_namespace, tmp_path):
    kube_api.reset_counts()
    applied = threading.Event()

    def apply_once_the_module_waits():
        deadline = time.monotonic() + 60
        # The module's wait lists DorisClusters before it watches; then the "manifests step" applies it.
        while time.monotonic() < deadline and kube_api.request_counts().count("list", resource=DORIS_RESOURCE) == 0:
            time.sleep(0.2)
        time.sleep(1)
        apply_as_the_manifests_step(kube_api, doris_namespace)
        applied.set()

    applier = threading.Thread(target=apply_once_the_module_waits, daemon=True)
    applier.start()
    waited = run(kube_api, tmp_path, [wait_task(doris_namespace)])
    applier.join(timeout=70)
    assert applied.is_set()
    assert waited.returncode == 0, waited
    result = waited.results["doris"]
    assert result["changed"] is False and result["ready"] is True and result["elapsed"] >= 1
    counts = kube_api.request_counts()
    assert cr_writes(counts, "create") == 0, counts  # the module never created it
    assert cr_writes(counts) == 1, counts  # the one server-side apply of the test
    assert counts.count("patch", resource=DORIS_RESOURCE, subresource="", dry_run=True) == 0
    assert updates_by_the_module(live_cluster(kube_api, doris_namespace)) == []


def test_apply_false_member_failure_fails_fast_without_writing(kube_api, simulators, doris_namespace, tmp_path):
    simulators.set_namespace_behaviour(doris_namespace, kind="DorisCluster", **{
        "be.mode": "fail", "be.message": "Back-off restarting failed container be in pod doris-be-0"})
    apply_as_the_manifests_step(kube_api, doris_namespace)
    kube_api.reset_counts()
    started = time.monotonic()
    outcome = run(kube_api, tmp_path, [wait_task(doris_namespace, failure_grace=2, wait_timeout=60)])
    assert outcome.returncode != 0, outcome
    result = outcome.results["doris"]
    assert "DorisCluster %s/doris failed: be haveMemberFailed" % doris_namespace in result["msg"]
    assert result["components"]["be"]["phase"] == "haveMemberFailed" and result["changed"] is False
    assert 2 <= result["elapsed"] < 30 and time.monotonic() - started < 45
    assert cr_writes(kube_api.request_counts()) == 0
