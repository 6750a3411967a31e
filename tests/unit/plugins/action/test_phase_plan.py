"""phase_plan's helpers: the whole override reason of -e platform_override_reason="two words", the user's
variable a failing role default comes from, and the operator's login when USER is unset."""
import pwd
import os

from ansible_collections.lakehouse.platform.plugins.action import phase_plan


def test_the_documented_override_example_keeps_the_whole_reason():
    # The shell hands -e platform_override_reason="Storage below 200Gi, starting early" over without the quotes.
    written = ["platform_override_reason=Storage below 200Gi, starting early"]
    assert phase_plan.override_reason_as_written(written) == "Storage below 200Gi, starting early"
    # Quoted inside the argument, JSON, a file, or another variable: as ansible-playbook reads them.
    assert phase_plan.override_reason_as_written(["platform_override_reason='two words'"]) == "two words"
    assert phase_plan.override_reason_as_written(['{"platform_override_reason": "two words"}']) is None
    assert phase_plan.override_reason_as_written(["@vars.yml", "other=1"]) is None
    assert phase_plan.override_reason_as_written(["platform_override_reason=why other=1"]) == "why"
    assert phase_plan.override_reason_as_written(None) is None


def test_origin_follows_defaults_to_the_variables_the_user_set():
    defaults = {"s3_storage_warehouse_bucket": "{{ platform_s3_warehouse_bucket | default('warehouse') }}",
                "s3_storage_backups_bucket": "{{ platform_s3_backups_bucket | default('backups') }}",
                "s3_storage_buckets": [{"name": "{{ s3_storage_warehouse_bucket }}"},
                                       {"name": "{{ s3_storage_backups_bucket }}"}],
                "s3_storage_user": "iceberg"}
    given = {"platform_s3_warehouse_bucket": ""}
    assert phase_plan.origin("s3_storage_buckets", defaults, given) == ["platform_s3_warehouse_bucket"]
    assert phase_plan.origin("s3_storage_user", defaults, given) == []
    assert phase_plan.origin("s3_storage_warehouse_bucket", defaults, dict(given, s3_storage_warehouse_bucket="x")) == []


def test_the_login_is_known_without_user_or_logname(monkeypatch):
    for name in ("USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    assert phase_plan._login_name() == pwd.getpwuid(os.getuid()).pw_name != ""


def test_origin_ignores_ansible_and_play_variables():
    defaults = {"report_dir": "{{ inventory_dir }}/../build/{{ platform_phase }}/{{ platform_report_name }}"}
    given = {"inventory_dir": "/inv", "platform_phase": "phase1", "platform_report_name": "x"}
    assert phase_plan.origin("report_dir", defaults, given) == ["platform_report_name"]
