# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Doris on Kubernetes: build a ``DorisCluster`` (``doris.selectdb.com/v1``), judge its status, and count live
Doris nodes over the FE's MySQL protocol.

Facts used (doris-operator 26.0.0: api/doris/v1/types.go, pkg/controller/sub_controller/sub_controller.go):

* each component present in the spec (``feSpec``, ``beSpec``, ``cnSpec``, ``brokerSpec``) gets a
  ``status.<x>Status`` with ``componentCondition.phase`` and ``runningInstances`` (pod names);
* ``available`` is set when all pods are Ready; ``haveMemberFailed`` when a pod is neither Ready nor
  Running/Pending (reason and message come from that pod), which can be transient (a restart), hence a grace
  period in the caller; there is no ``observedGeneration`` and no conditions list;
* a FE meta volume below 5G does not start (comment in doc/examples/doriscluster-sample-storageclass.yaml);
* ``authSecret`` names a ``kubernetes.io/basic-auth`` Secret (keys ``username`` (default root), ``password``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import re
import time
import uuid

from ansible_collections.lakehouse.platform.plugins.module_utils.quantity import (
    QuantityError,
    memory_bytes,
    parse_quantity,
)

try:
    import pymysql

    HAS_PYMYSQL = True
    PYMYSQL_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only where pymysql is absent
    pymysql = None
    HAS_PYMYSQL = False
    PYMYSQL_IMPORT_ERROR = exc

DORIS_API_VERSION = "doris.selectdb.com/v1"
DORIS_KIND = "DorisCluster"

COMPONENTS = ("fe", "be", "cn", "broker")
SPEC_KEYS = {"fe": "feSpec", "be": "beSpec", "cn": "cnSpec", "broker": "brokerSpec"}
STATUS_KEYS = {"fe": "feStatus", "be": "beStatus", "cn": "cnStatus", "broker": "brokerStatus"}

# Where the Doris images keep their data (doris-operator doc/examples/doriscluster-sample-storageclass.yaml).
# A CN runs the BE binary, so it uses the BE storage path. Brokers keep no data.
DATA_MOUNT_PATHS = {
    "fe": "/opt/apache-doris/fe/doris-meta",
    "be": "/opt/apache-doris/be/storage",
    "cn": "/opt/apache-doris/be/storage",
}
DATA_VOLUME_NAMES = {"fe": "fe-meta", "be": "be-storage", "cn": "cn-storage"}
FE_META_MINIMUM = "5Gi"

PHASE_AVAILABLE = "available"
PHASE_MEMBER_FAILED = "haveMemberFailed"

FE_QUERY_PORT = 9030
SHOW_FRONTENDS = "SHOW FRONTENDS"
SHOW_BACKENDS = "SHOW BACKENDS"
# SHOW BACKENDS lists CN nodes too; its NodeRole column tells them apart ("mix" = BE, "computation" = CN).
CN_NODE_ROLE = "computation"


class DorisSpecError(ValueError):
    """Invalid module input; the message starts with the option path (``fe.requests.memory``)."""


class DorisQueryError(Exception):
    """The FE could not be reached or queried; the message names host, port and user, never the password."""


class DorisAuthError(DorisQueryError):
    """The FE refused the credentials; polling again does not help."""


ER_ACCESS_DENIED = 1045  # MySQL protocol error of a refused password (Doris answers it too)


# --------------------------------------------------------------------------------------------- spec building


def _validate_resources(component, kind, resources):
    """Every value must be a valid, non-negative quantity; returns {name: Fraction}."""
    parsed = {}
    for resource_name, value in (resources or {}).items():
        path = "%s.%s.%s" % (component, kind, resource_name)
        try:
            parsed[resource_name] = parse_quantity(value)
        except QuantityError as exc:
            raise DorisSpecError("%s: %s" % (path, exc))
    return parsed


def validate_component(component, options):
    """Check one component's options (already type-checked by the argument spec) before anything is sent."""
    if component not in COMPONENTS:
        raise DorisSpecError("unknown Doris component %r" % component)
    if not options.get("image"):
        raise DorisSpecError("%s.image is required" % component)
    replicas = options.get("replicas")
    minimum_replicas = 1 if component == "fe" else 0
    if replicas is not None and replicas < minimum_replicas:
        raise DorisSpecError("%s.replicas must be at least %d, got %d" % (component, minimum_replicas, replicas))

    requests = _validate_resources(component, "requests", options.get("requests"))
    limits = _validate_resources(component, "limits", options.get("limits"))
    # The API server refuses a pod whose request exceeds its limit; say so now instead of after the rollout.
    for resource_name, request in requests.items():
        if resource_name in limits and request > limits[resource_name]:
            raise DorisSpecError(
                "%s.requests.%s (%s) exceeds %s.limits.%s (%s)"
                % (
                    component,
                    resource_name,
                    options["requests"][resource_name],
                    component,
                    resource_name,
                    options["limits"][resource_name],
                )
            )

    storage_size = options.get("storage_size")
    if storage_size is not None:
        if component not in DATA_MOUNT_PATHS:
            raise DorisSpecError("%s.storage_size: a %s keeps no data, it takes no volume" % (component, component))
        try:
            size = memory_bytes(storage_size)
        except QuantityError as exc:
            raise DorisSpecError("%s.storage_size: %s" % (component, exc))
        if size <= 0:
            raise DorisSpecError("%s.storage_size must be greater than zero" % component)
        # Refused rather than warned: the FE does not start on a smaller meta volume, and a PVC cannot shrink
        # later, so an undersized first apply would leave a cluster that needs its volumes deleted.
        if component == "fe" and size < memory_bytes(FE_META_MINIMUM):
            raise DorisSpecError(
                "fe.storage_size %s is below the %s minimum for the FE meta volume (the FE does not start on less)"
                % (storage_size, FE_META_MINIMUM)
            )
    elif options.get("storage_class"):
        raise DorisSpecError("%s.storage_class is set but %s.storage_size is not" % (component, component))

    election_number = options.get("election_number")
    if election_number is not None:
        if component != "fe":
            raise DorisSpecError("%s.election_number: only the FE has an election number" % component)
        if election_number < 1:
            raise DorisSpecError("fe.election_number must be at least 1, got %d" % election_number)
        if replicas is not None and election_number > replicas:
            raise DorisSpecError(
                "fe.election_number (%d) cannot exceed fe.replicas (%d): FEs beyond it become observers"
                % (election_number, replicas)
            )


def build_component_spec(component, options):
    """The ``<x>Spec`` of one component from the module's options (validated first)."""
    validate_component(component, options)
    spec = {"image": options["image"]}
    if options.get("replicas") is not None:
        spec["replicas"] = options["replicas"]
    if options.get("requests"):
        spec["requests"] = dict(options["requests"])
    if options.get("limits"):
        spec["limits"] = dict(options["limits"])
    if options.get("election_number") is not None:
        spec["electionNumber"] = options["election_number"]
    if options.get("storage_size") is not None:
        claim = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": options["storage_size"]}},
        }
        if options.get("storage_class"):
            claim["storageClassName"] = options["storage_class"]
        spec["persistentVolumes"] = [
            {
                "name": DATA_VOLUME_NAMES[component],
                "mountPath": DATA_MOUNT_PATHS[component],
                "persistentVolumeClaimSpec": claim,
            }
        ]
    return spec


