"""ObjectMeta rules shared by every type: names, timestamps, uids, managedFields."""
import random
import re
import uuid
from datetime import datetime, timezone

from .errors import invalid

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# apiserver's names.SimpleNameGenerator alphabet (no vowels, no confusable digits).
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Types whose names must be DNS-1123 labels rather than subdomains.
_LABEL_NAMED = {("", "namespaces"), ("", "services")}


def now_timestamp():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid():
    return str(uuid.uuid4())


def generated_name(prefix):
    return prefix + "".join(random.choice(_GENERATE_ALPHABET) for _position in range(5))


def validate_name(resource_type, name):
    """422 for names the real server rejects (path-unsafe or not DNS-1123)."""
    kind, group = resource_type.kind, resource_type.group
    if resource_type.key in _LABEL_NAMED:
        if len(name) > 63 or not _DNS_LABEL.match(name):
            raise invalid(kind, group, name, [{
                "reason": "FieldValueInvalid", "field": "metadata.name",
                "message": f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                           "alphanumeric characters or '-', and must start and end with an alphanumeric "
                           "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}])
        return
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise invalid(kind, group, name, [{
            "reason": "FieldValueInvalid", "field": "metadata.name",
            "message": f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                       "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                       "character (e.g. 'example.com', regex used for validation is "
                       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}])


_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
ANNOTATIONS_SIZE_LIMIT = 256 * 1024  # apimachinery TotalAnnotationSizeLimitB


def _label_key_errors(key):
    prefix, _separator, name = key.rpartition("/")
    problems = []
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        problems.append("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                        "characters, '-' or '.', and must start and end with an alphanumeric character")
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        problems.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                        "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                        "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    return problems


def metadata_causes(obj):
    """Field errors of labels and annotations the real server refuses (422)."""
    metadata = obj.get("metadata") or {}
    causes = []
    for key, value in (metadata.get("labels") or {}).items():
        for problem in _label_key_errors(key):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                           "message": f'Invalid value: "{key}": {problem}'})
        if not isinstance(value, str):
            causes.append({"reason": "FieldValueTypeInvalid", "field": f"metadata.labels.{key}",
                           "message": "Invalid value: must be a string"})
        elif len(value) > 63:
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                           "message": f'Invalid value: "{value}": must be no more than 63 characters'})
        elif not _LABEL_VALUE.match(value):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels", "message": (
                f'Invalid value: "{value}": a valid label must be an empty string or consist of alphanumeric '
                "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")})
    annotations = metadata.get("annotations") or {}
    for key in annotations:
        for problem in _label_key_errors(key.lower()):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.annotations",
                           "message": f'Invalid value: "{key}": {problem}'})
    size = sum(len(k) + len(str(v)) for k, v in annotations.items())
    if size > ANNOTATIONS_SIZE_LIMIT:
        causes.append({"reason": "FieldValueTooLong", "field": "metadata.annotations",
                       "message": f"Too long: may not be more than {ANNOTATIONS_SIZE_LIMIT} bytes"})
    return causes
