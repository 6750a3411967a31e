# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ceph_s3_user: argument validation, the plan of Admin Ops calls and its diff, Rook object building,
readiness, consumer Secret labels, and the rollback of a half-created user (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lakehouse.platform.plugins.module_utils import rgw_admin
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import EnsureResult, decode_secret_data
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import WaitResult
from ansible_collections.lakehouse.platform.plugins.modules import ceph_s3_user as mod
from ansible_collections.lakehouse.platform.plugins.modules.ceph_s3_user import (
    ParameterError,
    build_object_user,
    copy_data,
    copy_labels,
    is_our_copy,
    rook_failed,
    rook_ready,
    rook_user_view,
    validate,
)


RGW = dict(backend="rgw_admin", endpoint="https://rgw.example.com", admin_access_key="ADMINAK",
           admin_secret_key="admin-secret-value")


def params(**overrides):
    """Module params as AnsibleModule would hand them over (every option present, defaults applied)."""
    spec = mod.argument_spec()
    result = dict((name, option.get("default")) for name, option in spec.items())
    result.update(name="iceberg", store="storage")
    result.update(overrides)
    if result.get("quota") is not None:
        result["quota"] = dict(dict(max_size=None, max_objects=None, max_buckets=None, enabled=None), **result["quota"])
    if result.get("copy_to"):
        entries = []
        for entry in result["copy_to"]:
            keys = dict(access_key="AWS_ACCESS_KEY_ID", secret_key="AWS_SECRET_ACCESS_KEY", endpoint="AWS_ENDPOINT_URL")
            keys.update(entry.get("keys") or {})
            entries.append(dict(dict(namespace=None, endpoint=None), **dict(entry, keys=keys)))
        result["copy_to"] = entries
    return result


def rgw_params(**overrides):
    base = dict(RGW, store=None)
    base.update(overrides)
    return params(**base)


# -- documentation and argument spec agree -------------------------------------------------------------
def test_documented_options_match_the_argument_spec():
    documented = yaml.safe_load(mod.DOCUMENTATION)["options"]
    spec = mod.argument_spec()
    own = dict((k, v) for k, v in spec.items() if k not in mod.kube_argument_spec())
    assert set(documented) == set(own)

    def check(doc_options, spec_options, where):
        for name, option in spec_options.items():
            doc = doc_options[name]
            assert doc.get("type", "str") == option.get("type", "str"), where + name
            assert doc.get("default") == option.get("default"), where + name
            assert doc.get("choices") == option.get("choices"), where + name
            assert doc.get("elements") == option.get("elements"), where + name
            assert bool(doc.get("required")) == bool(option.get("required")), where + name
            if option.get("options"):
                check(doc["suboptions"], option["options"], where + name + ".")
    check(documented, own, "")
    assert spec["admin_secret_key"]["no_log"] is True


# -- validation: every mistake is named before any request ---------------------------------------------
@pytest.mark.parametrize("overrides,message", [
    (dict(name=" iceberg"), "Option 'name'"),
    (dict(name="Iceberg_User"), "not a valid CephObjectStoreUser name"),
    (dict(store=None), "Option 'store'"),
    (dict(suspended=True), "Option 'suspended' is only supported with backend=rgw_admin"),
    (dict(purge_data=True), "Option 'purge_data' is only supported with backend=rgw_admin"),
    (dict(namespace="Bad_NS"), "Option 'namespace'"),
    (dict(wait_timeout=-1), "Option 'wait_timeout'"),
    (dict(reconcile_failed_grace=-5), "Option 'reconcile_failed_grace'"),
    (dict(capabilities={"buckets": "all"}), "Option 'capabilities' entry buckets"),
    (dict(capabilities={"bucketz": "read"}), "unknown capability type 'bucketz'"),
    (dict(quota={"max_size": "4Gx"}), "Option 'quota.max_size'"),
    (dict(quota={"max_size": "-2Gi"}), "Option 'quota.max_size'"),
    (dict(quota={"max_objects": -7}), "Option 'quota.max_objects'"),
    (dict(quota={"enabled": False}), "Option 'quota.enabled' is only supported with backend=rgw_admin"),
    (dict(quota={}), "Option 'quota' is empty"),
    (dict(copy_to=[{"name": "Bad Name"}]), "Option 'copy_to[0].name'"),
    (dict(copy_to=[{"name": "s3", "keys": {"access_key": "bad key"}}]), "Option 'copy_to[0].keys.access_key'"),
    (dict(copy_to=[{"name": "s3", "keys": {"access_key": "", "secret_key": ""}}]), "leaves out both"),
    (dict(copy_to=[{"name": "s3", "keys": {"access_key": "X", "secret_key": "X"}}]), "same Secret key"),
    (dict(copy_to=[{"name": "s3"}, {"name": "s3", "namespace": "rook-ceph"}]), "names Secret rook-ceph/s3 twice"),
    (dict(copy_to=[{"name": "s3", "endpoint": "rgw:80"}]), "Option 'copy_to[0].endpoint'"),
])
def test_rook_argument_errors(overrides, message):
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("]", r"\]").replace("*", r"\*")):
        validate(params(**overrides))


