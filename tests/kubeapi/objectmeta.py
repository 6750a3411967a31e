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


_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
ANNOTATIONS_SIZE_LIMIT = 256 * 1024  # apimachinery TotalAnnotationSizeLimitB


def _label_key_errors(key):
    prefix, _, name = key.rpartition("/")
    problems = []
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        problems.append("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                        "characters, '-' or '.', and must start and end with an alphanumeric character")
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        problems.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                        "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                        "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    return problems


def metadata_causes(obj):
    """Field errors of labels and annotations the real server refuses (422)."""
    metadata = obj.get("metadata") or {}
    causes = []
    for key, value in (metadata.get("labels") or {}).items():
        for problem in _label_key_errors(key):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                           "message": f'Invalid value: "{key}": {problem}'})
        if not isinstance(value, str):
            causes.append({"reason": "FieldValueTypeInvalid", "field": f"metadata.labels.{key}",
                           "message": "Invalid value: must be a string"})
        elif len(value) > 63:
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                           "message": f'Invalid value: "{value}": must be no more than 63 characters'})
        elif not _LABEL_VALUE.match(value):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels", "message": (
                f'Invalid value: "{value}": a valid label must be an empty string or consist of alphanumeric '
                "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")})
    annotations = metadata.get("annotations") or {}
    for key in annotations:
        for problem in _label_key_errors(key.lower()):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.annotations",
                           "message": f'Invalid value: "{key}": {problem}'})
    size = sum(len(k) + len(str(v)) for k, v in annotations.items())
    if size > ANNOTATIONS_SIZE_LIMIT:
        causes.append({"reason": "FieldValueTooLong", "field": "metadata.annotations",
                       "message": f"Too long: may not be more than {ANNOTATIONS_SIZE_LIMIT} bytes"})
    return causes


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


def _overlaps(first, second):
    shorter = min(len(first), len(second))
    return first[:shorter] == second[:shorter]


def without_paths(fields, paths):
    """A FieldsV1 set minus the leaves overlapping any of `paths` (empty maps pruned)."""
    def walk(node, prefix):
        kept = {}
        for key, child in node.items():
            path = prefix + (key[2:],) if key.startswith("f:") else prefix + (key,)
            if not any(_overlaps(path, p) for p in paths):
                kept[key] = child
            elif child and not any(p == path[:len(p)] for p in paths):
                remaining = walk(child, path)  # only a deeper part is taken away
                if remaining:
                    kept[key] = remaining
        return kept
    return walk(fields or {}, ())


def value_at(obj, path):
    current = obj
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def apply_conflicts(live, applied, manager):
    """[(other manager, its apiVersion, path)] for applied fields another manager owns with another value."""
    applied_paths = leaf_paths(fields_v1(owned_view(applied)))
    conflicts = []
    for entry in live["metadata"].get("managedFields") or []:
        if entry.get("manager") == manager or entry.get("subresource"):
            continue
        for owned in sorted(leaf_paths(entry.get("fieldsV1"))):
            for path in applied_paths:
                if _overlaps(owned, path):
                    shorter = owned if len(owned) <= len(path) else path
                    if value_at(live, shorter) != value_at(applied, shorter):
                        conflicts.append((entry["manager"], entry.get("apiVersion", ""), shorter))
                    break
    return conflicts


def record_managed_fields(new, old, manager, api_version, applied=None, subresource="", taken=(), requested=None):
    """Update new.metadata.managedFields for a write by `manager`, starting from the stored entries.

    Apply (`applied` given): the manager owns exactly the applied configuration. Update: it adds the
    fields it created or changed to what it owned. An entry whose fields did not change keeps its time,
    so a repeated identical write is recognisably a no-op. On create, `requested` (the request body) says
    what the manager set, so server defaults are owned by nobody, as in kube-apiserver."""
    entries = [dict(e) for e in ((old or {}).get("metadata", {}).get("managedFields") or [])]
    operation = "Apply" if applied is not None else "Update"
    previous = next((e for e in entries if e.get("manager") == manager and e.get("operation") == operation
                     and e.get("subresource", "") == subresource), None)
    fresh = {}
    if applied is not None:
        fields = fields_v1(owned_view(applied))
    else:
        fresh = changed_fields(owned_view(old) if old else {}, owned_view(requested or new))
        fields = merge_fields((previous or {}).get("fieldsV1"), fresh)
    # Fields this write changed (or force-applied over a conflict) now belong to this manager alone.
    taken = set(taken) | (leaf_paths(fresh) if applied is None else set())
    if taken:
        for index, other in enumerate(entries):
            if other is previous or other.get("subresource", "") != subresource:
                continue
            remaining = without_paths(other.get("fieldsV1"), taken)
            if remaining != other.get("fieldsV1"):
                entries[index] = dict(other, fieldsV1=remaining, time=now_timestamp())
        entries = [e for e in entries if e is previous or e.get("fieldsV1")]
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
