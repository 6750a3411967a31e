# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_lock: reading a Lease, the refusal rule and the Lease it writes (the API path: test_preflight.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.lakehouse.platform.plugins.modules.run_lock import (
    held_of,
    lease_definition,
    parse_time,
    refusal,
)

NOW = datetime.datetime(2026, 12, 2, 10, 0, 0, tzinfo=datetime.timezone.utc)


def lease(holder, acquired, **annotations):
    return {"metadata": {"resourceVersion": "42", "annotations": annotations},
            "spec": {"holderIdentity": holder, "acquireTime": acquired}}


def test_microtime_with_and_without_fraction():
    assert parse_time("2026-12-02T09:59:00.250000Z") == NOW - datetime.timedelta(seconds=59.75)
    assert parse_time("2026-12-02T09:59:00Z") == NOW - datetime.timedelta(seconds=60)
    assert parse_time("not a time") is None and parse_time("") is None


def test_held_reads_holder_phase_since_and_age():
    annotations = {"lakehouse.platform/phase": "phase1", "lakehouse.platform/since": "09:00"}
    held = held_of(lease("alice/1", "2026-12-02T09:00:00.000000Z", **annotations), NOW)
    assert held == {"exists": True, "holder": "alice/1", "phase": "phase1", "since": "09:00", "age": 3600,
                    "resource_version": "42"}
    assert held_of(None, NOW)["exists"] is False


def test_refused_only_by_another_live_holder():
    live = held_of(lease("alice/1", "2026-12-02T09:59:00.000000Z"), NOW)
    message = refusal(live, "bob/2", 3600, "lh", "lakehouse-platform-run")
    assert "held by alice/1" in message and "60s ago" in message and "platform_lock_ttl=3600s" in message
    assert refusal(live, "alice/1", 3600, "lh", "run") is None          # our own
    assert refusal(live, "bob/2", 30, "lh", "run") is None              # stale: taken over
    assert refusal(held_of(None, NOW), "bob/2", 30, "lh", "run") is None  # free
    assert refusal(held_of(lease("", ""), NOW), "bob/2", 30, "lh", "run") is None  # released holder


def test_replace_carries_the_resource_version_read():
    params = {"name": "run", "namespace": "lh", "labels": {"a": "b"}, "annotations": {}, "holder": "bob/2", "ttl": 60}
    replaced = lease_definition(params, held_of(lease("alice/1", "2026-12-02T08:00:00Z"), NOW), NOW)
    assert replaced["metadata"]["resourceVersion"] == "42"
    assert replaced["spec"]["holderIdentity"] == "bob/2" and replaced["spec"]["leaseDurationSeconds"] == 60
    assert replaced["spec"]["acquireTime"] == "2026-12-02T10:00:00.000000Z"
    assert "resourceVersion" not in lease_definition(params, held_of(None, NOW), NOW)["metadata"]
