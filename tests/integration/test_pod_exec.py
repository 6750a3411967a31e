"""Pod exec through the Kubernetes API test server (tests/kubeapi/podexec.py), and the validations that use it.

The real clients: the kubernetes Python client's WebSocket stream (``kubernetes.stream.stream``, what
kubernetes.core.k8s_exec runs), websocket-client for the sub-protocol negotiation, kubectl (v5.channel.k8s.io
with stdin), and kubernetes.core.k8s_exec in a playbook. The "container" is a local command the test registers
per pod and container (``PUT /_test/exec-backends/<ns>/<pod>/<container>``). Pinned down:

* stdout, stderr and the exit code come back on channels 1, 2 and 3 (the v1 Status kube-apiserver's kubelet
  writes: Success, or NonZeroExitCode with the ExitCode cause), the container's environment comes from the pod
  spec (env, envFrom Secrets), stdin reaches the command;
* refusals answer like kube-apiserver: no pod 404, a container not in the spec 400, a pod that is not Running
  400, a request that is not an upgrade 400, no kubelet 500, a protocol nobody speaks 403;
* RBAC: the WebSocket GET needs ``get`` and (kube-apiserver 1.35+) ``create`` on ``pods/exec``;
* the kafka and neo4j validate entry points run the runbook's ``kafka-topics.sh --list`` and
  ``cypher-shell "RETURN 1"`` in the chart's pods through pod exec (stand-ins of both tools, in
  tests/integration/exec_standins, since no Kafka broker or Neo4j server runs here), record the answer and
  the way in, record ``not reachable`` when no pod runs or the exec is refused, and fail naming the
  component, the command and its stderr when the tool fails (broker down, wrong password); the deployer's
  rules (roles/deployer_rbac) allow the exec and a Role without ``create`` on ``pods/exec`` is refused.
"""
import base64
import json
import os
import ssl
import uuid

import pytest
import yaml
from kubernetes import client
from kubernetes.stream import stream

from tests.integration.phase1_helpers import run_playbook
from tests.kubeapi.server import write_kubeconfig

STANDINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_standins")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(REPO_ROOT, "roles", "deployer_rbac", "vars", "main.yml")


def _create(kube_api, path, body):
    status, answer, _headers = kube_api.request("POST", path, body)
    assert status == 201, answer
    return answer


def _pod(kube_api, namespace, name, containers, labels=None, phase="Running", node="node-a"):
    spec = {"containers": containers}
    if node:
        spec["nodeName"] = node
    _create(kube_api, "/api/v1/namespaces/%s/pods" % namespace,
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}}, "spec": spec})
    status, answer, _headers = kube_api.request(
        "PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (namespace, name),
        {"status": {"phase": phase, "podIP": "10.244.1.9"}}, content_type="application/merge-patch+json")
    assert status == 200, answer


def _secret(kube_api, namespace, name, values):
    _create(kube_api, "/api/v1/namespaces/%s/secrets" % namespace,
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": values})


def _backend(kube_api, namespace, pod, container, path="", env=None, timeout=30):
    status, answer, _headers = kube_api.request("PUT", "/_test/exec-backends/%s/%s/%s" % (namespace, pod, container),
                                                {"path": path, "env": env or {}, "timeout": timeout})
    assert status == 200, answer


def _exec(core, namespace, pod, command, container=None, **kwargs):
    """What kubernetes.core.k8s_exec does: the WebSocket stream, read to the end; (stdout, stderr, status)."""
    options = dict(stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False, **kwargs)
    if container:
        options["container"] = container
    response = stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=command, **options)
    out, err = [], []
    while response.is_open():
        response.update(timeout=1)
        if response.peek_stdout():
            out.append(response.read_stdout())
        if response.peek_stderr():
            err.append(response.read_stderr())
    return "".join(out), "".join(err), json.loads(response.read_channel(3))


def _refusal(core, namespace, pod, command, container=None):
    with pytest.raises(client.ApiException) as raised:
        _exec(core, namespace, pod, command, container)
    reason = raised.value.reason  # "Handshake status <code> <text> -+-+- {headers} -+-+- {body}"
    status_line, _headers, body = reason.split(" -+-+- ")
    return status_line.split("Handshake status ")[1], json.loads(body)


