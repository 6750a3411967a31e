"""The Kubernetes protobuf encoding, both ways, for the few kinds Go clients (kubectl, helm) send that way,
and the Accept negotiation that decides whether an answer is JSON, YAML or protobuf.

client-go's typed clients (kubectl's `create namespace|configmap|secret|serviceaccount`, helm's release
storage in Secrets, helm's `--create-namespace`) send `application/vnd.kubernetes.protobuf` bodies and ask
for `Accept: application/vnd.kubernetes.protobuf,application/json`. A body is the `k8s\\0` magic, then a
runtime.Unknown envelope (typeMeta, raw = the object's message, contentEncoding, contentType). Field numbers
are those of k8s.io/api core/v1 and k8s.io/apimachinery meta/v1 generated.proto.

Covered: Namespace, ConfigMap, Secret, ServiceAccount and their lists, DeleteOptions (request bodies
only) and Status (answers only). metav1.Time is whole seconds, as in JSON. Any other kind is not offered as
protobuf: its body is refused with 415 and an Accept that wants only protobuf gets 406, as from a server
without a protobuf codec for it (a real kube-apiserver has one for every built-in kind; custom resources
have none there either). Watches stream JSON only.
"""
import base64
import json
from datetime import datetime, timezone

from . import errors

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"
JSON = "application/json"
YAML = "application/yaml"

_META = {
    "ObjectMeta": {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"), 4: ("selfLink", "str"),
                   5: ("uid", "str"), 6: ("resourceVersion", "str"), 7: ("generation", "int"),
                   8: ("creationTimestamp", "time"), 9: ("deletionTimestamp", "time"),
                   10: ("deletionGracePeriodSeconds", "optint"), 11: ("labels", ("map", "str")),
                   12: ("annotations", ("map", "str")), 13: ("ownerReferences", ("repeated", "OwnerReference")),
                   14: ("finalizers", ("repeated", "str")), 17: ("managedFields", ("repeated", "ManagedFieldsEntry"))},
    "OwnerReference": {1: ("kind", "str"), 3: ("name", "str"), 4: ("uid", "str"), 5: ("apiVersion", "str"),
                       6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "ManagedFieldsEntry": {1: ("manager", "str"), 2: ("operation", "str"), 3: ("apiVersion", "str"),
                           4: ("time", "time"), 6: ("fieldsType", "str"), 7: ("fieldsV1", "fields"),
                           8: ("subresource", "str")},
    "ListMeta": {1: ("selfLink", "str"), 2: ("resourceVersion", "str"), 3: ("continue", "str"),
                 4: ("remainingItemCount", "optint")},
    "Status": {1: ("metadata", "ListMeta"), 2: ("status", "str"), 3: ("message", "str"), 4: ("reason", "str"),
               5: ("details", "StatusDetails"), 6: ("code", "int")},
    "StatusDetails": {1: ("name", "str"), 2: ("group", "str"), 3: ("kind", "str"),
                      4: ("causes", ("repeated", "StatusCause")), 5: ("retryAfterSeconds", "int"), 6: ("uid", "str")},
    "StatusCause": {1: ("reason", "str"), 2: ("message", "str"), 3: ("field", "str")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "optint"), 2: ("preconditions", "Preconditions"),
                      3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "str"),
                      5: ("dryRun", ("repeated", "str")),
                      6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool")},
    "Preconditions": {1: ("uid", "str"), 2: ("resourceVersion", "str")},
}
_CORE = {
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec"), 3: ("status", "NamespaceStatus")},
    "NamespaceSpec": {1: ("finalizers", ("repeated", "str"))},
    "NamespaceStatus": {1: ("phase", "str"), 2: ("conditions", ("repeated", "NamespaceCondition"))},
    "NamespaceCondition": {1: ("type", "str"), 2: ("status", "str"), 4: ("lastTransitionTime", "time"),
                           5: ("reason", "str"), 6: ("message", "str")},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", ("map", "str")), 3: ("binaryData", ("map", "bytes")),
                  4: ("immutable", "bool")},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", ("map", "bytes")), 3: ("type", "str"),
               4: ("stringData", ("map", "str")), 5: ("immutable", "bool")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 2: ("secrets", ("repeated", "ObjectReference")),
                       3: ("imagePullSecrets", ("repeated", "LocalObjectReference")),
                       4: ("automountServiceAccountToken", "bool")},
    "ObjectReference": {1: ("kind", "str"), 2: ("namespace", "str"), 3: ("name", "str"), 4: ("uid", "str"),
                        5: ("apiVersion", "str"), 6: ("resourceVersion", "str"), 7: ("fieldPath", "str")},
    "LocalObjectReference": {1: ("name", "str")},
}
OBJECT_KINDS = ("Namespace", "ConfigMap", "Secret", "ServiceAccount")
# message name -> {field number: (json name, type)}; types: str, bytes, int (a Go int, omitted from JSON when
# 0), optint (a Go *int, where 0 counts), bool (always a Go *bool here), time (metav1.Time), fields
# (metav1.FieldsV1: JSON in a bytes field), a message name, ("map", value type) for map<string, value>,
# ("repeated", element type). Go sends its non-pointer fields even when empty; their zero values are what
# JSON's omitempty leaves out, so decoding drops them the same way.
MESSAGES = dict(_META, **_CORE)
MESSAGES.update({kind + "List": {1: ("metadata", "ListMeta"), 2: ("items", ("repeated", kind))}
                 for kind in OBJECT_KINDS})
