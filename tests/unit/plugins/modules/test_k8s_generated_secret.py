# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_generated_secret: generator shapes, template references, validation before any cluster access."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re
import string
import uuid

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lakehouse.platform.plugins.modules import k8s_generated_secret as module_under_test
from ansible_collections.lakehouse.platform.plugins.modules.k8s_generated_secret import (
    CHAR_SETS,
    argument_spec,
    generate,
    kafka_uuid,
    parse_spec,
    template_references,
)


def test_random_default_is_32_alnum():
    values = generate(parse_spec({"p": {"random": {}}}))
    assert len(values["p"]) == 32
    assert set(values["p"]) <= set(string.ascii_letters + string.digits)


def test_random_none_options_take_the_defaults():
    assert len(generate(parse_spec({"p": {"random": None}}))["p"]) == 32


@pytest.mark.parametrize("chars, alphabet", [
    ("digits", string.digits),
    ("hexdigits", "0123456789abcdef"),
    (["ascii_lowercase", "digits"], string.ascii_lowercase + string.digits),
    ("urlsafe", string.ascii_letters + string.digits + "-_"),
])
def test_random_length_and_character_sets(chars, alphabet):
    value = generate(parse_spec({"p": {"random": {"length": 200, "chars": chars}}}))["p"]
    assert len(value) == 200
    assert set(value) <= set(alphabet)


def test_random_draws_differ_per_key_and_per_run():
    parsed = parse_spec({"a": {"random": {"length": 32}}, "b": {"random": {"length": 32}}})
    first, second = generate(parsed), generate(parsed)
    assert first["a"] != first["b"]
    assert first["a"] != second["a"]


def test_uuid_base64url_is_a_kafka_uuid():
    for dummy in range(200):
        value = kafka_uuid()
        assert len(value) == 22 and "=" not in value
        assert re.match(r"^[A-Za-z0-9_][A-Za-z0-9_-]{21}$", value), value  # Kafka never starts an id with '-'
        raw = base64.urlsafe_b64decode(value + "==")
        assert len(raw) == 16
        assert uuid.UUID(bytes=raw).version == 4


def test_uuid_formats():
    values = generate(parse_spec({"k": {"uuid": {}}, "c": {"uuid": {"format": "canonical"}}}))
    assert len(base64.urlsafe_b64decode(values["k"] + "==")) == 16
    assert str(uuid.UUID(values["c"])) == values["c"]


def test_value_and_template_references():
    parsed = parse_spec({
        "neo4j-password": {"random": {"length": 32, "chars": "alnum"}},
        "NEO4J_AUTH": {"template": "neo4j/{neo4j-password}"},
        "user": {"value": "lakehouse_admin"},
        "dsn": {"template": "{user}:{NEO4J_AUTH}@db"},
    })
    values = generate(parsed)
    assert values["NEO4J_AUTH"] == "neo4j/" + values["neo4j-password"]
    assert values["user"] == "lakehouse_admin"
    assert values["dsn"] == "lakehouse_admin:neo4j/%s@db" % values["neo4j-password"]


def test_template_takes_an_existing_value_when_only_the_missing_key_is_generated():
    parsed = parse_spec({"pw": {"random": {}}, "auth": {"template": "neo4j/{pw}"}})
    assert generate(parsed, ["auth"], existing={"pw": "kept"}) == {"auth": "neo4j/kept"}
    only = generate(parsed, ["auth"])
    assert list(only) == ["auth"] and re.match(r"^neo4j/[A-Za-z0-9]{32}$", only["auth"])


def test_template_references_are_listed_once_in_order():
    assert template_references("{a}-{b}/{a}") == ["a", "b"]


def test_value_is_text():
    assert generate(parse_spec({"port": {"value": 5432}})) == {"port": "5432"}


