"""Each chart role's README section "Chart" against the role itself (no network, one ansible-playbook run).

The section records, per chart, the repository, chart and version the role pins and the values keys it sets, as
checked against that chart's values.yaml / values.schema.json / templates at that version. These tests keep the
record true when the role changes: the pin must be the one in defaults/main.yml, and the key list must be exactly
the keys the role's values hold, rendered from its defaults and vars twice (as shipped, and with every optional
key switched on). A new or renamed key fails here until it is checked against the chart and written down.
"""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# role -> the releases whose values it builds: (repo var, chart var, version var, values expression)
CHARTS = {
    "kafka": [("kafka_chart_repo", "kafka_chart", "kafka_chart_version", "kafka_chart_values")],
    "elasticsearch": [("elasticsearch_chart_repo", "elasticsearch_chart", "elasticsearch_chart_version",
                       "elasticsearch_chart_values")],
    "neo4j": [("neo4j_chart_repo", "neo4j_chart", "neo4j_chart_version", "neo4j_chart_values")],
    "datahub": [("datahub_chart_repo", "datahub_prerequisites_chart", "datahub_prerequisites_chart_version",
                 "datahub_prerequisites_values"),
                ("datahub_chart_repo", "datahub_chart", "datahub_chart_version", "datahub_values")],
    "doris": [("doris_operator_chart_repo", "doris_operator_chart", "doris_operator_chart_version",
               "doris_operator_values")],
    "ray": [("ray_operator_chart_repo", "ray_operator_chart", "ray_operator_chart_version", "ray_operator_values")],
    "mlflow": [("mlflow_chart_repo", "mlflow_chart", "mlflow_chart_version", "mlflow_values")],
    "hive_metastore": [("hive_metastore_chart_repo_url", "hive_metastore_chart", "hive_metastore_chart_version",
                        "hive_metastore_chart_release.chart_release_values")],
    "spark_operator": [("spark_operator_chart_repo", "spark_operator_chart", "spark_operator_chart_version",
                        "spark_operator_chart_values")],
    "trino": [("trino_chart_repo", "trino_chart", "trino_chart_version", "trino_chart_values")],
}
# Keys whose value is data for the chart (a container's resources, catalog files, environment variables), not
# further chart keys: listed by their own name, not by what is inside.
OPAQUE = {"resources", "catalogs", "extraEnvVars"}
# Settings that switch on the optional keys (a storage class, an image tag, the Hive catalog).
OPTIONAL_ON = {"platform_storage_class": "fast-ssd", "trino_image_tag": "480", "trino_hive_catalog_enabled": True}

PLAY = """
- name: Chart values {name}
  hosts: localhost
  gather_facts: false
  vars_files: {vars_files}
  tasks:
    - name: Optional settings on
      ansible.builtin.set_fact: {facts}
    - name: The Hive Metastore release (its values are built in tasks/release_vars.yml)
      ansible.builtin.import_tasks: {release_vars}
    - name: Write the releases
      ansible.builtin.copy:
        dest: "{{{{ out_dir }}}}/{name}.json"
        content: "{{{{ releases | to_json }}}}"
        mode: "0644"
      vars:
        releases: {releases}
"""


