"""Capacity report on a synthetic 1,000-node / 30,000-pod cluster (measures and reports; asserts only
that the figures are right, never a time).

Run: .venv/bin/pytest tests/benchmarks --benchmark-only
"""
import random

from ansible_collections.lakehouse.platform.plugins.module_utils import capacity
from ansible_collections.lakehouse.platform.plugins.module_utils.capacity import (
    PodRequest,
    capacity_report,
    cluster_capacity,
    fit_pods,
    parse_budget,
)

NODES = 1000
PODS = 30000
PVCS = 3000

# Quantity strings as they appear in real manifests, in several spellings of similar sizes.
CPU_VALUES = ["10m", "50m", "100m", "250m", "500m", "750m", "1", "1500m", "2", "0.25", "4"]
MEMORY_VALUES = ["32Mi", "64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "1500M", "4Gi", "8Gi", "129e6"]
NODE_SHAPES = [("16", "64Gi"), ("32", "128Gi"), ("64", "256Gi"), ("31850m", "126Gi")]
PHASE_3_BUDGET = [
    {"name": "elasticsearch", "cpu": "1", "memory": "4Gi", "count": 4, "storage": "100Gi"},
    {"name": "kafka", "cpu": "1", "memory": "4Gi", "count": 3, "storage": "50Gi"},
    {"name": "neo4j", "cpu": "1", "memory": "4Gi", "count": 1, "storage": "50Gi"},
    {"name": "doris-fe", "cpu": "2", "memory": "8Gi", "count": 3, "storage": "50Gi"},
    {"name": "doris-be", "cpu": "4", "memory": "16Gi", "count": 2, "storage": "200Gi"},
    {"name": "ray-head", "cpu": "2", "memory": "8Gi", "count": 1},
    {"name": "ray-worker", "cpu": "2", "memory": "8Gi", "count": 3},
    {"name": "kubeflow", "cpu": "500m", "memory": "1Gi", "count": 6},
]


def synthetic_cluster(seed=20260101):
    rng = random.Random(seed)
    nodes = []
    for index in range(NODES):
        cpu, memory = rng.choice(NODE_SHAPES)
        node = {
            "metadata": {"name": "node-%04d" % index, "labels": {"topology.kubernetes.io/zone": "zone-%d" % (index % 3)}},
            "spec": {},
            "status": {
                "allocatable": {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "200Gi"},
                "conditions": [{"type": "Ready", "status": "False" if index % 97 == 0 else "True"}],
            },
        }
        if index % 50 == 1:
            node["spec"]["unschedulable"] = True
        if index < 3:
            node["spec"]["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
        nodes.append(node)

    pods = []
    for index in range(PODS):
        containers = [
            {"name": "c%d" % c, "resources": {"requests": {"cpu": rng.choice(CPU_VALUES), "memory": rng.choice(MEMORY_VALUES)}}}
            for c in range(rng.choice((1, 1, 1, 2, 3)))
        ]
        spec = {"containers": containers}
        if index % 5 == 0:
            spec["initContainers"] = [{"name": "init", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]
        if index % 11 == 0:
            spec.setdefault("initContainers", []).append(
                {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}})
        if index % 13 == 0:
            spec["overhead"] = {"cpu": "250m", "memory": "120Mi"}
        roll = rng.random()
        if roll < 0.017:
            phase = "Pending"  # not bound yet
        else:
            spec["nodeName"] = "node-%04d" % rng.randrange(NODES)
            phase = "Succeeded" if roll < 0.03 else ("Failed" if roll < 0.035 else "Running")
        status = {"phase": phase}
        if phase == "Running":
            status["conditions"] = [{"type": "Ready", "status": "False" if rng.random() < 0.08 else "True"}]
        pods.append({"metadata": {"name": "pod-%05d" % index, "namespace": "ns-%02d" % (index % 40)}, "spec": spec,
                     "status": status})

    pvcs = []
    for index in range(PVCS):
        size = rng.choice(["1Gi", "10Gi", "50Gi", "100Gi", "500G"])
        bound = rng.random() < 0.95
        pvcs.append({
            "metadata": {"name": "pvc-%04d" % index, "namespace": "ns-%02d" % (index % 40)},
            "spec": {"storageClassName": rng.choice(["ceph-block", "ceph-fs"]), "resources": {"requests": {"storage": size}}},
            "status": {"phase": "Bound", "capacity": {"storage": size}} if bound else {"phase": "Pending"},
        })
    return nodes, pods, pvcs


def _cold_cache():
    # Each module run starts with an empty quantity cache: measure that, not a warm one.
    capacity._AMOUNT_CACHE.clear()


def test_capacity_report_1000_nodes_30000_pods(benchmark):
    nodes, pods, pvcs = synthetic_cluster()
    budget = parse_budget(PHASE_3_BUDGET)

    def setup():
        _cold_cache()
        return (nodes, pods, pvcs), {"budget": budget}

    report = benchmark.pedantic(capacity_report, setup=setup, rounds=5, iterations=1)

    assert len(report["nodes"]) == NODES
    # Cross-check against an independent count: every non-terminal bound pod lands on its node.
    bound = sum(1 for p in pods if p["spec"].get("nodeName") and p["status"]["phase"] not in ("Succeeded", "Failed"))
    assert sum(n["pods"] for n in report["nodes"]) == bound
    assert report["totals"]["pending"]["pods"] == sum(1 for p in pods if not p["spec"].get("nodeName"))
    assert report["health"]["overall"]["total"] == PODS
    assert report["storage"]["total"]["claims"] == PVCS
    assert report["fit"]["fits"] is True
    assert len(report["fit"]["placements"]) == 23
    benchmark.extra_info["summary"] = report["health"]["overall"]["summary"]
    benchmark.extra_info["schedulable_nodes"] = report["totals"]["schedulable_nodes"]


def test_fit_2000_planned_pods_on_1000_nodes(benchmark):
    nodes, pods, pvcs = synthetic_cluster()
    cluster = cluster_capacity(nodes, pods)
    requests = [PodRequest("shape-%d" % i, cpu=250 * (1 + i % 16), memory=(256 << 20) * (1 + i % 32), count=20)
                for i in range(100)]

    result = benchmark.pedantic(fit_pods, args=(requests, cluster), rounds=5, iterations=1)

    assert len(result["placements"]) + len(result["unplaced"]) == 2000
    schedulable = set(n.name for n in cluster.schedulable_nodes())
    assert set(result["placements"].values()) <= schedulable
