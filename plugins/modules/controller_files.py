#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: controller_files
short_description: Write several small files on the controller in one task
version_added: 0.2.0
description:
  - Writes each file of O(files) on the controller, creating its directory, and only when its content
    differs, atomically (a temporary file renamed over the old one). One task for what would otherwise be
    a C(file) and a C(copy) task per file, each of which starts a module process.
  - Used for the records a phase run leaves on the controller - the report, and the objectives file of a
    rendered tree.
  - The action plugin does the work; this file holds its documentation.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  files:
    description: The files, each with C(path), C(content) and optionally C(mode) (octal string, default C(0644)).
    type: list
    elements: dict
    required: true
  record:
    description:
      - The files are a record of the run (a report), not state - they are written in check mode too and
        their rewriting is never reported as a change.
    type: bool
    default: false
extends_documentation_fragment:
  - lakehouse.platform.attributes
attributes:
  check_mode:
    support: full
    details: Writes nothing in check mode unless O(record=true).
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Write the report
  lakehouse.platform.controller_files:
    record: true
    files:
      - path: build/phase1/report.json
        content: "{{ report_data | to_nice_json }}"
"""

RETURN = r"""
files:
  description: The paths written (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True),
            record=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    ).fail_json(msg="lakehouse.platform.controller_files runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
