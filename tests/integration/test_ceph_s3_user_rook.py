"""ceph_s3_user with backend=rook through ansible-playbook, against the Kubernetes API test server and the Rook
simulator (which plays Rook's CephObjectStoreUser controller: finalizer, Secret, phase Ready with
observedGeneration, ReconcileFailed with a Warning event).

Also here: copy_to for backend=rgw_admin (real radosgw + test API server), and a simulated Rook user that hands
out the keys of a real radosgw user, so the keys the rook backend returns are proven against real S3.
"""
import base64
import json
import threading
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from tests.integration.kube_status import kube_client

pytestmark = pytest.mark.latency

MODULE = "lakehouse.platform.ceph_s3_user"
USERS = "cephobjectstoreusers"
LABEL_USER_ID = "lakehouse.platform/ceph-s3-user-id"


def rook_task(namespace, register="user", name="iceberg", **options):
    args = dict(name=name, store="storage", namespace=namespace, wait_timeout=60)
    args.update(options)
    return {"name": register, MODULE: args, "register": register}


@pytest.fixture
def core(kube_api):
    return k8s.CoreV1Api(kube_api.api_client())


@pytest.fixture
def custom(kube_api):
    return k8s.CustomObjectsApi(kube_api.api_client())


@pytest.fixture
def consumer_namespace(core):
    """A second fresh namespace, for the consumer Secrets."""
    name = "c-%s" % uuid.uuid4().hex[:10]
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture
def playbook(ceph_playbook, kube_api):
    return lambda tasks, **kwargs: ceph_playbook(tasks, env=kube_api.env, **kwargs)


def get_user(custom, namespace, name="iceberg"):
    try:
        return custom.get_namespaced_custom_object("ceph.rook.io", "v1", namespace, USERS, name)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def read_secret(core, namespace, name):
    try:
        secret = core.read_namespaced_secret(name, namespace)
    except ApiException as e:
        if e.status == 404:
            return None
        raise
    values = dict((k, base64.b64decode(v).decode()) for k, v in (secret.data or {}).items())
    return values, secret.metadata.labels or {}


def persisting_writes(counts):
    """Writes (not dry runs) to CephObjectStoreUsers themselves (not /status) and to Secrets."""
    cr = sum(counts.count(verb, resource=USERS, subresource="", dry_run=False)
             for verb in ("create", "update", "patch", "delete"))
    return cr + counts.writes(resource="secrets")


