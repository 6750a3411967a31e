# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_apply: the owned-fields compare, the no-op detection, validation before any cluster access,
labelling, the inventory merge and the action plugin's manifests_changes entries."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.lakehouse.platform.plugins.action.k8s_apply import changes_of
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    KindNotFound,
    KubeError,
    apply_changed,
    apply_in_sync,
    owned_projection,
)
from ansible_collections.lakehouse.platform.plugins.modules import k8s_apply as module_under_test
from ansible_collections.lakehouse.platform.plugins.modules.k8s_apply import ComponentApply, prepare, union

MANAGER = "lakehouse.platform"


def raycluster_manifest(cpu="1000m", labels=None):
    return {
        "apiVersion": "ray.io/v1", "kind": "RayCluster",
        "metadata": {"name": "ray", "namespace": "ml", "labels": dict(labels or {"app": "ray"})},
        "spec": {"rayVersion": "2.40.0", "headGroupSpec": {"template": {"spec": {"containers": [
            {"name": "ray-head", "image": "rayproject/ray:2.40.0", "resources": {"limits": {"cpu": cpu}}}]}}}},
    }


def stored(manifest, rv="10", generation=1, status=None, fields=None, extra_managers=(), cpu=None):
    """The object as the server would store it: server metadata, status, managedFields."""
    obj = copy.deepcopy(manifest)
    obj["metadata"].update(uid="u-1", resourceVersion=rv, generation=generation, creationTimestamp="2026-01-01T00:00:00Z")
    if cpu is not None:
        obj["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = cpu
    obj["spec"]["headGroupSpec"]["serviceType"] = "ClusterIP"  # a server default nobody applied
    if status is not None:
        obj["status"] = status
    entries = [{"manager": MANAGER, "operation": "Apply", "apiVersion": manifest["apiVersion"],
                "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": fields if fields is not None else fields_of(manifest)}]
    entries.extend(extra_managers)
    obj["metadata"]["managedFields"] = entries
    return obj


def fields_of(manifest):
    """FieldsV1 of a CR manifest (lists atomic), as the server records an apply."""
    def walk(value):
        if not isinstance(value, dict):
            return {}
        return dict(("f:%s" % key, walk(child)) for key, child in value.items())
    owned = dict((k, v) for k, v in manifest.items() if k not in ("apiVersion", "kind", "metadata"))
    owned["metadata"] = {"labels": manifest["metadata"]["labels"]}
    return walk(owned)


OPERATOR = {"manager": "kuberay-operator", "operation": "Update", "apiVersion": "ray.io/v1", "subresource": "status",
            "time": "2026-01-01T00:00:05Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:state": {}}}}


# -- the owned-fields compare -------------------------------------------------------------------------
def test_projection_keeps_only_the_manifests_paths_and_drops_server_fields():
    manifest = raycluster_manifest()
    live = stored(manifest, status={"state": "ready"})
    projection = owned_projection(live, manifest)
    assert projection["metadata"] == {"name": "ray", "namespace": "ml", "labels": {"app": "ray"}}
    assert "status" not in projection and "serviceType" not in projection["spec"]["headGroupSpec"]
    containers = projection["spec"]["headGroupSpec"]["template"]["spec"]["containers"]
    assert containers == live["spec"]["headGroupSpec"]["template"]["spec"]["containers"]  # lists whole
    assert owned_projection(None, manifest) is None


def test_status_written_by_an_operator_between_get_and_patch_is_unchanged():
    manifest = raycluster_manifest()
    before = stored(manifest, rv="10", status={"state": "ready"})
    after = stored(manifest, rv="12", status={"state": "suspended", "readyWorkerReplicas": 3},
                   extra_managers=[OPERATOR])
    assert not apply_changed(before, after, manifest, MANAGER)


def test_server_normalised_value_on_both_sides_is_unchanged():
    manifest = raycluster_manifest(cpu="1000m")
    before = stored(manifest, cpu="1")
    after = stored(manifest, rv="11", cpu="1")
    assert not apply_changed(before, after, manifest, MANAGER)


