#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hive_metastore_info
short_description: Query a Hive Metastore over Thrift (get_all_databases, get_database)
version_added: 0.1.0
description:
  - Opens a Thrift connection (binary protocol) to a Hive Metastore and calls C(get_all_databases), then
    C(get_database) for each database in O(expect_databases) and O(databases).
  - This is a real metadata query, not a TCP port check, so it proves the metastore reached its backing
    database and answers requests.
  - Read only; it never changes the metastore.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
requirements:
  - thrift
  - pyiceberg (ships the generated C(hive_metastore) ThriftHiveMetastore bindings)
options:
  host:
    description:
      - Host name or address of the Hive Metastore Thrift service, for example
        C(hive-metastore.data-platform.svc).
    type: str
    required: true
  port:
    description: Thrift port of the metastore.
    type: int
    default: 9083
  timeout:
    description: Socket timeout in seconds for connecting and for each call.
    type: float
    default: 10
  transport:
    description:
      - Thrift transport. C(buffered) is the Hive Metastore default; C(framed) matches a metastore started
        with C(metastore.thrift.framed.transport.enabled=true).
    type: str
    choices: [buffered, framed]
    default: buffered
  expect_databases:
    description:
      - Databases that must be listed by the metastore; the module fails naming the missing ones.
      - Their details are returned in RV(database_details).
    type: list
    elements: str
    default: []
  databases:
    description: Further databases whose details (C(get_database)) are returned.
    type: list
    elements: str
    default: []
  retries:
    description:
      - How many times a failed connection is retried (a freshly started metastore may not listen yet).
      - Errors from the metastore itself are not retried.
    type: int
    default: 0
  retry_delay:
    description: Seconds between connection attempts.
    type: float
    default: 2
extends_documentation_fragment:
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.INFO_MODULE
notes:
  - The controller (or the host the task is delegated to) must reach the Thrift port, for example from an
    AWX execution environment running in the cluster, or through C(kubectl port-forward svc/hive-metastore 9083).
  - SASL/Kerberos secured metastores are not supported.
"""

EXAMPLES = r"""
- name: Ask the Hive Metastore for its databases
  lakehouse.platform.hive_metastore_info:
    host: hive-metastore.data-platform.svc
    port: 9083
    expect_databases: [default]
    retries: 10
  register: hms

- name: Show what it answered
  ansible.builtin.debug:
    msg: "{{ hms.databases }} in {{ hms.elapsed_ms }} ms"
"""

RETURN = r"""
endpoint:
  description: The host:port that answered.
  returned: success
  type: str
  sample: hive-metastore.data-platform.svc:9083
databases:
  description: Names returned by C(get_all_databases).
  returned: success
  type: list
  elements: str
  sample: [default]
database_details:
  description: C(get_database) answers for O(expect_databases) and O(databases).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Database name.
      type: str
    description:
      description: Database comment.
      type: str
    location_uri:
      description: Warehouse location of the database.
      type: str
      sample: s3a://warehouse/default
    owner_name:
      description: Owner principal.
      type: str
    owner_type:
      description: Owner principal type (1 user, 2 role, 3 group).
      type: int
    catalog_name:
      description: Metastore catalog (Hive 3+), usually C(hive).
      type: str
    parameters:
      description: Database parameters.
      type: dict
attempts:
  description: Connection attempts used.
  returned: success
  type: int
  sample: 1
elapsed_ms:
  description: Duration of the successful attempt in milliseconds.
  returned: success
  type: int
  sample: 12
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.lakehouse.platform.plugins.module_utils.hive_metastore import (
    THRIFT_IMPORT_ERROR,
    MetastoreError,
    probe_metastore,
)


def argument_spec():
    return dict(
        host=dict(type="str", required=True),
        port=dict(type="int", default=9083),
        timeout=dict(type="float", default=10),
        transport=dict(type="str", choices=["buffered", "framed"], default="buffered"),
        expect_databases=dict(type="list", elements="str", default=[]),
        databases=dict(type="list", elements="str", default=[]),
        retries=dict(type="int", default=0),
        retry_delay=dict(type="float", default=2),
    )


def validate_params(params):
    """Return an error message naming the bad option, or None."""
    if not params["host"].strip():
        return "host must not be empty"
    if not 0 < params["port"] < 65536:
        return "port must be between 1 and 65535, got %d" % params["port"]
    if params["timeout"] <= 0:
        return "timeout must be greater than 0, got %s" % params["timeout"]
    if params["retries"] < 0:
        return "retries must be 0 or more, got %d" % params["retries"]
    if params["retry_delay"] < 0:
        return "retry_delay must be 0 or more, got %s" % params["retry_delay"]
    return None


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    error = validate_params(module.params)
    if error:
        module.fail_json(msg=error)
    if THRIFT_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("thrift and pyiceberg (hive_metastore bindings)"),
                         exception=THRIFT_IMPORT_ERROR)
    params = module.params
    try:
        result = probe_metastore(
            params["host"], params["port"], timeout=params["timeout"], transport=params["transport"],
            databases=params["databases"], expect_databases=params["expect_databases"],
            retries=params["retries"], retry_delay=params["retry_delay"])
    except MetastoreError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
