#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: datahub_lineage_check
short_description: DataHub's integration test - create a test dataset with lineage, read it back, delete it
version_added: 0.1.0
description:
  - The runbook's DataHub integration test, "create test dataset and verify lineage", in one task with
    acryl-datahub's own client (C(DataHubGraph), a C(DataHubRestEmitter)).
  - "Steps: C(GET /config) (the server is DataHub GMS); Rest.li C(ingestProposal) (synchronous) of the test
    dataset's C(schemaMetadata) (O(fields)) and its C(upstreamLineage) with one C(TRANSFORMED) edge to
    O(upstream_name) (by default the phase-1 Iceberg table); both aspects read back with C(get_aspect) and
    compared; the edge read back from DataHub's graph index (C(get_related_entities), C(DownstreamOf) edges
    coming into the upstream, which is what DataHub's lineage view reads), polled up to O(lineage_timeout)
    because the MAE consumer writes that index; then the test dataset hard-deleted (C(/entities?action=delete))
    and its key aspect asked again to make sure it is gone."
  - GMS is reached through the Kubernetes API server's service proxy of O(service) by default
    (C(<api server>/api/v1/namespaces/<namespace>/services/http:<service>:<port>/proxy)), with
    kubernetes.core's authentication (module options, E(K8S_AUTH_*), kubeconfig, in-cluster), or at O(url).
  - What is hand-written here and why - acryl-datahub speaks GMS's protocol; what it cannot do is reach a Service
    through the API server. A requests transport adapter, mounted on the library's session for the proxy URL,
    hands each request to the collection's service proxy client (the one lakehouse.platform.k8s_service_request
    uses), so the library's requests travel with kubernetes.core's client, TLS settings and bearer token.
    Retries are off (C(retry_max_times=0)) - each request is sent once, and a failure names it.
  - "A failure names O(component), the request, how GMS was reached and what it answered. When GMS is not reached
    (API server refusal, no Service, no ready endpoint, connection refused) the module fails with
    C(<component>: not reachable: <why>), or with O(fail_unreachable=false) returns RV(reached=false) and the
    reason in RV(reach) with a warning."
author:
  - lakehouse.platform contributors (@lakehouse-platform)
requirements:
  - acryl-datahub (tested with 1.7.0.17; the DataHub chart 1.1.0 runs GMS v1.7.0)
  - kubernetes (for the service proxy and O(token_secret))
