"""The deployer's least rights (roles/deployer_rbac) enforced by the API test server's RBAC (tests/kubeapi/rbac.py).

As the admin, playbooks/rbac.yml applies the ServiceAccount, its Roles/ClusterRole for phase 2 and its token, and
writes its kubeconfig (0600). Phase 2 `--tags spark_operator` then converges with that kubeconfig only (every
request of the deployer allowed, each one audited). With one right taken out of the rules (the run Lease's create)
and the role applied again, the same run fails naming the verb, the resource and the namespace refused.
"""
import json
import os
import stat
import uuid

import pytest
import yaml

from tests.integration.k8s_compare import create_ready_node, delete_node, require_real_crds
from tests.integration.phase_copy import seed_phase1_outputs, ROOT, copy_collection, write_inventory, recap, run_playbook

RULES = os.path.join(ROOT, "roles", "deployer_rbac", "vars", "main.yml")


def _audit(kube_api, user):
    status, body, _headers = kube_api.request("GET", "/_test/rbac/audit")
    assert status == 200, body
    return [row for row in body["requests"] if row["user"] == user]


@pytest.fixture(scope="module")
def deployer(kube_api, tmp_path_factory):
    require_real_crds(kube_api, ["sparkapplications.sparkoperator.k8s.io", "helmreleases.helm.toolkit.fluxcd.io"])
    suffix = uuid.uuid4().hex[:6]
    ns = {key: "%s-%s" % (key, suffix) for key in ("dp", "spark", "jobs", "state")}
    collection = copy_collection(tmp_path_factory.mktemp("rbac"))
    kubeconfig = str(collection / "deployer.kubeconfig")
    variables = {
        "platform_mode": "apply", "platform_operator": "rbac-test",
        "platform_namespace": ns["dp"], "platform_state_namespace": ns["state"],
        "platform_render_dir": str(collection / "build"),
        "spark_operator_namespace": ns["spark"], "spark_operator_job_namespace": ns["jobs"],
        "spark_operator_wait_timeout": 300, "spark_operator_validation_timeout": 300,
        "phase2_min_health_percent": 0,
        "deployer_rbac_phases": ["phase2"], "deployer_rbac_kubeconfig_path": kubeconfig,
    }
    admin = write_inventory(collection, "admin", dict(variables, platform_kubeconfig=kube_api.kubeconfig))
    as_deployer = write_inventory(collection, "deployer", dict(variables, platform_kubeconfig=kubeconfig))
    seed_phase1_outputs(kube_api, ns)  # what phase 1 leaves
    # Flux is installed (its namespace; the simulators act as its controllers)
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}})
    assert status in (201, 409), body
    node = create_ready_node(kube_api, "rbac-" + suffix)
    try:
        yield {"collection": collection, "ns": ns, "kubeconfig": kubeconfig, "admin": admin,
               "deployer": as_deployer, "user": "system:serviceaccount:%s:lakehouse-deployer" % ns["state"],
               "env": dict(kube_api.env, KUBECONFIG=kubeconfig, K8S_AUTH_KUBECONFIG=kubeconfig)}
    finally:
        delete_node(kube_api, node)


def test_phase2_converges_with_the_deployer_token_only(deployer, kube_api, simulators):
    collection, ns = deployer["collection"], deployer["ns"]
    applied = run_playbook(collection, "-i", deployer["admin"], "playbooks/rbac.yml", env=kube_api.env, check=False)
    assert applied.returncode == 0, applied.stdout[-4000:]
    assert stat.S_IMODE(os.stat(deployer["kubeconfig"]).st_mode) == 0o600
    config = yaml.safe_load(open(deployer["kubeconfig"]))
    token = config["users"][0]["user"]["token"]
    assert token and token not in applied.stdout  # the token never reaches the output
    status, body, _headers = kube_api.request("GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/roles/"
                                              "lakehouse-deployer-%s" % (ns["jobs"], ns["jobs"]))
    assert status == 200 and body["rules"], body
    # the deployer holds nothing beyond its rules: another namespace's Secrets stay out of reach
    status, body, _headers = kube_api.request("GET", "/api/v1/namespaces/kube-system/secrets",
                                              headers={"Authorization": "Bearer " + token})
    assert status == 403 and body["message"] == (
        'secrets is forbidden: User "%s" cannot list resource "secrets" in API group "" in the namespace '
        '"kube-system"' % deployer["user"]), body

    kube_api.request("POST", "/_test/rbac/audit/reset")
    run = run_playbook(collection, "-i", deployer["deployer"], "playbooks/phase2.yml", "--tags", "spark_operator",
                       env=deployer["env"], check=False, timeout=1200)
    assert run.returncode == 0, run.stdout[-5000:]
    assert recap(run.stdout)["changed"] > 0
    report = json.loads((collection / "build" / "phase2" / "report.json").read_text())
    assert report["outcome"] == "succeeded", report
    assert report["validations"]["spark_operator"]["state"] == "COMPLETED", report["validations"]
    audit = _audit(kube_api, deployer["user"])
    assert audit, "the phase ran as someone else than the deployer"
    assert [row for row in audit if not row["allowed"]] == []
    assert {(row["namespace"], row["resource"], row["verb"]) for row in audit} >= {
        (ns["state"], "leases", "create"), (ns["jobs"], "sparkapplications", "create"),
        (ns["spark"], "helmreleases", "patch"), ("", "nodes", "list")}