def deep_merge(base, override):
    """``override`` merged into a copy of ``base``: dicts recursively, anything else replaced."""
    result = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def build_cluster(name, namespace, components, auth_secret=None, extra_spec=None, labels=None):
    """The DorisCluster definition.

    ``components`` maps component name -> options (None or absent = not deployed). ``extra_spec`` is merged
    underneath: fields this function sets from explicit options win over the pass-through.
    """
    if not components or not components.get("fe"):
        raise DorisSpecError("fe is required: a Doris cluster needs at least one FE")
    spec = {}
    for component in COMPONENTS:
        options = components.get(component)
        if options:
            spec[SPEC_KEYS[component]] = build_component_spec(component, options)
    if auth_secret:
        spec["authSecret"] = auth_secret
    spec = deep_merge(extra_spec or {}, spec)
    metadata = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": DORIS_API_VERSION, "kind": DORIS_KIND, "metadata": metadata, "spec": spec}


# --------------------------------------------------------------------------------------------- status


def components_in_spec(obj):
    spec = obj.get("spec") or {}
    return [c for c in COMPONENTS if spec.get(SPEC_KEYS[c]) is not None]


def component_report(obj, component):
    """Last known state of one component: phase, counts and the operator's reason/message."""
    component_spec = (obj.get("spec") or {}).get(SPEC_KEYS[component]) or {}
    status = (obj.get("status") or {}).get(STATUS_KEYS[component]) or {}
    condition = status.get("componentCondition") or {}
    return {
        "phase": condition.get("phase"),
        "replicas": component_spec.get("replicas"),
        "running": len(status.get("runningInstances") or []),
        "creating": len(status.get("creatingInstances") or []),
        "failed": len(status.get("failedInstances") or []),
        "failed_instances": list(status.get("failedInstances") or []),
        "reason": condition.get("reason"),
        "message": condition.get("message"),
        "access_service": status.get("accessService"),
    }