def _releases_expression():
    items = []
    for role, charts in CHARTS.items():
        for repo, chart, version, values in charts:
            items.append("{'role': %r, 'repo': %s, 'chart': %s, 'version': %s, 'values': %s}"
                         % (role, repo, chart, version, values))
    return '"{{ [%s] }}"' % ", ".join(items)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chart_values")
    vars_files = []
    for role in CHARTS:
        for kind in ("defaults", "vars"):
            path = os.path.join(ROOT, "roles", role, kind, "main.yml")
            if os.path.exists(path):
                vars_files.append(path)
    release_vars = os.path.join(ROOT, "roles", "hive_metastore", "tasks", "release_vars.yml")
    plays = [PLAY.format(name=name, vars_files=json.dumps(vars_files), facts=json.dumps(facts),
                         release_vars=release_vars, releases=_releases_expression())
             for name, facts in (("shipped", {"chart_readme_view": "shipped"}), ("optional", OPTIONAL_ON))]
    (tmp / "play.yml").write_text("".join(plays))
    (tmp / "inventory").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                                   % sys.executable)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"), ANSIBLE_LOCAL_TEMP=str(tmp / "tmp"),
               ANSIBLE_HOME=str(tmp / "home"), ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventory", "play.yml",
               "-e", "out_dir=%s" % tmp]
    completed = subprocess.run(command, cwd=str(tmp), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout
    return {name: json.loads((tmp / ("%s.json" % name)).read_text()) for name in ("shipped", "optional")}


def key_paths(values, prefix=""):
    """The dotted paths of the keys a values dict sets (empty dicts set nothing; OPAQUE keys count as one)."""
    paths = set()
    for key, value in values.items():
        path = prefix + key
        if isinstance(value, dict) and key not in OPAQUE:
            paths |= key_paths(value, path + ".")
        elif value != {}:
            paths.add(path)
    return paths


HEADING = re.compile(r"^### ", re.M)
PIN = re.compile(r"Repository\s+`(?P<repo>[^`]+)`,\s+chart\s+`(?P<chart>[^`]+)`,\s+version\s+`(?P<version>[^`]+)`")
CHECKED = re.compile(r"[Cc]hecked against .+? at\s+(tag|commit)\s+`[^`]+`.*? on\s+\d{4}-\d{2}-\d{2}", re.S)
KEYS_FROM = "Values keys the role sets"
KEY = re.compile(r"^  - `(?P<key>[^`]+)`", re.M)


def readme_charts(role):
    text = open(os.path.join(ROOT, "roles", role, "README.md")).read()
    match = re.search(r"^## Chart\n(?P<body>.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "roles/%s/README.md has no section '## Chart'" % role
    charts = {}
    for block in HEADING.split(match.group("body"))[1:]:
        pin = PIN.search(block)
        assert pin, "roles/%s/README.md: a chart block without 'Repository `...`, chart `...`, version `...`'" % role
        assert CHECKED.search(block), "roles/%s/README.md: chart %s does not say what it was checked against" % (
            role, pin.group("chart"))
        assert KEYS_FROM in block, "roles/%s/README.md: chart %s has no list '%s ...'" % (
            role, pin.group("chart"), KEYS_FROM)
        keys = [m.group("key") for m in KEY.finditer(block.split(KEYS_FROM, 1)[1])]
        assert len(keys) == len(set(keys)), "roles/%s/README.md lists a key twice: %s" % (role, keys)
        charts[pin.group("chart")] = dict(pin.groupdict(), keys=set(keys))
    return charts


@pytest.mark.parametrize("role", sorted(CHARTS))
def test_readme_records_the_pinned_chart_and_every_values_key(rendered, role):
    documented = readme_charts(role)
    releases = [r for r in rendered["shipped"] if r["role"] == role]
    optional = {r["chart"]: r for r in rendered["optional"] if r["role"] == role}
    assert sorted(documented) == sorted(r["chart"] for r in releases)
    for release in releases:
        record = documented[release["chart"]]
        assert (record["repo"], record["version"]) == (release["repo"], release["version"]), release["chart"]
        keys = key_paths(release["values"]) | key_paths(optional[release["chart"]]["values"])
        assert record["keys"] == keys, "roles/%s/README.md, chart %s: not listed %s; listed but not set %s" % (
            role, release["chart"], sorted(keys - record["keys"]), sorted(record["keys"] - keys))


def test_key_paths_counts_opaque_maps_once_and_skips_empty_ones():
    values = {"a": {"b": 1, "resources": {"limits": {"cpu": "1"}}, "image": {}}, "env": [{"name": "X"}]}
    assert key_paths(values) == {"a.b", "a.resources", "env"}
