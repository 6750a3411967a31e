# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.superset_database (documentation: plugins/modules/superset_database.py).

Runs the module in the task's worker process when that is the same as a local module run
(plugins/plugin_utils/in_worker.py says when), else as a separate process.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lakehouse.platform.plugins.plugin_utils.in_worker import InWorkerModuleAction


class ActionModule(InWorkerModuleAction):
    """lakehouse.platform.superset_database, in the worker where it may."""