@pytest.mark.parametrize("overrides,message", [
    (dict(endpoint=None), "backend=rgw_admin needs option 'endpoint'"),
    (dict(admin_access_key=None, admin_secret_key=None), "options 'admin_access_key', 'admin_secret_key'"),
    (dict(endpoint="rgw.example.com"), "Option 'endpoint' must be an http"),
    (dict(store="storage"), "Option 'store' is only supported with backend=rook"),
    (dict(cluster_namespace="rook-ceph"), "Option 'cluster_namespace' is only supported with backend=rook"),
    (dict(reconcile_failed_grace=10), "Option 'reconcile_failed_grace' is only supported"),
    (dict(copy_to=[{"name": "s3"}]), "Option 'copy_to[0].namespace' is required"),
])
def test_rgw_admin_argument_errors(overrides, message):
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate(rgw_params(**overrides))


def test_validation_normalises_caps_quota_and_copies():
    desired = validate(params(
        capabilities={"usage": "read, write", "buckets": "read"},
        quota={"max_size": "100Gi", "max_buckets": 10},
        copy_to=[{"name": "iceberg-s3", "namespace": "data-platform"},
                 {"name": "trino-s3", "namespace": "trino", "keys": {"endpoint": ""}}],
    ))
    assert desired["caps"] == {"usage": "*", "buckets": "read"}
    assert desired["quota"] == {"max_size": 100 * 1024 ** 3, "max_size_spec": "100Gi", "max_objects": None,
                                "max_buckets": 10, "enabled": None}
    assert desired["copies"][0]["keys"] == {"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY",
                                            "endpoint": "AWS_ENDPOINT_URL"}
    assert desired["copies"][1]["keys"] == {"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY"}
    assert validate(params(copy_to=[{"name": "s3"}]))["copies"][0]["namespace"] == "rook-ceph"


@pytest.mark.parametrize("value,expected", [("1Gi", 1073741824), ("500M", 500000000), (2048, 2048), (-1, -1),
                                            ("-1", -1), ("1.5Ki", 1536), (0, 0)])
def test_quota_size_accepts_quantities_bytes_and_unlimited(value, expected):
    assert mod.quota_size_bytes(value) == expected


# -- rgw_admin plan and diff ------------------------------------------------------------------------------
EXISTING = {
    "uid": "iceberg", "display_name": "Iceberg", "caps": {"usage": "read"},
    "quota": {"enabled": True, "max_size": 1024 ** 3, "max_objects": 1000, "max_buckets": 1000},
    "suspended": False,
}


def plan(current, **overrides):
    """Validated module arguments -> (the user view they ask for, the Admin Ops calls to get there)."""
    desired = validate(rgw_params(**overrides))
    after = rgw_admin.desired_user_view(current, desired["uid"], display_name=desired["display_name"],
                                        caps=desired["caps"], quota=desired["quota"], suspended=desired["suspended"])
    return after, rgw_admin.plan_user_changes(current, after)


