"""Version and OpenAPI documents: just enough for kubectl and the Python client to find their way.

kubectl 1.32 reads /openapi/v3 to learn whether the server does server-side field validation for a
type (a PATCH operation tagged with the GVK and a `fieldValidation` parameter). The documents carry no
component schemas, so kubectl computes strategic merge patches from its compiled-in types, as it does
for servers without OpenAPI.
"""
import hashlib
import json

VERSION_INFO = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean", "buildDate": "2025-04-22T16:02:27Z", "goVersion": "go1.23.6", "compiler": "gc",
    "platform": "linux/amd64",
}

_WRITE_PARAMETERS = [
    {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    for name in ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")
]


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _gv_path(group, version):
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def openapi_v3_group_version(registry, group, version):
    paths = {}
    for resource_type in registry.all_types():
        if (resource_type.group, resource_type.version) != (group, version):
            continue
        gvk = {"group": group, "version": version, "kind": resource_type.kind}
        prefix = "/" + _gv_path(group, version)
        if resource_type.namespaced:
            prefix += "/namespaces/{namespace}"
        item_path = f"{prefix}/{resource_type.plural}/{{name}}"
        operation = {
            "operationId": f"patch{resource_type.kind}",
            "parameters": list(_WRITE_PARAMETERS),
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
        }
        paths[item_path] = {"patch": operation}
        paths[f"{prefix}/{resource_type.plural}"] = {"post": dict(operation, **{
            "operationId": f"create{resource_type.kind}", "x-kubernetes-action": "post"})}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
            "paths": paths, "components": {"schemas": {}}}


def openapi_v3_root(registry):
    paths = {}
    for group, versions in registry.group_versions():
        for version in versions:
            document = json.dumps(openapi_v3_group_version(registry, group, version), sort_keys=True)
            digest = hashlib.sha512(document.encode()).hexdigest()[:128].upper()
            path = _gv_path(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def _protobuf_field(number, payload):
    """One length-delimited protobuf field (wire type 2); payloads here are all shorter than 128 bytes."""
    return bytes([number << 3 | 2, len(payload)]) + payload


def openapi_v2_protobuf():
    """A minimal OpenAPI v2 document in gnostic's protobuf encoding (what kubectl asks /openapi/v2 for).

    It holds no definitions: kubectl only falls back to it for client-side validation of kinds the v3
    documents do not cover (e.g. `kind: List`), and skips kinds it has no schema for."""
    info = _protobuf_field(1, b"Kubernetes") + _protobuf_field(2, VERSION_INFO["gitVersion"].encode())
    return (_protobuf_field(1, b"2.0") + _protobuf_field(2, info)
            + _protobuf_field(8, b"") + _protobuf_field(9, b""))
