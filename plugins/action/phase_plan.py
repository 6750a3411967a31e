# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.phase_plan (documentation: plugins/modules/phase_plan.py).

Runs on the controller and touches nothing: from the phase catalog, the run's --tags/--skip-tags and
every component's <component>_enabled and <component>_budget (inventory and extra vars first, then the
role's defaults/main.yml) it works out which steps of which stages the run performs.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import getpass
import os
import re

from ansible import context
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six import string_types
from ansible.parsing.splitter import parse_kv
from ansible.plugins.action import ActionBase

from ansible_collections.lakehouse.platform.plugins.module_utils import option_rules, phase_catalog
from ansible_collections.lakehouse.platform.plugins.module_utils.driver_prerequisites import (
    driver_prerequisites,
    helm_binary_problem,
)

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = ("phase", "catalog", "mode", "run_tags", "skip_tags", "roles_dir")
DRIVERS = ("helm", "flux", "argocd", "render")
OVERRIDE = "platform_override_reason"
SERVICE_MONITOR_CRD = "servicemonitors.monitoring.coreos.com"
PROBE_POLICIES = ("on_change", "always")
_VARIABLE = re.compile(r"[a-z_][a-z0-9_]*")
# Variables a role default may read that are Ansible's or the play's, not the user's settings.
_NOT_SETTINGS = frozenset(["omit", "inventory_dir", "inventory_file", "inventory_hostname", "playbook_dir", "role_path",
                           "groups", "group_names", "hostvars", "vars", "platform_phase", "platform_catalog",
                           "platform_plan", "platform_component_stage"])


def _login_name():
    """Who runs the controller: the login of the process (USER may be unset, e.g. in a container or cron)."""
    try:
        return getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        return ""


def override_reason_as_written(extra_vars_options):
    """The whole reason of ``-e platform_override_reason="two words"``.

    The shell removes the quotes, so ansible-playbook reads ``platform_override_reason=two words`` as key=value
    pairs and keeps only "two" (the rest lands in ``_raw_params``). Such an option holds one variable: all of it
    after the ``=`` is the reason. None when no -e option is written that way.
    """
    reason = None
    for option in extra_vars_options or ():
        text = str(option)
        if not text.startswith(OVERRIDE + "="):
            continue
        parsed = parse_kv(text)
        if set(parsed) - set([OVERRIDE, "_raw_params"]):
            reason = parsed.get(OVERRIDE)  # several variables in one option: key=value as ansible reads it
            continue
        value = text[len(OVERRIDE) + 1:].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        reason = value
    return reason


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def origin(name, defaults, given, depth=0):
    """The variables the user set that a role default is made from (``s3_storage_warehouse_bucket`` comes from
    ``platform_s3_warehouse_bucket``), so a refusal can name the option as the user spells it."""
    if name in given or name not in defaults or depth > 3:
        return []
    found = []
    for text in _strings(defaults[name]):
        if "{" not in text:
            continue
        for ref in _VARIABLE.findall(text):
            if ref == name or ref in found:
                continue
            if ref in _NOT_SETTINGS or ref.startswith("ansible_"):
                continue
            if ref in given:
                found.append(ref)
            elif ref in defaults:
                found.extend(r for r in origin(ref, defaults, given, depth + 1) if r not in found)
    return found


