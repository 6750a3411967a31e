"""s3_lifecycle_pending: legacy and Filter prefixes compare equal; a differing or missing rule is pending."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.s3_lifecycle import s3_lifecycle_pending

DESIRED = [{"name": "warehouse", "lifecycle": [
    {"rule_id": "abort", "abort_incomplete_multipart_upload_days": 7},
    {"rule_id": "probe", "prefix": ".p/", "expiration_days": 1}]}]


def live(*rules, name="warehouse"):
    return [{"name": name, "bucket_lifecycle_configuration": {"Rules": list(rules)}}]


def test_rgw_legacy_empty_prefix_matches():
    rules = live({"ID": "abort", "Prefix": "", "Status": "Enabled",
                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
                 {"ID": "probe", "Filter": {"Prefix": ".p/"}, "Status": "Enabled", "Expiration": {"Days": 1}})
    assert s3_lifecycle_pending(DESIRED, rules) == []


def test_changed_days_and_missing_rules_are_pending():
    rules = live({"ID": "abort", "Filter": {"Prefix": ""}, "Status": "Enabled",
                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}})
    pending = s3_lifecycle_pending(DESIRED, rules)
    assert [(p["bucket"], p["rule"]["rule_id"]) for p in pending] == [("warehouse", "abort"), ("warehouse", "probe")]


def test_disabled_rule_is_pending_and_unknown_bucket_gets_all_rules():
    rules = live({"ID": "abort", "Prefix": "", "Status": "Disabled",
                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}})
    assert len(s3_lifecycle_pending(DESIRED, rules)) == 2
    assert len(s3_lifecycle_pending(DESIRED, [])) == 2


def test_rule_without_id_is_refused():
    with pytest.raises(AnsibleFilterError, match="rule_id"):
        s3_lifecycle_pending([{"name": "b", "lifecycle": [{"prefix": "x"}]}], [])
