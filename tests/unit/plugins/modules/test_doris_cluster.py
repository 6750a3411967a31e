"""doris_cluster module: validation before any cluster access, check mode, waiting, FE credentials from Secrets."""
import base64
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.lakehouse.platform.plugins.module_utils import doris
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import EnsureResult
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import WaitFailed, WaitResult
from ansible_collections.lakehouse.platform.plugins.modules import doris_cluster

FE = {"image": "apache/doris:fe-3.0.8", "replicas": 1, "storage_size": "30Gi"}
BE = {"image": "apache/doris:be-3.0.8", "replicas": 2, "storage_size": "100Gi"}


def b64(text):
    return base64.b64encode(text.encode()).decode()


class FakeClient(object):
    """Answers reads from a dict keyed by (kind, namespace, name); records every call."""

    def __init__(self, objects=None):
        self.objects = objects or {}
        self.calls = []

    def get(self, api_version, kind, name, namespace=None):
        self.calls.append(("get", kind, name))
        return self.objects.get((kind, namespace, name))


def basic_auth_secret(name="doris-admin", username="admin", password="s3cr3t-pw", type_="kubernetes.io/basic-auth"):
    return {"apiVersion": "v1", "kind": "Secret", "type": type_,
            "metadata": {"name": name, "namespace": "doris"},
            "data": {"username": b64(username), "password": b64(password)}}


def available(definition):
    obj = json.loads(json.dumps(definition))
    obj["metadata"].update(uid="u-1", generation=1)
    obj["status"] = {}
    for component in doris.components_in_spec(obj):
        replicas = obj["spec"][doris.SPEC_KEYS[component]]["replicas"]
        obj["status"][doris.STATUS_KEYS[component]] = {
            "accessService": "doris-%s-service" % component,
            "runningInstances": ["doris-%s-%d" % (component, i) for i in range(replicas)],
            "componentCondition": {"phase": "available", "reason": "", "message": ""},
        }
    return obj


def run(args, monkeypatch, capsys, client=None, check_mode=False, diff=False):
    """Run main() with args; returns (result dict, failed)."""
    def from_module(module):
        if client is None:
            raise AssertionError("the module reached for the cluster although it should have stopped before")
        return client

    monkeypatch.setattr(doris_cluster.KubeClient, "from_module", staticmethod(from_module))
    full = dict(name="doris", namespace="doris", _ansible_check_mode=check_mode, _ansible_diff=diff)
    full.update(args)
    with patch_module_args(full):
        with pytest.raises(SystemExit) as exit_info:
            doris_cluster.main()
    result = json.loads(capsys.readouterr().out)
    return result, exit_info.value.code != 0


@pytest.mark.parametrize(
    "args, message",
    [
        ({"fe": dict(FE, requests={"memory": "4Gx"})}, "fe.requests.memory: invalid quantity '4Gx'"),
        ({"fe": dict(FE, storage_size="2Gi")}, "fe.storage_size 2Gi is below the 5Gi minimum"),
        ({"fe": FE, "be": dict(BE, limits={"cpu": "1"}, requests={"cpu": "2"})},
         "be.requests.cpu (2) exceeds be.limits.cpu (1)"),
        ({"fe": FE, "wait_timeout": -1}, "wait_timeout must be 0 or more seconds"),
        ({"be": BE}, "state is present but all of the following are missing: fe"),
    ],
)
def test_bad_input_fails_before_touching_the_cluster(args, message, monkeypatch, capsys):
    result, failed = run(args, monkeypatch, capsys, client=None)
    assert failed
    assert message in result["msg"]


