"""playbooks/phase3.yml end to end, in a private copy of the collection, against the Kubernetes API test
server and the operator simulators (Flux HelmReleases, DorisCluster, RayCluster, CloudNativePG, workloads).

Flux's kustomize-controller is not simulated; a small stand-in here plays it for the Kubeflow Kustomizations
(it creates the Deployments the upstream manifests would, reports the Kustomization Ready, and prunes them
when the Kustomization goes). What is pinned down:

* render mode writes the tree (HelmRepository/HelmRelease per chart, DorisCluster, RayCluster, CNPG Cluster,
  Flux Kustomizations, Namespaces, secret references without values, kustomizations) and the report, and
  a second render changes nothing;
* apply mode converges (every wait and validation passes), stores exactly the labelled objects render
  writes, generates each Secret once (values never in the output), and a rerun changes nothing;
* --check sends no persisting write;
* --tags doris runs only doris (and preflight);
* --tags rollback_doris removes only what doris created, data only when asked.
"""
import base64
import json
import os
import threading
import time
import uuid

import pytest
import yaml

from tests.integration.k8s_compare import (create_ready_node, delete_node, require_real_crds, is_subset,
                                           load_rendered)
from tests.integration.phase_copy import copy_collection, write_inventory, phase_components, recap, run_playbook
from tests.integration.leak_scan import assert_no_leak, secret_values_of, texts_of_tree

COMPONENTS = phase_components("phase3")
KFP_DEPLOYMENTS = ["ml-pipeline", "ml-pipeline-ui", "ml-pipeline-persistenceagent"]
KATIB_DEPLOYMENTS = ["katib-controller", "katib-db-manager", "katib-ui"]
STAND_IN_DEPLOYMENTS = {"kubeflow-pipelines": KFP_DEPLOYMENTS, "katib": KATIB_DEPLOYMENTS}


