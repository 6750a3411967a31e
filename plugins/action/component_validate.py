# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.component_validate (documentation: plugins/modules/component_validate.py).

The validate step of components whose role declares it as data (``<component>_validate_spec``, run by
plugin_utils/validate_spec); the record of each is set as the fact ``<component>_validation`` (the report reads it).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.lakehouse.platform.plugins.plugin_utils.role_vars import (
    STEP_OPTIONS, RoleVariables, StepFailure, step_arguments, step_part)
from ansible_collections.lakehouse.platform.plugins.plugin_utils.validate_spec import (
    failure_result, outcome_facts, spec_name, validate_component)

ARGS = STEP_OPTIONS


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = dict(task_vars or {})
        args = self._task.args
        steps, auth, error = step_arguments("component_validate", args, ARGS)
        if error:
            result.update(failed=True, msg=error)
            return result
        roles = RoleVariables(self._loader, self._templar, args.get("roles_dir"))
        done, task_path, facts, changed = [], [], {}, False
        for step in steps:
            component = step["component"]
            if not roles.declares(component, spec_name(component)):
                if args.get("steps") is None:
                    result.update(failed=True, component=component,
                                  msg="%s: its role declares no %s" % (component, spec_name(component)))
                    return result
                task_path.append(step)
                continue
            part = step_part(step)
            try:
                outcome = validate_component(self, roles, component, part, dict(task_vars, **facts), auth)
            except StepFailure as err:
                result.update(failure_result(err), components=done, changed=changed)
                return result
            if outcome is None:
                if args.get("steps") is None:
                    result.update(failed=True, component=component,
                                  msg="%s: %s is none: its role's tasks validate" % (component, spec_name(component)))
                    return result
                task_path.append(step)
                continue
            facts.update(outcome_facts(outcome))
            changed = changed or outcome["changed"]
            done.append(outcome)
        warnings = [warning for item in done for warning in item.pop("warnings", [])]
        if warnings:
            result["warnings"] = warnings
        result.update(changed=changed, components=done, task_path=task_path, ansible_facts=facts)
        return result