@pytest.fixture
def core(kube_api):
    api_client = kube_api.api_client()
    yield client.CoreV1Api(api_client)
    api_client.close()


def test_exec_streams_output_exit_code_and_environment_like_kube_apiserver(kube_api, kube_namespace, core):
    ns = kube_namespace
    _secret(kube_api, ns, "creds", {"TOKEN": "t0k", "not a name": "skipped", "KEY": "from-key"})
    _pod(kube_api, ns, "box", [{"name": "main", "image": "busybox", "envFrom": [{"secretRef": {"name": "creds"}}],
                                "env": [{"name": "MODE", "value": "test"},
                                        {"name": "PICKED", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "KEY"}}},
                                        {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}])
    _backend(kube_api, ns, "box", "main", env={"EXTRA": "registered"})
    kube_api.reset_counts()

    out, err, status = _exec(core, ns, "box", ["sh", "-c", 'echo "$1 $MODE $TOKEN $PICKED $MY_POD $HOSTNAME $EXTRA"; '
                                                           'echo oops >&2; exit 3', "sh", "two words"])
    assert out == "two words test t0k from-key box box registered\n" and err == "oops\n"
    assert status == {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                      "message": "command terminated with non-zero exit code: error executing command "
                                 "[sh -c echo \"$1 $MODE $TOKEN $PICKED $MY_POD $HOSTNAME $EXTRA\"; echo oops >&2; "
                                 "exit 3 sh two words], exit code 3",
                      "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}
    out, err, status = _exec(core, ns, "box", ["env"], container="main")  # no shell is added: argv runs as it is
    assert status == {"metadata": {}, "status": "Success"} and err == ""
    assert "TOKEN=t0k" in out.splitlines() and not [line for line in out.splitlines() if line.startswith("not a name")]

    # stdin reaches the command (kubernetes.stream writes channel 0)
    response = stream(core.connect_get_namespaced_pod_exec, "box", ns, command=["head", "-n", "1"], stdin=True,
                      stdout=True, stderr=True, tty=False, _preload_content=False)
    response.write_stdin("from stdin\n")
    response.run_forever(timeout=10)
    assert response.read_stdout() == "from stdin\n" and response.returncode == 0
    # a command that is not there: the runtime's InternalError, no exit code
    _out, _err, status = _exec(core, ns, "box", ["no-such-tool"])
    assert (status["status"], status["reason"]) == ("Failure", "InternalError")
    assert 'exec: "no-such-tool": executable file not found in $PATH' in status["message"]
    counts = kube_api.request_counts()
    assert counts.count(verb="get", resource="pods", subresource="exec") == 4 and counts.writes() == 0


def test_exec_refusals_and_protocol_negotiation_answer_like_kube_apiserver(kube_api, kube_namespace, core):
    ns = kube_namespace
    _pod(kube_api, ns, "two", [{"name": "a", "image": "x"}, {"name": "b", "image": "x"}])
    _pod(kube_api, ns, "pending", [{"name": "a", "image": "x"}], phase="Pending")
    _pod(kube_api, ns, "unscheduled", [{"name": "a", "image": "x"}], node=None)
    _backend(kube_api, ns, "two", "a", timeout=1)

    assert _refusal(core, ns, "absent", ["true"])[1]["message"] == 'pods "absent" not found'
    code, body = _refusal(core, ns, "two", ["true"])
    assert code.startswith("400") and body["message"] == "a container name must be specified for pod two, choose one of: [a b]"
    assert _refusal(core, ns, "two", ["true"], "c")[1]["message"] == "container c is not valid for pod two"
    assert "is not running (pod phase Pending)" in _refusal(core, ns, "pending", ["true"])[1]["message"]
    assert _refusal(core, ns, "unscheduled", ["true"])[1]["message"] == "pod unscheduled does not have a host assigned"
    code, body = _refusal(core, ns, "two", ["true"], "b")  # no kubelet behind container b
    assert code.startswith("500") and body["message"].startswith("error dialing backend:")
    status, body, _headers = kube_api.request("GET", "/api/v1/namespaces/%s/pods/two/exec?command=true&container=a"
                                                     "&stdout=true" % ns)
    assert (status, body["message"]) == (400, "Upgrade request required")
    # a command past the registered timeout is killed (SIGKILL: exit code 137)
    _out, _err, status = _exec(core, ns, "two", ["sleep", "30"], "a")
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "137"}]

    # Sub-protocols in the client's order of preference; base64 frames are text with an ASCII channel digit.
    from websocket import WebSocket, WebSocketBadStatusException
    url = kube_api.url.replace("http://", "ws://") + "/api/v1/namespaces/%s/pods/two/exec?container=a" \
        "&command=echo&command=hi&stdout=true&stderr=true" % ns
    ws = WebSocket(sslopt={"cert_reqs": ssl.CERT_NONE})
    ws.connect(url, header=["Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io"])
    assert ws.getheaders()["sec-websocket-protocol"] == "v5.channel.k8s.io"
    frames = []
    while True:
        opcode, frame = ws.recv_data_frame(True)
        if opcode == 8:
            break
        frames.append((opcode, frame.data))
    assert frames == [(2, b"\x01hi\n"), (2, b'\x03{"metadata":{},"status":"Success"}')]
    ws.close()
    ws = WebSocket()
    ws.connect(url, header=["Sec-WebSocket-Protocol: base64.channel.k8s.io"])
    opcode, frame = ws.recv_data_frame(True)
    assert (opcode, frame.data) == (1, b"1" + base64.b64encode(b"hi\n"))
    ws.close()
    with pytest.raises(WebSocketBadStatusException) as refused:
        WebSocket().connect(url, header=["Sec-WebSocket-Protocol: x.example.com"])
    assert refused.value.status_code == 403


