"""--check of phase 3 on an EMPTY cluster (none of its namespaces exist yet), whole and tag-limited, in its own
file so that it runs beside test_phase3.py's converge: nothing is stored, objects that cannot be dry-run are
reported, nothing fails (a dry-run create into a missing namespace answers 404 on kube-apiserver as on the test
server)."""
import os
import uuid

import pytest
import yaml

from tests.integration.k8s_compare import create_ready_node, delete_node, require_real_crds
from tests.integration.phase_copy import copy_collection, recap, run_playbook


@pytest.fixture(scope="module")
def empty_cluster(kube_api, tmp_path_factory, _simulator_runner):
    require_real_crds(kube_api)
    # Empty of the platform, not of its driver: Flux runs (the simulators stand in for its controllers), as the
    # flux driver's preflight requires. Nothing the simulators act on is created in check mode.
    _simulator_runner.ensure(kube_api)
    suffix = uuid.uuid4().hex[:6]
    fresh = {key: "%s-empty-%s" % (key, suffix) for key in ("dp", "doris", "raysys", "ml", "kubeflow", "flux", "state")}
    nodes = [create_ready_node(kube_api, "empty-%s-%d" % (suffix, i)) for i in range(2)]
    collection = copy_collection(tmp_path_factory.mktemp("phase3-empty"))
    variables = {
        "platform_mode": "apply", "platform_kubeconfig": kube_api.kubeconfig, "platform_operator": "phase3-empty-test",
        "platform_render_dir": str(collection / "build"),
        "platform_namespace": fresh["dp"], "platform_state_namespace": fresh["state"], "doris_namespace": fresh["doris"],
        "ray_operator_namespace": fresh["raysys"], "ray_namespace": fresh["ml"], "mlflow_namespace": fresh["ml"],
        "kubeflow_namespace": fresh["kubeflow"], "kubeflow_flux_namespace": fresh["flux"],
        "mlflow_bucket_create": False, "phase3_min_health_percent": 0,
        # auto: preflight finds the ServiceMonitor CRD (the server serves the real one), so the ServiceMonitors
        # are in the change set, reported like the other objects of namespaces that do not exist yet.
        "platform_service_monitors": "auto",
    }
    inventory = collection / "inventories" / "empty"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    (inventory / "group_vars" / "all" / "test.yml").write_text(yaml.safe_dump(variables))
    try:
        yield {"collection": collection, "inventory": os.path.join("inventories", "empty"), "fresh": fresh}
    finally:
        for node in nodes:
            delete_node(kube_api, node)


TAGS = ["elasticsearch", "kafka", "neo4j", "datahub", "doris", "ray", "mlflow", "kubeflow"]


@pytest.mark.parametrize("tags", [[]] + [["--tags", c] for c in TAGS], ids=["whole-phase"] + TAGS)
def test_check_mode_on_an_empty_cluster_sends_no_write(empty_cluster, kube_api, tags):
    collection, inventory, fresh = empty_cluster["collection"], empty_cluster["inventory"], empty_cluster["fresh"]
    kube_api.reset_counts()
    run = run_playbook(collection, "-i", inventory, "playbooks/phase3.yml", "--check", *tags, env=kube_api.env,
                       timeout=1200)
    counts = kube_api.request_counts()
    assert recap(run.stdout)["failed"] == 0, run.stdout[-4000:]
    assert sum(counts.count(verb=v, dry_run=False) for v in ("create", "update", "patch", "delete")) == 0, (tags, counts)
    assert "would be created without a server dry run" in run.stdout, tags
    if not tags or tags[1] == "ray":
        assert "ServiceMonitor/ml-cluster-head" in run.stdout, run.stdout[-4000:]
    if not tags or tags[1] == "kubeflow":
        assert "ServiceMonitor/ml-pipeline" in run.stdout and "ServiceMonitor/katib-controller" in run.stdout, tags
    names = {item["metadata"]["name"] for item in kube_api.client().resources.get(
        api_version="v1", kind="Namespace").get().to_dict()["items"]}
    assert not set(fresh.values()) & names
