"""CustomResourceDefinition defaulting, validation and status, as apiextensions-apiserver does them."""
from .errors import invalid
from .objectmeta import now_timestamp

_KIND = "CustomResourceDefinition"
_GROUP = "apiextensions.k8s.io"


def default_crd(crd):
    spec = crd.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    spec.setdefault("conversion", {"strategy": "None"})
    spec.setdefault("scope", "Namespaced")
    for version in spec.get("versions") or []:
        version.setdefault("served", True)


def validate_crd(crd):
    name = crd["metadata"]["name"]
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    causes = []

    def require(value, field):
        if not value:
            causes.append({"reason": "FieldValueRequired", "field": field, "message": "Required value"})

    require(spec.get("group"), "spec.group")
    require(names.get("plural"), "spec.names.plural")
    require(names.get("kind"), "spec.names.kind")
    require(spec.get("versions"), "spec.versions")
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append({"reason": "FieldValueNotSupported", "field": "spec.scope",
                       "message": f'Unsupported value: "{spec.get("scope")}": supported values: '
                                  '"Cluster", "Namespaced"'})
    if spec.get("group") and names.get("plural") and name != f'{names["plural"]}.{spec["group"]}':
        causes.append({"reason": "FieldValueInvalid", "field": "metadata.name",
                       "message": f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group'})
    versions = spec.get("versions") or []
    if versions and sum(1 for v in versions if v.get("storage")) != 1:
        causes.append({"reason": "FieldValueInvalid", "field": "spec.versions",
                       "message": "Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: "
                                  "must have exactly one version marked as storage version"})
    if causes:
        raise invalid(_KIND, _GROUP, name, causes)


def crd_status(crd, previous_status=None):
    """Status of an accepted, established CRD (the real controllers set this within milliseconds)."""
    now = now_timestamp()
    spec = crd["spec"]
    stored = list((previous_status or {}).get("storedVersions") or [])
    for version in spec["versions"]:
        if version.get("storage") and version["name"] not in stored:
            stored.append(version["name"])
    condition = {"status": "True", "lastTransitionTime": now}
    return {
        "acceptedNames": dict(spec["names"]),
        "conditions": [
            dict(condition, type="NamesAccepted", reason="NoConflicts", message="no conflicts found"),
            dict(condition, type="Established", reason="InitialNamesAccepted",
                 message="the initial names have been accepted"),
        ],
        "storedVersions": stored,
    }
