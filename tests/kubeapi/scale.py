"""The /scale subresource: an autoscaling/v1 Scale view of an object's replica count."""
from . import errors


def _parts(json_path):
    return [p for p in (json_path or "").split(".") if p]


def _read(obj, json_path):
    current = obj
    for part in _parts(json_path):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def _selector_string(selector):
    """metav1.LabelSelector -> the label selector string the Scale status carries."""
    if not isinstance(selector, dict):
        return ""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if operator == "In":
            terms.append(f"{key} in ({','.join(values)})")
        elif operator == "NotIn":
            terms.append(f"{key} notin ({','.join(values)})")
        elif operator == "Exists":
            terms.append(key)
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)


def scale_view(resource_type, obj):
    paths = resource_type.scale
    metadata = obj["metadata"]
    if paths.get("labelSelectorPath"):
        selector = _read(obj, paths["labelSelectorPath"]) or ""
    else:
        selector = _selector_string((obj.get("spec") or {}).get("selector"))
    status = {"replicas": _read(obj, paths["statusReplicasPath"]) or 0}
    if selector:
        status["selector"] = selector
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: metadata[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in metadata},
        "spec": {"replicas": _read(obj, paths["specReplicasPath"]) or 0},
        "status": status,
    }


def with_replicas(resource_type, obj, scale):
    """`obj` with the replica count a Scale asks for written to the spec replicas path."""
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid("Scale", "autoscaling", obj["metadata"]["name"], [{
            "reason": "FieldValueInvalid", "field": "spec.replicas",
            "message": f"Invalid value: {replicas}: must be greater than or equal to 0"}])
    parts = _parts(resource_type.scale["specReplicasPath"])
    current = obj
    for part in parts[:-1]:
        current = current.setdefault(part, {})
    current[parts[-1]] = replicas
    return obj
