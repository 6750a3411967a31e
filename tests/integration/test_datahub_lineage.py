"""DataHub's integration test (lakehouse.platform.datahub_lineage_check) through the API server's service proxy.

GMS is the stateful stand-in of tests/standins/datahub_gms (the Rest.li protocol acryl-datahub 1.7 sends,
captured in captured_protocol.json), registered as the backend of the GMS Service on the API test server. Pinned:

* the datahub role's validate entry point, with no URL, emits the test dataset (schemaMetadata, upstreamLineage
  to the phase-1 Iceberg table) with the real acryl-datahub client through the proxy, reads both back and the
  edge from the graph, deletes the test dataset, records `ingest` / `lineage` with `via service proxy
  <ns>/<svc>:<port>`, reports no change, and the catalog's two DataHub rows judge those records met;
* GMS down: `not reachable: ...` naming the Service and the API server's answer, recorded and warned;
* GMS answering an error on ingest, a lineage edge the graph never lists, a wrong token: the task fails,
  naming the component, the request, the way in and the answer; the test dataset is deleted even then;
* check mode sends nothing; a token with the service proxy is refused before anything is sent, and a token
  never appears in the output.
"""
import json
import os
import urllib.parse
import urllib.request

import pytest
import yaml

from tests.integration.phase1_helpers import run_playbook
from tests.integration.test_service_proxy import _create, _free_port, _ready_deployment, _register, _service
from tests.standins.datahub_gms.server import DataHubGmsStandIn

from ansible_collections.lakehouse.platform.plugins.filter.criteria import success_criteria

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_URN = "urn:li:dataset:(urn:li:dataPlatform:iceberg,lakehouse_check.datahub_lineage_check,PROD)"
UPSTREAM_URN = "urn:li:dataset:(urn:li:dataPlatform:iceberg,lakehouse_check.phase1_check,PROD)"


@pytest.fixture(scope="module")
def gms():
    server = DataHubGmsStandIn().start()
    yield server
    server.stop()


def _control(gms, path, body=None):
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (gms.port, path), method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def _gms_service(kube_api, ns, name, target):
    _service(kube_api, ns, name, [{"name": "http", "port": 8080, "targetPort": 8080}])
    _register(kube_api, ns, name, "http", target)


