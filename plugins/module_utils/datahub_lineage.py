# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DataHub's integration test (phase 3, "create test dataset and verify lineage"), with acryl-datahub.

``LineageProbe.run()`` performs, with acryl-datahub's own client (``DataHubGraph``, a ``DataHubRestEmitter``):

1. ``GET /config``: the server is DataHub GMS (``noCode``) and answers;
2. ``POST /aspects?action=ingestProposal`` (Rest.li, sync): a test dataset's ``schemaMetadata`` and its
   ``upstreamLineage`` with one edge to the upstream dataset (the phase-1 Iceberg table);
3. ``GET /aspects/<urn>?aspect=...``: both aspects read back from GMS's primary store and compared;
4. ``GET /openapi/relationships/v1/?urn=<upstream>&direction=INCOMING&relationshipTypes=DownstreamOf``: the edge
   read back from the graph index, what DataHub's lineage view reads (written by the MAE consumer, so polled);
5. ``POST /entities?action=delete`` (hard delete) of the test dataset and ``GET`` of its key aspect: gone.

Reaching GMS: with a URL the library's own requests transport goes there. Through the Kubernetes API server's
service proxy, ``ServiceProxyAdapter`` (a requests transport adapter mounted on the library's session for the
proxy base URL) hands each request to ``service_proxy.request_via_proxy``, so the API server is reached with
kubernetes.core's client, TLS settings and bearer token, exactly as lakehouse.platform.k8s_service_request does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import logging
import os
import time
import traceback

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.parse import parse_qs, unquote, urlsplit

from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import (
    CONTENT_EXCERPT,
    Unreachable,
    request_via_proxy,
)

# acryl-datahub instantiates its telemetry on import (it writes ~/.datahub/telemetry-config.json); nothing here
# sends telemetry, and this keeps a first import from switching it on for the controller's user.
os.environ.setdefault("DATAHUB_TELEMETRY_ENABLED", "false")

DATAHUB_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import BaseAdapter
    from requests.structures import CaseInsensitiveDict

    from datahub.configuration.common import ConfigurationError, OperationalError
    from datahub.emitter.mce_builder import make_dataset_urn
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.ingestion.graph.client import DataHubGraph, DatahubClientConfig
    from datahub.metadata.schema_classes import (
        AuditStampClass,
        BooleanTypeClass,
        DatasetKeyClass,
        DatasetLineageTypeClass,
        DateTypeClass,
        NumberTypeClass,
        OtherSchemaClass,
        SchemaFieldClass,
        SchemaFieldDataTypeClass,
        SchemaMetadataClass,
        StringTypeClass,
        TimeTypeClass,
        UpstreamClass,
        UpstreamLineageClass,
    )

    ConnectionErrorBase = requests.exceptions.ConnectionError
    HAS_DATAHUB = True
    logging.getLogger("datahub").addHandler(logging.NullHandler())
    logging.getLogger("datahub").propagate = False  # never on the module's stderr (messages carry no secret, but noise)
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_DATAHUB = False
    DATAHUB_IMPORT_ERROR = traceback.format_exc()
    BaseAdapter = object
    ConnectionErrorBase = IOError

# Native (Iceberg) column types -> DataHub's SchemaFieldDataType; the phase-1 check table uses long, string, double.
FIELD_TYPES = {
    "boolean": "boolean", "int": "number", "integer": "number", "long": "number", "bigint": "number",
    "float": "number", "double": "number", "decimal": "number", "string": "string", "varchar": "string",
    "uuid": "string", "binary": "string", "date": "date", "time": "time", "timestamp": "time",
    "timestamptz": "time",
}


class ProbeFailed(Exception):
    """The probe failed: ``unreachable`` is set when GMS was not reached (the message starts ``not reachable:``)."""

    def __init__(self, message, unreachable=False):
        super(ProbeFailed, self).__init__(message)
        self.unreachable = unreachable


