"""The same manifests through kubectl and through kubernetes.core (ansible-playbook) end up the same, and
kubernetes.core's idempotence, check mode and error handling behave as against a real API server."""
import ast
import copy
import json

MANIFESTS = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "labels": {"app": "lake"}},
     "data": {"mode": "test", "level": "3"}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "labels": {"app": "lake"}},
     "type": "Opaque", "stringData": {"password": "s3cret"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"app": "lake"}},
     "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "lake"}},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                  {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 8080}],
                   "env": [{"name": "MODE", "value": "test"}]}]}}}},
    {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "ray", "labels": {"app": "lake"}},
     "spec": {"headGroupSpec": {"rayStartParams": {},
                                "template": {"spec": {"containers": [
                                    {"name": "ray-head", "image": "rayproject/ray:2.46.0"}]}}},
              "workerGroupSpecs": [{"groupName": "cpu", "replicas": 1, "minReplicas": 1, "maxReplicas": 3,
                                    "rayStartParams": {}, "template": {"spec": {"containers": [
                                        {"name": "ray-worker", "image": "rayproject/ray:2.46.0"}]}}}]}},
    {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg", "labels": {"app": "lake"}},
     "spec": {"instances": 1, "storage": {"size": "1Gi"}}},
]
RESOURCES = [("v1", "configmaps"), ("v1", "secrets"), ("v1", "services"), ("apps/v1", "deployments"),
             ("ray.io/v1", "rayclusters"), ("postgresql.cnpg.io/v1", "clusters")]


def _path(api_version, plural, namespace, name=""):
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{prefix}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


