"""Custom resource admission: pruning, defaulting and validation against a CRD's structural schema.

The structural schema (OpenAPI v3 subset with x-kubernetes-* extensions) is converted to a JSON Schema
draft 4 document for `jsonschema`; pruning and defaulting walk the original schema. jsonschema errors are
mapped to the field errors kube-apiserver reports (Invalid / Required / Unsupported value).
"""
import copy
import json
import threading

import jsonschema

from . import errors
from .errors import invalid

# JSON Schema keywords that carry over unchanged (value validations of the OpenAPI v3 subset).
_PLAIN_KEYWORDS = ("required", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                   "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf",
                   "minProperties", "maxProperties")
_OBJECT_META_ROOT = {"type": "object"}


def to_json_schema(node, root=False):
    """Convert one structural schema node to JSON Schema draft 4 (lenient on `format`, no CEL)."""
    if not isinstance(node, dict):
        return {}
    converted = {k: copy.deepcopy(node[k]) for k in _PLAIN_KEYWORDS if k in node}
    nullable = bool(node.get("nullable"))
    if node.get("x-kubernetes-int-or-string"):
        if "anyOf" not in node:
            converted["type"] = ["integer", "string"] + (["null"] if nullable else [])
    elif "type" in node:
        converted["type"] = [node["type"], "null"] if nullable else node["type"]
    if nullable and "enum" in converted and None not in converted["enum"]:
        converted["enum"].append(None)
    if "properties" in node:
        converted["properties"] = {k: to_json_schema(v) for k, v in node["properties"].items()}
    if root or node.get("x-kubernetes-embedded-resource"):
        # ObjectMeta is validated by the server's own rules, never by the CRD schema.
        properties = converted.setdefault("properties", {})
        properties["metadata"] = _OBJECT_META_ROOT
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
    if isinstance(node.get("items"), dict):
        converted["items"] = to_json_schema(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        converted["additionalProperties"] = to_json_schema(node["additionalProperties"])
    for keyword in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(keyword), list):
            converted[keyword] = [to_json_schema(branch) for branch in node[keyword]]
    if isinstance(node.get("not"), dict):
        converted["not"] = to_json_schema(node["not"])
    return converted


def prune(value, node, root=False, path=(), pruned=None):
    """Drop fields the schema does not know (unless preserve-unknown-fields) and non-nullable nulls.

    Paths of dropped unknown fields are appended to `pruned` (for fieldValidation Warn/Strict)."""
    if not isinstance(node, dict):
        return
    if isinstance(value, dict):
        properties = node.get("properties") or {}
        additional = node.get("additionalProperties")
        preserve = node.get("x-kubernetes-preserve-unknown-fields") or additional is True
        keep_identity = root or node.get("x-kubernetes-embedded-resource")
        for key in list(value):
            if keep_identity and key in ("apiVersion", "kind", "metadata"):
                continue
            child = properties.get(key) if key in properties else (
                additional if isinstance(additional, dict) else None)
            if child is None:
                if not preserve:
                    del value[key]
                    if pruned is not None:
                        pruned.append(path + (key,))
                continue
            if value[key] is None and not child.get("nullable"):
                del value[key]
                continue
            prune(value[key], child, path=path + (key,), pruned=pruned)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, item in enumerate(value):
            prune(item, node["items"], path=path + (index,), pruned=pruned)


def apply_defaults(value, node):
    """Set `default` values of missing properties, recursively (also inside defaulted values)."""
    if not isinstance(node, dict):
        return
    if isinstance(value, dict):
        for key, child in (node.get("properties") or {}).items():
            if key not in value and isinstance(child, dict) and "default" in child:
                value[key] = copy.deepcopy(child["default"])
            if key in value:
                apply_defaults(value[key], child)
        if isinstance(node.get("additionalProperties"), dict):
            for key in value:
                apply_defaults(value[key], node["additionalProperties"])
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for item in value:
            apply_defaults(item, node["items"])