def test_resource_version_generation_and_managed_fields_times_are_ignored():
    manifest = raycluster_manifest()
    before = stored(manifest, rv="10", generation=1)
    after = stored(manifest, rv="99", generation=2)
    after["metadata"]["managedFields"][0]["time"] = "2026-02-02T00:00:00Z"
    assert not apply_changed(before, after, manifest, MANAGER)


def test_a_changed_label_is_updated():
    old = raycluster_manifest(labels={"app": "ray"})
    new = raycluster_manifest(labels={"app": "ray", "tier": "ml"})
    before = stored(old)
    after = stored(new, rv="11")
    assert apply_changed(before, after, new, MANAGER)


def test_a_changed_list_item_is_updated():
    manifest = raycluster_manifest(cpu="2")
    before = stored(raycluster_manifest(cpu="1"))
    after = stored(manifest, rv="11")
    assert apply_changed(before, after, manifest, MANAGER)


def test_a_field_the_manifest_stopped_setting_is_updated_through_managed_fields():
    old = raycluster_manifest(labels={"app": "ray", "tier": "ml"})
    new = raycluster_manifest(labels={"app": "ray"})
    before = stored(old)
    after = stored(new, rv="11")  # the server removed the label the manager no longer applies
    assert owned_projection(before, new) == owned_projection(after, new)
    assert apply_changed(before, after, new, MANAGER)


def test_another_managers_fields_do_not_count():
    manifest = raycluster_manifest()
    before = stored(manifest)
    after = stored(manifest, rv="11", extra_managers=[
        {"manager": "kubectl", "operation": "Update", "apiVersion": "ray.io/v1", "fieldsV1": {"f:metadata": {"f:annotations": {}}}}])
    after["metadata"]["annotations"] = {"note": "by hand"}
    assert not apply_changed(before, after, manifest, MANAGER)


def test_absent_before_means_created():
    assert apply_changed(None, {"kind": "ConfigMap"}, {"kind": "ConfigMap"}, MANAGER)


# -- the no-op detection (apply not sent) -----------------------------------------------------------------
def test_in_sync_when_values_and_owned_fields_match():
    manifest = raycluster_manifest()
    assert apply_in_sync(stored(manifest, status={"state": "ready"}, extra_managers=[OPERATOR]), manifest, MANAGER)


@pytest.mark.parametrize("change", ["value", "normalised", "dropped label", "no entry", "other manager", "api version",
                                    "status in manifest", "null"])
def test_not_in_sync_when_in_doubt(change):
    manifest = raycluster_manifest()
    live = stored(manifest)
    if change == "value":
        manifest = raycluster_manifest(cpu="2")
    elif change == "normalised":
        live = stored(manifest, cpu="1")
    elif change == "dropped label":
        live = stored(raycluster_manifest(labels={"app": "ray", "tier": "ml"}))
    elif change == "no entry":
        live["metadata"]["managedFields"] = []
    elif change == "other manager":
        assert not apply_in_sync(live, manifest, "someone-else")
        return
    elif change == "api version":
        live["metadata"]["managedFields"][0]["apiVersion"] = "ray.io/v1alpha1"
    elif change == "status in manifest":
        manifest["status"] = {"state": "ready"}
    elif change == "null":
        manifest["spec"]["suspend"] = None
    assert not apply_in_sync(live, manifest, MANAGER)


