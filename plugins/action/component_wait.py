# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.component_wait (documentation: plugins/modules/component_wait.py).

The wait step of components whose role declares it as data (``<component>_wait_spec`` in the role's
vars/main.yml): a list of waits, each a chart release (``release``: its driver's release object, by the
chart_release role's readiness rules) or a wait module of this collection (``action`` with ``args``), with an
optional ``when`` and ``register`` (a fact the validate step reads). A phase stage waits for all its
components in one task: they were all applied before, so the stage takes about as long as its slowest member.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.lakehouse.platform.plugins.plugin_utils.role_vars import (
    STEP_OPTIONS, RoleVariables, StepFailure, step_arguments, step_part)
from ansible_collections.lakehouse.platform.plugins.plugin_utils.sub_action import run_action
from ansible_collections.lakehouse.platform.plugins.plugin_utils import validate_spec

ARGS = STEP_OPTIONS + ("validate",)
# The wait modules a spec may name: they only read (doris_cluster with apply: false).
WAIT_ACTIONS = ("lakehouse.platform.k8s_status_wait", "lakehouse.platform.doris_cluster",
                "lakehouse.platform.raycluster_wait")
ITEM_KEYS = ("release", "releases", "action", "args", "names", "when", "register", "name")
RELEASE_DRIVERS = ("flux", "argocd")


def spec_name(component):
    return component + "_wait_spec"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def _release_wait(self, roles, component, release, task_vars, base):
        """The k8s_status_wait arguments of a chart release, or None when its driver waits itself (helm)."""
        templar, merged = roles.templar_for(component, task_vars, dict(base, chart_release_item=release))
        driver = templar.template(merged["chart_release_driver"])
        if driver not in RELEASE_DRIVERS:
            return None
        rules = templar.template(merged["chart_release_wait_rules"])[driver]
        return {
            "api_version": rules["api_version"], "kind": rules["kind"], "name": release["name"],
            "namespace": rules["namespace"], "ready": rules["ready"], "failed": rules["failed"],
            "failure_grace": release.get("failure_grace", templar.template(merged["chart_release_failure_grace"])),
            "timeout": release.get("wait_timeout", templar.template(merged["chart_release_wait_timeout"])),
        }

    def _component(self, roles, component, part, task_vars, auth):
        base = {"chart_release_component": component}
        if part is not None:
            base["platform_component_stage"] = part
        templar, merged = roles.templar_for(component, task_vars, base)
        try:
            spec = templar.template(merged[spec_name(component)])
        except Exception as err:  # pylint: disable=broad-except
            raise StepFailure(component, "%s: %s" % (component, err))
        if spec is None:
            return None, {}  # this run needs the role's tasks/wait.yml (a step that is not a wait)
        if not isinstance(spec, list):
            raise StepFailure(component, "%s: %s must be a list of waits" % (component, spec_name(component)))
        waited, facts = [], {}
        for index, item in enumerate(spec):
            kinds = [key for key in ("release", "releases", "action") if isinstance(item, dict) and key in item]
            if not isinstance(item, dict) or set(item) - set(ITEM_KEYS) or len(kinds) != 1:
                raise StepFailure(component, "%s: %s[%d] is a release, releases or an action (with args, names), with "
                                  "optional when, register, name" % (component, spec_name(component), index))
            if "when" in item and not boolean(item["when"], strict=False):
                continue
            calls = []
            try:
                if "action" in item:
                    args = dict(item.get("args") or {})
                    names = item.get("names")
                    calls = [(item["action"], args)] if names is None else [
                        (item["action"], dict(args, name=name)) for name in names]
                else:
                    for release in ([item["release"]] if "release" in item else item["releases"]):
                        args = self._release_wait(roles, component, release, task_vars, base)
                        if args is not None:
                            calls.append(("lakehouse.platform.k8s_status_wait", args))
            except Exception as err:  # pylint: disable=broad-except
                raise StepFailure(component, "%s: %s[%d]: %s" % (component, spec_name(component), index, err))
            outcomes = []
            for name, args in calls:
                if name not in WAIT_ACTIONS:
                    raise StepFailure(component, "%s: %s[%d] names %s; a wait is one of %s"
                                      % (component, spec_name(component), index, name, ", ".join(WAIT_ACTIONS)))
                outcome = run_action(self, name, dict(args, **auth), task_vars)
                what = "%s %s/%s" % (args.get("kind") or name.rsplit(".", 1)[-1], args.get("namespace", ""),
                                     args.get("name", ""))
                if outcome.get("failed"):
                    message = outcome.get("msg") or "failed"
                    raise StepFailure(component, message if str(message).startswith(component) else "%s: %s: %s"
                                      % (component, what, message), outcome)
                outcomes.append(outcome)
                waited.append({"wait": what, "elapsed": outcome.get("elapsed")})
            if item.get("register"):
                facts[item["register"]] = outcomes[0] if len(outcomes) == 1 and "names" not in item else {"results": outcomes}
        return waited, facts

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = dict(task_vars or {})
        args = self._task.args
        steps, auth, error = step_arguments("component_wait", args, ARGS)
        if error:
            result.update(failed=True, msg=error)
            return result
        roles = RoleVariables(self._loader, self._templar, args.get("roles_dir"))
        validate = boolean(args.get("validate", False), strict=False)
        done, task_path, facts, unvalidated, validated, warnings = [], [], {}, [], [], []
        for step in steps:
            component = step["component"]
            if not roles.declares(component, spec_name(component)):
                if args.get("steps") is None:
                    result.update(failed=True, component=component,
                                  msg="%s: its role declares no %s" % (component, spec_name(component)))
                    return result
                task_path.append(step)
                unvalidated.append(step)
                continue
            part = step_part(step)
            try:
                waited, new_facts = self._component(roles, component, part, task_vars, auth)
                if waited is None:
                    if args.get("steps") is None:
                        raise StepFailure(component, "%s: %s is none: its role's tasks wait" % (component, spec_name(component)))
                    task_path.append(step)
                    unvalidated.append(step)
                    continue
            except StepFailure as err:
                result.update(failed=True, component=err.component, step="wait", msg=str(err), components=done)
                for key in ("object", "status", "elapsed"):
                    if key in err.result:
                        result[key] = err.result[key]
                return result
            facts.update(new_facts)
            task_vars.update(new_facts)
            done.append({"component": component, "part": part or "all", "waited": waited})
            if not validate:
                continue
            # With validate, each component is validated as soon as its waits are over, while the others of the
            # stage go on getting ready: the stage takes about as long as its slowest member and its validation.
            if not roles.declares(component, validate_spec.spec_name(component)):
                unvalidated.append(step)
                continue
            try:
                outcome = validate_spec.validate_component(self, roles, component, part, task_vars, auth)
            except StepFailure as err:
                result.update(validate_spec.failure_result(err), step="validate", components=done,
                              validations=validated, changed=any(item["changed"] for item in validated))
                return result
            if outcome is None:
                unvalidated.append(step)
                continue
            warnings.extend(outcome.pop("warnings", []))
            new_facts = validate_spec.outcome_facts(outcome)
            facts.update(new_facts)
            task_vars.update(new_facts)
            validated.append(outcome)
        if warnings:
            result["warnings"] = warnings
        result.update(changed=any(item["changed"] for item in validated), components=done, task_path=task_path,
                      ansible_facts=facts)
        if validate:
            result.update(validations=validated, unvalidated=unvalidated)
        return result
