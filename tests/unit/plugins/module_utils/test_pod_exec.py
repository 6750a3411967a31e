"""pod_exec.exit_code: the exit code from the error channel's v1 Status, as kube-apiserver's kubelet writes it."""
from ansible_collections.lakehouse.platform.plugins.module_utils import pod_exec


def test_success_and_non_zero_exit_codes_are_read_from_the_status():
    assert pod_exec.exit_code("") == (0, "")
    assert pod_exec.exit_code('{"metadata":{},"status":"Success"}') == (0, "")
    status = ('{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: exit status 3",'
              '"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}')
    assert pod_exec.exit_code(status) == (3, "command terminated with non-zero exit code: exit status 3")
    assert pod_exec.exit_code('{"status":"Failure","message":"exec: not found","reason":"InternalError"}') == (
        -1, "exec: not found")