def _token_kubeconfig(kube_api, tmp_path, namespace, account):
    token = "exec-%s" % uuid.uuid4().hex
    status, answer, _headers = kube_api.request("POST", "/_test/tokens",
                                                {"token": token, "namespace": namespace, "serviceAccount": account})
    assert status == 201, answer
    return write_kubeconfig(str(tmp_path / ("%s.kubeconfig" % account)), kube_api.url, token=token)


def _bind(kube_api, namespace, account, rules):
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/%s" % namespace
    _create(kube_api, rbac + "/roles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                        "metadata": {"name": account}, "rules": rules})
    _create(kube_api, rbac + "/rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": account},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]})


def test_exec_needs_get_and_create_on_pods_exec(kube_api, kube_namespace, tmp_path):
    from kubernetes import config
    ns = kube_namespace
    _pod(kube_api, ns, "box", [{"name": "main", "image": "x"}])
    _backend(kube_api, ns, "box", "main")
    for account, verbs in (("getter", ["get"]), ("creator", ["create"]), ("both", ["get", "create"])):
        _bind(kube_api, ns, account, [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": verbs}])
    for account, refused_verb in (("getter", "create"), ("creator", "get"), ("both", None)):
        api_client = config.new_client_from_config(config_file=_token_kubeconfig(kube_api, tmp_path, ns, account))
        core = client.CoreV1Api(api_client)
        try:
            if refused_verb is None:
                assert _exec(core, ns, "box", ["echo", "ok"])[0] == "ok\n"
                continue
            code, body = _refusal(core, ns, "box", ["echo", "ok"])
            assert code.startswith("403") and body["message"] == (
                'pods "box" is forbidden: User "system:serviceaccount:%s:%s" cannot %s resource "pods/exec" in API '
                'group "" in the namespace "%s"' % (ns, account, refused_verb, ns))
        finally:
            api_client.close()


def test_kubectl_exec_and_kubernetes_core_k8s_exec(kube_api, kube_namespace, kubectl, k8s_playbook):
    ns = kube_namespace
    _pod(kube_api, ns, "box", [{"name": "main", "image": "x"}])
    _backend(kube_api, ns, "box", "main")
    done = kubectl("exec", "-n", ns, "box", "--", "sh", "-c", "echo out; echo err >&2")
    assert (done.stdout, done.stderr) == ("out\n", "err\n")
    assert kubectl("exec", "-n", ns, "-i", "box", "--", "cat", input="piped\n").stdout == "piped\n"  # v5 closes stdin
    assert kubectl("exec", "-n", ns, "box", "--", "sh", "-c", "exit 4", check=False).returncode == 4

    run = k8s_playbook([
        {"name": "exec ok", "kubernetes.core.k8s_exec": {"namespace": ns, "pod": "box", "command": "echo 'a  b'"}},
        {"name": "exec fails", "kubernetes.core.k8s_exec": {"namespace": ns, "pod": "box", "container": "main",
                                                            "command": "sh -c 'echo no >&2; exit 5'"},
         "ignore_errors": True},  # a non-zero rc fails a module task in Ansible
        {"name": "exec refused", "kubernetes.core.k8s_exec": {"namespace": ns, "pod": "nope", "command": "true"},
         "ignore_errors": True},
    ])
    assert run.rc == 0, json.dumps(run.results)[-3000:]
    ok, failing, refused = run.results
    assert (ok["rc"], ok["stdout"], failing["rc"], failing["stderr"], failing["failed"]) == (0, "a  b\n", 5, "no\n", True)
    assert refused["failed"] and "Handshake status 404 Not Found" in refused["msg"]


# ---- the runbook's checks in the kafka and neo4j pods ------------------------------------------------------------
def _ready_statefulset(kube_api, namespace, name, labels):
    path = "/apis/apps/v1/namespaces/%s/statefulsets" % namespace
    created = _create(kube_api, path, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": 1, "serviceName": name, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": name}]}}}})
    status, answer, _headers = kube_api.request("PATCH", "%s/%s/status" % (path, name), {"status": {
        "observedGeneration": created["metadata"]["generation"], "replicas": 1, "readyReplicas": 1,
        "updatedReplicas": 1, "availableReplicas": 1}}, content_type="application/merge-patch+json")
    assert status == 200, answer


