# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validate step a component role declares as data (``<component>_validate_spec`` in its vars/main.yml), run
inside an action (component_validate; component_wait with ``validate``): the checks, in order, each a module call
(``action``, ``args``, ``register``, ``when``, ``until`` with ``retries``/``delay``, ``failed_when``, ``timeout``,
``no_log``), an assertion (``assert`` with ``fail_msg``), the workloads of the component's releases ready
(``workloads``), or a part of the record (``record``). Each check is templated when its turn comes, with the
results registered before it, as a task list would be.

Why not tasks: a task costs about a second here, and a component's validation was 6-20 of them. Ansible has no
way to run a list of module calls, templated in turn, inside one task. The checks only read or probe (what they
create they delete), except those marked ``lasting`` (a connection made once, e.g. Superset's database), whose
``changed`` counts and which run in check mode too.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import signal
import threading
import time

from ansible.module_utils.six import string_types
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.lakehouse.platform.plugins.filter.workloads import workloads_not_ready
from ansible_collections.lakehouse.platform.plugins.plugin_utils.in_worker import FOREIGN_MODULES
from ansible_collections.lakehouse.platform.plugins.plugin_utils.role_vars import StepFailure, kube_action_group
from ansible_collections.lakehouse.platform.plugins.plugin_utils.sub_action import run_action

display = Display()

SPEC_KEYS = ("when", "defaults", "checks")
CHECK_KEYS = ("name", "when", "action", "args", "register", "retries", "delay", "until", "failed_when", "timeout",
              "no_log", "always", "check_mode", "lasting", "assert", "fail_msg", "workloads", "record")
KINDS = ("action", "assert", "workloads", "record")
WORKLOAD_KINDS = ["StatefulSet", "Deployment"]
# The modules a check gets the task's Kubernetes connection options for (those of the module_defaults groups).
KUBE_MODULES = frozenset(["lakehouse.platform." + name for name in kube_action_group()] + list(FOREIGN_MODULES))
SKIPPED = {"skipped": True, "changed": False, "skip_reason": "Conditional result was False"}


def spec_name(component):
    return component + "_validate_spec"


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds):
    """SIGALRM after ``seconds`` in the worker's main thread (what a task's ``timeout`` does); else no limit."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(_signum, _frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(int(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class _Step(object):
    """One component's checks, templated one by one with what the checks before registered."""

    def __init__(self, action, component, templar, variables, auth, check_mode):
        self.action = action
        self.component = component
        self.templar = templar
        self.variables = variables
        self.auth = auth
        self.check_mode = check_mode
        self.registered = {}
        self.record = {}
        self.changed = False
        self.ran = []
        self.warnings = []

    def fail(self, message, result=None):
        text = str(message)
        raise StepFailure(self.component, text if text.startswith(self.component + ":") else "%s: %s" % (self.component, text),
                          result)

    def _set(self, name, value, no_log=False):
        if not no_log:
            self.registered[name] = value  # returned as facts, as a task's register is seen after it
        self.variables[name] = value
        self.templar.available_variables = self.variables

    def true(self, conditions):
        if conditions is None:
            return True
        for condition in (conditions if isinstance(conditions, list) else [conditions]):
            if not self.templar.evaluate_conditional(condition):
                return False
        return True

    def run(self, checks, defaults):
        failure = None
        for index, check in enumerate(checks):
            where = "%s[%d]" % (spec_name(self.component), index)
            kinds = [key for key in KINDS if isinstance(check, dict) and key in check]
            if not isinstance(check, dict) or set(check) - set(CHECK_KEYS) or len(kinds) != 1:
                self.fail("%s is one of %s (with name, when, register, ...): %r" % (where, ", ".join(KINDS), check))
            if failure is not None and not check.get("always"):
                continue
            if self.check_mode and not check.get("check_mode"):
                continue
            name = check.get("name") or where
            try:
                if not self.true(check.get("when")):
                    if check.get("register"):
                        self._set(check["register"], dict(SKIPPED))
                    continue
                started = time.time()
                self.ran.append({"check": name})
                getattr(self, "_" + kinds[0])(check, name, defaults)
                self.ran[-1]["elapsed"] = round(time.time() - started, 3)
            except Exception as err:  # pylint: disable=broad-except
                if not isinstance(err, StepFailure):
                    err = StepFailure(self.component, "%s: %s (%s): %s" % (self.component, name, where, err))
                if failure is None:  # the first failure is the one raised; a clean-up's own failure is not
                    err.check = name
                    failure = err
        if failure is not None:
            raise failure

    def _action(self, check, name, defaults):
        module = check["action"]
        args = dict(defaults.get(module) or {})
        args.update(self.templar.template(check.get("args") or {}))
        if module in KUBE_MODULES:
            for key, value in self.auth.items():
                args.setdefault(key, value)
        retries = int(self.templar.template(check.get("retries", 0)))
        delay = float(self.templar.template(check.get("delay", 5)))
        timeout = int(self.templar.template(check.get("timeout", 0)) or 0)
        no_log = bool(check.get("no_log"))
        attempts = 0
        while True:
            attempts += 1
            try:
                with _deadline(timeout):
                    outcome = run_action(self.action, module, args, self.variables, no_log=no_log)
            except _Timeout:
                outcome = {"failed": True, "msg": "%s did not answer within %d s" % (name, timeout)}
            outcome = dict(outcome, attempts=attempts)
            if not no_log:
                self.warnings.extend(outcome.get("warnings") or [])
            if check.get("register"):
                self._set(check["register"], outcome, no_log)
            if "until" not in check or self.true(check["until"]):
                break
            if attempts > retries:
                self.fail("%s: not done after %d attempts (until %s)%s" % (
                    name, attempts, check["until"], (": " + str(outcome.get("msg"))) if outcome.get("msg") and not no_log else ""),
                    {} if no_log else outcome)
            time.sleep(delay)
        failed = self.true(check["failed_when"]) if "failed_when" in check else bool(outcome.get("failed"))
        if failed:
            message = "failed (details hidden: no_log)" if no_log else (outcome.get("msg") or "failed")
            self.fail("%s: %s" % (name, message) if not str(message).startswith(self.component + ":") else message,
                      {} if no_log else outcome)
        if check.get("lasting") and outcome.get("changed"):
            self.changed = True

    def _assert(self, check, name, _defaults):
        if not self.true(check["assert"]):
            self.fail(self.templar.template(check.get("fail_msg") or "%s: the assertion failed" % name))

    def _workloads(self, check, name, _defaults):
        """The StatefulSets/Deployments of the component's releases (by label selector) exist and are ready."""
        spec = self.templar.template(check["workloads"])
        namespace, selectors = spec["namespace"], list(spec["selectors"])
        kinds = list(spec.get("kinds") or WORKLOAD_KINDS)
        found, missing = [], []
        for selector in selectors:
            resources = []
            for kind in kinds:
                query = {"api_version": "apps/v1", "kind": kind, "namespace": namespace, "label_selectors": [selector]}
                query.update(self.auth)
                outcome = {}
                for attempt in range(4):  # a 429 or 5xx of a busy API server: a read is safe to send again
                    outcome = run_action(self.action, "lakehouse.platform.k8s_info", query, self.variables)
                    if not outcome.get("failed"):
                        break
                    time.sleep(2)
                if outcome.get("failed"):
                    self.fail("%s: reading the %ss labelled %s in %s failed: %s"
                              % (name, kind, selector, namespace, outcome.get("msg", "?")), outcome)
                resources.extend(outcome.get("resources") or [])
            if not resources:
                missing.append(selector)
            found.extend(resources)
        unready = workloads_not_ready(found)
        names = sorted(item["metadata"]["name"] for item in found)
        if check.get("register"):
            self._set(check["register"], {"names": names, "resources": found, "unready": unready, "missing": missing})
        problems = []
        if missing:
            problems.append("no %s labelled %s in %s" % (" or ".join(kinds), " or ".join(missing), namespace))
        if unready:
            problems.append("not ready: " + ", ".join(unready))
        if problems:
            self.fail(". ".join(problems))
        self.record = merge_hash(self.record, {"workloads": names})

    def _record(self, check, _name, _defaults):
        part = self.templar.template(check["record"])
        if not isinstance(part, dict):
            self.fail("the record must be a mapping, got %r" % (part,))
        self.record = merge_hash(self.record, part)


