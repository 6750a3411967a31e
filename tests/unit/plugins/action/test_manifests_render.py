# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""manifests_render: the action plugin run in-process (render, rerun, check mode, diff, refusals, finalize,
absent, the run's records) and, in two playbook runs, byte for byte against the task-based render of the
manifests role it replaces (its tasks are copied below as they were at commit a48e70b)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import subprocess
import sys
import textwrap
from unittest.mock import MagicMock

import pytest
import yaml

from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.filter.core import to_nice_yaml
from ansible.template import Templar
from ansible_collections.lakehouse.platform.plugins.action.manifests_render import ActionModule
from ansible_collections.lakehouse.platform.plugins.modules import manifests_render as stub

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
LABELS = {"app.kubernetes.io/managed-by": "lakehouse.platform", "lakehouse.platform/component": "hive",
          "lakehouse.platform/phase": "phase1"}

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "Hive-Site", "namespace": "data", "labels": {"team": "x", "lakehouse.platform/phase": "old"}},
             "data": {"hive-site.xml": "<configuration>\n  <p>x</p>\n</configuration>\n", "octal": "0644", "uni": "héllo ☃",
                      "long": "a" * 70 + " " + "b" * 40}}
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "metastore", "namespace": "data"},
              "spec": {"replicas": 2, "paused": False, "template": {"spec": {"containers": [
                  {"name": "hms", "image": "apache/hive:4.0.0", "args": [], "resources": {}, "x": None}]}}}}
REPOSITORY = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository", "metadata": {"name": "hive", "namespace": "flux"},
              "spec": {"url": "https://charts.example.com", "interval": "1h"}}
RELEASE = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "hive", "namespace": "data"},
           "spec": {"chart": {"spec": {"chart": "hive", "version": "1.2.3"}}, "values": {"replicas": 1}}}
REFERENCES = [{"name": "hive-db", "namespace": "data", "keys": ["username", "password"], "description": "Database: PostgreSQL"}]

SECRET_REFERENCES_TEXT = textwrap.dedent("""\
    # Secrets hive expects. They are not part of this tree: in apply mode the
    # playbook creates them (values generated once, kept only in the cluster); with GitOps, provide
    # them out of band (SOPS, External Secrets) under these names and keys.
    secretReferences:
    - name: hive-db
      namespace: data
      keys:
      - username
      - password
      description: 'Database: PostgreSQL'
    """)


def nice(value):
    """What ``{{ value | ansible.builtin.to_nice_yaml(indent=2, sort_keys=False) }}`` renders."""
    return to_nice_yaml(value, indent=2, sort_keys=False).encode("utf-8")