def test_in_sync_with_keyed_and_set_lists_of_built_in_kinds():
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n", "finalizers": ["x"]},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}}
    live = copy.deepcopy(manifest)
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    fields = {"f:metadata": {"f:finalizers": {".": {}, 'v:"x"': {}}},
              "f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"app"}': {".": {}, "f:name": {}, "f:image": {}}}}}}}
    live["metadata"]["managedFields"] = [{"manager": MANAGER, "operation": "Apply", "apiVersion": "apps/v1", "fieldsV1": fields}]
    assert apply_in_sync(live, manifest, MANAGER)
    second = copy.deepcopy(manifest)
    second["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "b:1"})
    live["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "b:1"})
    assert not apply_in_sync(live, second, MANAGER)  # the entry does not own the sidecar yet


def test_in_sync_with_ports_keyed_by_port_and_defaulted_protocol():
    manifest = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "n"},
                "spec": {"ports": [{"name": "http", "port": 80}]}}
    live = copy.deepcopy(manifest)
    live["spec"]["ports"][0]["protocol"] = "TCP"
    live["spec"]["clusterIP"] = "10.0.0.1"
    item = {".": {}, "f:name": {}, "f:port": {}}
    live["metadata"]["managedFields"] = [{"manager": MANAGER, "operation": "Apply", "apiVersion": "v1", "fieldsV1": {
        "f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': item}}}}]
    assert apply_in_sync(live, manifest, MANAGER)
    live["metadata"]["managedFields"][0]["fieldsV1"] = {"f:spec": {"f:ports": {'k:{"port":80,"protocol":"UDP"}': item}}}
    assert not apply_in_sync(live, manifest, MANAGER)


# -- validation and labelling ---------------------------------------------------------------------------
def params(**overrides):
    base = dict(objects=[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}],
                component="hive_metastore", phase="phase1", field_manager=MANAGER, force_conflicts=True,
                state_namespace="lakehouse-system", record=True, extra_created=[], helm_releases=[])
    base.update(overrides)
    return base


@pytest.mark.parametrize("obj, index", [
    ({"kind": "ConfigMap", "metadata": {"name": "c"}}, 1),
    ({"apiVersion": "v1", "metadata": {"name": "c"}}, 1),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, 1),
    ({"apiVersion": "v1", "kind": "ConfigMap"}, 1),
])
def test_invalid_object_names_index_and_component(obj, index):
    good = params()["objects"][0]
    with pytest.raises(ValueError) as err:
        prepare(params(objects=[good, obj]))
    assert "Component hive_metastore: objects[%d]" % index in str(err.value)
    assert "apiVersion, kind and metadata.name" in str(err.value)


def test_secrets_with_values_are_refused_naming_them():
    objects = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "n"}, "stringData": {"p": "x"}},
               {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "namespace": "n"}, "data": {"k": "eA=="}},
               {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "empty", "namespace": "n"}, "type": "Opaque"}]
    with pytest.raises(ValueError) as err:
        prepare(params(objects=objects))
    message = str(err.value)
    assert message.startswith("hive_metastore: ") and "Secret values (db, tls)" in message and "empty" not in message


def test_objects_are_labelled_with_component_and_phase_and_input_kept():
    original = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "labels": {"app": "x"}}}
    objects, extra, releases = prepare(params(objects=[original], extra_created=[
        {"apiVersion": "v1", "kind": "Secret", "namespace": None, "name": "s"},
        {"apiVersion": "v1", "kind": "Secret", "namespace": "", "name": "s"}],
        helm_releases=[{"name": "r", "namespace": "n"}]))
    assert objects[0]["metadata"]["labels"] == {
        "app": "x", "app.kubernetes.io/managed-by": "lakehouse.platform",
        "lakehouse.platform/component": "hive_metastore", "lakehouse.platform/phase": "phase1"}
    assert original["metadata"]["labels"] == {"app": "x"}
    assert extra == [{"apiVersion": "v1", "kind": "Secret", "namespace": "", "name": "s"}]
    assert releases == [{"name": "r", "namespace": "n"}]


def test_union_keeps_order_and_drops_duplicates():
    assert union([{"a": 1}, {"b": 2}], [{"b": 2}, {"c": 3}]) == [{"a": 1}, {"b": 2}, {"c": 3}]


# -- ComponentApply with an in-memory client ------------------------------------------------------------
class Resource(object):
    def __init__(self, namespaced):
        self.namespaced = namespaced


