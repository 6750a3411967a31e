# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ensure()/ensure_secret()/delete() decisions against an in-memory API, and the auth spec reuse."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json

import pytest

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client as k8s_core_client
from ansible_collections.lakehouse.platform.plugins.module_utils import kube
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    REDACTED,
    REDACTED_CHANGED,
    KindNotFound,
    KubeClient,
    KubeError,
    delete,
    desired_matches,
    ensure,
    ensure_secret,
    kube_argument_spec,
)


def merge_patch(target, patch):
    """RFC 7386, as the API server applies application/merge-patch+json."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class MemoryAPI(object):
    """Just enough of KubeClient over a dict store: server fields, defaults, dry-run, one normalisation."""

    KINDS = {("v1", "ConfigMap"), ("v1", "Secret"), ("apps/v1", "Deployment"), ("ray.io/v1", "RayCluster")}

    def __init__(self):
        self.store = {}
        self.writes = []  # (verb, kind, name, dry_run)
        self.version = 100

    def resource(self, api_version, kind):
        if (api_version, kind) not in self.KINDS:
            raise KindNotFound("Kind %s not found in apiVersion %s" % (kind, api_version))
        return (api_version, kind)

    def get(self, api_version, kind, name, namespace=None):
        self.resource(api_version, kind)
        found = self.store.get((kind, namespace, name))
        return copy.deepcopy(found)

    def _serve(self, obj, generation):
        self.version += 1
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        meta.update(uid="uid-" + meta["name"], resourceVersion=str(self.version), generation=generation,
                    creationTimestamp="2026-01-01T00:00:00Z",
                    managedFields=[{"manager": "test", "time": str(self.version)}])
        if obj["kind"] == "Deployment":  # a server default the playbook never mentions
            obj["spec"].setdefault("revisionHistoryLimit", 10)
            # quantities are canonicalised: 1000m -> 1
            for c in obj["spec"].get("template", {}).get("spec", {}).get("containers", []):
                cpu = c.get("resources", {}).get("requests", {}).get("cpu")
                if cpu == "1000m":
                    c["resources"]["requests"]["cpu"] = "1"
        return obj

    def create(self, definition, dry_run=False, field_manager=None):
        meta = definition["metadata"]
        if meta.get("namespace") == "missing-ns":
            raise KubeError("namespaces \"missing-ns\" not found", 404)
        self.writes.append(("create", definition["kind"], meta["name"], dry_run))
        obj = self._serve(definition, 1)
        if not dry_run:
            self.store[(definition["kind"], meta.get("namespace"), meta["name"])] = obj
        return obj

    def patch(self, definition, patch, patch_type="merge", dry_run=False, field_manager=None):
        assert patch_type == "merge"
        meta = definition["metadata"]
        key = (definition["kind"], meta.get("namespace"), meta["name"])
        self.writes.append(("patch", definition["kind"], meta["name"], dry_run))
        live = self.store[key]
        merged = merge_patch(live, patch)
        spec_changed = merged.get("spec") != live.get("spec")
        merged = self._serve(merged, live["metadata"]["generation"] + (1 if spec_changed else 0))
        if kube.without_server_fields(merged) == kube.without_server_fields(live):
            merged = copy.deepcopy(live)  # a no-op patch does not bump resourceVersion
        if not dry_run:
            self.store[key] = merged
        return merged

    def delete(self, api_version, kind, name, namespace=None, dry_run=False, propagation_policy=None):
        self.writes.append(("delete", kind, name, dry_run))
        return self.store.pop((kind, namespace, name), None)

    def real_writes(self):
        return [w for w in self.writes if not w[3]]


def deployment(replicas=2, cpu="500m"):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "mlflow", "namespace": "ml", "labels": {"app": "mlflow"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [
            {"name": "mlflow", "image": "mlflow:3", "resources": {"requests": {"cpu": cpu}}}]}}},
    }


@pytest.fixture
def api():
    return MemoryAPI()


# -- auth spec -------------------------------------------------------------------------------------
def test_argument_spec_is_kubernetes_core_auth_spec():
    spec = kube_argument_spec()
    assert set(spec) == set(AUTH_ARG_SPEC)
    for name, option in AUTH_ARG_SPEC.items():
        assert spec[name].get("aliases") == option.get("aliases")
        assert spec[name]["type"] == option.get("type", "str")
        assert spec[name].get("no_log") == option.get("no_log")
    spec["host"]["default"] = "changed"
    assert "default" not in kube_argument_spec()["host"]  # callers get their own copy


def test_from_module_uses_kubernetes_core_auth_from_env(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
        "contexts": [{"name": "t", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "abc"}}],
    }))
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("K8S_AUTH_IMPERSONATE_USER", "auditor")
    # Everything of kubernetes.core's auth resolution runs for real; only the connection (discovery
    # would GET /version at once) is replaced.
    made = {}

    def create_api_client(configuration, **headers):
        made.update(configuration=configuration, headers=headers)
        return "dynamic-client"

    monkeypatch.setattr(k8s_core_client, "create_api_client", create_api_client)

    class Module(object):
        params = dict((name, None) for name in AUTH_ARG_SPEC)

        def fail_json(self, **kwargs):
            raise AssertionError(kwargs)

    client = KubeClient.from_module(Module())
    assert made["configuration"].host == "http://127.0.0.1:1"
    assert made["configuration"].api_key == {"authorization": "Bearer abc"}
    assert made["headers"] == {"Impersonate-User": "auditor"}
    assert client.dynamic == "dynamic-client"
    assert client.k8s_client.dry_run is False  # dry-run is decided per request by ensure()


def test_from_module_reports_bad_kubeconfig(tmp_path):
    class Module(object):
        params = dict((name, None) for name in AUTH_ARG_SPEC)
        params["kubeconfig"] = str(tmp_path / "nope")

    with pytest.raises(KubeError):
        KubeClient.from_module(Module())


# -- the comparison --------------------------------------------------------------------------------
@pytest.mark.parametrize("desired, live, expected", [
    ({"a": 1}, {"a": 1, "b": 2}, True),                       # desired is a subset
    ({"a": {"b": 1}}, {"a": {"b": 1, "c": 3}}, True),          # recursively
    ({"a": {"b": 1}}, {"a": {"b": 2}}, False),
    ({"a": 1}, {}, False),
    ({"a": [1, 2]}, {"a": [1, 2]}, True),
    ({"a": [1]}, {"a": [1, 2]}, False),                        # lists are replaced whole by a merge patch
    ({"a": [{"n": "x"}]}, {"a": [{"n": "x", "d": 1}]}, True),  # list items compare as subsets
    ({"a": None}, {}, True),                                   # None = absent
    ({"a": None}, {"a": 1}, False),
    ({"a": 1}, {"a": 1.0}, True),
    ({"a": True}, {"a": 1}, False),
    ({"a": "1"}, {"a": 1}, False),
])
def test_desired_matches(desired, live, expected):
    assert desired_matches(desired, live) is expected


# -- ensure ----------------------------------------------------------------------------------------
def test_ensure_creates_an_absent_object(api):
    result = ensure(api, deployment(), check_mode=False)
    assert result.changed and result.action == "create"
    assert result.before is None and result.after["metadata"]["uid"] == "uid-mlflow"
    assert result.diff["before"] == {} and "managedFields" not in result.diff["after"]["metadata"]
    assert api.real_writes() == [("create", "Deployment", "mlflow", False)]


def test_ensure_rerun_is_unchanged_and_writes_nothing(api):
    ensure(api, deployment(), check_mode=False)
    api.writes = []
    result = ensure(api, deployment(), check_mode=False)
    assert not result.changed and result.diff is None
    assert api.writes == []


def test_ensure_check_mode_create_is_a_dry_run_only(api):
    result = ensure(api, deployment(), check_mode=True)
    assert result.changed and result.after["spec"]["revisionHistoryLimit"] == 10  # the server's answer
    assert api.writes == [("create", "Deployment", "mlflow", True)] and api.store == {}


def test_ensure_updates_a_differing_field_with_diff(api):
    ensure(api, deployment(replicas=2), check_mode=False)
    result = ensure(api, deployment(replicas=3), check_mode=False)
    assert result.changed and result.action == "patch"
    assert result.diff["before"]["spec"]["replicas"] == 2 and result.diff["after"]["spec"]["replicas"] == 3
    assert api.get("apps/v1", "Deployment", "mlflow", "ml")["spec"]["replicas"] == 3


def test_ensure_check_mode_update_changes_nothing(api):
    ensure(api, deployment(replicas=2), check_mode=False)
    api.writes = []
    result = ensure(api, deployment(replicas=5), check_mode=True)
    assert result.changed and result.after["spec"]["replicas"] == 5
    assert api.real_writes() == []
    assert api.get("apps/v1", "Deployment", "mlflow", "ml")["spec"]["replicas"] == 2


def test_ensure_value_normalised_by_the_server_is_not_a_change(api):
    ensure(api, deployment(cpu="1000m"), check_mode=False)  # stored as "1"
    result = ensure(api, deployment(cpu="1000m"), check_mode=False)
    assert not result.changed


def test_ensure_ignores_status_in_the_definition(api):
    ensure(api, deployment(), check_mode=False)
    definition = deployment()
    definition["status"] = {"readyReplicas": 2}
    api.writes = []
    assert not ensure(api, definition, check_mode=False).changed
    assert api.writes == []


def test_ensure_none_removes_a_field(api):
    ensure(api, deployment(), check_mode=False)
    definition = deployment()
    definition["metadata"]["labels"] = {"app": None}
    result = ensure(api, definition, check_mode=False)
    assert result.changed and "app" not in (result.after["metadata"].get("labels") or {})
    assert not ensure(api, definition, check_mode=False).changed


def test_ensure_secret_string_data_compares_with_data(api):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ml"},
              "stringData": {"password": "p4ss"}}
    ensure(api, secret, check_mode=False)
    stored = api.get("v1", "Secret", "s", "ml")
    assert stored["data"]["password"] == base64.b64encode(b"p4ss").decode() and "stringData" not in stored
    assert not ensure(api, secret, check_mode=False).changed


def test_ensure_unknown_kind_fails_for_real_but_is_predicted_in_check_mode(api):
    cluster = {"apiVersion": "doris.selectdb.com/v1", "kind": "DorisCluster",
               "metadata": {"name": "doris", "namespace": "data"}, "spec": {}}
    with pytest.raises(KindNotFound):
        ensure(api, cluster, check_mode=False)
    result = ensure(api, cluster, check_mode=True)
    assert result.changed and result.after == cluster and result.warnings
    assert api.writes == []


def test_ensure_check_mode_in_a_namespace_not_created_yet_is_predicted(api):
    definition = deployment()
    definition["metadata"]["namespace"] = "missing-ns"
    result = ensure(api, definition, check_mode=True)
    assert result.changed and result.after["spec"]["replicas"] == 2 and result.warnings
    with pytest.raises(KubeError):
        ensure(api, definition, check_mode=False)


def test_ensure_rejects_incomplete_definitions(api):
    with pytest.raises(KubeError, match="metadata.name"):
        ensure(api, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, check_mode=False)


# -- delete ----------------------------------------------------------------------------------------
def test_delete(api):
    assert delete(api, "apps/v1", "Deployment", "mlflow", "ml", check_mode=False) == (False, None)
    ensure(api, deployment(), check_mode=False)
    api.writes = []
    changed, before = delete(api, "apps/v1", "Deployment", "mlflow", "ml", check_mode=True)
    assert changed and before["metadata"]["name"] == "mlflow" and api.writes == []
    changed, before = delete(api, "apps/v1", "Deployment", "mlflow", "ml", check_mode=False)
    assert changed and api.store == {}
    # a kind whose CRD is gone is already absent (kubernetes.core issue 553)
    assert delete(api, "doris.selectdb.com/v1", "DorisCluster", "d", "data", check_mode=False) == (False, None)


# -- Secrets ---------------------------------------------------------------------------------------
SECRET_VALUES = {"AccessKey": "AKIA-very-secret", "SecretKey": "s3cr3t-value"}


def assert_no_secret_values(result):
    text = json.dumps([result.before, result.after, result.diff])
    for value in SECRET_VALUES.values():
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text


def test_ensure_secret_creates_redacted(api):
    result = ensure_secret(api, "creds", "ml", SECRET_VALUES, labels={"app": "mlflow"})
    assert result.changed
    assert result.after["data"] == {"AccessKey": REDACTED_CHANGED, "SecretKey": REDACTED_CHANGED}
    assert_no_secret_values(result)
    assert kube.decode_secret_data(api.get("v1", "Secret", "creds", "ml")) == SECRET_VALUES


def test_ensure_secret_rerun_compares_decoded_values(api):
    ensure_secret(api, "creds", "ml", SECRET_VALUES)
    api.writes = []
    result = ensure_secret(api, "creds", "ml", dict(SECRET_VALUES))
    assert not result.changed and api.writes == []
    assert result.after["data"] == {"AccessKey": REDACTED, "SecretKey": REDACTED}
    assert_no_secret_values(result)


def test_ensure_secret_changed_key_is_marked_but_not_shown(api):
    ensure_secret(api, "creds", "ml", SECRET_VALUES)
    result = ensure_secret(api, "creds", "ml", {"AccessKey": "AKIA-very-secret", "SecretKey": "rotated-value"})
    assert result.changed
    assert result.diff["before"]["data"] == {"AccessKey": REDACTED, "SecretKey": REDACTED}
    assert result.diff["after"]["data"] == {"AccessKey": REDACTED, "SecretKey": REDACTED_CHANGED}
    assert "rotated-value" not in json.dumps([result.before, result.after, result.diff])
    assert kube.decode_secret_data(api.get("v1", "Secret", "creds", "ml"))["SecretKey"] == "rotated-value"


def test_ensure_secret_check_mode_writes_nothing_real(api):
    result = ensure_secret(api, "creds", "ml", SECRET_VALUES, check_mode=True)
    assert result.changed and api.real_writes() == [] and api.store == {}
    assert_no_secret_values(result)
    ensure_secret(api, "creds", "ml", SECRET_VALUES)
    api.writes = []
    result = ensure_secret(api, "creds", "ml", {"SecretKey": "new"}, check_mode=True)
    assert result.changed and api.real_writes() == []


def test_ensure_secret_labels_and_null_values(api):
    ensure_secret(api, "creds", "ml", SECRET_VALUES, labels={"a": "1"})
    assert ensure_secret(api, "creds", "ml", SECRET_VALUES, labels={"a": "2"}).changed
    assert not ensure_secret(api, "creds", "ml", SECRET_VALUES, labels={"a": "2"}).changed
    with pytest.raises(KubeError, match="key x is null"):
        ensure_secret(api, "creds", "ml", {"x": None})


def test_decode_secret_data_rejects_binary():
    with pytest.raises(KubeError, match="key bin"):
        kube.decode_secret_data({"data": {"bin": base64.b64encode(b"\xff\xfe").decode()}}, "s")
