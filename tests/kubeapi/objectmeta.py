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


def owned_view(obj):
    """The part of an object field ownership is tracked for (identity and server metadata excluded)."""
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    metadata = {k: v for k, v in (body.get("metadata") or {}).items()
                if k in ("labels", "annotations", "ownerReferences", "finalizers")}
    if metadata:
        body["metadata"] = metadata
    else:
        body.pop("metadata", None)
    return body


def changed_fields(old, new):
    """FieldsV1 of what is new or different in `new` compared with `old` (removals own nothing)."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return {}
    changed = {}
    for key, value in new.items():
        if key not in old:
            changed[f"f:{key}"] = fields_v1(value)
        elif old[key] != value:
            changed[f"f:{key}"] = changed_fields(old[key], value)
    return changed


def merge_fields(first, second):
    merged = dict(first or {})
    for key, child in (second or {}).items():
        merged[key] = merge_fields(merged.get(key), child) if key in merged else child
    return merged


def record_managed_fields(new, old, manager, api_version, applied=None, subresource=""):
    """Update new.metadata.managedFields for a write by `manager`, starting from the stored entries.

    Apply (`applied` given): the manager owns exactly the applied configuration. Update: it adds the
    fields it created or changed to what it owned. An entry whose fields did not change keeps its time,
    so a repeated identical write is recognisably a no-op."""
    entries = [dict(e) for e in ((old or {}).get("metadata", {}).get("managedFields") or [])]
    operation = "Apply" if applied is not None else "Update"
    previous = next((e for e in entries if e.get("manager") == manager and e.get("operation") == operation
                     and e.get("subresource", "") == subresource), None)
    if applied is not None:
        fields = fields_v1(owned_view(applied))
    else:
        fresh = changed_fields(owned_view(old) if old else {}, owned_view(new))
        fields = merge_fields((previous or {}).get("fieldsV1"), fresh)
    if previous is not None and previous.get("fieldsV1") == fields:
        entry = previous
    else:
        entry = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": now_timestamp(),
                 "fieldsType": "FieldsV1", "fieldsV1": fields}
        if subresource:
            entry["subresource"] = subresource
    if previous is not None:
        entries[entries.index(previous)] = entry  # in place: reordering would look like a change
    elif fields:
        entries.append(entry)
    if entries:
        new["metadata"]["managedFields"] = entries
    else:
        new["metadata"].pop("managedFields", None)