def test_the_role_emits_reads_back_and_deletes_a_test_dataset_through_the_proxy(tmp_path, kube_api, kube_namespace, gms):
    ns = kube_namespace
    _control(gms, "/_standin/reset", {})
    _gms_service(kube_api, ns, "datahub-datahub-gms", gms.port)
    _ready_deployment(kube_api, ns, "datahub-datahub-gms", {"app.kubernetes.io/instance": "datahub"})
    role = {"name": "lakehouse.platform.datahub", "tasks_from": "validate"}
    tasks = [
        {"name": "Validate datahub", "ansible.builtin.include_role": role},
        {"name": "Keep the record", "ansible.builtin.set_fact": {"record": "{{ datahub_validation }}",
                                                                 "probe": "{{ datahub_lineage }}"}},
    ]
    kube_api.reset_counts()
    run = run_playbook(tmp_path, tasks, env=kube_api.env, results=["record", "probe"], extra_vars={
        "platform_mode": "apply", "datahub_namespace": ns, "datahub_stage": "2"})
    assert run.returncode == 0, run
    record, probe = run.results["record"], run.results["probe"]
    via = "via service proxy %s/datahub-datahub-gms:8080" % ns
    assert record["lineage"] == "%s schema 3 fields, upstream %s read back %s" % (TEST_URN, UPSTREAM_URN, via)
    assert record["ingest"].startswith("schemaMetadata and upstreamLineage of %s ingested and read back, lineage edge "
                                       "listed by the graph after " % TEST_URN), record
    assert record["ingest"].endswith(", test dataset deleted (3 rows) " + via)
    assert record["gms_health"].startswith("HTTP 200 " + via)
    assert probe["changed"] is False and probe["upstreams"] == [UPSTREAM_URN]
    assert probe["base_url"].endswith("/api/v1/namespaces/%s/services/http:datahub-datahub-gms:8080/proxy" % ns)

    # What GMS saw: acryl-datahub's Rest.li requests, through the proxy (no Authorization reaches a backend).
    state = _control(gms, "/_standin/state")
    assert state["entities"] == {} and state["edges"] == [], state  # deleted: aspects and the graph's edge
    seen = [(r["method"], r["path"] + ("?" + r["query"] if r["query"] and "relationships" not in r["path"] else ""))
            for r in state["requests"] if r["path"] != "/health"]
    assert seen == [
        ("GET", "/config"),
        ("POST", "/aspects?action=ingestProposal"), ("POST", "/aspects?action=ingestProposal"),
        ("GET", "/aspects/%s?aspect=schemaMetadata&version=0" % TEST_URN),
        ("GET", "/aspects/%s?aspect=upstreamLineage&version=0" % TEST_URN),
        ("GET", "/openapi/relationships/v1/"), ("GET", "/openapi/relationships/v1/"),
        ("POST", "/entities?action=delete"),
        ("GET", "/aspects/%s?aspect=datasetKey&version=0" % TEST_URN)], seen
    edge_query = [r["query"] for r in state["requests"] if "relationships" in r["path"]][0]
    assert urllib.parse.parse_qs(edge_query) == {"urn": [UPSTREAM_URN], "direction": ["INCOMING"],
                                                 "relationshipTypes": ["DownstreamOf"], "start": ["0"]}
    assert all(r["restli"] == "2.0.0" and r["user_agent"].startswith("DataHub-Client/1.0 (sdk;")
               and not r["authorization"] for r in state["requests"] if r["path"] != "/health")
    counts = kube_api.request_counts()
    assert counts.count(verb="create", subresource="proxy") == 3, counts  # 2 ingests and the delete
    assert "changed=0" in run.output  # the probe leaves nothing behind, so it reports no change

    # The runbook's two DataHub rows judge these records: met with the evidence, not checked when not reached.
    catalog = yaml.safe_load(open(os.path.join(ROOT, "playbooks", "vars", "phases.yml")))["platform_catalog"]
    rows = [c for c in catalog["phase3"]["success_criteria"] if c["criterion"].startswith(("DataHub ingesting",
                                                                                           "DataHub lineage"))]
    down = {"ingest": "not reachable: Service %s/x not found" % ns, "lineage": "not reachable: Service %s/x not found" % ns}
    for validations, state_wanted in ((record, "met"), (down, "not checked")):
        judged = success_criteria(rows, {"mode": "apply", "validations": {"datahub": validations}})
        assert [(row["state"], row["evidence"]) for row in judged] == [
            (state_wanted, validations["ingest"]), (state_wanted, validations["lineage"])]