def kustomization(*resources):
    return nice({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": list(resources)})


def labelled(obj, labels=None):
    result = dict(obj)
    result["metadata"] = dict(obj["metadata"])
    merged = dict(obj["metadata"].get("labels") or {})
    merged.update(labels or LABELS)
    result["metadata"]["labels"] = merged
    return result


def run(args, task_vars=None, check=False, diff=False):
    """Run the action plugin in-process, the way TaskExecutor does (validated args, task_vars, a templar)."""
    task = MagicMock()
    task.args = dict(args)
    task.check_mode = check
    task.diff = diff
    task.no_log = False
    task.async_val = 0
    task.action = "lakehouse.platform.manifests_render"
    loader = DataLoader()
    task_vars = dict(task_vars or {})
    action = ActionModule(task, MagicMock(), MagicMock(), loader, Templar(loader=loader, variables=task_vars), None)
    return action.run(task_vars=task_vars)


def render(tmp_path, objects, component="hive", references=None, **kwargs):
    args = dict(component=component, phase="phase1", render_dir=str(tmp_path / "build"), objects=objects)
    if references is not None:
        args["secret_references"] = references
    return run(args, **kwargs)


def tree(root):
    """Every file under root: relative path -> (bytes, mode)."""
    result = {}
    for directory, dummy, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                result[os.path.relpath(path, str(root))] = (handle.read(), stat.S_IMODE(os.stat(path).st_mode))
    return result


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


# -- documentation and argument spec agree -------------------------------------------------------------
def test_documented_options_match_the_argument_spec():
    documented = yaml.safe_load(stub.DOCUMENTATION)["options"]
    spec = stub.argument_spec()
    assert set(documented) == set(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc.get("type", "str") == option.get("type", "str"), name
        assert doc.get("default") == option.get("default"), name
        assert doc.get("choices") == option.get("choices"), name
        assert doc.get("elements") == option.get("elements"), name
        assert bool(doc.get("required")) == bool(option.get("required")), name
    for section in ("EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(stub, section))


# -- state=present --------------------------------------------------------------------------------------
def test_first_render_writes_the_exact_bytes_of_the_role(tmp_path):
    result = render(tmp_path, [CONFIGMAP, DEPLOYMENT], references=REFERENCES)
    component = tmp_path / "build" / "phase1" / "hive"
    assert result["changed"] is True
    assert result["directory"] == str(component)
    assert result["files"] == ["configmap-hive-site.yaml", "deployment-metastore.yaml"]
    assert [(r["name"], r["action"]) for r in result["results"]] == [
        ("configmap-hive-site.yaml", "created"), ("deployment-metastore.yaml", "created"),
        ("secret-references.yaml", "created"), ("kustomization.yaml", "created")]

    written = tree(tmp_path / "build")
    assert sorted(written) == ["phase1/hive/configmap-hive-site.yaml", "phase1/hive/deployment-metastore.yaml",
                               "phase1/hive/kustomization.yaml", "phase1/hive/secret-references.yaml"]
    # Labels: the object's own first, ours win on a clash and keep their order; keys stay in their order.
    expected_configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "Hive-Site", "namespace": "data",
                                       "labels": {"team": "x", "lakehouse.platform/phase": "phase1",
                                                  "app.kubernetes.io/managed-by": "lakehouse.platform",
                                                  "lakehouse.platform/component": "hive"}},
                          "data": CONFIGMAP["data"]}
    assert written["phase1/hive/configmap-hive-site.yaml"] == (nice(expected_configmap), 0o644)
    assert written["phase1/hive/deployment-metastore.yaml"] == (nice(labelled(DEPLOYMENT)), 0o644)
    assert written["phase1/hive/secret-references.yaml"] == (SECRET_REFERENCES_TEXT.encode("utf-8"), 0o644)
    assert written["phase1/hive/kustomization.yaml"] == (textwrap.dedent("""\
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
        - configmap-hive-site.yaml
        - deployment-metastore.yaml
        """).encode("utf-8"), 0o644)
    assert written["phase1/hive/configmap-hive-site.yaml"][0].startswith(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Hive-Site\n")
    assert "uni: héllo ☃\n".encode("utf-8") in written["phase1/hive/configmap-hive-site.yaml"][0]
    for directory in ("build", "build/phase1", "build/phase1/hive"):
        assert mode(tmp_path / directory) == 0o755
    # The caller's objects are not modified.
    assert CONFIGMAP["metadata"]["labels"] == {"team": "x", "lakehouse.platform/phase": "old"}


def test_rerun_changes_nothing_and_keeps_mtimes(tmp_path):
    first = render(tmp_path, [CONFIGMAP, DEPLOYMENT], references=REFERENCES)
    component = tmp_path / "build" / "phase1" / "hive"
    for name in os.listdir(str(component)):
        os.utime(str(component / name), (1000000000, 1000000000))
    again = render(tmp_path, [CONFIGMAP, DEPLOYMENT], references=REFERENCES,
                   task_vars=dict(manifests_changes=first["ansible_facts"]["manifests_changes"]))
    assert again["changed"] is False
    assert set(r["action"] for r in again["results"]) == {"unchanged"}
    assert all(os.stat(str(component / name)).st_mtime == 1000000000 for name in os.listdir(str(component)))
    assert again["ansible_facts"]["manifests_changes"] == first["ansible_facts"]["manifests_changes"]
    assert "diff" not in again


def test_a_changed_object_or_mode_is_rewritten(tmp_path):
    render(tmp_path, [CONFIGMAP, DEPLOYMENT])
    component = tmp_path / "build" / "phase1" / "hive"
    os.chmod(str(component / "configmap-hive-site.yaml"), 0o600)
    os.chmod(str(component), 0o700)
    scaled = dict(DEPLOYMENT, spec=dict(DEPLOYMENT["spec"], replicas=3))
    result = render(tmp_path, [CONFIGMAP, scaled], diff=True)
    assert result["changed"] is True
    assert [(r["name"], r["action"]) for r in result["results"]] == [
        ("configmap-hive-site.yaml", "updated"), ("deployment-metastore.yaml", "updated"), ("kustomization.yaml", "unchanged")]
    assert mode(component / "configmap-hive-site.yaml") == 0o644 and mode(component) == 0o755
    assert (component / "deployment-metastore.yaml").read_bytes() == nice(labelled(scaled))
    # Only the content change has a diff, as copy reports it.
    path = str(component / "deployment-metastore.yaml")
    assert result["diff"] == [dict(before_header=path, after_header=path, before=nice(labelled(DEPLOYMENT)).decode(),
                                   after=nice(labelled(scaled)).decode())]
    assert [c["name"] for c in result["ansible_facts"]["manifests_changes"]] == ["Hive-Site", "metastore"]


def test_two_calls_into_one_component_list_both_in_the_kustomization(tmp_path):
    first = render(tmp_path, [CONFIGMAP], references=REFERENCES)
    second = render(tmp_path, [REPOSITORY, RELEASE], task_vars=first["ansible_facts"])
    component = tmp_path / "build" / "phase1" / "hive"
    assert second["files"] == ["helmrepository-hive.yaml", "helmrelease-hive.yaml"]
    assert (component / "kustomization.yaml").read_bytes() == kustomization(
        "configmap-hive-site.yaml", "helmrelease-hive.yaml", "helmrepository-hive.yaml")
    assert second["ansible_facts"]["manifests_rendered"] == {"phase1": {"hive": [
        "configmap-hive-site.yaml", "secret-references.yaml", "helmrepository-hive.yaml", "helmrelease-hive.yaml"]}}
    # The first call, run again, keeps the chart release's files in the kustomization.
    again = render(tmp_path, [CONFIGMAP], references=REFERENCES)
    assert again["changed"] is False


def test_the_records_of_the_run_are_extended(tmp_path):
    previous = dict(
        manifests_rendered={"phase1": {"spark": ["configmap-spark.yaml"]}, "phase3": {"doris": ["x.yaml"]}},
        manifests_changes=[{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "", "name": "spark",
                            "component": "spark", "action": "rendered"}])
    result = render(tmp_path, [CONFIGMAP, DEPLOYMENT], references=REFERENCES, task_vars=previous)
    facts = result["ansible_facts"]
    assert facts["manifests_rendered"] == {
        "phase1": {"spark": ["configmap-spark.yaml"],
                   "hive": ["configmap-hive-site.yaml", "deployment-metastore.yaml", "secret-references.yaml"]},
        "phase3": {"doris": ["x.yaml"]}}
    assert facts["manifests_changes"] == previous["manifests_changes"] + [
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "data", "name": "Hive-Site", "component": "hive", "action": "rendered"},
        {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "data", "name": "metastore", "component": "hive",
         "action": "rendered"}]
    assert list(facts["manifests_changes"][1]) == ["apiVersion", "kind", "namespace", "name", "component", "action"]
    # Unchanged files are not changes; the rendered list grows as the role's set_fact did.
    again = render(tmp_path, [CONFIGMAP, DEPLOYMENT], task_vars=facts)
    assert again["ansible_facts"]["manifests_changes"] == facts["manifests_changes"]
    assert again["ansible_facts"]["manifests_rendered"]["phase1"]["hive"][3:] == ["configmap-hive-site.yaml", "deployment-metastore.yaml"]
    assert previous["manifests_rendered"]["phase1"] == {"spark": ["configmap-spark.yaml"]}


def test_check_mode_writes_nothing_and_reports_what_would_change(tmp_path):
    result = render(tmp_path, [CONFIGMAP], references=REFERENCES, check=True, diff=True)
    assert result["changed"] is True
    assert set(r["action"] for r in result["results"]) == {"created"}
    assert not (tmp_path / "build").exists()
    assert [d["after_header"] for d in result["diff"]] == [
        str(tmp_path / "build" / "phase1" / "hive" / name)
        for name in ("configmap-hive-site.yaml", "secret-references.yaml", "kustomization.yaml")]
    assert result["diff"][2]["after"] == kustomization("configmap-hive-site.yaml").decode()
    assert len(result["ansible_facts"]["manifests_changes"]) == 1

    render(tmp_path, [CONFIGMAP])
    before = tree(tmp_path / "build")
    changed = render(tmp_path, [CONFIGMAP, DEPLOYMENT], check=True)
    assert [(r["name"], r["action"]) for r in changed["results"]] == [
        ("configmap-hive-site.yaml", "unchanged"), ("deployment-metastore.yaml", "created"), ("kustomization.yaml", "updated")]
    assert tree(tmp_path / "build") == before


@pytest.mark.parametrize("field", ["data", "stringData"])
def test_a_secret_with_values_is_refused_naming_the_component(tmp_path, field):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, field: {"password": "x"}}
    with pytest.raises(AnsibleActionFail, match=r"^hive: the manifest list carries Secret values \(db\)"):
        render(tmp_path, [CONFIGMAP, secret])
    assert not (tmp_path / "build").exists()
    # A Secret without values is an ordinary object.
    render(tmp_path, [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque"}])
    assert (tmp_path / "build" / "phase1" / "hive" / "secret-db.yaml").exists()


def test_two_objects_sharing_a_file_are_refused(tmp_path):
    other = dict(CONFIGMAP, metadata={"name": "hive-site", "namespace": "other"})
    with pytest.raises(AnsibleActionFail, match=r"^hive: two objects share a kind and name, so they would share a file "
                                                r"\(files: configmap-hive-site.yaml, configmap-hive-site.yaml\)\.$"):
        render(tmp_path, [CONFIGMAP, other])
    assert not (tmp_path / "build").exists()


def test_an_entry_that_is_not_a_kubernetes_object_is_refused(tmp_path):
    with pytest.raises(AnsibleActionFail, match=r"^hive: objects\[1\] .*needs apiVersion, kind and metadata.name"):
        render(tmp_path, [CONFIGMAP, {"kind": "ConfigMap", "metadata": {}}])
    with pytest.raises(AnsibleActionFail, match="component"):
        run(dict(phase="phase1", render_dir=str(tmp_path)))
    with pytest.raises(AnsibleActionFail, match="single directory name"):
        render(tmp_path, [CONFIGMAP], component="../hive")
    assert not (tmp_path / "build").exists()


# -- state=finalize -------------------------------------------------------------------------------------
def finalize(tmp_path, **kwargs):
    args = dict(state="finalize", phase="phase1", render_dir=str(tmp_path / "build"))
    args.update(kwargs.pop("args", {}))
    return run(args, **kwargs)


def test_finalize_prunes_only_in_rendered_components_and_rewrites_kustomizations(tmp_path):
    # An earlier run rendered hive (with a stale ConfigMap) and spark; this run renders hive only.
    render(tmp_path, [CONFIGMAP, DEPLOYMENT], references=REFERENCES)
    render(tmp_path, [REPOSITORY], component="spark")
    facts = render(tmp_path, [DEPLOYMENT], references=REFERENCES)["ansible_facts"]
    phase = tmp_path / "build" / "phase1"
    (phase / "notes").mkdir()
    (phase / "notes" / "readme.yaml").write_bytes(b"x: 1\n")
    assert (phase / "hive" / "kustomization.yaml").read_bytes() == kustomization("configmap-hive-site.yaml", "deployment-metastore.yaml")

    checked = finalize(tmp_path, task_vars=facts, check=True)
    assert checked["changed"] is True and checked["pruned"] == [str(phase / "hive" / "configmap-hive-site.yaml")]
    assert (phase / "hive" / "configmap-hive-site.yaml").exists() and not (phase / "kustomization.yaml").exists()

    result = finalize(tmp_path, task_vars=facts, diff=True)
    assert result["changed"] is True
    assert result["directory"] == str(phase)
    assert result["pruned"] == [str(phase / "hive" / "configmap-hive-site.yaml")]
    assert [(r["name"], r["action"]) for r in result["results"]] == [
        ("hive/configmap-hive-site.yaml", "removed"), ("hive/kustomization.yaml", "updated"), ("kustomization.yaml", "created")]
    assert sorted(os.listdir(str(phase / "hive"))) == ["deployment-metastore.yaml", "kustomization.yaml", "secret-references.yaml"]
    assert (phase / "hive" / "kustomization.yaml").read_bytes() == kustomization("deployment-metastore.yaml")
    assert (phase / "spark" / "helmrepository-hive.yaml").exists()
    assert (phase / "notes" / "readme.yaml").exists()
    assert (phase / "kustomization.yaml").read_bytes() == kustomization("hive", "spark")
    assert mode(phase / "kustomization.yaml") == 0o644
    assert result["diff"][0]["after"] == "" and result["diff"][0]["before"].startswith("apiVersion: v1\nkind: ConfigMap")

    again = finalize(tmp_path, task_vars=facts)
    assert again["changed"] is False and again["pruned"] == []


def test_finalize_takes_an_explicit_rendered_list(tmp_path):
    render(tmp_path, [REPOSITORY, RELEASE], component="spark")
    phase = tmp_path / "build" / "phase1"
    result = finalize(tmp_path, args=dict(rendered={"spark": ["helmrelease-hive.yaml", "secret-references.yaml"]}))
    assert result["pruned"] == [str(phase / "spark" / "helmrepository-hive.yaml")]
    assert (phase / "spark" / "kustomization.yaml").read_bytes() == kustomization("helmrelease-hive.yaml")
    # Nothing rendered in this run: nothing is pruned, the phase kustomization still lists the components.
    render(tmp_path, [REPOSITORY], component="spark")
    nothing = finalize(tmp_path)
    assert nothing["pruned"] == [] and (phase / "spark" / "helmrepository-hive.yaml").exists()
    assert (phase / "kustomization.yaml").read_bytes() == kustomization("spark")


# -- state=absent ---------------------------------------------------------------------------------------
def test_absent_removes_the_component_directory(tmp_path):
    render(tmp_path, [CONFIGMAP])
    render(tmp_path, [REPOSITORY], component="spark")
    args = dict(state="absent", component="hive", phase="phase1", render_dir=str(tmp_path / "build"))
    checked = run(args, check=True)
    assert checked["changed"] is True and (tmp_path / "build" / "phase1" / "hive").is_dir()
    result = run(args)
    assert result["changed"] is True and result["directory"] == str(tmp_path / "build" / "phase1" / "hive")
    assert sorted(os.listdir(str(tmp_path / "build" / "phase1"))) == ["spark"]
    assert run(args)["changed"] is False


# -- against the task-based render of the role, in real playbook runs -------------------------------------
# roles/manifests/tasks/render.yml and render_finalize.yml as of a48e70b (with the labelling step of apply.yml),
# their records renamed legacy_* so that they and the action's facts do not meet in one run.
LEGACY_RENDER = r"""
- name: Label the objects of the component
  ansible.builtin.set_fact:
    manifests_labelled: "{{ manifests_objects | map('lakehouse.platform.manifest_labelled', manifests_labels) | list }}"
  vars:
    manifests_labels:
      app.kubernetes.io/managed-by: lakehouse.platform
      lakehouse.platform/component: "{{ manifests_component }}"
      lakehouse.platform/phase: "{{ manifests_phase }}"

- name: Locate the component directory of the rendered tree
  ansible.builtin.set_fact:
    manifests_component_dir: "{{ manifests_render_dir }}/{{ manifests_phase }}/{{ manifests_component }}"
    manifests_files: "{{ manifests_labelled | map('lakehouse.platform.manifest_filename') | list }}"

- name: Create the component directory
  ansible.builtin.file:
    path: "{{ manifests_component_dir }}"
    state: directory
    mode: "0755"

- name: Write one file per object
  ansible.builtin.copy:
    dest: "{{ manifests_component_dir }}/{{ item | lakehouse.platform.manifest_filename }}"
    content: "{{ item | ansible.builtin.to_nice_yaml(indent=2, sort_keys=False) }}"
    mode: "0644"
  loop: "{{ manifests_labelled }}"
  register: manifests_written

- name: Write the Secret references (names and keys, never values)
  ansible.builtin.copy:
    dest: "{{ manifests_component_dir }}/secret-references.yaml"
    content: |
      # Secrets {{ manifests_component }} expects. They are not part of this tree: in apply mode the
      # playbook creates them (values generated once, kept only in the cluster); with GitOps, provide
      # them out of band (SOPS, External Secrets) under these names and keys.
      {{ {'secretReferences': manifests_secret_references} | ansible.builtin.to_nice_yaml(indent=2, sort_keys=False) }}
    mode: "0644"
  when: manifests_secret_references | length > 0

- name: Find the object files already in the component directory
  ansible.builtin.find:
    paths: "{{ manifests_component_dir }}"
    patterns: ["*.yaml"]
    excludes: ["kustomization.yaml", "secret-references.yaml"]
  register: manifests_present

- name: Write the component kustomization
  ansible.builtin.copy:
    dest: "{{ manifests_component_dir }}/kustomization.yaml"
    content: "{{ manifests_kustomization | ansible.builtin.to_nice_yaml(indent=2, sort_keys=False) }}"
    mode: "0644"
  vars:
    manifests_kustomization:
      apiVersion: kustomize.config.k8s.io/v1beta1
      kind: Kustomization
      resources: "{{ (manifests_present.files | map(attribute='path') | map('basename') | list + manifests_files) | unique | sort }}"

- name: Remember what this run rendered (finalize prunes the rest)
  ansible.builtin.set_fact:
    legacy_rendered: >-
      {{ legacy_rendered | default({}) | combine({manifests_phase: {manifests_component:
         ((legacy_rendered | default({}))[manifests_phase] | default({}))[manifests_component] | default([])
         + manifests_files + (['secret-references.yaml'] if manifests_secret_references | length > 0 else [])}},
         recursive=True) }}

- name: Remember the files this run changed (for the report)
  ansible.builtin.set_fact:
    legacy_changes: >-
      {{ legacy_changes | default([]) + manifests_written.results | selectattr('changed') | map(attribute='item')
         | map('lakehouse.platform.manifest_ref')
         | map('combine', {'component': manifests_component, 'action': 'rendered'}) | list }}
"""

LEGACY_FINALIZE = r"""
- name: Find the files of the phase tree
  ansible.builtin.find:
    paths: "{{ manifests_phase_dir }}"
    patterns: ["*.yaml"]
    recurse: true
    depth: 2
  register: manifests_phase_files

- name: Remove files this run did not render
  ansible.builtin.file:
    path: "{{ item }}"
    state: absent
  loop: "{{ manifests_phase_files.files | map(attribute='path') | sort }}"
  when:
    - item | dirname | dirname == manifests_phase_dir
    - item | dirname | basename in manifests_phase_rendered
    - item | basename != 'kustomization.yaml'
    - item | basename not in manifests_phase_rendered[item | dirname | basename]
  register: manifests_pruned

- name: Rewrite the kustomization of pruned components
  ansible.builtin.copy:
    dest: "{{ item }}/kustomization.yaml"
    content: "{{ manifests_kustomization | ansible.builtin.to_nice_yaml(indent=2, sort_keys=False) }}"
    mode: "0644"
  vars:
    manifests_kustomization:
      apiVersion: kustomize.config.k8s.io/v1beta1
      kind: Kustomization
      resources: "{{ manifests_phase_rendered[item | basename] | reject('equalto', 'secret-references.yaml') | unique | sort }}"
  loop: "{{ manifests_pruned.results | selectattr('changed') | map(attribute='item') | map('dirname') | unique | sort }}"

- name: Write the phase kustomization
  ansible.builtin.copy:
    dest: "{{ manifests_phase_dir }}/kustomization.yaml"
    content: "{{ manifests_kustomization | ansible.builtin.to_nice_yaml(indent=2, sort_keys=False) }}"
    mode: "0644"
  vars:
    manifests_kustomization:
      apiVersion: kustomize.config.k8s.io/v1beta1
      kind: Kustomization
      resources: >-
        {{ manifests_phase_files.files | map(attribute='path') | select('match', '.*/kustomization\.yaml$')
           | map('dirname') | reject('equalto', manifests_phase_dir) | map('basename') | unique | sort }}
"""

PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Render with the role's tasks
      ansible.builtin.include_tasks: legacy_render.yml
      vars:
        manifests_phase: phase1
        manifests_render_dir: "{{ legacy_dir }}"
        manifests_component: "{{ call.component }}"
        manifests_objects: "{{ call.objects }}"
        manifests_secret_references: "{{ call.secret_references | default([]) }}"
      loop: "{{ calls }}"
      loop_control:
        loop_var: call

    - name: Close the tree with the role's tasks
      ansible.builtin.include_tasks: legacy_finalize.yml
      vars:
        manifests_phase_dir: "{{ legacy_dir }}/phase1"
        manifests_phase_rendered: "{{ legacy_rendered.phase1 }}"

    - name: Render with the action
      lakehouse.platform.manifests_render:
        component: "{{ call.component }}"
        phase: phase1
        render_dir: "{{ action_dir }}"
        objects: "{{ call.objects }}"
        secret_references: "{{ call.secret_references | default([]) }}"
      loop: "{{ calls }}"
      loop_control:
        loop_var: call

    - name: Close the tree with the action
      lakehouse.platform.manifests_render:
        state: finalize
        phase: phase1
        render_dir: "{{ action_dir }}"

    - name: Keep the records of both
      ansible.builtin.copy:
        dest: "{{ records }}"
        content: "{{ {'legacy': [legacy_rendered, legacy_changes], 'action': [manifests_rendered, manifests_changes]} | to_json }}"
        mode: "0644"
"""


def playbook(tmp_path, calls, name):
    for file_name, text in (("legacy_render.yml", LEGACY_RENDER), ("legacy_finalize.yml", LEGACY_FINALIZE), ("play.yml", PLAYBOOK)):
        (tmp_path / file_name).write_text(text)
    (tmp_path / "inventory").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    extra = dict(calls=calls, legacy_dir=str(tmp_path / "legacy"), action_dir=str(tmp_path / "action"),
                 records=str(tmp_path / ("%s.json" % name)))
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventory", "play.yml",
               "-e", "@extra.json"]
    completed = subprocess.run(command, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout
    return json.loads((tmp_path / ("%s.json" % name)).read_text())


def seed(root, files):
    for name, (content, file_mode) in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.chmod(str(path), file_mode)


def test_the_tree_is_byte_for_byte_the_one_the_role_rendered(tmp_path):
    """One run over a tree an earlier run left: files to create, update, re-mode, keep and prune (a component
    rendered in two calls, one left alone)."""
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "empty"}, "type": "Opaque"}
    earlier = {
        "phase1/kustomization.yaml": (kustomization("gone"), 0o644),
        "phase1/hive/configmap-old.yaml": (b"kind: ConfigMap\n", 0o644),
        "phase1/hive/deployment-metastore.yaml": (nice(labelled(dict(DEPLOYMENT, spec={"replicas": 1}))), 0o644),
        "phase1/hive/kustomization.yaml": (kustomization("configmap-old.yaml", "deployment-metastore.yaml"), 0o644),
        "phase1/hive/secret-empty.yaml": (nice(labelled(secret)), 0o600),
        "phase1/hive/.hidden.yaml": (b"x: 1\n", 0o644),
        "phase1/trino/configmap-trino.yaml": (b"kind: ConfigMap\n", 0o644),
        "phase1/trino/kustomization.yaml": (kustomization("configmap-trino.yaml"), 0o644),
        "phase1/notes/readme.yaml": (b"x: 1\n", 0o644),
    }
    seed(tmp_path / "legacy", earlier)
    seed(tmp_path / "action", earlier)
    calls = [dict(component="hive", objects=[CONFIGMAP, DEPLOYMENT, secret], secret_references=REFERENCES),
             dict(component="hive", objects=[REPOSITORY, RELEASE])]
    records = playbook(tmp_path, calls, "records")
    legacy, action = tree(tmp_path / "legacy"), tree(tmp_path / "action")
    assert sorted(legacy) == sorted(action)
    assert legacy == action
    assert "phase1/hive/configmap-old.yaml" not in action
    assert action["phase1/hive/kustomization.yaml"][0] == kustomization(
        "configmap-hive-site.yaml", "deployment-metastore.yaml", "helmrelease-hive.yaml", "helmrepository-hive.yaml",
        "secret-empty.yaml")
    assert action["phase1/hive/secret-empty.yaml"][1] == 0o644
    assert action["phase1/hive/.hidden.yaml"] == earlier["phase1/hive/.hidden.yaml"]
    assert action["phase1/trino/configmap-trino.yaml"] == earlier["phase1/trino/configmap-trino.yaml"]
    assert action["phase1/kustomization.yaml"][0] == kustomization("hive", "trino")
    assert records["legacy"] == records["action"]
    assert [change["name"] for change in records["action"][1]] == [
        "Hive-Site", "metastore", "empty", "hive", "hive"]