def component_ready(report):
    """available, and as many running pods as replicas (when the spec sets replicas; the operator defaults it
    otherwise and the phase alone is what is known)."""
    if report["phase"] != PHASE_AVAILABLE:
        return False
    return report["replicas"] is None or report["running"] == report["replicas"]


def component_reports(obj):
    return {c: component_report(obj, c) for c in components_in_spec(obj)}


def is_ready(obj):
    reports = component_reports(obj)
    return bool(reports) and all(component_ready(r) for r in reports.values())


def failure(obj):
    """A message naming every component in ``haveMemberFailed`` with its reason/message, else None.

    The caller decides how long it must persist (the operator also reports a restarting pod this way).
    """
    failures = []
    for component, report in component_reports(obj).items():
        if report["phase"] == PHASE_MEMBER_FAILED:
            detail = "%s: %s" % (report["reason"] or "no reason", report["message"] or "no message")
            if report["failed_instances"]:
                detail += " (failed pods: %s)" % ", ".join(report["failed_instances"])
            failures.append("%s haveMemberFailed: %s" % (component, detail))
    return "; ".join(failures) or None


def describe(obj):
    """One line with each component's last phase and counts, for timeout and failure messages."""
    reports = component_reports(obj)
    if not reports:
        return "no components in spec"
    parts = []
    for component, report in reports.items():
        text = "%s phase %s, running %d/%s" % (
            component,
            report["phase"] or "(none yet)",
            report["running"],
            "?" if report["replicas"] is None else report["replicas"],
        )
        if report["creating"]:
            text += ", creating %d" % report["creating"]
        if report["failed"]:
            text += ", failed %d" % report["failed"]
        if report["reason"] and report["phase"] != PHASE_AVAILABLE:
            text += " (%s)" % report["reason"]
        parts.append(text)
    return "; ".join(parts)


def fe_service_host(obj):
    """In-cluster DNS name of the FE access Service (``status.feStatus.accessService``, else ``<name>-fe-service``)."""
    service = ((obj.get("status") or {}).get("feStatus") or {}).get("accessService")
    service = service or "%s-fe-service" % obj["metadata"]["name"]
    return "%s.%s.svc" % (service, obj["metadata"]["namespace"])


def summary(obj):
    metadata = obj.get("metadata") or {}
    return {
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "uid": metadata.get("uid"),
        "generation": metadata.get("generation"),
        "components": components_in_spec(obj),
        "fe_service": fe_service_host(obj) if metadata.get("name") else None,
    }


# --------------------------------------------------------------------------------------------- FE over MySQL


def rows_as_dicts(description, rows):
    """DB-API ``cursor.description`` + rows -> list of {column name: value}."""
    names = [column[0] for column in description or ()]
    return [dict(zip(names, row)) for row in rows]