@pytest.mark.parametrize("keys, message", [
    ({}, "non-empty dict"),
    ([], "non-empty dict"),
    ({"p": "secret"}, "expected a dict"),
    ({"p": {}}, "exactly one of"),
    ({"p": {"random": {}, "value": "x"}}, "exactly one of"),
    ({"p": {"password": {}}}, "unknown generator option"),
    ({"p": {"random": {"length": 0}}}, "between 1 and"),
    ({"p": {"random": {"length": "many"}}}, "must be an integer"),
    ({"p": {"random": {"chars": "emoji"}}}, "unknown character set"),
    ({"p": {"random": {"chars": []}}}, "non-empty list"),
    ({"p": {"random": {"size": 3}}}, "does not know size"),
    ({"p": {"random": 32}}, "takes a dict"),
    ({"p": {"uuid": {"format": "hex"}}}, "uuid.format"),
    ({"p": {"uuid": {"length": 3}}}, "does not know length"),
    ({"p": {"value": None}}, "must be a string"),
    ({"p": {"value": {"a": 1}}}, "must be a string"),
    ({"p": {"template": ["x"]}}, "must be a string"),
    ({"p": {"template": "{q}"}}, "refers to {q}"),
    ({"p": {"template": "a{b"}, "b": {"value": "x"}}, "unmatched brace"),
    ({"a": {"template": "{b}"}, "b": {"template": "{a}"}}, "cycle"),
    ({"a": {"template": "x{a}"}}, "cycle"),
    ({"bad key": {"value": "x"}}, "not a valid Secret key"),
])
def test_invalid_specs_are_refused(keys, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_spec(keys)


def test_every_character_set_is_non_empty_and_unique():
    for name, chars in CHAR_SETS.items():
        assert chars and len(set(chars)) == len(chars), name


def test_argument_spec_never_hides_the_spec_and_needs_name_namespace_keys():
    spec = argument_spec()
    assert spec["keys"]["no_log"] is False  # generator specs are not secret; generated values are masked
    assert all(spec[o]["required"] for o in ("name", "namespace", "keys"))
    assert spec["type"]["default"] == "Opaque"
    assert spec["missing_keys"]["choices"] == ["keep", "add"]
    assert "kubeconfig" in spec


def _run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module_under_test.main()
    return json.loads(capsys.readouterr().out)


def test_invalid_keys_fail_before_any_cluster_access(capsys, monkeypatch):
    def no_client(module):
        raise AssertionError("the cluster must not be contacted")
    monkeypatch.setattr(module_under_test.KubeClient, "from_module", classmethod(lambda cls, module: no_client(module)))
    result = _run_module({"name": "s", "namespace": "ns", "keys": {"p": {"random": {"length": -1}}}}, capsys)
    assert result["failed"] is True
    assert "Secret ns/s: keys.p: random.length" in result["msg"]


def test_component_needs_a_phase(capsys):
    result = _run_module({"name": "s", "namespace": "ns", "component": "kafka", "keys": {"p": {"random": {}}}}, capsys)
    assert result["failed"] is True and "phase" in result["msg"]


class FakeClient(object):
    """Records requests; Secrets and Namespaces live in dicts."""

    def __init__(self, secrets=None, namespaces=("ns",)):
        self.secrets = dict(secrets or {})
        self.namespaces = set(namespaces)
        self.calls = []

    def get(self, api_version, kind, name, namespace=None):
        self.calls.append(("get", kind, name))
        if kind == "Secret":
            return self.secrets.get((namespace, name))
        if kind == "Namespace":
            return {"metadata": {"name": name}} if name in self.namespaces else None
        return None

    def create(self, definition, dry_run=False, field_manager=None):
        self.calls.append(("create", definition["kind"], definition["metadata"]["name"], dry_run))
        if not dry_run:
            self.secrets[(definition["metadata"]["namespace"], definition["metadata"]["name"])] = definition
        return definition

    def patch(self, definition, patch, patch_type="merge", dry_run=False, field_manager=None):
        self.calls.append(("patch", definition["kind"], definition["metadata"]["name"], dry_run))
        return definition


@pytest.fixture
def fake(monkeypatch):
    holder = {}

    def install(client):
        holder["client"] = client
        monkeypatch.setattr(module_under_test.KubeClient, "from_module", classmethod(lambda cls, module: client))
        monkeypatch.setattr(module_under_test, "record_created", lambda *args, **kwargs: holder.setdefault("recorded", []).append(args) or True)
        return holder
    return install


def test_created_secret_shape_labels_and_no_values_in_the_result(capsys, fake):
    holder = fake(FakeClient())
    result = _run_module({"name": "doris-auth", "namespace": "ns", "type": "kubernetes.io/basic-auth",
                          "component": "doris", "phase": "phase3",
                          "keys": {"username": {"value": "lakehouse_admin"}, "password": {"random": {}}}}, capsys)
    secret = holder["client"].secrets[("ns", "doris-auth")]
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert secret["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "lakehouse.platform",
                                            "lakehouse.platform/component": "doris", "lakehouse.platform/phase": "phase3"}
    password = base64.b64decode(secret["data"]["password"]).decode()
    assert base64.b64decode(secret["data"]["username"]).decode() == "lakehouse_admin"
    assert result["changed"] is True and result["created"] is True
    assert result["keys"] == ["password", "username"]
    assert result["inventory"]["written"] is True
    assert password not in json.dumps(result)
    assert holder["recorded"][0][1:3] == ("doris", "phase3")


def test_existing_secret_is_only_read(capsys, fake):
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}, "data": {"a": "eA=="}}
    holder = fake(FakeClient({("ns", "s"): live}))
    result = _run_module({"name": "s", "namespace": "ns", "component": "c", "phase": "p",
                          "keys": {"a": {"random": {}}, "b": {"random": {}}}}, capsys)
    assert result["changed"] is False and result["created"] is False
    assert [c[0] for c in holder["client"].calls] == ["get"]
    assert "recorded" not in holder


def test_missing_keys_add_patches_only_the_missing_ones(capsys, fake):
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}, "data": {"a": "eA=="}}
    holder = fake(FakeClient({("ns", "s"): live}))
    result = _run_module({"name": "s", "namespace": "ns", "missing_keys": "add",
                          "keys": {"a": {"random": {}}, "b": {"template": "user/{a}"}}}, capsys)
    assert result["changed"] is True and result["added"] == ["b"] and result["created"] is False
    assert [c[0] for c in holder["client"].calls] == ["get", "patch"]


def test_check_mode_absent_namespace_sends_nothing(capsys, fake):
    holder = fake(FakeClient(namespaces=()))
    result = _run_module({"name": "kafka-kraft", "namespace": "ns", "_ansible_check_mode": True,
                          "component": "kafka", "phase": "phase3", "keys": {"cluster-id": {"uuid": {}}}}, capsys)
    assert result["changed"] is True and result["namespace_absent"] is True
    assert result["msg"] == "would create Secret ns/kafka-kraft (namespace absent)"
    assert [c[0] for c in holder["client"].calls] == ["get", "get"]
    assert "recorded" not in holder


def test_check_mode_present_namespace_is_a_dry_run(capsys, fake):
    holder = fake(FakeClient())
    result = _run_module({"name": "s", "namespace": "ns", "_ansible_check_mode": True, "component": "c", "phase": "p",
                          "keys": {"a": {"random": {}}}}, capsys)
    assert result["changed"] is True and result["namespace_absent"] is False
    assert ("create", "Secret", "s", True) in holder["client"].calls
    assert holder["client"].secrets == {} and "recorded" not in holder
