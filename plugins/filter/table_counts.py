# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare two databases by their tables and exact row counts (backup restore tests)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _counts(rows, which):
    counts = {}
    for row in rows or []:
        try:
            counts[str(row["table_name"])] = int(row["row_count"])
        except (KeyError, TypeError, ValueError):
            raise AnsibleFilterError("table_count_diff: %s rows need table_name and an integer row_count, got %r"
                                     % (which, row))
    return counts


def table_count_diff(source_rows, target_rows, volatile=None):
    """Tables and row counts of ``source_rows`` (the live database) against ``target_rows`` (the restore).

    Rows are ``{table_name, row_count}`` (``schema.table``). Tables named in ``volatile`` (by table name,
    without schema, in any case: the Hive schema names them in upper case, a PostgreSQL metastore stores them in
    lower case) must exist on both sides, but their counts are not compared. ``matches`` is true when no
    table is missing, none is extra and every other count is equal.
    """
    source = _counts(source_rows, "source")
    target = _counts(target_rows, "target")
    skip = set(str(name).lower() for name in volatile or [])
    missing = sorted(set(source) - set(target))
    extra = sorted(set(target) - set(source))
    differences = [
        {"table": name, "live": source[name], "restored": target[name]}
        for name in sorted(set(source) & set(target))
        if name.split(".")[-1].lower() not in skip and source[name] != target[name]
    ]
    return {
        "tables": len(source),
        "rows": sum(source.values()),
        "restored_tables": len(target),
        "restored_rows": sum(target.values()),
        "compared_tables": len([name for name in source if name in target and name.split(".")[-1].lower() not in skip]),
        "missing_tables": missing,
        "extra_tables": extra,
        "row_differences": differences,
        "matches": not missing and not extra and not differences,
    }


class FilterModule(object):
    def filters(self):
        return {"table_count_diff": table_count_diff}
