"""pod_exec_unreached: why kubernetes.core.k8s_exec did not run its command, from what it registered."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.pod_exec import pod_exec_unreached

HEADERS = "{'server': 'kube-apiserver', 'content-type': 'application/json'}"


def _refused(status, body):
    # What k8s_exec registers when the WebSocket upgrade is refused (kubernetes.stream's ApiException(status=0)).
    return {"failed": False, "changed": False, "msg": "Failed to execute on pod kafka-0 due to : (0)\nReason: "
            "Handshake status %s -+-+- %s -+-+- %s" % (status, HEADERS, body)}


def test_a_command_that_ran_is_reached_whatever_its_exit_code():
    assert pod_exec_unreached({"rc": 0, "stdout": "a\n", "stderr": ""}) == ""
    assert pod_exec_unreached({"rc": 3, "stdout": "", "stderr": "no", "failed": False}) == ""


def test_a_refused_upgrade_is_the_api_servers_status_message():
    body = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"error dialing backend: '
            'dial tcp 10.0.0.7:10250: connect: connection refused","reason":"InternalError","code":500}')
    assert pod_exec_unreached(_refused("500 Internal Server Error", body)) == (
        "HTTP 500 Internal Server Error from the API server: error dialing backend: dial tcp 10.0.0.7:10250: "
        "connect: connection refused")
    assert pod_exec_unreached(_refused("404 Not Found", "b'%s'" % '{"message":"pods \\"x\\" not found"}')) == (
        'HTTP 404 Not Found from the API server: pods "x" not found')
    assert pod_exec_unreached(_refused("403 Forbidden", "requested protocol(s) are not supported")) == (
        "HTTP 403 Forbidden from the API server: requested protocol(s) are not supported")


def test_other_failures_keep_the_modules_message_without_its_prefix():
    result = {"failed": False, "msg": "Failed to execute on pod neo4j-0 due to : (0)\nReason: [Errno 111] "
                                      "Connection refused"}
    assert pod_exec_unreached(result) == "[Errno 111] Connection refused"
    assert pod_exec_unreached({"skipped": True}) == "not run (the task was skipped)"
    with pytest.raises(AnsibleFilterError, match="expects a registered k8s_exec result"):
        pod_exec_unreached("oops")
