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

import copy
import time

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
        raise DorisQueryError("cannot connect to the Doris FE at %s:%s as %r: %s" % (host, port, user, exc))


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