def test_check_mode_sends_dry_run_only_and_does_not_wait(monkeypatch, capsys):
    client = FakeClient({("Secret", "doris", "doris-admin"): basic_auth_secret()})
    seen = {}

    def fake_ensure(client_, definition, check_mode):
        seen["check_mode"] = check_mode
        seen["definition"] = definition
        return EnsureResult(True, None, definition, {"before": {}, "after": definition}, "create")

    monkeypatch.setattr(doris_cluster, "ensure", fake_ensure)
    monkeypatch.setattr(doris_cluster, "wait_for", lambda *a, **k: pytest.fail("waited in check mode"))
    monkeypatch.setattr(doris, "check_fe", lambda *a, **k: pytest.fail("queried the FE in check mode"))
    result, failed = run({"fe": FE, "be": BE, "auth_secret": "doris-admin", "fe_check": {}}, monkeypatch, capsys,
                         client=client, check_mode=True, diff=True)
    assert not failed
    assert seen["check_mode"] is True
    assert result["changed"] is True
    assert result["diff"]["after"]["spec"]["authSecret"] == "doris-admin"
    assert result["components"]["fe"]["phase"] is None
    assert "fe_check" not in result


def test_missing_auth_secret_fails_outside_check_mode(monkeypatch, capsys):
    monkeypatch.setattr(doris_cluster, "ensure", lambda *a, **k: pytest.fail("wrote the CR without its Secret"))
    result, failed = run({"fe": FE, "auth_secret": "nope"}, monkeypatch, capsys, client=FakeClient())
    assert failed
    assert result["msg"].startswith("auth_secret 'nope' not found in namespace 'doris'")


def test_auth_secret_of_the_wrong_type_is_refused(monkeypatch, capsys):
    client = FakeClient({("Secret", "doris", "doris-admin"): basic_auth_secret(type_="Opaque")})
    monkeypatch.setattr(doris_cluster, "ensure", lambda *a, **k: pytest.fail("wrote the CR with a bad Secret"))
    result, failed = run({"fe": FE, "auth_secret": "doris-admin"}, monkeypatch, capsys, client=client)
    assert failed
    assert "has type 'Opaque'; doris-operator needs type kubernetes.io/basic-auth" in result["msg"]


def test_waits_then_checks_fe_with_the_secret_password(monkeypatch, capsys):
    client = FakeClient({("Secret", "doris", "doris-admin"): basic_auth_secret()})
    definition = doris.build_cluster("doris", "doris", {"fe": FE, "be": BE}, auth_secret="doris-admin")
    ready_obj = available(definition)
    monkeypatch.setattr(doris_cluster, "ensure",
                        lambda c, d, check_mode: EnsureResult(False, ready_obj, ready_obj, None, None))
    waits = []

    def fake_wait(client_, api_version, kind, name, namespace, **kwargs):
        waits.append((api_version, kind, name, namespace, kwargs["failure_grace"], kwargs["timeout"]))
        assert kwargs["ready"] is doris.is_ready and kwargs["failed"] is doris.failure
        return WaitResult(ready_obj, 3.5)

    checks = []

    def fake_check_fe(connect_kwargs, expected, timeout):
        checks.append((connect_kwargs, expected))
        return {"fe_alive": 1, "fe_total": 1, "be_alive": 2, "be_total": 2, "cn_alive": 0, "cn_total": 0,
                "not_alive": [], "fe_master": "doris-fe-0"}, []

    monkeypatch.setattr(doris_cluster, "wait_for", fake_wait)
    monkeypatch.setattr(doris, "check_fe", fake_check_fe)
    result, failed = run({"fe": FE, "be": BE, "auth_secret": "doris-admin", "failure_grace": 30,
                          "fe_check": {"host": "doris-fe-service.doris.svc", "round_trip": False}},
                         monkeypatch, capsys, client=client)
    assert not failed, result
    assert waits == [("doris.selectdb.com/v1", "DorisCluster", "doris", "doris", 30, 900)]
    connect_kwargs, expected = checks[0]
    assert connect_kwargs == {"host": "doris-fe-service.doris.svc", "port": 9030, "user": "admin",
                              "password": "s3cr3t-pw", "connect_timeout": 10}
    assert expected == {"fe": 1, "be": 2}
    assert (result["fe_alive"], result["be_alive"]) == (1, 2)
    assert result["ready"] is True and result["changed"] is False
    assert "s3cr3t-pw" not in json.dumps(result)


