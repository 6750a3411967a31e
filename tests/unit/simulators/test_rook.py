"""Rook CephObjectStoreUser: Secret shape and where keys come from."""
import string

from tests.simulators.objects import secret_values
from tests.simulators.rook import default_endpoint, generate_keys, keys_from_config, ready_status, user_secret


def user(ns="apps", name="iceberg", cluster_ns=None, generation=3):
    spec = {"store": "lake"}
    if cluster_ns:
        spec["clusterNamespace"] = cluster_ns
    return {"apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser",
            "metadata": {"name": name, "namespace": ns, "uid": "u", "generation": generation}, "spec": spec}


def test_secret_is_named_labelled_and_owned_like_rooks():
    secret = user_secret(user(), "AK", "SK", default_endpoint(user(cluster_ns="rook-ceph")))
    assert secret["metadata"]["name"] == "rook-ceph-object-user-lake-iceberg"
    assert secret["type"] == "kubernetes.io/rook"
    assert secret["metadata"]["labels"] == {"app": "rook-ceph-rgw", "user": "iceberg", "rook_cluster": "apps",
                                            "rook_object_store": "lake"}
    assert secret["metadata"]["ownerReferences"][0]["controller"] is True
    assert secret_values(secret) == {"AccessKey": "AK", "SecretKey": "SK",
                                     "Endpoint": "http://rook-ceph-rgw-lake.rook-ceph.svc:80"}


def test_per_user_keys_win_over_shared_ones():
    config = {"AccessKey": "SHARED", "SecretKey": "shared", "Endpoint": "http://rgw:7480",
              "apps.iceberg.AccessKey": "MINE", "apps.iceberg.SecretKey": "mine"}
    assert keys_from_config(config, user()) == ("MINE", "mine", "http://rgw:7480")
    assert keys_from_config(config, user(name="other")) == ("SHARED", "shared", "http://rgw:7480")
    assert keys_from_config({"AccessKey": "only-half"}, user()) is None


def test_ready_status_and_generated_keys():
    assert ready_status(user()) == {"phase": "Ready", "info": {"secretName": "rook-ceph-object-user-lake-iceberg"},
                                    "observedGeneration": 3}
    access, secret = generate_keys()
    assert len(access) == 20 and set(access) <= set(string.ascii_uppercase + string.digits)
    assert len(secret) == 40 and secret.isalnum()
    assert generate_keys() != (access, secret)