def test_create_copy_rerun_check_mode_change_and_delete(
        kube_api, simulators, kube_namespace, consumer_namespace, playbook, core, custom):
    ns = kube_namespace
    copies = [{"name": "iceberg-s3", "namespace": consumer_namespace},
              {"name": "trino-s3", "namespace": consumer_namespace,
               "keys": {"access_key": "S3_ACCESS_KEY", "secret_key": "S3_SECRET_KEY", "endpoint": ""}}]
    options = dict(display_name="Iceberg warehouse", quota={"max_size": "100Gi", "max_buckets": 10},
                   capabilities={"buckets": "read"}, copy_to=copies)

    run = playbook([rook_task(ns, "create", **options)], diff=True)
    assert run.rc == 0, run
    created = run.results[0]
    assert created["changed"] is True
    assert created["secret_name"] == "rook-ceph-object-user-storage-iceberg"
    rook_values = read_secret(core, ns, "rook-ceph-object-user-storage-iceberg")[0]
    assert created["access_key"] == rook_values["AccessKey"] and created["secret_key"] == rook_values["SecretKey"]
    assert created["endpoint"] == rook_values["Endpoint"] == "http://rook-ceph-rgw-storage.%s.svc:80" % ns
    assert created["user"]["phase"] == "Ready"
    assert created["user"]["quota"]["max_size"] == 100 * 1024 ** 3
    assert created["copied_to"] == ["%s/iceberg-s3" % consumer_namespace, "%s/trino-s3" % consumer_namespace]
    assert created["secret_key"] not in json.dumps(created["diff"])

    live = get_user(custom, ns)
    assert live["spec"] == {"store": "storage", "displayName": "Iceberg warehouse",
                            "capabilities": {"buckets": "read"}, "quotas": {"maxSize": "100Gi", "maxBuckets": 10}}
    assert live["status"]["phase"] == "Ready" and live["status"]["observedGeneration"] == live["metadata"]["generation"]
    values, labels = read_secret(core, consumer_namespace, "iceberg-s3")
    assert values == {"AWS_ACCESS_KEY_ID": rook_values["AccessKey"], "AWS_SECRET_ACCESS_KEY": rook_values["SecretKey"],
                      "AWS_ENDPOINT_URL": rook_values["Endpoint"]}
    assert labels["app.kubernetes.io/managed-by"] == "lakehouse.platform" and labels[LABEL_USER_ID]
    values = read_secret(core, consumer_namespace, "trino-s3")[0]
    assert values == {"S3_ACCESS_KEY": rook_values["AccessKey"], "S3_SECRET_KEY": rook_values["SecretKey"]}

    # The same task again: nothing to do, nothing written.
    kube_api.reset_counts()
    run = playbook([rook_task(ns, "again", **options)])
    assert run.rc == 0, run
    assert run.results[0]["changed"] is False
    assert run.results[0]["access_key"] == created["access_key"]
    assert persisting_writes(kube_api.request_counts()) == 0

    # Check mode with a quota change: predicted (dry-run patch), shown in the diff, nothing stored.
    kube_api.reset_counts()
    bigger = dict(options)
    bigger["quota"] = {"max_size": "200Gi", "max_buckets": 10}
    run = playbook([rook_task(ns, "would_grow", **bigger)], check=True, diff=True)
    assert run.rc == 0, run
    would = run.results[0]
    assert would["changed"] is True
    assert would["diff"]["before"]["user"]["quota"]["max_size"] == 100 * 1024 ** 3
    assert would["diff"]["after"]["user"]["quota"]["max_size"] == 200 * 1024 ** 3
    counts = kube_api.request_counts()
    assert persisting_writes(counts) == 0, counts
    assert counts.count("patch", resource=USERS, dry_run=True) == 1
    assert get_user(custom, ns)["spec"]["quotas"]["maxSize"] == "100Gi"

    # The change for real: waits for Rook to report Ready for the new generation.
    run = playbook([rook_task(ns, "grow", **bigger)], diff=True)
    assert run.rc == 0, run
    assert run.results[0]["changed"] is True
    live = get_user(custom, ns)
    assert live["spec"]["quotas"]["maxSize"] == "200Gi"
    assert live["metadata"]["generation"] == 2 and live["status"]["observedGeneration"] == 2

    # Delete in check mode (nothing happens), then for real (CR and copies gone), then again (no change).
    kube_api.reset_counts()
    run = playbook([rook_task(ns, "would_delete", state="absent")], check=True)
    assert run.rc == 0, run
    assert run.results[0]["changed"] is True
    assert persisting_writes(kube_api.request_counts()) == 0
    assert get_user(custom, ns) is not None

    run = playbook([rook_task(ns, "delete", state="absent"), rook_task(ns, "delete_again", state="absent")])
    assert run.rc == 0, run
    delete, delete_again = run.results
    assert delete["changed"] is True and delete_again["changed"] is False
    assert sorted(delete["copied_to"]) == ["%s/iceberg-s3" % consumer_namespace, "%s/trino-s3" % consumer_namespace]
    assert get_user(custom, ns) is None
    assert read_secret(core, consumer_namespace, "iceberg-s3") is None
    assert read_secret(core, consumer_namespace, "trino-s3") is None