class FakeClient(object):
    """get/apply/resource over a dict; apply stores the manifest with a managedFields entry."""

    CLUSTER_SCOPED = ("Namespace", "CustomResourceDefinition")

    def __init__(self, objects=(), kinds=("Namespace", "ConfigMap", "Secret", "CustomResourceDefinition")):
        self.store = {}
        self.kinds = set(kinds)
        self.writes = []
        for obj in objects:
            self._put(obj)

    @staticmethod
    def _key(kind, name, namespace):
        return (kind, namespace or "", name)

    def _put(self, obj):
        obj = copy.deepcopy(obj)
        labelled = dict(obj, metadata=dict(obj["metadata"], labels=obj["metadata"].get("labels") or {}))
        obj["metadata"]["managedFields"] = [{"manager": MANAGER, "operation": "Apply", "apiVersion": obj["apiVersion"],
                                             "fieldsV1": fields_of(labelled)}]
        self.store[self._key(obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))] = obj
        return obj

    def resource(self, api_version, kind):
        if kind not in self.kinds:
            raise KindNotFound("Kind %s not found in apiVersion %s" % (kind, api_version))
        return Resource(kind not in self.CLUSTER_SCOPED)

    def get(self, api_version, kind, name, namespace=None):
        self.resource(api_version, kind)
        return copy.deepcopy(self.store.get(self._key(kind, name, namespace)))

    def apply(self, definition, dry_run=False, field_manager=MANAGER, force_conflicts=True):
        if definition["kind"] not in self.CLUSTER_SCOPED and ("Namespace", "", definition["metadata"]["namespace"]) not in self.store:
            raise KubeError("Failed to apply %s: namespaces \"%s\" not found" % (definition["kind"], definition["metadata"]["namespace"]), 404)
        self.writes.append((definition["kind"], definition["metadata"]["name"], dry_run))
        if dry_run:
            return copy.deepcopy(definition)
        return copy.deepcopy(self._put(definition))


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}


def configmap(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "n"}, "data": data or {"k": "v"}}


def run_apply(client, check_mode=False, **overrides):
    p = params(**overrides)
    objects, extra, releases = prepare(p)
    run = ComponentApply(client, p, check_mode, True, objects, extra, releases)
    run.run()
    run.record()
    return run.result()


def inventory(client, component="hive-metastore"):
    cm = client.store.get(("ConfigMap", "lakehouse-system", "lakehouse-platform-inventory-%s" % component))
    return cm and (json.loads(cm["data"]["objects"]), json.loads(cm["data"]["helm_releases"]), cm)


def test_first_run_creates_and_records_then_rerun_writes_nothing():
    client = FakeClient()
    result = run_apply(client, objects=[NAMESPACE, configmap("a"), configmap("b")],
                       helm_releases=[{"name": "r", "namespace": "n"}])
    assert [r["action"] for r in result["results"]] == ["created"] * 3 and result["changed"]
    assert result["inventory"]["written"]
    objects, releases, cm = inventory(client)
    assert objects == result["created"] and releases == [{"name": "r", "namespace": "n"}]
    assert cm["metadata"]["labels"] == {"app.kubernetes.io/part-of": "lakehouse.platform", "lakehouse.platform/state": "inventory",
                                        "lakehouse.platform/inventory-of": "hive_metastore"}
    assert cm["metadata"]["annotations"] == {"lakehouse.platform/phase": "phase1"}
    assert client.store[("Namespace", "", "lakehouse-system")]["metadata"]["labels"] == {"app.kubernetes.io/part-of": "lakehouse.platform"}
    assert "diff" in result and result["diff"][0]["before"] == {}

    client.writes = []
    again = run_apply(client, objects=[NAMESPACE, configmap("a"), configmap("b")],
                      helm_releases=[{"name": "r", "namespace": "n"}])
    assert not again["changed"] and [r["action"] for r in again["results"]] == ["unchanged"] * 3
    assert client.writes == [] and not again["inventory"]["written"] and "diff" not in again


def test_existing_object_is_not_recorded_and_extra_created_is():
    client = FakeClient([NAMESPACE, configmap("old", k="x")])
    result = run_apply(client, objects=[configmap("old", k="y"), configmap("new")],
                       extra_created=[{"apiVersion": "v1", "kind": "Secret", "namespace": "n", "name": "s"}])
    assert [r["action"] for r in result["results"]] == ["updated", "created"]
    objects, _releases, _cm = inventory(client)
    assert objects == [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "new"},
                       {"apiVersion": "v1", "kind": "Secret", "namespace": "n", "name": "s"}]
    client.writes = []
    run_apply(client, objects=[configmap("old", k="y")],
              extra_created=[{"apiVersion": "v1", "kind": "Secret", "namespace": "n", "name": "s"}])
    assert client.writes == []  # the extra ref is already recorded


