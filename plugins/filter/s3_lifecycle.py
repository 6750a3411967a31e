# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which lifecycle rules of the desired buckets are missing or differ on the gateway.

community.aws.s3_lifecycle compares rules as raw dicts. Ceph RGW (Pacific) returns a rule with an empty
prefix in the legacy form (top-level ``Prefix: ""`` instead of ``Filter: {Prefix: ""}``), so the module
reports a change on every run for such rules. Comparing the fields we set, with both forms read as the same
prefix, keeps the role idempotent; the module is then called only for the rules that really differ.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _prefix(rule):
    rule_filter = rule.get("Filter")
    if isinstance(rule_filter, dict):
        if "Prefix" in rule_filter:
            return rule_filter.get("Prefix") or ""
        if isinstance(rule_filter.get("And"), dict):
            return rule_filter["And"].get("Prefix") or ""
        return ""
    return rule.get("Prefix") or ""


def _live_view(rule):
    return {
        "status": rule.get("Status"),
        "prefix": _prefix(rule),
        "expiration_days": (rule.get("Expiration") or {}).get("Days"),
        "abort_incomplete_multipart_upload_days":
            (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
        "noncurrent_version_expiration_days": (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
    }


def _desired_view(rule):
    if not isinstance(rule, dict) or not rule.get("rule_id"):
        raise AnsibleFilterError("every lifecycle rule needs a rule_id, got %r" % (rule,))
    return {
        "status": "Enabled" if str(rule.get("status", "enabled")).lower() == "enabled" else "Disabled",
        "prefix": rule.get("prefix") or "",
        "expiration_days": rule.get("expiration_days"),
        "abort_incomplete_multipart_upload_days": rule.get("abort_incomplete_multipart_upload_days"),
        "noncurrent_version_expiration_days": rule.get("noncurrent_version_expiration_days"),
    }


def s3_lifecycle_pending(buckets, live_buckets):
    """[{bucket, rule}] for every desired rule that the live bucket lacks or holds differently.

    buckets: desired [{name, lifecycle: [{rule_id, prefix, expiration_days, ...}]}];
    live_buckets: amazon.aws.s3_bucket_info ``buckets`` with bucket_lifecycle_configuration facts.
    """
    live = {}
    for bucket in live_buckets or []:
        rules = ((bucket.get("bucket_lifecycle_configuration") or {}).get("Rules")) or []
        live[bucket.get("name")] = dict((rule.get("ID"), _live_view(rule)) for rule in rules)
    pending = []
    for bucket in buckets or []:
        current = live.get(bucket.get("name"), {})
        for rule in bucket.get("lifecycle") or []:
            if current.get(rule.get("rule_id")) != _desired_view(rule):
                pending.append({"bucket": bucket["name"], "rule": rule})
    return pending


class FilterModule(object):
    def filters(self):
        return {"s3_lifecycle_pending": s3_lifecycle_pending}