def test_check_mode_create_writes_nothing(kube_api, simulators, kube_namespace, playbook, custom):
    kube_api.reset_counts()
    run = playbook([rook_task(kube_namespace, "would_create", quota={"max_size": "1Gi"},
                              copy_to=[{"name": "iceberg-s3"}])], check=True, diff=True)
    assert run.rc == 0, run
    result = run.results[0]
    assert result["changed"] is True and result["access_key"] is None
    assert result["diff"]["before"]["user"] is None and result["diff"]["after"]["user"]["uid"] == "iceberg"
    assert "%s/iceberg-s3" % kube_namespace in result["diff"]["after"]["consumer_secrets"]
    counts = kube_api.request_counts()
    assert persisting_writes(counts) == 0, counts
    assert counts.count("create", resource=USERS, dry_run=True) == 1
    assert get_user(custom, kube_namespace) is None


def test_reconcile_failed_past_grace_fails_with_the_operators_message(
        kube_api, simulators, kube_namespace, playbook):
    simulators.set_namespace_behaviour(kube_namespace, kind="CephObjectStoreUser", mode="fail", delay_seconds=0.2)
    run = playbook([rook_task(kube_namespace, "broken", reconcile_failed_grace=1, wait_timeout=30)])
    assert run.rc != 0
    result = run.results[0]
    assert result["failed"] is True
    assert "CephObjectStoreUser %s/iceberg" % kube_namespace in result["msg"]
    assert "ReconcileFailed" in result["msg"]
    assert "simulated RGW admin ops failure" in result["msg"]  # from the operator's Warning event
    assert result["elapsed"] < 20


def test_a_foreign_secret_is_not_taken_over(kube_api, simulators, kube_namespace, playbook, core):
    core.create_namespaced_secret(kube_namespace, {"metadata": {"name": "app-s3"},
                                                   "stringData": {"AWS_ACCESS_KEY_ID": "mine"}})
    run = playbook([rook_task(kube_namespace, "user", copy_to=[{"name": "app-s3"}])])
    assert run.rc != 0
    assert "app-s3 exists and was not written by ceph_s3_user" in run.results[0]["msg"]
    assert read_secret(core, kube_namespace, "app-s3")[0] == {"AWS_ACCESS_KEY_ID": "mine"}


def test_rook_backend_returns_keys_that_work_on_a_real_gateway(ceph_rgw, kube_api, simulators, kube_namespace,
                                                               playbook):
    # A real RGW user, whose keys the simulated Rook hands out for <namespace>/iceberg.
    uid = "rook-%s" % uuid.uuid4().hex[:6]
    real = json.loads(ceph_rgw.radosgw_admin("user", "create", "--uid=" + uid, "--display-name=rook").stdout)
    key = real["keys"][0]
    simulators.set_rook_keys(key["access_key"], key["secret_key"], endpoint=ceph_rgw.endpoint,
                             namespace=kube_namespace, user="iceberg")
    run = playbook([rook_task(kube_namespace, "user")])
    assert run.rc == 0, run
    user = run.results[0]
    assert user["access_key"] == key["access_key"] and user["endpoint"] == ceph_rgw.endpoint
    s3 = boto3.client("s3", endpoint_url=user["endpoint"], aws_access_key_id=user["access_key"],
                      aws_secret_access_key=user["secret_key"], region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="from-rook-keys")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["from-rook-keys"]
    s3.delete_bucket(Bucket="from-rook-keys")
    ceph_rgw.radosgw_admin("user", "rm", "--uid=" + uid)