def _is_true(value):
    # Doris answers SHOW with text columns ("true"/"false"); accept real booleans and 1/0 too.
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip().lower() in ("true", "1", "yes")


def count_alive(rows):
    if rows and "Alive" not in rows[0]:
        raise DorisQueryError("the result has no Alive column (columns: %s)" % ", ".join(rows[0]))
    return sum(1 for row in rows if _is_true(row.get("Alive")))


def split_backends(rows):
    """(be_rows, cn_rows): SHOW BACKENDS lists both; NodeRole ``computation`` marks a CN."""
    be_rows, cn_rows = [], []
    for row in rows:
        role = row.get("NodeRole")
        if isinstance(role, bytes):
            role = role.decode("utf-8", "replace")
        (cn_rows if role == CN_NODE_ROLE else be_rows).append(row)
    return be_rows, cn_rows


def membership(frontends, backends):
    """Alive counts from SHOW FRONTENDS / SHOW BACKENDS rows, plus the nodes that are not alive."""
    be_rows, cn_rows = split_backends(backends)

    def dead(rows, name_column):
        return [
            {"name": row.get(name_column), "host": row.get("Host"), "error": row.get("ErrMsg")}
            for row in rows
            if not _is_true(row.get("Alive"))
        ]

    return {
        "fe_total": len(frontends),
        "fe_alive": count_alive(frontends),
        "be_total": len(be_rows),
        "be_alive": count_alive(be_rows),
        "cn_total": len(cn_rows),
        "cn_alive": count_alive(cn_rows),
        "not_alive": dead(frontends, "Name") + dead(backends, "BackendId"),
        "fe_master": next((row.get("Host") for row in frontends if _is_true(row.get("IsMaster"))), None),
    }


def query_rows(connection, statement):
    """Run one statement on a DB-API connection and return its rows as dicts keyed by column name."""
    cursor = connection.cursor()
    try:
        cursor.execute(statement)
        return rows_as_dicts(cursor.description, cursor.fetchall())
    finally:
        cursor.close()


def connect(host, port, user, password, connect_timeout=10):
    """A pymysql connection to a Doris FE (MySQL protocol); errors name the endpoint and user only."""
    if not HAS_PYMYSQL:
        raise DorisQueryError("the FE check needs the pymysql Python library: %s" % PYMYSQL_IMPORT_ERROR)
    try:
        return pymysql.connect(
            host=host,
            port=int(port),
            user=user,
            password=password or "",
            connect_timeout=connect_timeout,
            read_timeout=connect_timeout * 3,
            charset="utf8mb4",
            autocommit=True,
        )
    except pymysql.err.MySQLError as exc:
        error = DorisAuthError if exc.args and exc.args[0] == ER_ACCESS_DENIED else DorisQueryError
        raise error("cannot connect to the Doris FE at %s:%s as %r: %s" % (host, port, user, exc))


def read_membership(connection, frontends_sql=SHOW_FRONTENDS, backends_sql=SHOW_BACKENDS):
    """SHOW FRONTENDS + SHOW BACKENDS on an open connection -> ``membership()``.

    The statements are parameters only so that tests can point this same path at a stand-in server
    (Doris documents ``SHOW FRONTENDS`` as equivalent to ``SELECT * FROM FRONTENDS()``).
    """
    try:
        frontends = query_rows(connection, frontends_sql)
        backends = query_rows(connection, backends_sql)
    except Exception as exc:  # pymysql raises several unrelated classes; keep the server's message
        raise DorisQueryError("%s / %s failed: %s" % (frontends_sql, backends_sql, exc))
    return membership(frontends, backends)


def expected_mismatches(counts, expected):
    """Components whose alive count differs from the expected replicas, as readable strings."""
    mismatches = []
    for component in ("fe", "be", "cn"):
        if expected.get(component) is None:
            continue
        alive = counts["%s_alive" % component]
        if alive != expected[component]:
            mismatches.append("%s alive %d, expected %d" % (component, alive, expected[component]))
    return mismatches


