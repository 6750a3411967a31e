"""The phase catalog's rules (plugins/module_utils/phase_catalog.py) and the catalog itself
(playbooks/vars/phases.yml): every component it names is a role with the component contract."""
import copy
import os

import pytest
import yaml

from ansible_collections.lakehouse.platform.plugins.module_utils import phase_catalog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
CATALOG_FILE = os.path.join(ROOT, "playbooks", "vars", "phases.yml")


def load_catalog():
    with open(CATALOG_FILE) as handle:
        return yaml.safe_load(handle)["platform_catalog"]


SMALL = {
    "p1": {
        "title": "Phase one",
        "objectives": [{"id": "1.1", "title": "A", "components": ["a"]},
                       {"id": "1.2", "title": "B and C", "components": ["b", "c"]}],
        "stages": [["a", "b/1"], ["b/2", "c"]],
        "tags": {"b": ["c"]},
        "rollback_tags": {"rollback_b": ["c"]},
    },
    "p2": {"objectives": [{"id": "2.1", "title": "D", "components": ["d"]}], "stages": [["d"]]},
}


def test_normalise_spells_out_stages_steps_and_objectives():
    phases = phase_catalog.normalise(SMALL)
    p1 = phases["p1"]
    assert p1["components"] == ["a", "b", "c"]
    assert p1["stages"] == [
        {"index": 1, "steps": [{"component": "a", "part": "all"}, {"component": "b", "part": "1"}]},
        {"index": 2, "steps": [{"component": "b", "part": "2"}, {"component": "c", "part": "all"}]}]
    assert p1["objective_of"] == {"a": "1.1", "b": "1.2", "c": "1.2"}
    assert [o["tag"] for o in p1["objectives"]] == ["objective_1_1", "objective_1_2"]
    assert phases["p2"]["title"] == "p2"


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["p1"]["stages"].append(["zz", "zz"]), "stage 3 lists zz twice"),
    (lambda c: c["p1"]["objectives"][0]["components"].append("b"), "component b belongs to two objectives"),
    (lambda c: c["p1"]["stages"].__setitem__(1, ["b/2"]), "objective component c is in no stage"),
    (lambda c: c["p1"]["stages"].__setitem__(0, ["a", "a"]), "stage 1 lists a twice"),
    (lambda c: c["p1"]["stages"].__setitem__(0, ["Bad-Name"]), r"is not a component \(role\) name"),
    (lambda c: c["p1"]["tags"].__setitem__("x", ["nope"]), "tags.x names unknown components nope"),
    (lambda c: c["p2"]["objectives"][0]["components"].append("a") or c["p2"]["stages"][0].append("a"),
     "component a is in p1 and in p2"),
    (lambda c: c["p1"].pop("stages"), "p1: needs a list of stages"),
])
def test_normalise_names_what_breaks_a_rule(mutate, message):
    catalog = copy.deepcopy(SMALL)
    mutate(catalog)
    with pytest.raises(phase_catalog.CatalogError, match=message):
        phase_catalog.normalise(catalog)


def test_a_component_may_belong_to_no_objective():
    catalog = copy.deepcopy(SMALL)
    catalog["p1"]["stages"][1].append("extra")
    p1 = phase_catalog.normalise(catalog)["p1"]
    assert p1["components"] == ["a", "b", "c", "extra"] and "extra" not in p1["objective_of"]
    assert phase_catalog.tags_of(p1, "extra") == {"extra"}
    assert phase_catalog.select(p1, ["extra"], []) == (["extra"], [])


def test_tags_select_components_objectives_and_rollbacks():
    p1 = phase_catalog.normalise(SMALL)["p1"]
    assert phase_catalog.deploy_tags(p1) == ["a", "b", "c", "objective_1_1", "objective_1_2"]
    assert phase_catalog.rollback_tags(p1) == ["never", "rollback", "rollback_a", "rollback_b", "rollback_c"]
    assert phase_catalog.select(p1, ["all"], []) == (["a", "b", "c"], [])
    assert phase_catalog.select(p1, ["a"], []) == (["a"], [])
    # The catalog's extra tags: tag b also selects c (as hive_metastore selects postgres).
    assert phase_catalog.select(p1, ["b"], []) == (["b", "c"], [])
    assert phase_catalog.select(p1, ["objective_1_2"], []) == (["b", "c"], [])
    assert phase_catalog.select(p1, ["all"], ["c"]) == (["a", "b"], [])
    assert phase_catalog.select(p1, ["rollback"], []) == ([], ["a", "b", "c"])
    assert phase_catalog.select(p1, ["rollback_b"], []) == ([], ["b", "c"])
    assert phase_catalog.select(p1, ["preflight"], []) == ([], [])


