# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's success criteria, judged from a phase report (lakehouse.platform.success_criteria).

A criterion of the phase catalog (``success_criteria``) is data: its level (must, should, nice), the runbook's
words, ``evidence`` (a JMESPath expression over the report: what a validation recorded, a check) and, when the
evidence is not a validation's sentence, ``met`` (a JMESPath expression that must be true). A validation that
measured something and got a wrong answer fails the run, so a recorded sentence is a pass, unless it says the
check did not happen ("not checked ...", "not reachable: ...", "not run ...", "not re-run: ...", "not configured (...)"). A criterion this collection
does not check says why in ``unchecked``.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError

try:
    import jmespath
    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - jmespath is a requirement of the collection
    HAS_JMESPATH = False

LEVELS = ("must", "should", "nice")
NOT_DONE = ("not checked", "not reachable", "not run", "not re-run", "not configured")


def _shown(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def judge(criterion, report):
    """{level, criterion, state (met, not met, not checked), evidence} for one criterion."""
    if not isinstance(criterion, dict) or criterion.get("level") not in LEVELS or not criterion.get("criterion"):
        raise AnsibleFilterError("success_criteria: each criterion needs level (%s) and criterion, got %r"
                                 % ("/".join(LEVELS), criterion))
    row = {"level": criterion["level"], "criterion": criterion["criterion"]}
    if report.get("mode") != "apply" or report.get("check_mode"):
        row.update(state="not checked", evidence="%s: nothing ran in a cluster" % (
            "check mode" if report.get("check_mode") else "%s mode" % report.get("mode")))
        return row
    if not criterion.get("evidence"):
        row.update(state="not checked", evidence=criterion.get("unchecked") or "no evidence is collected")
        return row
    try:
        value = jmespath.search(criterion["evidence"], report)
        met = jmespath.search(criterion["met"], report) if criterion.get("met") else None
    except jmespath.exceptions.JMESPathError as err:
        raise AnsibleFilterError("success_criteria: %r: %s" % (criterion["criterion"], err))
    if value in (None, "", [], {}):
        row.update(state="not checked", evidence="nothing recorded (%s)" % criterion["evidence"])
    elif isinstance(value, str) and value.startswith(NOT_DONE):
        row.update(state="not checked", evidence=value)
    elif criterion.get("met"):
        row.update(state="met" if met else "not met", evidence=_shown(value))
    else:
        row.update(state="met", evidence=_shown(value))
    return row


def success_criteria(criteria, report):
    """Each criterion judged against ``report`` (the phase report's data), in the catalog's order."""
    if not HAS_JMESPATH:
        raise AnsibleFilterError("success_criteria needs the jmespath Python library")
    if criteria is None:
        return []
    if not isinstance(criteria, list) or not isinstance(report, dict):
        raise AnsibleFilterError("success_criteria expects a list of criteria and the report (a dict)")
    # Plain JSON types: jmespath's functions (contains, starts_with) refuse Ansible's tagged str subclasses.
    report = json.loads(json.dumps(report, default=str))
    return [judge(criterion, report) for criterion in criteria]


class FilterModule(object):
    def filters(self):
        return {"success_criteria": success_criteria}
