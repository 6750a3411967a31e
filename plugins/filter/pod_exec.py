# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a kubernetes.core.k8s_exec call did not run its command, for the validations that run a tool in a pod
(the runbook's kafka-topics.sh and cypher-shell checks)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible.errors import AnsibleFilterError

# kubernetes.stream's ApiException(status=0, reason=str(WebSocketBadStatusException)) as k8s_exec reports it:
# "Failed to execute on pod <pod> due to : (0)\nReason: Handshake status 403 Forbidden -+-+- {headers} -+-+- {body}"
_HANDSHAKE = re.compile(r"Handshake status (?P<status>\d+[^-]*?)\s*-\+-\+-.*?-\+-\+-\s*(?P<body>.*)$", re.S)
_PREFIX = re.compile(r"^Failed to execute on pod \S+ due to : (\(0\)\s*Reason:\s*)?", re.S)


def _body_message(body):
    body = body.strip()
    if body.startswith("b'") or body.startswith('b"'):  # older websocket-client versions print bytes
        body = body[2:-1]
    try:
        answer = json.loads(body)
    except ValueError:
        return body[:300]
    if isinstance(answer, dict) and answer.get("message"):
        return answer["message"]
    return body[:300]


def pod_exec_unreached(result):
    """"" when k8s_exec ran the command (whatever its exit code), else why not, shortened to what the API
    server answered: ``HTTP 403 Forbidden from the API server: pods "x" is forbidden: ...``."""
    if not isinstance(result, dict):
        raise AnsibleFilterError("pod_exec_unreached expects a registered k8s_exec result, got %s"
                                 % type(result).__name__)
    if result.get("skipped"):
        return "not run (the task was skipped)"
    if "rc" in result:  # the command ran; its exit code is the caller's to judge
        return ""
    message = str(result.get("msg") or "no answer")
    handshake = _HANDSHAKE.search(message)
    if handshake:
        return "HTTP %s from the API server: %s" % (handshake.group("status").strip(), _body_message(handshake.group("body")))
    return " ".join(_PREFIX.sub("", message).split())[:500]


class FilterModule(object):
    def filters(self):
        return {"pod_exec_unreached": pod_exec_unreached}
