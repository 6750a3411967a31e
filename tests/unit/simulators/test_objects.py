"""Object helpers: conditions, merge patches, selectors, hashes."""
import datetime

from tests.simulators.objects import (merge_patch, secret_data, secret_values, selector_matches, set_condition,
                                      stable_hash)

T1 = datetime.datetime(2026, 1, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
T2 = datetime.datetime(2026, 1, 1, 11, 0, 0, tzinfo=datetime.timezone.utc)


def test_set_condition_moves_last_transition_time_only_when_status_changes():
    conditions = set_condition([], "Ready", "False", "Progressing", "wait", now=T1)
    same = set_condition(conditions, "Ready", "False", "StillWaiting", "still", now=T2)
    assert same[0]["lastTransitionTime"] == "2026-01-01T10:00:00Z" and same[0]["reason"] == "StillWaiting"
    flipped = set_condition(same, "Ready", "True", "Done", "ok", observed_generation=3, now=T2)
    assert flipped == [{"type": "Ready", "status": "True", "reason": "Done", "message": "ok",
                        "lastTransitionTime": "2026-01-01T11:00:00Z", "observedGeneration": 3}]
    assert conditions[0]["status"] == "False"  # inputs are not mutated


def test_merge_patch_removes_dropped_keys_and_replaces_lists():
    old = {"phase": "Ready", "info": {"secretName": "a", "extra": 1}, "keys": [1, 2]}
    new = {"phase": "Ready", "info": {"secretName": "b"}, "keys": [3]}
    assert merge_patch(old, new) == {"info": {"secretName": "b", "extra": None}, "keys": [3]}
    assert merge_patch({"a": 1}, {"a": 1}) == {}
    assert merge_patch({"a": 1, "b": 2}, {}) == {"a": None, "b": None}


def test_selector_matches_labels_and_expressions():
    labels = {"app": "web", "tier": "front"}
    assert selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert not selector_matches({"matchLabels": {"app": "db"}}, labels)
    assert selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "tier", "operator": "NotIn",
                                                       "values": ["front"]}]}, labels)
    assert selector_matches({"matchExpressions": [{"key": "gone", "operator": "DoesNotExist"}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "gone", "operator": "Exists"}]}, labels)
    assert selector_matches({}, labels)


def test_stable_hash_ignores_key_order_and_changes_with_content():
    assert stable_hash({"a": 1, "b": [1, 2]}) == stable_hash({"b": [1, 2], "a": 1})
    assert stable_hash({"a": 1}) != stable_hash({"a": 2})
    assert len(stable_hash({"a": 1})) == 10


def test_secret_data_round_trip():
    assert secret_values({"data": secret_data({"password": "p@ss:w/rd"})}) == {"password": "p@ss:w/rd"}
