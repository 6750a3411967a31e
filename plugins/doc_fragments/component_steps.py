# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The options of the actions that run a step the component roles declare as data (component_apply,
# component_wait); their argument spec is module_utils/component_steps.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  steps:
    description: The steps to run, in order, each C({component, part}) (a stage of the phase plan).
    type: list
    elements: dict
  component:
    description: Without O(steps), the one component to run.
    type: str
  part:
    description: With O(component), the part of it (C(1), C(2) or C(all)); the role's C(<component>_stage).
    type: str
  roles_dir:
    description: Where the roles are; this collection's roles by default.
    type: path
"""