def check_fe(connect_kwargs, expected, timeout, interval=2.0, frontends_sql=SHOW_FRONTENDS,
             backends_sql=SHOW_BACKENDS, clock=time.monotonic, sleep=time.sleep):
    """Poll the FE until the alive FE/BE/CN counts equal ``expected`` ({component: replicas}) or ``timeout``.

    Nodes register with the FE master a little after their pods turn Ready, so one early mismatch is normal.
    Returns (counts, mismatches); mismatches is empty on success. Connection errors are retried until the
    deadline, then raised.
    """
    deadline = clock() + timeout
    while True:
        try:
            connection = connect(**connect_kwargs)
            try:
                counts = read_membership(connection, frontends_sql, backends_sql)
            finally:
                connection.close()
            mismatches = expected_mismatches(counts, expected)
            if not mismatches:
                return counts, []
        except DorisQueryError:
            if clock() >= deadline:
                raise
            counts, mismatches = None, None
        if clock() >= deadline:
            return counts, mismatches
        sleep(interval)


# --------------------------------------------------------------------------------------------- SQL runners
#
# The same statements run over two transports, chosen by the caller:
#
# * MySQLRunner: the FE's MySQL protocol port (9030) with pymysql, at an address the controller reaches;
# * HttpSqlRunner: Doris' SQL HTTP API on the FE's HTTP port (8030), ``POST /api/query/<ns>/<db>`` with
#   ``{"stmt": ...}`` and HTTP basic auth (fe-core httpv2/rest/StmtExecutionAction.java). The FE answers
#   HTTP 200 for everything and puts the outcome in the body (httpv2/entity/ResponseEntityBuilder.java,
#   httpv2/rest/RestApiStatusCode.java): ``code`` 0 with ``data`` ``{"type": "result_set", "meta": [{name,
#   type}], "data": [[...]]}`` or ``{"type": "exec_status", "status": {}}`` (httpv2/util/StatementSubmitter.java,
#   which runs the statement through the FE's own MySQL port with the caller's user and password); code 401
#   ("Unauthorized") when the password is refused or no Authorization header came; code 1 ("Error") with
#   ``"Failed to execute sql: ..."`` when the statement failed; code 403 ("Bad Request") without a statement.
#
# Neither can go through the Kubernetes API server's service proxy: the MySQL protocol is not HTTP, and
# kube-apiserver removes the Authorization header of every request it authenticated before it proxies it
# (k8s.io/apiserver endpoints/filters/authentication.go, kubernetes/kubernetes#38775), so the FE never sees
# the Doris credentials. What the FE answers without credentials through the proxy is ``GET /api/health``
# (httpv2/rest/HealthAction.java: online/total backend counts; no password unless the FE sets
# enable_all_http_auth), which ``health_counts()`` reads.

FE_HTTP_PORT = 8030
# "default_cluster" is mapped to the internal catalog by StmtExecutionAction; the database in the path becomes
# the session's default database and must exist (StatementSubmitter connects to it), hence information_schema,
# with every table name qualified.
SQL_API_PATH = "/api/query/default_cluster/%s"
SQL_API_DATABASE = "information_schema"
HEALTH_PATH = "/api/health"
SQL_API_ROW_LIMIT = 1000


class DorisUnreachable(DorisQueryError):
    """The FE was not reached (its message starts with ``not reachable:``)."""


class SqlResult(object):
    """One statement's outcome: ``columns`` and ``rows`` (lists) for a result set, else ``kind`` exec_status."""

    def __init__(self, kind, columns=None, rows=None):
        self.kind = kind
        self.columns = list(columns or [])
        self.rows = [list(row) for row in rows or []]

    def dicts(self):
        return [dict(zip(self.columns, row)) for row in self.rows]