def test_check_mode_skips_absent_namespace_and_unserved_kind_and_records_nothing():
    client = FakeClient()
    ray = raycluster_manifest()
    ray["metadata"]["namespace"] = "n"
    result = run_apply(client, check_mode=True, objects=[NAMESPACE, configmap("a"), ray])
    actions = [(r["kind"], r["action"]) for r in result["results"]]
    assert actions == [("Namespace", "created"), ("ConfigMap", "skipped"), ("RayCluster", "skipped")]
    assert result["absent_namespaces"] == ["n"]
    assert result["results"][1]["reason"] == "namespace n does not exist yet (a real run creates it first)"
    assert "not served yet" in result["results"][2]["reason"]
    assert all(r["check_mode"] for r in result["results"])
    assert len(result["skipped_objects"]) == 2 and "skipped" not in result
    assert client.writes == [("Namespace", "n", True)] and client.store == {}
    assert not result["inventory"]["written"]


def test_failure_names_component_and_object_and_keeps_earlier_results():
    client = FakeClient([NAMESPACE])
    ray = raycluster_manifest()
    ray["metadata"]["namespace"] = "n"
    p = params(objects=[configmap("a"), ray])
    objects, extra, releases = prepare(p)
    run = ComponentApply(client, p, False, False, objects, extra, releases)
    with pytest.raises(module_under_test.ApplyFailed) as err:
        run.run()
    assert "Component hive_metastore" in str(err.value) and "RayCluster/n/ray" in str(err.value)
    assert "not served" in str(err.value)
    assert [r["action"] for r in run.result()["results"]] == ["created", "failed"]


# -- main(): validation happens before any client is made ---------------------------------------------------
class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get("msg"))
        self.result = result
        self.failed = failed


@pytest.fixture
def run_module(monkeypatch):
    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(args):
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as done:
                module_under_test.main()
        return done.value
    return run


def test_refused_secret_fails_before_any_client_is_made(run_module, monkeypatch):
    def no_client(module):
        raise AssertionError("the cluster must not be contacted")
    monkeypatch.setattr(module_under_test.KubeClient, "from_module", staticmethod(no_client))
    done = run_module(dict(component="ray", phase="phase3", objects=[
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"}, "stringData": {"a": "b"}}]))
    assert done.failed and "ray: the manifest list carries Secret values (s)" in done.result["msg"]


def test_main_runs_and_returns_the_documented_keys(run_module, monkeypatch):
    client = FakeClient()
    monkeypatch.setattr(module_under_test.KubeClient, "from_module", staticmethod(lambda module: client))
    done = run_module(dict(component="ray", phase="phase3", objects=[NAMESPACE, configmap("a")]))
    assert not done.failed
    assert set(done.result) >= {"changed", "results", "created", "updated", "unchanged", "skipped_objects",
                                "absent_namespaces", "inventory"}
    assert done.result["inventory"] == {"name": "lakehouse-platform-inventory-ray", "namespace": "lakehouse-system",
                                        "written": True}


def test_failure_still_records_what_was_created(run_module, monkeypatch):
    client = FakeClient([NAMESPACE])
    monkeypatch.setattr(module_under_test.KubeClient, "from_module", staticmethod(lambda module: client))
    ray = raycluster_manifest()
    ray["metadata"]["namespace"] = "n"
    done = run_module(dict(component="ray", phase="phase3", objects=[configmap("a"), ray]))
    assert done.failed and "RayCluster/n/ray" in done.result["msg"]
    assert [r["action"] for r in done.result["results"]] == ["created", "failed"]
    assert done.result["inventory"]["written"]
    assert inventory(client, "ray")[0] == [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "a"}]


# -- action plugin ---------------------------------------------------------------------------------------------
def test_changes_of_lists_created_and_updated_with_component():
    result = {"results": [
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "a", "action": "created"},
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "b", "action": "updated"},
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "c", "action": "unchanged"},
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "x", "name": "d", "action": "skipped", "reason": "..."},
    ]}
    assert changes_of(result, "ray") == [
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "a", "component": "ray", "action": "created"},
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "n", "name": "b", "component": "ray", "action": "updated"},
    ]
    assert changes_of(result, "ray", check_mode=True)[-1] == {
        "apiVersion": "v1", "kind": "ConfigMap", "namespace": "x", "name": "d", "component": "ray", "action": "created"}
