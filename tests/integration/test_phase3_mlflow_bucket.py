"""Role mlflow, stage 1 (database and artifact bucket), in apply mode: Kubernetes API test server with the
CloudNativePG and Rook simulators (Rook hands out the keys of a real RGW user), the bucket on the real Ceph
object gateway; rerun changes nothing; rollback keeps the data by default and removes the bucket (with its
objects), the user, the copied keys, the database Cluster and its Secret when asked."""
import base64
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.integration.phase1_helpers import create_rgw_user, run_playbook, s3_client


def _b64(value):
    return base64.b64decode(value).decode()


@pytest.fixture
def mlflow_env(kube_api, simulators, ceph_rgw):
    suffix = uuid.uuid4().hex[:6]
    names = {"ml": "ml-" + suffix, "rook": "storage-" + suffix, "state": "state-" + suffix,
             "bucket": "mlflow-" + suffix, "user": "mlflow-" + suffix}
    access_key, secret_key = create_rgw_user(ceph_rgw, names["user"])
    simulators.set_rook_keys(access_key, secret_key, namespace=names["rook"], user=names["user"])
    client = kube_api.client()
    for namespace in (names["ml"], names["rook"]):
        client.resources.get(api_version="v1", kind="Namespace").create(body={"metadata": {"name": namespace}})
    extra_vars = {
        "platform_mode": "apply", "platform_phase": "phase3", "platform_state_namespace": names["state"],
        "platform_s3_endpoint": ceph_rgw.endpoint, "mlflow_namespace": names["ml"],
        "mlflow_rook_namespace": names["rook"], "mlflow_s3_user": names["user"], "mlflow_bucket": names["bucket"],
        "mlflow_stage": "1", "mlflow_postgres_wait_timeout": 120, "mlflow_s3_user_wait_timeout": 120,
    }
    return {"names": names, "vars": extra_vars, "keys": (access_key, secret_key), "kube": client,
            "s3": s3_client(ceph_rgw.endpoint, access_key, secret_key), "env": kube_api.env}


def role_task(tasks_from):
    return {"name": "Run mlflow %s" % tasks_from,
            "ansible.builtin.include_role": {"name": "lakehouse.platform.mlflow", "tasks_from": tasks_from}}


def get(kube, api_version, kind, name, namespace=None):
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        return kube.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def gone_or_going(obj):
    return obj is None or bool(obj["metadata"].get("deletionTimestamp"))


def test_database_and_bucket_then_rollback_by_keep_data(tmp_path, mlflow_env):
    names, kube, s3 = mlflow_env["names"], mlflow_env["kube"], mlflow_env["s3"]
    stage1 = [role_task("apply"), role_task("wait")]
    run = run_playbook(tmp_path, stage1, extra_vars=mlflow_env["vars"], env=mlflow_env["env"])
    assert run.returncode == 0, run

    assert names["bucket"] in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    copy = get(kube, "v1", "Secret", "mlflow-s3-credentials", names["ml"])
    assert (_b64(copy["data"]["AWS_ACCESS_KEY_ID"]), _b64(copy["data"]["AWS_SECRET_ACCESS_KEY"])) == mlflow_env["keys"]
    user = get(kube, "ceph.rook.io/v1", "CephObjectStoreUser", names["user"], names["rook"])
    assert user["metadata"]["labels"]["lakehouse.platform/component"] == "mlflow"
    database = get(kube, "v1", "Secret", "mlflow-db-credentials", names["ml"])
    assert database["type"] == "kubernetes.io/basic-auth" and _b64(database["data"]["username"]) == "mlflow"
    cluster = get(kube, "postgresql.cnpg.io/v1", "Cluster", "mlflow-postgres", names["ml"])
    assert cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"] == "mlflow-db-credentials"
    assert cluster["status"]["phase"] == "Cluster in healthy state"
    for secret in (mlflow_env["keys"][1], _b64(database["data"]["password"])):
        assert secret not in run.output

    rerun = run_playbook(tmp_path, stage1, extra_vars=mlflow_env["vars"], env=mlflow_env["env"])
    assert rerun.returncode == 0, rerun
    assert rerun.changed_tasks() == [], rerun.changed_tasks()
    assert get(kube, "v1", "Secret", "mlflow-db-credentials", names["ml"])["data"] == database["data"]

    # Rollback keeping the data: the bucket with its artifacts, the user, the database stay.
    s3.put_object(Bucket=names["bucket"], Key="1/run/artifacts/model.pkl", Body=b"x")
    keep = run_playbook(tmp_path, [role_task("rollback")], extra_vars=mlflow_env["vars"], env=mlflow_env["env"])
    assert keep.returncode == 0, keep
    assert names["bucket"] in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert get(kube, "ceph.rook.io/v1", "CephObjectStoreUser", names["user"], names["rook"]) is not None
    assert get(kube, "postgresql.cnpg.io/v1", "Cluster", "mlflow-postgres", names["ml"]) is not None

    # Rollback dropping the data: everything the component created goes; the namespaces it did not create stay.
    purge = run_playbook(tmp_path, [role_task("rollback")], extra_vars=dict(mlflow_env["vars"], mlflow_keep_data=False),
                         env=mlflow_env["env"])
    assert purge.returncode == 0, purge
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=names["bucket"])
    assert gone_or_going(get(kube, "ceph.rook.io/v1", "CephObjectStoreUser", names["user"], names["rook"]))
    assert get(kube, "v1", "Secret", "mlflow-s3-credentials", names["ml"]) is None
    assert gone_or_going(get(kube, "postgresql.cnpg.io/v1", "Cluster", "mlflow-postgres", names["ml"]))
    assert get(kube, "v1", "Secret", "mlflow-db-credentials", names["ml"]) is None
    assert get(kube, "v1", "Namespace", names["ml"]) is not None