def _excerpt(text, limit=300):
    text = " ".join(("%s" % text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def parse_sql_api_answer(status, document, content, statement, via):
    """The FE's answer to one SQL HTTP API request -> SqlResult; raises DorisQueryError / DorisAuthError."""
    asked = "%s via %s" % (statement, via)
    if status != 200 or not isinstance(document, dict) or "code" not in document:
        raise DorisQueryError("%s answered HTTP %s, not a Doris SQL API document: %s"
                              % (asked, status, _excerpt(content) or "(empty body)"))
    code, data = document.get("code"), document.get("data")
    if code == 401:
        raise DorisAuthError("%s answered code 401 %s: %s" % (asked, document.get("msg"), _excerpt(data)))
    if code != 0:
        raise DorisQueryError("%s answered code %s %s: %s" % (asked, code, document.get("msg"), _excerpt(data)))
    if not isinstance(data, dict) or data.get("type") not in ("result_set", "exec_status"):
        raise DorisQueryError("%s answered code 0 without a result_set or exec_status: %s" % (asked, _excerpt(content)))
    if data["type"] == "exec_status":
        return SqlResult("exec_status")
    columns = [column.get("name") for column in data.get("meta") or []]
    return SqlResult("result_set", columns, data.get("data") or [])


class HttpSqlRunner(object):
    """Statements through Doris' SQL HTTP API. ``send(path, body, headers)`` returns a service_proxy
    ServiceResponse or raises service_proxy.Unreachable (``request_url`` bound to the FE's URL)."""

    def __init__(self, send, user, password, via, unreachable_errors=(), database=SQL_API_DATABASE):
        self.send, self.via, self.path = send, via, SQL_API_PATH % database
        self.unreachable_errors = tuple(unreachable_errors)
        token = base64.b64encode(("%s:%s" % (user, password or "")).encode("utf-8")).decode("ascii")
        self.headers = {"Authorization": "Basic " + token, "Content-Type": "application/json",
                        "Accept": "application/json"}
        self.token = token

    def execute(self, statement):
        body = json.dumps({"stmt": statement, "limit": SQL_API_ROW_LIMIT}).encode("utf-8")
        try:
            answer = self.send(self.path, body, dict(self.headers))
        except self.unreachable_errors as exc:  # service_proxy.Unreachable: "not reachable: <why>"
            raise DorisUnreachable("%s (%s via %s)" % (exc, statement, self.via))
        return parse_sql_api_answer(answer.status, answer.json, answer.content, statement, self.via)

    def close(self):
        pass


class MySQLRunner(object):
    """Statements over the FE's MySQL protocol (pymysql), one connection for the runner's life."""

    def __init__(self, connect_kwargs):
        self.connect_kwargs = connect_kwargs
        self.via = "mysql %s:%s" % (connect_kwargs["host"], connect_kwargs["port"])
        self.connection = None

    def execute(self, statement):
        if self.connection is None:
            self.connection = connect(**self.connect_kwargs)
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement)
            if cursor.description is None:
                return SqlResult("exec_status")
            return SqlResult("result_set", [column[0] for column in cursor.description], cursor.fetchall())
        except pymysql.err.MySQLError as exc:
            raise DorisQueryError("%s via %s answered: %s" % (statement, self.via, exc))
        finally:
            cursor.close()

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# The FE image's mysql client, as the runbook ran it (kubectl exec doris-fe-0 -- mysql -h 127.0.0.1 -P 9030 -u root
# -e "SHOW FRONTENDS"): the password is read from stdin into MYSQL_PWD (never in the command, which the API server
# logs); --batch prints tab-separated rows under a header line (nothing at all for an empty result).
EXEC_SCRIPT = 'IFS= read -r MYSQL_PWD; export MYSQL_PWD; exec mysql -h 127.0.0.1 -P "$1" -u "$2" --batch -e "$3"'
_BATCH_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "0": "\0"}
_AUTH_REFUSED = ("ERROR 1045", "Access denied")


def _unescape_batch(value):
    if value == "NULL":
        return None
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append(_BATCH_ESCAPES.get(nxt, "\\" + nxt))
        else:
            out.append(char)
    return "".join(out)


