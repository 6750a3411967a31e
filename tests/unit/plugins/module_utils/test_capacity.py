"""Scheduler-style capacity accounting, pod health, PVC use and first-fit-decreasing fit."""
import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils.capacity import (
    BudgetError,
    CapacityError,
    PodRequest,
    capacity_report,
    cluster_capacity,
    fit_pods,
    node_unschedulable_reasons,
    parse_budget,
    pod_health,
    pod_requests,
    resource_view,
    storage_usage,
)

GI = 2 ** 30
MI = 2 ** 20


def container(name="c", cpu=None, memory=None, limits=None, restart_policy=None, ephemeral=None):
    requests = {}
    if cpu is not None:
        requests["cpu"] = cpu
    if memory is not None:
        requests["memory"] = memory
    if ephemeral is not None:
        requests["ephemeral-storage"] = ephemeral
    result = {"name": name, "image": "busybox", "resources": {"requests": requests}}
    if limits:
        result["resources"]["limits"] = limits
    if restart_policy:
        result["restartPolicy"] = restart_policy
    return result


def pod(name, namespace="default", node=None, phase="Running", containers=None, init=None, overhead=None,
        ready=True, pod_resources=None):
    spec = {"containers": containers if containers is not None else [container(cpu="100m", memory="128Mi")]}
    if node:
        spec["nodeName"] = node
    if init:
        spec["initContainers"] = init
    if overhead:
        spec["overhead"] = overhead
    if pod_resources:
        spec["resources"] = {"requests": pod_resources}
    status = {"phase": phase}
    if phase == "Running":
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec, "status": status}