# What a <component>_prerequisites item must say (namespace and ready are optional).
PREREQUISITE_KEYS = ("what", "api_version", "kind", "name", "how")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _load(self, path, trusted_as_template=False):
        """A file of a role, read once per run of the plan (the loader hands out a deep copy on every read)."""
        cache = self.__dict__.setdefault("_files", {})
        key = (path, trusted_as_template)
        if key not in cache:
            # unsafe: no deep copy (these files are only read, never changed)
            cache[key] = self._loader.load_from_file(path, unsafe=True, trusted_as_template=trusted_as_template) or {}
        return cache[key]

    def _role_defaults(self, roles_dir, component):
        role = os.path.join(roles_dir, component)
        if not os.path.isdir(os.path.join(role, "tasks")):
            raise AnsibleError("phase catalog: component %s has no role (looked for %s/tasks)" % (component, role))
        path = os.path.join(role, "defaults", "main.yml")
        if not os.path.exists(path):
            return {}
        return dict(self._load(path, trusted_as_template=True))

    def _declares_apply(self, roles_dir, component):
        """Whether the component's role declares its apply step as data (<component>_apply_spec in vars/main.yml)."""
        path = os.path.join(roles_dir, component, "vars", "main.yml")
        return os.path.exists(path) and (component + "_apply_spec") in self._load(path, trusted_as_template=True)

    def _main_spec(self, roles_dir, component):
        """The options of the role's argument spec, entry point main ({} without one)."""
        path = os.path.join(roles_dir, component, "meta", "argument_specs.yml")
        if not os.path.exists(path):
            return {}
        specs = self._load(path).get("argument_specs") or {}
        return (specs.get("main") or {}).get("options") or {}

    @staticmethod
    def _component_prerequisites(component, merged, templar, names=()):
        """(items, None), or ([], problem): <component>_prerequisites (an item whose name is empty, a mode that
        needs nothing, is not checked), then a StorageClass for each option of the component that names one
        (``names``: the options its rules' conditions read, the role's argument spec)."""
        name = component + "_prerequisites"
        try:
            items = templar.template(merged[name]) if name in merged else []
            values = dict((option, templar.template(merged[option]))
                          for option in set(names) | option_rules.option_names(component) if option in merged)
        except Exception as err:  # pylint: disable=broad-except
            return [], "%s: its settings cannot be read: %s" % (component, err)
        if not isinstance(items, list):
            return [], "%s must be a list of prerequisites, got %s" % (name, type(items).__name__)
        needs = []
        for index, item in enumerate(items):
            missing = [key for key in PREREQUISITE_KEYS if not isinstance(item, dict) or key not in item]
            if missing:
                return [], "%s[%d] needs %s" % (name, index, ", ".join(missing))
            if not item["name"]:
                continue
            needs.append(dict(item, component=component))
        for option, storage_class in option_rules.storage_class_settings(component, values):
            needs.append({"what": "the StorageClass of %s" % option, "api_version": "storage.k8s.io/v1",
                          "kind": "StorageClass", "name": storage_class, "component": component,
                          "how": "create it (its provisioner), or set %s to a StorageClass of the cluster" % option})
        return needs, None

    def _argument_errors(self, roles_dir, component, templar, merged, defaults, given):
        """Errors of the component's inputs against its role's argument spec (entry point main) and the rules of
        option_rules, each naming the option, its value and the rule."""
        spec = self._main_spec(roles_dir, component)
        provided = {}
        unreadable = []
        for name in sorted(set(spec) | option_rules.option_names(component)):
            if name in merged:
                try:
                    provided[name] = templar.template(merged[name])
                except Exception as err:  # pylint: disable=broad-except
                    unreadable.append("%s cannot be read: %s" % (name, err))
        outcome = ArgumentSpecValidator(spec).validate(dict((k, v) for k, v in provided.items() if k in spec))
        values = dict(provided)
        values.update((k, v) for k, v in outcome.validated_parameters.items() if k in provided)
        errors = list(outcome.error_messages)
        bad = set(re.findall(r"(?:argument '|value of )([a-z0-9_]+)", " ".join(errors)))
        for sentence in option_rules.errors(component, dict((k, v) for k, v in values.items() if k not in bad)):
            top = re.match(r"[a-z0-9_]+", sentence)
            sources = origin(top.group(0), defaults, given) if top else []
            if sources:
                sentence += " (from %s)" % ", ".join("%s=%r" % (s, templar.template(given[s])) for s in sources)
            errors.append(sentence)
        # A setting made from a malformed one (postgres_budget from postgres_storage_size) cannot be read either:
        # the malformed one is the error to name.
        return ["%s: %s" % (component, error) for error in (errors or unreadable)]

    def _service_monitors_setting(self, task_vars):
        """('true'|'false'|'auto', None), or (None, problem): platform_service_monitors (default false)."""
        value = task_vars.get("platform_service_monitors", False)
        try:
            value = self._templar.template(value)
        except Exception as err:  # pylint: disable=broad-except
            return None, "platform_service_monitors cannot be read: %s" % err
        if isinstance(value, string_types) and value.strip().lower() == "auto":
            return "auto", None
        try:
            return ("true" if boolean(value, strict=True) else "false"), None
        except TypeError:
            return None, ("platform_service_monitors must be true, false or auto (auto: when the cluster serves the "
                          "ServiceMonitor CRD), got %r" % (value,))

    def _unknown_enabled(self, roles_dir, phases):
        """-e <name>_enabled=... whose <name> is no component and no option of one: a typo (icebrg_enabled) would
        leave the component it meant enabled."""
        try:
            from ansible.utils.vars import load_extra_vars
            extra = load_extra_vars(self._loader)
        except Exception:  # pylint: disable=broad-except
            return []
        names = [k for k in extra if k.endswith("_enabled") and not k.startswith(("platform_", "ansible_"))]
        if not names:
            return []
        components = set()
        for entry in phases.values():
            components.update(entry["components"])
        options = set()
        for component in components:
            options.update(self._role_defaults(roles_dir, component))
            options.update(self._main_spec(roles_dir, component))
        unknown = sorted(n for n in names if n[:-len("_enabled")] not in components and n not in options)
        return ["%s: names no component; <component>_enabled takes one of %s" % (n, ", ".join(sorted(components)))
                for n in unknown]

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        unknown_args = sorted(set(args) - set(ARGS))
        if unknown_args:
            return dict(failed=True, msg="phase_plan: unsupported option(s) %s" % ", ".join(unknown_args))
        phase = args.get("phase") or task_vars.get("platform_phase")
        catalog = args.get("catalog") or task_vars.get("platform_catalog")
        mode = args.get("mode") or task_vars.get("platform_mode") or "render"
        run_tags = list(args.get("run_tags") if args.get("run_tags") is not None else task_vars.get("ansible_run_tags") or ["all"])
        skip_tags = list(args.get("skip_tags") if args.get("skip_tags") is not None else task_vars.get("ansible_skip_tags") or [])
        roles_dir = args.get("roles_dir") or os.path.join(COLLECTION_ROOT, "roles")
        try:
            phases = phase_catalog.normalise(catalog)
        except phase_catalog.CatalogError as err:
            return dict(failed=True, msg="phase catalog: %s" % err)
        if phase not in phases:
            return dict(failed=True, msg="platform_phase=%r is not a phase of the catalog (phases: %s)"
                        % (phase, ", ".join(sorted(phases))))
        if mode not in ("apply", "render"):
            return dict(failed=True, msg="platform_mode must be apply or render, got %r" % (mode,))
        driver = task_vars.get("platform_chart_driver")
        if driver is not None:
            driver = self._templar.template(driver)
        if driver not in (None, "") and driver not in DRIVERS:
            return dict(failed=True, msg="platform_chart_driver must be one of %s, got %r; nothing was changed"
                        % (", ".join(DRIVERS), driver))
        unknown = phase_catalog.unknown_tags(phases, run_tags, skip_tags)
        if unknown:
            return dict(failed=True, msg="unknown tag(s) %s: a phase playbook answers to %s" % (
                ", ".join(unknown), ", ".join(sorted(phase_catalog.known_tags(phases)))))
        entry = phases[phase]
        deploy, rollback = phase_catalog.select(entry, run_tags, skip_tags)

        unknown_enabled = self._unknown_enabled(roles_dir, phases)
        if unknown_enabled:
            return dict(failed=True, argument_errors=unknown_enabled,
                        msg="%s: invalid settings, nothing was changed: %s" % (phase, "; ".join(unknown_enabled)))

        enabled = []
        settings = {}
        for component in entry["components"]:
            defaults = self._role_defaults(roles_dir, component)
            merged = dict(defaults)
            merged.update(task_vars)
            templar = self._templar.copy_with_new_env(available_variables=merged)
            name = component + "_enabled"
            try:
                flag = boolean(templar.template(merged[name]), strict=False) if name in merged else True
            except Exception as err:  # pylint: disable=broad-except
                return dict(failed=True, msg="%s: %s cannot be read: %s" % (component, name, err))
            if flag:
                enabled.append(component)
                settings[component] = (defaults, merged, templar)

        # Every input of every component the run deploys is checked now, before anything is touched (the budgets
        # below are made from these settings: a malformed one would otherwise be named by its budget).
        errors = []
        for component in deploy:
            if component not in enabled:
                continue
            defaults, merged, templar = settings[component]
            try:
                errors.extend(self._argument_errors(roles_dir, component, templar, merged, defaults, task_vars))
            except Exception as err:  # pylint: disable=broad-except
                errors.append("%s: its settings cannot be read: %s" % (component, err))
        # A catalog step <component>/<part> hands <part> to the role as <component>_stage: one of its choices.
        for stage in entry["stages"]:
            for step in stage["steps"]:
                if step["part"] == "all" or step["component"] not in settings or step["component"] not in deploy:
                    continue
                choices = (self._main_spec(roles_dir, step["component"]).get(step["component"] + "_stage") or {}).get("choices")
                if choices is not None and step["part"] not in [str(c) for c in choices]:
                    errors.append("%s: stage %d of the catalog runs part %r; %s_stage takes %s" % (
                        step["component"], stage["index"], step["part"], step["component"], ", ".join(map(str, choices))))
        service_monitors, problem = self._service_monitors_setting(task_vars)
        if problem:
            errors.append(problem)
        probes = self._templar.template(task_vars.get("platform_validation_probes", "on_change"))
        if probes not in PROBE_POLICIES:
            errors.append("platform_validation_probes must be %s (on_change: the probes that write run when the run "
                          "changed the component or its objective is not completed yet), got %r"
                          % (" or ".join(PROBE_POLICIES), probes))
        if errors:
            return dict(failed=True, argument_errors=errors,
                        msg="%s: invalid settings, nothing was changed: %s" % (phase, "; ".join(errors)))

        budgets = {}
        for component in enabled:
            defaults, merged, templar = settings[component]
            budget_name = component + "_budget"
            if budget_name in merged:
                try:
                    budgets[component] = templar.template(merged[budget_name])
                except Exception as err:  # pylint: disable=broad-except
                    return dict(failed=True, msg="%s: %s cannot be read: %s" % (component, budget_name, err))
            else:
                budgets[component] = ""

        # -e platform_override_reason="two words" as the documentation writes it: keep the whole reason.
        override_reason = override_reason_as_written(context.CLIARGS.get("extra_vars") if context.CLIARGS else None)
        if override_reason is None:
            override_reason = self._templar.template(task_vars.get(OVERRIDE, "")) or ""

        # What the phase needs from earlier phases (catalog "requires"), named with the variables of the role that
        # makes it (inventory first, then that role's defaults); preflight checks each in apply mode.
        prerequisites = []
        for index, need in enumerate(entry["requires"]):
            merged = dict(self._role_defaults(roles_dir, need["component"])) if need.get("component") else {}
            merged.update(task_vars)
            templar = self._templar.copy_with_new_env(available_variables=merged)
            resolved = dict((k, v) for k, v in need.items() if not k.endswith("_from"))
            for key in ("name", "namespace"):
                variable = need.get(key + "_from")
                if not variable:
                    continue
                if variable not in merged:
                    return dict(failed=True, msg="%s: requires[%d] (%s): %s_from names %s, which %s does not define"
                                % (phase, index, need.get("what"), key, variable, need.get("component") or "the play"))
                try:
                    resolved[key] = templar.template(merged[variable])
                except Exception as err:  # pylint: disable=broad-except
                    return dict(failed=True, msg="%s: requires[%d] (%s) cannot be read: %s" % (phase, index, need.get("what"), err))
            prerequisites.append(resolved)

        # What the chart driver of an apply run runs on: its CRDs and controllers on the cluster (checked by
        # preflight with the prerequisites above, before the lock), the helm binary on this controller (now).
        selected = [c for c in deploy if c in enabled]
        effective_driver = driver or ("render" if mode == "render" else "flux")
        if mode == "apply" and selected:
            if effective_driver == "helm":
                problem = helm_binary_problem()
                if problem:
                    return dict(failed=True, msg="%s: %s; nothing was changed" % (phase, problem))
            try:
                flux_namespace = self._templar.template(task_vars.get("platform_flux_namespace") or "flux-system")
                argocd_namespace = self._templar.template(
                    task_vars.get("chart_release_argocd_namespace") or "argocd")
                kustomize = any(boolean(settings[c][2].template(settings[c][1][c + "_flux_kustomize"]), strict=False)
                                for c in selected if c + "_flux_kustomize" in settings[c][1])
            except Exception as err:  # pylint: disable=broad-except
                return dict(failed=True, msg="%s: the chart driver's settings cannot be read: %s" % (phase, err))
            prerequisites.extend(driver_prerequisites(effective_driver, flux_namespace, argocd_namespace, kustomize))
            # What each component needs and does not install itself (an operator's CRD, its namespace, the
            # StorageClass its settings name): <component>_prerequisites, checked by preflight with the above.
            for component in selected:
                needs, problem = self._component_prerequisites(
                    component, settings[component][1], settings[component][2], self._main_spec(roles_dir, component))
                if problem:
                    return dict(failed=True, argument_errors=[problem],
                                msg="%s: invalid settings, nothing was changed: %s" % (phase, problem))
                prerequisites.extend(needs)
            # The Prometheus operator's ServiceMonitor CRD, when a component declares metrics endpoints:
            # required with platform_service_monitors=true, looked for (never refused) with auto.
            monitored = [c for c in selected if settings[c][1].get(c + "_service_monitors")]
            if monitored and service_monitors != "false":
                prerequisites.append({
                    "what": "the Prometheus operator's ServiceMonitor CRD (platform_service_monitors=%s, for %s)"
                            % (service_monitors, ", ".join(monitored)),
                    "api_version": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "name": SERVICE_MONITOR_CRD, "ready": True, "feature": "service_monitors",
                    "optional": service_monitors == "auto",
                    "how": "install the Prometheus operator (kube-prometheus-stack), or set platform_service_monitors "
                           "to auto or false"})

        stages = []
        last_stage = {}
        for stage in entry["stages"]:
            steps = [dict(step, objective=entry["objective_of"].get(step["component"], ""), stage=stage["index"])
                     for step in stage["steps"]
                     if step["component"] in deploy and step["component"] in enabled]
            for step in steps:
                last_stage[step["component"]] = stage["index"]
            if steps:
                stages.append({"index": stage["index"], "steps": steps,
                               "components": [s["component"] for s in steps]})
        plan = {
            "phase": phase,
            "title": entry["title"],
            "mode": mode,
            "components": entry["components"],
            "enabled": enabled,
            "selected": [c for c in deploy if c in enabled],
            "stages": stages,
            # Render mode renders every step in one call when every role declares its apply step as data.
            "render_steps": [step for stage in stages for step in stage["steps"]],
            "render_in_one": all(self._declares_apply(roles_dir, step["component"])
                                 for stage in stages for step in stage["steps"]),
            "last_stage": last_stage,
            "objective_of": entry["objective_of"],
            "objectives": entry["objectives"],
            # Rollback undoes what a component created whether or not it is enabled now, newest first.
            "rollback": list(reversed(rollback)),
            "rollback_run": any(t == "rollback" or t.startswith("rollback_") for t in run_tags),
            "budgets": budgets,
            "trigger": entry["trigger"],
            "prerequisites": prerequisites,
            "service_monitors": service_monitors,
            "min_health_percent": entry["min_health_percent"],
            "health_target_percent": entry["health_target_percent"],
            "run_tags": run_tags,
            "login": _login_name(),
            "override_reason": str(override_reason),
            "skip_tags": skip_tags,
        }
        # Facts outlive their play: in site.yml, one phase's failure and checks must not reach the next one's.
        result.update(changed=False, plan=plan, ansible_facts={
            "platform_plan": plan, "phase_failure": {},
            # Accumulated by the manifests_render and k8s_apply actions (facts, so no set_fact may shadow them).
            "manifests_changes": [], "manifests_rendered": {},
            # The components whose probes that write run (lakehouse.platform.component_apply adds them per stage).
            "platform_probes_due": []})
        return result