class ProxyUnreachable(ConnectionErrorBase):
    """The API server did not reach the Service (a requests ConnectionError): ``unreachable`` is service_proxy's."""

    def __init__(self, unreachable, request=None):
        super(ProxyUnreachable, self).__init__(to_native(unreachable), request=request)
        self.unreachable = unreachable


def _answer(text):
    """What GMS said: the message of a Rest.li (or OpenAPI) error document, else an excerpt of the body."""
    try:
        document = json.loads(text or "")
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("message"), str) and document["message"]:
        return _excerpt(document["message"])
    return _excerpt(text)


def _excerpt(text):
    text = " ".join(to_text(text or "", errors="surrogate_or_replace").split())
    return text if len(text) <= CONTENT_EXCERPT else text[:CONTENT_EXCERPT] + "..."


class ServiceProxyAdapter(BaseAdapter):
    """A requests transport adapter sending the library's requests through the API server's service proxy.

    Mounted on the library's session for ``base_url`` (the proxy URL of the Service); the rest of the URL is the
    path on GMS. The library's own headers go along, except Authorization (the API server authenticates the
    caller with kubernetes.core's credentials and removes that header, so a backend never sees one).
    """

    def __init__(self, kube_client, namespace, service, port, scheme, base_url):
        super(ServiceProxyAdapter, self).__init__()
        self.kube_client, self.namespace, self.service, self.port, self.scheme = (
            kube_client, namespace, service, port, scheme)
        self.base_path = urlsplit(base_url).path.rstrip("/")

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        parts = urlsplit(request.url)
        path = parts.path[len(self.base_path):] if parts.path.startswith(self.base_path) else parts.path
        query = parse_qs(parts.query, keep_blank_values=True) if parts.query else None
        headers = dict((k, v) for k, v in request.headers.items()
                       if k.lower() not in ("authorization", "content-length", "host", "connection", "accept-encoding"))
        if isinstance(timeout, tuple):
            connect_timeout, read_timeout = timeout
        else:
            connect_timeout = read_timeout = timeout or 30
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            answer = request_via_proxy(self.kube_client, self.namespace, self.service, self.port, path or "/",
                                       request.method, self.scheme, query, body, headers,
                                       timeout=read_timeout or 30, connect_timeout=min(connect_timeout or 10, 10))
        except Unreachable as e:
            raise ProxyUnreachable(e, request=request)
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.content.encode("utf-8")
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        response.reason = ""
        return response

    def close(self):
        pass


