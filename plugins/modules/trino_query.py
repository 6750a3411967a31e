#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: trino_query
short_description: Run one SQL statement on a Trino coordinator and return its result
version_added: 0.1.0
description:
  - Sends one SQL statement to a Trino coordinator over Trino's client REST protocol and returns the
    result columns, the rows (up to O(max_rows)), the query id and the query statistics.
  - A thin wrapper around the official C(trino) Python client (C(trino.dbapi)), which does the protocol
    work (C(POST /v1/statement), following C(nextUri) until the query is finished, cancelling on close).
    No module in ansible-core or in the collections this collection depends on talks to Trino;
    C(community.general) has database modules for PostgreSQL, MySQL and others, none for Trino.
  - Failures name Trino's own error (C(errorName), C(errorType)) and message, for example C(TABLE_NOT_FOUND)
    (C(USER_ERROR)) with the message Trino gave, such as that the table does not exist.
  - Read statements (C(SELECT), C(WITH), C(VALUES), C(TABLE), C(SHOW), C(DESCRIBE), C(EXPLAIN) without
    C(ANALYZE) of a write) report no change; any other statement reports a change when it succeeds.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  host:
    description:
      - Host name or address of the Trino coordinator (its Service, an ingress, or a port-forward).
    type: str
    required: true
  port:
    description:
      - HTTP(S) port of the coordinator.
    type: int
    default: 8080
  http_scheme:
    description:
      - V(http) or V(https). O(password) needs V(https).
    type: str
    choices: [http, https]
    default: http
  user:
    description:
      - Trino user the statement runs as (header C(X-Trino-User)); with O(password) also the basic-auth user.
    type: str
    default: lakehouse
  password:
    description:
      - Password for HTTP basic authentication (Trino's C(PASSWORD) authenticator). Only over V(https).
    type: str
  catalog:
    description:
      - Default catalog of the session (header C(X-Trino-Catalog)), used by unqualified names.
    type: str
  schema:
    description:
      - Default schema of the session (header C(X-Trino-Schema)). Needs O(catalog).
    type: str
  statement:
    description:
      - One SQL statement, without a terminating semicolon (one at the end is removed).
    type: str
    required: true
    aliases: [query, sql]
  verify:
    description:
      - Verify the coordinator's TLS certificate (V(https) only).
    type: bool
    default: true
  ca_cert:
    description:
      - Path to a CA bundle that signs the coordinator's certificate, instead of the system store.
    type: path
  request_timeout:
    description:
      - Seconds each HTTP request to the coordinator may take (the query itself may run longer; the client
        polls).
    type: float
    default: 30
  max_rows:
    description:
      - Most rows returned in RV(rows). A query with more rows is cancelled after that many and RV(truncated) is true.
    type: int
    default: 1000
extends_documentation_fragment:
  - lakehouse.platform.attributes
attributes:
  check_mode:
    support: partial
    details:
      - Read statements run (their result is what check mode is for); any other statement is not sent and
        the result says it was skipped (RV(skipped)).
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - Read statements never report a change. Whether another statement changes anything depends on the
        statement (C(CREATE SCHEMA IF NOT EXISTS) is idempotent, C(INSERT) is not); it is reported as changed.
notes:
  - The statement text is not parsed beyond its first keywords; C(EXPLAIN ANALYZE) of a write statement counts
    as a write because Trino executes it.
  - Values Trino returns as C(decimal), C(date), C(time), C(timestamp) come back as strings, C(varbinary) as
    base64 text, so the result is JSON.
requirements:
  - trino (Python library, the official Trino client)
seealso:
  - name: Trino client REST API
    description: The protocol the C(trino) client speaks.
    link: https://trino.io/docs/current/develop/client-protocol.html
"""

EXAMPLES = r"""
- name: List the catalogs of the Trino cluster
  lakehouse.platform.trino_query:
    host: trino.data-platform.svc.cluster.local
    port: 8080
    statement: SHOW CATALOGS
  register: catalogs

- name: Count the rows of the Iceberg table phase 1 left
  lakehouse.platform.trino_query:
    host: 127.0.0.1
    port: 18080
    user: lakehouse
    catalog: iceberg
    schema: lakehouse_check
    statement: SELECT count(*) FROM phase1_check
  register: count

- name: Create a schema over HTTPS with a password, checking the certificate against our CA
  lakehouse.platform.trino_query:
    host: trino.example.com
    port: 443
    http_scheme: https
    user: admin
    password: "{{ vault_trino_password }}"
    ca_cert: /etc/pki/lakehouse/ca.pem
    statement: CREATE SCHEMA IF NOT EXISTS iceberg.analytics
"""

RETURN = r"""
columns:
  description: The result columns, in order.
  returned: when the statement returns a result set
  type: list
  elements: dict
  contains:
    name:
      description: Column name.
      type: str
    type:
      description: Trino type of the column.
      type: str
  sample: [{"name": "_col0", "type": "bigint"}]
rows:
  description: The rows (lists of values, in column order), at most O(max_rows).
  returned: always
  type: list
  elements: list
  sample: [[14]]
row_count:
  description: Number of rows in RV(rows).
  returned: always
  type: int
  sample: 1
truncated:
  description: Whether the result had more than O(max_rows) rows (the query was then cancelled).
  returned: always
  type: bool
  sample: false
query_id:
  description: Trino's query id (look it up in the Web UI or C(system.runtime.queries)).
  returned: when the statement was sent
  type: str
  sample: 20260101_120000_00001_abcde
stats:
  description: Trino's query statistics as last reported (C(state), C(elapsedTimeMillis), C(processedRows), ...).
  returned: when the statement was sent
  type: dict
  sample: {"state": "FINISHED", "queued": false, "scheduled": true, "processedRows": 14, "elapsedTimeMillis": 52}
update_type:
  description: For a statement that changes something, what Trino says it did (V(INSERT), V(CREATE SCHEMA), ...).
  returned: when Trino reports one
  type: str
  sample: CREATE SCHEMA
update_count:
  description: Rows a write statement affected, when Trino reports it (C(INSERT), C(DELETE), C(CREATE TABLE AS)).
  returned: when Trino reports one
  type: int
  sample: 14
read_only:
  description: Whether the statement counts as a read statement.
  returned: always
  type: bool
  sample: true
skipped:
  description: True in check mode for a statement that is not a read statement (it was not sent).
  returned: always
  type: bool
  sample: false
error_name:
  description: Trino's error name (C(TABLE_NOT_FOUND), C(SYNTAX_ERROR), ...).
  returned: on failure, when Trino answered with an error
  type: str
  sample: TABLE_NOT_FOUND
error_type:
  description: Trino's error type (C(USER_ERROR), C(INTERNAL_ERROR), C(INSUFFICIENT_RESOURCES), C(EXTERNAL)).
  returned: on failure, when Trino answered with an error
  type: str
  sample: USER_ERROR
"""

import base64
import datetime
import decimal
import re
import traceback
import uuid

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

try:
    import trino
    import trino.auth
    import trino.dbapi
    import trino.exceptions

    TRINO_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    trino = None
    TRINO_IMPORT_ERROR = traceback.format_exc()

READ_KEYWORDS = ("SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN")
_COMMENT = re.compile(r"\A\s*(?:--[^\n]*(?:\n|\Z)|/\*.*?\*/)", re.S)
_EXPLAIN_OPTIONS = re.compile(r"\A\s*\((?:[^()']|'[^']*')*\)", re.S)


def argument_spec():
    return dict(
        host=dict(type="str", required=True),
        port=dict(type="int", default=8080),
        http_scheme=dict(type="str", default="http", choices=["http", "https"]),
        user=dict(type="str", default="lakehouse"),
        password=dict(type="str", no_log=True),
        catalog=dict(type="str"),
        schema=dict(type="str"),
        statement=dict(type="str", required=True, aliases=["query", "sql"]),
        verify=dict(type="bool", default=True),
        ca_cert=dict(type="path"),
        request_timeout=dict(type="float", default=30),
        max_rows=dict(type="int", default=1000),
    )


def _strip_comments(text):
    while True:
        match = _COMMENT.match(text)
        if not match:
            return text.lstrip()
        text = text[match.end():]


def clean_statement(statement):
    """The statement without surrounding blanks and terminating semicolons (Trino's parser rejects them)."""
    return re.sub(r"[\s;]+\Z", "", statement.strip())


def is_read_statement(statement):
    """Whether the statement only reads: its first keyword (after comments and opening parentheses) is one of
    READ_KEYWORDS; EXPLAIN ANALYZE counts only when the explained statement is itself a read."""
    text = _strip_comments(statement).lstrip("( \t\r\n")
    match = re.match(r"([A-Za-z]+)", text)
    if not match:
        return False
    keyword = match.group(1).upper()
    if keyword not in READ_KEYWORDS:
        return False
    if keyword != "EXPLAIN":
        return True
    rest = text[match.end():]
    analyze = re.match(r"\s+ANALYZE\b(\s+VERBOSE\b)?", rest, re.I)
    if not analyze:
        return True  # plain EXPLAIN only plans, whatever the statement
    rest = rest[analyze.end():]
    options = _EXPLAIN_OPTIONS.match(rest)
    if options:
        rest = rest[options.end():]
    return is_read_statement(rest)


def validate(params):
    """Everything checkable without the coordinator; raises ValueError naming the option."""
    if not params["host"].strip():
        raise ValueError("Option 'host' must not be empty")
    if not 1 <= params["port"] <= 65535:
        raise ValueError("Option 'port' must be between 1 and 65535, got %d" % params["port"])
    if not clean_statement(params["statement"]):
        raise ValueError("Option 'statement' must not be empty")
    if params["max_rows"] < 0:
        raise ValueError("Option 'max_rows' must be 0 or more, got %d" % params["max_rows"])
    if params["request_timeout"] <= 0:
        raise ValueError("Option 'request_timeout' must be more than 0 seconds, got %s" % params["request_timeout"])
    if params["schema"] and not params["catalog"]:
        raise ValueError("Option 'schema' needs option 'catalog'")
    if params["password"] and params["http_scheme"] != "https":
        raise ValueError("Option 'password' needs http_scheme=https (Trino accepts basic authentication only over TLS)")


def connect_kwargs(params):
    """Keyword arguments of trino.dbapi.connect for the module's options."""
    verify = params["verify"]
    if verify and params["ca_cert"]:
        verify = params["ca_cert"]
    kwargs = dict(host=params["host"], port=params["port"], user=params["user"], http_scheme=params["http_scheme"],
                  catalog=params["catalog"], schema=params["schema"], verify=verify,
                  request_timeout=params["request_timeout"], source="ansible-lakehouse.platform")
    if params["password"]:
        kwargs["auth"] = trino.auth.BasicAuthentication(params["user"], params["password"])
    return kwargs


def jsonable(value):
    """A row value as JSON: decimals and times as text, binary as base64, nested values element by element."""
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return dict((to_native(jsonable(key)), jsonable(item)) for key, item in value.items())
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def describe_error(error):
    """Trino's error name, type and message in one line."""
    name = getattr(error, "error_name", None)
    kind = getattr(error, "error_type", None)
    message = getattr(error, "message", None) or to_native(error)
    if name:
        return "%s (%s): %s" % (name, kind or "?", message)
    return message


def run_statement(params, connect=None):
    """Send the statement and read the result; returns the module result (raises trino errors)."""
    connect = connect or trino.dbapi.connect
    statement = clean_statement(params["statement"])
    connection = connect(**connect_kwargs(params))
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(statement)
            fetched = cursor.fetchmany(params["max_rows"] + 1) if params["max_rows"] > 0 else []
            truncated = len(fetched) > params["max_rows"] or (params["max_rows"] == 0 and cursor.fetchone() is not None)
            rows = [jsonable(row) for row in fetched[:params["max_rows"]]]
            description = cursor.description or []
            update_type = cursor.update_type
            columns = [{"name": column[0], "type": column[1]} for column in description]
            result = dict(rows=rows, row_count=len(rows), truncated=truncated, query_id=cursor.query_id,
                          stats=jsonable(dict(cursor.stats or {})))
            if columns:
                result["columns"] = columns
            if update_type:
                result["update_type"] = update_type
                if cursor.rowcount is not None and cursor.rowcount >= 0:
                    result["update_count"] = cursor.rowcount
        finally:
            try:
                cursor.close()  # cancels the query when rows were left unread (truncated)
            except Exception:  # noqa: BLE001 - the result is what counts; a failed cancel is not the statement's
                pass
    finally:
        connection.close()
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if trino is None:
        module.fail_json(msg=missing_required_lib("trino"), exception=TRINO_IMPORT_ERROR)
    params = module.params
    try:
        validate(params)
    except ValueError as e:
        module.fail_json(msg=to_native(e))

    read_only = is_read_statement(params["statement"])
    where = "%s://%s:%d" % (params["http_scheme"], params["host"], params["port"])
    if module.check_mode and not read_only:
        module.exit_json(changed=False, skipped=True, read_only=False, rows=[], row_count=0, truncated=False,
                         msg="Check mode: not a read statement (SELECT, SHOW, DESCRIBE, EXPLAIN), not sent to %s"
                         % where)
    try:
        result = run_statement(params)
    except trino.exceptions.TrinoQueryError as e:
        module.fail_json(msg="Trino at %s rejected the statement: %s" % (where, describe_error(e)),
                         error_name=e.error_name, error_type=e.error_type, error_code=e.error_code,
                         query_id=e.query_id, read_only=read_only, skipped=False)
    except (trino.exceptions.Error, trino.exceptions.HttpError) as e:
        module.fail_json(msg="Cannot run the statement on Trino at %s: %s" % (where, to_native(e)),
                         read_only=read_only, skipped=False)
    except Exception as e:  # noqa: BLE001 - requests/urllib3 errors the client lets through
        module.fail_json(msg="Cannot reach Trino at %s: %s: %s" % (where, type(e).__name__, to_native(e)),
                         read_only=read_only, skipped=False, exception=traceback.format_exc())
    module.exit_json(changed=not read_only, skipped=False, read_only=read_only, **result)


if __name__ == "__main__":
    main()