def outcome_facts(outcome):
    """The facts of a component's validation: what its checks registered (but a no_log one's), and its record as
    ``<component>_validation`` (which the report reads). Set by an action as host facts, they never compete with a
    set_fact of another name."""
    facts = dict(outcome.pop("registered", {}))
    if outcome.get("record"):
        facts[outcome["component"] + "_validation"] = outcome["record"]
    return facts


def failure_result(err):
    """The keys of the result of an action whose validation failed (a StepFailure): the component, the message,
    the check that failed (as the phase records a failed task) and, as a failed task sets no facts, the result of
    the module call that failed as check_result (never a no_log check's: the failure carries none)."""
    fields = {"failed": True, "component": err.component, "msg": str(err)}
    if getattr(err, "check", None):
        fields["task"] = err.check
    if err.result:
        fields["check_result"] = err.result
    return fields


def validate_component(action, roles, component, part, task_vars, auth):
    """The outcome of ``component``'s validate spec (component, part, ran, changed, record, registered), None when
    the spec is none (the role's tasks validate); raises StepFailure naming the component."""
    # role_path as a role's own tasks have it (a file the spec reads from the role's files/).
    base = {"chart_release_component": component, "role_path": roles.role_path(component)}
    if part is not None:
        base["platform_component_stage"] = part
    templar, merged = roles.templar_for(component, task_vars, base)
    spec = merged[spec_name(component)]
    try:
        if isinstance(spec, string_types):
            spec = templar.template(spec)
        if spec is None:
            return None  # this run needs the role's tasks/validate.yml
        if not isinstance(spec, dict) or set(spec) - set(SPEC_KEYS) or not isinstance(spec.get("checks"), list):
            raise StepFailure(component, "%s: %s is a mapping of checks (a list), with optional when and defaults"
                              % (component, spec_name(component)))
        mode = templar.template(merged.get(component + "_mode", merged.get("platform_mode", "render")))
        check_mode = bool(action._task.check_mode)
        step = _Step(action, component, templar, merged, auth, check_mode)
        if mode != "apply" or check_mode:
            # What the roles' tasks said (a debug line): validation runs in apply mode.
            display.display("%s: %s mode%s; validation runs in apply mode."
                            % (component, mode, ", check mode" if check_mode else ""))
        if mode != "apply":
            return {"component": component, "part": part or "all", "ran": [], "changed": False}
        if not step.true(spec.get("when")):
            return {"component": component, "part": part or "all", "ran": [], "changed": False}
        step.run(spec["checks"], templar.template(spec.get("defaults") or {}))
    except StepFailure:
        raise
    except Exception as err:  # pylint: disable=broad-except
        raise StepFailure(component, "%s: %s: %s" % (component, spec_name(component), err))
    done = {"component": component, "part": part or "all", "ran": step.ran, "changed": step.changed,
            "record": step.record, "warnings": step.warnings, "registered": step.registered}
    return done
