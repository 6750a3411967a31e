#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: component_objects
short_description: Render or apply a component's Kubernetes objects in one task
version_added: 0.2.0
description:
  - The one call a component makes for its objects, whatever the platform mode. With O(mode=render) it runs
    M(lakehouse.platform.manifests_render) (the object files, the Secret references and the kustomization of
    the component in the GitOps tree); with O(mode=apply) it runs M(lakehouse.platform.k8s_apply) (server-side
    apply of every object in one process, created-only inventory for rollback, check mode as a server dry run).
  - Both label the objects with the component and phase and refuse Secret values, so what render writes is
    what apply sends.
  - A member of the C(lakehouse.platform.k8s) action group; in render mode the Kubernetes options are ignored.
  - The action plugin does the work; this file holds its documentation.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  mode:
    description: V(render) writes the GitOps tree, V(apply) applies to the cluster.
    type: str
    required: true
    choices: [apply, render]
  component:
    description: The component (role) the objects belong to.
    type: str
    required: true
  phase:
    description: The phase the component is deployed in.
    type: str
    required: true
  objects:
    description: The component's objects, in apply order.
    type: list
    elements: dict
    default: []
  render_dir:
    description: With O(mode=render), the root of the GitOps tree.
    type: path
  secret_references:
    description: With O(mode=render), the Secrets the component expects (name, namespace, keys, description; never values).
    type: list
    elements: dict
    default: []
  field_manager:
    description: With O(mode=apply), the field manager of the server-side apply.
    type: str
    default: lakehouse.platform
  state_namespace:
    description: With O(mode=apply), the namespace of the component's inventory ConfigMap.
    type: str
    default: lakehouse-system
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.CHECK_MODE_FULL
  - lakehouse.platform.attributes.DIFF_FULL
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
seealso:
  - module: lakehouse.platform.manifests_render
  - module: lakehouse.platform.k8s_apply
"""

EXAMPLES = r"""
- name: Render or apply the Doris objects
  lakehouse.platform.component_objects:
    mode: "{{ platform_mode }}"
    component: doris
    phase: phase3
    render_dir: build
    objects: "{{ doris_objects }}"
    secret_references: "{{ doris_secret_references }}"
"""

RETURN = r"""
results:
  description: Per object (apply) or per file (render) what happened; see the two modules.
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lakehouse.platform.plugins.module_utils.kube import kube_argument_spec


def main():
    spec = kube_argument_spec()
    spec.update(
        mode=dict(type="str", required=True, choices=["apply", "render"]),
        component=dict(type="str", required=True),
        phase=dict(type="str", required=True),
        objects=dict(type="list", elements="dict", default=[]),
        render_dir=dict(type="path"),
        secret_references=dict(type="list", elements="dict", default=[], no_log=False),
        field_manager=dict(type="str", default="lakehouse.platform"),
        state_namespace=dict(type="str", default="lakehouse-system"),
    )
    AnsibleModule(argument_spec=spec, supports_check_mode=True).fail_json(
        msg="lakehouse.platform.component_objects runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