def test_fe_check_mismatch_fails_naming_counts_and_dead_nodes(monkeypatch, capsys):
    definition = doris.build_cluster("doris", "doris", {"fe": FE, "be": BE})
    ready_obj = available(definition)
    monkeypatch.setattr(doris_cluster, "ensure",
                        lambda c, d, check_mode: EnsureResult(False, ready_obj, ready_obj, None, None))
    monkeypatch.setattr(doris_cluster, "wait_for", lambda *a, **k: WaitResult(ready_obj, 1.0))
    monkeypatch.setattr(doris, "check_fe", lambda kw, expected, timeout: (
        {"fe_alive": 1, "fe_total": 1, "be_alive": 1, "be_total": 2, "cn_alive": 0, "cn_total": 0,
         "fe_master": "fe-0", "not_alive": [{"name": "10004", "host": "doris-be-1", "error": "Connection refused"}]},
        ["be alive 1, expected 2"]))
    result, failed = run({"fe": FE, "be": BE, "fe_check": {"host": "127.0.0.1", "port": 19030}}, monkeypatch, capsys,
                         client=FakeClient())
    assert failed
    assert result["msg"] == ("Doris FE at 127.0.0.1:19030 reports be alive 1, expected 2; "
                             "not alive: 10004 (doris-be-1): Connection refused")


def test_member_failure_past_grace_fails_with_components(monkeypatch, capsys):
    definition = doris.build_cluster("doris", "doris", {"fe": FE, "be": BE})
    broken = available(definition)
    broken["status"]["beStatus"]["componentCondition"].update(
        phase="haveMemberFailed", reason="CrashLoopBackOff", message="back-off restarting failed container")
    monkeypatch.setattr(doris_cluster, "ensure",
                        lambda c, d, check_mode: EnsureResult(True, None, definition, None, "create"))

    def fail_wait(*args, **kwargs):
        raise WaitFailed("DorisCluster doris/doris failed: %s" % doris.failure(broken), broken, 61.0)

    monkeypatch.setattr(doris_cluster, "wait_for", fail_wait)
    result, failed = run({"fe": FE, "be": BE}, monkeypatch, capsys, client=FakeClient())
    assert failed
    assert "be haveMemberFailed: CrashLoopBackOff: back-off restarting failed container" in result["msg"]
    assert result["components"]["be"]["phase"] == "haveMemberFailed"
    assert result["changed"] is True


def test_absent_deletes_with_wait(monkeypatch, capsys):
    before = available(doris.build_cluster("doris", "doris", {"fe": FE}))
    calls = []

    def fake_delete(client, api_version, kind, name, namespace, check_mode, wait=False, timeout=None):
        calls.append((kind, name, namespace, check_mode, wait, timeout))
        return True, before

    monkeypatch.setattr(doris_cluster, "delete", fake_delete)
    result, failed = run({"state": "absent", "wait_timeout": 120}, monkeypatch, capsys, client=FakeClient())
    assert not failed
    assert calls == [("DorisCluster", "doris", "doris", False, True, 120)]
    assert result["changed"] is True
    assert result["cluster"]["name"] == "doris"


def test_argument_spec_matches_documentation():
    import yaml

    documented = yaml.safe_load(doris_cluster.DOCUMENTATION)["options"]
    spec = doris_cluster.argument_spec()
    own = set(spec) - set(doris_cluster.kube_argument_spec())  # auth options are documented by k8s_auth
    assert own == set(documented)
    for component in doris.COMPONENTS:
        assert set(spec[component]["options"]) == set(documented[component]["suboptions"])
    assert set(spec["fe_check"]["options"]) == set(documented["fe_check"]["suboptions"])


# -- apply: false (the DorisCluster is applied by something else; the module only reads and waits) ----------
def no_ensure(*args, **kwargs):
    pytest.fail("apply=false wrote the DorisCluster")