options:
  component:
    description:
      - Name used at the start of every message.
    type: str
    default: datahub
  namespace:
    description:
      - Namespace of the GMS Service, and of O(token_secret). Required unless O(url) is set without O(token_secret).
    type: str
  service:
    description:
      - Name of the GMS Service, for example V(datahub-datahub-gms). Required unless O(url) is set.
    type: str
  port:
    description:
      - Port of the Service, by number or name.
    type: str
    default: "8080"
  scheme:
    description:
      - Scheme the API server uses towards GMS.
    type: str
    choices: [http, https]
    default: http
  url:
    description:
      - Base URL of GMS as the controller reaches it (port-forward, ingress), for example V(http://localhost:8080).
        When set (not empty) GMS is asked there, with acryl-datahub's own transport; O(service) is not used.
    type: str
    default: ""
  url_validate_certs:
    description:
      - Verify the TLS certificate of O(url).
    type: bool
    default: true
  token_secret:
    description:
      - Name of a Secret in O(namespace) holding a DataHub personal access token, sent as C(Authorization - Bearer)
        when metadata service authentication is on. Empty (the chart's default, authentication off) sends none.
      - Needs O(url). The API server's service proxy removes the C(Authorization) header after it authenticated the
        caller, so no token reaches GMS through it; the module refuses the combination before sending anything.
      - The token is read from the cluster at run time and never returned or logged.
    type: str
    default: ""
  token_secret_key:
    description:
      - Key of the token in O(token_secret).
    type: str
    default: token
  dataset_platform:
    description:
      - Data platform of the test dataset (and of the upstream).
    type: str
    default: iceberg
  dataset_name:
    description:
      - Name of the test dataset. It is created, read back and deleted by every run.
    type: str
    default: lakehouse_check.datahub_lineage_check
  upstream_name:
    description:
      - Name of the upstream dataset the test dataset's lineage points to, on O(dataset_platform); by default the
        phase-1 Iceberg table (C(<iceberg_check_namespace>.<iceberg_check_table>)). It is neither created nor changed.
    type: str
    default: lakehouse_check.phase1_check
  env:
    description:
      - Fabric (environment) of both dataset URNs.
    type: str
    default: PROD
  fields:
    description:
      - Columns of the test dataset's schema.
    type: list
    elements: dict
    default:
      - {name: id, type: long}
      - {name: name, type: string}
      - {name: amount, type: double}
    suboptions:
      name:
        description: Column name (the field path).
        type: str
        required: true
      type:
        description:
          - Native (Iceberg) type, mapped to DataHub's field type. One of V(boolean), V(int), V(integer), V(long),
            V(bigint), V(float), V(double), V(decimal), V(string), V(varchar), V(uuid), V(binary), V(date), V(time),
            V(timestamp), V(timestamptz).
        type: str
        required: true
      description:
        description: Column description.
        type: str
  lineage_timeout:
    description:
      - Seconds to wait for the lineage edge to appear in the graph index (0 asks once).
    type: int
    default: 60
  cleanup:
    description:
      - Delete the test dataset at the end (also after a failed step). V(false) keeps it for inspection.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each answer.
    type: int
    default: 30
  fail_unreachable:
    description:
      - Fail when GMS is not reached. With V(false) the module returns RV(reached=false), the reason in RV(reach)
        and a warning; a reached GMS answering wrongly fails either way.
    type: bool
    default: true
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
attributes:
  check_mode:
    support: full
    details:
      - Nothing is sent in check mode (the probe writes); the result says so (RV(sent=false)).
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Never reports a change - the test dataset it creates is deleted again (O(cleanup)), and a leftover from an
        interrupted run is overwritten, then deleted.
notes:
  - Through the proxy the API server must allow the caller C(get) and C(create) on C(services/proxy) in O(namespace)
    (and C(get) on the Secret O(token_secret)).
  - The upstream dataset need not exist in DataHub; the edge is stored either way, as DataHub does for lineage
    to datasets not ingested yet.
seealso:
  - module: lakehouse.platform.k8s_service_request
    description: One HTTP request through the service proxy (the GMS health check).
"""

EXAMPLES = r"""
- name: Create a test dataset with lineage to the phase-1 Iceberg table, read it back, delete it
  lakehouse.platform.datahub_lineage_check:
    namespace: data-platform
    service: datahub-datahub-gms
    port: "8080"
    upstream_name: lakehouse_check.phase1_check
  register: datahub_lineage

- name: The same against a port-forwarded GMS with metadata service authentication on
  lakehouse.platform.datahub_lineage_check:
    url: http://localhost:8080
    namespace: data-platform
    token_secret: datahub-probe-token
    fail_unreachable: false
"""

RETURN = r"""
reached:
  description: Whether GMS answered.
  returned: always
  type: bool
sent:
  description: Whether any request was sent (false in check mode and on bad input).
  returned: always
  type: bool
via:
  description: How GMS was reached.
  returned: always
  type: str
  sample: service proxy data-platform/datahub-datahub-gms:8080
base_url:
  description: The base URL the library was given (the proxy URL of the Service, or O(url)).
  returned: always
  type: str
urn:
  description: URN of the test dataset.
  returned: always
  type: str
  sample: urn:li:dataset:(urn:li:dataPlatform:iceberg,lakehouse_check.datahub_lineage_check,PROD)
upstream_urn:
  description: URN of the upstream dataset.
  returned: always
  type: str
schema_fields:
  description: Number of schema fields read back.
  returned: when reached
  type: int
upstreams:
  description: Upstream URNs of the lineage aspect read back.
  returned: when reached
  type: list
  elements: str
lineage_listed_after_s:
  description: Seconds until the graph index listed the edge.
  returned: when reached
  type: float
deleted_rows:
  description: Rows GMS removed when deleting the test dataset.
  returned: when reached and O(cleanup)
  type: int
requests:
  description: Number of answers GMS gave.
  returned: always
  type: int
ingest:
  description: For the record of the validation - what was ingested and read back, and how.
  returned: when the probe passed
  type: str
lineage:
  description: For the record of the validation - the test dataset, its schema, the upstream read back, and how.
  returned: when the probe passed
  type: str
  sample: >-
    urn:li:dataset:(urn:li:dataPlatform:iceberg,lakehouse_check.datahub_lineage_check,PROD) schema 3 fields, upstream
    urn:li:dataset:(urn:li:dataPlatform:iceberg,lakehouse_check.phase1_check,PROD) read back via service proxy
    data-platform/datahub-datahub-gms:8080
reach:
  description: "C(via <via>) when the probe passed, C(not reachable: <why> (<request> via <via>)), or C(not sent (check mode))."
  returned: always
  type: str
msg:
  description: What happened, starting with O(component).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils.datahub_lineage import (
    DATAHUB_IMPORT_ERROR,
    FIELD_TYPES,
    HAS_DATAHUB,
    LineageProbe,
    ProbeFailed,
    dataset_urn,
    proxy_graph,
    url_graph,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KubeClient, KubeError, kube_argument_spec


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        component=dict(type="str", default="datahub"),
        namespace=dict(type="str"),
        service=dict(type="str"),
        port=dict(type="str", default="8080"),
        scheme=dict(type="str", choices=["http", "https"], default="http"),
        url=dict(type="str", default=""),
        url_validate_certs=dict(type="bool", default=True),
        token_secret=dict(type="str", default="", no_log=False),
        token_secret_key=dict(type="str", default="token", no_log=False),
        dataset_platform=dict(type="str", default="iceberg"),
        dataset_name=dict(type="str", default="lakehouse_check.datahub_lineage_check"),
        upstream_name=dict(type="str", default="lakehouse_check.phase1_check"),
        env=dict(type="str", default="PROD"),
        fields=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", required=True),
            description=dict(type="str"),
        ), default=[{"name": "id", "type": "long"}, {"name": "name", "type": "string"},
                    {"name": "amount", "type": "double"}]),
        lineage_timeout=dict(type="int", default=60),
        cleanup=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        fail_unreachable=dict(type="bool", default=True),
    )
    return spec


