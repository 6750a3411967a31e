# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.k8s_apply (documentation: plugins/modules/k8s_apply.py).

Runs the module unchanged (its arguments, check and diff mode pass through) and adds the fact
``manifests_changes``: the previous value plus one entry per object the module created or updated
(in check mode: would create or update, and the objects it could not dry-run, which a real run
creates). The report role lists that fact.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.lakehouse.platform.plugins.module_utils import manifests
from ansible_collections.lakehouse.platform.plugins.plugin_utils import in_worker

MODULE = "lakehouse.platform.k8s_apply"
REF_KEYS = ("apiVersion", "kind", "namespace", "name")


def changes_of(module_result, component, check_mode=False):
    """The manifests_changes entries of one module result: ref + component + action (created/updated)."""
    changes = []
    for entry in module_result.get("results") or []:
        action = entry.get("action")
        if action == "skipped" and check_mode:
            action = "created"  # absent namespace or kind not served yet: the object does not exist
        if action not in ("created", "updated"):
            continue
        change = dict((key, entry.get(key, "")) for key in REF_KEYS)
        change.update(component=component, action=action)
        changes.append(change)
    return changes


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect

        # Refused here, on the controller, before any module runs: a module's failure result carries its
        # arguments (invocation), which would put the values in the output.
        objects = self._task.args.get("objects")
        if isinstance(objects, list):
            with_values = manifests.secret_values([o for o in objects if isinstance(o, dict)])
            if with_values:
                result.update(failed=True, changed=False, msg=manifests.secret_values_message(
                    self._task.args.get("component") or "?", with_values))
                return result

        wrap_async = self._task.async_val and not self._connection.has_native_async
        module_result = in_worker.execute_module(self, MODULE, self._task.args.copy(), task_vars, wrap_async)
        result = merge_hash(result, module_result)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if result.get("skipped") is True or "results" not in result:
            return result  # the module did not run (skipped, or failed before applying anything)

        previous = task_vars.get("manifests_changes")
        if previous is not None and not isinstance(previous, list):
            previous = self._templar.template(previous)
        previous = list(previous) if isinstance(previous, list) else []
        component = self._task.args.get("component") or ""
        changes = previous + changes_of(result, component, check_mode=bool(self._task.check_mode))
        facts = dict(result.get("ansible_facts") or {})
        facts["manifests_changes"] = changes
        result["ansible_facts"] = facts
        return result