@pytest.fixture
def warned(monkeypatch):
    """module.warn() texts (where the result carries them depends on whether controller code was imported)."""
    seen = []
    monkeypatch.setattr(doris_cluster.AnsibleModule, "warn", lambda self, warning, **kwargs: seen.append(warning))
    return seen


def only_reads(client):
    return all(call[0] == "get" for call in client.calls)


def applied_cluster():
    """A DorisCluster as the doris role's apply step leaves it (labels of k8s_apply), available."""
    definition = doris.build_cluster("doris", "doris", {"fe": FE, "be": BE}, auth_secret="doris-admin",
                                     labels={"app.kubernetes.io/managed-by": "lakehouse.platform"})
    return available(definition)


def test_apply_false_waits_and_checks_fe_without_writing_or_needing_fe(monkeypatch, capsys, warned):
    live = applied_cluster()
    client = FakeClient({("Secret", "doris", "doris-admin"): basic_auth_secret(),
                         ("DorisCluster", "doris", "doris"): live})
    monkeypatch.setattr(doris_cluster, "ensure", no_ensure)
    waits = []

    def fake_wait(client_, api_version, kind, name, namespace, **kwargs):
        waits.append((kind, name, namespace, kwargs["failure_grace"], kwargs["timeout"]))
        assert kwargs["ready"] is doris.is_ready and kwargs["failed"] is doris.failure
        return WaitResult(live, 2.0)

    checks = []

    def fake_check_fe(connect_kwargs, expected, timeout):
        checks.append(expected)
        return {"fe_alive": 1, "fe_total": 1, "be_alive": 2, "be_total": 2, "cn_alive": 0, "cn_total": 0,
                "not_alive": [], "fe_master": "doris-fe-0"}, []

    monkeypatch.setattr(doris_cluster, "wait_for", fake_wait)
    monkeypatch.setattr(doris, "check_fe", fake_check_fe)
    result, failed = run({"apply": False, "auth_secret": "doris-admin", "failure_grace": 30,
                          "fe_check": {"host": "doris-fe-service.doris.svc", "round_trip": False}},
                         monkeypatch, capsys, client=client, diff=True)
    assert not failed, result
    assert waits == [("DorisCluster", "doris", "doris", 30, 900)]
    assert checks == [{"fe": 1, "be": 2}]  # replica counts from the live object
    assert result["changed"] is False and result["ready"] is True and "diff" not in result
    assert (result["fe_alive"], result["be_alive"]) == (1, 2)
    assert result["cluster"]["components"] == ["fe", "be"] and result["components"]["be"]["running"] == 2
    assert result["resource"]["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "lakehouse.platform"}
    assert only_reads(client) and warned == []


def test_apply_false_in_check_mode_only_reads(monkeypatch, capsys):
    client = FakeClient({("Secret", "doris", "doris-admin"): basic_auth_secret(),
                         ("DorisCluster", "doris", "doris"): applied_cluster()})
    monkeypatch.setattr(doris_cluster, "ensure", no_ensure)
    monkeypatch.setattr(doris_cluster, "wait_for", lambda *a, **k: pytest.fail("waited in check mode"))
    result, failed = run({"apply": False, "auth_secret": "doris-admin", "fe_check": {}}, monkeypatch, capsys,
                         client=client, check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] is False and "diff" not in result and "fe_check" not in result
    assert result["ready"] is True and result["components"]["fe"]["phase"] == "available"
    assert client.calls == [("get", "Secret", "doris-admin"), ("get", "DorisCluster", "doris")]


def test_apply_false_in_check_mode_on_an_empty_cluster_warns(monkeypatch, capsys, warned):
    monkeypatch.setattr(doris_cluster, "ensure", no_ensure)
    result, failed = run({"apply": False}, monkeypatch, capsys, client=FakeClient(), check_mode=True)
    assert not failed, result
    assert result["changed"] is False and result["ready"] is False and result["resource"] is None
    assert "components" not in result and "cluster" not in result
    assert any("DorisCluster doris/doris not found (check mode" in w for w in warned)


def test_apply_false_waits_for_an_absent_cluster_and_reports_the_timeout(monkeypatch, capsys):
    from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import WaitTimeout

    monkeypatch.setattr(doris_cluster, "ensure", no_ensure)

    def never_appears(*args, **kwargs):
        raise WaitTimeout("Timed out after 5s waiting for DorisCluster doris/doris: last status: object not found",
                          None, 5.0)

    monkeypatch.setattr(doris_cluster, "wait_for", never_appears)
    client = FakeClient()
    result, failed = run({"apply": False, "wait_timeout": 5}, monkeypatch, capsys, client=client)
    assert failed
    assert "object not found" in result["msg"] and result["changed"] is False and result["resource"] is None
    assert only_reads(client)


def test_apply_false_without_wait_needs_the_cluster_to_exist(monkeypatch, capsys):
    monkeypatch.setattr(doris_cluster, "ensure", no_ensure)
    result, failed = run({"apply": False, "wait": False}, monkeypatch, capsys, client=FakeClient())
    assert failed
    assert result["msg"].startswith("DorisCluster doris/doris not found; with apply=false the module does not create it")


def test_apply_false_member_failure_fails_with_components(monkeypatch, capsys):
    broken = applied_cluster()
    broken["status"]["beStatus"]["componentCondition"].update(
        phase="haveMemberFailed", reason="CrashLoopBackOff", message="back-off restarting failed container")
    client = FakeClient({("Secret", "doris", "doris-admin"): basic_auth_secret(),
                         ("DorisCluster", "doris", "doris"): broken})
    monkeypatch.setattr(doris_cluster, "ensure", no_ensure)

    def fail_wait(*args, **kwargs):
        raise WaitFailed("DorisCluster doris/doris failed: %s" % doris.failure(broken), broken, 61.0)

    monkeypatch.setattr(doris_cluster, "wait_for", fail_wait)
    result, failed = run({"apply": False, "auth_secret": "doris-admin"}, monkeypatch, capsys, client=client)
    assert failed
    assert "be haveMemberFailed: CrashLoopBackOff" in result["msg"]
    assert result["components"]["be"]["phase"] == "haveMemberFailed" and result["changed"] is False
    assert only_reads(client)


def test_apply_false_keeps_the_auth_secret_check(monkeypatch, capsys):
    monkeypatch.setattr(doris_cluster, "ensure", no_ensure)
    monkeypatch.setattr(doris_cluster, "wait_for", lambda *a, **k: pytest.fail("waited without the Secret"))
    result, failed = run({"apply": False, "auth_secret": "nope"}, monkeypatch, capsys, client=FakeClient())
    assert failed and result["msg"].startswith("auth_secret 'nope' not found in namespace 'doris'")


def test_apply_false_validates_and_warns_about_spec_options(monkeypatch, capsys, warned):
    live = applied_cluster()
    monkeypatch.setattr(doris_cluster, "ensure", no_ensure)
    monkeypatch.setattr(doris_cluster, "wait_for", lambda *a, **k: WaitResult(live, 0.1))
    client = FakeClient({("DorisCluster", "doris", "doris"): live})
    result, failed = run({"apply": False, "fe": FE, "be": BE}, monkeypatch, capsys, client=client)
    assert not failed, result
    assert any("apply=false: options fe, be are not used" in w for w in warned)
    # still validated before any request
    result, failed = run({"apply": False, "be": dict(BE, requests={"memory": "4Gx"})}, monkeypatch, capsys)
    assert failed and "be.requests.memory: invalid quantity '4Gx'" in result["msg"]


def test_apply_false_refuses_state_absent_before_any_request(monkeypatch, capsys):
    monkeypatch.setattr(doris_cluster, "delete", lambda *a, **k: pytest.fail("deleted with apply=false"))
    result, failed = run({"apply": False, "state": "absent"}, monkeypatch, capsys, client=None)
    assert failed and "cannot be combined with state=absent" in result["msg"]
