"""The verbs of the Kubernetes API (get/list/create/update/patch/delete) over the object store.

Everything here is transport-free: the HTTP handler parses requests and calls these methods. Every
read-modify-write runs under the store lock so concurrent clients see atomic updates.
"""
import copy
import json
from dataclasses import dataclass, field

import yaml

from . import errors
from .admission import apply_builtin_defaults
from .crd import crd_status, default_crd, validate_crd
from .managedfields import (apply_conflicts, dropped_paths, fields_v1, owned_view, record_managed_fields,
                            remove_path)
from .objectmeta import generated_name, metadata_causes, new_uid, now_timestamp, validate_name
from .patch import json_patch, merge_patch, strategic_merge
from .registry import ResourceRegistry
from .resources import unknown_builtin_fields
from .scale import scale_view, with_replicas
from .schema import CustomResourceSchemas
from .selectors import ObjectFilter
from .store import ObjectStore

NAMESPACES = ("", "namespaces")
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# Server-owned metadata a client cannot set or change through an update.
_SERVER_METADATA = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                    "generation", "selfLink")
# Types whose DELETE answers with the deleted object rather than a Status (registry ReturnDeletedObject).
_RETURNS_DELETED_OBJECT = {("", "pods"), ("", "namespaces"), CRDS}
# Status is kept on create for these (kubelet/controllers register objects with status already set).
_KEEPS_STATUS_ON_CREATE = {("", "nodes")}


