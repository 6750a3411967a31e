# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.phase_record (documentation: plugins/modules/phase_record.py).

The bookkeeping of a phase run, on the controller, one call per stage: the objectives document
(goals.json of the runbooks) and the timeline of the components. It changes nothing outside the
play's facts; the objectives role saves the document once, at the end of the run.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import time

from ansible.errors import AnsibleFilterError
from ansible.plugins.action import ActionBase

from ansible_collections.lakehouse.platform.plugins.filter.objectives import objectives_init, objectives_transition

EVENTS = ("begin", "start", "stage_done", "fail", "rollback")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        event = args.get("event")
        if event not in EVENTS:
            return dict(failed=True, msg="phase_record: event must be one of %s, got %r" % (", ".join(EVENTS), event))
        plan = args.get("plan") or task_vars.get("platform_plan")
        if not isinstance(plan, dict):
            return dict(failed=True, msg="phase_record: no plan (run lakehouse.platform.phase_plan first)")
        try:
            facts = getattr(self, "_" + event)(args, task_vars, plan)
        except AnsibleFilterError as err:
            return dict(failed=True, msg="phase_record %s: %s" % (event, err))
        result.update(changed=False, ansible_facts=facts)
        return result

    @staticmethod
    def _catalog(plan):
        return {"title": plan["title"], "objectives": plan["objectives"]}

    def _begin(self, args, task_vars, plan):
        stored = args.get("stored")
        render_file = args.get("render_file")
        if stored is None and render_file:
            stored = {}
            if os.path.exists(render_file):
                with open(render_file) as handle:
                    try:
                        stored = json.load(handle)
                    except ValueError:
                        stored = {}
        if isinstance(stored, str):
            stored = json.loads(stored) if stored.strip() else {}
        stored = stored or {}
        doc = objectives_init(stored, self._catalog(plan), plan["phase"], plan["mode"], args.get("override") or {})
        return {"objectives_doc": doc, "objectives_stored": stored, "objectives_timeline": {},
                "objectives_current": {"component": "", "objective": ""}}

    def _start(self, args, task_vars, plan):
        doc = task_vars.get("objectives_doc")
        timeline = dict(task_vars.get("objectives_timeline") or {})
        at = _now()
        components = args.get("components") or []
        for component in components:
            if component not in timeline:
                timeline[component] = {"started_at": at, "started_epoch": time.time(), "status": "running"}
            objective = plan["objective_of"].get(component, "")
            if objective and doc is not None:
                doc = objectives_transition(doc, objective, "start", at)
        current = {"component": components[0] if len(components) == 1 else "",
                   "objective": plan["objective_of"].get(components[0], "") if len(components) == 1 else ""}
        facts = {"objectives_doc": doc, "objectives_timeline": timeline, "objectives_current": current}
        if args.get("stage") not in (None, [], ""):
            facts.update(self._stage_done(args, dict(task_vars, **facts), plan))
        return facts

    def _finish_component(self, doc, timeline, plan, component, at, task_vars):
        entry = dict(timeline.get(component) or {"started_at": at, "started_epoch": time.time()})
        entry.update(finished_at=at, duration_s=round(time.time() - entry["started_epoch"], 1), status="ok")
        timeline[component] = entry
        objective = plan["objective_of"].get(component, "")
        if not objective or doc is None:
            return doc
        members = [o for o in plan["objectives"] if o["id"] == objective][0]["components"]
        enabled = [c for c in members if c in plan["enabled"]]
        # An objective is complete when its last enabled component finishes (1.2 = postgres, then hive_metastore).
        if enabled and enabled[-1] == component:
            doc = objectives_transition(doc, objective, "complete", at)
        return doc

    def _stage_done(self, args, task_vars, plan):
        doc = task_vars.get("objectives_doc")
        timeline = dict(task_vars.get("objectives_timeline") or {})
        at = _now()
        given = args.get("stage")
        stages = set(int(s) for s in (given if isinstance(given, list) else [given]))
        for component, last in plan["last_stage"].items():
            if last in stages and (timeline.get(component) or {}).get("status") != "failed":
                doc = self._finish_component(doc, timeline, plan, component, at, task_vars)
        return {"objectives_doc": doc, "objectives_timeline": timeline}

    def _fail(self, args, task_vars, plan):
        doc = task_vars.get("objectives_doc")
        timeline = dict(task_vars.get("objectives_timeline") or {})
        at = _now()
        component = args.get("component") or "preflight"
        message = str(args.get("error") or "failed (details hidden or unavailable)")
        objective = plan["objective_of"].get(component, "")
        if component in timeline:
            entry = dict(timeline[component])
            entry.update(finished_at=at, duration_s=round(time.time() - entry.get("started_epoch", time.time()), 1), status="failed")
            timeline[component] = entry
        if objective and doc is not None:
            doc = objectives_transition(doc, objective, "fail", at, "%s: %s" % (component, message))
        failure = {"component": component, "objective": objective, "step": args.get("step") or "",
                   "task": args.get("task") or "", "message": message}
        return {"objectives_doc": doc, "objectives_timeline": timeline, "phase_failure": failure,
                "objectives_current": {"component": component, "objective": objective}}

    def _rollback(self, args, task_vars, plan):
        doc = task_vars.get("objectives_doc")
        at = _now()
        done = set()
        for component in args.get("components") or []:
            objective = plan["objective_of"].get(component, "")
            if objective and objective not in done and doc is not None:
                doc = objectives_transition(doc, objective, "rollback", at)
                done.add(objective)
        return {"objectives_doc": doc}
