"""ceph_s3_user with backend=rgw_admin against the real Ceph object gateway, through ansible-playbook.

RGW state is checked with radosgw-admin (not with the module's own client), and "check mode writes
nothing" with the gateway's own request log.
"""
import json
import uuid

MODULE = "lakehouse.platform.ceph_s3_user"
WRITES = {"PUT", "POST", "DELETE"}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def rgw_args(ceph_rgw, **options):
    args = dict(backend="rgw_admin", endpoint=ceph_rgw.endpoint, admin_access_key=ceph_rgw.admin_access_key,
                admin_secret_key=ceph_rgw.admin_secret_key)
    args.update(options)
    return args


def task(args, register, **extra):
    entry = {"name": register, MODULE: args, "register": register}
    entry.update(extra)
    return entry


def user_info(ceph_rgw, uid):
    """RGW's own record of the user (radosgw-admin user info), or None when there is no such user."""
    proc = ceph_rgw.radosgw_admin("user", "info", "--uid=" + uid, check=False)
    if proc.returncode != 0:
        assert "no user info saved" in proc.stderr or "could not fetch user info" in proc.stderr, proc.stderr
        return None
    return json.loads(proc.stdout)


def admin_writes(requests):
    return [r for r in requests if r["method"] in WRITES and r["path"].startswith("/admin/")]


def test_check_mode_create_sends_no_write_and_creates_nothing(ceph_rgw, ceph_playbook):
    uid = unique("chk")
    offset = ceph_rgw.rgw_log_offset()
    run = ceph_playbook([task(rgw_args(ceph_rgw, name=uid, display_name="Check only", quota={"max_size": "1Gi"}),
                              "would_create")], check=True, diff=True)
    assert run.rc == 0, run
    result = run.results[0]
    assert result["changed"] is True
    assert result["access_key"] is None and result["secret_key"] is None
    assert result["diff"]["before"]["user"] is None
    assert result["diff"]["after"]["user"]["display_name"] == "Check only"
    assert result["diff"]["after"]["user"]["quota"]["max_size"] == 1024 ** 3
    requests = ceph_rgw.rgw_requests_since(offset)
    assert admin_writes(requests) == []
    assert [r["method"] for r in requests if r["path"].startswith("/admin/")] == ["GET"]
    assert user_info(ceph_rgw, uid) is None


