"""Decoding of the Kubernetes protobuf encoding for the few kinds kubectl's typed commands send.

kubectl 1.32 sends `kubectl create namespace|configmap|secret|serviceaccount` bodies as
`application/vnd.kubernetes.protobuf` (a `k8s\\0` magic prefix, then a runtime.Unknown envelope around the
object's message). Field numbers are those of k8s.io/api's generated.proto. Other kinds are refused with 415,
which is what a server without a protobuf codec for them would answer.
"""
import base64

from . import errors

MAGIC = b"k8s\x00"

# message name -> {field number: (json name, type)}; types: str, bytes, int, bool, a message name,
# ("map", value type) for map<string, value>, ("repeated", element type).
MESSAGES = {
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "bytes"), 3: ("contentEncoding", "str"),
                4: ("contentType", "str")},
    "TypeMeta": {1: ("apiVersion", "str"), 2: ("kind", "str")},
    "ObjectMeta": {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"), 5: ("uid", "str"),
                   6: ("resourceVersion", "str"), 7: ("generation", "int"), 11: ("labels", ("map", "str")),
                   12: ("annotations", ("map", "str")), 13: ("ownerReferences", ("repeated", "OwnerReference")),
                   14: ("finalizers", ("repeated", "str"))},
    "OwnerReference": {1: ("kind", "str"), 3: ("name", "str"), 4: ("uid", "str"), 5: ("apiVersion", "str"),
                       6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", ("repeated", "str"))},
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
SUPPORTED_KINDS = ("Namespace", "ConfigMap", "Secret", "ServiceAccount")


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


def _scalar(kind, value):
    if kind == "str":
        return value.decode()
    if kind == "bytes":
        return base64.b64encode(value).decode()  # JSON carries []byte as base64
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    return decode_message(kind, value)


def decode_message(name, data):
    schema = MESSAGES[name]
    result = {}
    for number, _wire_type, value in _fields(data):
        if number not in schema:
            continue  # a field our clients never set (timestamps, status, ...)
        field, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            entry = {n: v for n, _w, v in _fields(value)}
            result.setdefault(field, {})[entry.get(1, b"").decode()] = _scalar(kind[1], entry.get(2, b""))
        elif isinstance(kind, tuple):
            result.setdefault(field, []).append(_scalar(kind[1], value))
        else:
            result[field] = _scalar(kind, value)
    return result


def decode_object(body):
    """A `k8s\\0`-prefixed protobuf body -> the object as JSON-ready dict."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("protobuf body without the k8s magic prefix")
    envelope = decode_message("Unknown", body[len(MAGIC):])
    type_meta = envelope.get("typeMeta") or {}
    kind = type_meta.get("kind")
    if kind not in SUPPORTED_KINDS:
        raise errors.unsupported_media_type(["application/json", "application/yaml"])
    raw = base64.b64decode(envelope.get("raw", ""))
    obj = {"apiVersion": type_meta.get("apiVersion", "v1"), "kind": kind}
    obj.update(decode_message(kind, raw))
    return obj
