"""Kubernetes `Status` error bodies, shaped like kube-apiserver's (clients parse reason/code/details)."""


class ApiError(Exception):
    """An error the HTTP layer turns into a `Status` response with the same code."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self):
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code  # kube-apiserver puts code last
        return body


def _qualified(resource, group):
    # kube-apiserver names the resource as "<plural>" for core and "<plural>.<group>" otherwise.
    return f"{resource}.{group}" if group else resource


def _details(name, resource, group):
    details = {"name": name, "kind": resource} if name is not None else {"kind": resource}
    if group:
        details["group"] = group
    return details


def not_found(resource, name, group=""):
    return ApiError(404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
                    _details(name, resource, group))


def already_exists(resource, name, group=""):
    return ApiError(409, "AlreadyExists", f'{_qualified(resource, group)} "{name}" already exists',
                    _details(name, resource, group))


def conflict(resource, name, group=""):
    return ApiError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(name, resource, group))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def method_not_allowed(message="the server does not allow this method on the requested resource"):
    return ApiError(405, "MethodNotAllowed", message, {})


def unsupported_media_type(accepted):
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(accepted), {})


def gone(message):
    return ApiError(410, "Expired", message)


def invalid(kind, group, name, causes):
    """422 Invalid: `causes` is a list of {"reason", "message", "field"} like field.ErrorList."""
    qualified_kind = f"{kind}.{group}" if group else kind
    summary = ", ".join(f'{c["field"]}: {c["message"]}' if c.get("field") else c["message"]
                        for c in causes)
    if len(causes) > 1:
        summary = "[" + summary + "]"
    details = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {summary}', details)


def apply_conflict(conflicts):
    """409 for a server-side apply that would take fields other managers own (structured-merge-diff wording).

    `conflicts` is [(manager, apiVersion, path tuple)]."""
    causes = []
    by_manager = {}
    for manager, api_version, path in conflicts:
        field = "".join(f".{part}" for part in path)
        label = f'"{manager}" using {api_version}'
        by_manager.setdefault(label, []).append(field)
        causes.append({"reason": "FieldManagerConflict", "message": f"conflict with {label}", "field": field})
    count = len(conflicts)
    if count == 1:
        label, fields = next(iter(by_manager.items()))  # one conflict, so one manager
        summary = f"conflict with {label}: {fields[0]}"
    else:
        summary = "\n".join(f"conflicts with {label}:\n" + "\n".join(f"- {f}" for f in fields)
                            for label, fields in by_manager.items())
    return ApiError(409, "Conflict", f"Apply failed with {count} conflict{'s' if count > 1 else ''}: {summary}",
                    {"causes": causes})


def not_acceptable(accepted):
    """406 when no media type of the Accept header can be served (negotiation.NewNotAcceptableError)."""
    return ApiError(406, "NotAcceptable", "only the following media types are accepted: " + ", ".join(accepted))
