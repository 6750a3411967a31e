"""The real Ceph object gateway behind `ceph_rgw` answers S3 with the admin keys it hands out."""
import boto3
from botocore.config import Config


def test_gateway_serves_s3_with_the_admin_keys(ceph_rgw):
    s3 = boto3.client(
        "s3",
        endpoint_url=ceph_rgw.endpoint,
        aws_access_key_id=ceph_rgw.admin_access_key,
        aws_secret_access_key=ceph_rgw.admin_secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket="fixture-smoke")
    s3.put_object(Bucket="fixture-smoke", Key="hello.txt", Body=b"hello ceph")
    assert s3.get_object(Bucket="fixture-smoke", Key="hello.txt")["Body"].read() == b"hello ceph"
    s3.delete_object(Bucket="fixture-smoke", Key="hello.txt")
    s3.delete_bucket(Bucket="fixture-smoke")


def test_radosgw_admin_sees_the_admin_user(ceph_rgw):
    import json

    info = json.loads(ceph_rgw.radosgw_admin("user", "info", "--uid=admin").stdout)
    assert {cap["type"] for cap in info["caps"]} >= {"users", "buckets", "metadata", "usage", "zone"}
    assert info["keys"][0]["access_key"] == ceph_rgw.admin_access_key