def test_create_rerun_change_quota_delete(ceph_rgw, ceph_playbook):
    uid = unique("life")
    base = dict(name=uid, display_name="Iceberg warehouse", capabilities={"usage": "read"},
                quota={"max_size": "1Gi", "max_objects": 1000, "max_buckets": 5})

    # create, then the same task again
    run = ceph_playbook([task(rgw_args(ceph_rgw, **base), "create"),
                         task(rgw_args(ceph_rgw, **base), "again")], diff=True)
    assert run.rc == 0, run
    create, again = run.results
    assert create["changed"] is True and again["changed"] is False
    info = user_info(ceph_rgw, uid)
    assert info["display_name"] == "Iceberg warehouse"
    assert info["max_buckets"] == 5
    assert info["user_quota"] == dict(info["user_quota"], enabled=True, max_size=1024 ** 3, max_objects=1000)
    assert [(c["type"], c["perm"]) for c in info["caps"]] == [("usage", "read")]
    assert create["access_key"] == info["keys"][0]["access_key"]
    assert create["secret_key"] == info["keys"][0]["secret_key"]
    assert again["access_key"] == create["access_key"]
    assert create["user"] == again["user"]
    assert create["endpoint"] == ceph_rgw.endpoint
    assert create["access_key"] not in json.dumps(create["diff"]) and create["secret_key"] not in json.dumps(create["diff"])
    # The admin secret is masked everywhere; the user's own keys appear only under access_key/secret_key.
    assert ceph_rgw.admin_secret_key not in run.stdout + run.stderr
    assert create["invocation"]["module_args"]["admin_secret_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert run.stdout.count(create["secret_key"]) == 2  # the two results' secret_key, nowhere else

    # quota change and delete in check mode: reported, not done
    offset = ceph_rgw.rgw_log_offset()
    bigger = dict(base)
    bigger["quota"] = {"max_size": "2Gi"}
    run = ceph_playbook([task(rgw_args(ceph_rgw, **bigger), "would_grow"),
                         task(rgw_args(ceph_rgw, name=uid, state="absent"), "would_delete")],
                        check=True, diff=True)
    assert run.rc == 0, run
    would_grow, would_delete = run.results
    assert would_grow["changed"] is True and would_delete["changed"] is True
    assert would_grow["diff"]["before"]["user"]["quota"]["max_size"] == 1024 ** 3
    assert would_grow["diff"]["after"]["user"]["quota"]["max_size"] == 2 * 1024 ** 3
    assert would_grow["diff"]["after"]["user"]["quota"]["max_objects"] == 1000  # not given: left alone
    assert admin_writes(ceph_rgw.rgw_requests_since(offset)) == []
    assert user_info(ceph_rgw, uid)["user_quota"]["max_size"] == 1024 ** 3

    # quota change for real, delete, delete again
    run = ceph_playbook([task(rgw_args(ceph_rgw, **bigger), "grow"),
                         task(rgw_args(ceph_rgw, **bigger), "grow_again"),
                         task(rgw_args(ceph_rgw, name=uid, state="absent"), "delete"),
                         task(rgw_args(ceph_rgw, name=uid, state="absent"), "delete_again")], diff=True)
    assert run.rc == 0, run
    grow, grow_again, delete, delete_again = run.results
    assert grow["changed"] is True
    assert grow["diff"]["before"]["user"]["quota"]["max_size"] == 1024 ** 3
    assert grow["diff"]["after"]["user"]["quota"]["max_size"] == 2 * 1024 ** 3
    assert grow["user"]["quota"]["max_size"] == 2 * 1024 ** 3
    assert grow_again["changed"] is False
    assert delete["changed"] is True and delete["user"] is None
    assert delete["diff"]["before"]["user"]["uid"] == uid
    assert delete_again["changed"] is False
    assert user_info(ceph_rgw, uid) is None


def test_caps_suspension_and_a_key_for_a_keyless_user(ceph_rgw, ceph_playbook):
    uid = unique("caps")
    # A user made elsewhere without any S3 key (the Admin API's generate-key=false).
    ceph_rgw.radosgw_admin("user", "create", "--uid=" + uid, "--display-name=keyless")
    for key in user_info(ceph_rgw, uid)["keys"]:
        ceph_rgw.radosgw_admin("key", "rm", "--uid=" + uid, "--key-type=s3", "--access-key=" + key["access_key"])
    assert user_info(ceph_rgw, uid)["keys"] == []

    run = ceph_playbook([
        task(rgw_args(ceph_rgw, name=uid), "adopt"),
        task(rgw_args(ceph_rgw, name=uid, capabilities={"usage": "read", "buckets": "read, write"}), "caps"),
        task(rgw_args(ceph_rgw, name=uid, capabilities={"usage": "write", "buckets": "*"}), "caps_change"),
        task(rgw_args(ceph_rgw, name=uid, suspended=True), "suspend"),
    ], diff=True)
    assert run.rc == 0, run
    adopt, caps, caps_change, suspend = run.results
    info = user_info(ceph_rgw, uid)
    assert adopt["changed"] is True and adopt["access_key"] == info["keys"][0]["access_key"]
    assert caps["changed"] is True and caps["user"]["caps"] == {"usage": "read", "buckets": "*"}
    assert caps_change["changed"] is True and caps_change["user"]["caps"] == {"usage": "write", "buckets": "*"}
    assert caps_change["diff"]["before"]["user"]["caps"] == {"usage": "read", "buckets": "*"}
    assert sorted((c["type"], c["perm"]) for c in info["caps"]) == [("buckets", "*"), ("usage", "write")]
    assert suspend["changed"] is True and info["suspended"] == 1

    run = ceph_playbook([
        task(rgw_args(ceph_rgw, name=uid, capabilities={}, suspended=False), "clear"),
        task(rgw_args(ceph_rgw, name=uid, capabilities={}, suspended=False), "clear_again"),
        task(rgw_args(ceph_rgw, name=uid, state="absent"), "delete"),
    ])
    assert run.rc == 0, run
    clear, clear_again, delete = run.results
    assert clear["changed"] is True and clear["user"]["caps"] == {} and clear["user"]["suspended"] is False
    assert clear_again["changed"] is False
    assert delete["changed"] is True and user_info(ceph_rgw, uid) is None


def test_bad_endpoint_and_bad_admin_keys_fail_clearly_and_create_nothing(ceph_rgw, ceph_playbook):
    from tests.fixtures.local_server import free_loopback_port

    uid = unique("bad")
    closed = "http://127.0.0.1:%d" % free_loopback_port()
    offset = ceph_rgw.rgw_log_offset()
    run = ceph_playbook([
        task(rgw_args(ceph_rgw, name=uid, endpoint=closed), "bad_endpoint", ignore_errors=True),
        task(rgw_args(ceph_rgw, name=uid, admin_secret_key="not-the-secret"), "bad_secret", ignore_errors=True),
        task(rgw_args(ceph_rgw, name=uid, admin_access_key="NOSUCHKEY0000000"), "bad_access", ignore_errors=True),
        task(rgw_args(ceph_rgw, name=uid, quota={"max_size": "4Gx"}), "bad_quota", ignore_errors=True),
        task(rgw_args(ceph_rgw, name=uid, store="storage"), "rook_option", ignore_errors=True),
    ])
    assert run.rc == 0, run
    bad_endpoint, bad_secret, bad_access, bad_quota, rook_option = run.results
    for result in run.results:
        assert result.get("failed") is True
        assert ceph_rgw.admin_secret_key not in json.dumps(result)
    assert "Cannot reach the RGW endpoint %s" % closed in bad_endpoint["msg"]
    assert "SignatureDoesNotMatch" in bad_secret["msg"] and "admin_secret_key" in bad_secret["msg"]
    assert bad_secret["status"] == 403
    assert "InvalidAccessKeyId" in bad_access["msg"] and "admin_access_key" in bad_access["msg"]
    assert "quota.max_size" in bad_quota["msg"] and "4Gx" in bad_quota["msg"]
    assert "'store'" in rook_option["msg"] and "backend=rook" in rook_option["msg"]

    requests = [r for r in ceph_rgw.rgw_requests_since(offset) if r["path"].startswith("/admin/")]
    # Only the two credential-checking reads reached the gateway (both refused); validation errors
    # and the closed port sent nothing.
    assert [(r["method"], r["status"]) for r in requests] == [("GET", 403), ("GET", 403)]
    assert user_info(ceph_rgw, uid) is None
