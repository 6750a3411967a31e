"""metadata.managedFields: which field manager owns which fields, as server-side apply tracks them.

Field sets use the FieldsV1 shape: `{"f:spec": {"f:replicas": {}}}`. For built-in kinds, lists with a
patch merge key (containers, env, ports, ...) are keyed per item like the real server does
(`"k:{\"name\":\"app\"}"`), so an apply that drops an item removes it; other lists are one atomic leaf.
Custom resources keep every list atomic (their apply merges like a JSON merge patch).
"""
import json

from .objectmeta import now_timestamp
from .patch import MERGE_KEYS, _ports_key


def _list_key(field, items, keyed):
    """The merge key of a keyed list field, or None if the list is atomic."""
    if not keyed or field not in MERGE_KEYS or not isinstance(items, list) or not items:
        return None
    key = MERGE_KEYS[field] or _ports_key(items)
    if all(isinstance(item, dict) and key in item for item in items):
        return key
    return None


def _item_key(key, item):
    return "k:" + json.dumps({key: item[key]}, separators=(",", ":"))


def fields_v1(value, keyed=False):
    """The FieldsV1 set of every field in a JSON value."""
    if not isinstance(value, dict):
        return {}
    fields = {}
    for name, child in value.items():
        list_key = _list_key(name, child, keyed)
        if list_key:
            fields[f"f:{name}"] = {_item_key(list_key, item): fields_v1(item, keyed) for item in child}
        else:
            fields[f"f:{name}"] = fields_v1(child, keyed)
    return fields


def changed_fields(old, new, keyed=False):
    """FieldsV1 of what is new or different in `new` compared with `old` (removals own nothing)."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return {}
    changed = {}
    for name, value in new.items():
        if name not in old:
            changed[f"f:{name}"] = fields_v1({name: value}, keyed)[f"f:{name}"]
        elif old[name] != value:
            list_key = _list_key(name, value, keyed)
            if list_key and _list_key(name, old[name], keyed) == list_key:
                before = {_item_key(list_key, item): item for item in old[name]}
                changed[f"f:{name}"] = {
                    item_key: (changed_fields(before[item_key], item, keyed) if item_key in before
                               else fields_v1(item, keyed))
                    for item_key, item in ((_item_key(list_key, i), i) for i in value)
                    if before.get(item_key) != item}
            else:
                changed[f"f:{name}"] = changed_fields(old[name], value, keyed)
    return changed


def leaf_paths(fields, prefix=()):
    """Field paths (tuples) of the leaves of a FieldsV1 set; keyed list items appear as "k:{...}" parts."""
    paths = set()
    for key, child in (fields or {}).items():
        if key.startswith("f:"):
            path = prefix + (key[2:],)
        elif key.startswith("k:"):
            path = prefix + (key,)
        else:
            continue
        if child:
            paths |= leaf_paths(child, path)
        else:
            paths.add(path)
    return paths


def merge_fields(first, second):
    merged = dict(first or {})
    for key, child in (second or {}).items():
        merged[key] = merge_fields(merged.get(key), child) if key in merged else child
    return merged


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


def _find_item(items, part):
    wanted = json.loads(part[2:])
    for index, item in enumerate(items):
        if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items()):
            return index
    return None


def value_at(obj, path):
    current = obj
    for part in path:
        if part.startswith("k:") and isinstance(current, list):
            index = _find_item(current, part)
            if index is None:
                return None
            current = current[index]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return None
    return current


def remove_path(obj, path):
    """Delete the field (or keyed list item) at `path` if present."""
    parent = value_at(obj, path[:-1])
    last = path[-1]
    if isinstance(parent, list) and last.startswith("k:"):
        index = _find_item(parent, last)
        if index is not None:
            parent.pop(index)
    elif isinstance(parent, dict):
        parent.pop(last, None)


def dropped_paths(previous_fields, applied_fields):
    """What an apply no longer sets that the same manager applied before: whole keyed items where the
    item is gone from the applied configuration, single fields otherwise."""
    now = leaf_paths(applied_fields)
    dropped = set()
    for path in leaf_paths(previous_fields) - now:
        cut = path
        for index, part in enumerate(path):
            if part.startswith("k:") and not any(p[:index + 1] == path[:index + 1] for p in now):
                cut = path[:index + 1]
                break
        dropped.add(cut)
    return dropped


def apply_conflicts(live, applied, manager, keyed=False):
    """[(other manager, its apiVersion, path)] for applied fields another manager owns with another value."""
    applied_paths = leaf_paths(fields_v1(owned_view(applied), keyed))
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


def _values(obj):
    """The object's content without managedFields and resourceVersion: what "the write changed it" compares."""
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("managedFields", "resourceVersion")}
    return dict(obj, metadata=metadata)


def record_managed_fields(new, old, manager, api_version, applied=None, subresource="", taken=(), requested=None,
                          keyed=False):
    """Update new.metadata.managedFields for a write by `manager`, starting from the stored entries.

    Apply (`applied` given): the manager owns exactly the applied configuration. Update: it adds the
    fields it created or changed to what it owned. As in kube-apiserver, the entry's time is renewed only
    when the write changes the object, so a repeated identical write is recognisably a no-op. On create,
    `requested` (the request body) says what the manager set, so server defaults are owned by nobody,
    as in kube-apiserver."""
    entries = [dict(e) for e in ((old or {}).get("metadata", {}).get("managedFields") or [])]
    operation = "Apply" if applied is not None else "Update"
    previous = next((e for e in entries if e.get("manager") == manager and e.get("operation") == operation
                     and e.get("subresource", "") == subresource), None)
    fresh = {}
    if applied is not None:
        fields = fields_v1(owned_view(applied), keyed)
    else:
        fresh = changed_fields(owned_view(old) if old else {}, owned_view(requested or new), keyed)
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
    # kube-apiserver renews an entry's time exactly when the write changed the object (an apply whose
    # result differs from the live object, an update that changed a field); a write that changes no value
    # keeps the time, even when the manager's field set or apiVersion is updated.
    if applied is not None:
        changed = old is None or _values(new) != _values(old)
    else:
        changed = bool(fresh)
    if previous is not None and not changed:
        if previous.get("fieldsV1") == fields and previous.get("apiVersion") == api_version:
            entry = previous
        else:
            entry = dict(previous, fieldsV1=fields, apiVersion=api_version)
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