def test_new_user_is_created_then_given_caps_and_quota():
    after, steps = plan(None, display_name="Iceberg", capabilities={"usage": "read"}, quota={"max_size": "1Gi"})
    assert [s[0] for s in steps] == ["create_user", "add_caps", "set_user_quota"]
    assert steps[0][1] == {"uid": "iceberg", "display_name": "Iceberg", "max_buckets": None, "suspended": None}
    assert steps[2][1] == {"uid": "iceberg", "enabled": True, "max_size": 1024 ** 3, "max_objects": -1}
    assert after["quota"]["enabled"] is True


def test_new_user_without_options_gets_its_uid_as_display_name():
    after, steps = plan(None)
    assert steps == [("create_user", {"uid": "iceberg", "display_name": "iceberg", "max_buckets": None,
                                      "suspended": None})]
    assert after["display_name"] == "iceberg"


def test_same_settings_plan_nothing():
    after, steps = plan(copy.deepcopy(EXISTING), display_name="Iceberg", capabilities={"usage": "read"},
                        quota={"max_size": "1Gi", "max_objects": 1000})
    assert steps == [] and after == EXISTING


def test_options_not_given_are_left_alone():
    assert plan(copy.deepcopy(EXISTING)) == (EXISTING, [])


def test_quota_change_is_one_call_and_shows_in_the_view():
    after, steps = plan(copy.deepcopy(EXISTING), quota={"max_size": "2Gi"})
    assert steps == [("set_user_quota", {"uid": "iceberg", "enabled": True, "max_size": 2 * 1024 ** 3,
                                         "max_objects": 1000})]
    assert after["quota"]["max_size"] == 2 * 1024 ** 3 and EXISTING["quota"]["max_size"] == 1024 ** 3


def test_disabling_the_quota_keeps_its_limits():
    after, steps = plan(copy.deepcopy(EXISTING), quota={"enabled": False})
    assert steps == [("set_user_quota", {"uid": "iceberg", "enabled": False, "max_size": 1024 ** 3,
                                         "max_objects": 1000})]


def test_user_settings_go_in_one_modify_call():
    after, steps = plan(copy.deepcopy(EXISTING), display_name="New", suspended=True, quota={"max_buckets": 3})
    assert steps == [("modify_user", {"uid": "iceberg", "display_name": "New", "max_buckets": 3, "suspended": True})]


def test_caps_are_replaced_exactly():
    after, steps = plan(copy.deepcopy(EXISTING), capabilities={"usage": "write", "buckets": "*"})
    assert steps == [("add_caps", {"uid": "iceberg", "caps": {"usage": "write", "buckets": "*"}}),
                     ("remove_caps", {"uid": "iceberg", "caps": {"usage": "read"}})]
    after, steps = plan(copy.deepcopy(EXISTING), capabilities={})
    assert steps == [("remove_caps", {"uid": "iceberg", "caps": {"usage": "read"}})]


# -- run_rgw_admin with a fake gateway ------------------------------------------------------------------
class FakeGateway(object):
    """RGWAdmin stand-in with an in-memory user table; `fail_on` makes one call raise."""

    users = {}
    calls = []
    fail_on = None

    def __init__(self, endpoint, access_key, secret_key, validate_certs=True, ca_path=None):
        self.endpoint = endpoint

    def _call(self, name):
        FakeGateway.calls.append(name)
        if FakeGateway.fail_on == name:
            raise rgw_admin.RGWAdminError("%s failed with HTTP 400 InvalidArgument" % name, 400, "InvalidArgument")

    def get_user(self, uid):
        self._call("get_user")
        return copy.deepcopy(self.users.get(uid))

    def get_user_quota(self, uid):
        return self.users[uid]["user_quota"]

    def create_user(self, uid, display_name, max_buckets=None, suspended=None):
        self._call("create_user")
        self.users[uid] = {"user_id": uid, "display_name": display_name, "suspended": 0, "max_buckets": 1000,
                           "caps": [], "keys": [{"access_key": "AK-" + uid, "secret_key": "SK-" + uid}],
                           "user_quota": {"enabled": False, "max_size": -1, "max_objects": -1}}

    def set_user_quota(self, uid, enabled, max_size, max_objects):
        self._call("set_user_quota")
        self.users[uid]["user_quota"] = {"enabled": enabled, "max_size": max_size, "max_objects": max_objects}

    def add_caps(self, uid, caps):
        self._call("add_caps")
        self.users[uid]["caps"] = [{"type": t, "perm": p} for t, p in caps.items()]

    def delete_user(self, uid, purge_data=False):
        self._call("delete_user")
        return self.users.pop(uid, None) is not None


