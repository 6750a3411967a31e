# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run another action of this collection from inside an action, as its own task would run it.

The task is copied with the new arguments, its action names the one run (the action plugins of this
collection's modules run the module of that name), check mode, diff and the connection stay the task's;
``no_log`` hides what the module is given (a generated Secret). The kubernetes.core modules a check calls run in
the worker too, where plugin_utils/in_worker allows it (else as a separate process, as their own action would).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lakehouse.platform.plugins.plugin_utils.in_worker import (
    FOREIGN_MODULES, execute_module, why_not_in_worker)


def run_action(action, name, args, task_vars, no_log=False):
    """The result of the action ``name`` (a fully qualified name) with ``args``, run for ``action``'s task."""
    task = action._task.copy()
    task.args = dict(args)
    task.action = name
    task._resolved_action = name  # what the module actions of this collection (plugin_utils/in_worker) run
    if no_log:
        task.no_log = True
    if name in FOREIGN_MODULES and task.args.get("src") is None and task.args.get("template") is None:
        # kubernetes.core's module runs in this worker as this collection's modules do (plugin_utils/in_worker);
        # where it may not, its own action plugin runs it.
        other = action._shared_loader_obj.action_loader.get(
            "ansible.legacy.normal", task=task, connection=action._connection, play_context=action._play_context,
            loader=action._loader, templar=action._templar, shared_loader_obj=action._shared_loader_obj)
        if why_not_in_worker(other, task_vars) is None:
            return execute_module(other, name, task.args, task_vars)
    other = action._shared_loader_obj.action_loader.get(
        name, task=task, connection=action._connection, play_context=action._play_context, loader=action._loader,
        templar=action._templar, shared_loader_obj=action._shared_loader_obj)
    return other.run(task_vars=task_vars)