def test_rgw_admin_backend_copies_keys_into_secrets(ceph_rgw, kube_api, kube_namespace, playbook, core):
    uid = "copy-%s" % uuid.uuid4().hex[:6]
    args = dict(backend="rgw_admin", name=uid, endpoint=ceph_rgw.endpoint, admin_access_key=ceph_rgw.admin_access_key,
                admin_secret_key=ceph_rgw.admin_secret_key, namespace=kube_namespace,
                copy_to=[{"name": "mlflow-s3", "endpoint": "http://rgw.storage.svc"}])
    run = playbook([{"name": "user", MODULE: args, "register": "user"},
                    {"name": "again", MODULE: args, "register": "again"}])
    assert run.rc == 0, run
    user, again = run.results
    assert user["changed"] is True and again["changed"] is False
    values, labels = read_secret(core, kube_namespace, "mlflow-s3")
    assert values == {"AWS_ACCESS_KEY_ID": user["access_key"], "AWS_SECRET_ACCESS_KEY": user["secret_key"],
                      "AWS_ENDPOINT_URL": "http://rgw.storage.svc"}
    assert labels["lakehouse.platform/ceph-s3-user"] == uid

    run = playbook([{"name": "delete", MODULE: dict(args, state="absent"), "register": "delete"}])
    assert run.rc == 0, run
    assert run.results[0]["changed"] is True
    assert read_secret(core, kube_namespace, "mlflow-s3") is None
    assert ceph_rgw.radosgw_admin("user", "info", "--uid=" + uid, check=False).returncode != 0


# -- apply: false: the CephObjectStoreUser is applied by something else (the s3_storage role's manifests step) ------
APPLY_LABELS = {"app.kubernetes.io/managed-by": "lakehouse.platform", "lakehouse.platform/component": "s3_storage",
                "lakehouse.platform/phase": "2"}
ROOK_SECRET = "rook-ceph-object-user-storage-iceberg"


def apply_as_the_manifests_step(kube_api, namespace):
    """Server-side apply with k8s_apply's field manager and labels, as the s3_storage role's apply step does."""
    return kube_client(kube_api).apply({
        "apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser",
        "metadata": {"name": "iceberg", "namespace": namespace, "labels": APPLY_LABELS},
        "spec": {"store": "storage", "displayName": "Iceberg warehouse", "quotas": {"maxBuckets": 10}},
    }, field_manager="lakehouse.platform")


