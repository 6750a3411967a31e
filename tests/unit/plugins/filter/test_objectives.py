"""objectives_init / objectives_transition: the state rules of a phase's objectives document."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.objectives import (objective_of, objectives_init,
                                                                              objectives_transition)

CATALOG = {"title": "Phase 1", "objectives": [
    {"id": "1.1", "title": "S3", "tag": "objective_1_1", "components": ["s3_storage"]},
    {"id": "1.2", "title": "HMS", "tag": "objective_1_2", "components": ["postgres", "hive_metastore"]},
]}


def fresh(mode="apply"):
    return objectives_init({}, CATALOG, "phase1", mode)


def test_a_new_document_has_every_objective_pending():
    doc = fresh()
    assert [(o["id"], o["state"]) for o in doc["objectives"]] == [("1.1", "pending"), ("1.2", "pending")]
    assert doc["current_status"] == {"state": "pending", "completed": 0, "rendered": 0, "done": 0, "total": 2,
                                     "percent": 0, "current_objective": "1.1", "failed": []}


def test_start_complete_and_status():
    doc = objectives_transition(fresh(), "1.1", "start", "t1")
    assert doc["current_status"]["state"] == "in_progress"
    doc = objectives_transition(doc, "1.1", "complete", "t2")
    record = doc["objectives"][0]
    assert (record["state"], record["started_at"], record["completed_at"]) == ("completed", "t1", "t2")
    assert doc["current_status"]["percent"] == 50 and doc["current_status"]["current_objective"] == "1.2"


def test_a_rendered_tree_ends_rendered_never_completed():
    doc = fresh("render")
    for objective in ("1.1", "1.2"):
        doc = objectives_transition(objectives_transition(doc, objective, "start", "t1"), objective, "complete", "t2")
    assert [o["state"] for o in doc["objectives"]] == ["rendered", "rendered"]
    assert "completed_at" not in doc["objectives"][0] and doc["objectives"][0]["rendered_at"] == "t2"
    assert doc["current_status"]["state"] == "rendered"
    assert (doc["current_status"]["done"], doc["current_status"]["completed"], doc["current_status"]["percent"]) == (2, 0, 100)
    rerender = objectives_transition(objectives_transition(doc, "1.1", "start", "t3"), "1.1", "complete", "t4")
    assert rerender == doc
    rolled = objectives_transition(doc, "1.1", "rollback", "t5")
    assert "rendered_at" not in rolled["objectives"][0] and rolled["current_status"]["state"] == "in_progress"


def test_applying_after_an_old_completed_render_record_moves_on():
    stored = fresh("render")
    stored["objectives"][0]["state"] = "completed"  # written by a version without the rendered state
    doc = objectives_transition(objectives_init(stored, CATALOG, "phase1", "render"), "1.1", "start", "t1")
    assert doc["objectives"][0]["state"] == "in_progress"


def test_a_successful_rerun_keeps_a_completed_objective_unchanged():
    doc = objectives_transition(objectives_transition(fresh(), "1.1", "start", "t1"), "1.1", "complete", "t2")
    rerun = objectives_transition(objectives_transition(doc, "1.1", "start", "t3"), "1.1", "complete", "t4")
    assert rerun == doc


def test_failure_then_retry_then_rollback():
    doc = objectives_transition(objectives_transition(fresh(), "1.2", "start", "t1"), "1.2", "fail", "t2", "boom")
    assert doc["objectives"][1]["message"] == "boom" and doc["current_status"]["failed"] == ["1.2"]
    assert doc["current_status"]["state"] == "failed"
    retried = objectives_transition(doc, "1.2", "start", "t3")
    assert retried["objectives"][1]["state"] == "in_progress" and "message" not in retried["objectives"][1]
    rolled = objectives_transition(objectives_transition(retried, "1.2", "complete", "t4"), "1.2", "rollback", "t5")
    assert rolled["objectives"][1] == {"id": "1.2", "title": "HMS", "tag": "objective_1_2",
                                       "components": ["postgres", "hive_metastore"], "state": "pending",
                                       "rolled_back_at": "t5"}


def test_override_is_recorded_once_per_reason():
    override = {"who": "a", "when": "t1", "why": "reason one"}
    doc = objectives_init(fresh(), CATALOG, "phase1", override=override)
    assert doc["override"] == override
    same = objectives_init(doc, CATALOG, "phase1", override=dict(override, when="t2", who="b"))
    assert same["override"]["when"] == "t1"
    changed = objectives_init(doc, CATALOG, "phase1", override=dict(override, why="reason two", when="t3"))
    assert changed["override"]["when"] == "t3"


def test_stored_states_survive_and_catalog_titles_win():
    stored = objectives_transition(fresh(), "1.1", "start", "t1")
    stored["objectives"][0]["title"] = "old title"
    doc = objectives_init(stored, CATALOG, "phase1")
    assert doc["objectives"][0]["state"] == "in_progress" and doc["objectives"][0]["title"] == "S3"


def test_errors_and_component_lookup():
    with pytest.raises(AnsibleFilterError, match="no objective '9.9'"):
        objectives_transition(fresh(), "9.9", "start", "t")
    with pytest.raises(AnsibleFilterError, match="must be one of"):
        objectives_transition(fresh(), "1.1", "finish", "t")
    assert objective_of(CATALOG, "postgres") == "1.2" and objective_of(CATALOG, "doris") == ""
