# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.ml_workflow_check (documentation: plugins/modules/ml_workflow_check.py).

Runs the module in the task's worker process when that is the same as a local module run
(plugins/plugin_utils/in_worker.py says when), else as a separate process.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lakehouse.platform.plugins.plugin_utils.in_worker import InWorkerModuleAction


class ActionModule(InWorkerModuleAction):
    """lakehouse.platform.ml_workflow_check, in the worker where it may."""