def _spec_part(obj):
    """What metadata.generation tracks: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _without_volatile(obj):
    """The object minus what changes on every write (rv, managedFields times), to detect no-op updates."""
    stripped = copy.deepcopy(obj)
    stripped["metadata"].pop("resourceVersion", None)
    for entry in stripped["metadata"].get("managedFields") or []:
        entry.pop("time", None)
    stripped.pop("apiVersion", None)
    return stripped


@dataclass
class WriteOptions:
    """Per-request write parameters (query string of create/update/patch)."""
    dry_run: bool = False
    manager: str = "unknown"
    manager_given: bool = False      # fieldManager was in the query (apply requires it)
    field_validation: str = "Warn"   # Strict | Warn | Ignore; Warn is the server default since 1.27
    force: bool = False
    warnings: list = field(default_factory=list)  # filled with warnings for the Warning header


class KubeAPI:
    def __init__(self):
        self.registry = ResourceRegistry()
        self.store = ObjectStore()
        self.schemas = CustomResourceSchemas()

    # ---- reads -----------------------------------------------------------------------------------
    def _present(self, resource_type, obj):
        """Serve a stored object at the requested version (no conversion: versions share a schema)."""
        obj["apiVersion"] = resource_type.group_version
        obj["kind"] = resource_type.kind
        return obj

    def _load(self, resource_type, namespace, name):
        obj = self.store.get(resource_type.key, namespace if resource_type.namespaced else "", name)
        if obj is None:
            raise errors.not_found(resource_type.plural, name, resource_type.group)
        return obj

    def get(self, resource_type, namespace, name):
        return self._present(resource_type, self._load(resource_type, namespace, name))

    def list(self, resource_type, namespace=None, label_selector="", field_selector=""):
        selector = ObjectFilter(namespace if resource_type.namespaced else None, label_selector, field_selector)
        items, revision = self.store.list(resource_type.key, selector.matches)
        return {
            "kind": resource_type.kind + "List",
            "apiVersion": resource_type.group_version,
            "metadata": {"resourceVersion": str(revision)},
            "items": [self._present(resource_type, item) for item in items],
        }

    # ---- create ----------------------------------------------------------------------------------
    def _check_identity(self, resource_type, obj, namespace):
        if not isinstance(obj, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if kind and kind != resource_type.kind:
            raise errors.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({resource_type.kind})")
        if api_version and api_version != resource_type.group_version:
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match the "
                                     f"expected API version ({resource_type.group_version})")
        metadata = obj.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise errors.bad_request("metadata must be an object")
        if resource_type.namespaced:
            if metadata.get("namespace") and namespace and metadata["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            metadata["namespace"] = namespace or metadata.get("namespace")
        else:
            metadata.pop("namespace", None)
        obj["apiVersion"] = resource_type.group_version
        obj["kind"] = resource_type.kind

    def _require_namespace(self, resource_type, namespace, name):
        """Namespaced objects are created only in existing namespaces that are not terminating."""
        if not resource_type.namespaced:
            return
        ns = self.store.get(NAMESPACES, "", namespace)
        if ns is None:
            raise errors.not_found("namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(
                403, "Forbidden", f'{resource_type.plural} "{name}" is forbidden: unable to create new content in '
                                  f'namespace {namespace} because it is being terminated',
                {"name": name, "kind": resource_type.plural,
                 "causes": [{"reason": "NamespaceTerminating", "message": f"namespace {namespace} is being terminated",
                             "field": "metadata.namespace"}]})

    def _admit(self, resource_type, obj, old, options):
        """Type-specific defaulting and validation, shared by create and every kind of update."""
        causes = metadata_causes(obj)
        if causes:
            raise errors.invalid(resource_type.kind, resource_type.group, obj["metadata"]["name"], causes)
        if resource_type.key == CRDS:
            default_crd(obj)
            validate_crd(obj)
            conflict = self.registry.name_conflict(obj)
            if conflict is not None:
                raise errors.invalid("CustomResourceDefinition", "apiextensions.k8s.io", obj["metadata"]["name"], [{
                    "reason": "FieldValueInvalid", "field": "spec.names.plural",
                    "message": f'Invalid value: "{conflict.plural}": already in use'}])
            obj["status"] = crd_status(obj, (old or {}).get("status"))
        elif resource_type.custom:
            self.schemas.admit(resource_type, obj, options.field_validation, options.warnings)
        else:
            self._check_builtin_fields(resource_type, obj, options)
            apply_builtin_defaults(resource_type, obj, old)

    @staticmethod
    def _check_builtin_fields(resource_type, obj, options):
        """fieldValidation for built-in kinds: Strict refuses unknown fields, Warn drops them with a warning."""
        unknown = unknown_builtin_fields(resource_type.kind, obj)
        if not unknown or options.field_validation == "Ignore":
            for path in unknown:
                remove_path(obj, tuple(path.split(".")))
            return
        messages = [f'unknown field "{path}"' for path in unknown]
        if options.field_validation == "Strict":
            raise errors.bad_request(f"{resource_type.kind} in version \"{resource_type.version}\" cannot be "
                                     f"handled as a {resource_type.kind}: strict decoding error: "
                                     + ", ".join(messages))
        options.warnings.extend(messages)
        for path in unknown:
            remove_path(obj, tuple(path.split(".")))

    def create(self, resource_type, namespace, body, options=None, applied=None):
        options = options or WriteOptions()
        obj = copy.deepcopy(body)
        self._check_identity(resource_type, obj, namespace)
        metadata = obj["metadata"]
        namespace = metadata.get("namespace") or ""
        if not metadata.get("name"):
            if not metadata.get("generateName"):
                raise errors.invalid(resource_type.kind, resource_type.group, "", [{
                    "reason": "FieldValueRequired", "field": "metadata.name",
                    "message": "Required value: name or generateName is required"}])
            metadata["name"] = generated_name(metadata["generateName"])
        name = metadata["name"]
        validate_name(resource_type, name)
        with self.store.lock:
            self._require_namespace(resource_type, namespace, name)
            if self.store.get(resource_type.key, namespace, name) is not None:
                raise errors.already_exists(resource_type.plural, name, resource_type.group)
            for field in _SERVER_METADATA + ("resourceVersion", "managedFields"):
                metadata.pop(field, None)
            metadata["uid"] = new_uid()
            metadata["creationTimestamp"] = now_timestamp()
            if resource_type.has_generation:
                metadata["generation"] = 1
            if resource_type.has_status and resource_type.key not in _KEEPS_STATUS_ON_CREATE:
                obj.pop("status", None)
            self._admit(resource_type, obj, None, options)
            record_managed_fields(obj, None, options.manager, resource_type.group_version, applied, requested=body,
                                  keyed=not resource_type.custom)
            if options.dry_run:
                return self._present(resource_type, obj)
            stored = self.store.write(resource_type.key, obj)
            self._after_write(resource_type, stored)
            return self._present(resource_type, stored)

    # ---- update ----------------------------------------------------------------------------------
    def _commit_update(self, resource_type, old, new, dry_run, subresource=""):
        """Finish an update: generation, no-op detection, finalizer-driven removal, storage."""
        if resource_type.has_generation and subresource != "status":
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + (
                1 if _spec_part(new) != _spec_part(old) else 0)
        if _without_volatile(new) == _without_volatile(old):
            return self._present(resource_type, old)  # nothing changed: no write, no event, same rv
        if dry_run:
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            return self._present(resource_type, new)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            stored = self.store.write(resource_type.key, new)
            removed = self.store.remove(resource_type.key, new["metadata"].get("namespace"),
                                        new["metadata"]["name"])
            self._after_delete(resource_type, removed, "Background")
            return self._present(resource_type, removed or stored)
        stored = self.store.write(resource_type.key, new)
        self._after_write(resource_type, stored)
        return self._present(resource_type, stored)

    def _merge_server_fields(self, resource_type, old, new, subresource):
        """Carry over what a client cannot change through this endpoint."""
        metadata = new.setdefault("metadata", {})
        for field in _SERVER_METADATA + ("name", "namespace"):
            if field in old["metadata"]:
                metadata[field] = old["metadata"][field]
            else:
                metadata.pop(field, None)
        if old["metadata"].get("deletionTimestamp") and subresource != "status":
            # Once deleting, finalizers can only be removed, never added.
            metadata["finalizers"] = [f for f in metadata.get("finalizers") or []
                                      if f in old["metadata"].get("finalizers", [])]
        if subresource == "status":
            status = new.get("status")
            new = copy.deepcopy(old)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        elif resource_type.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        return new

    def _update(self, resource_type, namespace, name, body, subresource, options, old=None, applied=None,
                taken=()):
        obj = copy.deepcopy(body)
        self._check_identity(resource_type, obj, namespace)
        if obj["metadata"].get("name") and obj["metadata"]["name"] != name:
            raise errors.bad_request(f"the name of the object ({obj['metadata']['name']}) does not match the "
                                     f"name on the URL ({name})")
        with self.store.lock:
            if old is None:
                old = self._load(resource_type, namespace, name)
            requested_version = obj["metadata"].get("resourceVersion")
            if requested_version and requested_version != old["metadata"]["resourceVersion"]:
                raise errors.conflict(resource_type.plural, name, resource_type.group)
            new = self._merge_server_fields(resource_type, old, obj, subresource)
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            if subresource == "status":
                if resource_type.custom:  # status is validated against the schema too
                    self.schemas.admit(resource_type, new, options.field_validation, options.warnings)
            else:
                self._admit(resource_type, new, old, options)
            record_managed_fields(new, old, options.manager, resource_type.group_version, applied, subresource, taken,
                                  keyed=not resource_type.custom)
            return self._commit_update(resource_type, old, new, options.dry_run, subresource)

    def replace(self, resource_type, namespace, name, body, subresource="", options=None):
        return self._update(resource_type, namespace, name, body, subresource, options or WriteOptions())

    # ---- patch -----------------------------------------------------------------------------------
    def patch(self, resource_type, namespace, name, content_type, raw_body, subresource="", options=None):
        options = options or WriteOptions()
        content_type = (content_type or "").split(";")[0].strip()
        if content_type == APPLY_PATCH:
            return self._apply(resource_type, namespace, name, raw_body, subresource, options)
        accepted = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH] + ([] if resource_type.custom else [STRATEGIC_PATCH])
        if content_type not in accepted:
            raise errors.unsupported_media_type(accepted)
        patch_doc = _decode_json(raw_body)
        with self.store.lock:
            old = self._load(resource_type, namespace, name)
            current = self._present(resource_type, copy.deepcopy(old))
            if content_type == JSON_PATCH:
                patched = json_patch(current, patch_doc)
            elif content_type == MERGE_PATCH:
                patched = merge_patch(current, _require_object(patch_doc))
            else:
                patched = strategic_merge(current, _require_object(patch_doc))
            if not isinstance(patched, dict):
                raise errors.bad_request("the patched object is not a JSON object")
            return self._update(resource_type, namespace, name, patched, subresource, options, old=old)

    def _apply(self, resource_type, namespace, name, raw_body, subresource, options):
        """Server-side apply: create if missing, else merge the applied configuration into the live object
        and drop fields this manager applied before but no longer does."""
        try:
            applied = yaml.safe_load(raw_body.decode() if isinstance(raw_body, bytes) else raw_body)
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error decoding YAML: {exc}")
        applied = _require_object(applied)
        if not applied.get("apiVersion") or not applied.get("kind"):
            raise errors.bad_request("apiVersion and kind are required in an apply patch")
        if (applied.get("metadata") or {}).get("name") not in (None, name):
            raise errors.bad_request("the name of the object does not match the name on the URL")
        manager = options.manager
        if not options.manager_given:
            raise errors.bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set")
        applied.setdefault("metadata", {})["name"] = name
        with self.store.lock:
            old = self.store.get(resource_type.key, namespace if resource_type.namespaced else "", name)
            if old is None:
                if subresource:
                    raise errors.not_found(resource_type.plural, name, resource_type.group)
                return self.create(resource_type, namespace, applied, options, applied=applied)
            current = self._present(resource_type, copy.deepcopy(old))
            conflicts = apply_conflicts(current, applied, manager, keyed=not resource_type.custom)
            if conflicts and not options.force:
                raise errors.apply_conflict(conflicts)
            if resource_type.custom:
                merged = merge_patch(current, applied)
            else:
                merged = strategic_merge(current, applied)
            previous = next((e for e in old["metadata"].get("managedFields") or []
                             if e.get("manager") == manager and e.get("operation") == "Apply"), None)
            if previous is not None:
                applied_fields = fields_v1(owned_view(applied), keyed=not resource_type.custom)
                for path in dropped_paths(previous.get("fieldsV1"), applied_fields):
                    remove_path(merged, path)
            merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            return self._update(resource_type, namespace, name, merged, subresource, options, old=old,
                                applied=applied, taken={path for _m, _v, path in conflicts})

    # ---- /scale ----------------------------------------------------------------------------------
    def get_scale(self, resource_type, namespace, name):
        return scale_view(resource_type, self._load(resource_type, namespace, name))

    def replace_scale(self, resource_type, namespace, name, scale, options=None):
        options = options or WriteOptions()
        if not isinstance(scale, dict):
            raise errors.bad_request("the body of the request must be a Scale object")
        with self.store.lock:
            old = self._load(resource_type, namespace, name)
            requested_version = (scale.get("metadata") or {}).get("resourceVersion")
            if requested_version and requested_version != old["metadata"]["resourceVersion"]:
                raise errors.conflict(resource_type.plural, name, resource_type.group)
            scaled = with_replicas(resource_type, self._present(resource_type, copy.deepcopy(old)), scale)
            return scale_view(resource_type, self._update(resource_type, namespace, name, scaled, "", options,
                                                          old=old))

    def patch_scale(self, resource_type, namespace, name, content_type, raw_body, options=None):
        content_type = (content_type or "").split(";")[0].strip()
        if content_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH):
            raise errors.unsupported_media_type([JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH])
        patch_doc = _decode_json(raw_body)
        with self.store.lock:
            current = self.get_scale(resource_type, namespace, name)
            if content_type == JSON_PATCH:
                patched = json_patch(current, patch_doc)
            elif content_type == MERGE_PATCH:
                patched = merge_patch(current, _require_object(patch_doc))
            else:
                patched = strategic_merge(current, _require_object(patch_doc))
            return self.replace_scale(resource_type, namespace, name, patched, options)

    # ---- delete ----------------------------------------------------------------------------------
    def delete(self, resource_type, namespace, name, options=None, dry_run=False):
        options = options or {}
        policy = options.get("propagationPolicy") or ("Orphan" if options.get("orphanDependents") else "Background")
        with self.store.lock:
            old = self._load(resource_type, namespace, name)
            preconditions = options.get("preconditions") or {}
            if preconditions.get("uid") and preconditions["uid"] != old["metadata"]["uid"]:
                raise errors.conflict(resource_type.plural, name, resource_type.group)
            if preconditions.get("resourceVersion") and \
                    preconditions["resourceVersion"] != old["metadata"]["resourceVersion"]:
                raise errors.conflict(resource_type.plural, name, resource_type.group)
            if dry_run:
                return self._deleted_response(resource_type, old)
            if old["metadata"].get("finalizers") or resource_type.key == NAMESPACES:
                # Deletion waits for finalizers: mark it and let their owners remove them.
                if not old["metadata"].get("deletionTimestamp"):
                    old["metadata"]["deletionTimestamp"] = now_timestamp()
                    old["metadata"]["deletionGracePeriodSeconds"] = 0
                    if resource_type.key == NAMESPACES:
                        old.setdefault("status", {})["phase"] = "Terminating"
                    old = self.store.write(resource_type.key, old)
                if resource_type.key == NAMESPACES:
                    self._empty_namespace(name)
                    final = self._finish_namespace(name)
                    return self._deleted_response(resource_type, final or old)
                return self._present(resource_type, old)
            removed = self.store.remove(resource_type.key, old["metadata"].get("namespace"), name)
            self._after_delete(resource_type, removed, policy)
            return self._deleted_response(resource_type, removed)

    def _deleted_response(self, resource_type, obj):
        if resource_type.custom or resource_type.key in _RETURNS_DELETED_OBJECT:
            return self._present(resource_type, obj)
        details = {"name": obj["metadata"]["name"], "kind": resource_type.plural, "uid": obj["metadata"]["uid"]}
        if resource_type.group:
            details["group"] = resource_type.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def delete_collection(self, resource_type, namespace, label_selector="", field_selector="", options=None,
                          dry_run=False):
        listing = self.list(resource_type, namespace, label_selector, field_selector)
        for item in listing["items"]:
            try:
                self.delete(resource_type, item["metadata"].get("namespace"), item["metadata"]["name"], options,
                            dry_run)
            except errors.ApiError as exc:
                if exc.code != 404:
                    raise
        return listing

    # ---- side effects: CRD registration, garbage collection, namespaces -----------------------------
    def _after_write(self, resource_type, stored):
        if resource_type.key == CRDS:
            self.registry.register_crd(stored)

    def _after_delete(self, resource_type, removed, policy):
        if removed is None:
            return
        if resource_type.key == CRDS:
            for served in self.registry.unregister_crd(removed["metadata"]["name"]):
                self.store.drop_type(served.key)
            self.schemas.forget(removed["spec"]["group"], removed["spec"]["names"]["plural"])
        self._collect_dependents(removed["metadata"]["uid"], policy)
        namespace = removed["metadata"].get("namespace")
        if namespace:
            self._finish_namespace(namespace)

    def _type_for_key(self, type_key):
        versions = self.registry.versions_of(*type_key)
        return versions[0] if versions else None

    def _collect_dependents(self, owner_uid, policy):
        """The garbage collector: dependents whose owners are all gone are deleted (cascading); with
        Orphan, or while another owner lives, only the reference to the deleted owner is removed."""
        def depends_on_owner(obj):
            return any(ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences") or [])

        for type_key, snapshot in self.store.find(depends_on_owner):
            resource_type = self._type_for_key(type_key)
            # Re-read: collecting an earlier dependent may already have deleted or changed this one.
            obj = self.store.get(type_key, snapshot["metadata"].get("namespace"), snapshot["metadata"]["name"])
            if resource_type is None or obj is None or obj["metadata"]["uid"] != snapshot["metadata"]["uid"]:
                continue
            references = obj["metadata"].get("ownerReferences") or []
            remaining = [ref for ref in references if ref.get("uid") != owner_uid]
            remaining_uids = {ref.get("uid") for ref in remaining}
            owner_alive = remaining_uids and self.store.find(lambda o: o["metadata"].get("uid") in remaining_uids)
            if policy == "Orphan" or owner_alive:
                obj["metadata"]["ownerReferences"] = remaining
                if not remaining:
                    del obj["metadata"]["ownerReferences"]
                self.store.write(type_key, obj)
                continue
            try:
                self.delete(resource_type, obj["metadata"].get("namespace"), obj["metadata"]["name"],
                            {"propagationPolicy": "Background"})
            except errors.ApiError as exc:
                if exc.code != 404:  # already gone through another owner chain
                    raise

    def _empty_namespace(self, namespace):
        for type_key, obj in self.store.find(lambda o: o["metadata"].get("namespace") == namespace):
            resource_type = self._type_for_key(type_key)
            if resource_type is None:
                continue
            try:
                self.delete(resource_type, namespace, obj["metadata"]["name"])
            except errors.ApiError as exc:
                if exc.code != 404:
                    raise

    def _finish_namespace(self, namespace):
        """Remove a terminating namespace once nothing is left in it; returns the removed namespace."""
        ns = self.store.get(NAMESPACES, "", namespace)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        if self.store.find(lambda o: o["metadata"].get("namespace") == namespace):
            return None
        return self.store.remove(NAMESPACES, "", namespace)


def _decode_json(raw_body):
    try:
        return json.loads(raw_body or b"null")
    except ValueError as exc:
        raise errors.bad_request(f"error decoding patch: {exc}")


def _require_object(doc):
    if not isinstance(doc, dict):
        raise errors.bad_request("the patch must be a JSON object")
    return doc
