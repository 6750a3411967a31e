# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.controller_files (documentation: plugins/modules/controller_files.py).

Writes several small files on the controller in one task (a report, the objectives file of a rendered
tree): each only when its content differs, created with its directory, honouring check mode and --diff.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.lakehouse.platform.plugins.module_utils import local_files


def write_if_changed(path, content, mode=0o644):
    """Write ``content`` (text) to ``path`` atomically unless it holds it already; True when written."""
    data = to_bytes(content)
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except (IOError, OSError):
        pass
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    local_files.write_atomic(path, data, mode)
    return True


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        files = args.get("files")
        if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("path") and "content" in f for f in files):
            return dict(failed=True, msg="controller_files: files must be a list of {path, content[, mode]}")
        # A run record (a report) is written in check mode too and never reported as a change.
        record = boolean(args.get("record", False), strict=False)
        check = self._task.check_mode and not record
        changed = []
        diffs = []
        for entry in files:
            path = os.path.abspath(os.path.expanduser(str(entry["path"])))
            content = to_text(entry["content"])
            mode = int(str(entry.get("mode", "0644")), 8)
            before = None
            if os.path.exists(path):
                with open(path, "rb") as handle:
                    before = to_text(handle.read(), errors="surrogate_or_replace")
            if before == content:
                continue
            if not check:
                write_if_changed(path, content, mode)
            changed.append(path)
            if self._task.diff and not record:
                diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": content})
        result.update(changed=bool(changed) and not record, files=changed)
        if diffs:
            result["diff"] = diffs
        return result
