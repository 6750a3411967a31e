# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Iceberg table operations check (phase 1, objective 1.3), performed with pyiceberg.

Creates a namespace and a table, appends rows, evolves the schema (adds a column, renames a column),
appends again, reads the first snapshot back with the schema it was written with (time travel), and drops
what it created. Every step is timed and its outcome recorded, so a failure names the step that broke.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
import traceback

PYICEBERG_IMPORT_ERROR = None
try:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyiceberg.catalog import load_catalog
    from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError
    from pyiceberg.types import StringType
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    PYICEBERG_IMPORT_ERROR = traceback.format_exc()

# The check's schema: version 1, then the evolution applied between the two appends.
ORIGINAL_COLUMNS = ("id", "name", "amount")
ADDED_COLUMN = "category"
RENAMED_COLUMN = ("name", "label")


class IcebergCheckError(Exception):
    """A failed step of the check; `step` names it and `report` holds what was done so far."""

    def __init__(self, step, message, report):
        super(IcebergCheckError, self).__init__("Iceberg check failed at step '%s': %s" % (step, message))
        self.step = step
        self.report = report


def catalog_properties(catalog_type, uri, warehouse, s3_endpoint=None, s3_access_key=None, s3_secret_key=None,
                       s3_region="us-east-1", s3_path_style=True, catalog_password=None):
    """pyiceberg catalog properties. Secrets go in here and nowhere else (never into the result)."""
    props = {"type": catalog_type, "uri": uri, "warehouse": warehouse}
    if catalog_type == "sql":
        if catalog_password:
            props["uri"] = _url_with_password(uri, catalog_password)
        props["init_catalog_tables"] = "true"
    if s3_endpoint:
        props["s3.endpoint"] = s3_endpoint
    if s3_access_key:
        props["s3.access-key-id"] = s3_access_key
    if s3_secret_key:
        props["s3.secret-access-key"] = s3_secret_key
    if s3_region:
        props["s3.region"] = s3_region
        props["s3.resolve-region"] = "false"
    # Ceph RGW buckets are addressed by path (http://rgw/bucket/key), not as virtual hosts.
    props["s3.force-virtual-addressing"] = "false" if s3_path_style else "true"
    return props


