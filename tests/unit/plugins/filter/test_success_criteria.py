"""The runbook's success criteria judged from a report: a validation sentence passes unless it says the check
did not happen, `met` decides for figures, a criterion without evidence says why, render mode judges nothing;
and phase 3's criteria of the catalog are the runbook's 16, each with a valid expression."""
import os

import jmespath
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.criteria import success_criteria

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
CATALOG = yaml.safe_load(open(os.path.join(ROOT, "playbooks", "vars", "phases.yml")))["platform_catalog"]

REPORT = {
    "mode": "apply", "check_mode": False, "outcome": "succeeded",
    "health": {"after": {"summary": "100% (25/25 pods)", "failed": 0, "pending": 0}},
    "checks": [{"name": "Platform health (phase 3 target)", "measured": "100% (25/25 pods)", "met": True}],
    "validations": {
        "datahub": {"gms_health": "HTTP 200 via service proxy dp/datahub-datahub-gms:8080",
                    "ingest": "schemaMetadata and upstreamLineage of urn:li:dataset:(x) ingested and read back, lineage "
                              "edge listed by the graph after 0.1 s, test dataset deleted (3 rows) via url http://gms",
                    "lineage": "not reachable: Service dp/datahub-datahub-gms not found"},
        "doris": {"fe_check": {"fe_alive": 1, "be_alive": 2, "reach": "via url http://127.0.0.1:8030"},
                  "sql_round_trip": "lakehouse_check_1a2b3c4d.lakehouse_check: 3 rows written, 3 read back, dropped, "
                                    "via url http://127.0.0.1:8030",
                  "superset": "Doris OLAP id 3 via service proxy data-platform/superset:8088 (created)"},
        "ray": {"workers": {"ready": 2, "required": 2},
                "autoscaling": {"enabled": True, "container": True, "within_bounds": False},
                "ml_workflow": "run 9a1 metric sum_of_squares=285.0 logged by Ray job lakehouse-ml-workflow-0a1 read "
                               "back via service proxy ml/mlflow:80"},
        "mlflow": {"test_run": "not reachable: Service ml/mlflow not found"},
    },
}


def _states(rows):
    return dict((row["criterion"], row["state"]) for row in rows)


def test_each_criterion_is_judged_with_its_evidence():
    rows = success_criteria(CATALOG["phase3"]["success_criteria"], REPORT)
    states = _states(rows)
    assert states["All 27 new pods running"] == "met"
    assert states["DataHub UI accessible"] == "met"
    assert states["Doris FE responding to queries"] == "met"
    assert states["Ray cluster operational"] == "met"
    assert states["MLflow tracking server responding"] == "not checked"
    assert states["Platform health ≥90%"] == "met"
    assert states["Ray workers auto-scaling"] == "not met"  # the desired workers left min..max
    assert states["Kubeflow pipelines functional"] == "not checked"  # nothing recorded
    assert states["DataHub ingesting metadata"] == "met"
    assert states["DataHub lineage visualization working"] == "not checked"  # not reached
    evidence = dict((row["criterion"], row["evidence"]) for row in rows)
    assert evidence["DataHub UI accessible"].startswith("HTTP 200")
    assert evidence["MLflow tracking server responding"].startswith("not reachable: Service ml/mlflow")
    assert evidence["Doris FE responding to queries"].endswith("3 rows written, 3 read back, dropped, via url "
                                                               "http://127.0.0.1:8030")
    assert evidence["Kubeflow pipelines functional"] == "nothing recorded (validations.kubeflow.pipeline_run)"
    assert states["Doris connected to Superset"] == "met"
    assert evidence["Doris connected to Superset"].startswith("Doris OLAP id 3 via service proxy")
    assert '"container": true' in evidence["Ray workers auto-scaling"]
    assert states["Complete ML workflow tested"] == "met"
    assert evidence["Complete ML workflow tested"].startswith("run 9a1 metric sum_of_squares=285.0 logged by Ray job")
    not_run = dict(REPORT, validations=dict(REPORT["validations"], ray={
        "ml_workflow": "not run: the Ray test job did not run (not reachable: Service ml/ml-cluster-head-svc not found)"}))
    assert _states(success_criteria(CATALOG["phase3"]["success_criteria"], not_run))["Complete ML workflow tested"] == \
        "not checked"