def _unreachable_in(err):
    """The service_proxy Unreachable behind an exception the library raised or wrapped, else None."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, ProxyUnreachable):
            return err.unreachable
        err = err.__cause__ or err.__context__
        seen += 1
    return None


def _connection_error_in(err):
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            return err
        err = err.__cause__ or err.__context__
        seen += 1
    return None


def schema_fields(fields):
    """SchemaFieldClass list for [{name, type, description}] (types checked by the module first)."""
    kinds = {"number": NumberTypeClass, "string": StringTypeClass, "boolean": BooleanTypeClass,
             "date": DateTypeClass, "time": TimeTypeClass}
    made = []
    for field in fields:
        kind = kinds[FIELD_TYPES[field["type"].lower()]]
        made.append(SchemaFieldClass(fieldPath=field["name"], nativeDataType=field["type"],
                                     type=SchemaFieldDataTypeClass(type=kind()), nullable=True,
                                     description=field.get("description") or None))
    return made


class LineageProbe(object):
    """One run of the test: emit, read back, verify the edge, delete. ``via`` says how GMS is reached."""

    def __init__(self, component, graph, via, dataset_urn, upstream_urn, fields, platform, lineage_timeout=60,
                 poll_interval=1.0, cleanup=True):
        self.component, self.graph, self.via = component, graph, via
        self.dataset_urn, self.upstream_urn = dataset_urn, upstream_urn
        self.fields, self.platform = fields, platform
        self.lineage_timeout, self.poll_interval, self.cleanup = lineage_timeout, poll_interval, cleanup
        self.last = None  # (method, path, status, text) of the latest answer GMS gave
        self.sent = False
        self.report = {"ingested": [], "schema_fields": None, "upstreams": [], "lineage_listed_after_s": None,
                       "deleted_rows": None, "requests": 0}
        graph._session.hooks.setdefault("response", []).append(self._record)

    # -- bookkeeping ----------------------------------------------------------------------------------------
    def _record(self, response, *args, **kwargs):
        parts = urlsplit(response.url or "")
        path = parts.path[len(self._base_path()):] if parts.path.startswith(self._base_path()) else parts.path
        self.last = (response.request.method if response.request is not None else "", unquote(path)
                     + ("?" + unquote(parts.query) if parts.query else ""), response.status_code, response.text)
        self.report["requests"] += 1
        return response

    def _base_path(self):
        return urlsplit(self.graph._gms_server).path.rstrip("/")

    def _fail(self, asked, err=None, what=""):
        """ProbeFailed naming the component, the request, the way in and what came back."""
        unreachable = _unreachable_in(err) if err is not None else None
        if unreachable is not None:
            return ProbeFailed("%s (%s via %s)" % (to_native(unreachable), asked, self.via), unreachable=True)
        connection = _connection_error_in(err) if err is not None else None
        if connection is not None:
            return ProbeFailed("not reachable: GMS did not answer: %s (%s via %s)" % (
                _excerpt(to_native(connection)), asked, self.via), unreachable=True)
        if self.last is not None and self.last[2] >= 400:
            method, path, status, text = self.last
            return ProbeFailed("%s: %s via %s answered HTTP %d: %s" % (
                self.component, asked, self.via, status, _answer(text) or "(empty body)"))
        said = what or _excerpt(to_native(err)) or type(err).__name__
        return ProbeFailed("%s: %s via %s: %s" % (self.component, asked, self.via, said))

    # -- the steps ------------------------------------------------------------------------------------------
    def run(self):
        self.last = None
        try:
            self.graph.fetch_server_config()
        except (ConfigurationError, requests.exceptions.RequestException, OperationalError) as e:
            raise self._fail("GET /config", e)
        failure = None
        try:
            self._emit()
            self._read_back()
            self._lineage_edge()
        except ProbeFailed as e:
            failure = e
        if self.cleanup and self.sent:
            try:
                self._delete()
            except ProbeFailed as e:
                failure = failure or e
        if failure is not None:
            raise failure
        return self.report

    def _emit(self):
        now = int(time.time() * 1000)
        stamp = AuditStampClass(time=now, actor="urn:li:corpuser:datahub")
        schema = SchemaMetadataClass(
            schemaName=self.dataset_urn.split(",")[1], platform="urn:li:dataPlatform:%s" % self.platform,
            version=0, hash="", platformSchema=OtherSchemaClass(rawSchema=""), fields=schema_fields(self.fields),
            created=stamp, lastModified=stamp)
        lineage = UpstreamLineageClass(upstreams=[UpstreamClass(dataset=self.upstream_urn, auditStamp=stamp,
                                                                type=DatasetLineageTypeClass.TRANSFORMED)])
        for aspect in (schema, lineage):
            asked = "POST /aspects?action=ingestProposal (%s of %s)" % (aspect.ASPECT_NAME, self.dataset_urn)
            self.sent, self.last = True, None
            try:
                self.graph.emit_mcp(MetadataChangeProposalWrapper(entityUrn=self.dataset_urn, aspect=aspect))
            except (OperationalError, requests.exceptions.RequestException) as e:
                raise self._fail(asked, e)
            self.report["ingested"].append(aspect.ASPECT_NAME)

    def _get(self, aspect_class):
        asked = "GET /aspects/%s?aspect=%s" % (self.dataset_urn, aspect_class.ASPECT_NAME)
        self.last = None
        try:
            return asked, self.graph.get_aspect(self.dataset_urn, aspect_class)
        except Exception as e:  # noqa: BLE001 - OperationalError, requests' errors, the library's GraphError
            raise self._fail(asked, e)

    def _read_back(self):
        asked, schema = self._get(SchemaMetadataClass)
        if schema is None:
            raise ProbeFailed("%s: metadata not read back: %s via %s answered HTTP 404 after the ingest" % (
                self.component, asked, self.via))
        got = [field.fieldPath for field in schema.fields]
        wanted = [field["name"] for field in self.fields]
        if got != wanted:
            raise ProbeFailed("%s: metadata not read back: %s via %s answered fields %s, ingested %s" % (
                self.component, asked, self.via, got, wanted))
        self.report["schema_fields"] = len(got)
        asked, lineage = self._get(UpstreamLineageClass)
        upstreams = [upstream.dataset for upstream in (lineage.upstreams if lineage is not None else [])]
        self.report["upstreams"] = upstreams
        if self.upstream_urn not in upstreams:
            raise ProbeFailed("%s: lineage not read back: %s via %s answered %s, expected upstream %s" % (
                self.component, asked, self.via,
                "HTTP 404" if lineage is None else "upstreams %s" % (upstreams or "[]"), self.upstream_urn))

    def _lineage_edge(self):
        asked = "GET /openapi/relationships/v1/?urn=%s&direction=INCOMING&relationshipTypes=DownstreamOf" % (
            self.upstream_urn)
        started = time.time()
        while True:
            self.last = None
            try:
                listed = [entity.urn for entity in self.graph.get_related_entities(
                    self.upstream_urn, ["DownstreamOf"], DataHubGraph.RelationshipDirection.INCOMING)]
            except (OperationalError, requests.exceptions.RequestException) as e:
                raise self._fail(asked, e)
            if self.dataset_urn in listed:
                self.report["lineage_listed_after_s"] = round(time.time() - started, 1)
                return
            if time.time() - started >= self.lineage_timeout:
                raise ProbeFailed(
                    "%s: lineage not read back: %s via %s listed %s for %d s, not %s (the upstreamLineage aspect "
                    "was stored; the graph index is written by the MAE consumer from the metadata change log: is "
                    "it running and is Kafka reachable?)" % (
                        self.component, asked, self.via, listed or "nothing", self.lineage_timeout, self.dataset_urn))
            time.sleep(self.poll_interval)

    def _delete(self):
        asked = "POST /entities?action=delete (%s)" % self.dataset_urn
        self.last = None
        try:
            rows, _timeseries = self.graph.hard_delete_entity(self.dataset_urn)
        except (OperationalError, requests.exceptions.RequestException) as e:
            raise self._fail("cleanup: " + asked, e)
        self.report["deleted_rows"] = rows
        asked, key = self._get(DatasetKeyClass)
        if key is not None:
            raise ProbeFailed("%s: cleanup: %s via %s still answers after %s deleted %d rows" % (
                self.component, asked, self.via, self.dataset_urn, rows))


def proxy_graph(kube_client, namespace, service, port, scheme, timeout):
    """DataHubGraph whose requests go through the API server's service proxy of the GMS Service."""
    from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import proxy_path

    host = kube_client.dynamic.client.configuration.host.rstrip("/")
    base = host + proxy_path(namespace, service, port, "https" if scheme == "https" else "http", "/").rstrip("/")
    graph = DataHubGraph(DatahubClientConfig(server=base, timeout_sec=timeout, retry_max_times=0,
                                             openapi_ingestion=False))
    graph._session.mount(base + "/", ServiceProxyAdapter(kube_client, namespace, service, port,
                                                         "https" if scheme == "https" else "http", base))
    return graph


def url_graph(url, token, validate_certs, timeout):
    """DataHubGraph on the library's own transport to an explicit GMS URL (the token as its Bearer header)."""
    return DataHubGraph(DatahubClientConfig(server=url.rstrip("/"), token=token or None, timeout_sec=timeout,
                                            retry_max_times=0, openapi_ingestion=False,
                                            disable_ssl_verification=not validate_certs))


def dataset_urn(platform, name, env):
    return make_dataset_urn(platform, name, env)