def s3_checksums_when_required():
    """Ask the AWS SDKs (pyarrow's C++ SDK and botocore both read these) to send checksums only when an
    operation requires them.

    Their newer default streams every upload as aws-chunked with a trailing CRC and no Content-Length,
    which Ceph RGW before Reef (Pacific 16.2 answers HTTP 411 MissingContentLength) rejects. Must run before
    the first S3 client is created; the module process is fresh per task, so this affects only this check.
    """
    os.environ["AWS_REQUEST_CHECKSUM_CALCULATION"] = "WHEN_REQUIRED"
    os.environ["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "WHEN_REQUIRED"


def _url_with_password(uri, password):
    from sqlalchemy.engine import make_url

    return make_url(uri).set(password=password).render_as_string(hide_password=False)


def schema_to_list(schema):
    return [{"id": field.field_id, "name": field.name, "type": str(field.field_type), "required": field.required}
            for field in schema.fields]


def namespace_location(warehouse, namespace):
    return "%s/%s.db" % (warehouse.rstrip("/"), namespace)


def _batch(first_id, count, evolved):
    ids = list(range(first_id, first_id + count))
    columns = {"id": pa.array(ids, pa.int64())}
    label = RENAMED_COLUMN[1] if evolved else RENAMED_COLUMN[0]
    columns[label] = pa.array(["row-%d" % i for i in ids], pa.string())
    columns["amount"] = pa.array([i * 1.5 for i in ids], pa.float64())
    if evolved:
        columns[ADDED_COLUMN] = pa.array(["cat-%d" % (i % 3) for i in ids], pa.string())
    return pa.table(columns)


class TableCheck(object):
    """Runs the steps against one catalog; `report` accumulates the result."""

    def __init__(self, catalog, namespace, table, rows, warehouse, clock=time.monotonic):
        self.catalog = catalog
        self.namespace = namespace
        self.identifier = "%s.%s" % (namespace, table)
        self.rows = rows
        self.warehouse = warehouse
        self.clock = clock
        self.report = {"namespace": namespace, "table": self.identifier, "steps": [], "namespace_created": False,
                       "leftover_table_dropped": False, "table_dropped": False, "namespace_dropped": False}

    def _step(self, name, func):
        started = self.clock()
        try:
            value = func()
        except Exception as exc:  # every pyiceberg/pyarrow/IO error: name the step, keep what we know
            self.report["steps"].append({"name": name, "ok": False,
                                         "elapsed_ms": int((self.clock() - started) * 1000)})
            raise IcebergCheckError(name, "%s: %s" % (type(exc).__name__, exc), self.report)
        self.report["steps"].append({"name": name, "ok": True, "elapsed_ms": int((self.clock() - started) * 1000)})
        return value

    def _ensure_namespace(self):
        try:
            self.catalog.create_namespace(self.namespace,
                                          {"location": namespace_location(self.warehouse, self.namespace)})
            self.report["namespace_created"] = True
        except NamespaceAlreadyExistsError:
            pass

    def _drop_leftover(self):
        # A previous run that failed before cleanup may have left the table; start from nothing.
        self.report["leftover_table_dropped"] = self._purge()

    def _purge(self):
        """Drop the check table and delete its files; False when there was no table."""
        try:
            table = self.catalog.load_table(self.identifier)
        except NoSuchTableError:
            return False
        if can_remove_locations(table.io):
            # Every file of the check table lives under its location: dropping the catalog entry and then
            # the location removes data, manifests, metadata and the directory markers object stores keep.
            # (Not every catalog implements purge_table: pyiceberg's HiveCatalog does not.)
            self.catalog.drop_table(self.identifier)
            remove_location(table.io, table.location())
        else:
            self.catalog.purge_table(self.identifier)
        return True

    def run(self, cleanup=True):
        self._step("create_namespace", self._ensure_namespace)
        self._step("drop_leftover_table", self._drop_leftover)
        try:
            self._run_table_steps()
        except IcebergCheckError:
            if cleanup:
                self._cleanup(best_effort=True)  # keep the original failure as the one reported
            raise
        if cleanup:
            self._cleanup()
        return self.report

    def _run_table_steps(self):
        first = _batch(1, self.rows, evolved=False)
        table = self._step("create_table", lambda: self.catalog.create_table(self.identifier, schema=first.schema))
        self.report["schema_before"] = schema_to_list(table.schema())

        self._step("append_first", lambda: table.append(first))
        table = self.catalog.load_table(self.identifier)
        first_snapshot = table.current_snapshot()
        self.report["first_snapshot_id"] = first_snapshot.snapshot_id

        def evolve():
            with table.update_schema() as update:
                update.add_column(ADDED_COLUMN, StringType())
                update.rename_column(*RENAMED_COLUMN)
        self._step("evolve_schema", evolve)
        table = self.catalog.load_table(self.identifier)
        self.report["schema_after"] = schema_to_list(table.schema())
        self._expect("evolve_schema", [f["name"] for f in self.report["schema_after"]],
                     ["id", RENAMED_COLUMN[1], "amount", ADDED_COLUMN], "columns after evolution")

        self._step("append_second", lambda: table.append(_batch(self.rows + 1, self.rows, evolved=True)))
        table = self.catalog.load_table(self.identifier)
        self.report["last_snapshot_id"] = table.current_snapshot().snapshot_id
        self.report["snapshots"] = [
            {"snapshot_id": s.snapshot_id, "parent_id": s.parent_snapshot_id, "schema_id": s.schema_id,
             "operation": str(s.summary.operation.value) if s.summary else None}
            for s in table.snapshots()]

        current = self._step("read_current", lambda: table.scan().to_arrow())
        self.report["rows_current"] = current.num_rows
        self._expect("read_current", current.num_rows, 2 * self.rows, "rows in the current snapshot")
        self._expect("read_current", current.column_names, ["id", RENAMED_COLUMN[1], "amount", ADDED_COLUMN],
                     "columns of the current snapshot")
        old_rows_category = current.filter(pc.less_equal(current["id"], self.rows))[ADDED_COLUMN]
        self._expect("read_current", old_rows_category.null_count, self.rows,
                     "null %s values in rows written before the column existed" % ADDED_COLUMN)

        past = self._step("time_travel_read",
                          lambda: table.scan(snapshot_id=first_snapshot.snapshot_id).to_arrow())
        self.report["time_travel"] = {"snapshot_id": first_snapshot.snapshot_id, "rows": past.num_rows,
                                      "columns": past.column_names}
        self.report["rows_first_snapshot"] = past.num_rows
        self._expect("time_travel_read", past.num_rows, self.rows, "rows in the first snapshot")
        self._expect("time_travel_read", past.column_names, list(ORIGINAL_COLUMNS),
                     "columns of the first snapshot (its own schema)")
        self._expect("time_travel_read", sorted(past["id"].to_pylist()), list(range(1, self.rows + 1)),
                     "ids in the first snapshot")

    def _expect(self, step, actual, expected, what):
        if actual != expected:
            raise IcebergCheckError(step, "%s: expected %r, got %r" % (what, expected, actual), self.report)

    def remove(self):
        """state=absent: purge the check table, then drop the check namespace when it is left empty."""
        self.report["table_dropped"] = self._step("purge_table", self._purge)
        namespace_exists = self._step("find_namespace", self._namespace_exists)
        if namespace_exists:
            tables = self._step("list_tables", lambda: self.catalog.list_tables(self.namespace))
            if not tables:
                self._step("drop_namespace", self._drop_namespace)
        return self.report

    def _namespace_exists(self):
        return (self.namespace,) in [tuple(ns) for ns in self.catalog.list_namespaces()]

    def _purge_table(self):
        self.report["table_dropped"] = self._purge()

    def _drop_namespace(self):
        self.catalog.drop_namespace(self.namespace)
        self.report["namespace_dropped"] = True
        remove_location(self.catalog._load_file_io(location=self.warehouse),
                        namespace_location(self.warehouse, self.namespace), only_if_empty=True)

    def _cleanup(self, best_effort=False):
        steps = [("purge_table", self._purge_table)]
        if self.report["namespace_created"]:
            steps.append(("drop_namespace", self._drop_namespace))
        for name, func in steps:
            try:
                self._step(name, func)
            except IcebergCheckError as exc:
                if not best_effort:
                    raise
                self.report.setdefault("cleanup_errors", []).append(str(exc))


def can_remove_locations(io):
    """pyarrow's FileIO exposes the filesystem behind it; other FileIOs offer no listing."""
    return hasattr(io, "fs_by_scheme") and hasattr(io, "parse_location")


def remove_location(io, location, only_if_empty=False):
    """Delete everything under `location` (a "directory" of the warehouse) through a pyarrow FileIO.

    With only_if_empty, delete only when nothing but directory markers is left.
    """
    if not can_remove_locations(io):
        return False
    from pyarrow.fs import FileSelector, FileType

    scheme, netloc, path = io.parse_location(location)
    filesystem = io.fs_by_scheme(scheme, netloc)
    if filesystem.get_file_info(path).type == FileType.NotFound:
        return False
    if only_if_empty:
        entries = filesystem.get_file_info(FileSelector(path, recursive=True, allow_not_found=True))
        if any(entry.type == FileType.File for entry in entries):
            return False
    filesystem.delete_dir(path)
    return True


def open_catalog(name, properties):
    return load_catalog(name, **properties)


def probe_catalog(catalog):
    """Read-only connectivity check used in check mode: list the namespaces."""
    return [".".join(ns) for ns in catalog.list_namespaces()]