class FakeModule(object):
    def __init__(self, module_params, check_mode=False):
        self.params = module_params
        self.check_mode = check_mode
        self.no_log_values = set()
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


@pytest.fixture
def gateway(monkeypatch):
    FakeGateway.users, FakeGateway.calls, FakeGateway.fail_on = {}, [], None
    monkeypatch.setattr(mod.rgw_admin, "RGWAdmin", FakeGateway)
    return FakeGateway


def run_rgw(module_params, check_mode=False):
    module = FakeModule(module_params, check_mode)
    return module, mod.run_rgw_admin(module, validate(module_params), None)


def test_check_mode_reads_only_and_predicts(gateway):
    module, result = run_rgw(rgw_params(quota={"max_size": "1Gi"}, capabilities={"usage": "read"}), check_mode=True)
    assert gateway.calls == ["get_user"]
    assert result["changed"] is True and result["access_key"] is None
    assert result["diff"]["after"]["user"]["quota"]["max_size"] == 1024 ** 3


def test_a_user_created_by_a_failing_run_is_deleted_again(gateway):
    gateway.fail_on = "set_user_quota"
    with pytest.raises(rgw_admin.RGWAdminError) as caught:
        run_rgw(rgw_params(quota={"max_size": "1Gi"}, capabilities={"usage": "read"}))
    assert gateway.calls == ["get_user", "create_user", "add_caps", "set_user_quota", "delete_user"]
    assert gateway.users == {}
    assert "was deleted again" in caught.value.msg


def test_a_failing_change_of_an_existing_user_deletes_nothing(gateway):
    gateway.users["iceberg"] = {"user_id": "iceberg", "display_name": "Iceberg", "suspended": 0, "max_buckets": 1000,
                                "caps": [], "keys": [{"access_key": "AK", "secret_key": "SK"}],
                                "user_quota": {"enabled": False, "max_size": -1, "max_objects": -1}}
    gateway.fail_on = "set_user_quota"
    with pytest.raises(rgw_admin.RGWAdminError):
        run_rgw(rgw_params(quota={"max_size": "1Gi"}))
    assert "delete_user" not in gateway.calls and "iceberg" in gateway.users


def test_credentials_are_protected_while_running_and_returned(gateway):
    module, result = run_rgw(rgw_params())
    assert (result["access_key"], result["secret_key"]) == ("AK-iceberg", "SK-iceberg")
    assert {"AK-iceberg", "SK-iceberg"} <= module.no_log_values
    assert "SK-iceberg" not in repr(result["diff"]) and "SK-iceberg" not in repr(result["user"])


# -- rook ------------------------------------------------------------------------------------------------
def test_object_user_carries_only_what_was_given():
    desired = validate(params(display_name="Iceberg", quota={"max_size": "100Gi", "max_buckets": 10},
                              capabilities={"buckets": "read, write"}, cluster_namespace="rook-ceph",
                              namespace="data-platform"))
    obj = build_object_user(params(cluster_namespace="rook-ceph", namespace="data-platform"), desired)
    assert obj == {
        "apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser",
        "metadata": {"name": "iceberg", "namespace": "data-platform"},
        "spec": {"store": "storage", "displayName": "Iceberg", "clusterNamespace": "rook-ceph",
                 "capabilities": {"buckets": "*"}, "quotas": {"maxSize": "100Gi", "maxBuckets": 10}},
    }
    bare = build_object_user(params(), validate(params()))
    assert bare["spec"] == {"store": "storage"} and bare["metadata"]["namespace"] == "rook-ceph"


