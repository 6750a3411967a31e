#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file documents the manifests_render action plugin (plugins/action/manifests_render.py), which does
# all the work on the controller. It also holds the argument spec, which the action plugin imports, so the
# documentation below and the options the action accepts are checked against each other.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: manifests_render
short_description: Render a component's Kubernetes objects into a GitOps tree, or close or remove a part of it
version_added: 0.1.0
description:
  - Writes the objects of one component into C(<render_dir>/<phase>/<component>/), one file per object, with
    the component's C(kustomization.yaml) and, when it expects Secrets, a C(secret-references.yaml) that names
    them (names and keys, never values). This is the render mode of the C(lakehouse.platform.manifests) role in
    a single task.
  - With O(state=finalize), prunes the files an earlier run rendered and this run did not, and writes the
    phase's C(kustomization.yaml).
  - With O(state=absent), removes the directory of a component (rollback in render mode).
  - "B(Runs on the controller.) This is an action plugin: the rendered tree is written where the playbook
    runs, whatever host the task targets. Relative paths are relative to the working directory of
    C(ansible-playbook). The playbooks of this collection run it with C(hosts: localhost) and
    C(connection: local)."
  - A file is written only when its content or mode differs (atomically, through a temporary file in the same
    directory), so a rerun reports no change and leaves modification times alone. Files are written with mode
    C(0644), created directories with mode C(0755).
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  state:
    description:
      - V(present) renders O(objects) and O(secret_references) of O(component).
      - V(finalize) closes the tree of O(phase) after every component of the run was rendered.
      - V(absent) removes the directory of O(component) from the tree of O(phase).
    type: str
    choices: [present, finalize, absent]
    default: present
  component:
    description:
      - Name of the component; its files go to C(<render_dir>/<phase>/<component>/).
      - Required with O(state=present) and O(state=absent).
    type: str
  phase:
    description: Phase of the platform the component belongs to; the first directory level under O(render_dir).
    type: str
    required: true
  render_dir:
    description: Root of the rendered GitOps tree, on the controller.
    type: path
    required: true
  objects:
    description:
      - The Kubernetes objects of the component (each with C(apiVersion), C(kind) and C(metadata.name)), written
        to C(<kind>-<name>.yaml) in lower case.
      - Each object is given the labels C(app.kubernetes.io/managed-by=lakehouse.platform),
        C(lakehouse.platform/component=<component>) and C(lakehouse.platform/phase=<phase>); ours win over
        labels of the same name. The rest of the object is written as given, keys in their order.
      - Validated before anything is written. The task fails, naming the component, when an entry is not a
        Kubernetes object, when a Secret carries C(data) or C(stringData) (create Secrets with C(no_log)
        tasks in apply mode and list them in O(secret_references)), or when two objects would share a file
        (same kind and name).
      - Only used with O(state=present).
    type: list
    elements: dict
    default: []
  secret_references:
    description:
      - Secrets the component expects but that never appear in the tree, each a dict with C(name),
        C(namespace), C(keys) and C(description). Written, as given, to C(secret-references.yaml) under
        C(secretReferences) with a comment saying how to provide them.
      - Only used with O(state=present). Nothing is written when the list is empty.
    type: list
    elements: dict
    default: []
  rendered:
    description:
      - With O(state=finalize), the files this run rendered in O(phase), as a dict of component name to list
        of file names.
      - Defaults to C(manifests_rendered[phase]), the record that O(state=present) keeps (see
        RV(ansible_facts.manifests_rendered)).
      - Only the directories of the components listed here are pruned, so a run limited by tags leaves the
        other components alone.
    type: dict
extends_documentation_fragment:
  - lakehouse.platform.attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is written or removed; the result says what would change.
  diff_mode:
    support: full
    details:
      - One before/after pair per file that changes (or would), as M(ansible.builtin.copy) reports it; a removed
        file has an empty after.
  idempotent:
    support: full
  action:
    description: Runs as an action plugin on the controller.
    support: full
  async:
    description: Supports the C(async) keyword.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details:
      - Writes on the controller, whatever the target host is.