class KustomizeControllerStandIn(threading.Thread):
    """Plays Flux's kustomize-controller for the Kubeflow Kustomizations of one namespace."""

    def __init__(self, kube_api, flux_namespace, target_namespace):
        super().__init__(daemon=True)
        self.kube_api = kube_api
        self.flux_namespace = flux_namespace
        self.target_namespace = target_namespace
        self.stopping = threading.Event()
        self.paused = threading.Event()
        self.seen = set()

    def run(self):
        while not self.stopping.wait(0.5):
            if not self.paused.is_set():
                try:
                    self.reconcile()
                except Exception:  # noqa: BLE001 - a failed pass is retried; the test sees the effect or times out
                    pass

    def reconcile(self):
        status, body, _headers = self.kube_api.request(
            "GET", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/%s/kustomizations" % self.flux_namespace)
        items = body.get("items", []) if status == 200 else []
        present = set()
        for item in items:
            name = item["metadata"]["name"]
            present.add(name)
            for deployment in STAND_IN_DEPLOYMENTS.get(name, []):
                self._ensure_deployment(name, deployment)
            self._mark_ready(item)
        for gone in self.seen - present:  # prune: the Kustomization was deleted
            for deployment in STAND_IN_DEPLOYMENTS.get(gone, []):
                self.kube_api.request("DELETE", "/apis/apps/v1/namespaces/%s/deployments/%s"
                                      % (self.target_namespace, deployment))
        self.seen = present

    def _ensure_deployment(self, owner, name):
        path = "/apis/apps/v1/namespaces/%s/deployments" % self.target_namespace
        if self.kube_api.request("GET", path + "/" + name)[0] == 200:
            return
        labels = {"app": name}
        self.kube_api.request("POST", path, {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": self.target_namespace,
                         "labels": {"kustomize.toolkit.fluxcd.io/name": owner,
                                    "kustomize.toolkit.fluxcd.io/namespace": self.flux_namespace}},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": "registry.invalid/" + name}]}}}})

    def _mark_ready(self, item):
        generation = item["metadata"].get("generation", 1)
        ready = [c for c in (item.get("status") or {}).get("conditions", []) if c.get("type") == "Ready"]
        if ready and ready[0].get("status") == "True" and ready[0].get("observedGeneration") == generation:
            return
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.kube_api.request(
            "PATCH", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/%s/kustomizations/%s/status"
            % (self.flux_namespace, item["metadata"]["name"]),
            {"status": {"observedGeneration": generation, "conditions": [{
                "type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "observedGeneration": generation,
                "message": "Applied revision: stand-in", "lastTransitionTime": now}]}},
            content_type="application/merge-patch+json")


def _get(kube_api, path):
    status, body, _headers = kube_api.request("GET", path)
    return body if status == 200 else None


def _b64(value):
    return base64.b64decode(value).decode()


@pytest.fixture(scope="module")
def phase3(kube_api, tmp_path_factory):
    """A collection copy with a render and an apply inventory that place phase 3 in fresh namespaces."""
    require_real_crds(kube_api)
    suffix = uuid.uuid4().hex[:6]
    ns = {key: "%s-%s" % (key, suffix) for key in ("dp", "doris", "raysys", "ml", "kubeflow", "flux", "state")}
    for key in ("dp", "doris", "raysys", "ml", "kubeflow", "flux"):
        # Every HelmRelease in these namespaces gets a Deployment named after the release (its workload).
        status, body, _headers = kube_api.request("POST", "/api/v1/namespaces", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": ns[key], "annotations": {"helmrelease.sim.lakehouse.test/workloads": "true"}}})
        assert status == 201, body
    nodes = [create_ready_node(kube_api, "phase3-%s-%d" % (suffix, i)) for i in range(2)]
    collection = copy_collection(tmp_path_factory.mktemp("phase3"))
    with open(os.path.join(str(collection), "inventories", "local", "group_vars", "all", "capacity.yml")) as handle:
        declared = yaml.safe_load(handle)["platform_declared_capacity"]
    phase3_vars = {
        "platform_namespace": ns["dp"], "platform_state_namespace": ns["state"], "platform_operator": "phase3-test",
        "platform_render_dir": str(collection / "build"),
        "doris_namespace": ns["doris"], "ray_operator_namespace": ns["raysys"], "ray_namespace": ns["ml"],
        "mlflow_namespace": ns["ml"], "kubeflow_namespace": ns["kubeflow"], "kubeflow_flux_namespace": ns["flux"],
        # The simulated chart workloads carry Helm's standard labels, not Neo4j's own.
        "neo4j_workload_selector": "app.kubernetes.io/instance=neo4j",
        # No object gateway here: the bucket is made in the S3 tests of the mlflow role.
        "mlflow_bucket_create": False,
        # The shared test server's pods (other tests') do not make a healthy platform.
        "phase3_min_health_percent": 0,
        "doris_failure_grace": 5,
        # The runbook's Service URLs: an Ingress per UI at <ui>.<domain>.
        "platform_ingress_domain": "lakehouse.test", "platform_ingress_class_name": "nginx",
        # The Prometheus operator's ServiceMonitors (the server serves the real CRD): rendered and applied alike.
        "platform_service_monitors": True, "platform_service_monitor_labels": {"release": "kube-prometheus-stack"},
    }
    for component in COMPONENTS:
        phase3_vars["%s_wait_timeout" % component] = 600
    phase3_vars.update(doris_operator_wait_timeout=600, ray_operator_wait_timeout=600,
                       mlflow_postgres_wait_timeout=600)
    render_inventory = write_inventory(collection, "render-test", dict(
        phase3_vars, platform_mode="render", platform_chart_driver="render", platform_declared_capacity=declared))
    apply_inventory = write_inventory(collection, "apply-test", dict(
        phase3_vars, platform_mode="apply", platform_kubeconfig=kube_api.kubeconfig))
    stand_in = KustomizeControllerStandIn(kube_api, ns["flux"], ns["kubeflow"])
    stand_in.start()
    try:
        yield {"collection": collection, "ns": ns, "render": render_inventory, "apply": apply_inventory,
               "stand_in": stand_in, "runs": {}}
    finally:
        stand_in.stopping.set()
        stand_in.join(timeout=10)
        for node in nodes:
            delete_node(kube_api, node)


def _stored_phase3_objects(kube_api, rendered, namespaces):
    """What the server holds, labelled phase3, for the kinds render wrote, in the test's namespaces."""
    client = kube_api.client()
    stored = {}
    for api_version, kind in {(o["apiVersion"], o["kind"]) for o in rendered.values()}:
        resource = client.resources.get(api_version=api_version, kind=kind)
        items = resource.get(label_selector="lakehouse.platform/phase=phase3").to_dict()["items"]
        for item in items:
            metadata = item["metadata"]
            if metadata.get("namespace") in namespaces or metadata["name"] in namespaces:
                stored[(kind, metadata.get("namespace", ""), metadata["name"])] = item
    return stored


def test_render_writes_the_tree_and_rerender_changes_nothing(phase3):
    collection, build = phase3["collection"], phase3["collection"] / "build" / "phase3"
    first = run_playbook(collection, "-i", phase3["render"], "playbooks/phase3.yml")
    second = run_playbook(collection, "-i", phase3["render"], "playbooks/phase3.yml")
    assert recap(second.stdout)["changed"] == 0, second.stdout[-4000:]
    assert recap(first.stdout)["changed"] > 0
    phase3["runs"]["rendered"] = load_rendered(str(build))

    top = yaml.safe_load((build / "kustomization.yaml").read_text())
    assert top["resources"] == sorted(COMPONENTS)
    kinds = {}
    for (kind, _namespace, _name), obj in phase3["runs"]["rendered"].items():
        kinds.setdefault(obj["metadata"]["labels"]["lakehouse.platform/component"], set()).add(kind)
    assert kinds == {
        "elasticsearch": {"Namespace", "HelmRepository", "HelmRelease"},
        "kafka": {"HelmRepository", "HelmRelease"},
        "neo4j": {"HelmRepository", "HelmRelease"},
        "datahub": {"HelmRepository", "HelmRelease", "Ingress"},
        "doris": {"Namespace", "HelmRepository", "HelmRelease", "DorisCluster"},
        "ray": {"Namespace", "HelmRepository", "HelmRelease", "RayCluster", "Ingress", "ServiceMonitor"},
        "mlflow": {"Cluster", "HelmRepository", "HelmRelease", "Ingress"},
        "kubeflow": {"GitRepository", "Kustomization", "Ingress", "ServiceMonitor"},
    }
    monitors = dict((name, (namespace, obj["metadata"]["labels"]["release"], obj["spec"]["selector"]["matchLabels"],
                            [e["port"] for e in obj["spec"]["endpoints"]]))
                    for (kind, namespace, name), obj in phase3["runs"]["rendered"].items() if kind == "ServiceMonitor")
    assert monitors == {
        "ml-cluster-head": (phase3["ns"]["ml"], "kube-prometheus-stack",
                            {"ray.io/cluster": "ml-cluster", "ray.io/node-type": "head"},
                            ["metrics", "dash-metrics", "as-metrics"]),
        "ml-pipeline": (phase3["ns"]["kubeflow"], "kube-prometheus-stack", {"app": "ml-pipeline"}, ["http"]),
        "katib-controller": (phase3["ns"]["kubeflow"], "kube-prometheus-stack",
                             {"katib.kubeflow.org/component": "controller"}, ["metrics"]),
    }
    hosts = dict((obj["metadata"]["name"], (obj["spec"]["rules"][0]["host"], obj["spec"]["tls"][0]["secretName"],
                                            obj["spec"]["ingressClassName"]))
                 for (kind, _ns, _name), obj in phase3["runs"]["rendered"].items() if kind == "Ingress")
    assert hosts == dict((ui, ("%s.lakehouse.test" % ui, "%s-tls" % ui, "nginx"))
                         for ui in ("datahub", "ray", "mlflow", "kubeflow"))
    releases = {name: obj["spec"]["chart"]["spec"]["version"] for (kind, _ns, name), obj
                in phase3["runs"]["rendered"].items() if kind == "HelmRelease"}
    assert releases == {"elasticsearch": "22.1.7", "kafka": "32.4.4", "neo4j": "5.17.0", "prerequisites": "0.3.0",
                        "datahub": "1.1.0", "doris-operator": "26.0.0", "kuberay-operator": "1.7.0",
                        "mlflow": "1.11.5"}
    for component in COMPONENTS:
        directory = build / component
        files = sorted(p.name for p in directory.glob("*.yaml") if p.name not in ("kustomization.yaml",
                                                                                  "secret-references.yaml"))
        assert yaml.safe_load((directory / "kustomization.yaml").read_text())["resources"] == files
    references = {c: [r["name"] for r in yaml.safe_load((build / c / "secret-references.yaml").read_text())[
        "secretReferences"]] for c in ("kafka", "neo4j", "datahub", "doris", "mlflow")}
    assert references == {"kafka": ["kafka-kraft"], "neo4j": ["neo4j-auth"],
                          "datahub": ["datahub-mysql", "neo4j-auth"], "doris": ["doris-auth"],
                          "mlflow": ["mlflow-db-credentials", "mlflow-s3-credentials"]}
    # Secrets by reference only: no rendered Secret, chart values name Secrets.
    assert not any(kind == "Secret" for (kind, _ns, _name) in phase3["runs"]["rendered"])
    mlflow = phase3["runs"]["rendered"][("HelmRelease", phase3["ns"]["ml"], "mlflow")]["spec"]["values"]
    assert mlflow["backendStore"]["existingDatabaseSecret"]["name"] == "mlflow-db-credentials"
    assert mlflow["artifactRoot"]["s3"]["existingSecret"]["name"] == "mlflow-s3-credentials"
    datahub = phase3["runs"]["rendered"][("HelmRelease", phase3["ns"]["dp"], "datahub")]["spec"]
    assert datahub["dependsOn"] == [{"name": "prerequisites", "namespace": phase3["ns"]["dp"]}]
    assert "dependsOn" not in phase3["runs"]["rendered"][("HelmRelease", phase3["ns"]["dp"], "prerequisites")]["spec"]
    neo4j = phase3["runs"]["rendered"][("HelmRelease", phase3["ns"]["dp"], "neo4j")]["spec"]["values"]
    assert neo4j["neo4j"]["passwordFromSecret"] == "neo4j-auth"
    assert neo4j["volumes"]["data"]["mode"] == "defaultStorageClass"
    kafka = phase3["runs"]["rendered"][("HelmRelease", phase3["ns"]["dp"], "kafka")]["spec"]["values"]
    assert kafka["listeners"]["client"]["protocol"] == "PLAINTEXT" and kafka["controller"]["replicaCount"] == 3

    report = json.loads((build / "report.json").read_text())
    assert report["outcome"] == "succeeded" and report["health"]["before"]["summary"] == "83.1% (108/130 pods)"
    assert report["checks"][0]["name"] == "Platform health (phase 3 target)" and report["checks"][0]["target"] == ">= 90%"
    objectives = json.loads((build / "objectives.json").read_text())
    assert [(o["id"], o["state"]) for o in objectives["objectives"]] == [
        ("3.1", "rendered"), ("3.2", "rendered"), ("3.3", "rendered")]
    assert objectives["current_status"]["state"] == "rendered"


def _tree(build):
    return {str(p.relative_to(build)): p.read_text() for p in sorted(build.rglob("*.yaml"))}


def test_tag_doris_renders_only_doris(phase3):
    collection, build = phase3["collection"], phase3["collection"] / "build" / "phase3"
    before = _tree(build)
    three_fes = {"doris_fe": {"image": "apache/doris:fe-3.0.8", "replicas": 3, "requests": {"cpu": "1", "memory": "2Gi"},
                              "limits": {"cpu": "2", "memory": "4Gi"}, "storage_size": "30Gi"}}
    run = run_playbook(collection, "-i", phase3["render"], "playbooks/phase3.yml", "--tags", "doris",
                       "-e", json.dumps(three_fes))
    report = json.loads((build / "report.json").read_text())
    assert [c["component"] for c in report["components"]] == ["doris"]
    assert [(c["component"], c["kind"], c["action"]) for c in report["changes"]] == [("doris", "DorisCluster", "rendered")]
    assert recap(run.stdout)["changed"] == 1, run.stdout[-4000:]
    assert "TASK [lakehouse.platform.preflight" in run.stdout
    # Ansible tags a role's argument validation "always"; nothing else of another component runs.
    for other in set(COMPONENTS) - {"doris"}:
        ran = [line for line in run.stdout.splitlines() if line.startswith("TASK [lakehouse.platform.%s :" % other)]
        assert all(": Validating arguments against arg spec" in line for line in ran), ran
    after = _tree(build)
    assert [path for path in before if before[path] != after.get(path)] == ["doris/doriscluster-doris-cluster.yaml"]
    assert yaml.safe_load(after["doris/doriscluster-doris-cluster.yaml"])["spec"]["feSpec"]["replicas"] == 3
    # The budget preflight checked is the whole phase's, with doris's new figures.
    assert report["budget_per_component"]["doris"]["cpu"] == "7500m"

    run_playbook(collection, "-i", phase3["render"], "playbooks/phase3.yml", "--tags", "doris")
    assert _tree(build) == before


def test_apply_converges_stores_what_render_writes_and_reruns_change_nothing(phase3, kube_api, simulators):
    collection, ns = phase3["collection"], phase3["ns"]
    # -vvv: the leak scan below searches everything the run printed (module arguments and results included)
    first = run_playbook(collection, "-i", phase3["apply"], "playbooks/phase3.yml", "-vvv", env=kube_api.env,
                         timeout=3000)
    assert recap(first.stdout)["changed"] > 0

    rendered = phase3["runs"]["rendered"]
    stored = _stored_phase3_objects(kube_api, rendered, set(ns.values()))
    assert sorted(stored) == sorted(rendered)
    for key, obj in rendered.items():
        assert is_subset(obj, stored[key]) == [], key

    doris = _get(kube_api, "/apis/doris.selectdb.com/v1/namespaces/%s/dorisclusters/doris-cluster" % ns["doris"])
    assert doris["status"]["feStatus"]["componentCondition"]["phase"] == "available"
    assert len(doris["status"]["beStatus"]["runningInstances"]) == 2
    ray = _get(kube_api, "/apis/ray.io/v1/namespaces/%s/rayclusters/ml-cluster" % ns["ml"])
    assert ray["status"]["readyWorkerReplicas"] == 2
    cnpg = _get(kube_api, "/apis/postgresql.cnpg.io/v1/namespaces/%s/clusters/mlflow-postgres" % ns["ml"])
    assert cnpg["status"]["phase"] == "Cluster in healthy state"
    for deployment in KFP_DEPLOYMENTS + KATIB_DEPLOYMENTS:
        assert _get(kube_api, "/apis/apps/v1/namespaces/%s/deployments/%s" % (ns["kubeflow"], deployment))

    # Secrets generated once, of the right shape, and never printed.
    secrets = {name: _get(kube_api, "/api/v1/namespaces/%s/secrets/%s" % (namespace, name)) for namespace, name in (
        (ns["dp"], "kafka-kraft"), (ns["dp"], "neo4j-auth"), (ns["dp"], "datahub-mysql"),
        (ns["doris"], "doris-auth"), (ns["ml"], "mlflow-db-credentials"))}
    assert sorted(secrets["kafka-kraft"]["data"]) == ["cluster-id", "controller-0-id", "controller-1-id",
                                                      "controller-2-id"]
    for value in secrets["kafka-kraft"]["data"].values():
        assert len(base64.urlsafe_b64decode(_b64(value) + "==")) == 16  # a Kafka Uuid
    neo4j_password = _b64(secrets["neo4j-auth"]["data"]["neo4j-password"])
    assert _b64(secrets["neo4j-auth"]["data"]["NEO4J_AUTH"]) == "neo4j/" + neo4j_password
    assert secrets["doris-auth"]["type"] == "kubernetes.io/basic-auth"
    assert _b64(secrets["doris-auth"]["data"]["username"]) == "lakehouse_admin"
    assert secrets["mlflow-db-credentials"]["type"] == "kubernetes.io/basic-auth"
    # The leak scan: every secret value of the platform's namespaces (the generated ones among them) appears
    # nowhere: not in the -vvv output, the rendered tree and report, or the state ConfigMaps.
    namespace_secrets = [s for namespace in sorted(set(ns.values()) - {ns["state"]})
                         for s in _get(kube_api, "/api/v1/namespaces/%s/secrets" % namespace)["items"]]
    assert {s["metadata"]["name"] for s in namespace_secrets} >= set(secrets)
    places = {"ansible-playbook -vvv output": first.stdout}
    places.update(texts_of_tree(collection / "build"))
    for configmap in _get(kube_api, "/api/v1/namespaces/%s/configmaps" % ns["state"])["items"]:
        places["ConfigMap %s" % configmap["metadata"]["name"]] = json.dumps(configmap.get("data", {}))
    scanned = assert_no_leak(secret_values_of(namespace_secrets), places)
    assert scanned["values"] >= 8 and scanned["places"] > 20, scanned

    state = ns["state"]
    objectives = json.loads(_get(kube_api, "/api/v1/namespaces/%s/configmaps/lakehouse-platform-objectives"
                                 % state)["data"]["phase3"])
    assert objectives["current_status"]["state"] == "completed"
    recorded = json.loads(_get(kube_api, "/api/v1/namespaces/%s/configmaps/lakehouse-platform-inventory-doris"
                               % state)["data"]["objects"])
    # The test created the namespace: doris records only what it created itself.
    # In the order it created them: the operator release with the namespace (here the test's), then the auth
    # Secret in that namespace, then (stage 2) the DorisCluster.
    assert [(r["kind"], r["name"]) for r in recorded] == [
        ("HelmRepository", "doris-operator"), ("HelmRelease", "doris-operator"), ("Secret", "doris-auth"),
        ("DorisCluster", "doris-cluster")]
    report = json.loads((collection / "build" / "phase3" / "report.json").read_text())
    assert report["mode"] == "apply" and report["outcome"] == "succeeded"
    assert report["lock"]["released"] is True
    assert report["checks"][0]["note"].startswith("measured after the run")
    # The runbook's "Ray workers auto-scaling": the in-tree autoscaler in the head pod, workers within 1..4.
    scaler = report["validations"]["ray"]["autoscaling"]
    assert (scaler["enabled"], scaler["container"], scaler["min"], scaler["max"]) == (True, True, 1, 4), scaler
    assert ray["spec"]["enableInTreeAutoscaling"] is True and ray["spec"]["autoscalerOptions"]["upscalingMode"] == "Default"
    assert report["validations"]["ray"]["url"] == "https://ray.lakehouse.test"
    # The runbook's success criteria, judged from what the run measured.
    criteria = dict((row["criterion"], row) for row in report["success_criteria"])
    assert len(criteria) == 16
    assert criteria["Ray workers auto-scaling"]["state"] == "met", criteria["Ray workers auto-scaling"]
    assert criteria["Ray cluster operational"]["state"] == "met"
    assert criteria["Doris connected to Superset"]["state"] == "not checked"

    kube_api.reset_counts()
    second = run_playbook(collection, "-i", phase3["apply"], "playbooks/phase3.yml", env=kube_api.env, timeout=3000)
    assert recap(second.stdout)["changed"] == 0, second.stdout[-6000:]
    # platform_validation_probes=on_change: nothing changed and every objective was completed, so the probes that
    # write (Katib's experiment) do not run again, and the report says so.
    rerun_counts = kube_api.request_counts()
    assert rerun_counts.count(verb="create", resource="experiments", dry_run=False) == 0, rerun_counts
    rerun_report = json.loads((collection / "build" / "phase3" / "report.json").read_text())
    assert rerun_report["validations"]["kubeflow"]["katib_experiment"].startswith("not re-run: kubeflow is unchanged")
    again = {name: _get(kube_api, "/api/v1/namespaces/%s/secrets/%s" % (s["metadata"]["namespace"], name))
             for name, s in secrets.items()}
    assert {n: s["data"] for n, s in again.items()} == {n: s["data"] for n, s in secrets.items()}
    phase3["runs"]["applied"] = True


def test_check_mode_sends_no_write(phase3, kube_api, simulators):
    if not phase3["runs"].get("applied"):
        pytest.fail("needs the converged phase of the apply test")
    # The simulators and the stand-in write statuses on their own: stop them, so every write counted is ours.
    simulators.stop()
    phase3["stand_in"].paused.set()
    try:
        time.sleep(1)
        kube_api.reset_counts()
        run = run_playbook(phase3["collection"], "-i", phase3["apply"], "playbooks/phase3.yml", "--check",
                           env=kube_api.env, timeout=3000)
        counts = kube_api.request_counts()
    finally:
        phase3["stand_in"].paused.clear()
    assert counts.writes() == 0, counts
    assert counts.count(verb="get") + counts.count(verb="list") > 0
    assert recap(run.stdout)["failed"] == 0


def test_rollback_doris_removes_only_what_doris_created(phase3, kube_api, simulators):
    if not phase3["runs"].get("applied"):
        pytest.fail("needs the converged phase of the apply test")
    ns = phase3["ns"]
    doris_path = "/apis/doris.selectdb.com/v1/namespaces/%s/dorisclusters/doris-cluster" % ns["doris"]
    volumes_before = [p["metadata"]["name"] for p in _get(
        kube_api, "/api/v1/namespaces/%s/persistentvolumeclaims" % ns["doris"])["items"]]
    assert volumes_before  # the FE/BE StatefulSets claimed volumes

    run_playbook(phase3["collection"], "-i", phase3["apply"], "playbooks/phase3.yml", "--tags", "rollback_doris",
                 env=kube_api.env, timeout=900)
    assert _get(kube_api, doris_path) is None
    assert _get(kube_api, "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/doris-operator" % ns["doris"]) is None
    # Data stays by default: volumes, the auth Secret; the namespace was not created by doris anyway.
    assert _get(kube_api, "/api/v1/namespaces/%s/secrets/doris-auth" % ns["doris"]) is not None
    volumes_after = [p["metadata"]["name"] for p in _get(
        kube_api, "/api/v1/namespaces/%s/persistentvolumeclaims" % ns["doris"])["items"]]
    assert sorted(volumes_after) == sorted(volumes_before)
    # Nothing of the other components went.
    for path in ("/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/elasticsearch" % ns["dp"],
                 "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/datahub" % ns["dp"],
                 "/apis/ray.io/v1/namespaces/%s/rayclusters/ml-cluster" % ns["ml"],
                 "/apis/postgresql.cnpg.io/v1/namespaces/%s/clusters/mlflow-postgres" % ns["ml"],
                 "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/%s/kustomizations/katib" % ns["flux"]):
        assert _get(kube_api, path) is not None, path
    objectives = json.loads(_get(kube_api, "/api/v1/namespaces/%s/configmaps/lakehouse-platform-objectives"
                                 % ns["state"])["data"]["phase3"])
    assert {o["id"]: o["state"] for o in objectives["objectives"]} == {
        "3.1": "completed", "3.2": "pending", "3.3": "completed"}
    recorded = json.loads(_get(kube_api, "/api/v1/namespaces/%s/configmaps/lakehouse-platform-inventory-doris"
                               % ns["state"])["data"]["objects"])
    assert [(r["kind"], r["name"]) for r in recorded] == [("Secret", "doris-auth")]

    # Asked to drop the data too: the volumes of the cluster doris created and its Secret go; the namespace,
    # which the test created, stays.
    run_playbook(phase3["collection"], "-i", phase3["apply"], "playbooks/phase3.yml", "--tags", "doris",
                 env=kube_api.env, timeout=900)
    run_playbook(phase3["collection"], "-i", phase3["apply"], "playbooks/phase3.yml", "--tags", "rollback_doris",
                 "-e", "doris_keep_data=false", env=kube_api.env, timeout=900)
    assert _get(kube_api, doris_path) is None
    assert _get(kube_api, "/api/v1/namespaces/%s/secrets/doris-auth" % ns["doris"]) is None
    left = [p["metadata"]["name"] for p in _get(
        kube_api, "/api/v1/namespaces/%s/persistentvolumeclaims" % ns["doris"])["items"]
        if not (p["metadata"].get("deletionTimestamp"))]
    assert left == []
    assert _get(kube_api, "/api/v1/namespaces/%s" % ns["doris"]) is not None
