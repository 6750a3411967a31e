#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: phase_record
short_description: Keep the objectives and the timeline of a phase run, one call per stage
version_added: 0.2.0
description:
  - The bookkeeping of the phase role, on the controller - it only sets facts. The objectives document
    (C(objectives_doc), like the runbooks' goals.json), the components' timeline (C(objectives_timeline))
    and a failure (C(phase_failure)) are kept in the play; the objectives role saves the document once, at the
    end of the run, and only when it differs from what is stored.
  - C(begin) opens the document from what is stored (or the rendered tree's objectives file), C(start) starts
    the components of a stage, C(stage_done) finishes the components whose last step was in the stage (an
    objective completes with its last enabled component), C(fail) records a failure, C(rollback) returns the
    objectives of rolled-back components to pending.
  - The state rules are those of the objectives filters (lakehouse.platform.objectives_transition).
  - The action plugin does the work; this file holds its documentation.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  event:
    description: What happened.
    type: str
    required: true
    choices: [begin, start, stage_done, fail, rollback]
  plan:
    description: The plan of the run. Defaults to the fact C(platform_plan) (lakehouse.platform.phase_plan).
    type: dict
  stored:
    description: With O(event=begin), the stored document (a dict or its JSON).
    type: raw
  render_file:
    description: With O(event=begin) and no O(stored), the objectives file of a rendered tree, read when it exists.
    type: path
  override:
    description: With O(event=begin), the manual override of the run (who, when, why), recorded when new.
    type: dict
  components:
    description: With O(event=start) or O(event=rollback), the components concerned.
    type: list
    elements: str
  stage:
    description:
      - With O(event=stage_done), the stage's index, or a list of indexes.
      - With O(event=start), the stages to close right after the start (a render starts and closes every stage at
        once).
    type: raw
  component:
    description: With O(event=fail), the component that failed.
    type: str
  step:
    description: With O(event=fail), its step (apply, wait, validate).
    type: str
  task:
    description: With O(event=fail), the task that failed.
    type: str
  error:
    description: With O(event=fail), what failed (the failed task's message).
    type: str
extends_documentation_fragment:
  - lakehouse.platform.attributes
attributes:
  check_mode:
    support: full
    details: Sets facts only.
  diff_mode:
    support: none
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Start the components of stage 1
  lakehouse.platform.phase_record:
    event: start
    components: [elasticsearch, kafka]

- name: Close stage 1
  lakehouse.platform.phase_record:
    event: stage_done
    stage: 1
"""

RETURN = r"""
ansible_facts:
  description: C(objectives_doc), C(objectives_timeline), C(objectives_current); C(phase_failure) after O(event=fail).
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    AnsibleModule(
        argument_spec=dict(
            event=dict(type="str", required=True, choices=["begin", "start", "stage_done", "fail", "rollback"]),
            plan=dict(type="dict"),
            stored=dict(type="raw"),
            render_file=dict(type="path"),
            override=dict(type="dict"),
            components=dict(type="list", elements="str"),
            stage=dict(type="raw"),
            component=dict(type="str"),
            step=dict(type="str"),
            task=dict(type="str"),
            error=dict(type="str"),
        ),
        supports_check_mode=True,
    ).fail_json(msg="lakehouse.platform.phase_record runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