def test_a_right_taken_out_fails_the_run_naming_verb_resource_and_namespace(
        deployer, kube_api, simulators, tmp_path):
    collection, ns = deployer["collection"], deployer["ns"]
    rules = yaml.safe_load(open(RULES))["deployer_rbac_rules"]
    kept = [rule for rule in rules if not (rule["resources"] == ["leases"] and rule["verbs"] == ["create"])]
    assert len(kept) == len(rules) - 1
    extra = tmp_path / "rules.json"
    extra.write_text(json.dumps({"deployer_rbac_rules": kept}))
    applied = run_playbook(collection, "-i", deployer["admin"], "playbooks/rbac.yml", "-e", "@%s" % extra,
                           env=kube_api.env, check=False)
    assert applied.returncode == 0, applied.stdout[-4000:]
    run = run_playbook(collection, "-i", deployer["deployer"], "playbooks/phase2.yml", "--tags", "spark_operator",
                       env=deployer["env"], check=False, timeout=600)
    assert run.returncode != 0
    refusal = ('cannot create resource \\"leases\\" in API group \\"coordination.k8s.io\\" in the namespace \\"%s\\"'
               % ns["state"])
    plain = refusal.replace('\\"', '"')
    assert refusal in run.stdout or plain in run.stdout, run.stdout[-5000:]
    denied = [row for row in _audit(kube_api, deployer["user"]) if not row["allowed"]]
    assert [(row["verb"], row["resource"], row["namespace"]) for row in denied] == [("create", "leases", ns["state"])]


def test_render_writes_only_the_enabled_phases_rights_and_bad_phases_are_refused(tmp_path):
    collection = copy_collection(tmp_path)
    run = run_playbook(collection, "playbooks/rbac.yml", "-e", '{"deployer_rbac_phases": ["phase2"]}', check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    tree = collection / "build" / "rbac" / "deployer_rbac"
    objects = [yaml.safe_load(path.read_text()) for path in sorted(tree.glob("*.yaml"))
               if path.name != "kustomization.yaml"]
    roles = {o["metadata"]["namespace"]: o["rules"] for o in objects if o["kind"] == "Role"}
    # phase 2: the Spark operator's two namespaces, Trino's (the platform namespace), the state namespace
    assert sorted(roles) == ["data-platform", "lakehouse-system", "spark-jobs", "spark-operator"]
    assert {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]} \
        in roles["lakehouse-system"]
    groups = {g for rules in roles.values() for rule in rules for g in rule["apiGroups"]}
    assert not groups & {"postgresql.cnpg.io", "ceph.rook.io", "ray.io", "doris.selectdb.com"}  # other phases'
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert secret["type"] == "kubernetes.io/service-account-token" and "data" not in secret
    cluster = next(o for o in objects if o["kind"] == "ClusterRole")["rules"]
    assert {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]} in cluster
    bound = {o["roleRef"]["name"] for o in objects if o["kind"].endswith("Binding")}
    assert bound == {o["metadata"]["name"] for o in objects if o["kind"] in ("Role", "ClusterRole")}

    # with the Flux driver: a Role in Flux's namespace to read its controllers, which the role does not create
    flux = run_playbook(collection, "playbooks/rbac.yml", "-e", '{"deployer_rbac_phases": ["phase2"]}', "-e",
                        "platform_chart_driver=flux platform_render_dir=%s" % (tmp_path / "flux"), check=False)
    assert flux.returncode == 0, flux.stdout[-3000:]
    flux_tree = tmp_path / "flux" / "rbac" / "deployer_rbac"
    flux_role = yaml.safe_load((flux_tree / "role-lakehouse-deployer-flux-system.yaml").read_text())
    assert flux_role["rules"] == [{"apiGroups": ["apps"], "resources": ["deployments"],
                                   "verbs": ["get", "list", "watch"],
                                   "resourceNames": ["source-controller", "helm-controller", "kustomize-controller"]}]
    assert not (flux_tree / "namespace-flux-system.yaml").exists()
    assert not list(tree.glob("*flux-system*"))  # the render driver reads no controllers

    refused = run_playbook(collection, "playbooks/rbac.yml", "-e", '{"deployer_rbac_phases": ["phase9"]}',
                           "-e", "platform_render_dir=%s" % (tmp_path / "refused"), check=False)
    assert refused.returncode != 0
    assert "deployer_rbac_phases must name phases of the catalog (phase1, phase2, phase3), got phase9" in refused.stdout
    assert not (tmp_path / "refused").exists()
