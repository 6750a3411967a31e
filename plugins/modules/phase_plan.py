#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: phase_plan
short_description: Plan a phase run from the phase catalog, the run's tags and the components' settings
version_added: 0.2.0
description:
  - Works out, on the controller and without touching anything, what a run of a phase does - which
    components it deploys or rolls back, per stage the steps of each, and the budget of every enabled
    component for preflight.
  - Reads the phase catalog (C(platform_catalog), loaded from playbooks/vars/phases.yml), the run's
    C(--tags) and C(--skip-tags) (C(ansible_run_tags), C(ansible_skip_tags)), and for every component
    C(<component>_enabled) and C(<component>_budget) from the play's variables (inventory, extra vars)
    or else from the role's C(defaults/main.yml).
  - Fails before anything is changed when a tag is unknown to every phase (a typo), when the catalog breaks
    a rule, when an extra variable C(<name>_enabled) names no component, or when a setting of a component the
    run deploys does not match its role's argument spec (entry point C(main)) or the rules of
    C(module_utils/option_rules) (quantities, counts, URLs, names, ranges); the message names the component, the
    option as the user spells it (and the C(platform_*) variable a role default was made from), the value and the rule.
  - Keeps the whole reason of C(-e platform_override_reason="two words") (ansible-playbook itself keeps the first
    word of such key=value text) for preflight.
  - Written for this collection because no library plans Ansible runs from a data catalog; the argument
    checks use ansible-core's own C(ArgumentSpecValidator).
  - The action plugin does the work; this file holds its documentation.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  phase:
    description: Phase to plan, a key of the catalog. Defaults to C(platform_phase).
    type: str
  catalog:
    description: The phase catalog. Defaults to the variable C(platform_catalog).
    type: dict
  mode:
    description: C(render) or C(apply); defaults to C(platform_mode), else C(render).
    type: str
    choices: [apply, render]
  run_tags:
    description: Tags of the run. Defaults to C(ansible_run_tags).
    type: list
    elements: str
  skip_tags:
    description: Skipped tags of the run. Defaults to C(ansible_skip_tags).
    type: list
    elements: str
  roles_dir:
    description: Directory holding the component roles. Defaults to this collection's C(roles/).
    type: path
extends_documentation_fragment:
  - lakehouse.platform.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; check mode changes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
notes:
  - Sets the fact C(platform_plan) (the returned RV(plan)) and resets C(phase_failure) and C(phase_checks), so
    that in C(site.yml) one phase's failure never reaches the next phase's report.
"""

EXAMPLES = r"""
- name: Plan the run of phase 3
  lakehouse.platform.phase_plan:
    phase: phase3

- name: Show what a tag-limited run would deploy
  ansible.builtin.debug:
    msg: "{{ platform_plan.stages | map(attribute='components') | list }}"
"""

RETURN = r"""
plan:
  description: The plan of the run (also set as the fact C(platform_plan)).
  returned: success
  type: dict
  contains:
    phase:
      description: The phase.
      type: str
    components:
      description: Every component of the phase in stage order.
      type: list
      elements: str
    enabled:
      description: The components whose C(<component>_enabled) is true.
      type: list
      elements: str
    selected:
      description: The enabled components this run deploys (after C(--tags) and C(--skip-tags)).
      type: list
      elements: str
    stages:
      description: Per stage with something to do, its C(index), C(components) and C(steps) (C(component), C(part), C(objective)).
      type: list
      elements: dict
    rollback:
      description: The components this run rolls back, newest first.
      type: list
      elements: str
    budgets:
      description: The budget of every enabled component.
      type: dict
    override_reason:
      description: C(platform_override_reason) as written on the command line (the whole reason), else as set.
      type: str
  sample:
    phase: phase3
    selected: [doris]
    stages: [{index: 1, components: [doris], steps: [{component: doris, part: "1", objective: "3.2"}]}]
argument_errors:
  description: Every setting that breaks its role's argument spec or a rule of option_rules, each naming the component first.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    AnsibleModule(
        argument_spec=dict(
            phase=dict(type="str"),
            catalog=dict(type="dict"),
            mode=dict(type="str", choices=["apply", "render"]),
            run_tags=dict(type="list", elements="str"),
            skip_tags=dict(type="list", elements="str"),
            roles_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    ).fail_json(msg="lakehouse.platform.phase_plan runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
