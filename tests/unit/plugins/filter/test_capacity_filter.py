"""declared_capacity / phase_budget: render-mode capacity with the module's own fit code, exact budget sums."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.capacity import (declared_capacity, phase_budget,
                                                                            quantity_bytes)

DECLARED = {"nodes": [{"name": "a", "cpu": "4", "memory": "16Gi", "requested": {"cpu": "1", "memory": "4Gi", "pods": 10}},
                      {"name": "b", "cpu": "4", "memory": "16Gi"}],
            "storage_used": "146Gi", "pods": {"running": 108, "total": 130}}


def test_declared_figures_give_free_capacity_storage_and_health():
    report = declared_capacity(DECLARED)
    nodes = {n["name"]: n for n in report["nodes"]}
    assert nodes["a"]["free"]["cpu"] == "3" and nodes["a"]["free"]["memory"] == "12Gi" and nodes["a"]["free"]["pods"] == 100
    assert nodes["b"]["free"]["cpu"] == "4" and nodes["b"]["pods"] == 0
    assert report["storage"]["total"]["capacity"] == "146Gi"
    assert report["health"]["overall"]["summary"] == "83.1% (108/130 pods)"
    assert "fit" not in report


def test_fit_places_pods_first_fit_decreasing_and_names_the_shortfall():
    budget = phase_budget({"x": {"pods": [{"name": "big", "cpu": "3500m", "memory": "1Gi", "count": 2}]}})
    fit = declared_capacity(DECLARED, budget["pods"])["fit"]
    assert fit["fits"] is False and fit["placements"] == {"x/big-0": "b"}
    assert fit["unplaced"][0]["pod"] == "x/big-1" and fit["unplaced"][0]["short"] == {"cpu": "500m"}


def test_phase_budget_sums_exactly_and_prefers_stated_totals():
    budget = phase_budget({
        "a": {"cpu": "400m", "memory": "3Gi", "storage": "10Gi", "pods": [{"name": "p", "cpu": "100m", "memory": "1Gi"}]},
        "b": {"storage": "0.5Gi", "pods": [{"name": "q", "cpu": "0.1", "memory": "512Mi", "count": 3}]},
    })
    assert budget["components"]["b"]["cpu"] == "300m" and budget["components"]["b"]["memory"] == "1536Mi"
    assert budget["total"]["cpu"] == "700m" and budget["total"]["memory"] == "4608Mi"
    assert budget["total"]["storage"] == "10752Mi"
    assert [p["name"] for p in budget["pods"]] == ["a/p", "b/q"]


@pytest.mark.parametrize("budgets, message", [
    ({"hive_metastore": {"pods": [{"name": "hms", "cpu": "4Gx"}]}}, r"hive_metastore_budget\.pods\[0\]\.cpu: invalid quantity '4Gx'"),
    ({"pg": {"memory": "-1Gi"}}, r"pg_budget\.memory: invalid quantity '-1Gi'"),
    ({"pg": "lots"}, r"pg_budget: expected a dict"),
])
def test_bad_budgets_name_the_variable(budgets, message):
    with pytest.raises(AnsibleFilterError, match=message):
        phase_budget(budgets)


def test_bad_declarations_name_the_inventory_path():
    with pytest.raises(AnsibleFilterError, match=r"platform_declared_capacity\.nodes\[0\]\.memory: invalid quantity"):
        declared_capacity({"nodes": [{"name": "a", "cpu": "1", "memory": "lots"}]})
    with pytest.raises(AnsibleFilterError, match="non-empty list"):
        declared_capacity({"nodes": []})
    with pytest.raises(AnsibleFilterError, match=r"running \(5\) exceeds total \(4\)"):
        declared_capacity({"nodes": [{"name": "a", "cpu": "1", "memory": "1Gi"}], "pods": {"running": 5, "total": 4}})
    assert quantity_bytes("200Gi") == 214748364800
