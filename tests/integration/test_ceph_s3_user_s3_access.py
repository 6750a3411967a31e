"""The keys ceph_s3_user returns work for S3 on the real gateway, driven by the amazon.aws/community.aws modules.

Notes on those modules with Ceph (RGW 16 here):
* amazon.aws.s3_bucket / s3_object take `ceph: true` (endpoint used as given).
* amazon.aws.s3_object encrypts with SSE-S3 by default; RGW refuses SSE over plain HTTP (400
  InvalidRequest), hence `encrypt: false` against this http:// test gateway.
* The lifecycle module is community.aws.s3_lifecycle (amazon.aws has none); it has no `ceph` option,
  but with an IP-address endpoint botocore uses path-style requests, which RGW needs. Against an RGW
  host name it would use virtual-hosted style (bucket.host) unless the AWS config sets
  `s3 = addressing_style = path`.
"""
import json
import uuid

import boto3
from botocore.config import Config

MODULE = "lakehouse.platform.ceph_s3_user"


def s3_auth(extra=None):
    auth = {
        "endpoint_url": "{{ user.endpoint }}",
        "access_key": "{{ user.access_key }}",
        "secret_key": "{{ user.secret_key }}",
        "region": "us-east-1",
    }
    auth.update(extra or {})
    return auth


def test_returned_keys_create_bucket_lifecycle_and_objects(ceph_rgw, ceph_playbook):
    uid = "iceberg-%s" % uuid.uuid4().hex[:6]
    bucket = "warehouse-%s" % uuid.uuid4().hex[:6]
    admin = dict(backend="rgw_admin", endpoint=ceph_rgw.endpoint, admin_access_key=ceph_rgw.admin_access_key,
                 admin_secret_key=ceph_rgw.admin_secret_key)
    lifecycle = dict(s3_auth(), name=bucket, rule_id="expire-tmp", prefix="tmp/", expiration_days=7,
                     status="enabled", state="present")
    run = ceph_playbook([
        {"name": "user", MODULE: dict(admin, name=uid, quota={"max_size": "1Gi"}), "register": "user"},
        {"name": "bucket", "amazon.aws.s3_bucket": s3_auth({"name": bucket, "ceph": True}), "register": "b1"},
        {"name": "bucket again", "amazon.aws.s3_bucket": s3_auth({"name": bucket, "ceph": True}), "register": "b2"},
        {"name": "lifecycle", "community.aws.s3_lifecycle": lifecycle, "register": "l1"},
        {"name": "lifecycle again", "community.aws.s3_lifecycle": lifecycle, "register": "l2"},
        {"name": "put", "amazon.aws.s3_object": s3_auth({"bucket": bucket, "object": "data/part-0.txt",
                                                         "content": "hello iceberg", "mode": "put",
                                                         "encrypt": False, "ceph": True})},
        {"name": "get", "amazon.aws.s3_object": s3_auth({"bucket": bucket, "object": "data/part-0.txt",
                                                         "mode": "getstr", "ceph": True}), "register": "got"},
    ])
    assert run.rc == 0, run
    user, b1, b2, l1, l2, put, got = run.results
    assert b1["changed"] is True and b2["changed"] is False
    assert l1["changed"] is True and l2["changed"] is False
    assert put["changed"] is True
    assert got["contents"] == "hello iceberg"

    # The gateway's own view: the bucket belongs to the new user and carries the lifecycle rule.
    stats = json.loads(ceph_rgw.radosgw_admin("bucket", "stats", "--bucket=" + bucket).stdout)
    assert stats["owner"] == uid
    s3 = boto3.client("s3", endpoint_url=user["endpoint"], aws_access_key_id=user["access_key"],
                      aws_secret_access_key=user["secret_key"], region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [(r["ID"], r["Expiration"]["Days"], r["Status"]) for r in rules] == [("expire-tmp", 7, "Enabled")]

    # Deleting the user with purge_data removes its bucket and objects too.
    run = ceph_playbook([{"name": "delete", MODULE: dict(admin, name=uid, state="absent", purge_data=True),
                          "register": "gone"}])
    assert run.rc == 0, run
    assert run.results[0]["changed"] is True
    assert bucket not in json.loads(ceph_rgw.radosgw_admin("bucket", "list").stdout)