def test_an_unknown_tag_is_named_and_tags_of_any_phase_are_known():
    phases = phase_catalog.normalise(SMALL)
    assert phase_catalog.unknown_tags(phases, ["a", "d", "objective_2_1", "rollback_d", "preflight"], []) == []
    assert phase_catalog.unknown_tags(phases, ["a", "aa", "rollbak"], []) == ["aa", "rollbak"]
    # skipping a tag nobody has is harmless (molecule skips molecule-notest and notest)
    assert phase_catalog.unknown_tags(phases, ["all"], ["molecule-notest", "notest"]) == []


def test_the_catalog_holds_every_phase_and_each_component_is_a_role_with_the_contract():
    phases = phase_catalog.normalise(load_catalog())
    assert list(phases) == ["phase1", "phase2", "phase3"]
    for phase, entry in phases.items():
        for component in entry["components"]:
            role = os.path.join(ROOT, "roles", component)
            for step in ("apply", "wait", "validate", "rollback"):
                assert os.path.exists(os.path.join(role, "tasks", step + ".yml")), (phase, component, step)
            with open(os.path.join(role, "defaults", "main.yml")) as handle:
                defaults = yaml.safe_load(handle)
            assert component + "_enabled" in defaults and component + "_budget" in defaults, component
            with open(os.path.join(role, "meta", "argument_specs.yml")) as handle:
                specs = yaml.safe_load(handle)["argument_specs"]
            assert "main" in specs, component
            # A part (<component>/<part>) is handed to the role as <component>_stage.
            if any(step["part"] != "all" for stage in entry["stages"] for step in stage["steps"]
                   if step["component"] == component):
                assert "platform_component_stage" in str(defaults[component + "_stage"]), component


def test_the_runbook_stages():
    phases = phase_catalog.normalise(load_catalog())
    assert [s["steps"][0]["component"] for s in phases["phase1"]["stages"]] == [
        "s3_storage", "postgres", "hive_metastore", "iceberg", "metadata_backup"]
    stage1, stage2 = phases["phase3"]["stages"]
    assert [(s["component"], s["part"]) for s in stage1["steps"]] == [
        ("elasticsearch", "all"), ("kafka", "all"), ("neo4j", "all"), ("datahub", "1"), ("doris", "1"), ("ray", "1"),
        ("mlflow", "1")]
    assert [(s["component"], s["part"]) for s in stage2["steps"]] == [
        ("datahub", "2"), ("doris", "2"), ("ray", "2"), ("mlflow", "2"), ("kubeflow", "all")]
    assert [s["steps"] for s in phases["phase2"]["stages"]] == [
        [{"component": "spark_operator", "part": "all"}, {"component": "trino", "part": "all"}]]
    assert [(r["kind"], r.get("name_from")) for r in phases["phase2"]["requires"]] == [
        ("Endpoints", "hive_metastore_release"), ("Secret", "s3_storage_credentials_secret")]
    assert phases["phase1"]["trigger"] == {"storage_used": "200Gi"}
    assert phases["phase3"]["min_health_percent"] == 80 and phases["phase3"]["health_target_percent"] == 90


def test_an_objective_title_cut_at_a_comma_is_refused():
    catalog = yaml.safe_load("""
p:
  title: P
  objectives:
    - {id: "1.1", title: Complete ML platform (Ray, MLflow, Kubeflow), components: [ray]}
  stages:
    - [ray]
""")
    with pytest.raises(phase_catalog.CatalogError, match=r"objective 1.1 has unknown key\(s\) Kubeflow\), MLflow"):
        phase_catalog.normalise(catalog)