def parse_batch_output(text):
    """``mysql --batch`` output -> SqlResult: a header line and tab-separated rows, or nothing (no result set or
    an empty one: both read as no rows)."""
    lines = [line for line in (text or "").split("\n") if line != ""]
    if not lines:
        return SqlResult("result_set", [], [])
    columns = lines[0].split("\t")
    return SqlResult("result_set", columns, [[_unescape_batch(v) for v in line.split("\t")] for line in lines[1:]])


class ExecSqlRunner(object):
    """Statements through the FE container's mysql client, over pod exec. ``run(argv, stdin)`` returns an
    object with rc, stdout, stderr (module_utils.pod_exec.run bound to the pod) or raises ``unreachable_errors``."""

    def __init__(self, run, user, password, port, via, unreachable_errors=()):
        self.run, self.user, self.password, self.port, self.via = run, user, password, port, via
        self.unreachable_errors = tuple(unreachable_errors)

    def execute(self, statement):
        command = ["sh", "-c", EXEC_SCRIPT, "doris-sql", str(self.port), self.user, statement]
        try:
            result = self.run(command, (self.password or "") + "\n")
        except self.unreachable_errors as exc:  # service_proxy.Unreachable: "not reachable: <why>"
            raise DorisUnreachable("%s (%s via %s)" % (exc, statement, self.via))
        if result.rc != 0:
            answer = _excerpt(result.stderr or result.stdout or result.message or "(no output)")
            error = DorisAuthError if any(mark in (result.stderr or "") for mark in _AUTH_REFUSED) else DorisQueryError
            raise error("%s via %s exited %s: %s" % (statement, self.via, result.rc, answer))
        return parse_batch_output(result.stdout)

    def close(self):
        pass


def read_membership_via(runner, frontends_sql=SHOW_FRONTENDS, backends_sql=SHOW_BACKENDS):
    """SHOW FRONTENDS + SHOW BACKENDS through a runner -> ``membership()``."""
    frontends = runner.execute(frontends_sql).dicts()
    backends = runner.execute(backends_sql).dicts()
    return membership(frontends, backends)


UNREACHABLE_GRACE = 10  # seconds a FE whose pods are Ready may stay unreached (endpoints catching up)


def poll(attempt, timeout, interval=2.0, clock=time.monotonic, sleep=time.sleep, unreachable_grace=UNREACHABLE_GRACE):
    """Call ``attempt()`` -> (value, done) until done or ``timeout``; returns the last (value, done).

    DorisQueryError is retried until the deadline, then raised; DorisAuthError is raised at once; DorisUnreachable
    only within ``unreachable_grace`` (the caller waited for Ready pods first, so a FE not reached stays so; pod exec
    passes 0: a Running pod the API server cannot exec into does not become reachable by waiting).
    """
    started = clock()
    deadline = started + timeout
    while True:
        try:
            value, done = attempt()
            if done:
                return value, True
        except DorisAuthError:
            raise
        except DorisUnreachable:
            if clock() >= min(deadline, started + unreachable_grace):
                raise
            value, done = None, False
        except DorisQueryError:
            if clock() >= deadline:
                raise
            value, done = None, False
        if clock() >= deadline:
            return value, done
        sleep(interval)


def health_counts(answer, via):
    """``GET /api/health`` of a FE -> {"be_online": n, "be_total": n}; raises DorisQueryError otherwise."""
    asked = "GET %s via %s" % (HEALTH_PATH, via)
    document = answer.json
    if answer.status != 200 or not isinstance(document, dict):
        raise DorisQueryError("%s answered HTTP %s: %s" % (asked, answer.status, _excerpt(answer.content) or "(empty)"))
    if document.get("code") == 401:
        raise DorisAuthError("%s answered code 401 %s: %s (the FE sets enable_all_http_auth; give fe_check.url "
                             "or fe_check.host)" % (asked, document.get("msg"), _excerpt(document.get("data"))))
    data = document.get("data")
    if document.get("code") != 0 or not isinstance(data, dict) or "online_backend_num" not in data:
        raise DorisQueryError("%s answered code %s %s: %s" % (asked, document.get("code"), document.get("msg"),
                                                              _excerpt(data if data is not None else answer.content)))
    return {"be_online": int(data["online_backend_num"]), "be_total": int(data["total_backend_num"])}


