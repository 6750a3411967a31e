"""The operator simulators, driven through the real API test server as a separate process.

Each test creates objects the way a user (or a module) would and watches what the simulated operator
writes back: happy path, delay, and each failure mode.
"""
import base64
import time

import psycopg2
import pytest

from tests.simulators import seed_nodes
from tests.simulators.kube import KubeApi

PREFIX = "sim.lakehouse.test"


def wait_for(read, check, timeout=10.0, interval=0.05):
    """Poll read() until check(value) is true; return the value or fail showing the last one."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = read()
        if value is not None and check(value):
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")


def status(obj):
    return (obj or {}).get("status") or {}


def condition(obj, type_):
    for cond in status(obj).get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def decoded(secret):
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


@pytest.fixture
def kube(simulators):
    return simulators.kube


def getter(kube, api_version, kind, name, namespace):
    return lambda: kube.get(api_version, kind, name, namespace)


def deployment(name, ns, replicas=2, annotations=None, template_annotations=None):
    labels = {"app": name}
    template_meta = {"labels": labels}
    if template_annotations:
        template_meta["annotations"] = template_annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": template_meta,
                                  "spec": {"containers": [{"name": "app", "image": "busybox",
                                                           "resources": {"requests": {"cpu": "100m"}}}]}}}}


# -- nodes, pods, workloads ------------------------------------------------------------------------------------
class TestWorkloads:
    @pytest.fixture
    def seeded_nodes(self, kube):
        nodes = seed_nodes(kube, 3, "8", "32Gi", prefix="simnode")
        try:
            yield nodes
        finally:  # Nodes are cluster-wide: leave none behind for other tests' capacity figures
            for node in nodes:
                kube.delete("v1", "Node", node["metadata"]["name"])

    def test_seeded_nodes_carry_capacity_and_pods_spread_round_robin(self, simulators, kube, kube_namespace,
                                                                     seeded_nodes):
        nodes = seeded_nodes
        assert [n["status"]["allocatable"]["cpu"] for n in nodes] == ["8", "8", "8"]
        assert nodes[0]["status"]["capacity"]["memory"] == "32Gi"
        kube.create(deployment("web", kube_namespace, replicas=6))
        deploy = wait_for(getter(kube, "apps/v1", "Deployment", "web", kube_namespace),
                          lambda d: status(d).get("readyReplicas") == 6)
        assert status(deploy)["availableReplicas"] == 6
        assert status(deploy)["updatedReplicas"] == 6
        assert status(deploy)["observedGeneration"] == deploy["metadata"]["generation"]
        assert condition(deploy, "Available")["status"] == "True"
        pods = kube.list("v1", "Pod", kube_namespace, label_selector="app=web")
        assert len(pods) == 6
        for pod in pods:
            assert pod["status"]["phase"] == "Running"
            assert any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])
            assert pod["status"]["podIP"]
            owner = pod["metadata"]["ownerReferences"][0]
            assert owner["kind"] == "ReplicaSet" and owner["controller"] is True
            assert pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m"
        # Every seeded node got pods (others' nodes may exist too: the spread is over all nodes).
        used = {p["spec"]["nodeName"] for p in pods}
        all_nodes = {n["metadata"]["name"] for n in kube.list("v1", "Node")}
        assert used <= all_nodes and len(used) >= min(3, len(all_nodes))

    def test_scaling_down_deletes_pods(self, simulators, kube, kube_namespace):
        kube.create(deployment("api", kube_namespace, replicas=3))
        wait_for(getter(kube, "apps/v1", "Deployment", "api", kube_namespace),
                 lambda d: status(d).get("readyReplicas") == 3)
        kube.patch("apps/v1", "Deployment", "api", kube_namespace, {"spec": {"replicas": 1}})
        deploy = wait_for(getter(kube, "apps/v1", "Deployment", "api", kube_namespace),
                          lambda d: status(d).get("replicas") == 1 and status(d).get("readyReplicas") == 1)
        assert status(deploy)["observedGeneration"] == 2
        wait_for(lambda: kube.list("v1", "Pod", kube_namespace, label_selector="app=api"),
                 lambda pods: len(pods) == 1)

    def test_statefulset_creates_ordinal_pods_and_bound_claims(self, simulators, kube, kube_namespace):
        labels = {"app": "db"}
        kube.create({"apiVersion": "apps/v1", "kind": "StatefulSet",
                     "metadata": {"name": "db", "namespace": kube_namespace},
                     "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": labels},
                              "template": {"metadata": {"labels": labels},
                                           "spec": {"containers": [{"name": "db", "image": "postgres"}]}},
                              "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                                        "spec": {"accessModes": ["ReadWriteOnce"],
                                                                 "resources": {"requests": {"storage": "5Gi"}}}}]}})
        sts = wait_for(getter(kube, "apps/v1", "StatefulSet", "db", kube_namespace),
                       lambda s: status(s).get("readyReplicas") == 2, timeout=15)
        assert status(sts)["currentRevision"] == status(sts)["updateRevision"]
        assert sorted(p["metadata"]["name"] for p in kube.list("v1", "Pod", kube_namespace)) == ["db-0", "db-1"]
        for index in (0, 1):
            pvc = wait_for(getter(kube, "v1", "PersistentVolumeClaim", f"data-db-{index}", kube_namespace),
                           lambda c: status(c).get("phase") == "Bound")
            assert status(pvc)["capacity"]["storage"] == "5Gi"
            pv = kube.get("v1", "PersistentVolume", pvc["spec"]["volumeName"])
            assert pv["spec"]["claimRef"]["name"] == f"data-db-{index}"

    def test_job_completes_and_a_failing_job_fails(self, simulators, kube, kube_namespace):
        def job(name, annotations=None):
            return {"apiVersion": "batch/v1", "kind": "Job",
                    "metadata": {"name": name, "namespace": kube_namespace, "annotations": annotations or {}},
                    "spec": {"backoffLimit": 0, "template": {"spec": {
                        "restartPolicy": "Never", "containers": [{"name": "run", "image": "busybox"}]}}}}
        kube.create(job("ok"))
        kube.create(job("bad", {f"{PREFIX}/mode": "fail"}))
        done = wait_for(getter(kube, "batch/v1", "Job", "ok", kube_namespace), lambda j: condition(j, "Complete"))
        assert status(done)["succeeded"] == 1 and status(done)["completionTime"]
        failed = wait_for(getter(kube, "batch/v1", "Job", "bad", kube_namespace), lambda j: condition(j, "Failed"))
        assert condition(failed, "Failed")["reason"] == "BackoffLimitExceeded"
        pod = kube.list("v1", "Pod", kube_namespace, label_selector="job-name=bad")[0]
        assert pod["status"]["phase"] == "Failed" and pod["status"]["reason"] == "Error"

    def test_delay_annotation_holds_readiness_back(self, simulators, kube, kube_namespace):
        kube.create(deployment("slow", kube_namespace, replicas=1, annotations={f"{PREFIX}/delay-seconds": "2"}))
        start = time.monotonic()
        pod = wait_for(lambda: (kube.list("v1", "Pod", kube_namespace, label_selector="app=slow") or [None])[0],
                       lambda p: p is not None)
        assert pod["metadata"]["annotations"][f"{PREFIX}/delay-seconds"] == "2"  # inherited by the pod
        time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))
        assert not status(kube.get("apps/v1", "Deployment", "slow", kube_namespace)).get("readyReplicas")
        wait_for(getter(kube, "apps/v1", "Deployment", "slow", kube_namespace),
                 lambda d: status(d).get("readyReplicas") == 1, timeout=6)
        assert time.monotonic() - start >= 1.9

    def test_pod_modes_never_ready_fail_and_flap(self, simulators, kube, kube_namespace):
        def pod(name, mode, **extra):
            annotations = {f"{PREFIX}/mode": mode, **{f"{PREFIX}/{k.replace('_', '-')}": v for k, v in extra.items()}}
            return {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": kube_namespace, "annotations": annotations},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        kube.create(pod("never", "never-ready"))
        kube.create(pod("broken", "fail", message="OOMKilled by the simulator"))
        kube.create(pod("flappy", "flap", flap_period="0.6", delay_seconds="0.2"))
        never = wait_for(getter(kube, "v1", "Pod", "never", kube_namespace),
                         lambda p: status(p).get("phase") == "Running")
        assert condition(never, "Ready")["status"] == "False"
        assert condition(never, "Ready")["reason"] == "ContainersNotReady"
        broken = wait_for(getter(kube, "v1", "Pod", "broken", kube_namespace),
                          lambda p: status(p).get("phase") == "Failed")
        assert status(broken)["message"] == "OOMKilled by the simulator"
        seen = set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(seen) < 2:
            seen.add(status(kube.get("v1", "Pod", "flappy", kube_namespace)).get("phase"))
            time.sleep(0.05)
        assert {"Running", "Failed"} <= seen

    def test_pods_and_claims_someone_else_reports_on_are_left_alone(self, simulators, kube, kube_namespace):
        def bare(name):
            return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": kube_namespace},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}],
                             "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": f"{name}-data"}}]}}

        def claim(name):
            return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": name, "namespace": kube_namespace},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
        # A test playing kubelet itself: it sets phases by hand right after creating the pods.
        kube.create(bare("manual"))
        kube.patch("v1", "Pod", "manual", kube_namespace, {"status": {"phase": "Pending"}}, subresource="status")
        kube.patch("v1", "Pod", "manual", kube_namespace,
                   {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}},
                   subresource="status")
        kube.create(claim("unused"))
        # A bare pod nobody reports on gets run by the simulated kubelet; its claim gets bound.
        kube.create(claim("auto-data"))
        kube.create(bare("auto"))
        wait_for(getter(kube, "v1", "Pod", "auto", kube_namespace), lambda p: status(p).get("phase") == "Running")
        wait_for(getter(kube, "v1", "PersistentVolumeClaim", "auto-data", kube_namespace),
                 lambda c: status(c).get("phase") == "Bound")
        time.sleep(1.0)
        manual = kube.get("v1", "Pod", "manual", kube_namespace)
        assert status(manual)["phase"] == "Running" and condition(manual, "Ready")["status"] == "False"
        assert "containerStatuses" not in status(manual)
        assert status(kube.get("v1", "PersistentVolumeClaim", "unused", kube_namespace)).get("phase") != "Bound"


# -- Rook ------------------------------------------------------------------------------------------------------
def object_user(name, ns, store="lake", annotations=None, **spec):
    return {"apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
            "spec": {"store": store, "displayName": name, **spec}}


class TestRook:
    def test_user_becomes_ready_with_an_owned_secret(self, simulators, kube, kube_namespace):
        kube.create(object_user("iceberg", kube_namespace, annotations={f"{PREFIX}/delay-seconds": "1"}))
        get = getter(kube, "ceph.rook.io/v1", "CephObjectStoreUser", "iceberg", kube_namespace)
        early = wait_for(get, lambda u: "status" in u)
        assert status(early)["phase"] == ""  # just created: Rook writes an empty phase first
        assert "cephobjectstoreuser.ceph.rook.io" in early["metadata"]["finalizers"]
        user = wait_for(get, lambda u: status(u).get("phase") == "Ready", timeout=5)
        assert status(user)["observedGeneration"] == user["metadata"]["generation"]
        assert status(user)["info"]["secretName"] == "rook-ceph-object-user-lake-iceberg"
        secret = kube.get("v1", "Secret", "rook-ceph-object-user-lake-iceberg", kube_namespace)
        assert secret["type"] == "kubernetes.io/rook"
        assert secret["metadata"]["labels"] == {"app": "rook-ceph-rgw", "user": "iceberg",
                                                "rook_cluster": kube_namespace, "rook_object_store": "lake"}
        owner = secret["metadata"]["ownerReferences"][0]
        assert owner["kind"] == "CephObjectStoreUser" and owner["controller"] is True
        values = decoded(secret)
        assert len(values["AccessKey"]) == 20 and len(values["SecretKey"]) == 40
        assert values["Endpoint"] == f"http://rook-ceph-rgw-lake.{kube_namespace}.svc:80"

        # Deleting the user: the finalizer is released and the Secret is garbage-collected.
        kube.delete("ceph.rook.io/v1", "CephObjectStoreUser", "iceberg", kube_namespace)
        wait_for(lambda: [get(), kube.get("v1", "Secret", "rook-ceph-object-user-lake-iceberg", kube_namespace)],
                 lambda pair: pair == [None, None])

    def test_keys_come_from_the_simulator_config_secret(self, simulators, kube, kube_namespace):
        simulators.set_rook_keys("REALACCESSKEY0000000", "real-secret", endpoint="http://127.0.0.1:7480",
                                 namespace=kube_namespace, user="mlflow")
        try:
            kube.create(object_user("mlflow", kube_namespace, clusterNamespace="rook-ceph"))
            wait_for(getter(kube, "ceph.rook.io/v1", "CephObjectStoreUser", "mlflow", kube_namespace),
                     lambda u: status(u).get("phase") == "Ready")
            values = decoded(kube.get("v1", "Secret", "rook-ceph-object-user-lake-mlflow", kube_namespace))
            assert values == {"AccessKey": "REALACCESSKEY0000000", "SecretKey": "real-secret",
                              "Endpoint": "http://127.0.0.1:7480"}
        finally:
            simulators.clear_rook_keys()

    def test_brought_keys_and_generation_tracking(self, simulators, kube, kube_namespace):
        kube.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "byo", "namespace": kube_namespace},
                     "data": {"ak": base64.b64encode(b"BYOACCESS").decode(),
                              "sk": base64.b64encode(b"byosecret").decode()}})
        kube.create(object_user("byo", kube_namespace, keys=[{"accessKeyRef": {"name": "byo", "key": "ak"},
                                                              "secretKeyRef": {"name": "byo", "key": "sk"}}]))
        get = getter(kube, "ceph.rook.io/v1", "CephObjectStoreUser", "byo", kube_namespace)
        user = wait_for(get, lambda u: status(u).get("phase") == "Ready")
        assert [k["name"] for k in status(user)["keys"]] == ["byo"]
        assert decoded(kube.get("v1", "Secret", "rook-ceph-object-user-lake-byo", kube_namespace))["AccessKey"] == \
            "BYOACCESS"
        kube.patch("ceph.rook.io/v1", "CephObjectStoreUser", "byo", kube_namespace,
                   {"spec": {"quotas": {"maxBuckets": 5}}})
        user = wait_for(get, lambda u: status(u).get("observedGeneration") == 2)
        assert status(user)["phase"] == "Ready"

    def test_failure_mode_reports_reconcile_failed_with_an_event(self, simulators, kube, kube_namespace):
        kube.create(object_user("bad", kube_namespace, annotations={f"{PREFIX}/mode": "fail"}))
        user = wait_for(getter(kube, "ceph.rook.io/v1", "CephObjectStoreUser", "bad", kube_namespace),
                        lambda u: status(u).get("phase") == "ReconcileFailed")
        assert "observedGeneration" not in status(user)  # Rook does not claim it observed a failed generation
        events = wait_for(lambda: [e for e in kube.list("v1", "Event", kube_namespace)
                                   if e["involvedObject"]["name"] == "bad"], lambda evs: evs)
        assert events[0]["reason"] == "ReconcileFailed" and events[0]["type"] == "Warning"
        assert kube.get("v1", "Secret", "rook-ceph-object-user-lake-bad", kube_namespace) is None

    def test_namespace_level_behaviour_reaches_objects_created_without_annotations(
            self, simulators, kube, kube_namespace):
        simulators.set_namespace_behaviour(kube_namespace, kind="CephObjectStoreUser", mode="never-ready")
        kube.create(object_user("stuck", kube_namespace))
        time.sleep(1.5)
        user = kube.get("ceph.rook.io/v1", "CephObjectStoreUser", "stuck", kube_namespace)
        assert status(user).get("phase") == ""


# -- doris-operator --------------------------------------------------------------------------------------------
def doris_cluster(name, ns, fe=1, be=1, annotations=None):
    return {"apiVersion": "doris.selectdb.com/v1", "kind": "DorisCluster",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
            "spec": {"feSpec": {"replicas": fe, "image": "apache/doris:fe-2.1.7",
                                "requests": {"cpu": "1", "memory": "2Gi"},
                                "persistentVolumes": [{"name": "meta", "mountPath": "/opt/apache-doris/fe/doris-meta",
                                                       "persistentVolumeClaimSpec": {
                                                           "accessModes": ["ReadWriteOnce"],
                                                           "resources": {"requests": {"storage": "10Gi"}}}}]},
                     "beSpec": {"replicas": be, "image": "apache/doris:be-2.1.7"}}}


class TestDoris:
    def test_fe_then_be_become_available(self, simulators, kube, kube_namespace):
        kube.create(doris_cluster("lake", kube_namespace, fe=1, be=2,
                                  annotations={f"{PREFIX}/fe.delay-seconds": "1.5"}))
        get = getter(kube, "doris.selectdb.com/v1", "DorisCluster", "lake", kube_namespace)
        first = wait_for(get, lambda d: status(d).get("feStatus"))
        assert status(first)["feStatus"]["componentCondition"]["phase"] == "initializing"
        assert status(first)["feStatus"]["accessService"] == "lake-fe-service"
        # BE waits until the FE access Service has endpoints.
        time.sleep(0.5)
        assert kube.get("apps/v1", "StatefulSet", "lake-be", kube_namespace) is None
        assert "beStatus" not in status(kube.get("doris.selectdb.com/v1", "DorisCluster", "lake", kube_namespace))
        dcr = wait_for(get, lambda d: (status(d).get("beStatus") or {}).get("componentCondition", {}).get(
            "phase") == "available", timeout=10)
        fe, be = status(dcr)["feStatus"], status(dcr)["beStatus"]
        assert fe["componentCondition"]["phase"] == "available" and fe["runningInstances"] == ["lake-fe-0"]
        assert be["runningInstances"] == ["lake-be-0", "lake-be-1"]
        assert be["componentCondition"]["subResourceName"] == "lake-be"
        for name in ("lake-fe-service", "lake-fe-internal", "lake-be-service", "lake-be-internal"):
            assert kube.get("v1", "Service", name, kube_namespace), name
        sts = kube.get("apps/v1", "StatefulSet", "lake-fe", kube_namespace)
        assert sts["spec"]["podManagementPolicy"] == "Parallel"
        assert kube.get("v1", "PersistentVolumeClaim", "meta-lake-fe-0", kube_namespace)
        pod = kube.get("v1", "Pod", "lake-fe-0", kube_namespace)
        assert pod["metadata"]["labels"]["app.doris.ownerreference/name"] == "lake-fe"
        assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "2Gi"}

    def test_failed_member_copies_reason_and_message_from_the_pod(self, simulators, kube, kube_namespace):
        kube.create(doris_cluster("broken", kube_namespace, be=1,
                                  annotations={f"{PREFIX}/be.mode": "fail",
                                               f"{PREFIX}/be.message": "be crashed: no space left on device"}))
        dcr = wait_for(getter(kube, "doris.selectdb.com/v1", "DorisCluster", "broken", kube_namespace),
                       lambda d: (status(d).get("beStatus") or {}).get("componentCondition", {}).get(
                           "phase") == "haveMemberFailed")
        cond = status(dcr)["beStatus"]["componentCondition"]
        assert cond["reason"] == "Error"
        assert cond["message"] == "be crashed: no space left on device"
        assert status(dcr)["beStatus"]["failedInstances"] == ["broken-be-0"]
        assert status(dcr)["feStatus"]["componentCondition"]["phase"] == "available"


# -- KubeRay ---------------------------------------------------------------------------------------------------
def ray_cluster(name, ns, workers=2, annotations=None):
    container = {"name": "ray", "image": "rayproject/ray:2.46.0", "resources": {"requests": {"cpu": "1"}}}
    return {"apiVersion": "ray.io/v1", "kind": "RayCluster",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
            "spec": {"rayVersion": "2.46.0",
                     "headGroupSpec": {"rayStartParams": {}, "template": {"spec": {"containers": [container]}}},
                     "workerGroupSpecs": [{"groupName": "cpu", "replicas": workers, "minReplicas": 1,
                                           "maxReplicas": 4, "rayStartParams": {},
                                           "template": {"spec": {"containers": [container]}}}]}}


class TestKubeRay:
    def test_head_and_workers_become_ready(self, simulators, kube, kube_namespace):
        kube.create(ray_cluster("ml", kube_namespace))
        rc = wait_for(getter(kube, "ray.io/v1", "RayCluster", "ml", kube_namespace),
                      lambda r: status(r).get("state") == "ready")
        st = status(rc)
        assert st["readyWorkerReplicas"] == 2 and st["availableWorkerReplicas"] == 2
        assert st["desiredWorkerReplicas"] == 2 and st["minWorkerReplicas"] == 1 and st["maxWorkerReplicas"] == 4
        assert st["observedGeneration"] == rc["metadata"]["generation"]
        assert (st["desiredCPU"], st["desiredMemory"], st["desiredGPU"]) == ("3", "0", "0")  # head + 2 workers
        assert condition(rc, "HeadPodReady")["status"] == "True"
        assert condition(rc, "HeadPodReady")["reason"] == "HeadPodRunningAndReady"
        assert condition(rc, "RayClusterProvisioned")["reason"] == "AllPodRunningAndReadyFirstTime"
        assert condition(rc, "ReplicaFailure") is None
        assert st["endpoints"]["client"] == "10001" and st["endpoints"]["dashboard"] == "8265"
        assert st["endpoints"]["gcs-server"] == "6379"
        assert st["head"]["serviceName"] == "ml-head-svc" and st["head"]["serviceIP"]
        assert st["head"]["podName"].startswith("ml-head-") and st["head"]["podIP"]
        pods = kube.list("v1", "Pod", kube_namespace, label_selector="ray.io/cluster=ml")
        assert sorted(p["metadata"]["labels"]["ray.io/node-type"] for p in pods) == ["head", "worker", "worker"]
        assert {p["metadata"]["labels"]["ray.io/group"] for p in pods} == {"headgroup", "cpu"}

    def test_degrade_after_ready_keeps_the_sticky_state(self, simulators, kube, kube_namespace):
        kube.create(ray_cluster("sticky", kube_namespace, annotations={
            f"{PREFIX}/mode": "degrade", f"{PREFIX}/degrade-after": "1.5"}))
        get = getter(kube, "ray.io/v1", "RayCluster", "sticky", kube_namespace)
        wait_for(get, lambda r: status(r).get("state") == "ready" and status(r)["readyWorkerReplicas"] == 2)
        rc = wait_for(get, lambda r: status(r).get("readyWorkerReplicas") == 0, timeout=8)
        assert status(rc)["state"] == "ready"  # sticky: never trust it
        assert condition(rc, "RayClusterProvisioned")["status"] == "True"
        assert condition(rc, "HeadPodReady")["status"] == "True"
        assert status(rc)["desiredWorkerReplicas"] == 2

    def test_failure_mode_sets_replica_failure(self, simulators, kube, kube_namespace):
        kube.create(ray_cluster("quota", kube_namespace, annotations={
            f"{PREFIX}/worker.mode": "fail", f"{PREFIX}/worker.message": "exceeded quota: team-quota"}))
        rc = wait_for(getter(kube, "ray.io/v1", "RayCluster", "quota", kube_namespace),
                      lambda r: condition(r, "ReplicaFailure"))
        failure = condition(rc, "ReplicaFailure")
        assert failure["status"] == "True" and failure["reason"] == "FailedCreateWorkerPod"
        assert "exceeded quota: team-quota" in failure["message"]
        assert status(rc).get("state") != "ready"
        assert condition(rc, "RayClusterProvisioned")["status"] == "False"


# -- CloudNativePG ---------------------------------------------------------------------------------------------
def pg_cluster(name, ns, instances=1, annotations=None, initdb=None, **spec):
    body = {"instances": instances, "storage": {"size": "2Gi"}, **spec}
    if initdb:
        body["bootstrap"] = {"initdb": initdb}
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}}, "spec": body}


class TestCloudNativePG:
    def test_cluster_goes_from_setting_up_primary_to_healthy(self, simulators, kube, kube_namespace):
        kube.create(pg_cluster("meta", kube_namespace, instances=2,
                               initdb={"database": "metastore", "owner": "hive"}))
        get = getter(kube, "postgresql.cnpg.io/v1", "Cluster", "meta", kube_namespace)
        early = wait_for(get, lambda c: status(c).get("phase"))
        assert status(early)["phase"] == "Setting up primary"
        assert condition(early, "Ready")["reason"] == "ClusterIsNotReady"
        cluster = wait_for(get, lambda c: status(c).get("phase") == "Cluster in healthy state", timeout=10)
        st = status(cluster)
        assert st["readyInstances"] == 2 and st["instances"] == 2
        assert st["currentPrimary"] == "meta-1" and st["writeService"] == "meta-rw"
        assert st["readService"] == "meta-r"
        assert condition(cluster, "Ready") | {"lastTransitionTime": None} == {
            "type": "Ready", "status": "True", "reason": "ClusterIsReady", "message": "Cluster is Ready",
            "lastTransitionTime": None}
        for svc in ("meta-rw", "meta-ro", "meta-r"):
            assert kube.get("v1", "Service", svc, kube_namespace), svc
        app = kube.get("v1", "Secret", "meta-app", kube_namespace)
        assert app["type"] == "kubernetes.io/basic-auth"
        values = decoded(app)
        assert values["username"] == values["user"] == "hive" and values["dbname"] == "metastore"
        assert values["host"] == "meta-rw" and values["port"] == "5432"
        assert values["uri"].startswith("postgresql://hive:") and values["uri"].endswith(
            f"@meta-rw.{kube_namespace}:5432/metastore")
        assert set(values) >= {"pgpass", "jdbc-uri", "fqdn-uri", "fqdn-jdbc-uri"}
        pods = kube.list("v1", "Pod", kube_namespace, label_selector="cnpg.io/cluster=meta")
        roles = {p["metadata"]["name"]: p["metadata"]["labels"]["cnpg.io/instanceRole"] for p in pods}
        assert roles == {"meta-1": "primary", "meta-2": "replica"}
        assert kube.get("v1", "PersistentVolumeClaim", "meta-2", kube_namespace)["spec"]["resources"][
            "requests"]["storage"] == "2Gi"

    def test_given_initdb_secret_is_used_not_generated(self, simulators, kube, kube_namespace):
        kube.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
                     "metadata": {"name": "hive-creds", "namespace": kube_namespace},
                     "data": {"username": base64.b64encode(b"hive").decode(),
                              "password": base64.b64encode(b"s3cret").decode()}})
        kube.create(pg_cluster("own", kube_namespace, initdb={"database": "metastore", "owner": "hive",
                                                              "secret": {"name": "hive-creds"}}))
        wait_for(getter(kube, "postgresql.cnpg.io/v1", "Cluster", "own", kube_namespace),
                 lambda c: status(c).get("phase") == "Cluster in healthy state")
        assert kube.get("v1", "Secret", "own-app", kube_namespace) is None
        assert decoded(kube.get("v1", "Secret", "hive-creds", kube_namespace))["password"] == "s3cret"

    def test_failure_mode(self, simulators, kube, kube_namespace):
        kube.create(pg_cluster("nope", kube_namespace, annotations={f"{PREFIX}/mode": "fail"}))
        cluster = wait_for(getter(kube, "postgresql.cnpg.io/v1", "Cluster", "nope", kube_namespace),
                           lambda c: status(c).get("phase") == "Unable to create required cluster objects")
        assert condition(cluster, "Ready")["status"] == "False"
        assert "forbidden" in status(cluster)["phaseReason"]
        assert not kube.list("v1", "Pod", kube_namespace, label_selector="cnpg.io/cluster=nope")

    def test_backup_completes_and_a_failing_backup_fails(self, simulators, kube, kube_namespace):
        kube.create(pg_cluster("db", kube_namespace))
        wait_for(getter(kube, "postgresql.cnpg.io/v1", "Cluster", "db", kube_namespace),
                 lambda c: status(c).get("phase") == "Cluster in healthy state")

        def backup(name, annotations=None):
            return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Backup",
                    "metadata": {"name": name, "namespace": kube_namespace, "annotations": annotations or {}},
                    "spec": {"cluster": {"name": "db"}, "method": "plugin",
                             "pluginConfiguration": {"name": "barman-cloud.cloudnative-pg.io"}}}
        kube.create(backup("b1", {f"{PREFIX}/delay-seconds": "1"}))
        kube.create(backup("b2", {f"{PREFIX}/mode": "fail", f"{PREFIX}/message": "bucket not found"}))
        phases = set()
        get = getter(kube, "postgresql.cnpg.io/v1", "Backup", "b1", kube_namespace)
        done = wait_for(get, lambda b: phases.add(status(b).get("phase")) or status(b).get("phase") == "completed")
        assert {"started", "running", "completed"} <= phases
        st = status(done)
        assert st["backupId"] and st["startedAt"] and st["stoppedAt"] and st["instanceID"]["podName"] == "db-1"
        failed = wait_for(getter(kube, "postgresql.cnpg.io/v1", "Backup", "b2", kube_namespace),
                          lambda b: status(b).get("phase") == "failed")
        assert status(failed)["error"] == "bucket not found"

    def test_immediate_scheduled_backup_creates_an_owned_child(self, simulators, kube, kube_namespace):
        kube.create(pg_cluster("sched", kube_namespace))
        cluster = wait_for(getter(kube, "postgresql.cnpg.io/v1", "Cluster", "sched", kube_namespace),
                           lambda c: status(c).get("phase") == "Cluster in healthy state")
        kube.create({"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup",
                     "metadata": {"name": "nightly", "namespace": kube_namespace},
                     "spec": {"schedule": "0 0 2 * * *", "cluster": {"name": "sched"}, "immediate": True,
                              "backupOwnerReference": "cluster", "method": "plugin",
                              "pluginConfiguration": {"name": "barman-cloud.cloudnative-pg.io"}}})
        children = wait_for(lambda: kube.list("postgresql.cnpg.io/v1", "Backup", kube_namespace,
                                              label_selector="cnpg.io/scheduled-backup=nightly"),
                            lambda items: items)
        child = children[0]
        assert child["metadata"]["labels"]["cnpg.io/immediateBackup"] == "true"
        assert child["metadata"]["ownerReferences"][0]["uid"] == cluster["metadata"]["uid"]
        sb = wait_for(getter(kube, "postgresql.cnpg.io/v1", "ScheduledBackup", "nightly", kube_namespace),
                      lambda s: status(s).get("nextScheduleTime"))
        assert status(sb)["lastScheduleTime"] and status(sb)["nextScheduleTime"].endswith("T02:00:00Z")
        wait_for(getter(kube, "postgresql.cnpg.io/v1", "Backup", child["metadata"]["name"], kube_namespace),
                 lambda b: status(b).get("phase") == "completed")


class TestCloudNativePGOnRealPostgres:
    def test_initdb_creates_the_database_on_the_real_server(self, simulators_with_postgres, postgres,
                                                            kube_namespace):
        kube = simulators_with_postgres.kube
        database = f"hive_{kube_namespace.replace('-', '_')}"
        kube.create(pg_cluster("hms", kube_namespace, initdb={
            "database": database, "owner": "hive",
            "postInitApplicationSQL": ["CREATE TABLE version_probe (v int)"]}))
        wait_for(getter(kube, "postgresql.cnpg.io/v1", "Cluster", "hms", kube_namespace),
                 lambda c: status(c).get("phase") == "Cluster in healthy state")
        values = decoded(kube.get("v1", "Secret", "hms-app", kube_namespace))
        assert values["host"] == postgres.host and values["port"] == str(postgres.port)
        conn = psycopg2.connect(host=values["host"], port=int(values["port"]), user=values["username"],
                                password=values["password"], dbname=values["dbname"], connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT current_user, pg_get_userbyid(datdba) FROM pg_database "
                            "WHERE datname = current_database()")
                assert cur.fetchone() == ("hive", "hive")
                # postInitApplicationSQL ran as superuser in the application database, as CNPG runs it.
                cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'version_probe'")
                assert cur.fetchone() == (postgres.user,)
        finally:
            conn.close()
        conn = psycopg2.connect(values["uri"])
        conn.close()

        kube.delete("postgresql.cnpg.io/v1", "Cluster", "hms", kube_namespace)
        wait_for(lambda: postgres.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (database,)),
                 lambda rows: rows[0][0] == 0)


# -- Flux ------------------------------------------------------------------------------------------------------
def helm_release(name, ns, version="1.2.3", annotations=None):
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
            "spec": {"interval": "10m", "chart": {"spec": {"chart": name, "version": version,
                                                           "sourceRef": {"kind": "HelmRepository", "name": "repo"}}},
                     "values": {"replicaCount": 1}}}


class TestFlux:
    def test_install_then_upgrade(self, simulators, kube, kube_namespace):
        kube.create(helm_release("kafka", kube_namespace))
        get = getter(kube, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "kafka", kube_namespace)
        hr = wait_for(get, lambda h: (condition(h, "Ready") or {}).get("status") == "True")
        ready = condition(hr, "Ready")
        assert ready["reason"] == "InstallSucceeded" and ready["observedGeneration"] == 1
        assert condition(hr, "Released")["reason"] == "InstallSucceeded"
        assert condition(hr, "Reconciling") is None
        st = status(hr)
        assert st["observedGeneration"] == 1 and st["lastAttemptedRevision"] == "1.2.3"
        assert st["history"][0]["chartVersion"] == "1.2.3" and st["history"][0]["status"] == "deployed"
        kube.patch("helm.toolkit.fluxcd.io/v2", "HelmRelease", "kafka", kube_namespace,
                   {"spec": {"chart": {"spec": {"version": "1.3.0"}}}})
        hr = wait_for(get, lambda h: (condition(h, "Ready") or {}).get("observedGeneration") == 2
                      and condition(h, "Ready")["status"] == "True")
        assert condition(hr, "Ready")["reason"] == "UpgradeSucceeded"
        assert status(hr)["lastAttemptedRevision"] == "1.3.0"
        assert [h["version"] for h in status(hr)["history"]] == [2, 1]

    def test_requested_workloads_are_created_and_waited_for(self, simulators, kube, kube_namespace):
        kube.create(helm_release("neo4j", kube_namespace, annotations={
            f"{PREFIX}/workloads": "true", f"{PREFIX}/workload-requests": "cpu=250m,memory=512Mi"}))
        hr = wait_for(getter(kube, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "neo4j", kube_namespace),
                      lambda h: (condition(h, "Ready") or {}).get("status") == "True")
        deploy = kube.get("apps/v1", "Deployment", "neo4j", kube_namespace)
        assert status(deploy)["readyReplicas"] == 1
        assert deploy["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] == "512Mi"
        assert deploy["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "neo4j"
        assert condition(hr, "Ready")["reason"] == "InstallSucceeded"
        kube.delete("helm.toolkit.fluxcd.io/v2", "HelmRelease", "neo4j", kube_namespace)
        wait_for(lambda: [kube.get("apps/v1", "Deployment", "neo4j", kube_namespace)], lambda v: v == [None])

    def test_depends_on_holds_the_release_until_the_dependency_is_ready(self, simulators, kube, kube_namespace):
        dependent = helm_release("datahub", kube_namespace)
        dependent["spec"]["dependsOn"] = [{"name": "prerequisites", "namespace": kube_namespace}]
        kube.create(dependent)
        get = getter(kube, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "datahub", kube_namespace)
        held = wait_for(get, lambda h: (condition(h, "Ready") or {}).get("reason") == "DependencyNotReady")
        assert condition(held, "Ready")["status"] == "False"
        assert condition(held, "Ready")["message"] == "dependency '%s/prerequisites' is not ready" % kube_namespace
        assert "history" not in status(held)  # nothing was released
        kube.create(helm_release("prerequisites", kube_namespace))
        hr = wait_for(get, lambda h: (condition(h, "Ready") or {}).get("status") == "True")
        prerequisites = kube.get("helm.toolkit.fluxcd.io/v2", "HelmRelease", "prerequisites", kube_namespace)
        assert condition(hr, "Ready")["reason"] == "InstallSucceeded"
        assert condition(hr, "Ready")["lastTransitionTime"] >= condition(prerequisites, "Ready")["lastTransitionTime"]

    def test_failure_mode_fails_then_stalls(self, simulators, kube, kube_namespace):
        kube.create(helm_release("es", kube_namespace, annotations={f"{PREFIX}/mode": "fail",
                                                                    f"{PREFIX}/delay-seconds": "0.5"}))
        get = getter(kube, "helm.toolkit.fluxcd.io/v2", "HelmRelease", "es", kube_namespace)
        failing = wait_for(get, lambda h: (condition(h, "Ready") or {}).get("status") == "False")
        assert condition(failing, "Ready")["reason"] == "InstallFailed"
        hr = wait_for(get, lambda h: (condition(h, "Stalled") or {}).get("status") == "True")
        assert condition(hr, "Stalled")["reason"] == "RetriesExceeded"
        assert condition(hr, "Reconciling") is None
        assert status(hr)["installFailures"] == 1


# -- Argo CD ---------------------------------------------------------------------------------------------------
def application(name, ns, revision="4.5.6", annotations=None):
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
            "spec": {"project": "default",
                     "source": {"repoURL": "https://charts.example.org", "chart": name, "targetRevision": revision},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": ns},
                     "syncPolicy": {"automated": {"prune": True}}}}


class TestArgoCD:
    def test_progressing_then_healthy_and_synced(self, simulators, kube, kube_namespace):
        kube.create(application("datahub", kube_namespace, annotations={f"{PREFIX}/delay-seconds": "1.5"}))
        get = getter(kube, "argoproj.io/v1alpha1", "Application", "datahub", kube_namespace)
        seen = set()
        app = wait_for(get, lambda a: seen.add((status(a).get("health") or {}).get("status"))
                       or (status(a).get("health") or {}).get("status") == "Healthy", timeout=8)
        assert "Progressing" in seen
        assert status(app)["sync"] == {**status(app)["sync"], "status": "Synced", "revision": "4.5.6"}
        assert status(app)["operationState"]["phase"] == "Succeeded"
        assert status(app)["history"][-1]["revision"] == "4.5.6"

    def test_requested_workloads_are_tracked_and_removed_with_the_application(self, simulators, kube,
                                                                              kube_namespace):
        kube.create(application("mlflow", kube_namespace, annotations={f"{PREFIX}/workloads": "mlflow,mlflow-db"}))
        app = wait_for(getter(kube, "argoproj.io/v1alpha1", "Application", "mlflow", kube_namespace),
                       lambda a: (status(a).get("health") or {}).get("status") == "Healthy")
        assert sorted(r["name"] for r in status(app)["resources"]) == ["mlflow", "mlflow-db"]
        deploy = kube.get("apps/v1", "Deployment", "mlflow-db", kube_namespace)
        assert deploy["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] == \
            f"{kube_namespace}_mlflow:apps/Deployment:{kube_namespace}/mlflow-db"
        kube.delete("argoproj.io/v1alpha1", "Application", "mlflow", kube_namespace)
        wait_for(lambda: kube.list("apps/v1", "Deployment", kube_namespace), lambda items: items == [])

    def test_failure_mode_degraded_with_failed_operation(self, simulators, kube, kube_namespace):
        kube.create(application("kfp", kube_namespace, annotations={f"{PREFIX}/mode": "fail",
                                                                    f"{PREFIX}/message": "CRD missing"}))
        app = wait_for(getter(kube, "argoproj.io/v1alpha1", "Application", "kfp", kube_namespace),
                       lambda a: (status(a).get("health") or {}).get("status") == "Degraded")
        assert status(app)["operationState"]["phase"] == "Failed"
        assert "CRD missing" in status(app)["operationState"]["message"]
        assert status(app)["conditions"][0]["type"] == "SyncError"

    def test_flapping_application_alternates(self, simulators, kube, kube_namespace):
        kube.create(application("flappy", kube_namespace, annotations={
            f"{PREFIX}/mode": "flap", f"{PREFIX}/flap-period": "0.7", f"{PREFIX}/delay-seconds": "0.2"}))
        get = getter(kube, "argoproj.io/v1alpha1", "Application", "flappy", kube_namespace)
        seen = set()
        wait_for(get, lambda a: seen.add((status(a).get("health") or {}).get("status"))
                 or {"Healthy", "Degraded"} <= seen, timeout=6)


def test_simulators_run_as_a_separate_process_stopped_by_pid(simulators, kube_api):
    import os
    assert simulators.running and simulators.pid != os.getpid()
    with open(simulators.pidfile) as handle:
        assert int(handle.read()) == simulators.pid
    assert isinstance(simulators.kube, KubeApi)