MESSAGES["Unknown"] = {1: ("typeMeta", "TypeMeta"), 2: ("raw", "raw"), 3: ("contentEncoding", "str"),
                       4: ("contentType", "str")}
MESSAGES["TypeMeta"] = {1: ("apiVersion", "str"), 2: ("kind", "str")}
BODY_KINDS = OBJECT_KINDS + ("DeleteOptions",)           # what a request body may carry
ANSWER_KINDS = OBJECT_KINDS + tuple(kind + "List" for kind in OBJECT_KINDS) + ("Status",)


class EncodeError(ValueError):
    """An object holds a field the codec has no number for: a gap of this server, never silently dropped."""


# ---- wire format --------------------------------------------------------------------------------------
def _varint(data, offset):
    result = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, offset
        shift += 7


def _fields(data):
    """Yield (field number, wire type, value) of a protobuf message."""
    offset = 0
    while offset < len(data):
        key, offset = _varint(data, offset)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, offset = _varint(data, offset)
        elif wire_type == 2:
            length, offset = _varint(data, offset)
            value, offset = data[offset:offset + length], offset + length
        elif wire_type == 1:
            value, offset = data[offset:offset + 8], offset + 8
        elif wire_type == 5:
            value, offset = data[offset:offset + 4], offset + 4
        else:
            raise errors.bad_request(f"unsupported protobuf wire type {wire_type}")
        yield number, wire_type, value


def _put_varint(value):
    value &= (1 << 64) - 1  # negative int32/int64 are sent as their 64-bit two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _put(number, payload):
    """A length-delimited field (wire type 2)."""
    return _put_varint(number << 3 | 2) + _put_varint(len(payload)) + payload


def _put_scalar(number, value):
    """A varint field (wire type 0)."""
    return _put_varint(number << 3) + _put_varint(int(value))


