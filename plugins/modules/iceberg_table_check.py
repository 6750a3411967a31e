#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: iceberg_table_check
short_description: Prove Iceberg table operations work end to end (create, append, evolve, time travel)
version_added: 0.1.0
description:
  - Performs the Iceberg operations check with pyiceberg against a catalog and an S3 warehouse
    (Ceph RGW). It creates a namespace and a table, append O(rows) rows, add a column and rename a column,
    append O(rows) more rows, read the current snapshot and the first snapshot (time travel, read with the
    schema that snapshot was written with), then purge the table and drop the namespace if this run created it.
  - Each step is checked (row counts, column names, nulls in the added column for old rows); a mismatch fails
    the task naming the step, the expected and the actual values.
  - A table left behind by an earlier failed run is purged first.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
requirements:
  - pyiceberg >= 0.9 (with pyarrow; C(thrift) for the C(hive) catalog, SQLAlchemy and psycopg2 for C(sql))
options:
  catalog_type:
    description:
      - C(hive) talks to a Hive Metastore over Thrift (O(catalog_uri) C(thrift://host:9083)).
      - C(sql) keeps the catalog in a SQL database (O(catalog_uri) a SQLAlchemy URL such as
        C(postgresql+psycopg2://user@host:5432/db)).
    type: str
    choices: [hive, sql]
    default: hive
  catalog_uri:
    description:
      - Catalog address. Put no password in it; use O(catalog_password).
    type: str
    required: true
  catalog_password:
    description: Password inserted into the C(sql) catalog URL.
    type: str
  catalog_name:
    description: Catalog name (the SQL catalog keys its rows by it).
    type: str
    default: lakehouse
  warehouse:
    description: Warehouse root for the namespace location, for example C(s3a://warehouse).
    type: str
    required: true
  s3_endpoint:
    description: S3 endpoint URL of the object gateway, for example C(http://rook-ceph-rgw-storage.storage.svc:80).
    type: str
  s3_access_key:
    description: S3 access key.
    type: str
  s3_secret_key:
    description: S3 secret key.
    type: str
  s3_region:
    description: Region name sent with S3 requests (Ceph RGW accepts any configured zonegroup name).
    type: str
    default: us-east-1
  s3_path_style:
    description: Address buckets by path (required for Ceph RGW without wildcard DNS).
    type: bool
    default: true
  s3_checksums_when_required:
    description:
      - Send S3 request checksums only when an operation requires them
        (C(AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED) for this task only).
      - Current AWS SDKs otherwise upload with streaming checksums that Ceph RGW before Reef rejects with
        HTTP 411 MissingContentLength.
    type: bool
    default: true
  namespace:
    description: Namespace (Hive database) for the check table.
    type: str
    default: lakehouse_check
  table:
    description: Name of the check table.
    type: str
    default: phase1_check
  rows:
    description: Rows written by each of the two appends.
    type: int
    default: 100
  state:
    description:
      - V(present) runs the check.
      - V(absent) removes what a check with O(cleanup=false) left behind, for rollback; it purges the check table
        and drops the check namespace if no other table is in it.
    type: str
    choices: [present, absent]
    default: present
  cleanup:
    description:
      - Purge the table (data and metadata files) and drop the namespace if this run created it.
      - With C(false) the table stays for inspection and the task reports C(changed).
    type: bool
    default: true
extends_documentation_fragment:
  - lakehouse.platform.attributes
attributes:
  check_mode:
    support: partial
    details:
      - In check mode only the catalog is contacted, read only (list namespaces); no table is written.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - With O(cleanup=true) every run starts from and returns to the same state (an earlier leftover
        table is purged first) and reports no change.
notes:
  - C(changed) is false when O(cleanup=true) because the run leaves nothing behind.
  - The controller must reach the catalog and the S3 endpoint (AWX in the cluster, or port-forwards).
"""

EXAMPLES = r"""
- name: Iceberg operations through the Hive Metastore and Ceph RGW
  lakehouse.platform.iceberg_table_check:
    catalog_type: hive
    catalog_uri: thrift://hive-metastore.data-platform.svc:9083
    warehouse: s3a://warehouse
    s3_endpoint: http://rook-ceph-rgw-storage.storage.svc:80
    s3_access_key: "{{ iceberg_s3.access_key }}"
    s3_secret_key: "{{ iceberg_s3.secret_key }}"
  register: iceberg

- name: Remove a check table kept with cleanup=false
  lakehouse.platform.iceberg_table_check:
    state: absent
    catalog_uri: thrift://hive-metastore.data-platform.svc:9083
    warehouse: s3a://warehouse
    s3_endpoint: http://rook-ceph-rgw-storage.storage.svc:80
    s3_access_key: "{{ iceberg_s3.access_key }}"
    s3_secret_key: "{{ iceberg_s3.secret_key }}"

- name: Same check with a SQL catalog on PostgreSQL
  lakehouse.platform.iceberg_table_check:
    catalog_type: sql
    catalog_uri: postgresql+psycopg2://iceberg@127.0.0.1:5432/iceberg_catalog
    catalog_password: "{{ catalog_password }}"
    warehouse: s3://warehouse
    s3_endpoint: http://127.0.0.1:7480
    s3_access_key: "{{ access_key }}"
    s3_secret_key: "{{ secret_key }}"
    rows: 10
"""

RETURN = r"""
namespace:
  description: Namespace used.
  returned: always
  type: str
table:
  description: Fully qualified table name used.
  returned: always
  type: str
  sample: lakehouse_check.phase1_check
check_mode:
  description: True when only the read-only catalog probe ran.
  returned: always
  type: bool
namespaces:
  description: Namespaces listed by the catalog (check mode only).
  returned: check mode
  type: list
  elements: str
first_snapshot_id:
  description: Snapshot written by the first append.
  returned: success
  type: int
last_snapshot_id:
  description: Snapshot written by the second append.
  returned: success
  type: int
snapshots:
  description: The table's snapshots (id, parent id, schema id, operation).
  returned: success
  type: list
  elements: dict
rows_first_snapshot:
  description: Rows read back from the first snapshot (time travel).
  returned: success
  type: int
rows_current:
  description: Rows in the current snapshot.
  returned: success
  type: int
schema_before:
  description: Columns (id, name, type, required) of the table as created.
  returned: success
  type: list
  elements: dict
schema_after:
  description: Columns after the schema evolution.
  returned: success
  type: list
  elements: dict
time_travel:
  description: Snapshot id, row count and column names of the time-travel read.
  returned: success
  type: dict
steps:
  description: Each step with C(ok) and C(elapsed_ms); on failure the last one has C(ok=false).
  returned: always
  type: list
  elements: dict
failed_step:
  description: Name of the step that failed.
  returned: failure
  type: str
namespace_created:
  description: Whether this run created the namespace.
  returned: always
  type: bool
table_dropped:
  description: Whether the table was purged at the end.
  returned: always
  type: bool
namespace_dropped:
  description: Whether the namespace was dropped at the end.
  returned: always
  type: bool
leftover_table_dropped:
  description: Whether a table left by an earlier run was purged first.
  returned: always
  type: bool
"""

import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.lakehouse.platform.plugins.module_utils.iceberg_ops import (
    PYICEBERG_IMPORT_ERROR,
    IcebergCheckError,
    TableCheck,
    catalog_properties,
    s3_checksums_when_required,
    open_catalog,
    probe_catalog,
)

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def argument_spec():
    return dict(
        catalog_type=dict(type="str", choices=["hive", "sql"], default="hive"),
        catalog_uri=dict(type="str", required=True),
        catalog_password=dict(type="str", no_log=True),
        catalog_name=dict(type="str", default="lakehouse"),
        warehouse=dict(type="str", required=True),
        s3_endpoint=dict(type="str"),
        s3_access_key=dict(type="str", no_log=True),
        s3_secret_key=dict(type="str", no_log=True),
        s3_region=dict(type="str", default="us-east-1"),
        s3_path_style=dict(type="bool", default=True),
        s3_checksums_when_required=dict(type="bool", default=True),
        namespace=dict(type="str", default="lakehouse_check"),
        table=dict(type="str", default="phase1_check"),
        rows=dict(type="int", default=100),
        cleanup=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def validate_params(params):
    """Return an error message naming the bad option, or None."""
    uri = params["catalog_uri"]
    if params["catalog_type"] == "hive" and not uri.startswith("thrift://"):
        return "catalog_uri must be a thrift:// URI for catalog_type=hive, got %r" % uri
    if params["catalog_type"] == "sql":
        if "://" not in uri:
            return "catalog_uri must be a SQLAlchemy URL for catalog_type=sql, got %r" % uri
        if re.match(r"^[^:/]+://[^/@]*:[^/@]*@", uri):
            return "catalog_uri must not carry a password; pass it in catalog_password"
    if not re.match(r"^[a-z0-9]+://", params["warehouse"]):
        return "warehouse must be a URI such as s3a://warehouse, got %r" % params["warehouse"]
    for option in ("namespace", "table"):
        if not IDENTIFIER.match(params[option]):
            return "%s must be a lower-case identifier ([a-z_][a-z0-9_]*), got %r" % (option, params[option])
    if params["rows"] < 1:
        return "rows must be at least 1, got %d" % params["rows"]
    if bool(params["s3_access_key"]) != bool(params["s3_secret_key"]):
        return "s3_access_key and s3_secret_key must be given together"
    return None


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg=error)
    if PYICEBERG_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pyiceberg"), exception=PYICEBERG_IMPORT_ERROR)

    if params["s3_checksums_when_required"]:
        s3_checksums_when_required()
    props = catalog_properties(
        params["catalog_type"], params["catalog_uri"], params["warehouse"], s3_endpoint=params["s3_endpoint"],
        s3_access_key=params["s3_access_key"], s3_secret_key=params["s3_secret_key"],
        s3_region=params["s3_region"], s3_path_style=params["s3_path_style"],
        catalog_password=params["catalog_password"])
    base = {"namespace": params["namespace"], "table": "%s.%s" % (params["namespace"], params["table"])}
    try:
        catalog = open_catalog(params["catalog_name"], props)
        if module.check_mode:
            module.exit_json(changed=False, check_mode=True, namespaces=probe_catalog(catalog), steps=[],
                             namespace_created=False, table_dropped=False, namespace_dropped=False,
                             leftover_table_dropped=False, **base)
    except Exception as exc:  # catalog construction/connection errors come in many library types
        module.fail_json(msg="Iceberg check: cannot open the %s catalog at %s: %s: %s"
                         % (params["catalog_type"], params["catalog_uri"], type(exc).__name__, exc), **base)

    check = TableCheck(catalog, params["namespace"], params["table"], params["rows"], params["warehouse"])
    try:
        if params["state"] == "absent":
            report = check.remove()
            changed = report["table_dropped"] or report["namespace_dropped"]
        else:
            report = check.run(cleanup=params["cleanup"])
            changed = not params["cleanup"]
    except IcebergCheckError as exc:
        module.fail_json(msg=str(exc), failed_step=exc.step, check_mode=False, **exc.report)
    module.exit_json(changed=changed, check_mode=False, **report)


if __name__ == "__main__":
    main()