def test_failing_gms_answers_name_the_request_and_check_mode_sends_nothing(tmp_path, kube_api, kube_namespace, gms):
    """One stand-in per failure (each its own GMS Service), so the probes run back to back in one playbook."""
    ns = kube_namespace
    failing, no_index, authed, quiet = (DataHubGmsStandIn().start() for _index in range(4))
    kafka_down = "java.lang.RuntimeException: Failed to produce MetadataChangeLog to Kafka topic MetadataChangeLog_Versioned_v1"
    failing.state.faults = {"ingest_error": {"status": 500, "message": kafka_down}}
    no_index.state.faults = {"graph_indexing": False}  # the MAE consumer is down: aspects stored, no graph edge
    authed.state.token = "s3cr3t-datahub-token"
    try:
        for name, server in (("gms-failing", failing), ("gms-noindex", no_index), ("gms-quiet", quiet)):
            _gms_service(kube_api, ns, name, server.port)
        _gms_service(kube_api, ns, "gms-down", _free_port())  # nothing listens there
        _create(kube_api, "/api/v1/namespaces/%s/secrets" % ns, {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "datahub-token"},
            "stringData": {"token": "s3cr3t-datahub-token"}})
        url = "http://127.0.0.1:%d" % authed.port
        check = "lakehouse.platform.datahub_lineage_check"

        def probe(service, **more):
            return dict({"namespace": ns, "service": service, "lineage_timeout": 1}, **more)

        tasks = [
            {"name": "Check mode", check: probe("gms-quiet"), "check_mode": True, "register": "checked"},
            {"name": "Ingest answered 500", check: probe("gms-failing"), "register": "ingest_error", "ignore_errors": True},
            {"name": "Lineage never listed", check: probe("gms-noindex"), "register": "no_edge", "ignore_errors": True},
            {"name": "With the token, at the URL", check: {"url": url, "namespace": ns, "token_secret": "datahub-token"},
             "register": "with_token"},
            {"name": "Without a token", check: {"url": url}, "register": "no_token", "ignore_errors": True},
            {"name": "GMS down", check: probe("gms-down", fail_unreachable=False), "register": "down"},
            {"name": "Keep the results", "ansible.builtin.set_fact": {"out": {
                name: "{{ %s }}" % name for name in ("checked", "ingest_error", "no_edge", "with_token", "no_token",
                                                     "down")}}},
        ]
        kube_api.reset_counts()
        run = run_playbook(tmp_path, tasks, env=kube_api.env, results=["out"])
        assert run.returncode == 0, run
        results = run.results["out"]
        via = "via service proxy %s/gms-%%s:8080" % ns

        # Check mode: nothing sent.
        assert (results["checked"]["sent"], results["checked"]["changed"], results["checked"]["reach"]) == (
            False, False, "not sent (check mode)")
        assert quiet.state.requests == []

        # GMS answering an error on ingest: component, request, way in and answer; the delete still sent.
        assert results["ingest_error"]["failed"] is True
        assert results["ingest_error"]["msg"] == (
            "datahub: POST /aspects?action=ingestProposal (schemaMetadata of %s) %s answered HTTP 500: %s"
            % (TEST_URN, via % "failing", kafka_down))
        assert [r["path"] for r in failing.state.requests if r["method"] == "POST"] == ["/aspects", "/entities"]
        # The lineage edge never listed by the graph: fails after the timeout, and cleans up.
        no_edge = results["no_edge"]
        assert no_edge["failed"] is True and no_edge["upstreams"] == [UPSTREAM_URN] and no_edge["deleted_rows"] == 3
        assert no_edge["msg"].startswith(
            "datahub: lineage not read back: GET /openapi/relationships/v1/?urn=%s&direction=INCOMING&relationshipTypes="
            "DownstreamOf %s listed nothing for 1 s, not %s" % (UPSTREAM_URN, via % "noindex", TEST_URN)), no_edge["msg"]
        assert no_index.state.entities == {}

        # Authentication on: the token from the Secret at the URL passes; none answers 401, named.
        assert results["with_token"]["lineage"].endswith("read back via url " + url)
        assert results["with_token"]["changed"] is False and authed.state.entities == {}
        assert results["no_token"]["msg"] == (
            "datahub: POST /aspects?action=ingestProposal (schemaMetadata of %s) via url %s answered HTTP 401: "
            "Unauthorized to perform this action. Please provide a valid token." % (TEST_URN, url))
        assert "s3cr3t-datahub-token" not in run.output

        # GMS down: not reachable, naming the Service and what the API server answered; a warning says it too.
        down = results["down"]
        assert (down["reached"], down["failed"]) == (False, False)
        assert down["reach"].startswith("not reachable: error trying to reach service: dial tcp 127.0.0.1:"), down
        assert down["reach"].endswith("connect: connection refused (HTTP 503 from the API server for Service "
                                      "%s/gms-down) (GET /config %s)" % (ns, via % "down")), down
        assert "[WARNING]: datahub: not reachable: error trying to reach service" in run.output
        counts = kube_api.request_counts()
        # ingest error: 1 ingest + delete; no edge: 2 ingests + delete; check mode and down: none
        assert counts.count(verb="create", subresource="proxy") == 5, counts
    finally:
        for server in (failing, no_index, authed, quiet):
            server.stop()
