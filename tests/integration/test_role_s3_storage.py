"""Role s3_storage in apply mode: Kubernetes API test server + Rook simulator handing out the keys of a
real RGW user, buckets and lifecycle rules on the real Ceph object gateway, rollback by what was created."""
import base64
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.integration.phase1_helpers import create_rgw_user, list_keys, run_playbook, s3_client


def _b64(value):
    return base64.b64decode(value).decode()


@pytest.fixture
def s3_env(kube_api, simulators, ceph_rgw):
    suffix = uuid.uuid4().hex[:6]
    names = {"platform": "dp-" + suffix, "rook": "storage-" + suffix, "state": "lh-" + suffix,
             "warehouse": "warehouse-" + suffix, "backups": "backups-" + suffix}
    access_key, secret_key = create_rgw_user(ceph_rgw, "iceberg-" + suffix)
    # The Rook simulator hands out the keys of that real RGW user for CephObjectStoreUser <rook>/iceberg.
    simulators.set_rook_keys(access_key, secret_key, namespace=names["rook"], user="iceberg")
    client = kube_api.client()
    client.resources.get(api_version="v1", kind="Namespace").create(body={"metadata": {"name": names["rook"]}})
    extra_vars = {
        "platform_mode": "apply", "platform_phase": "phase1", "platform_namespace": names["platform"],
        "platform_state_namespace": names["state"], "platform_s3_endpoint": ceph_rgw.endpoint,
        "platform_s3_warehouse_bucket": names["warehouse"], "platform_s3_backups_bucket": names["backups"],
        "s3_storage_rook_namespace": names["rook"],
    }
    return {"names": names, "vars": extra_vars, "keys": (access_key, secret_key),
            "s3": s3_client(ceph_rgw.endpoint, access_key, secret_key), "kube": client, "env": kube_api.env}


def role_task(tasks_from="main"):
    return {"name": "Run s3_storage %s" % tasks_from,
            "ansible.builtin.include_role": {"name": "lakehouse.platform.s3_storage", "tasks_from": tasks_from}}


def get(kube, api_version, kind, name, namespace=None):
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        return kube.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def test_apply_creates_user_buckets_lifecycle_and_probes(tmp_path, s3_env, kube_api):
    names, kube, s3 = s3_env["names"], s3_env["kube"], s3_env["s3"]
    run = run_playbook(tmp_path, [role_task()], extra_vars=s3_env["vars"], env=s3_env["env"],
                       results=["s3_storage_validation"])
    assert run.returncode == 0, run

    user = get(kube, "ceph.rook.io/v1", "CephObjectStoreUser", "iceberg", names["rook"])
    assert user["status"]["phase"] == "Ready"
    assert user["metadata"]["labels"]["lakehouse.platform/component"] == "s3_storage"
    assert user["spec"]["quotas"] == {"maxBuckets": 10, "maxSize": "50Gi"}
    copy = get(kube, "v1", "Secret", "iceberg-s3-credentials", names["platform"])
    assert (_b64(copy["data"]["AWS_ACCESS_KEY_ID"]), _b64(copy["data"]["AWS_SECRET_ACCESS_KEY"])) == s3_env["keys"]
    assert s3_env["keys"][1] not in run.output

    owned = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {names["warehouse"], names["backups"]} <= owned
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=names["warehouse"])["Rules"]}
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert rules["expire-probe-objects"]["Expiration"]["Days"] == 1
    backup_rules = s3.get_bucket_lifecycle_configuration(Bucket=names["backups"])["Rules"]
    assert [r["ID"] for r in backup_rules] == ["abort-incomplete-multipart-uploads"]
    # the probe wrote, read back and deleted its object
    assert list_keys(s3, names["warehouse"], ".lakehouse-probe/") == []
    probe = run.results["s3_storage_validation"]
    assert probe["round_trip"].startswith(names["warehouse"] + "/.lakehouse-probe/")

    record = get(kube, "v1", "ConfigMap", "lakehouse-platform-s3-buckets", names["state"])
    assert sorted(__import__("json").loads(record["data"]["buckets"])) == sorted([names["warehouse"], names["backups"]])

    # a second identical run changes nothing
    rerun = run_playbook(tmp_path, [role_task()], extra_vars=s3_env["vars"], env=s3_env["env"])
    assert rerun.returncode == 0, rerun
    assert rerun.changed_tasks() == [], rerun.changed_tasks()

    # check mode: no write reaches the API (dry runs only) and no bucket is touched
    kube_api.reset_counts()
    check = run_playbook(tmp_path, [role_task()], extra_vars=s3_env["vars"], env=s3_env["env"], check=True)
    assert check.returncode == 0, check
    counts = kube_api.request_counts()
    for resource in ("cephobjectstoreusers", "secrets", "configmaps", "namespaces"):
        assert counts.count(verb="create", resource=resource, dry_run=False) == 0
        assert counts.count(verb="patch", resource=resource, dry_run=False) == 0
        assert counts.count(verb="delete", resource=resource, dry_run=False) == 0

    # rollback keeping data: a bucket with an object stays, with its owner; the empty one goes
    s3.put_object(Bucket=names["warehouse"], Key="tables/keep-me", Body=b"x")
    keep = run_playbook(tmp_path, [role_task("rollback")], extra_vars=s3_env["vars"], env=s3_env["env"])
    assert keep.returncode == 0, keep
    owned = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert names["warehouse"] in owned and names["backups"] not in owned
    assert get(kube, "ceph.rook.io/v1", "CephObjectStoreUser", "iceberg", names["rook"]) is not None
    assert get(kube, "v1", "Namespace", names["platform"]) is not None

    # rollback with keep_data=false: everything this component created goes
    purge = run_playbook(tmp_path, [role_task("rollback")], extra_vars=dict(s3_env["vars"], s3_storage_keep_data=False),
                         env=s3_env["env"])
    assert purge.returncode == 0, purge
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=names["warehouse"])
    assert get(kube, "ceph.rook.io/v1", "CephObjectStoreUser", "iceberg", names["rook"]) is None
    assert get(kube, "v1", "Secret", "iceberg-s3-credentials", names["platform"]) is None
    ns = get(kube, "v1", "Namespace", names["platform"])
    assert ns is None or ns["metadata"].get("deletionTimestamp")
    # the Rook namespace was not created by the component, so it stays
    assert get(kube, "v1", "Namespace", names["rook"]) is not None


def test_bad_bucket_name_fails_before_touching_anything(tmp_path, s3_env, kube_api):
    kube_api.reset_counts()
    run = run_playbook(tmp_path, [role_task()], env=s3_env["env"],
                       extra_vars=dict(s3_env["vars"], platform_s3_warehouse_bucket="Bad_Bucket"))
    assert run.returncode != 0
    assert "bucket names must be 3-63" in run.output and "Bad_Bucket" in run.output
    counts = kube_api.request_counts()
    assert counts.count(verb="create", resource="cephobjectstoreusers") == 0