def _role(role, variables=None):
    return {"name": "Validate %s" % role, "ansible.builtin.include_role": {
        "name": "lakehouse.platform." + role, "tasks_from": "validate"}, "vars": variables or {}}


def _keep(name, component):
    return {"name": "Keep " + name, "ansible.builtin.set_fact": {
        "got": "{{ got | default({}) | combine({%r: lookup('ansible.builtin.vars', %r)}) }}" % (name, component + "_validation")}}


def _failing(name, role, variables=None):
    """The role's validate, its failure message kept in `name` (the play goes on)."""
    return {"name": "Expect %s to fail" % role, "block": [_role(role, variables)],
            "rescue": [{"name": "Keep the failure " + name, "ansible.builtin.set_fact": {
                "got": "{{ got | default({}) | combine({%r: ansible_failed_result.msg}) }}" % name}}]}


def _platform_namespace_rules():
    """The deployer's Role in the platform namespace: every rule whose namespace setting defaults to it."""
    data = yaml.safe_load(open(RULES))
    shared = {key for key, value in data["deployer_rbac_namespace_settings"].items()
              if "default(platform_namespace" in value}
    return [{k: rule[k] for k in ("apiGroups", "resources", "verbs")} for rule in data["deployer_rbac_rules"]
            if rule["namespace"] in shared and not rule.get("drivers")]


