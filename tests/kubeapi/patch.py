"""The patch formats of the Kubernetes API: JSON patch, JSON merge patch and strategic merge patch."""
import copy

from .errors import ApiError


class PatchError(ApiError):
    def __init__(self, message, code=422, reason="Invalid"):
        super().__init__(code, reason, message)


# ---- RFC 6902 JSON patch -------------------------------------------------------------------------
def _pointer_parts(pointer):
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer: {pointer!r}", 400, "BadRequest")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _list_index(container, part, allow_end):
    if part == "-" and allow_end:
        return len(container)
    if not part.isdigit() or (part != "0" and part.startswith("0")):
        raise PatchError(f"invalid array index {part!r}")
    index = int(part)
    if index > len(container) or (index == len(container) and not allow_end):
        raise PatchError(f"array index {index} out of bounds")
    return index


def _parent(doc, parts, op):
    current = doc
    for part in parts[:-1]:
        if isinstance(current, dict):
            if part not in current:
                raise PatchError(f'jsonpatch {op} operation does not apply: doc is missing path: "/{"/".join(parts)}"')
            current = current[part]
        elif isinstance(current, list):
            current = current[_list_index(current, part, False)]
        else:
            raise PatchError(f'jsonpatch {op} operation does not apply: doc is missing path: "/{"/".join(parts)}"')
    return current


def _get(doc, parts, op):
    if not parts:
        return doc
    parent = _parent(doc, parts, op)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f'jsonpatch {op} operation does not apply: doc is missing key: /{"/".join(parts)}')
        return parent[last]
    if isinstance(parent, list):
        return parent[_list_index(parent, last, False)]
    raise PatchError(f"jsonpatch {op}: path /{'/'.join(parts)} is not a container")


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _parent(doc, parts, "add")
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_list_index(parent, last, True), value)
    else:
        raise PatchError("jsonpatch add operation does not apply: parent is not a container")
    return doc


def _remove(doc, parts, op="remove"):
    if not parts:
        raise PatchError("jsonpatch remove of the whole document is not allowed")
    parent = _parent(doc, parts, op)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f'jsonpatch {op} operation does not apply: doc is missing key: /{"/".join(parts)}')
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_list_index(parent, last, False))
    raise PatchError(f"jsonpatch {op} operation does not apply: parent is not a container")


def json_patch(document, operations):
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations", 400, "BadRequest")
    doc = copy.deepcopy(document)
    for operation in operations:
        op = operation.get("op")
        parts = _pointer_parts(operation.get("path", ""))
        if op == "add":
            doc = _add(doc, parts, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(doc, parts)
        elif op == "replace":
            if not parts:
                doc = copy.deepcopy(operation.get("value"))
            else:
                _get(doc, parts, "replace")
                parent = _parent(doc, parts, "replace")
                if isinstance(parent, list):
                    parent[_list_index(parent, parts[-1], False)] = copy.deepcopy(operation.get("value"))
                else:
                    parent[parts[-1]] = copy.deepcopy(operation.get("value"))
        elif op == "move":
            value = _remove(doc, _pointer_parts(operation.get("from", "")), "move")
            doc = _add(doc, parts, value)
        elif op == "copy":
            value = copy.deepcopy(_get(doc, _pointer_parts(operation.get("from", "")), "copy"))
            doc = _add(doc, parts, value)
        elif op == "test":
            if _get(doc, parts, "test") != operation.get("value"):
                raise PatchError(f"testing value /{'/'.join(parts)} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {op}", 400, "BadRequest")
    return doc


# ---- RFC 7386 JSON merge patch ---------------------------------------------------------------------
def merge_patch(document, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(document) if isinstance(document, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---- strategic merge patch -------------------------------------------------------------------------
# patchMergeKey of the list fields we use (from the k8s.io/api struct tags). Lists not named here are
# replaced atomically, as for fields without patchStrategy=merge.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
    "env": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "ownerReferences": "uid", "conditions": "type", "hostAliases": "ip", "readinessGates": "conditionType",
    "topologySpreadConstraints": "topologyKey", "resourceClaims": "name", "secrets": "name",
    "ports": None,  # containerPort in containers, port in Services: picked from the items
}
# Lists of scalars with patchStrategy=merge: merged as ordered sets.
SET_LISTS = {"finalizers"}


def _ports_key(*lists):
    for items in lists:
        for item in items or []:
            if isinstance(item, dict) and "containerPort" in item:
                return "containerPort"
    return "port"


def _strip_directives(value):
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items()
                if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def _merge_list(field, original, patch):
    original = original if isinstance(original, list) else []
    if field in SET_LISTS:
        merged = list(original)
        merged += [v for v in patch if v not in merged]
        return merged
    if field not in MERGE_KEYS:
        return _strip_directives(patch)
    key = MERGE_KEYS[field] or _ports_key(patch, original)
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [_strip_directives(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    result = copy.deepcopy(original)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(_strip_directives(item))
            continue
        index = next((i for i, existing in enumerate(result)
                      if isinstance(existing, dict) and existing.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def strategic_merge(original, patch):
    """Apply a strategic merge patch (built-in types only: the server refuses it for custom resources)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if directive == "delete":
        return None
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    deletions = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            deletions[key.split("/", 1)[1]] = value
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = value
    for field, values in deletions.items():
        if isinstance(result.get(field), list):
            result[field] = [v for v in result[field] if v not in values]
    if isinstance(patch.get("$retainKeys"), list):
        keep = set(patch["$retainKeys"])
        result = {k: v for k, v in result.items() if k in keep}
    return result