def validate(params):
    """Bad input, named by option, before anything is sent -> error message or None."""
    if not params["url"]:
        if not params.get("namespace") or not params.get("service"):
            return "Options namespace and service are required when url is empty (GMS is asked through the service proxy)"
        if ":" in params["service"] or "/" in params["service"]:
            return "Option service must be a Service name, got %r (the port goes in port)" % params["service"]
        if not params["port"] or ":" in params["port"] or "/" in params["port"]:
            return "Option port must be a port number or name, got %r" % params["port"]
        if params["token_secret"]:
            return ("Option token_secret needs url: the API server's service proxy removes the Authorization header "
                    "once it has authenticated the caller, so a DataHub token cannot reach GMS through it")
    elif not params["url"].startswith(("http://", "https://")) or "@" in params["url"]:
        return "Option url must be an http:// or https:// URL without credentials, got %r" % params["url"].split("@")[-1]
    if params["token_secret"] and not params.get("namespace"):
        return "Option namespace is required with token_secret (the Secret's namespace)"
    for name in ("dataset_platform", "dataset_name", "upstream_name", "env"):
        if not params[name] or any(c in params[name] for c in "(),"):
            return "Option %s must be a non-empty name without parentheses or commas, got %r" % (name, params[name])
    if params["dataset_name"] == params["upstream_name"]:
        return "Options dataset_name and upstream_name must differ (the test dataset is deleted), both are %r" % (
            params["dataset_name"])
    if not params["fields"]:
        return "Option fields must list at least one column"
    names = [field["name"] for field in params["fields"]]
    if len(set(names)) != len(names) or not all(names):
        return "Option fields: column names must be non-empty and unique, got %s" % names
    for field in params["fields"]:
        if field["type"].lower() not in FIELD_TYPES:
            return "Option fields: column %r has type %r; known types: %s" % (
                field["name"], field["type"], ", ".join(sorted(FIELD_TYPES)))
    if params["timeout"] <= 0:
        return "Option timeout must be 1 or more seconds, got %d" % params["timeout"]
    if params["lineage_timeout"] < 0:
        return "Option lineage_timeout must be 0 or more seconds, got %d" % params["lineage_timeout"]
    return None


