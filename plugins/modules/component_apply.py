#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: component_apply
short_description: Run the apply step of one or many components, declared as data by their roles, in one task
version_added: 0.2.0
description:
  - The apply (or render) step of a component whose role declares it as data, C(<component>_apply_spec) in the
    role's C(vars/main.yml), a mapping of C(secrets), C(objects_before), C(releases), C(objects_after),
    C(secret_references), C(secrets_after) and C(notes) (each a list, all optional).
  - For each step in order, apply mode generates the C(secrets) once (M(lakehouse.platform.k8s_generated_secret),
    C(no_log)), renders or applies C(objects_before), the GitOps objects of the chart C(releases) (the
    P(lakehouse.platform.chart_release_objects#filter) filter) and C(objects_after) in one
    M(lakehouse.platform.component_objects) call, then generates the C(secrets_after) (a Secret in a namespace the
    objects create). Render mode writes the objects and prints the C(notes).
  - The spec is read with the variables Ansible gives the role itself - the chart_release role's defaults, the
    component role's defaults, the task's variables (inventory, play and extra vars) and the role's vars, with
    C(platform_component_stage) set to the step's part - so a phase stage applies all its components in one task
    and a role run on its own (its C(tasks/apply.yml)) applies itself through the same code.
  - With O(steps), components whose role declares no spec, and those whose releases the helm CLI installs one by
    one (the helm or render driver in apply mode), are returned in RV(task_path), for their role's tasks. With
    O(component), such releases are returned in RV(one_by_one) (the role's tasks install them).
  - The first failing step ends the call, naming the component, what failed and the object's last status; the
    facts of what was already applied (C(manifests_changes)) are kept for the rollback.
  - Hand-written because no library runs a role's steps from data; the objects go through
    M(lakehouse.platform.k8s_apply), on kubernetes.core's client.
  - A member of the C(lakehouse.platform.k8s) action group. The action plugin does the work; this file holds
    its documentation.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  spec:
    description:
      - With O(component), the apply spec itself (the keys above), for a role that builds it in its tasks
        instead of declaring C(<component>_apply_spec).
    type: dict
extends_documentation_fragment:
  - lakehouse.platform.component_steps
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.CHECK_MODE_FULL
  - lakehouse.platform.attributes.DIFF_FULL
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
seealso:
  - module: lakehouse.platform.component_objects
  - module: lakehouse.platform.k8s_generated_secret
"""

EXAMPLES = r"""
- name: Apply or render the components of a stage in one task
  lakehouse.platform.component_apply:
    steps:
      - {component: elasticsearch, part: all}
      - {component: doris, part: "1"}

- name: Apply or render one component (its role's tasks/apply.yml)
  lakehouse.platform.component_apply:
    component: kafka
"""

RETURN = r"""
components:
  description: Per component run, what happened (component, part, mode, changed, secrets, results, files).
  returned: always
  type: list
  elements: dict
task_path:
  description: The steps whose role declares no spec, for the role's tasks.
  returned: success
  type: list
  elements: dict
one_by_one:
  description: The chart releases the helm CLI installs one by one (each with its component).
  returned: success
  type: list
  elements: dict
component:
  description: The component that failed.
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lakehouse.platform.plugins.module_utils.component_steps import component_steps_argument_spec


def main():
    AnsibleModule(argument_spec=component_steps_argument_spec(spec=dict(type="dict")), supports_check_mode=True).fail_json(
        msg="lakehouse.platform.component_apply runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
