"""The secret leak scan (issue #10): every secret value a run knows, searched for everywhere a run leaves text.

A run passes when none of the values appears in any of the places: the playbook's output (run with -vvv), the
files it wrote (rendered tree, report) and the ConfigMaps it keeps (objectives, inventories). Values are
searched as they are and base64-encoded (a Secret's data, a ConfigMap that embeds one).
"""
import base64
import os
import re

MIN_LENGTH = 8  # shorter "values" (a user name, "neo4j") are not secrets and would match by chance
# Keys of Secrets that hold no secret (Rook's user Secret, CloudNativePG's app Secret, the S3 environment
# Secrets): addresses, names and key ids, printed by design. A URI with a password in it is not among them.
NOT_SECRET_KEY = re.compile(r"(?i)^(username|user|host|port|dbname|endpoint|aws_endpoint_url|aws_region|region)$")


def secret_values_of(secrets):
    """The decoded data values of Secret dicts (as the API returns them), long enough to be secrets."""
    values = {}
    for secret in secrets:
        meta = secret.get("metadata", {})
        for key, encoded in (secret.get("data") or {}).items():
            value = base64.b64decode(encoded).decode("utf-8", "replace")
            if len(value) >= MIN_LENGTH and not NOT_SECRET_KEY.match(key):
                values["%s/%s:%s" % (meta.get("namespace"), meta.get("name"), key)] = value
    return values


def _forms(value):
    yield value
    yield base64.b64encode(value.encode()).decode()


def texts_of_tree(root):
    """{path: text} of every file under root (binary files decoded loosely)."""
    texts = {}
    for folder, _dirs, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                texts[path] = handle.read().decode("utf-8", "replace")
    return texts


def scan(values, texts):
    """[(value label, place)] for every value found in any text; values {label: value}, texts {place: text}."""
    hits = []
    for label, value in sorted(values.items()):
        for form in _forms(value):
            for place, text in texts.items():
                if form in text:
                    hits.append((label, place))
    return hits


def assert_no_leak(values, texts):
    """Fails naming each value (by its label, never the value) and where it was found."""
    assert values, "leak scan: no secret values to look for"
    assert texts, "leak scan: nothing to look in"
    hits = scan(values, texts)
    assert hits == [], "secret values found: %s" % ", ".join("%s in %s" % hit for hit in hits)
    return {"values": len(values), "places": len(texts), "bytes": sum(len(t) for t in texts.values()), "hits": 0}