# --------------------------------------------------------------------------------------------- round trip

ROUND_TRIP_TABLE = "lakehouse_check"
ROUND_TRIP_ROWS = ((1, "lakehouse"), (2, "platform"), (3, "doris"))
MAX_REPLICATION_NUM = 3  # Doris' default replica count; it must not exceed the number of backends
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def replication_num(backends):
    """Replicas of the test table: min(backends, 3), at least 1 (Doris refuses more replicas than backends)."""
    return max(1, min(int(backends or 1), MAX_REPLICATION_NUM))


def round_trip_database(prefix):
    """A database name unique to this run: ``<prefix>_<8 hex>``."""
    name = "%s_%s" % (prefix, uuid.uuid4().hex[:8])
    if not _IDENTIFIER.match(name):
        raise DorisSpecError("fe_check.database_prefix %r does not make a Doris database name (letters, digits, _; "
                             "starting with a letter)" % prefix)
    return name


def round_trip_statements(database, table, replicas, rows=ROUND_TRIP_ROWS):
    """The Doris statements of the round trip, by step."""
    qualified = "%s.%s" % (database, table)
    values = ", ".join("(%d, '%s')" % (row_id, name.replace("'", "''")) for row_id, name in rows)
    return {
        "create_database": "CREATE DATABASE %s" % database,
        "create_table": ("CREATE TABLE %s (id INT NOT NULL, name VARCHAR(64)) DUPLICATE KEY(id) "
                         "DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES (\"replication_num\" = \"%d\")"
                         % (qualified, replicas)),
        "insert": "INSERT INTO %s (id, name) VALUES %s" % (qualified, values),
        "select": "SELECT id, name FROM %s ORDER BY id" % qualified,
        "drop": "DROP DATABASE IF EXISTS %s FORCE" % database,
        "check_dropped": "SHOW DATABASES LIKE '%s'" % database,
    }


def _normalized(rows):
    out = []
    for row in rows:
        values = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in row]
        try:
            out.append((int(values[0]), "%s" % values[1]))
        except (TypeError, ValueError, IndexError):
            out.append(tuple(values))
    return out


def round_trip(runner, database, table=ROUND_TRIP_TABLE, replicas=1, rows=ROUND_TRIP_ROWS):
    """Create a database and a table, insert ``rows``, read them back, drop the database (also on failure).

    Returns {database, table, written, read_back, dropped, replication_num}; raises DorisQueryError naming the
    statement and the answer when a step fails or the rows read back differ (the drop still runs).
    """
    statements = round_trip_statements(database, table, replicas, rows)
    report = {"database": database, "table": table, "written": 0, "read_back": 0, "dropped": False,
              "replication_num": replicas}
    failure = None
    try:
        runner.execute(statements["create_database"])
        runner.execute(statements["create_table"])
        runner.execute(statements["insert"])
        report["written"] = len(rows)
        read = _normalized(runner.execute(statements["select"]).rows)
        report["read_back"] = len(read)
        if read != list(rows):
            failure = DorisQueryError("%s via %s read back %d rows, %d were written: got %s, expected %s"
                                      % (statements["select"], runner.via, len(read), len(rows), read, list(rows)))
    except DorisQueryError as exc:
        failure = exc
    try:
        runner.execute(statements["drop"])
        left = runner.execute(statements["check_dropped"]).rows
        report["dropped"] = not left
        if left and failure is None:
            failure = DorisQueryError("%s via %s still lists the database after %s"
                                      % (statements["check_dropped"], runner.via, statements["drop"]))
    except DorisQueryError as exc:
        if failure is None:
            failure = exc
        else:
            failure = type(failure)("%s; cleaning up failed too: %s" % (failure, exc))
    if failure is not None:
        failure.report = report
        raise failure
    return report
