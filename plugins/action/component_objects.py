# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.component_objects (documentation: plugins/modules/component_objects.py).

One task per component call whatever the mode: render mode runs the lakehouse.platform.manifests_render
action, apply mode the lakehouse.platform.k8s_apply action, each with the options it takes.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.lakehouse.platform.plugins.plugin_utils.sub_action import run_action

RENDER_OPTIONS = ("component", "phase", "render_dir", "objects", "secret_references")
APPLY_ONLY = ("render_dir", "secret_references", "mode")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        args = dict(self._task.args)
        mode = args.get("mode")
        if mode not in ("render", "apply"):
            result = super(ActionModule, self).run(tmp, task_vars)
            result.update(failed=True, msg="component_objects: mode must be render or apply, got %r" % (mode,))
            return result
        if mode == "render":
            name = "lakehouse.platform.manifests_render"
            delegated = dict((key, args[key]) for key in RENDER_OPTIONS if key in args)
        else:
            name = "lakehouse.platform.k8s_apply"
            delegated = dict((key, value) for key, value in args.items() if key not in APPLY_ONLY)
        return run_action(self, name, delegated, task_vars)
