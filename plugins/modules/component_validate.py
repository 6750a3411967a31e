#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: component_validate
short_description: Run the validate step of one or many components, declared as data by their roles, in one task
version_added: 0.2.0
description:
  - The validate step of a component whose role declares it as data, C(<component>_validate_spec) in the role's
    C(vars/main.yml), a mapping with C(checks) (a list), an optional C(when) (the step runs only when it holds) and
    C(defaults) (per module, arguments every check calling it gets, as C(module_defaults) gives).
  - Each check is one of C(action) (a module with its C(args); C(register), C(until) with C(retries) and C(delay),
    C(failed_when), C(timeout) in seconds and C(no_log) as a task has them), C(assert) (conditions, with
    C(fail_msg)), C(workloads) (C(namespace), C(selectors) and optionally C(kinds); every StatefulSet or
    Deployment of each selector exists and is ready, their names go into the record) or C(record) (a mapping merged
    into the component's record). Every check may have a C(name) and a C(when).
  - Checks are templated when their turn comes, with what the checks before registered, as a task list would
    be. The first that fails fails the step; after it only the checks with C(always) run (a probe's clean-up).
  - The record is set as the fact C(<component>_validation), which the report role reads, and what each check
    registered (but a C(no_log) one) as a fact of its name.
  - Checks only read or probe (what they create they delete) and report no change, except those marked
    C(lasting) (a connection made once, such as Superset's database), whose C(changed) counts.
  - Outside apply mode nothing runs and the step says validation runs in apply mode. In check mode only the checks
    marked C(check_mode) run (a lasting write's module only reads and reports then).
  - The spec is read with the variables Ansible gives the role itself (see M(lakehouse.platform.component_apply)).
    A spec that is C(none) leaves the step to the role's C(tasks/validate.yml) (with O(steps), returned in
    RV(task_path), as are components whose role declares no spec).
  - Hand-written because Ansible has no way to run a list of module calls, templated in turn, inside one task;
    the modules it runs are the same the role's tasks ran. The action plugin does the work; this file holds its
    documentation.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
extends_documentation_fragment:
  - lakehouse.platform.component_steps
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
attributes:
  check_mode:
    support: full
    details: Only the checks marked C(check_mode) run; their modules run in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The probes leave nothing behind; a lasting check's module is itself idempotent.
seealso:
  - module: lakehouse.platform.component_apply
  - module: lakehouse.platform.component_wait
"""

EXAMPLES = r"""
- name: Validate the components of a stage in one task
  lakehouse.platform.component_validate:
    steps:
      - {component: elasticsearch, part: all}
      - {component: doris, part: "2"}

# A role's spec (vars/main.yml):
# elasticsearch_validate_spec:
#   checks:
#     - name: Ask Elasticsearch for the cluster health
#       action: lakehouse.platform.k8s_service_request
#       args: {component: elasticsearch, namespace: "{{ elasticsearch_namespace }}", service: elasticsearch, port: "9200",
#              path: /_cluster/health}
#       register: elasticsearch_health
#     - assert: ["elasticsearch_health.json.status in ['green', 'yellow']"]
#       fail_msg: "elasticsearch: the cluster health is {{ elasticsearch_health.json.status }}"
#     - workloads: {namespace: "{{ elasticsearch_namespace }}", selectors: [app=elasticsearch-master]}
#     - record: {cluster_health: "{{ elasticsearch_health.json.status }}"}
"""

RETURN = r"""
components:
  description: Per component, C(component), C(part), the checks that ran (C(ran), each C(check) and its C(elapsed) seconds), C(changed) and its C(record).
  returned: always
  type: list
  elements: dict
task_path:
  description: The steps left to their role's tasks.
  returned: success
  type: list
  elements: dict
component:
  description: The component whose validation failed.
  returned: failure
  type: str
task:
  description: The name of the validation's check that failed.
  returned: failure of a validation
  type: str
check_result:
  description: The result of the module call that failed (not for a C(no_log) check). A failed task sets no
    facts, so this is where a rescue finds what the check's C(register) would have held.
  returned: failure of an action check
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lakehouse.platform.plugins.module_utils.component_steps import component_steps_argument_spec


def main():
    AnsibleModule(argument_spec=component_steps_argument_spec(), supports_check_mode=True).fail_json(
        msg="lakehouse.platform.component_validate runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
