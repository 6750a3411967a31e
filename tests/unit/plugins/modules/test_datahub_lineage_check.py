"""datahub_lineage_check: bad input is refused by option name before anything is sent; the argument spec
matches the documentation; the probe's steps against the GMS stand-in (in process, no Kubernetes) name the
request and GMS's answer."""
import ast

import pytest
import yaml

from ansible_collections.lakehouse.platform.plugins.module_utils import datahub_lineage
from ansible_collections.lakehouse.platform.plugins.modules import datahub_lineage_check as module
from tests.standins.datahub_gms.server import DataHubGmsStandIn

TEST_URN = "urn:li:dataset:(urn:li:dataPlatform:iceberg,lakehouse_check.datahub_lineage_check,PROD)"
UPSTREAM = "urn:li:dataset:(urn:li:dataPlatform:iceberg,lakehouse_check.phase1_check,PROD)"


def _params(**changes):
    spec = module.argument_spec()
    params = dict((name, option.get("default")) for name, option in spec.items())
    params.update(namespace="dp", service="datahub-datahub-gms")
    params.update(changes)
    return params


@pytest.mark.parametrize("changes, message", [
    ({"service": ""}, "Options namespace and service are required when url is empty"),
    ({"service": "gms:8080"}, "Option service must be a Service name"),
    ({"port": "8080/x"}, "Option port must be a port number or name"),
    ({"token_secret": "datahub-token"}, "Option token_secret needs url: the API server's service proxy removes"),
    ({"url": "ftp://gms"}, "Option url must be an http:// or https:// URL"),
    ({"url": "http://user:pw@gms:8080"}, "without credentials, got 'gms:8080'"),
    ({"url": "http://gms:8080", "namespace": None, "token_secret": "t"}, "Option namespace is required with token_secret"),
    ({"upstream_name": "a,b"}, "Option upstream_name must be a non-empty name"),
    ({"upstream_name": "lakehouse_check.datahub_lineage_check"}, "Options dataset_name and upstream_name must differ"),
    ({"fields": []}, "Option fields must list at least one column"),
    ({"fields": [{"name": "a", "type": "long"}, {"name": "a", "type": "long"}]}, "column names must be non-empty and unique"),
    ({"fields": [{"name": "a", "type": "geometry"}]}, "column 'a' has type 'geometry'; known types:"),
    ({"timeout": 0}, "Option timeout must be 1 or more seconds"),
    ({"lineage_timeout": -1}, "Option lineage_timeout must be 0 or more seconds"),
])
def test_bad_input_is_named(changes, message):
    assert message in module.validate(_params(**changes))


def test_the_defaults_pass_and_the_spec_matches_the_documentation():
    assert module.validate(_params()) is None
    assert module.validate(_params(url="http://gms:8080", namespace="dp", token_secret="t")) is None
    doc = yaml.safe_load(module.DOCUMENTATION)
    own = set(doc["options"])
    spec = set(module.argument_spec()) - set(module.kube_argument_spec())
    assert own == spec
    assert doc["options"]["fields"]["default"] == module.argument_spec()["fields"]["default"]


@pytest.fixture
def gms():
    server = DataHubGmsStandIn().start()
    yield server
    server.stop()


def _probe(gms, **kwargs):
    graph = datahub_lineage.url_graph("http://127.0.0.1:%d" % gms.port, kwargs.pop("token", None), True, 5)
    fields = [{"name": "id", "type": "long"}, {"name": "ts", "type": "timestamp", "description": "when"}]
    return datahub_lineage.LineageProbe("datahub", graph, "url gms", TEST_URN, UPSTREAM, fields, "iceberg",
                                        poll_interval=0.05, **kwargs)


def test_the_probe_stores_reads_back_and_deletes(gms):
    report = _probe(gms, lineage_timeout=1).run()
    assert (report["ingested"], report["schema_fields"], report["upstreams"], report["deleted_rows"]) == (
        ["schemaMetadata", "upstreamLineage"], 2, [UPSTREAM], 3)
    assert gms.state.entities == {} and gms.state.edges == set()
    kept = _probe(gms, lineage_timeout=1, cleanup=False).run()
    assert kept["deleted_rows"] is None
    schema = gms.state.entities[TEST_URN]["schemaMetadata"]
    assert [(f["fieldPath"], f["nativeDataType"], list(f["type"]["type"])) for f in schema["fields"]] == [
        ("id", "long", ["com.linkedin.schema.NumberType"]), ("ts", "timestamp", ["com.linkedin.schema.TimeType"])]
    assert gms.state.edges == {(TEST_URN, "DownstreamOf", UPSTREAM)}


def test_a_late_edge_is_waited_for_and_a_missing_one_fails_after_cleanup(gms):
    gms.state.faults = {"graph_indexing": False}
    with pytest.raises(datahub_lineage.ProbeFailed) as failed:
        _probe(gms, lineage_timeout=0).run()
    assert str(failed.value).startswith("datahub: lineage not read back: GET /openapi/relationships/v1/?urn=%s"
                                        "&direction=INCOMING&relationshipTypes=DownstreamOf via url gms listed "
                                        "nothing for 0 s, not %s" % (UPSTREAM, TEST_URN))
    assert not failed.value.unreachable and gms.state.entities == {}


def test_a_validation_error_of_gms_is_quoted_and_a_closed_port_is_not_reachable(gms):
    invalid = "com.linkedin.metadata.entity.validation.ValidationException: Failed to validate record"
    gms.state.faults = {"ingest_error": {"status": 422, "message": invalid}}
    with pytest.raises(datahub_lineage.ProbeFailed) as failed:
        _probe(gms).run()
    assert str(failed.value) == (
        "datahub: POST /aspects?action=ingestProposal (schemaMetadata of %s) via url gms answered HTTP 422: "
        "com.linkedin.metadata.entity.validation.ValidationException: Failed to validate record" % TEST_URN)
    probe = _probe(gms)
    gms.stop()
    with pytest.raises(datahub_lineage.ProbeFailed) as failed:
        probe.run()
    assert failed.value.unreachable
    assert str(failed.value).startswith("not reachable: GMS did not answer: ")
    assert str(failed.value).endswith("(GET /config via url gms)")


def test_the_module_imports_its_library_guarded():
    tree = ast.parse(open(datahub_lineage.__file__).read())
    guarded = [node for node in tree.body if isinstance(node, ast.Try)
               and any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("datahub") for n in node.body)]
    assert guarded and datahub_lineage.HAS_DATAHUB