def read_token(client, params):
    secret = client.read_secret(params["token_secret"], params["namespace"])
    if secret is None:
        raise KubeError("Secret %s/%s (token_secret) not found" % (params["namespace"], params["token_secret"]))
    token = secret.get(params["token_secret_key"])
    if not token:
        raise KubeError("Secret %s/%s has no key %r (token_secret_key); keys: %s" % (
            params["namespace"], params["token_secret"], params["token_secret_key"], ", ".join(sorted(secret)) or "none"))
    return token.strip()


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    problem = validate(params)
    if problem:
        module.fail_json(msg=problem)
    if not HAS_DATAHUB:
        module.fail_json(msg=missing_required_lib("acryl-datahub"), exception=DATAHUB_IMPORT_ERROR)
    component = params["component"]
    urn = dataset_urn(params["dataset_platform"], params["dataset_name"], params["env"])
    upstream = dataset_urn(params["dataset_platform"], params["upstream_name"], params["env"])
    if params["url"]:
        via, base_url = "url %s" % params["url"].rstrip("/"), params["url"].rstrip("/")
    else:
        via = "service proxy %s/%s:%s" % (params["namespace"], params["service"], params["port"])
        base_url = ""
    result = dict(changed=False, reached=False, sent=False, via=via, base_url=base_url, urn=urn, upstream_urn=upstream,
                  requests=0, reach="")
    if module.check_mode:
        result.update(reach="not sent (check mode)",
                      msg="%s: check mode: the test dataset %s was not sent via %s" % (component, urn, via))
        module.exit_json(**result)

    try:
        client = KubeClient.from_module(module) if (not params["url"] or params["token_secret"]) else None
        if params["url"]:
            token = read_token(client, params) if params["token_secret"] else None
            graph = url_graph(params["url"], token, params["url_validate_certs"], params["timeout"])
        else:
            graph = proxy_graph(client, params["namespace"], params["service"], params["port"], params["scheme"],
                                params["timeout"])
            result["base_url"] = graph._gms_server
    except KubeError as e:  # no usable client or no token: nothing was sent to GMS
        reach = "not reachable: %s (via %s)" % (to_native(e), via)
        result.update(reach=reach, msg="%s: %s" % (component, reach))
        if params["fail_unreachable"]:
            module.fail_json(**result)
        module.warn(result["msg"])
        module.exit_json(**result)

    probe = LineageProbe(component, graph, via, urn, upstream, params["fields"], params["dataset_platform"],
                         lineage_timeout=params["lineage_timeout"], cleanup=params["cleanup"])
    try:
        report = probe.run()
    except ProbeFailed as e:
        result.update(probe.report, sent=True, requests=probe.report["requests"], reached=not e.unreachable)
        if e.unreachable:
            result.update(reach=to_native(e), msg="%s: %s" % (component, to_native(e)))
            if params["fail_unreachable"]:
                module.fail_json(**result)
            module.warn(result["msg"])
            module.exit_json(**result)
        result.update(reach="via %s" % via, msg=to_native(e))
        module.fail_json(**result)
    finally:
        graph.close()

    result.update(report, sent=True, reached=True, reach="via %s" % via)
    result["ingest"] = "%s of %s ingested and read back, lineage edge listed by the graph after %s s%s via %s" % (
        " and ".join(report["ingested"]), urn, report["lineage_listed_after_s"],
        ", test dataset deleted (%s rows)" % report["deleted_rows"] if report["deleted_rows"] is not None else "", via)
    result["lineage"] = "%s schema %s fields, upstream %s read back via %s" % (
        urn, report["schema_fields"], upstream, via)
    result["msg"] = "%s: %s" % (component, result["lineage"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
