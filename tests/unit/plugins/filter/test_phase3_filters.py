"""doris_cluster_manifest (the DorisCluster the doris_cluster module ensures) and workloads_not_ready."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.doris import doris_cluster_manifest
from ansible_collections.lakehouse.platform.plugins.filter.workloads import workloads_not_ready
from ansible_collections.lakehouse.platform.plugins.module_utils import doris
from ansible_collections.lakehouse.platform.plugins.modules import doris_cluster

SEED = {"fe": {"image": "apache/doris:fe-3.0.8", "replicas": 1, "requests": {"cpu": "1", "memory": "2Gi"},
               "limits": {"cpu": "2", "memory": "4Gi"}, "storage_size": "30Gi", "storage_class": "local-storage-standard"},
        "be": {"image": "apache/doris:be-3.0.8", "replicas": 2, "requests": {"cpu": "2", "memory": "4Gi"},
               "limits": {"cpu": "4", "memory": "8Gi"}, "storage_size": "100Gi"}}


def _module_params(components, **extra):
    """The doris_cluster module's parameters after its argument spec filled the defaults."""
    params = {"name": "doris-cluster", "namespace": "doris-analytics", "auth_secret": "doris-auth", "spec": None,
              "wait_timeout": 900, "failure_grace": 60}
    for component in doris.COMPONENTS:
        options = components.get(component)
        if options:
            suboptions = doris_cluster.component_suboptions(component)
            params[component] = dict((key, options.get(key, spec.get("default"))) for key, spec in suboptions.items())
        else:
            params[component] = None
    params.update(extra)
    return params


def test_manifest_equals_what_the_module_ensures():
    rendered = doris_cluster_manifest(SEED, "doris-cluster", "doris-analytics", "doris-auth")
    assert rendered == doris_cluster.desired_definition(_module_params(SEED))
    fe = rendered["spec"]["feSpec"]
    assert fe["persistentVolumes"][0]["persistentVolumeClaimSpec"]["storageClassName"] == "local-storage-standard"
    assert fe["persistentVolumes"][0]["persistentVolumeClaimSpec"]["resources"]["requests"]["storage"] == "30Gi"
    assert rendered["spec"]["beSpec"]["replicas"] == 2 and rendered["spec"]["authSecret"] == "doris-auth"


def test_pass_through_spec_loses_to_the_component_options():
    rendered = doris_cluster_manifest(SEED, "dc", "ns", spec={"feSpec": {"replicas": 5, "service": {"type": "NodePort"}}})
    assert rendered["spec"]["feSpec"]["replicas"] == 1
    assert rendered["spec"]["feSpec"]["service"] == {"type": "NodePort"}
    assert "authSecret" not in rendered["spec"]


@pytest.mark.parametrize("components, message", [
    ({"fe": dict(SEED["fe"], storage_size="4Gi")}, "fe.storage_size 4Gi is below the 5Gi minimum"),
    ({"fe": dict(SEED["fe"], requests={"memory": "8Gi"})}, "fe.requests.memory (8Gi) exceeds fe.limits.memory (4Gi)"),
    ({"fe": dict(SEED["fe"], requests={"cpu": "1x"})}, "fe.requests.cpu"),
    ({"be": SEED["be"]}, "fe is required"),
    ({"fe": SEED["fe"], "observer": {"image": "x"}}, "unknown component(s) observer"),
])
def test_bad_options_fail_naming_the_option(components, message):
    with pytest.raises(AnsibleFilterError) as error:
        doris_cluster_manifest(components, "dc", "ns")
    assert message in str(error.value)


def _deployment(name, replicas=1, ready=1, updated=1, generation=2, observed=2):
    return {"kind": "Deployment", "metadata": {"name": name, "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"readyReplicas": ready, "updatedReplicas": updated, "observedGeneration": observed}}


def test_ready_workloads_give_no_problem():
    assert workloads_not_ready([_deployment("a"), _deployment("b", replicas=3, ready=3, updated=3)]) == []


def test_each_reason_is_named():
    problems = workloads_not_ready([
        _deployment("short", replicas=2, ready=1, updated=2),
        _deployment("stale", observed=1),
        _deployment("rolling", replicas=2, ready=2, updated=1),
        {"kind": "StatefulSet", "metadata": {"name": "fresh"}, "spec": {"replicas": 1}},
    ])
    assert problems == ["Deployment/short: 1/2 ready", "Deployment/stale: spec generation 2 not observed yet (observed 1)",
                        "Deployment/rolling: 1/2 updated", "StatefulSet/fresh: 0/1 ready"]


def test_scaled_to_zero_is_ready_and_bad_input_is_refused():
    assert workloads_not_ready([_deployment("off", replicas=0, ready=0, updated=0)]) == []
    with pytest.raises(AnsibleFilterError):
        workloads_not_ready({"kind": "Deployment"})


def test_prerequisites_missing_names_absent_and_unready_objects():
    from ansible_collections.lakehouse.platform.plugins.filter.workloads import prerequisites_missing
    hms = {"what": "the Hive Metastore", "kind": "Deployment", "namespace": "dp", "name": "hive-metastore", "ready": True}
    secret = {"what": "the Rook S3 user Secret", "kind": "Secret", "namespace": "storage", "name": "rook-user"}
    ready = {"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 1},
             "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1}}
    unready = {"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 1},
               "status": {"observedGeneration": 1, "readyReplicas": 0, "updatedReplicas": 1}}
    assert prerequisites_missing([{"item": hms, "resources": [ready]}, {"item": secret, "resources": [{}]}]) == []
    assert prerequisites_missing([{"item": hms, "resources": [unready]}, {"item": secret, "resources": []}]) == [
        "the Hive Metastore (Deployment dp/hive-metastore): 0/1 ready",
        "the Rook S3 user Secret (Secret storage/rook-user): not found"]


def test_prerequisites_missing_reads_endpoints_readiness():
    from ansible_collections.lakehouse.platform.plugins.filter.workloads import prerequisites_missing
    hms = {"what": "the Hive Metastore", "kind": "Endpoints", "namespace": "dp", "name": "hive-metastore", "ready": True}
    ready = {"kind": "Endpoints", "subsets": [{"addresses": [{"ip": "10.0.0.9"}]}]}
    unready = {"kind": "Endpoints", "subsets": [{"notReadyAddresses": [{"ip": "10.0.0.9"}]}]}
    assert prerequisites_missing([{"item": hms, "resources": [ready]}]) == []
    assert prerequisites_missing([{"item": hms, "resources": [unready]}]) == [
        "the Hive Metastore (Endpoints dp/hive-metastore): no ready address (no pod behind the Service is ready)"]