def test_a_round_trip_that_did_not_run_is_not_checked():
    not_run = ("not run: Doris' SQL HTTP API needs the Doris password in the Authorization header, which the "
               "Kubernetes API server removes from every request it proxies (kubernetes/kubernetes#38775)")
    report = dict(REPORT, validations=dict(REPORT["validations"], doris={"sql_round_trip": not_run}))
    rows = success_criteria(CATALOG["phase3"]["success_criteria"], report)
    row = [r for r in rows if r["criterion"] == "Doris FE responding to queries"][0]
    assert (row["state"], row["evidence"]) == ("not checked", not_run)


def test_a_superset_that_is_not_configured_or_not_reached_is_not_checked():
    for record in ("not configured (doris_superset_service and doris_superset_url are empty; Superset is not part "
                   "of this collection)", "not reachable: Service dp/superset not found (GET /login/ via ...)"):
        report = dict(REPORT, validations=dict(REPORT["validations"], doris={"superset": record}))
        rows = dict((row["criterion"], row) for row in success_criteria(CATALOG["phase3"]["success_criteria"], report))
        assert (rows["Doris connected to Superset"]["state"], rows["Doris connected to Superset"]["evidence"]) == (
            "not checked", record)


def test_a_probe_not_re_run_on_an_unchanged_component_is_not_checked():
    record = ("not re-run: kubeflow is unchanged since its objective was completed (platform_validation_probes=always "
              "runs it every run)")
    report = dict(REPORT, validations=dict(REPORT["validations"], kubeflow={"pipeline_run": record}))
    rows = dict((row["criterion"], row) for row in success_criteria(CATALOG["phase3"]["success_criteria"], report))
    assert (rows["Kubeflow pipelines functional"]["state"], rows["Kubeflow pipelines functional"]["evidence"]) == (
        "not checked", record)


def test_a_failed_run_or_pending_pods_do_not_meet_the_pods_criterion():
    report = dict(REPORT, health={"after": {"summary": "90% (27/30 pods)", "failed": 0, "pending": 3}})
    assert _states(success_criteria(CATALOG["phase3"]["success_criteria"], report))["All 27 new pods running"] == "not met"


def test_kubeflow_pipelines_are_functional_when_the_validation_run_succeeded():
    def judged(pipeline_run):
        report = dict(REPORT, validations=dict(REPORT["validations"], kubeflow={"pipeline_run": pipeline_run}))
        row = [r for r in success_criteria(CATALOG["phase3"]["success_criteria"], report)
               if r["criterion"] == "Kubeflow pipelines functional"][0]
        return row["state"], row["evidence"]

    succeeded = "5f0c SUCCEEDED in 21.4s via service proxy kubeflow/ml-pipeline:8888 (pipeline p, deleted)"
    assert judged(succeeded) == ("met", succeeded)
    assert judged("5f0c CANCELED in 3.0s via service proxy kubeflow/ml-pipeline:8888")[0] == "not met"
    down = "not reachable: Service kubeflow/ml-pipeline not found (GET /apis/v2beta1/healthz via service proxy ...)"
    assert judged(down) == ("not checked", down)


def test_render_and_check_mode_judge_nothing():
    for report in (dict(REPORT, mode="render"), dict(REPORT, check_mode=True)):
        rows = success_criteria(CATALOG["phase3"]["success_criteria"], report)
        assert set(row["state"] for row in rows) == {"not checked"}
        assert rows[0]["evidence"].endswith("nothing ran in a cluster")


def test_the_catalog_holds_the_runbook_s_criteria_with_valid_expressions():
    criteria = CATALOG["phase3"]["success_criteria"]
    assert [c["level"] for c in criteria].count("must") == 6
    assert [c["level"] for c in criteria].count("should") == 5 and [c["level"] for c in criteria].count("nice") == 5
    for criterion in criteria:
        assert criterion.get("evidence") or criterion.get("unchecked"), criterion
        for key in ("evidence", "met"):
            if criterion.get(key):
                jmespath.compile(criterion[key])


def test_a_malformed_criterion_is_named():
    with pytest.raises(AnsibleFilterError, match="each criterion needs level"):
        success_criteria([{"level": "urgent", "criterion": "x"}], REPORT)
    with pytest.raises(AnsibleFilterError, match="'x'"):
        success_criteria([{"level": "must", "criterion": "x", "evidence": "validations.["}], REPORT)
