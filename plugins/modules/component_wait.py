#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: component_wait
short_description: Run the wait step of one or many components, declared as data by their roles, in one task
version_added: 0.2.0
description:
  - The wait step of a component whose role declares it as data, C(<component>_wait_spec) in the role's
    C(vars/main.yml), a list of waits, each one of
  - C(release), a chart release (or C(releases), a list of them, waited for in order) - its driver's release
    object (Flux C(HelmRelease), Argo CD C(Application)) Ready for its current generation, by the readiness rules
    of the chart_release role; nothing for the helm driver, whose CLI waited;
  - C(action), a wait module of this collection (M(lakehouse.platform.k8s_status_wait),
    M(lakehouse.platform.doris_cluster) with C(apply=false), M(lakehouse.platform.raycluster_wait)) with its
    C(args), once or once per item of C(names) (given as C(args.name));
  - with an optional C(when) and C(register) (the fact the role's validate step reads) and C(name).
  - The spec is read with the variables Ansible gives the role itself (see M(lakehouse.platform.component_apply)).
    A spec that is C(none) leaves the step to the role's C(tasks/wait.yml) (with O(steps), returned in
    RV(task_path), as are components whose role declares no spec).
  - A phase stage waits for all its components in one task. They were all applied before, so the stage takes about
    as long as its slowest member. The first wait that fails ends the call, naming the component, the object and
    its last status.
  - With O(validate), each component is validated (its C(<component>_validate_spec), see
    M(lakehouse.platform.component_validate)) as soon as its waits are over, while the others of the stage go on
    getting ready; the components it could not validate (their role's tasks wait or validate) are returned in
    RV(unvalidated).
  - Only reads (a validation's lasting checks aside); in check mode each wait module does what it does in check mode (M(lakehouse.platform.k8s_status_wait)
    reads once). The action plugin does the work; this file holds its documentation.
options:
  validate:
    description: Validate each component right after its waits (see above).
    type: bool
    default: false
author:
  - lakehouse.platform contributors (@lakehouse-platform)
extends_documentation_fragment:
  - lakehouse.platform.component_steps
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.INFO_MODULE
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
seealso:
  - module: lakehouse.platform.component_apply
  - module: lakehouse.platform.k8s_status_wait
"""

EXAMPLES = r"""
- name: Wait for the components of a stage in one task
  lakehouse.platform.component_wait:
    steps:
      - {component: elasticsearch, part: all}
      - {component: doris, part: "2"}
"""

RETURN = r"""
components:
  description: Per component, what was waited for and how long (C(waited), each C(wait) and C(elapsed)).
  returned: always
  type: list
  elements: dict
task_path:
  description: The steps left to their role's tasks.
  returned: success
  type: list
  elements: dict
validations:
  description: With O(validate), per component validated, what M(lakehouse.platform.component_validate) returns for it.
  returned: success, with validate
  type: list
  elements: dict
unvalidated:
  description: With O(validate), the steps left to validate after the role's tasks waited (or to the role's tasks).
  returned: success, with validate
  type: list
  elements: dict
component:
  description: The component whose wait (or validation) failed.
  returned: failure
  type: str
step:
  description: What failed, C(wait) or C(validate).
  returned: failure
  type: str
task:
  description: The name of the validation's check that failed.
  returned: failure of a validation
  type: str
check_result:
  description: The result of the validation's module call that failed (not for a C(no_log) check).
  returned: failure of a validation's action check
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lakehouse.platform.plugins.module_utils.component_steps import component_steps_argument_spec


def main():
    AnsibleModule(argument_spec=component_steps_argument_spec(validate=dict(type="bool", default=False)),
                  supports_check_mode=True).fail_json(
        msg="lakehouse.platform.component_wait runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
