"""table_count_diff: equal restores match; missing/extra tables and changed counts are reported; volatile
tables must exist but their counts are not compared."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.table_counts import table_count_diff


def rows(**counts):
    return [{"table_name": "public." + name, "row_count": count} for name, count in counts.items()]


def test_identical_databases_match():
    result = table_count_diff(rows(DBS=2, TBLS=5), rows(TBLS=5, DBS=2))
    assert result["matches"] is True
    assert (result["tables"], result["rows"], result["restored_rows"], result["compared_tables"]) == (2, 7, 7, 2)


def test_missing_extra_and_different_counts_are_reported():
    result = table_count_diff(rows(DBS=2, TBLS=5, SDS=5), rows(DBS=2, TBLS=4, EXTRA=0))
    assert result["matches"] is False
    assert result["missing_tables"] == ["public.SDS"]
    assert result["extra_tables"] == ["public.EXTRA"]
    assert result["row_differences"] == [{"table": "public.TBLS", "live": 5, "restored": 4}]


def test_volatile_tables_must_exist_but_counts_may_differ():
    assert table_count_diff(rows(DBS=1, HIVE_LOCKS=3), rows(DBS=1, HIVE_LOCKS=0), ["HIVE_LOCKS"])["matches"] is True
    missing = table_count_diff(rows(DBS=1, HIVE_LOCKS=3), rows(DBS=1), ["HIVE_LOCKS"])
    assert missing["matches"] is False and missing["missing_tables"] == ["public.HIVE_LOCKS"]


def test_counts_from_sql_as_strings_are_read_as_numbers():
    assert table_count_diff([{"table_name": "s.t", "row_count": "10"}], [{"table_name": "s.t", "row_count": 10}])["matches"]


def test_malformed_rows_are_refused():
    with pytest.raises(AnsibleFilterError, match="table_name and an integer row_count"):
        table_count_diff([{"table": "x"}], [])


def test_volatile_tables_are_skipped_whatever_their_case():
    """The defaults list HIVE_LOCKS; a real PostgreSQL metastore names the table hive_locks."""
    from ansible_collections.lakehouse.platform.plugins.filter.table_counts import table_count_diff
    live = [{"table_name": "public.hive_locks", "row_count": 3}, {"table_name": "public.TBLS", "row_count": 2}]
    restored = [{"table_name": "public.hive_locks", "row_count": 0}, {"table_name": "public.TBLS", "row_count": 2}]
    result = table_count_diff(live, restored, ["HIVE_LOCKS"])
    assert result["matches"] is True and result["compared_tables"] == 1
