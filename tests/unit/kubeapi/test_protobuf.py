"""The test server's protobuf codec (answers and DeleteOptions bodies) and its Accept negotiation.

What real Go clients make of these bytes is pinned in tests/integration/test_helm_driver.py (helm reads its
release Secrets back from protobuf answers) and test_kubeapi_kubectl.py (kubectl create).
"""
import base64

import pytest

from tests.kubeapi import errors
from tests.kubeapi.protobuf import (JSON, MAGIC, PROTOBUF, YAML, EncodeError, decode_message, decode_object,
                                    encode_object, negotiate, offered_types)
from tests.kubeapi.resources import BUILTIN_TYPES

SECRET = {
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {
        "name": "sh.helm.release.v1.demo.v1", "namespace": "t", "uid": "0b5c", "resourceVersion": "1042",
        "creationTimestamp": "2026-12-02T04:25:00Z", "labels": {"owner": "helm", "name": "demo"},
        "annotations": {"a": ""}, "finalizers": ["x/y"],
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "9", "controller": False}],
        "managedFields": [{"manager": "helm", "operation": "Update", "apiVersion": "v1",
                           "time": "2026-12-02T04:25:00Z", "fieldsType": "FieldsV1",
                           "fieldsV1": {"f:data": {"f:release": {}}, "f:type": {}}}],
    },
    "data": {"release": base64.b64encode(b"\x1f\x8b gzip").decode(), "empty": ""},
    "type": "helm.sh/release.v1",
}


def _envelope(obj):
    body = encode_object(obj)
    assert body.startswith(MAGIC)
    envelope = decode_message("Unknown", body[len(MAGIC):])
    return envelope["typeMeta"], base64.b64decode(envelope["raw"])


def test_a_secret_survives_encode_and_decode_unchanged():
    type_meta, _raw = _envelope(SECRET)
    assert type_meta == {"apiVersion": "v1", "kind": "Secret"}
    assert decode_object(encode_object(SECRET)) == SECRET


def test_a_list_and_a_status_encode_with_their_kinds():
    listing = {"apiVersion": "v1", "kind": "SecretList", "metadata": {"resourceVersion": "7"},
               "items": [dict(SECRET, apiVersion=None, kind=None)]}
    type_meta, raw = _envelope(listing)
    assert type_meta["kind"] == "SecretList"
    decoded = decode_message("SecretList", raw)
    assert decoded["metadata"] == {"resourceVersion": "7"}
    assert decoded["items"][0]["metadata"]["managedFields"] == SECRET["metadata"]["managedFields"]
    status = errors.not_found("secrets", "nope").status()
    type_meta, raw = _envelope(status)
    assert type_meta == {"apiVersion": "v1", "kind": "Status"}
    assert dict(decode_message("Status", raw), apiVersion="v1", kind="Status") == status


def test_a_field_without_a_protobuf_number_is_an_error_not_a_silent_loss():
    with pytest.raises(EncodeError, match="metadata.clusterName"):
        encode_object(dict(SECRET, metadata=dict(SECRET["metadata"], clusterName="x")))
    with pytest.raises(EncodeError, match="no protobuf message for kind Deployment"):
        encode_object({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}})


def test_delete_options_body_from_helm_uninstall():
    # bytes helm 3.17 sent for `helm uninstall` (an empty DeleteOptions), then one with every field set
    assert decode_object(MAGIC + bytes.fromhex("0a130a027631120d44656c6574654f7074696f6e7312001a002200")) == {
        "apiVersion": "v1", "kind": "DeleteOptions"}
    raw = (b"\x08\x00" + b"\x12\x06\x0a\x01u\x12\x01r" + b"\x22\x0aBackground" + b"\x2a\x03All")
    body = MAGIC + b"\x0a\x13\x0a\x02v1\x12\x0dDeleteOptions" + b"\x12" + bytes([len(raw)]) + raw
    assert decode_object(body) == {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                                   "preconditions": {"uid": "u", "resourceVersion": "r"},
                                   "propagationPolicy": "Background", "dryRun": ["All"]}


def _type(kind):
    return next(t for t in BUILTIN_TYPES if t.kind == kind)


@pytest.mark.parametrize("accept, kind, expected", [
    ("application/vnd.kubernetes.protobuf,application/json", "Secret", PROTOBUF),   # client-go typed clients
    ("application/vnd.kubernetes.protobuf,application/json", "Deployment", JSON),  # no codec here: JSON
    ("application/json;q=0.5,application/vnd.kubernetes.protobuf", "Secret", PROTOBUF),
    ("", "Secret", JSON),
    ("*/*", "Secret", JSON),
    ("application/*", "ConfigMap", JSON),
    ("application/yaml", "ConfigMap", YAML),
    ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", "Secret", JSON),  # no Table here
    ("application/json; charset=utf-8", "Secret", JSON),
])
def test_accept_negotiation(accept, kind, expected):
    assert negotiate(accept, offered_types(_type(kind))) == expected


@pytest.mark.parametrize("accept, kind, accepted", [
    ("application/vnd.kubernetes.protobuf", "Deployment", "application/json, application/yaml"),
    ("text/html", "Secret", "application/json, application/yaml, application/vnd.kubernetes.protobuf"),
    ("application/json;as=Table;v=v1;g=meta.k8s.io", "Secret",
     "application/json, application/yaml, application/vnd.kubernetes.protobuf"),
])
def test_accept_that_cannot_be_served_is_406_as_kube_apiserver_words_it(accept, kind, accepted):
    with pytest.raises(errors.ApiError) as caught:
        negotiate(accept, offered_types(_type(kind)))
    assert caught.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "only the following media types are accepted: " + accepted, "reason": "NotAcceptable",
        "code": 406}


def test_watches_stream_json_only():
    secret = _type("Secret")
    assert negotiate("application/vnd.kubernetes.protobuf,application/json", offered_types(secret, True),
                     streaming=True) == JSON
    with pytest.raises(errors.ApiError) as caught:
        negotiate(PROTOBUF, offered_types(secret, True), streaming=True)
    assert caught.value.message == "only the following media types are accepted: application/json;stream=watch"
