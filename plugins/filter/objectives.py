# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""State of a phase's objectives, kept like the runbooks' goals.json.

A document per phase: ``objectives`` (id, title, components, state, timestamps, message), a
``current_status`` summary and the ``override`` that let the phase start below its trigger. The rules
live here so the objectives role and its tests share them:

* states: pending -> in_progress -> completed | failed; a rollback returns an objective to pending;
* in a rendered tree (``mode: render``) nothing has run in a cluster, so the end state is ``rendered``,
  never ``completed``;
* a completed objective stays completed through a successful rerun (its timestamps are kept), so a
  rerun that changes nothing writes an identical document;
* ``current_status`` is derived from the objectives only (no clock), for the same reason.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.errors import AnsibleFilterError

STATES = ("pending", "in_progress", "rendered", "completed", "failed")
EVENTS = ("start", "complete", "fail", "rollback")


def _done_state(doc):
    """The state a finished objective takes: ``rendered`` in a rendered tree, ``completed`` in a cluster."""
    return "rendered" if doc.get("mode") == "render" else "completed"


def _current_status(objectives, done_state="completed"):
    total = len(objectives)
    completed = sum(1 for o in objectives if o["state"] == "completed")
    rendered = sum(1 for o in objectives if o["state"] == "rendered")
    done = sum(1 for o in objectives if o["state"] == done_state)
    failed = [o["id"] for o in objectives if o["state"] == "failed"]
    running = [o["id"] for o in objectives if o["state"] == "in_progress"]
    pending = [o["id"] for o in objectives if o["state"] == "pending"]
    if failed:
        state = "failed"
    elif total and done == total:
        state = done_state
    elif running or completed or rendered:
        state = "in_progress"
    else:
        state = "pending"
    current = (failed or running or pending or [None])[0]
    return {
        "state": state,
        "completed": completed,
        "rendered": rendered,
        "done": done,
        "total": total,
        "percent": int(round(100.0 * done / total)) if total else 0,
        "current_objective": current,
        "failed": failed,
    }


def objectives_init(doc, catalog, phase, mode=None, override=None):
    """The phase document with every catalog objective present (new ones pending), titles refreshed
    from the catalog, and ``override`` recorded when given and different from the one on record."""
    if not isinstance(catalog, dict) or not isinstance(catalog.get("objectives"), list):
        raise AnsibleFilterError("objectives catalog for %s needs a list under 'objectives'" % phase)
    doc = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    known = dict((o.get("id"), o) for o in doc.get("objectives") or [] if isinstance(o, dict))
    objectives = []
    for entry in catalog["objectives"]:
        record = dict(known.get(entry["id"]) or {"state": "pending"})
        record.update(id=entry["id"], title=entry["title"], tag=entry.get("tag", ""),
                      components=list(entry.get("components") or []))
        if record.get("state") not in STATES:
            record["state"] = "pending"
        objectives.append(record)
    doc.update(phase=phase, title=catalog.get("title", phase), objectives=objectives)
    if mode:
        doc["mode"] = mode
    if override and (doc.get("override") or {}).get("why") != override.get("why"):
        doc["override"] = dict(override)
    doc["current_status"] = _current_status(objectives, _done_state(doc))
    return doc


def objectives_transition(doc, objective_id, event, at, message=""):
    """Apply ``event`` (start, complete, fail, rollback) at time ``at`` to one objective."""
    if event not in EVENTS:
        raise AnsibleFilterError("objective event must be one of %s, got %r" % (", ".join(EVENTS), event))
    doc = copy.deepcopy(doc)
    matches = [o for o in doc.get("objectives") or [] if o.get("id") == objective_id]
    if not matches:
        raise AnsibleFilterError("no objective %r in %s" % (objective_id, doc.get("phase")))
    record = matches[0]
    state = record.get("state", "pending")
    done = _done_state(doc)
    if event == "start" and state != done and state != "in_progress":
        record.update(state="in_progress", started_at=at)
        record.pop("failed_at", None)
        record.pop("message", None)
    elif event == "complete" and state != done:
        record.update({"state": done, done + "_at": at})
        record.setdefault("started_at", at)
        record.pop("failed_at", None)
        record.pop("message", None)
    elif event == "fail":
        record.update(state="failed", failed_at=at, message=str(message))
    elif event == "rollback" and state != "pending":
        record.update(state="pending", rolled_back_at=at)
        for key in ("started_at", "completed_at", "rendered_at", "failed_at", "message"):
            record.pop(key, None)
    doc["current_status"] = _current_status(doc["objectives"], done)
    return doc


def objective_of(catalog, component):
    """The id of the catalog objective a component belongs to ("" when it belongs to none)."""
    for entry in (catalog or {}).get("objectives") or []:
        if component in (entry.get("components") or []):
            return entry["id"]
    return ""


class FilterModule(object):
    def filters(self):
        return {
            "objectives_init": objectives_init,
            "objectives_transition": objectives_transition,
            "objective_of": objective_of,
        }
