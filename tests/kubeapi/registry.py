"""Which resource types are served, and the discovery documents describing them."""
import copy
import threading

from .resources import BUILTIN_TYPES, ResourceType

# The order kube-apiserver lists its built-in groups in (APIGroupList is ordered by priority).
_BUILTIN_GROUP_ORDER = ["", "apps", "batch", "autoscaling", "networking.k8s.io", "policy",
                        "rbac.authorization.k8s.io", "storage.k8s.io", "coordination.k8s.io",
                        "apiextensions.k8s.io"]


class ResourceRegistry:
    def __init__(self):
        self._lock = threading.RLock()
        self._types = []                 # ResourceType, one per served group/version/plural
        self._crd_versions = {}          # CRD name -> list of ResourceType it registered
        self._preferred = {}             # group -> preferred (storage) version for CRD groups
        for resource_type in BUILTIN_TYPES:
            self._types.append(copy.deepcopy(resource_type))

    # ---- lookups -------------------------------------------------------------------------------
    def find(self, group, version, plural):
        with self._lock:
            for resource_type in self._types:
                if (resource_type.group, resource_type.version, resource_type.plural) == (group, version, plural):
                    return resource_type
            return None

    def find_kind(self, group, version, kind):
        with self._lock:
            for resource_type in self._types:
                if (resource_type.group, resource_type.version, resource_type.kind) == (group, version, kind):
                    return resource_type
            return None

    def versions_of(self, group, plural):
        with self._lock:
            return [t for t in self._types if t.group == group and t.plural == plural]

    def all_types(self):
        with self._lock:
            return list(self._types)

    def group_versions(self):
        """[(group, [versions...])] in discovery order; the first version is the preferred one."""
        with self._lock:
            groups = {}
            for resource_type in self._types:
                versions = groups.setdefault(resource_type.group, [])
                if resource_type.version not in versions:
                    versions.append(resource_type.version)
            ordered = [g for g in _BUILTIN_GROUP_ORDER if g in groups]
            ordered += sorted(g for g in groups if g not in _BUILTIN_GROUP_ORDER)
            result = []
            for group in ordered:
                versions = groups[group]
                preferred = self._preferred.get(group)
                if preferred in versions:
                    versions = [preferred] + [v for v in versions if v != preferred]
                result.append((group, versions))
            return result

    # ---- CRD registration ------------------------------------------------------------------------
    def register_crd(self, crd):
        """Serve the types a (defaulted, valid) CustomResourceDefinition declares; replaces older ones."""
        spec = crd["spec"]
        names = spec["names"]
        new_types = []
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            subresources = version.get("subresources") or spec.get("subresources") or {}
            schema = (version.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema")
            new_types.append(ResourceType(
                group=spec["group"], version=version["name"], plural=names["plural"], kind=names["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                singular=names.get("singular") or names["kind"].lower(),
                short_names=list(names.get("shortNames") or []), has_status="status" in subresources,
                categories=list(names.get("categories") or []), custom=True, schema=schema,
                has_generation=True, scale=subresources.get("scale")))
        storage = next((v["name"] for v in spec["versions"] if v.get("storage")), None)
        with self._lock:
            self.unregister_crd(crd["metadata"]["name"])
            self._types.extend(new_types)
            self._crd_versions[crd["metadata"]["name"]] = new_types
            if storage:
                self._preferred[spec["group"]] = storage
        return new_types

    def unregister_crd(self, crd_name):
        with self._lock:
            removed = self._crd_versions.pop(crd_name, [])
            self._types = [t for t in self._types if not any(t is r for r in removed)]
            return removed

    def name_conflict(self, crd):
        """A served type already using this CRD's plural or kind in its group (not from the same CRD)."""
        spec = crd["spec"]
        with self._lock:
            own = self._crd_versions.get(crd["metadata"]["name"], [])
            for resource_type in self._types:
                if any(resource_type is o for o in own) or resource_type.group != spec["group"]:
                    continue
                if resource_type.plural == spec["names"]["plural"] or resource_type.kind == spec["names"]["kind"]:
                    return resource_type
            return None

    # ---- discovery documents ----------------------------------------------------------------------
    def api_resource_list(self, group, version):
        with self._lock:
            types = [t for t in self._types if t.group == group and t.version == version]
        if not types:
            return None
        resources = []
        for resource_type in types:
            entry = {
                "name": resource_type.plural,
                "singularName": resource_type.singular,
                "namespaced": resource_type.namespaced,
                "kind": resource_type.kind,
                "verbs": list(resource_type.verbs),
            }
            if resource_type.short_names:
                entry["shortNames"] = list(resource_type.short_names)
            if resource_type.categories:
                entry["categories"] = list(resource_type.categories)
            resources.append(entry)
            if resource_type.has_status:
                resources.append({"name": f"{resource_type.plural}/status", "singularName": "",
                                  "namespaced": resource_type.namespaced, "kind": resource_type.kind,
                                  "verbs": ["get", "patch", "update"]})
            if resource_type.scale:
                resources.append({"name": f"{resource_type.plural}/scale", "singularName": "",
                                  "namespaced": resource_type.namespaced, "group": "autoscaling",
                                  "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
        group_version = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                "resources": resources}

    def api_group(self, group):
        for name, versions in self.group_versions():
            if name == group and group:
                entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
                return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries,
                        "preferredVersion": entries[0]}
        return None

    def api_group_list(self):
        groups = []
        for name, _versions in self.group_versions():
            if name:
                group = self.api_group(name)
                del group["kind"], group["apiVersion"]
                groups.append(group)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