def _normalized(obj):
    """What both clients should agree on: the object minus per-write and per-client metadata."""
    obj = copy.deepcopy(obj)
    metadata = obj["metadata"]
    for field in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "namespace", "generation"):
        metadata.pop(field, None)
    (metadata.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if not metadata.get("annotations"):
        metadata.pop("annotations", None)
    if obj["kind"] == "Service":
        obj["spec"].pop("clusterIP")
        obj["spec"].pop("clusterIPs")
    return obj


def _snapshot(kube_api, namespace):
    objects = {}
    for api_version, plural in RESOURCES:
        _status, listing, _headers = kube_api.request("GET", _path(api_version, plural, namespace) + "?labelSelector=app%3Dlake")
        for item in listing["items"]:
            objects[(item["kind"], item["metadata"]["name"])] = item
    return objects


def _k8s_task(namespace, manifests, **extra):
    return {"name": "apply manifests", "kubernetes.core.k8s": dict(
        {"state": "present", "namespace": namespace, "definition": manifests}, **extra)}


def test_kubectl_and_kubernetes_core_store_the_same_objects(kube_api, kube_namespace, kubectl, k8s_playbook,
                                                            tmp_path):
    kubectl("create", "namespace", "via-kubectl-" + kube_namespace, "--dry-run=client", "-o", "json")
    kubectl_ns = kube_namespace
    ansible_ns = kube_namespace + "-a"
    kube_api.request("POST", "/api/v1/namespaces", {"metadata": {"name": ansible_ns}})
    try:
        manifest_file = tmp_path / "manifests.json"
        manifest_file.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": MANIFESTS}))
        kubectl("apply", "-n", kubectl_ns, "-f", str(manifest_file))

        run = k8s_playbook([_k8s_task(ansible_ns, MANIFESTS)])
        assert run.rc == 0, run
        assert run.results[0]["changed"] is True

        by_kubectl = _snapshot(kube_api, kubectl_ns)
        by_ansible = _snapshot(kube_api, ansible_ns)
        assert len(by_kubectl) == len(MANIFESTS)
        assert sorted(by_kubectl) == sorted(by_ansible)
        for key in by_kubectl:
            assert _normalized(by_kubectl[key]) == _normalized(by_ansible[key]), key

        # A second identical run changes nothing (and writes nothing).
        kube_api.reset_counts()
        again = k8s_playbook([_k8s_task(ansible_ns, MANIFESTS),
                              _k8s_task(ansible_ns, MANIFESTS, apply=True),
                              _k8s_task(ansible_ns, MANIFESTS, apply=True,
                                        server_side_apply={"field_manager": "ansible", "force_conflicts": True})])
        assert again.rc == 0, again
        first, client_side_apply, server_side_apply = again.results
        assert first["changed"] is False
        # apply=true adds the last-applied annotation once; server-side apply then takes over the fields.
        assert client_side_apply["changed"] is True and server_side_apply["changed"] is True
        assert _snapshot(kube_api, ansible_ns).keys() == by_ansible.keys()
        third = k8s_playbook([_k8s_task(ansible_ns, MANIFESTS, apply=True),
                              _k8s_task(ansible_ns, MANIFESTS, apply=True,
                                        server_side_apply={"field_manager": "ansible", "force_conflicts": True})])
        assert third.rc == 0, third
        assert [r["changed"] for r in third.results] == [False, False]
    finally:
        kube_api.request("DELETE", f"/api/v1/namespaces/{ansible_ns}")


def test_check_mode_makes_no_writes(kube_api, kube_namespace, k8s_playbook):
    setup = k8s_playbook([_k8s_task(kube_namespace, MANIFESTS[:1] + MANIFESTS[4:5])])
    assert setup.rc == 0, setup
    before = _snapshot(kube_api, kube_namespace)
    changed = copy.deepcopy(MANIFESTS)
    changed[0]["data"]["mode"] = "prod"
    changed[4]["spec"]["workerGroupSpecs"][0]["replicas"] = 2
    kube_api.reset_counts()
    run = k8s_playbook([
        _k8s_task(kube_namespace, changed),
        _k8s_task(kube_namespace, changed, apply=True),
        {"kubernetes.core.k8s": {"state": "absent", "namespace": kube_namespace, "definition": MANIFESTS[:1]}},
    ], check=True)
    assert run.rc == 0, run
    assert all(r["changed"] for r in run.results)
    counts = kube_api.request_counts()
    assert counts.writes() == 0, counts
    assert counts.dry_run_writes() >= 3
    assert counts.count(verb="delete", resource="configmaps", dry_run=True) == 1
    after = _snapshot(kube_api, kube_namespace)
    assert {k: v["metadata"]["resourceVersion"] for k, v in after.items()} == \
        {k: v["metadata"]["resourceVersion"] for k, v in before.items()}


def test_kubernetes_core_reports_api_errors(kube_api, kube_namespace, k8s_playbook):
    invalid = copy.deepcopy(MANIFESTS[4])
    invalid["spec"]["workerGroupSpecs"][0]["minReplicas"] = "one"
    run = k8s_playbook([
        dict(_k8s_task(kube_namespace, [invalid]), ignore_errors=True),
        {"kubernetes.core.k8s_info": {"kind": "RayCluster", "api_version": "ray.io/v1", "namespace": kube_namespace,
                                      "name": "ray"}},
        dict(_k8s_task("no-such-namespace", MANIFESTS[:1]), ignore_errors=True),
    ])
    assert run.rc == 0, run
    refused, lookup, missing_ns = run.results
    assert refused["failed"] and refused["reason"] == "Unprocessable Entity"
    status = _status_in(refused["msg"])
    assert status["message"] == (
        'RayCluster.ray.io "ray" is invalid: spec.workerGroupSpecs[0].minReplicas: Invalid value: "string": '
        'spec.workerGroupSpecs[0].minReplicas in body must be of type integer: "string"')
    assert status["details"]["causes"][0]["field"] == "spec.workerGroupSpecs[0].minReplicas"
    assert lookup["resources"] == []
    assert missing_ns["failed"]
    assert _status_in(missing_ns["msg"])["message"] == 'namespaces "no-such-namespace" not found'


def _status_in(message):
    """The Status body kubernetes.core quotes in its failure message ("...: b'{json}'")."""
    return json.loads(ast.literal_eval(message[message.index("b'"):]))


def test_k8s_info_label_selectors_and_state_absent(kube_api, kube_namespace, k8s_playbook):
    labelled = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "labels": labels}}
                for i, labels in enumerate([{"tier": "a", "env": "x"}, {"tier": "b", "env": "x"}, {"tier": "a"}])]
    run = k8s_playbook([
        _k8s_task(kube_namespace, labelled),
        {"kubernetes.core.k8s_info": {"kind": "ConfigMap", "namespace": kube_namespace,
                                      "label_selectors": ["tier=a", "env"]}},
        {"kubernetes.core.k8s_info": {"kind": "ConfigMap", "namespace": kube_namespace,
                                      "label_selectors": ["tier in (a,b)", "env!=x"]}},
        {"kubernetes.core.k8s": {"state": "absent", "kind": "ConfigMap", "namespace": kube_namespace,
                                 "name": "cm-0", "wait": True}},
        {"kubernetes.core.k8s": {"state": "absent", "kind": "ConfigMap", "namespace": kube_namespace,
                                 "name": "cm-0"}},
    ])
    assert run.rc == 0, run
    _created, both, neither_env, deleted, already_gone = run.results
    assert [r["metadata"]["name"] for r in both["resources"]] == ["cm-0"]
    assert [r["metadata"]["name"] for r in neither_env["resources"]] == ["cm-2"]
    assert deleted["changed"] is True and already_gone["changed"] is False
    assert kube_api.request("GET", f"/api/v1/namespaces/{kube_namespace}/configmaps/cm-0")[0] == 404
