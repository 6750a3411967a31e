"""Label and field selectors with the apimachinery grammar (labels.Parse / fields.ParseSelector)."""
import re

from .errors import bad_request

_KEY = r"[A-Za-z0-9./_-]+"
_SET_REQ = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_CMP_REQ = re.compile(rf"^\s*({_KEY})\s*(==|!=|=|>|<)\s*([A-Za-z0-9._-]*)\s*$")
_EXISTS_REQ = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


def _split_top_level(text):
    """Split on commas that are not inside a `(...)` value set."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


class LabelSelector:
    """A parsed label selector; `matches(labels)` answers like labels.Selector.Matches."""

    def __init__(self, requirements):
        self.requirements = requirements  # list of (key, operator, values)

    @classmethod
    def parse(cls, text):
        requirements = []
        for part in _split_top_level(text or ""):
            match = _SET_REQ.match(part)
            if match:
                values = [v.strip() for v in match.group(3).split(",") if v.strip()]
                requirements.append((match.group(1), match.group(2), values))
                continue
            match = _CMP_REQ.match(part)
            if match:
                op = {"==": "=", "=": "="}.get(match.group(2), match.group(2))
                requirements.append((match.group(1), op, [match.group(3)]))
                continue
            match = _EXISTS_REQ.match(part)
            if match:
                requirements.append((match.group(2), "!exists" if match.group(1) else "exists", []))
                continue
            raise bad_request(f'unable to parse requirement: found \'{part.strip()}\', '
                              f'expected: in, notin, =, ==, !=, gt, lt')
        return cls(requirements)

    def matches(self, labels):
        labels = labels or {}
        for key, op, values in self.requirements:
            present = key in labels
            value = labels.get(key)
            if op == "=" and not (present and value == values[0]):
                return False
            if op == "!=" and present and value == values[0]:
                return False
            if op == "in" and not (present and value in values):
                return False
            if op == "notin" and present and value in values:
                return False
            if op == "exists" and not present:
                return False
            if op == "!exists" and present:
                return False
            if op in (">", "<"):
                try:
                    number, bound = int(value), int(values[0])
                except (TypeError, ValueError):
                    return False
                if (op == ">" and number <= bound) or (op == "<" and number >= bound):
                    return False
        return True


def _field_value(obj, path):
    current = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


class FieldSelector:
    """A parsed field selector (`a=b,c!=d`); any dotted path is accepted, missing fields read as ""."""

    def __init__(self, requirements):
        self.requirements = requirements  # list of (path, operator, value)

    @classmethod
    def parse(cls, text):
        requirements = []
        for part in _split_top_level(text or ""):
            match = re.match(r"^\s*([A-Za-z0-9._-]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
            if not match:
                raise bad_request(f'invalid selector: \'{text}\'; can\'t understand \'{part}\'')
            op = "!=" if match.group(2) == "!=" else "="
            requirements.append((match.group(1), op, match.group(3)))
        return cls(requirements)

    def matches(self, obj):
        for path, op, value in self.requirements:
            actual = _field_value(obj, path)
            if (op == "=") != (actual == value):
                return False
        return True


class ObjectFilter:
    """Namespace + label selector + field selector, as one predicate over stored objects."""

    def __init__(self, namespace=None, label_selector="", field_selector=""):
        self.namespace = namespace
        self.labels = LabelSelector.parse(label_selector)
        self.fields = FieldSelector.parse(field_selector)

    def matches(self, obj):
        metadata = obj.get("metadata", {})
        if self.namespace is not None and metadata.get("namespace") != self.namespace:
            return False
        return self.labels.matches(metadata.get("labels")) and self.fields.matches(obj)
