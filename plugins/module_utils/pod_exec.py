# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one command in a pod's container through the API server (``pods/<pod>/exec``), as a module's step.

kubernetes.core's k8s_exec is a module, not a library: a module that runs several commands as one probe (the
Doris round trip) calls this instead, with the same client (kubernetes.core's auth, ``kubernetes.stream``'s
WebSocket, the v1 Status of the error channel for the exit code). What is added here: stdin written before the
command's output is read (so a password goes in on stdin, never in the command, which the API server logs and
audits), a deadline, and the API server's refusals told apart from the command's own failure (``Unreachable``).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.common.text.converters import to_native

try:
    import yaml
    from kubernetes.client import CoreV1Api
    from kubernetes.client.rest import ApiException
    from kubernetes.stream import stream
    from kubernetes.stream.ws_client import ERROR_CHANNEL
    HAS_STREAM = True
except ImportError:  # pragma: no cover - kubernetes is a requirement of every module that calls this
    HAS_STREAM = False
    ApiException = Exception

from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import Unreachable


class ExecResult(object):
    def __init__(self, rc, stdout, stderr, message=""):
        self.rc, self.stdout, self.stderr, self.message = rc, stdout, stderr, message


def exit_code(status_text):
    """(rc, message) from the error channel's v1 Status: 0 on Success, the ExitCode cause on NonZeroExitCode."""
    if not status_text:
        return 0, ""
    status = yaml.safe_load(status_text) or {}
    if status.get("status") == "Success":
        return 0, ""
    causes = (status.get("details") or {}).get("causes") or []
    for cause in causes:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message")), status.get("message") or ""
            except (TypeError, ValueError):
                break
    return -1, status.get("message") or "%s" % status


def describe(namespace, pod, container):
    return "pod exec %s/%s (container %s)" % (namespace, pod, container)


def run(kube_client, namespace, pod, container, command, stdin=None, timeout=60):
    """Run ``command`` (argv) in the container -> ExecResult; raises Unreachable when the API server or the
    kubelet refuses the exec (RBAC, no such pod or container, the node not reached) or the deadline passes."""
    via = describe(namespace, pod, container)
    api = CoreV1Api(kube_client.dynamic.client)
    try:
        answer = stream(api.connect_get_namespaced_pod_exec, pod, namespace, command=list(command),
                        container=container, stdin=stdin is not None, stdout=True, stderr=True, tty=False,
                        _preload_content=False)
    except ApiException as e:
        raise Unreachable("%s: the API server answered %s" % (via, " ".join(
            ("%s %s" % (getattr(e, "status", "") or "", getattr(e, "reason", "") or to_native(e))).split())))
    except Exception as e:  # pylint: disable=broad-except,duplicate-except
        # the WebSocket did not open (connection refused, TLS): no answer from the API server
        raise Unreachable("%s: %s" % (via, to_native(e)))
    stdout, stderr = [], []
    try:
        if stdin is not None:
            answer.write_stdin(stdin)
        deadline = time.monotonic() + timeout
        while answer.is_open():
            if time.monotonic() > deadline:
                raise Unreachable("%s: %s did not end within %s s" % (via, command[0], timeout))
            answer.update(timeout=1)
            if answer.peek_stdout():
                stdout.append(answer.read_stdout())
            if answer.peek_stderr():
                stderr.append(answer.read_stderr())
        stdout.append(answer.read_stdout() or "")
        stderr.append(answer.read_stderr() or "")
        rc, message = exit_code(answer.read_channel(ERROR_CHANNEL))
    finally:
        answer.close()
    return ExecResult(rc, "".join(stdout), "".join(stderr), message)
