"""Managed-fields bookkeeping (keyed lists too), the versioned store's event history, and protobuf body decoding."""
import base64

import pytest

from tests.kubeapi.managedfields import (apply_conflicts, changed_fields, dropped_paths, fields_v1, leaf_paths,
                                         record_managed_fields, remove_path, value_at, without_paths)
from tests.kubeapi.protobuf import MAGIC, decode_object
from tests.kubeapi.scale import _selector_string
from tests.kubeapi.store import ObjectStore, ResourceVersionTooOld


def test_fields_v1_and_leaf_paths():
    fields = fields_v1({"spec": {"replicas": 1, "template": {"containers": [{"name": "a"}]}}, "data": {"k": "v"}})
    assert fields == {"f:spec": {"f:replicas": {}, "f:template": {"f:containers": {}}}, "f:data": {"f:k": {}}}
    assert leaf_paths(fields) == {("spec", "replicas"), ("spec", "template", "containers"), ("data", "k")}


def test_changed_fields_and_without_paths():
    old = {"spec": {"a": 1, "b": {"c": 2}}}
    new = {"spec": {"a": 1, "b": {"c": 3, "d": 4}, "e": 5}}
    assert changed_fields(old, new) == {"f:spec": {"f:b": {"f:c": {}, "f:d": {}}, "f:e": {}}}
    owned = {"f:spec": {"f:a": {}, "f:b": {"f:c": {}, "f:d": {}}}}
    assert without_paths(owned, {("spec", "b", "c")}) == {"f:spec": {"f:a": {}, "f:b": {"f:d": {}}}}
    assert without_paths(owned, {("spec", "b")}) == {"f:spec": {"f:a": {}}}
    assert without_paths(owned, {("spec",)}) == {}


def test_keyed_lists_for_builtin_kinds():
    spec = {"containers": [{"name": "app", "image": "a", "env": [{"name": "X", "value": "1"}]},
                           {"name": "side", "image": "s"}], "args": ["x"]}
    fields = fields_v1({"spec": spec}, keyed=True)
    assert fields == {"f:spec": {"f:containers": {
        'k:{"name":"app"}': {"f:name": {}, "f:image": {}, "f:env": {'k:{"name":"X"}': {"f:name": {}, "f:value": {}}}},
        'k:{"name":"side"}': {"f:name": {}, "f:image": {}}}, "f:args": {}}}
    assert fields_v1({"spec": spec}) == {"f:spec": {"f:containers": {}, "f:args": {}}}  # custom: atomic
    path = ("spec", "containers", 'k:{"name":"app"}', "env", 'k:{"name":"X"}', "value")
    assert path in leaf_paths(fields) and value_at({"spec": spec}, path) == "1"
    changed = changed_fields({"spec": spec}, {"spec": dict(spec, containers=[dict(spec["containers"][0], image="b"),
                                                                             spec["containers"][1]])}, keyed=True)
    assert changed == {"f:spec": {"f:containers": {'k:{"name":"app"}': {"f:image": {}}}}}


def test_dropped_paths_remove_whole_items_no_longer_applied():
    before = fields_v1({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}],
                                 "paused": True}}, keyed=True)
    after = fields_v1({"spec": {"containers": [{"name": "a", "image": "1"}]}}, keyed=True)
    dropped = dropped_paths(before, after)
    assert dropped == {("spec", "containers", 'k:{"name":"b"}'), ("spec", "paused")}
    obj = {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}], "paused": True}}
    for path in dropped:
        remove_path(obj, path)
    assert obj == {"spec": {"containers": [{"name": "a", "image": "1"}]}}


def _live(**managers):
    entries = [{"manager": name, "operation": "Update", "apiVersion": "v1", "fieldsV1": fields_v1(owned)}
               for name, owned in managers.items()]
    return {"metadata": {"name": "x", "managedFields": entries}, "data": {"a": "1", "b": "2"}}


def test_apply_conflicts_only_for_different_values_owned_by_others():
    live = _live(creator={"data": {"a": "1", "b": "2"}})
    assert apply_conflicts(live, {"data": {"a": "1"}}, "tool") == []
    assert apply_conflicts(live, {"data": {"a": "9"}}, "tool") == [("creator", "v1", ("data", "a"))]
    assert apply_conflicts(live, {"data": {"a": "9"}}, "creator") == []


def test_record_managed_fields_update_takes_ownership_and_keeps_order():
    old = _live(first={"data": {"a": "1"}}, second={"data": {"b": "2"}})
    new = {"metadata": {"name": "x"}, "data": {"a": "1", "b": "3"}}
    record_managed_fields(new, old, "first", "v1")
    entries = new["metadata"]["managedFields"]
    assert [e["manager"] for e in entries] == ["first"]  # "second" lost its only field and is dropped
    assert entries[0]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    unchanged = {"metadata": {"name": "x"}, "data": {"a": "1", "b": "2"}}
    record_managed_fields(unchanged, old, "second", "v1")
    assert unchanged["metadata"]["managedFields"] == old["metadata"]["managedFields"]  # same entries, same times


def test_store_revisions_events_and_compaction():
    store = ObjectStore(history_limit=3, first_resource_version=10)
    key = ("", "configmaps")
    first = store.write(key, {"metadata": {"name": "a", "namespace": "n"}})
    assert first["metadata"]["resourceVersion"] == "11"
    store.write(key, {"metadata": {"name": "a", "namespace": "n"}, "data": {"x": "1"}})
    removed = store.remove(key, "n", "a")
    assert removed["metadata"]["resourceVersion"] == "13"
    assert [e.event_type for e in store.events_after(10)] == ["ADDED", "MODIFIED", "DELETED"]
    assert [e.event_type for e in store.events_after(12)] == ["DELETED"]
    store.write(key, {"metadata": {"name": "b", "namespace": "n"}})  # pushes the first event out
    with pytest.raises(ResourceVersionTooOld):
        store.events_after(10)
    assert [e.resource_version for e in store.events_after(11)] == [12, 13, 14]


def _field(number, payload):
    payload = payload.encode() if isinstance(payload, str) else payload
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_protobuf_configmap_body_decodes_to_json_shape():
    metadata = _field(1, "cm") + _field(11, _field(1, "app") + _field(2, "web"))
    configmap = (_field(1, metadata) + _field(2, _field(1, "a") + _field(2, "1"))
                 + _field(3, _field(1, "bin") + _field(2, b"\x00\x01")))
    envelope = _field(1, _field(1, "v1") + _field(2, "ConfigMap")) + _field(2, configmap)
    assert decode_object(MAGIC + envelope) == {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "labels": {"app": "web"}},
        "data": {"a": "1"}, "binaryData": {"bin": base64.b64encode(b"\x00\x01").decode()}}


def test_protobuf_of_other_kinds_is_unsupported_media_type():
    envelope = _field(1, _field(1, "apps/v1") + _field(2, "Deployment")) + _field(2, b"")
    with pytest.raises(Exception) as caught:
        decode_object(MAGIC + envelope)
    assert caught.value.code == 415


def test_scale_selector_string():
    assert _selector_string({"matchLabels": {"b": "2", "a": "1"}, "matchExpressions": [
        {"key": "t", "operator": "In", "values": ["x", "y"]}, {"key": "u", "operator": "DoesNotExist"}]}) == \
        "a=1,b=2,t in (x,y),!u"