# ---- metav1.Time: whole seconds since the epoch <-> RFC 3339 -------------------------------------------
def _time_from_seconds(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds_of(text, path):
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        raise EncodeError(f"{path}: {text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


# ---- decode ---------------------------------------------------------------------------------------------
def _scalar(kind, value):
    if kind == "str":
        return value.decode()
    if kind in ("bytes", "raw"):
        return base64.b64encode(value).decode()  # JSON carries []byte as base64
    if kind in ("int", "optint"):
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if kind == "time":
        # An empty Time is the zero time, JSON null; Go sends whole seconds.
        seconds = dict((n, v) for n, _w, v in _fields(value)).get(1, 0)
        return _time_from_seconds(seconds) if value else None
    if kind == "fields":
        raw = dict((n, v) for n, _w, v in _fields(value)).get(1, b"")
        return json.loads(raw) if raw else {}
    return decode_message(kind, value)


def decode_message(name, data):
    schema = MESSAGES[name]
    result = {}
    for number, _wire_type, value in _fields(data):
        if number not in schema:
            continue  # a field no kind here carries (a newer client's addition)
        field, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            entry = {n: v for n, _w, v in _fields(value)}
            result.setdefault(field, {})[entry.get(1, b"").decode()] = _scalar(kind[1], entry.get(2, b""))
        elif isinstance(kind, tuple):
            result.setdefault(field, []).append(_scalar(kind[1], value))
        else:
            decoded = _scalar(kind, value)
            if decoded is None or decoded == "" or (kind == "int" and decoded == 0):
                continue  # Go's zero value, which its JSON omits
            result[field] = decoded
    return result


def decode_object(body):
    """A `k8s\\0`-prefixed protobuf request body -> the object as a JSON-ready dict."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("protobuf body without the k8s magic prefix")
    envelope = decode_message("Unknown", body[len(MAGIC):])
    type_meta = envelope.get("typeMeta") or {}
    kind = type_meta.get("kind")
    if kind not in BODY_KINDS:
        raise errors.unsupported_media_type([JSON, YAML])
    raw = base64.b64decode(envelope.get("raw", ""))
    obj = {"apiVersion": type_meta.get("apiVersion", "v1"), "kind": kind}
    obj.update(decode_message(kind, raw))
    return obj


# ---- encode ---------------------------------------------------------------------------------------------
def _encode_value(number, kind, value, path):
    if kind == "str":
        if not isinstance(value, str):
            raise EncodeError(f"{path}: {value!r} is not a string")
        return _put(number, value.encode())
    if kind == "bytes":
        try:
            return _put(number, base64.b64decode(value, validate=True))
        except (TypeError, ValueError):
            raise EncodeError(f"{path}: {value!r} is not base64") from None
    if kind in ("int", "optint", "bool"):
        if not isinstance(value, int):
            raise EncodeError(f"{path}: {value!r} is not a number")
        return _put_scalar(number, value)
    if kind == "time":
        return _put(number, _put_scalar(1, _seconds_of(value, path)))
    if kind == "fields":
        return _put(number, _put(1, json.dumps(value, separators=(",", ":"), sort_keys=True).encode()))
    if not isinstance(value, dict):
        raise EncodeError(f"{path}: {value!r} is not an object")
    return _put(number, encode_message(kind, value, path))


def encode_message(name, obj, path=""):
    """The message `name` of a JSON-shaped dict; raises EncodeError for a field it has no number for."""
    numbers = {field: (number, kind) for number, (field, kind) in MESSAGES[name].items()}
    unknown = sorted(set(obj) - set(numbers) - {"apiVersion", "kind"})
    if unknown:
        raise EncodeError(f"no protobuf field for {', '.join((path + '.' if path else '') + u for u in unknown)} "
                          f"in {name}")
    out = b""
    for field, value in sorted(obj.items(), key=lambda item: numbers.get(item[0], (0,))[0]):
        if field not in numbers or value is None:
            continue
        number, kind = numbers[field]
        where = f"{path}.{field}" if path else field
        if isinstance(kind, tuple) and kind[0] == "map":
            for key in sorted(value):
                entry = _put(1, key.encode()) + _encode_value(2, kind[1], value[key], f"{where}[{key}]")
                out += _put(number, entry)
        elif isinstance(kind, tuple):
            for index, item in enumerate(value):
                out += _encode_value(number, kind[1], item, f"{where}[{index}]")
        else:
            out += _encode_value(number, kind, value, where)
    return out


def encode_object(obj):
    """A JSON-shaped answer (an object of OBJECT_KINDS, its list, a Status) -> the `k8s\\0` protobuf body."""
    kind = obj.get("kind")
    if kind not in ANSWER_KINDS:
        raise EncodeError(f"no protobuf message for kind {kind}")
    type_meta = _put(1, str(obj.get("apiVersion", "v1")).encode()) + _put(2, kind.encode())
    envelope = _put(1, type_meta) + _put(2, encode_message(kind, obj)) + _put(3, b"") + _put(4, b"")
    return MAGIC + envelope


# ---- Accept negotiation (k8s.io/apiserver endpoints/handlers/negotiation) --------------------------------
def _clauses(header):
    """Accept clauses as (type, subtype, params) sorted by q, highest first (stable, like goautoneg)."""
    parsed = []
    for order, part in enumerate(p for p in header.split(",") if p.strip()):
        media, *raw_params = [piece.strip() for piece in part.split(";")]
        params = {}
        for raw in raw_params:
            key, _sep, value = raw.partition("=")
            params[key.strip().lower()] = value.strip()
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 0.0
        media_type, _slash, subtype = media.lower().partition("/")
        specificity = 0 if media_type == "*" else 1 if subtype == "*" else 2
        parsed.append((-quality, -specificity, order, media_type, subtype or "*", params))
    return [(media_type, subtype, params) for _q, _s, _o, media_type, subtype, params in sorted(parsed)]


def negotiate(accept, offered, streaming=False):
    """The media type of the answer: the first of the client's clauses (by q) that one of `offered` (the
    server's types in its order) matches; an empty Accept gets the first offered. Clauses that ask for a
    conversion (as=Table, as=PartialObjectMetadata) are not served here and match nothing; `stream=watch`
    only where a stream is served. 406 NotAcceptable (as kube-apiserver words it) when nothing matches."""
    if not (accept or "").strip():
        return offered[0]
    for media_type, subtype, params in _clauses(accept):
        if params.get("as") or params.get("g") or params.get("v") or params.get("sv"):
            continue
        if params.get("stream") and not streaming:
            continue
        for candidate in offered:
            candidate_type, candidate_subtype = candidate.split("/")
            if media_type == "*" or (media_type == candidate_type and subtype in ("*", candidate_subtype)):
                return candidate
    accepted = [media + ";stream=watch" for media in offered] if streaming else list(offered)
    raise errors.not_acceptable(accepted)


def offered_types(resource_type, streaming=False):
    """What this server can answer for a resource type, in kube-apiserver's order (JSON first)."""
    if streaming:
        return [JSON]
    if not resource_type.custom and resource_type.kind in OBJECT_KINDS:
        return [JSON, YAML, PROTOBUF]
    return [JSON, YAML]