# ---- jsonschema errors -> kube field errors ---------------------------------------------------------
def field_path(parts):
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def json_type_name(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def go_value(value):
    """How field.Invalid prints a value: strings quoted, scalars bare, composites as JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


def _invalid_cause(field, value, detail):
    return {"reason": "FieldValueInvalid", "field": field,
            "message": f"Invalid value: {go_value(value)}: {field} in body {detail}"}


def causes_for(error):
    """Field error causes (reason/message/field) for one jsonschema ValidationError."""
    parts = list(error.absolute_path)
    field = field_path(parts)
    value, rule, keyword = error.instance, error.validator_value, error.validator
    if keyword == "required":
        missing = [name for name in rule if isinstance(value, dict) and name not in value]
        return [{"reason": "FieldValueRequired", "field": field_path(parts + [name]), "message": "Required value"}
                for name in missing]
    if keyword == "type":
        expected = ",".join(t for t in (rule if isinstance(rule, list) else [rule]) if t != "null")
        actual = json_type_name(value)
        return [{"reason": "FieldValueTypeInvalid", "field": field,
                 "message": f'Invalid value: "{actual}": {field} in body must be of type {expected}: "{actual}"'}]
    if keyword == "enum":
        supported = ", ".join(go_value(v) for v in rule if v is not None)
        return [{"reason": "FieldValueNotSupported", "field": field,
                 "message": f"Unsupported value: {go_value(value)}: supported values: {supported}"}]
    details = {
        "minimum": f"should be greater than or equal to {rule}",
        "maximum": f"should be less than or equal to {rule}",
        "exclusiveMinimum": f"should be greater than {error.schema.get('minimum')}",
        "exclusiveMaximum": f"should be less than {error.schema.get('maximum')}",
        "minLength": f"should be at least {rule} chars long",
        "maxLength": f"should be at most {rule} chars long",
        "pattern": f"should match '{rule}'",
        "minItems": f"should have at least {rule} items",
        "maxItems": f"should have at most {rule} items",
        "multipleOf": f"should be a multiple of {rule}",
        "minProperties": f"should have at least {rule} properties",
        "maxProperties": f"should have at most {rule} properties",
        "anyOf": "must validate at least one schema (anyOf)",
        "oneOf": "must validate one and only one schema (oneOf)",
        "allOf": "must validate all the schemas (allOf)",
        "not": "must not validate the schema (not)",
    }
    if keyword == "uniqueItems":
        return [{"reason": "FieldValueDuplicate", "field": field,
                 "message": f"Duplicate value: {go_value(value)}"}]
    return [_invalid_cause(field, value, details.get(keyword, error.message))]


class CompiledSchema:
    def __init__(self, structural):
        self.structural = structural
        self.validator = jsonschema.Draft4Validator(to_json_schema(structural, root=True))

    def admit(self, obj, pruned=None):
        """Prune, default and validate `obj` in place; returns the list of field error causes.
        Paths of pruned unknown fields are appended to `pruned` if given."""
        prune(obj, self.structural, root=True, pruned=pruned)
        apply_defaults(obj, self.structural)
        causes = []
        for error in sorted(self.validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
            causes.extend(causes_for(error))
        return causes


class CustomResourceSchemas:
    """Compiled schemas per served custom resource version, rebuilt when the CRD's schema changes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._compiled = {}  # (group, plural, version) -> (schema dict identity, CompiledSchema)

    def _get(self, resource_type):
        if not resource_type.schema:
            return None
        key = (resource_type.group, resource_type.plural, resource_type.version)
        with self._lock:
            cached = self._compiled.get(key)
            if cached is None or cached[0] is not resource_type.schema:
                cached = (resource_type.schema, CompiledSchema(resource_type.schema))
                self._compiled[key] = cached
            return cached[1]

    def admit(self, resource_type, obj, field_validation="Warn", warnings=None):
        compiled = self._get(resource_type)
        if compiled is None:
            return
        pruned = []
        causes = compiled.admit(obj, pruned)
        unknown = [f'unknown field "{field_path(p)}"' for p in pruned]
        if unknown and field_validation == "Strict":
            raise errors.bad_request(f"{resource_type.kind} in version \"{resource_type.version}\" cannot be "
                                     f"handled as a {resource_type.kind}: strict decoding error: "
                                     + ", ".join(unknown))
        if unknown and field_validation == "Warn" and warnings is not None:
            warnings.extend(unknown)
        if causes:
            raise invalid(resource_type.kind, resource_type.group, obj["metadata"].get("name", ""), causes)

    def forget(self, group, plural):
        with self._lock:
            for key in [k for k in self._compiled if k[:2] == (group, plural)]:
                del self._compiled[key]
