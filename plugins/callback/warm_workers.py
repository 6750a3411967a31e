# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: warm_workers
type: aggregate
short_description: Import the Kubernetes client once in the controller for this collection's modules
version_added: 0.2.0
description:
  - This collection's Kubernetes modules run inside the task's worker process when the connection is local
    and the host's Python is the controller's (see C(plugins/plugin_utils/in_worker.py)). Ansible forks that
    worker from the controller process for every task.
  - Once the first task of such a module has run, this callback imports the Kubernetes client and the
    collection's Kubernetes module_utils in the controller process, so every later worker starts with them
    loaded instead of importing them again (about half a second a task on a small controller).
  - The controller-side actions of a phase (preflight, the step actions) count once they ran in apply mode.
  - It prints nothing and changes no result. A run in which no such task runs (render mode, where they are
    skipped or render) imports nothing.
  - Enabled by the collection's C(ansible.cfg); without it the modules work the same, only slower.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
requirements:
  - enable in ansible.cfg (C(callbacks_enabled = lakehouse.platform.warm_workers))
"""

from ansible.plugins.callback import CallbackBase

from ansible_collections.lakehouse.platform.plugins.plugin_utils import in_worker

PREFIX = "lakehouse.platform."
# Actions that run on the controller and talk to Kubernetes only in apply mode (through the modules they run):
# preflight measures and locks, the step actions apply, wait and validate; the plan comes first and says the mode.
# Their files do not import the Kubernetes client, so a render run never does.
STEP_ACTIONS = frozenset(("phase_plan", "phase_preflight", "component_apply", "component_wait", "component_validate"))


def _apply_mode(result):
    """Whether a step action's result shows it talks to Kubernetes: a plan or preflight's run in apply mode, an
    apply step in apply mode, a wait (waits run in apply mode only), a validation that ran checks."""
    answer = getattr(result, "_result", None) or {}
    facts = answer.get("ansible_facts") or {}
    runs = [facts.get("platform_plan") or {}, facts.get("preflight_run") or {}]
    components = [item for item in answer.get("components") or [] if isinstance(item, dict)]
    return (any(run.get("mode") == "apply" for run in runs if isinstance(run, dict))
            or any(item.get("mode") == "apply" for item in components)
            or any("waited" in item or item.get("ran") for item in components))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lakehouse.platform.warm_workers"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._warm = False

    def _ran(self, result):
        # After the first task of such a module that ran (not one skipped by its condition: a render run
        # imports nothing), before the next task's worker is forked.
        if self._warm:
            return
        task = getattr(result, "_task", None)
        action = getattr(task, "resolved_action", None) or getattr(task, "action", None) or ""
        if not action.startswith(PREFIX):
            return
        short = action[len(PREFIX):]
        if short in in_worker.KUBERNETES_MODULES or (short in STEP_ACTIONS and _apply_mode(result)):
            self._warm = True
            in_worker.preload()

    def v2_runner_on_ok(self, result):
        self._ran(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._ran(result)

    def v2_runner_item_on_ok(self, result):
        self._ran(result)