def node(name, cpu="4", memory="16Gi", pods="110", ephemeral="100Gi", ready=True, unschedulable=False, taints=None):
    result = {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": ephemeral},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }
    if unschedulable:
        result["spec"]["unschedulable"] = True
    if taints:
        result["spec"]["taints"] = taints
    return result


# ---- effective pod requests -------------------------------------------------------------------------


def test_app_containers_are_summed():
    p = pod("p", containers=[container(cpu="250m", memory="1Gi"), container(cpu="1.5", memory="512Mi")])
    assert pod_requests(p) == {"cpu": 1750, "memory": GI + 512 * MI}


def test_init_containers_take_the_max_not_the_sum():
    p = pod("p", containers=[container(cpu="500m", memory="1Gi")],
            init=[container(cpu="2", memory="512Mi"), container(cpu="1", memory="3Gi")])
    assert pod_requests(p) == {"cpu": 2000, "memory": 3 * GI}


def test_app_sum_wins_when_larger_than_every_init_container():
    p = pod("p", containers=[container(cpu="3", memory="4Gi")], init=[container(cpu="1", memory="1Gi")])
    assert pod_requests(p) == {"cpu": 3000, "memory": 4 * GI}


def test_sidecar_init_containers_add_to_the_app_sum():
    # restartPolicy: Always keeps the init container running next to the app containers.
    p = pod("p", containers=[container(cpu="500m", memory="256Mi")],
            init=[container(cpu="100m", memory="64Mi", restart_policy="Always")])
    assert pod_requests(p) == {"cpu": 600, "memory": 320 * MI}


def test_a_regular_init_container_after_a_sidecar_runs_alongside_it():
    # KEP-753: InitContainerUse(i) = sidecars declared before i + init container i.
    p = pod("p", containers=[container(cpu="100m", memory="64Mi")],
            init=[container(cpu="500m", memory="1Gi", restart_policy="Always"), container(cpu="2", memory="1Gi")])
    assert pod_requests(p) == {"cpu": 2500, "memory": 2 * GI}


def test_a_regular_init_container_before_a_sidecar_does_not_include_it():
    p = pod("p", containers=[container(cpu="100m", memory="64Mi")],
            init=[container(cpu="2", memory="1Gi"), container(cpu="500m", memory="1Gi", restart_policy="Always")])
    # init phase max: max(2000, 500) cpu; app + sidecar: 600 -> 2000
    assert pod_requests(p) == {"cpu": 2000, "memory": GI + 64 * MI}


def test_overhead_is_added_on_top():
    p = pod("p", containers=[container(cpu="1", memory="1Gi")], init=[container(cpu="2")],
            overhead={"cpu": "250m", "memory": "120Mi"})
    assert pod_requests(p) == {"cpu": 2250, "memory": GI + 120 * MI}


def test_missing_requests_default_to_limits_and_otherwise_to_zero():
    p = pod("p", containers=[container(limits={"cpu": "1", "memory": "2Gi"}), container()])
    assert pod_requests(p) == {"cpu": 1000, "memory": 2 * GI}
    assert pod_requests(pod("q", containers=[{"name": "c", "image": "x"}])) == {}


def test_pod_level_requests_replace_the_container_aggregate():
    p = pod("p", containers=[container(cpu="100m", memory="64Mi")], pod_resources={"cpu": "2"},
            overhead={"cpu": "100m"})
    assert pod_requests(p) == {"cpu": 2100, "memory": 64 * MI}


def test_ephemeral_storage_is_counted():
    p = pod("p", containers=[container(cpu="1", ephemeral="2Gi")])
    assert pod_requests(p)["ephemeral-storage"] == 2 * GI


# ---- nodes ------------------------------------------------------------------------------------------


def test_node_free_is_allocatable_minus_requests_of_non_terminal_pods():
    nodes = [node("n1", cpu="4", memory="16Gi", pods="10")]
    pods = [
        pod("a", node="n1", containers=[container(cpu="1", memory="4Gi")]),
        pod("b", node="n1", containers=[container(cpu="500m", memory="1Gi")], phase="Pending"),
        pod("done", node="n1", containers=[container(cpu="2", memory="8Gi")], phase="Succeeded"),
        pod("crashed", node="n1", containers=[container(cpu="2", memory="8Gi")], phase="Failed"),
    ]
    cluster = cluster_capacity(nodes, pods)
    (n1,) = cluster.nodes
    assert n1.requested == {"cpu": 1500, "memory": 5 * GI, "ephemeral-storage": 0, "pods": 2}
    assert n1.free == {"cpu": 2500, "memory": 11 * GI, "ephemeral-storage": 100 * GI, "pods": 8}
    assert n1.pod_count == 2


def test_pods_without_a_node_are_pending_not_on_a_node():
    cluster = cluster_capacity([node("n1")], [pod("p", containers=[container(cpu="3", memory="1Gi")])])
    assert cluster.nodes[0].requested["cpu"] == 0
    assert cluster.pending_count == 1
    totals = cluster.totals()
    assert totals["pending"]["cpu"] == "3"
    assert totals["pending"]["pods"] == 1


def test_pods_on_nodes_outside_the_list_are_counted_apart():
    cluster = cluster_capacity([node("n1")], [pod("p", node="gone")])
    assert cluster.off_list_pods == 1
    assert cluster.nodes[0].pod_count == 0


@pytest.mark.parametrize(
    "kwargs, reasons",
    [
        ({}, []),
        ({"unschedulable": True, "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]},
         ["cordoned (spec.unschedulable)"]),
        ({"ready": False}, ["NotReady"]),
        ({"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
         ["taint node-role.kubernetes.io/control-plane:NoSchedule"]),
        ({"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]}, ["taint dedicated=gpu:NoExecute"]),
        ({"taints": [{"key": "soft", "effect": "PreferNoSchedule"}]}, []),
    ],
)
def test_unschedulable_reasons(kwargs, reasons):
    assert node_unschedulable_reasons(node("n", **kwargs)) == reasons


def test_node_without_ready_condition_is_not_schedulable():
    bare = node("n")
    del bare["status"]["conditions"]
    assert node_unschedulable_reasons(bare) == ["NotReady (no Ready condition)"]


def test_unschedulable_nodes_are_reported_but_not_used_for_fit():
    nodes = [node("big-cordoned", cpu="64", unschedulable=True), node("small", cpu="2")]
    cluster = cluster_capacity(nodes, [])
    assert [n.name for n in cluster.nodes] == ["big-cordoned", "small"]
    totals = cluster.totals()
    assert totals["allocatable"]["cpu"] == "66"
    assert totals["schedulable_free"]["cpu"] == "2"
    result = fit_pods([PodRequest("big", cpu=4000, memory=GI)], cluster)
    assert result["fits"] is False
    assert result["unplaced"][0]["node"] == "small"
    assert result["unplaced"][0]["short"] == {"cpu": "2"}


def test_node_as_dict_carries_strings_and_integers():
    cluster = cluster_capacity([node("n1", cpu="4", memory="16Gi")],
                               [pod("a", node="n1", containers=[container(cpu="400m", memory="1Gi")])])
    view = cluster.nodes[0].as_dict()
    assert view["free"]["cpu"] == "3600m"
    assert view["free"]["cpu_millicores"] == 3600
    assert view["free"]["memory"] == "15Gi"
    assert view["free"]["memory_bytes"] == 15 * GI
    assert view["requested"]["pods"] == 1
    assert view["schedulable"] is True


def test_overcommitted_node_free_goes_negative_but_does_not_lend_to_totals():
    cluster = cluster_capacity([node("n1", cpu="1"), node("n2", cpu="2")],
                               [pod("a", node="n1", containers=[container(cpu="1500m")])])
    assert cluster.nodes[0].free["cpu"] == -500
    totals = cluster.totals()
    assert totals["free"]["cpu_millicores"] == 1500
    assert totals["schedulable_free"]["cpu_millicores"] == 2000


# ---- health -----------------------------------------------------------------------------------------


def test_health_per_namespace_and_overall():
    pods = (
        [pod("r%d" % i, namespace="data") for i in range(3)]
        + [pod("unready", namespace="data", ready=False)]
        + [pod("job", namespace="ml", phase="Succeeded"), pod("boom", namespace="ml", phase="Failed"),
           pod("wait", namespace="ml", phase="Pending")]
    )
    health = pod_health(pods)
    data = health["namespaces"]["data"]
    assert (data["total"], data["running"], data["ready"], data["healthy"], data["percent"]) == (4, 4, 3, 3, 75.0)
    ml = health["namespaces"]["ml"]
    assert (ml["succeeded"], ml["failed"], ml["pending"], ml["healthy"], ml["total"]) == (1, 1, 1, 1, 3)
    overall = health["overall"]
    assert (overall["healthy"], overall["total"], overall["percent"]) == (4, 7, 57.1)
    assert overall["summary"] == "57.1% (4/7 pods)"


def test_health_reproduces_the_seed_figure():
    pods = [pod("ok%d" % i) for i in range(108)] + [pod("bad%d" % i, phase="Pending") for i in range(22)]
    assert pod_health(pods)["overall"]["summary"] == "83.1% (108/130 pods)"


def test_health_limited_to_requested_namespaces_lists_empty_ones():
    health = pod_health([pod("a", namespace="x"), pod("b", namespace="y")], namespaces=["x", "empty"])
    assert set(health["namespaces"]) == {"x", "empty"}
    assert health["namespaces"]["empty"]["percent"] is None
    assert health["overall"]["total"] == 1


def test_ready_falls_back_to_container_statuses():
    p = pod("p")
    p["status"] = {"phase": "Running", "containerStatuses": [{"name": "c", "ready": True}, {"name": "d", "ready": False}]}
    assert pod_health([p])["overall"]["ready"] == 0
    p["status"]["containerStatuses"][1]["ready"] = True
    assert pod_health([p])["overall"]["ready"] == 1


# ---- storage ----------------------------------------------------------------------------------------


def pvc(name, size, storage_class="ceph-block", phase="Bound", capacity=None, namespace="data"):
    result = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"resources": {"requests": {"storage": size}}},
        "status": {"phase": phase},
    }
    if storage_class:
        result["spec"]["storageClassName"] = storage_class
    if phase == "Bound":
        result["status"]["capacity"] = {"storage": capacity or size}
    return result


def test_storage_per_class_and_total():
    claims = [
        pvc("a", "100Gi"),
        pvc("b", "46Gi", capacity="50Gi"),
        pvc("c", "200Gi", phase="Pending"),
        pvc("d", "1G", storage_class="ceph-fs"),
        pvc("e", "5Gi", storage_class=None, phase="Pending"),
    ]
    usage = storage_usage(claims)
    block = usage["storage_classes"]["ceph-block"]
    assert (block["claims"], block["bound"], block["pending"]) == (3, 2, 1)
    assert block["requested"] == "346Gi"
    assert block["capacity"] == "150Gi"
    assert usage["storage_classes"]["ceph-fs"]["capacity_bytes"] == 10 ** 9
    assert usage["storage_classes"]["(unset)"]["pending"] == 1
    total = usage["total"]
    assert total["capacity_bytes"] == 150 * GI + 10 ** 9
    assert total["requested_bytes"] == 351 * GI + 10 ** 9
    assert total["claims"] == 5


def test_storage_limited_to_namespaces():
    usage = storage_usage([pvc("a", "1Gi", namespace="x"), pvc("b", "2Gi", namespace="y")], namespaces=["y"])
    assert usage["total"]["capacity"] == "2Gi"


# ---- budget -----------------------------------------------------------------------------------------


def test_parse_budget():
    (doris, ray) = parse_budget([
        {"name": "doris-be", "cpu": "4", "memory": "16Gi", "count": 2, "storage": "200Gi"},
        {"name": "ray-head", "cpu": 0.5, "memory": "1G"},
    ])
    assert (doris.cpu, doris.memory, doris.count, doris.storage) == (4000, 16 * GI, 2, 200 * GI)
    assert (ray.cpu, ray.memory, ray.count, ray.storage) == (500, 10 ** 9, 1, 0)
    assert doris.instance_names() == ["doris-be-0", "doris-be-1"]
    assert ray.instance_names() == ["ray-head"]


@pytest.mark.parametrize(
    "entries, message",
    [
        ([{"name": "a", "cpu": "1"}, {"name": "b"}, {"name": "c", "cpu": "4Gx"}],
         "budget[2].cpu: invalid quantity '4Gx': unknown suffix 'Gx'"),
        ([{"name": "a", "memory": "-1"}], "budget[0].memory: invalid quantity '-1': negative quantities are not allowed"),
        ([{"name": "a", "storage": "lots"}], "budget[0].storage: invalid quantity 'lots'"),
        ([{"cpu": "1"}], "budget[0].name: a non-empty string is required, got None"),
        ([{"name": "a"}, {"name": "a"}], "budget[1].name: duplicate name 'a'"),
        ([{"name": "a", "count": 2}, {"name": "a-1"}],
         "budget[1].name: replica name 'a-1' is also a replica of budget[0] ('a')"),
        ([{"name": "a", "count": -1}], "budget[0].count: must not be negative, got -1"),
        ([{"name": "a", "count": "two"}], "budget[0].count: expected a whole number, got 'two'"),
        ([{"name": "a", "gpu": 1}], "budget[0]: unknown keys gpu"),
        (["a"], "budget[0]: expected a dict"),
        ("a", "budget: expected a list"),
    ],
)
def test_parse_budget_names_the_option_path(entries, message):
    with pytest.raises(BudgetError) as excinfo:
        parse_budget(entries)
    assert str(excinfo.value).startswith(message)


# ---- fit --------------------------------------------------------------------------------------------


def test_first_fit_decreasing_places_largest_first_in_node_order():
    cluster = cluster_capacity([node("a", cpu="4", memory="8Gi"), node("b", cpu="4", memory="8Gi")], [])
    requests = parse_budget([
        {"name": "small", "cpu": "1", "memory": "1Gi", "count": 2},
        {"name": "big", "cpu": "3", "memory": "6Gi", "count": 2},
    ])
    result = fit_pods(requests, cluster)
    assert result["fits"] is True
    # Without sorting, the two small pods would fill node a and leave a big pod without room.
    assert result["placements"] == {"big-0": "a", "big-1": "b", "small-0": "a", "small-1": "b"}
    assert result["unplaced"] == []
    assert result["requested"]["cpu"] == "8"
    assert result["cluster_free"]["cpu"] == "8"
    assert result["fits_in_total"] is True


def test_dominant_share_orders_by_the_scarcest_resource():
    # Cluster free: 8 cpu, 64Gi. "mem" needs 1/2 of memory (dominant), "cpu" needs 3/8 of cpu.
    cluster = cluster_capacity([node("a", cpu="4", memory="32Gi"), node("b", cpu="4", memory="32Gi")], [])
    requests = [PodRequest("cpu", cpu=3000, memory=GI), PodRequest("mem", cpu=100, memory=32 * GI)]
    result = fit_pods(requests, cluster)
    assert result["placements"] == {"mem": "a", "cpu": "b"}


def test_fit_respects_existing_requests_and_pod_slots():
    nodes = [node("a", cpu="4", memory="8Gi", pods="2"), node("b", cpu="4", memory="8Gi")]
    pods = [pod("x", node="a", containers=[container(cpu="100m")]),
            pod("y", node="b", containers=[container(cpu="3500m", memory="1Gi")])]
    result = fit_pods([PodRequest("p", cpu=1000, memory=GI, count=2)], cluster_capacity(nodes, pods))
    assert result["placements"] == {"p-0": "a"}
    (miss,) = result["unplaced"]
    assert miss["pod"] == "p-1"
    # Node a has cpu and memory but no pod slot; node b is short of 500m cpu: both are one resource
    # short, b is relatively closer (0.5 of the cpu request vs a whole slot).
    assert miss["node"] == "b"
    assert miss["short"] == {"cpu": "500m"}
    assert "closest node b is short of cpu 500m" in miss["reason"]
    assert result["fits"] is False


def test_fragmentation_is_distinguished_from_a_total_shortage():
    cluster = cluster_capacity([node("a", cpu="2", memory="8Gi"), node("b", cpu="2", memory="8Gi")], [])
    result = fit_pods([PodRequest("wide", cpu=3000, memory=GI)], cluster)
    assert result["fits"] is False
    assert result["fits_in_total"] is True  # 4 cpu free in total, but no single node has 3
    result = fit_pods([PodRequest("huge", cpu=5000, memory=GI)], cluster)
    assert result["fits_in_total"] is False
    assert result["total_shortfall"] == {"cpu": "1", "cpu_millicores": 1000}


def test_every_replica_that_misses_is_reported():
    cluster = cluster_capacity([node("a", cpu="2", memory="8Gi"), node("b", cpu="1", memory="8Gi")], [])
    result = fit_pods([PodRequest("w", cpu=1500, memory=GI, count=3)], cluster)
    assert result["placements"] == {"w-0": "a"}
    assert [(m["pod"], m["node"], m["short"]) for m in result["unplaced"]] == [
        ("w-1", "b", {"cpu": "500m"}), ("w-2", "b", {"cpu": "500m"})]  # a has 500m left, b 1 cpu


def test_fit_without_schedulable_nodes():
    cluster = cluster_capacity([node("a", ready=False)], [])
    result = fit_pods([PodRequest("p", cpu=1)], cluster)
    assert result["unplaced"][0]["reason"] == "no schedulable node"
    assert result["schedulable_nodes"] == 0


def test_zero_count_and_zero_requests():
    cluster = cluster_capacity([node("a", cpu="1", pods="1")], [pod("hog", node="a", containers=[container(cpu="2")])])
    # Node a is overcommitted on cpu; a pod requesting no cpu still fits, as in the scheduler.
    result = fit_pods([PodRequest("none", count=0), PodRequest("free", memory=MI)], cluster)
    assert result["fits"] is False  # the only pod slot is taken by "hog"
    assert result["unplaced"][0]["short"] == {"pods": "1"}
    cluster = cluster_capacity([node("a", cpu="1", pods="2")], [pod("hog", node="a", containers=[container(cpu="2")])])
    result = fit_pods([PodRequest("none", count=0), PodRequest("free", memory=MI)], cluster)
    assert result["placements"] == {"free": "a"}


def test_storage_of_the_budget_is_totalled():
    cluster = cluster_capacity([node("a")], [])
    result = fit_pods(parse_budget([{"name": "be", "cpu": "1", "count": 2, "storage": "200Gi"}]), cluster)
    assert result["requested_storage"] == "400Gi"
    assert result["requested"]["pods"] == 2


def test_resource_view_shape():
    assert resource_view({"cpu": 1500, "memory": 3 * GI, "pods": 4}) == {
        "cpu": "1500m", "cpu_millicores": 1500,
        "memory": "3Gi", "memory_bytes": 3 * GI,
        "ephemeral_storage": "0", "ephemeral_storage_bytes": 0,
        "pods": 4,
    }


@pytest.mark.parametrize(
    "nodes, pods, claims, message",
    [
        ([node("n1", cpu="4Gx")], [], [], "Node n1: invalid quantity '4Gx': unknown suffix 'Gx'"),
        ([], [pod("p", namespace="x", containers=[container(cpu="-1")])], [],
         "Pod x/p: invalid quantity '-1': negative quantities are not allowed"),
        ([], [], [pvc("c", "lots")], "PersistentVolumeClaim data/c: invalid quantity 'lots'"),
    ],
)
def test_unreadable_quantities_in_listed_objects_name_the_object(nodes, pods, claims, message):
    with pytest.raises(CapacityError) as excinfo:
        capacity_report(nodes, pods, claims)
    assert str(excinfo.value).startswith(message)