def test_kafka_and_neo4j_validations_run_the_runbook_tools_through_pod_exec(tmp_path, kube_api, kube_namespace):
    other = kube_namespace + "-x"
    _create(kube_api, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    try:
        _validations(tmp_path, kube_api, kube_namespace, other)
    finally:
        kube_api.request("DELETE", "/api/v1/namespaces/" + other)


def _validations(tmp_path, kube_api, ns, other):
    # The charts' objects: bitnami/kafka's controller-eligible StatefulSet and pods (container kafka), neo4j's
    # StatefulSet and pod (container neo4j, the auth Secret's keys in its environment through envFrom).
    kafka_labels = {"app.kubernetes.io/instance": "kafka", "app.kubernetes.io/name": "kafka",
                    "app.kubernetes.io/component": "controller-eligible"}
    _ready_statefulset(kube_api, ns, "kafka-controller", kafka_labels)
    _ready_statefulset(kube_api, other, "kafka-controller", kafka_labels)  # its pods are not there (yet)
    for index in (1, 0):
        _pod(kube_api, ns, "kafka-controller-%d" % index, [{"name": "kafka", "image": "bitnamilegacy/kafka"}], kafka_labels)
    _pod(kube_api, ns, "kafka-controller-2", [{"name": "kafka", "image": "x"}], kafka_labels, phase="Pending")
    neo4j_labels = {"app": "neo4j", "helm.neo4j.com/instance": "neo4j"}
    _ready_statefulset(kube_api, ns, "neo4j", neo4j_labels)
    password = "pw-" + uuid.uuid4().hex
    _secret(kube_api, ns, "neo4j-auth", {"NEO4J_AUTH": "neo4j/" + password, "neo4j-password": password})
    _pod(kube_api, ns, "neo4j-0", [{"name": "neo4j", "image": "neo4j:5.17.0",
                                    "envFrom": [{"secretRef": {"name": "neo4j-auth"}}]}], neo4j_labels)
    # A release whose auth Secret no longer holds the password the database was initialised with.
    stale = {"app": "neo4j", "helm.neo4j.com/instance": "stale"}
    _ready_statefulset(kube_api, ns, "stale", stale)
    _secret(kube_api, ns, "stale-auth", {"NEO4J_AUTH": "neo4j/regenerated"})
    _pod(kube_api, ns, "stale-0", [{"name": "neo4j", "image": "neo4j:5.17.0",
                                    "envFrom": [{"secretRef": {"name": "stale-auth"}}]}], stale)
    # The stand-ins' "servers": the broker's topics, the database's credentials (what it was initialised with).
    broker, database = tmp_path / "broker.json", tmp_path / "database.json"
    topics = ["DataHubUsageEvent_v1", "MetadataChangeLog_Versioned_v1", "__consumer_offsets"]
    broker.write_text(json.dumps({"listeners": ["localhost:9092"], "topics": topics}))
    database.write_text(json.dumps({"address": "localhost:7687", "user": "neo4j", "password": password}))
    for pod in ("kafka-controller-0", "kafka-controller-1"):
        _backend(kube_api, ns, pod, "kafka", STANDINS, {"KAFKA_STANDIN_BROKER": str(broker)})
    for pod in ("neo4j-0", "stale-0"):
        _backend(kube_api, ns, pod, "neo4j", STANDINS, {"NEO4J_STANDIN_DATABASE": str(database)})
    # The deployer's Role in the platform namespace (roles/deployer_rbac), and the same without `create` on pods/exec.
    rules = _platform_namespace_rules()
    assert {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]} in rules
    _bind(kube_api, ns, "deployer", rules)
    _bind(kube_api, ns, "reader", [dict(r, verbs=["get"]) if r["resources"] == ["pods/exec"] else r for r in rules])
    deployer = _token_kubeconfig(kube_api, tmp_path, ns, "deployer")
    reader = _token_kubeconfig(kube_api, tmp_path, ns, "reader")

    def as_user(kubeconfig, tasks):
        defaults = {"kubeconfig": kubeconfig}
        return {"name": "As " + os.path.basename(kubeconfig), "block": tasks, "module_defaults": {
            "group/kubernetes.core.k8s": defaults, "group/lakehouse.platform.k8s": defaults}}

    tasks = [
        as_user(deployer, [_role("kafka"), _keep("kafka_ok", "kafka"), _role("neo4j"), _keep("neo4j_ok", "neo4j")]),
        as_user(reader, [_role("kafka"), _keep("kafka_refused", "kafka")]),
        _role("kafka", {"kafka_namespace": other}), _keep("kafka_no_pod", "kafka"),
        _failing("kafka_wrong_port", "kafka", {"kafka_extra_values": {"listeners": {"client": {"containerPort": 9095}}}}),
        _failing("neo4j_wrong_password", "neo4j", {"neo4j_workload_selector": "helm.neo4j.com/instance=stale",
                                                   "neo4j_auth_secret": "stale-auth"}),
    ]
    kube_api.reset_counts()
    run = run_playbook(tmp_path, tasks, extra_vars={"platform_mode": "apply", "platform_namespace": ns},
                       env=kube_api.env, results=["got"])
    assert run.returncode == 0, run.errors()
    got = run.results["got"]

    assert got["kafka_ok"]["topics"] == "3 topics listed via pod exec %s/kafka-controller-0" % ns
    assert got["kafka_ok"]["workloads"] == ["kafka-controller"]
    assert got["neo4j_ok"]["cypher"] == "RETURN 1 AS ok answered 1 via pod exec %s/neo4j-0 (cypher-shell)" % ns
    assert got["kafka_refused"]["topics"] == (
        'not reachable: pod exec %s/kafka-controller-0: HTTP 403 Forbidden from the API server: pods '
        '"kafka-controller-0" is forbidden: User "system:serviceaccount:%s:reader" cannot create resource '
        '"pods/exec" in API group "" in the namespace "%s"' % (ns, ns, ns))
    assert got["kafka_no_pod"]["topics"] == ("not reachable: no Running pod labelled app.kubernetes.io/instance=kafka,"
                                             "app.kubernetes.io/component=controller-eligible in %s" % other)
    assert got["kafka_wrong_port"] == (
        "kafka: `timeout 90 kafka-topics.sh --list --bootstrap-server localhost:9095` in pod %s/kafka-controller-0 "
        "(container kafka) exited 1: Error while executing topic command : Timed out waiting for a node assignment. "
        "Call: listTopics ERROR org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node "
        "assignment. Call: listTopics (org.apache.kafka.tools.TopicCommand)" % ns)
    assert got["neo4j_wrong_password"] == (
        'neo4j: cypher-shell "RETURN 1 AS ok" in pod %s/stale-0 (container neo4j, user and password from NEO4J_AUTH '
        'of Secret stale-auth) exited 1: The client is unauthorized due to authentication failure.' % ns)
    assert password not in run.output  # the password stays in the pod: not in the command, the URL or the log
    counts = kube_api.request_counts()
    assert counts.writes() == 0, counts  # validation reads and execs; it writes nothing
    assert counts.count(verb="get", resource="pods", subresource="exec") == 4  # the refused one is not counted