notes:
  - Object files are YAML as C(ansible.builtin.to_nice_yaml(indent=2, sort_keys=False)) writes it, so the tree
    is byte for byte what the task-based render of the C(lakehouse.platform.manifests) role produced.
  - C(kustomization.yaml) of a component lists, sorted, every object file present in its directory after the
    call (not C(kustomization.yaml) or C(secret-references.yaml)), so several calls may render into one
    component (its own objects, then a chart release's C(HelmRepository) and C(HelmRelease)).
  - The records RV(ansible_facts.manifests_rendered) and RV(ansible_facts.manifests_changes) are read from the
    variables of the same names and returned extended, as facts. Facts rank below C(set_fact) and play
    variables in variable precedence, so a variable of the same name set that way hides the returned value.
seealso:
  - module: ansible.builtin.copy
  - name: Kustomization file
    description: The format of the C(kustomization.yaml) files written.
    link: https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/
"""

EXAMPLES = r"""
- name: Render the objects of the Hive Metastore
  lakehouse.platform.manifests_render:
    component: hive_metastore
    phase: phase1
    render_dir: "{{ playbook_dir }}/../build"
    objects:
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: hive-site
          namespace: data-platform
        data:
          hive-site.xml: "<configuration/>"
    secret_references:
      - name: hive-metastore-db
        namespace: data-platform
        keys: [username, password]
        description: PostgreSQL credentials of the metastore database

- name: Render the chart release of the same component (the kustomization lists both calls' files)
  lakehouse.platform.manifests_render:
    component: hive_metastore
    phase: phase1
    render_dir: "{{ playbook_dir }}/../build"
    objects: "{{ [helm_repository, helm_release] }}"

- name: Prune what this run did not render and write the phase kustomization
  lakehouse.platform.manifests_render:
    state: finalize
    phase: phase1
    render_dir: "{{ playbook_dir }}/../build"

- name: Remove a component from the tree (rollback in render mode)
  lakehouse.platform.manifests_render:
    state: absent
    component: hive_metastore
    phase: phase1
    render_dir: "{{ playbook_dir }}/../build"
"""

RETURN = r"""
directory:
  description: The directory the call worked on (the component's with O(state=present) and O(state=absent), the phase's with O(state=finalize)).
  returned: always
  type: str
  sample: /srv/lakehouse/build/phase1/hive_metastore
files:
  description: Names of the object files this call rendered, in the order of O(objects).
  returned: when O(state=present)
  type: list
  elements: str
  sample: [configmap-hive-site.yaml]
results:
  description: One entry per file written, checked or removed.
  returned: when O(state=present) or O(state=finalize)
  type: list
  elements: dict
  contains:
    name:
      description: File name, relative to RV(directory).
      type: str
      sample: configmap-hive-site.yaml
    path:
      description: Full path of the file.
      type: str
      sample: /srv/lakehouse/build/phase1/hive_metastore/configmap-hive-site.yaml
    action:
      description: What happened to the file (or would, in check mode).
      type: str
      choices: [created, updated, unchanged, removed]
      sample: created
pruned:
  description: Paths of the files removed (or that would be, in check mode) by O(state=finalize).
  returned: when O(state=finalize)
  type: list
  elements: str
  sample: [/srv/lakehouse/build/phase1/hive_metastore/configmap-old.yaml]
diff:
  description: Before and after of every file that changed, when run with C(--diff).
  returned: when diff mode is on and something changed
  type: list
  elements: dict
  sample: [{before_header: /srv/build/phase1/x/kustomization.yaml, after_header: /srv/build/phase1/x/kustomization.yaml, before: '', after: "..."}]
ansible_facts:
  description: The run's records, read from the variables of the same names and extended.
  returned: when O(state=present)
  type: dict
  contains:
    manifests_rendered:
      description:
        - Phase name to component name to the files rendered in this run (object files, and
          C(secret-references.yaml) when written), accumulated over the calls of the run.
        - O(state=finalize) reads it to know what not to prune.
      type: dict
      sample: {phase1: {hive_metastore: [configmap-hive-site.yaml, secret-references.yaml]}}
    manifests_changes:
      description:
        - The previous list, plus one entry per object file whose content this call changed (or would).
        - Each entry is the object's C(apiVersion), C(kind), C(namespace) and C(name), with C(component) and
          C(action=rendered).
      type: list
      elements: dict
      sample: [{apiVersion: v1, kind: ConfigMap, namespace: data-platform, name: hive-site, component: hive_metastore, action: rendered}]
"""

from ansible.module_utils.basic import AnsibleModule


def argument_spec():
    """The options of the action plugin (it validates its task arguments against this)."""
    return dict(
        state=dict(type="str", choices=["present", "finalize", "absent"], default="present"),
        component=dict(type="str"),
        phase=dict(type="str", required=True),
        render_dir=dict(type="path", required=True),
        objects=dict(type="list", elements="dict", default=[]),
        secret_references=dict(type="list", elements="dict", default=[], no_log=False),
        rendered=dict(type="dict"),
    )


REQUIRED_IF = [
    ("state", "present", ["component"]),
    ("state", "absent", ["component"]),
]


def main():
    module = AnsibleModule(argument_spec=argument_spec(), required_if=REQUIRED_IF, supports_check_mode=True)
    module.fail_json(msg="lakehouse.platform.manifests_render is an action plugin and runs on the controller; "
                         "it cannot run as a module on a target host")


if __name__ == "__main__":
    main()
