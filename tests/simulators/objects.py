"""Helpers on Kubernetes objects as plain dicts: metadata, owner references, conditions, pods, selectors."""
import base64
import copy
import datetime
import hashlib
import random

# The alphabet Kubernetes uses for generated name suffixes (no vowels, no confusable characters).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def rfc3339(moment=None):
    """metav1.Time wire format: second precision, UTC, `Z`."""
    return (moment or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(obj):
    return obj.get("metadata") or {}


def name_of(obj):
    return meta(obj).get("name")


def namespace_of(obj):
    return meta(obj).get("namespace")


def key_of(obj):
    return (namespace_of(obj) or "", name_of(obj))


def generation(obj):
    return meta(obj).get("generation") or 0


def labels_of(obj):
    return meta(obj).get("labels") or {}


def annotations_of(obj):
    return meta(obj).get("annotations") or {}


def random_suffix(length=5):
    return "".join(random.choice(_SUFFIX_ALPHABET) for _position in range(length))


def stable_hash(value, length=10):
    """A short deterministic hash of any JSON-like value (e.g. a pod template), in the suffix alphabet."""
    digest = hashlib.sha256(repr(_canonical(value)).encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:length])


def _canonical(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_canonical(v) for v in value)
    return value


def owner_reference(owner, controller=True):
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": name_of(owner),
        "uid": meta(owner).get("uid"),
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_of(obj):
    """The ownerReference marked controller: true, or None."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj, owner):
    ref = controller_of(obj)
    return bool(ref) and ref.get("uid") == meta(owner).get("uid")


# -- conditions (metav1.Condition semantics, as meta.SetStatusCondition) -----------------------------------
def find_condition(conditions, type_):
    for cond in conditions or []:
        if cond.get("type") == type_:
            return cond
    return None


def set_condition(conditions, type_, status, reason, message="", observed_generation=None, now=None):
    """Return a new list with the condition set; lastTransitionTime changes only when status changes."""
    conditions = copy.deepcopy(conditions or [])
    existing = find_condition(conditions, type_)
    new = {"type": type_, "status": status, "reason": reason, "message": message,
           "lastTransitionTime": rfc3339(now)}
    if observed_generation is not None:
        new["observedGeneration"] = observed_generation
    if existing is None:
        conditions.append(new)
        return conditions
    if existing.get("status") == status:
        new["lastTransitionTime"] = existing.get("lastTransitionTime") or new["lastTransitionTime"]
    existing.clear()
    existing.update(new)
    return conditions


def remove_condition(conditions, type_):
    return [c for c in copy.deepcopy(conditions or []) if c.get("type") != type_]


def condition_true(obj, type_):
    cond = find_condition((obj.get("status") or {}).get("conditions"), type_)
    return bool(cond) and cond.get("status") == "True"


# -- pods -------------------------------------------------------------------------------------------------
def pod_phase(pod):
    return (pod.get("status") or {}).get("phase") or ""


def pod_ready(pod):
    """PodReady condition True (what the operators call ready)."""
    cond = find_condition((pod.get("status") or {}).get("conditions"), "Ready")
    return bool(cond) and cond.get("status") == "True"


def pod_running_and_ready(pod):
    return pod_phase(pod) == "Running" and pod_ready(pod)


def is_terminating(obj):
    return bool(meta(obj).get("deletionTimestamp"))


# -- label selectors --------------------------------------------------------------------------------------
def selector_matches(selector, labels):
    """metav1.LabelSelector (matchLabels + matchExpressions) against a label map. Empty selector matches."""
    selector = selector or {}
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_string(match_labels):
    """A labelSelector query string for equality matches."""
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))


def merge_patch(old, new):
    """The RFC 7386 merge patch that turns `old` into `new` (dicts recursed, lists and scalars replaced)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return copy.deepcopy(new)
    patch = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = copy.deepcopy(value)
        elif old[key] != value:
            if isinstance(old[key], dict) and isinstance(value, dict):
                patch[key] = merge_patch(old[key], value)
            else:
                patch[key] = copy.deepcopy(value)
    return patch


def without(mapping, keys):
    """A shallow copy of a dict without the given (volatile) keys, for change detection."""
    return {k: v for k, v in (mapping or {}).items() if k not in keys}


def secret_data(values):
    """Secret `data` (base64) from plain strings; `data` rather than `stringData` works on every server."""
    return {k: base64.b64encode(str(v).encode()).decode() for k, v in values.items()}


def secret_values(secret):
    """Plain strings from a Secret's `data`."""
    return {k: base64.b64decode(v).decode() for k, v in ((secret or {}).get("data") or {}).items()}
