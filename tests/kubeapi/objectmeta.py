"""ObjectMeta rules shared by every type: names, timestamps, uids, managedFields."""
import random
import re
import uuid
from datetime import datetime, timezone

from .errors import invalid

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# apiserver's names.SimpleNameGenerator alphabet (no vowels, no confusable digits).
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Types whose names must be DNS-1123 labels rather than subdomains.
_LABEL_NAMED = {("", "namespaces"), ("", "services")}


def now_timestamp():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid():
    return str(uuid.uuid4())


def generated_name(prefix):
    return prefix + "".join(random.choice(_GENERATE_ALPHABET) for _ in range(5))


def validate_name(resource_type, name):
    """422 for names the real server rejects (path-unsafe or not DNS-1123)."""
    kind, group = resource_type.kind, resource_type.group
    if resource_type.key in _LABEL_NAMED:
        if len(name) > 63 or not _DNS_LABEL.match(name):
            raise invalid(kind, group, name, [{
                "reason": "FieldValueInvalid", "field": "metadata.name",
                "message": f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                           "alphanumeric characters or '-', and must start and end with an alphanumeric "
                           "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}])
        return
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise invalid(kind, group, name, [{
            "reason": "FieldValueInvalid", "field": "metadata.name",
            "message": f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                       "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                       "character (e.g. 'example.com', regex used for validation is "
                       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}])


def fields_v1(value):
    """A FieldsV1 set for a JSON value: maps recurse, everything else (lists too) is one leaf."""
    if not isinstance(value, dict):
        return {}
    return {f"f:{key}": fields_v1(child) for key, child in value.items()}


def leaf_paths(fields, prefix=()):
    """Field paths (tuples) of the leaves of a FieldsV1 set."""
    paths = set()
    for key, child in (fields or {}).items():
        if not key.startswith("f:"):
            continue
        path = prefix + (key[2:],)
        if child:
            paths |= leaf_paths(child, path)
        else:
            paths.add(path)
    return paths


def managed_fields_entry(manager, operation, api_version, applied):
    """One metadata.managedFields entry recording what `manager` set (identity fields excluded)."""
    body = {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}
    metadata = {k: v for k, v in (body.get("metadata") or {}).items()
                if k in ("labels", "annotations", "ownerReferences", "finalizers")}
    if metadata:
        body["metadata"] = metadata
    else:
        body.pop("metadata", None)
    return {"manager": manager, "operation": operation, "apiVersion": api_version,
            "time": now_timestamp(), "fieldsType": "FieldsV1", "fieldsV1": fields_v1(body)}


def record_manager(obj, entry):
    """Replace `entry.manager`'s entry of the same operation in obj.metadata.managedFields."""
    entries = [e for e in obj["metadata"].get("managedFields") or []
               if not (e.get("manager") == entry["manager"] and e.get("operation") == entry["operation"]
                       and e.get("subresource", "") == entry.get("subresource", ""))]
    entries.append(entry)
    obj["metadata"]["managedFields"] = entries