def test_dropped_capabilities_are_nulled_for_the_merge_patch():
    live = {"spec": {"store": "storage", "capabilities": {"usage": "read", "buckets": "read"}}}
    desired = validate(params(capabilities={"usage": "read"}))
    assert build_object_user(params(), desired, live)["spec"]["capabilities"] == {"usage": "read", "buckets": None}


def rook_obj(phase, generation=2, observed=2, info=None):
    status = {"phase": phase, "observedGeneration": observed}
    if info:
        status["info"] = info
    return {"metadata": {"name": "iceberg", "generation": generation}, "status": status}


def test_ready_needs_phase_ready_for_the_current_generation():
    assert rook_ready(rook_obj("Ready"))
    assert not rook_ready(rook_obj("Ready", generation=3, observed=2))
    assert not rook_ready(rook_obj("Ready", observed=None))
    assert not rook_ready(rook_obj(""))
    assert not rook_ready({"metadata": {"generation": 1}})


def test_reconcile_failed_is_a_failure_with_rooks_details():
    assert rook_failed(rook_obj("Ready")) is None
    assert rook_failed(rook_obj("")) is None
    assert rook_failed(rook_obj("ReconcileFailed")) == "Rook reports phase ReconcileFailed"
    message = rook_failed(rook_obj("ReconcileFailed", info={"error": "object store storage not found"}))
    assert "error=object store storage not found" in message


def test_rook_view_reads_quantities_as_bytes():
    view = rook_user_view({"metadata": {"name": "iceberg"}, "status": {"phase": "Ready"},
                           "spec": {"store": "storage", "quotas": {"maxSize": "1Gi", "maxObjects": 5},
                                    "capabilities": {"usage": "read, write"}}})
    assert view["quota"] == {"enabled": True, "max_size": 1024 ** 3, "max_objects": 5, "max_buckets": None}
    assert view["caps"] == {"usage": "*"} and view["phase"] == "Ready" and view["suspended"] is None
    assert rook_user_view(None) is None


# -- consumer Secrets ------------------------------------------------------------------------------------
def test_copy_labels_identify_one_user_exactly():
    labels = copy_labels("rook:storage/iceberg", "iceberg")
    assert labels["app.kubernetes.io/managed-by"] == "lakehouse.platform"
    assert labels["lakehouse.platform/ceph-s3-user"] == "iceberg"
    secret = {"metadata": {"labels": labels}}
    assert is_our_copy(secret, "rook:storage/iceberg")
    assert not is_our_copy(secret, "rook:other/iceberg")
    assert not is_our_copy({"metadata": {}}, "rook:storage/iceberg")
    # label values stay valid for any uid (RGW allows characters labels do not)
    assert copy_labels("rgw_admin:x/tenant$user", "tenant$user")["lakehouse.platform/ceph-s3-user"] == "tenant-user"


def test_copy_data_maps_values_to_the_chosen_keys():
    credentials = {"access_key": "AK", "secret_key": "SK", "endpoint": "http://rgw"}
    spec = {"keys": {"access_key": "S3_KEY", "secret_key": "S3_SECRET"}, "endpoint": None}
    assert copy_data(spec, credentials) == {"S3_KEY": "AK", "S3_SECRET": "SK"}
    spec = {"keys": {"access_key": "A", "secret_key": "S", "endpoint": "E"}, "endpoint": "http://rgw.svc"}
    assert copy_data(spec, credentials) == {"A": "AK", "S": "SK", "E": "http://rgw.svc"}