def test_check_mode_runs_no_exec(tmp_path, kube_api, kube_namespace):
    ns = kube_namespace
    kafka_labels = {"app.kubernetes.io/instance": "kafka", "app.kubernetes.io/component": "controller-eligible"}
    _pod(kube_api, ns, "kafka-controller-0", [{"name": "kafka", "image": "x"}], kafka_labels)
    _backend(kube_api, ns, "kafka-controller-0", "kafka", STANDINS)
    kube_api.reset_counts()
    run = run_playbook(tmp_path, [_role("kafka"), _role("neo4j")],
                       extra_vars={"platform_mode": "apply", "platform_namespace": ns}, env=kube_api.env, check=True)
    assert run.returncode == 0, run
    assert "kafka: apply mode, check mode; validation runs in apply mode." in run.output
    assert kube_api.request_counts().count(subresource="exec") == 0


def test_standins_refuse_what_the_real_tools_refuse(tmp_path):
    import subprocess
    tool = os.path.join(STANDINS, "kafka-topics.sh")
    done = subprocess.run([tool, "--list"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (1, 'Missing required argument "[bootstrap-server]"\n')
    done = subprocess.run([tool, "--lists", "--bootstrap-server", "x:1"], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "lists is not a recognized option" in done.stderr
    shell = os.path.join(STANDINS, "cypher-shell")
    database = tmp_path / "db.json"
    database.write_text(json.dumps({"address": "localhost:7687", "user": "neo4j", "password": "p"}))
    env = dict(os.environ, NEO4J_STANDIN_DATABASE=str(database))
    done = subprocess.run([shell, "-u", "neo4j", "-p", "p", "--format", "plain", "RETURN 1"], capture_output=True,
                          text=True, env=env, check=False)
    assert (done.returncode, done.stdout) == (0, "1\n1\n")
    done = subprocess.run([shell, "RETURN 1"], capture_output=True, text=True, env=env, check=False)
    assert (done.returncode, done.stderr) == (1, "The client is unauthorized due to authentication failure.\n")
