# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.phase_preflight (documentation: plugins/modules/phase_preflight.py).

The preflight role's one task. In this order, and a refusal anywhere before the lock changes nothing:
the checks of the variables (no cluster contact), the measurement (lakehouse.platform.platform_capacity_info
in apply mode, the inventory's declared capacity in render mode, with the same module_utils code), the checks
of capacity, health, trigger and prerequisites, then in apply mode the run lock (lakehouse.platform.run_lock),
the only write. Returns the facts the objectives, report and component roles read (preflight_run, ...).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import random

from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.lakehouse.platform.plugins.filter.capacity import declared_capacity, phase_budget, quantity_bytes
from ansible_collections.lakehouse.platform.plugins.filter.workloads import prerequisites_missing
from ansible_collections.lakehouse.platform.plugins.plugin_utils.role_vars import AUTH_OPTIONS
from ansible_collections.lakehouse.platform.plugins.plugin_utils.sub_action import run_action

ARGS = ("mode", "phase", "components", "budgets", "state_namespace", "lock_name", "lock_ttl", "triggers",
        "override_reason", "override_min_length", "operator", "headroom_percent", "min_health_percent",
        "declared_capacity", "prerequisites", "service_monitors", "run_id") + AUTH_OPTIONS


class Refusal(Exception):
    pass


def _number(value, convert=int):
    """Jinja's ``| int`` / ``| float``: the number, 0 for what is none."""
    try:
        return convert(value)
    except (TypeError, ValueError):
        try:
            return convert(float(value))
        except (TypeError, ValueError):
            return convert(0)


def _round1(value):
    text = "%s" % round(value, 1)
    return text


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def _budgets(self, components, task_vars):
        """{component: budget} of the enabled components, from the play's variables (preflight run on its own)."""
        budgets = {}
        for component in components:
            enabled = task_vars.get(component + "_enabled", True)
            if not boolean(self._templar.template(enabled), strict=False):
                continue
            budgets[component] = self._templar.template(task_vars.get(component + "_budget", ""))
        return budgets

    def _variables(self, args, task_vars, phase, mode, components):
        """The checks that read only variables; returns (budgets, budget, lock_ttl, override_reason)."""
        if mode not in ("apply", "render") or not components:
            raise Refusal("platform_mode must be apply or render (got %s) and platform_phase_components must list the "
                          "components of %s (got %s); run a phase through its playbook." % (mode, phase, components))
        budgets = args.get("budgets")
        if budgets is None:
            budgets = self._budgets(components, task_vars)
        missing = [c for c, b in budgets.items() if not isinstance(b, dict)]
        if missing:
            raise Refusal("%s: no budget for %s; set <component>_budget ({cpu, memory, storage, pods: [{name, cpu, "
                          "memory, count}]}) in the role defaults or the inventory." % (phase, ", ".join(missing)))
        try:
            budget = phase_budget(budgets)
        except Exception as err:  # pylint: disable=broad-except
            raise Refusal(str(err))
        lock_ttl = _number(args.get("lock_ttl"))
        if lock_ttl <= 0:
            raise Refusal("platform_lock_ttl must be a positive number of seconds, got %s." % args.get("lock_ttl"))
        trigger = (args.get("triggers") or {}).get(phase) or {}
        if "storage_used" in trigger:
            try:
                positive = quantity_bytes(trigger["storage_used"]) > 0
            except Exception as err:  # pylint: disable=broad-except
                raise Refusal(str(err))
            if not positive:
                raise Refusal("platform_phase_triggers.%s.storage_used must be a positive quantity such as 200Gi, got %s."
                              % (phase, trigger["storage_used"]))
        reason = str(args.get("override_reason") or "").strip()
        least = _number(args.get("override_min_length"))
        if reason and len(reason) < least:
            raise Refusal("platform_override_reason has %d characters; a justification needs at least %s (say why the "
                          "phase must start before its trigger)." % (len(reason), args.get("override_min_length")))
        declared = args.get("declared_capacity")
        if mode == "render" and not (isinstance(declared, dict) and (declared.get("nodes") or [])):
            raise Refusal("render mode measures nothing: declare the cluster in platform_declared_capacity (nodes with "
                          "cpu, memory, requested; storage_used; pods running/total), as inventories/local does.")
        return budgets, budget, reason

    def _checks(self, args, phase, mode, capacity, reason, operator, started_at, measured):
        """Capacity, health, trigger and prerequisites; returns (trigger, override)."""
        fit = capacity["fit"]
        if not fit["fits"]:
            unplaced = "; ".join("%s: %s" % (u.get("pod"), u.get("reason")) for u in fit.get("unplaced") or [])
            raise Refusal(
                "%s: the budget (cpu %s, memory %s, %s pods) does not fit the %s schedulable nodes (free cpu %s, memory "
                "%s, %s pod slots): %s" % (phase, fit["requested"]["cpu"], fit["requested"]["memory"],
                                           fit["requested"]["pods"], fit["schedulable_nodes"], fit["cluster_free"]["cpu"],
                                           fit["cluster_free"]["memory"], fit["cluster_free"]["pods"], unplaced))
        headroom = _number(args.get("headroom_percent"))
        cpu_allowed = int(fit["cluster_free"]["cpu_millicores"] * (100 - headroom) / 100)
        memory_allowed = int(fit["cluster_free"]["memory_bytes"] * (100 - headroom) / 100)
        if fit["requested"]["cpu_millicores"] > cpu_allowed or fit["requested"]["memory_bytes"] > memory_allowed:
            raise Refusal(
                "%s: the budget needs cpu %s and memory %s; keeping %s%% of the free capacity (cpu %s, memory %s) as a "
                "buffer allows at most cpu %sm and memory %sGi (platform_capacity_headroom_percent)."
                % (phase, fit["requested"]["cpu"], fit["requested"]["memory"], args.get("headroom_percent"),
                   fit["cluster_free"]["cpu"], fit["cluster_free"]["memory"], cpu_allowed,
                   _round1(memory_allowed / 1073741824)))
        health = capacity["health"]["overall"]
        minimum = _number(args.get("min_health_percent"), float)
        if health.get("percent") is not None and not health["percent"] >= minimum:
            raise Refusal("%s: platform health is %s, below the minimum of %s%% (platform_min_health_percent)."
                          % (phase, health["summary"], args.get("min_health_percent")))
        trigger_setting = (args.get("triggers") or {}).get(phase) or {}
        trigger, override = {}, {}
        if "storage_used" in trigger_setting:
            threshold = trigger_setting["storage_used"]
            total = capacity["storage"]["total"]
            trigger = {"metric": "storage_used", "measured": total["capacity"], "measured_bytes": total["capacity_bytes"],
                       "threshold": threshold, "threshold_bytes": quantity_bytes(threshold),
                       "met": total["capacity_bytes"] >= quantity_bytes(threshold)}
            if not trigger["met"] and not reason:
                raise Refusal("%s: storage used is %s, below the trigger of %s; to start anyway set "
                              "platform_override_reason to a written justification (it is recorded with the run)."
                              % (phase, trigger["measured"], threshold))
            if not trigger["met"]:
                override = {"who": operator, "when": started_at, "why": reason, "metric": "storage_used",
                            "measured": trigger["measured"], "threshold": threshold}
                self._warnings.append("%s starts below its trigger (storage used %s < %s) on a manual override by %s: %s"
                                      % (phase, trigger["measured"], threshold, operator, reason))
        if mode == "apply" and args.get("prerequisites"):
            missing = prerequisites_missing((measured or {}).get("prerequisites") or [])
            if missing:
                raise Refusal("%s needs what earlier phases deploy and what its chart driver runs on, and these are "
                              "missing or not ready: %s. Nothing was changed." % (phase, "; ".join(missing)))
        return trigger, override

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        self._warnings = []
        args = self._task.args
        unknown = sorted(set(args) - set(ARGS))
        if unknown:
            result.update(failed=True, msg="phase_preflight: unsupported option(s) %s" % ", ".join(unknown))
            return result
        auth = dict((key, args[key]) for key in AUTH_OPTIONS if args.get(key) is not None)
        now = datetime.datetime.now(datetime.timezone.utc)
        run_id = str(args.get("run_id") or "") or "%s-%d" % (now.strftime("%Y%m%dT%H%M%SZ"), random.randrange(1000000))
        started_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        operator = str(args.get("operator") or "").strip()
        rollback_run = any(str(tag).startswith("rollback") for tag in task_vars.get("ansible_run_tags") or [])
        phase = args.get("phase")
        mode = args.get("mode")
        components = list(args.get("components") or []) if is_sequence(args.get("components")) else []
        # Facts outlive their play: in site.yml, phase 1's validations would otherwise reach phase 3's report.
        facts = {"platform_validations": {}, "phase_checks": [], "preflight_run_id": run_id,
                 "preflight_started_at": started_at, "preflight_operator_name": operator,
                 "preflight_rollback_run": rollback_run}
        result["ansible_facts"] = facts
        try:
            budgets, budget, reason = self._variables(args, task_vars, phase, mode, components)
            facts.update(preflight_budgets=budgets, preflight_budget=budget)
            measured = None
            if mode == "apply":
                measured = run_action(self, "lakehouse.platform.platform_capacity_info", dict(
                    auth, budget=budget["pods"], prerequisites=[] if rollback_run else list(args.get("prerequisites") or [])),
                    task_vars)
                if measured.get("failed"):
                    result.update(failed=True, msg=measured.get("msg") or "measuring the cluster failed")
                    return result
                capacity = measured
            else:
                try:
                    capacity = declared_capacity(args.get("declared_capacity"), budget["pods"])
                except Exception as err:  # pylint: disable=broad-except
                    raise Refusal(str(err))
            facts["preflight_capacity"] = capacity
            trigger, override = ({}, {}) if rollback_run else self._checks(
                args, phase, mode, capacity, reason, operator, started_at, measured)
        except Refusal as refusal:
            result.update(failed=True, changed=False, msg=str(refusal))
            return result
        facts.update(preflight_trigger=trigger, preflight_override=override)

        lock = {"taken": False, "reason": mode + " mode"}
        if mode == "apply":
            holder = "%s/%s" % (operator, run_id)
            taken = run_action(self, "lakehouse.platform.run_lock", dict(
                auth, namespace=args.get("state_namespace"), name=args.get("lock_name"), holder=holder,
                ttl=_number(args.get("lock_ttl")),
                labels={"app.kubernetes.io/part-of": "lakehouse.platform", "lakehouse.platform/state": "lock"},
                annotations={"lakehouse.platform/phase": phase, "lakehouse.platform/since": started_at,
                             "lakehouse.platform/operator": operator,
                             "lakehouse.platform/action": "rollback" if rollback_run else "deploy"}), task_vars)
            if taken.get("failed"):
                result.update(failed=True, changed=False, msg=taken.get("msg") or "the run lock was not taken")
                return result
            lock = {"taken": taken.get("taken"), "name": args.get("lock_name"), "namespace": args.get("state_namespace"),
                    "holder": holder, "took_over": taken.get("took_over"),
                    "reason": "check mode: read only" if self._task.check_mode else ""}
            result["changed"] = bool(taken.get("changed"))
            facts["preflight_lock"] = lock

        service_monitors = str(args.get("service_monitors") or "false")
        found_crd = any((item.get("item") or {}).get("feature") == "service_monitors" and item.get("resources")
                        for item in ((measured or {}).get("prerequisites") or []))
        facts["preflight_run"] = {
            "id": run_id, "phase": phase, "mode": mode, "action": "rollback" if rollback_run else "deploy",
            "check_mode": bool(self._task.check_mode), "operator": operator, "started_at": started_at,
            "components": components, "enabled_components": [c for c in components if c in budgets],
            "budget": budget["total"], "budget_per_component": budget["components"],
            "capacity_source": "inventory (platform_declared_capacity)" if mode == "render" else "cluster",
            "health_before": capacity["health"]["overall"], "storage_before": capacity["storage"]["total"],
            "fit": capacity.get("fit") or {}, "trigger": trigger, "override": override, "lock": lock,
            # platform_service_monitors: true makes them (apply: the CRD is a prerequisite above); auto when the
            # measurement found the CRD; the component roles read this (<component>_service_monitors_enabled).
            "service_monitors": service_monitors == "true" or (service_monitors == "auto" and mode == "apply" and found_crd),
        }
        if self._warnings:
            result["warnings"] = self._warnings
        return result