def run_main(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            mod.main()
    return json.loads(capsys.readouterr().out)


def test_main_fails_on_bad_arguments_before_any_request(capsys, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a request was made")
    monkeypatch.setattr(rgw_admin.RGWAdmin, "request", no_network)
    monkeypatch.setattr(mod.KubeClient, "from_module", no_network)
    result = run_main(dict(RGW, name="iceberg", quota={"max_size": "4Gx"}), capsys)
    assert result["failed"] is True and "quota.max_size" in result["msg"]
    result = run_main(dict(name="iceberg"), capsys)
    assert result["failed"] is True and "Option 'store'" in result["msg"]


def test_main_returns_the_keys_unmasked(capsys, gateway):
    # no_log_values would mask the keys everywhere in the result, access_key/secret_key included;
    # main() takes them out again just before a successful exit.
    result = run_main(dict(RGW, name="iceberg"), capsys)
    assert result["changed"] is True
    assert (result["access_key"], result["secret_key"]) == ("AK-iceberg", "SK-iceberg")
    assert result["invocation"]["module_args"]["admin_secret_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


# -- rook with apply: false (the CephObjectStoreUser is applied by something else) -------------------------
ROOK_SECRET = "rook-ceph-object-user-storage-iceberg"


class FakeKube(object):
    """KubeClient stand-in over a dict keyed by (kind, namespace, name); records every write."""

    def __init__(self, objects=None, missing_kinds=()):
        self.objects = dict(objects or {})
        self.missing_kinds = missing_kinds
        self.writes = []  # (verb, kind, name, dry_run)

    def get(self, api_version, kind, name, namespace=None):
        if kind in self.missing_kinds:
            raise mod.KindNotFound("Kind %s not found in apiVersion %s (is its CRD installed?)" % (kind, api_version))
        return copy.deepcopy(self.objects.get((kind, namespace, name)))

    def read_secret(self, name, namespace):
        secret = self.get("v1", "Secret", name, namespace)
        return None if secret is None else decode_secret_data(secret)

    def create(self, definition, dry_run=False, field_manager=None):
        meta = definition["metadata"]
        self.writes.append(("create", definition["kind"], meta["name"], dry_run))
        if not dry_run:
            self.objects[(definition["kind"], meta["namespace"], meta["name"])] = copy.deepcopy(definition)
        return copy.deepcopy(definition)

    def patch(self, definition, patch, patch_type="merge", dry_run=False, field_manager=None):
        meta = definition["metadata"]
        self.writes.append(("patch", definition["kind"], meta["name"], dry_run))
        return copy.deepcopy(definition)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def wait_reads(client_, api_version, kind, name, namespace, **kwargs):
    """wait_for stand-in: the object is as it is now."""
    return WaitResult(client_.get(api_version, kind, name, namespace), 0.1)


def ready_user(namespace="rook-ceph"):
    """A CephObjectStoreUser as the s3_storage role's manifests step applies it, reported Ready by Rook."""
    return {"apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser",
            "metadata": {"name": "iceberg", "namespace": namespace, "generation": 1,
                         "labels": {"app.kubernetes.io/managed-by": "lakehouse.platform"}},
            "spec": {"store": "storage", "displayName": "Iceberg", "quotas": {"maxBuckets": 10}},
            "status": {"phase": "Ready", "observedGeneration": 1}}


def rook_secret(namespace="rook-ceph"):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": ROOK_SECRET, "namespace": namespace},
            "data": {"AccessKey": b64("AK-rook"), "SecretKey": b64("SK-rook"), "Endpoint": b64("http://rgw")}}


def no_ensure(*args, **kwargs):
    pytest.fail("apply=false wrote the CephObjectStoreUser")


def run_rook_module(module_params, client, check_mode=False):
    module = FakeModule(module_params, check_mode)
    return module, mod.run_rook(module, validate(module_params), client)


def test_rook_apply_false_waits_reads_the_keys_and_writes_only_the_copy(monkeypatch):
    client = FakeKube({("CephObjectStoreUser", "rook-ceph", "iceberg"): ready_user(),
                       ("Secret", "rook-ceph", ROOK_SECRET): rook_secret()})
    monkeypatch.setattr(mod, "ensure", no_ensure)
    waits = []

    def fake_wait(client_, api_version, kind, name, namespace, **kwargs):
        waits.append((kind, name, namespace))
        return wait_reads(client_, api_version, kind, name, namespace)

    monkeypatch.setattr(mod, "wait_for", fake_wait)
    module, result = run_rook_module(params(apply=False, copy_to=[{"name": "iceberg-s3", "namespace": "data"}]),
                                     client)
    assert waits == [("CephObjectStoreUser", "iceberg", "rook-ceph"), ("Secret", ROOK_SECRET, "rook-ceph")]
    assert (result["access_key"], result["secret_key"], result["endpoint"]) == ("AK-rook", "SK-rook", "http://rgw")
    assert result["user"]["phase"] == "Ready" and result["user"]["display_name"] == "Iceberg"
    assert result["copied_to"] == ["data/iceberg-s3"] and result["changed"] is True  # the copy was created
    assert client.writes == [("create", "Secret", "iceberg-s3", False)]  # never the CephObjectStoreUser
    assert module.warnings == []

    # Again: the copy holds the keys, nothing is written and nothing changed.
    client.writes = []
    module, result = run_rook_module(params(apply=False, copy_to=[{"name": "iceberg-s3", "namespace": "data"}]),
                                     client)
    assert client.writes == [] and result["changed"] is False


def test_rook_apply_false_in_check_mode_only_reads_the_user(monkeypatch):
    monkeypatch.setattr(mod, "ensure", no_ensure)
    monkeypatch.setattr(mod, "wait_for", lambda *a, **k: pytest.fail("waited in check mode"))
    client = FakeKube({("CephObjectStoreUser", "rook-ceph", "iceberg"): ready_user(),
                       ("Secret", "rook-ceph", ROOK_SECRET): rook_secret()})
    module, result = run_rook_module(params(apply=False), client, check_mode=True)
    assert client.writes == [] and result["changed"] is False
    assert result["access_key"] == "AK-rook" and result["user"]["phase"] == "Ready"

    # An empty cluster (no CRD yet): predicted, with a warning, nothing sent; the copy is only predicted.
    client = FakeKube(missing_kinds=("CephObjectStoreUser",))
    module, result = run_rook_module(params(apply=False, copy_to=[{"name": "iceberg-s3"}]), client, check_mode=True)
    assert client.writes == [] and result["user"] is None and result["access_key"] is None
    assert result["changed"] is True  # the consumer Secret would be created
    assert any("CephObjectStoreUser rook-ceph/iceberg not found (check mode" in w for w in module.warnings)


def test_rook_apply_false_without_the_crd_fails_at_once(monkeypatch):
    monkeypatch.setattr(mod, "ensure", no_ensure)
    monkeypatch.setattr(mod, "wait_for", lambda *a, **k: pytest.fail("waited for a kind that is not installed"))
    with pytest.raises(mod.KindNotFound):
        run_rook_module(params(apply=False), FakeKube(missing_kinds=("CephObjectStoreUser",)))


def test_rook_apply_false_warns_about_options_it_does_not_use(monkeypatch):
    client = FakeKube({("CephObjectStoreUser", "rook-ceph", "iceberg"): ready_user(),
                       ("Secret", "rook-ceph", ROOK_SECRET): rook_secret()})
    monkeypatch.setattr(mod, "ensure", no_ensure)
    monkeypatch.setattr(mod, "wait_for", wait_reads)
    module, result = run_rook_module(params(apply=False, display_name="Other", quota={"max_buckets": 3}), client)
    assert module.warnings == ["apply=false: options display_name, quota are not used (they describe the "
                               "CephObjectStoreUser to write)"]
    assert result["user"]["quota"]["max_buckets"] == 10 and client.writes == []


def test_rook_apply_true_still_ensures_the_user(monkeypatch):
    seen = []

    def fake_ensure(client_, definition, check_mode):
        seen.append((definition["spec"], check_mode))
        return EnsureResult(True, None, definition, None, "create")

    monkeypatch.setattr(mod, "ensure", fake_ensure)
    module, result = run_rook_module(params(display_name="Iceberg"), FakeKube(), check_mode=True)
    assert seen == [({"store": "storage", "displayName": "Iceberg"}, True)] and result["changed"] is True


@pytest.mark.parametrize("overrides,message", [
    (dict(RGW, store=None, apply=False), "Option 'apply' is only supported with backend=rook"),
    (dict(apply=False, state="absent"), "cannot be combined with state=absent"),
])
def test_apply_false_argument_errors(overrides, message):
    with pytest.raises(ParameterError, match=message):
        validate(params(**overrides))
