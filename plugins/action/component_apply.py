# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.component_apply (documentation: plugins/modules/component_apply.py).

The apply step of components whose role declares it as data (``<component>_apply_spec`` in the role's
vars/main.yml): for each step, in order, the Secrets generated once (before and after the objects), then the
component's objects and the GitOps objects of its chart releases in ONE lakehouse.platform.component_objects
call. A phase stage runs all its components in one task; a role run on its own runs itself the same way.

The spec is read with the variables Ansible would give the role: the chart_release role's defaults, then the
component role's defaults, then the task's variables (inventory, play, extra vars), then the role's vars.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.lakehouse.platform.plugins.filter.chart_release import chart_release_objects
from ansible_collections.lakehouse.platform.plugins.plugin_utils.role_vars import (
    STEP_OPTIONS, RoleVariables, StepFailure, step_arguments, step_part)
from ansible_collections.lakehouse.platform.plugins.plugin_utils.sub_action import run_action

SPEC_KEYS = ("secrets", "objects_before", "releases", "objects_after", "secret_references", "secrets_after", "notes")
ARGS = STEP_OPTIONS + ("spec",)
FIELD_MANAGER = "lakehouse.platform"


def spec_name(component):
    return component + "_apply_spec"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def _roles(self, roles_dir=None):
        if "_role_vars" not in self.__dict__:
            self.__dict__["_role_vars"] = RoleVariables(self._loader, self._templar, roles_dir)
        return self.__dict__["_role_vars"]

    def has_spec(self, roles_dir, component):
        return self._roles(roles_dir).declares(component, spec_name(component))

    def _templar_for(self, roles_dir, component, part, task_vars):
        overrides = {"chart_release_component": component}
        if part is not None:
            overrides["platform_component_stage"] = part
        return self._roles(roles_dir).templar_for(component, task_vars, overrides)

    def _secret(self, component, args, auth, task_vars, phase, state_namespace):
        if not isinstance(args, dict) or not args.get("name") or not args.get("namespace"):
            raise StepFailure(component, "%s: %s: a generated Secret needs a name and a namespace" % (component, spec_name(component)))
        call = dict(component=component, phase=phase, state_namespace=state_namespace)
        call.update(args)
        call.update(auth)
        outcome = run_action(self, "lakehouse.platform.k8s_generated_secret", call, task_vars, no_log=True)
        where = "%s/%s" % (args["namespace"], args["name"])
        if outcome.get("failed"):
            # The module never puts values in its message; its other keys (the invocation) stay out.
            raise StepFailure(component, "%s: generating the Secret %s failed: %s" % (component, where, outcome.get("msg", "?")))
        return {"secret": where, "changed": bool(outcome.get("changed"))}

    def _step(self, roles_dir, component, part, task_vars, auth, given_spec=None, stage=False):
        templar, merged = self._templar_for(roles_dir, component, part, task_vars)
        try:
            spec = given_spec if given_spec is not None else templar.template(merged[spec_name(component)])
            # The platform's settings (chart_release's defaults of platform_mode, platform_phase, ...), the same for
            # every step: read once per call.
            if "_settings" not in self.__dict__:
                self.__dict__["_settings"] = tuple(templar.template(merged["chart_release_" + name]) for name in (
                    "mode", "driver", "phase", "render_dir", "state_namespace"))
            mode, driver, phase, render_dir, state_namespace = self.__dict__["_settings"]
        except Exception as err:  # pylint: disable=broad-except
            raise StepFailure(component, "%s: %s" % (component, err))
        if not isinstance(spec, dict) or set(spec) - set(SPEC_KEYS):
            raise StepFailure(component, "%s: %s must be a mapping of %s" % (component, spec_name(component), ", ".join(SPEC_KEYS)))
        spec = dict((key, spec.get(key) or []) for key in SPEC_KEYS)
        for key in SPEC_KEYS:
            if not isinstance(spec[key], list):
                raise StepFailure(component, "%s: %s.%s must be a list" % (component, spec_name(component), key))
        together = mode == "render" or driver in ("flux", "argocd")
        if stage and not together and spec["releases"]:
            return None, {}  # the helm CLI installs its releases one by one: its role's tasks do the component
        # Every release is built, so checked (a bad one fails here naming its option), also when it goes on its own.
        release_objects = []
        try:
            for release in spec["releases"]:
                release_objects.extend(chart_release_objects(dict(release, component=component), driver, mode))
        except Exception as err:  # pylint: disable=broad-except
            raise StepFailure(component, "%s: %s" % (component, err))
        outcome = {"component": component, "part": part or "all", "mode": mode, "changed": False, "secrets": []}
        apply_mode = mode == "apply"
        for args in spec["secrets"] if apply_mode else []:
            outcome["secrets"].append(self._secret(component, args, auth, task_vars, phase, state_namespace))
        call = dict(mode=mode, component=component, phase=phase, render_dir=render_dir,
                    objects=spec["objects_before"] + (release_objects if together else []) + spec["objects_after"],
                    secret_references=spec["secret_references"], state_namespace=state_namespace,
                    field_manager=FIELD_MANAGER)
        if apply_mode:
            call.update(auth)
        objects = run_action(self, "lakehouse.platform.component_objects", call, task_vars)
        if objects.get("failed"):
            message = objects.get("msg") or "failed"
            if not str(message).startswith(component):
                message = "%s: %s" % (component, message)
            raise StepFailure(component, message, objects)
        for args in spec["secrets_after"] if apply_mode else []:
            outcome["secrets"].append(self._secret(component, args, auth, task_vars, phase, state_namespace))
        outcome["objects"] = objects
        outcome["one_by_one"] = [] if together else [dict(r, component=component) for r in spec["releases"]]
        outcome["notes"] = [str(n) for n in spec["notes"]] if not apply_mode else []
        outcome["changed"] = bool(objects.get("changed")) or any(s["changed"] for s in outcome["secrets"])
        return outcome, objects.get("ansible_facts") or {}

    def _probes_due(self, task_vars, steps, done, task_path):
        """The components whose validation probes that write (a test job, an experiment) run in this run: every one
        with platform_validation_probes=always; by default (on_change) those this run changed, those applied by their
        role's tasks, and those whose objective was not completed before the run (the stored objectives)."""
        previous = self._templar.template(task_vars.get("platform_probes_due") or [])
        policy = str(self._templar.template(task_vars.get("platform_validation_probes", "on_change")))
        stored = self._templar.template(task_vars.get("objectives_stored") or {})
        completed = set(o.get("id") for o in (stored.get("objectives") or []) if isinstance(o, dict)
                        and o.get("state") == "completed")
        objective_of = (self._templar.template(task_vars.get("platform_plan") or {})).get("objective_of") or {}
        changed = set(o["component"] for o in done if o["changed"]) | set(s["component"] for s in task_path)
        due = set(previous)
        for step in steps:
            component = step["component"]
            if policy == "always" or component in changed or objective_of.get(component) not in completed:
                due.add(component)
        return sorted(due)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = dict(task_vars or {})
        args = self._task.args
        steps, auth, error = step_arguments("component_apply", args, ARGS)
        if error:
            result.update(failed=True, msg=error)
            return result
        if args.get("steps") is not None and args.get("spec") is not None:
            result.update(failed=True, msg="component_apply: spec goes with component, not with steps")
            return result
        roles_dir = args.get("roles_dir")
        given_spec = args.get("spec")
        stage = args.get("steps") is not None
        facts = {}
        done, task_path, one_by_one, notes = [], [], [], []
        changed = False
        for step in steps:
            component, part = step["component"], step_part(step)
            try:
                if given_spec is None and not self.has_spec(roles_dir, component):
                    if not stage:
                        raise StepFailure(component, "%s: its role declares no %s; give spec" % (component, spec_name(component)))
                    task_path.append(step)  # its role's tasks/apply.yml does the work
                    continue
                outcome, new_facts = self._step(roles_dir, component, part, task_vars, auth, given_spec, stage)
                if outcome is None:
                    task_path.append(step)
                    continue
            except (StepFailure, AnsibleError) as err:
                failed_component = getattr(err, "component", component)
                result.update(failed=True, changed=changed or bool(facts.get("manifests_changes")),
                              component=failed_component, msg=str(err), components=done,
                              failed_step=steps.index(step), ansible_facts=facts)
                inner = getattr(err, "result", {}) or {}
                for key in ("results", "object", "status"):
                    if key in inner:
                        result[key] = inner[key]
                return result
            facts.update(new_facts)
            task_vars.update(new_facts)
            changed = changed or outcome["changed"]
            one_by_one.extend(outcome.pop("one_by_one"))
            notes.extend(outcome["notes"])
            objects = outcome.pop("objects")
            for key in ("results", "files", "diff"):
                if key in objects:
                    outcome[key] = objects[key]
            done.append(outcome)
        if notes:
            result["msg"] = " ".join(notes)  # what render mode leaves to apply mode
        if stage:
            facts["platform_probes_due"] = self._probes_due(task_vars, steps, done, task_path)
        result.update(changed=changed, components=done, task_path=task_path, one_by_one=one_by_one, notes=notes,
                      ansible_facts=facts)
        if self._task.diff:
            diffs = []
            for outcome in done:
                diff = outcome.get("diff")
                if isinstance(diff, list):
                    diffs.extend(diff)
                elif diff:
                    diffs.append(diff)
            if diffs:
                result["diff"] = diffs
        return result