def wait_until_settled(custom, core, namespace, timeout=30):
    """Until the Rook simulator reports the user Ready and has written its Secret (it writes nothing after that)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        user = get_user(custom, namespace)
        status = (user or {}).get("status") or {}
        if status.get("phase") == "Ready" and status.get("observedGeneration") == user["metadata"]["generation"] \
                and read_secret(core, namespace, ROOK_SECRET) is not None:
            return user
        time.sleep(0.2)
    raise AssertionError("the Rook simulator did not make %s/iceberg Ready" % namespace)


def user_writes(counts, verb=None, dry_run=None):
    """Writes to CephObjectStoreUsers (the object itself and /status)."""
    verbs = (verb,) if verb else ("create", "update", "patch", "delete")
    return sum(counts.count(v, resource=USERS, dry_run=dry_run) for v in verbs)


def updates_by_the_module(obj):
    """managedFields entries a merge patch or POST by the module (field manager lakehouse.platform) would leave."""
    return [entry for entry in obj["metadata"].get("managedFields") or []
            if entry.get("manager") == "lakehouse.platform" and entry.get("operation") != "Apply"]


def test_apply_false_only_waits_then_writes_just_its_own_secret(
        kube_api, simulators, kube_namespace, consumer_namespace, playbook, core, custom):
    ns = kube_namespace
    apply_as_the_manifests_step(kube_api, ns)
    wait_until_settled(custom, core, ns)
    copies = [{"name": "iceberg-s3", "namespace": consumer_namespace}]

    kube_api.reset_counts()
    # display_name and quota differ from the applied spec: apply=true would patch them, apply=false only warns.
    run = playbook([rook_task(ns, "wait", apply=False, copy_to=copies, display_name="Other",
                              quota={"max_buckets": 99})])
    assert run.rc == 0, run
    result = run.results[0]
    rook_values = read_secret(core, ns, ROOK_SECRET)[0]
    assert result["access_key"] == rook_values["AccessKey"] and result["user"]["phase"] == "Ready"
    assert result["user"]["display_name"] == "Iceberg warehouse" and result["user"]["quota"]["max_buckets"] == 10
    assert result["copied_to"] == ["%s/iceberg-s3" % consumer_namespace] and result["changed"] is True
    assert "apply=false: options display_name, quota are not used" in json.dumps(result.get("warnings"))
    counts = kube_api.request_counts()
    assert user_writes(counts) == 0, counts  # not a create, patch or dry run of the CephObjectStoreUser
    assert counts.writes(resource="secrets") == 1, counts  # the consumer copy, the module's own object
    assert counts.count("create", resource="secrets", dry_run=False) == 1
    live = get_user(custom, ns)
    assert live["spec"] == {"store": "storage", "displayName": "Iceberg warehouse", "quotas": {"maxBuckets": 10}}
    assert live["metadata"]["labels"] == APPLY_LABELS and updates_by_the_module(live) == []
    values = read_secret(core, consumer_namespace, "iceberg-s3")[0]
    assert values["AWS_ACCESS_KEY_ID"] == rook_values["AccessKey"]

    # Again, and in check mode: nothing at all is written, not even a dry run.
    for check in (False, True):
        kube_api.reset_counts()
        run = playbook([rook_task(ns, "again", apply=False, copy_to=copies)], check=check, diff=True)
        assert run.rc == 0, run
        assert run.results[0]["changed"] is False and run.results[0]["access_key"] == rook_values["AccessKey"]
        counts = kube_api.request_counts()
        assert user_writes(counts) == 0 and persisting_writes(counts) == 0, counts
        assert counts.dry_run_writes() == 0, counts


def test_apply_false_waits_for_a_user_that_appears_later(kube_api, simulators, kube_namespace, playbook, core, custom):
    ns = kube_namespace
    kube_api.reset_counts()
    applied = threading.Event()

    def apply_once_the_module_waits():
        deadline = time.monotonic() + 60
        # The module's wait lists CephObjectStoreUsers before it watches; then the "manifests step" applies the user.
        while time.monotonic() < deadline and kube_api.request_counts().count("list", resource=USERS) == 0:
            time.sleep(0.2)
        time.sleep(1)
        apply_as_the_manifests_step(kube_api, ns)
        applied.set()

    applier = threading.Thread(target=apply_once_the_module_waits, daemon=True)
    applier.start()
    run = playbook([rook_task(ns, "wait", apply=False, copy_to=[{"name": "iceberg-s3"}])])
    applier.join(timeout=70)
    assert applied.is_set()
    assert run.rc == 0, run
    result = run.results[0]
    assert result["user"]["phase"] == "Ready" and result["access_key"] == read_secret(core, ns, ROOK_SECRET)[0][
        "AccessKey"]
    counts = kube_api.request_counts()
    assert user_writes(counts, "create") == 0, counts  # the module never created it (the test's apply is a patch)
    assert user_writes(counts, dry_run=True) == 0, counts
    assert updates_by_the_module(get_user(custom, ns)) == []


def test_apply_false_reconcile_failed_fails_fast_without_writing(kube_api, simulators, kube_namespace, playbook,
                                                                 custom):
    simulators.set_namespace_behaviour(kube_namespace, kind="CephObjectStoreUser", mode="fail", delay_seconds=0.2)
    apply_as_the_manifests_step(kube_api, kube_namespace)
    run = playbook([rook_task(kube_namespace, "broken", apply=False, reconcile_failed_grace=1, wait_timeout=30)])
    assert run.rc != 0
    result = run.results[0]
    assert "CephObjectStoreUser %s/iceberg" % kube_namespace in result["msg"] and "ReconcileFailed" in result["msg"]
    assert result["elapsed"] < 20
    assert updates_by_the_module(get_user(custom, kube_namespace)) == []
