"""The restore compare's volatile tables against the schema of the suite's real Hive Metastore on PostgreSQL.

metadata_backup compares the row counts of the live metastore database with a restored copy
(metadata_backup_count_query, then lakehouse.platform.table_count_diff), leaving out the tables a running
metastore changes on its own (locks, transactions, notifications). A real PostgreSQL metastore names them in
lower case (hive_locks, txns, next_lock_id); the list is written in Hive's upper case. Here, on the real schema:
the list finds every lock and transaction table by its lower-case name, the count query sees them, and a transaction opened between two counts is
not a difference, while a table the list does not name is.
"""
import os

import yaml

from ansible_collections.lakehouse.platform.plugins.filter.table_counts import table_count_diff

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ROLE = os.path.join(ROOT, "roles", "metadata_backup")


def _role_value(path, name):
    with open(os.path.join(ROLE, path)) as handle:
        return yaml.safe_load(handle)[name]


def _counts(connection, query):
    with connection.cursor() as cursor:
        cursor.execute(query)
        return [{"table_name": name, "row_count": count} for name, count in cursor.fetchall()]


def test_the_volatile_tables_are_the_real_schema_s_and_an_open_transaction_is_no_difference(hive_metastore):
    volatile = _role_value("defaults/main.yml", "metadata_backup_volatile_tables")
    query = _role_value("vars/main.yml", "metadata_backup_count_query")
    connection = hive_metastore._owner_connection()
    try:
        connection.autocommit = True
        before = _counts(connection, query)
        tables = set(row["table_name"].split(".")[-1] for row in before)
        # The real names: lower case for the transaction tables, as PostgreSQL folds unquoted names.
        assert {"hive_locks", "txns", "next_lock_id"} <= tables, sorted(tables)
        # The list (Hive's upper-case names, up to Hive 4) finds every lock and transaction table of this real
        # schema (Hive 2.3's), by its lower-case name.
        listed = set(name.lower() for name in volatile)
        found = set(name for name in tables if name.lower() in listed)
        assert {"hive_locks", "txns", "txn_components", "completed_txn_components", "next_txn_id", "next_lock_id",
                "write_set", "aux_table", "compaction_queue", "completed_compactions"} <= found, sorted(tables)

        with connection.cursor() as cursor:  # what a running metastore does while a backup is restored
            cursor.execute("INSERT INTO txns (txn_id, txn_state, txn_started, txn_last_heartbeat, txn_user, txn_host)"
                           " VALUES (987654321, 'o', 0, 0, 'test', 'test')")
        try:
            after = _counts(connection, query)
            diff = table_count_diff(before, after, volatile)
            assert diff["matches"] is True, diff
            assert diff["compared_tables"] == len(before) - len(found)
            # Without the list the same compare fails on the transaction table: it was compared before.
            unlisted = table_count_diff(before, after, [])
            assert unlisted["matches"] is False
            assert [d for d in unlisted["row_differences"] if d["table"].endswith(".txns")], unlisted
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM txns WHERE txn_id = 987654321")
    finally:
        connection.close()
