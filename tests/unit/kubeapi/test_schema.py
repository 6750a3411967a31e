"""Structural schema handling: conversion to JSON Schema, pruning, defaulting, kube-style field errors."""
import os

import pytest
import yaml

from tests.kubeapi.errors import ApiError
from tests.kubeapi.resources import ResourceType
from tests.kubeapi.schema import CompiledSchema, CustomResourceSchemas, to_json_schema

SCHEMA = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"type": "string"},
                "replicas": {"type": "integer", "default": 1, "minimum": 0},
                "mode": {"type": "string", "enum": ["fast", "safe"], "default": "safe"},
                "size": {"x-kubernetes-int-or-string": True},
                "limit": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True},
                "note": {"type": "string", "nullable": True},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                "groups": {"type": "array", "items": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "min": {"type": "integer", "default": 0}}}},
                "tuning": {"type": "object", "default": {},
                           "properties": {"level": {"type": "integer", "default": 3}}},
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def _obj(spec, **extra):
    return dict({"apiVersion": "ex.io/v1", "kind": "Thing", "metadata": {"name": "t", "labels": {"a": "b"}},
                 "spec": spec}, **extra)


def test_conversion_handles_int_or_string_and_nullable():
    converted = to_json_schema(SCHEMA, root=True)
    spec = converted["properties"]["spec"]["properties"]
    assert spec["size"]["type"] == ["integer", "string"]
    assert "type" not in spec["limit"] and len(spec["limit"]["anyOf"]) == 2
    assert spec["note"]["type"] == ["string", "null"]
    assert "default" not in spec["replicas"]


def test_pruning_defaulting_and_valid_object():
    obj = _obj({"image": "x", "unknown": 1, "size": "1Gi", "limit": 5, "note": None,
                "extra": {"anything": {"goes": True}},
                "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                             "spec": {"a": "x", "b": "pruned"}},
                "groups": [{"name": "g", "junk": 1}]},
               junk={"x": 1})
    assert CompiledSchema(SCHEMA).admit(obj) == []
    spec = obj["spec"]
    assert "unknown" not in spec and "junk" not in obj
    assert obj["metadata"] == {"name": "t", "labels": {"a": "b"}}  # ObjectMeta is never pruned by the schema
    assert spec["replicas"] == 1 and spec["mode"] == "safe"
    assert spec["tuning"] == {"level": 3}                          # defaults inside a defaulted object
    assert spec["groups"] == [{"name": "g", "min": 0}]
    assert spec["extra"] == {"anything": {"goes": True}}
    assert spec["template"]["spec"] == {"a": "x"} and spec["template"]["kind"] == "Pod"
    assert spec["note"] is None                                     # nullable keeps null


def test_non_nullable_null_is_dropped_then_defaulted():
    obj = _obj({"image": "x", "replicas": None})
    assert CompiledSchema(SCHEMA).admit(obj) == []
    assert obj["spec"]["replicas"] == 1


def test_errors_are_kube_field_errors():
    obj = _obj({"replicas": "three", "mode": "turbo", "size": True, "groups": [{"min": -1}], "labels": {"k": 1}})
    causes = CompiledSchema(SCHEMA).admit(obj)
    by_field = {c["field"]: c for c in causes}
    assert by_field["spec.image"] == {"reason": "FieldValueRequired", "field": "spec.image",
                                      "message": "Required value"}
    assert by_field["spec.replicas"]["reason"] == "FieldValueTypeInvalid"
    assert by_field["spec.replicas"]["message"] == \
        'Invalid value: "string": spec.replicas in body must be of type integer: "string"'
    assert by_field["spec.mode"] == {"reason": "FieldValueNotSupported", "field": "spec.mode",
                                     "message": 'Unsupported value: "turbo": supported values: "fast", "safe"'}
    assert by_field["spec.size"]["message"] == \
        'Invalid value: "boolean": spec.size in body must be of type integer,string: "boolean"'
    assert by_field["spec.groups[0].name"]["reason"] == "FieldValueRequired"
    assert by_field["spec.labels.k"]["reason"] == "FieldValueTypeInvalid"


def test_minimum_violation_message():
    causes = CompiledSchema(SCHEMA).admit(_obj({"image": "x", "replicas": -1}))
    assert causes == [{"reason": "FieldValueInvalid", "field": "spec.replicas",
                       "message": "Invalid value: -1: spec.replicas in body should be greater than or equal to 0"}]


def test_admit_raises_invalid_status_with_qualified_kind():
    resource_type = ResourceType(group="ex.io", version="v1", plural="things", kind="Thing", namespaced=True,
                                 custom=True, schema=SCHEMA)
    with pytest.raises(ApiError) as caught:
        CustomResourceSchemas().admit(resource_type, _obj({"image": "x", "replicas": "3"}))
    status = caught.value.status()
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"] == ('Thing.ex.io "t" is invalid: spec.replicas: Invalid value: "string": '
                                 'spec.replicas in body must be of type integer: "string"')
    assert status["details"] == {"name": "t", "group": "ex.io", "kind": "Thing", "causes": [
        {"reason": "FieldValueTypeInvalid", "field": "spec.replicas",
         "message": 'Invalid value: "string": spec.replicas in body must be of type integer: "string"'}]}


def _real_crd_schema(file_name, version):
    shared = os.environ.get("LAKEHOUSE_SHARED_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "..", "shared")
    with open(os.path.join(shared, "reference", "crds", file_name)) as handle:
        crd = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"]["openAPIV3Schema"]


def test_real_raycluster_schema_defaults_worker_groups_and_requires_template():
    schema = CompiledSchema(_real_crd_schema("RayCluster.ray.io_v1-and-v1alpha1.yaml", "v1"))
    head = {"template": {"spec": {"containers": [{"name": "head", "image": "ray"}]}}}
    obj = _obj({"headGroupSpec": head, "workerGroupSpecs": [
        {"groupName": "w", "template": {"spec": {"containers": [{"name": "w", "image": "ray"}]}}}]})
    assert schema.admit(obj) == []
    worker = obj["spec"]["workerGroupSpecs"][0]
    assert (worker["minReplicas"], worker["maxReplicas"], worker["replicas"]) == (0, 2147483647, 0)
    causes = schema.admit(_obj({"headGroupSpec": {"template": {"spec": {}}}}))
    assert {"reason": "FieldValueRequired", "field": "spec.headGroupSpec.template.spec.containers",
            "message": "Required value"} in causes
