# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The waiter's rules (ready, failure grace, flapping, timeout, messages) on a scripted source and a fake
clock, so every test is deterministic and takes no wall time; then the list+watch feed on a fake client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import queue
import threading
import time

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils import waiter
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import (
    ObjectFeed,
    ReadinessTracker,
    WaitFailed,
    WaitTimeout,
    condition,
    generation_current,
    run_wait,
    summarize_status,
    wait_absent,
    wait_for,
)


class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class ScriptedSource(object):
    """Delivers (at_time, item) pairs; next(timeout) advances the fake clock like a blocking queue would."""

    def __init__(self, clock, script):
        self.clock = clock
        self.script = list(script)
        self.waits = []

    def next(self, timeout):
        self.waits.append(timeout)
        if self.script and self.script[0][0] <= self.clock.now + timeout:
            at, item = self.script.pop(0)
            self.clock.now = max(self.clock.now, at)
            return item
        self.clock.now += timeout
        return None


def obj(phase, generation=1, observed=1, **status):
    status.update(phase=phase, observedGeneration=observed)
    return {"apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser",
            "metadata": {"name": "u", "namespace": "rook", "generation": generation}, "status": status}


def seen(at, o):
    return (at, ("object", o))


def phase_ready(o):
    return o is not None and o["status"]["phase"] == "Ready"


def phase_failed(o):
    return "reconcile failed" if o["status"]["phase"] == "ReconcileFailed" else None


def run(script, ready=phase_ready, failed=None, grace=0, timeout=30, describe=None):
    clock = FakeClock()
    source = ScriptedSource(clock, script)
    tracker = ReadinessTracker(ready, failed, grace)
    return run_wait(source, tracker, timeout, "CephObjectStoreUser rook/u", describe, clock)


def test_ready_on_first_read_returns_at_once():
    result = run([seen(0, obj("Ready"))])
    assert result.obj["status"]["phase"] == "Ready"
    assert result.elapsed == 0


def test_ready_when_the_status_changes():
    result = run([seen(0, obj("")), seen(0.4, obj("Progressing")), seen(2.5, obj("Ready"))])
    assert result.elapsed == pytest.approx(2.5)


def test_failure_persisting_for_the_grace_period_fails_at_grace_end():
    with pytest.raises(WaitFailed) as err:
        run([seen(0, obj("")), seen(1, obj("ReconcileFailed"))], failed=phase_failed, grace=5)
    assert err.value.elapsed == pytest.approx(6)
    assert "CephObjectStoreUser rook/u failed: reconcile failed" in str(err.value)
    assert "for 5s" in str(err.value)
    assert "phase=ReconcileFailed" in str(err.value)


def test_the_waiter_wakes_up_at_the_grace_deadline_without_any_event():
    # No event after t=1: the loop must not sleep until the 30 s timeout.
    with pytest.raises(WaitFailed) as err:
        run([seen(1, obj("ReconcileFailed"))], failed=phase_failed, grace=2, timeout=30)
    assert err.value.elapsed == pytest.approx(3)


def test_flapping_failure_restarts_the_grace_period():
    script = [
        seen(0, obj("ReconcileFailed")),
        seen(3, obj("Progressing")),        # recovers before the 5 s grace ran out
        seen(4, obj("ReconcileFailed")),    # fails again: grace counts from 4
    ]
    with pytest.raises(WaitFailed) as err:
        run(script, failed=phase_failed, grace=5)
    assert err.value.elapsed == pytest.approx(9)


def test_flapping_failure_that_ends_ready_succeeds():
    script = [seen(0, obj("ReconcileFailed")), seen(4, obj("Progressing")), seen(5, obj("ReconcileFailed")),
              seen(9, obj("Ready"))]
    result = run(script, failed=phase_failed, grace=5)
    assert result.elapsed == pytest.approx(9)


def test_zero_grace_fails_on_the_first_failed_observation():
    with pytest.raises(WaitFailed) as err:
        run([seen(0, obj("")), seen(0.5, obj("ReconcileFailed"))], failed=phase_failed, grace=0)
    assert err.value.elapsed == pytest.approx(0.5)


def test_ready_wins_over_failed():
    def failed_always(o):
        return "noisy warning"
    result = run([seen(0, obj("Ready"))], failed=failed_always, grace=0)
    assert result.obj["status"]["phase"] == "Ready"


def test_timeout_message_names_the_object_and_its_last_status():
    with pytest.raises(WaitTimeout) as err:
        run([seen(0, obj("")), seen(1, obj("Progressing", reason="waiting for store"))], timeout=30)
    message = str(err.value)
    assert message.startswith("Timed out after 30s waiting for CephObjectStoreUser rook/u: last status: ")
    assert "phase=Progressing" in message and "reason=waiting for store" in message
    assert err.value.elapsed == pytest.approx(30)
    assert err.value.obj["status"]["phase"] == "Progressing"


def test_timeout_message_uses_describe():
    def describe(o):
        return "fe=initializing(1/3)"
    with pytest.raises(WaitTimeout) as err:
        run([seen(0, obj(""))], timeout=30, describe=describe)
    assert str(err.value) == "Timed out after 30s waiting for CephObjectStoreUser rook/u: last status: fe=initializing(1/3)"


def test_timeout_while_failure_within_grace_mentions_the_failure():
    with pytest.raises(WaitTimeout) as err:
        run([seen(0, obj("")), seen(28, obj("ReconcileFailed"))], failed=phase_failed, grace=10, timeout=30)
    assert "failing: reconcile failed" in str(err.value)


def test_absent_object_is_not_ready_and_reported_as_not_found():
    with pytest.raises(WaitTimeout) as err:
        run([seen(0, None)], timeout=5)
    assert "last status: object not found" in str(err.value)


def test_deleted_then_recreated_object_is_followed():
    result = run([seen(0, obj("Ready", generation=2, observed=1)), seen(1, None), seen(2, obj("Ready"))],
                 ready=lambda o: o is not None and generation_current(o) and phase_ready(o))
    assert result.elapsed == pytest.approx(2)


def test_read_errors_do_not_end_the_wait_but_appear_in_the_timeout_message():
    with pytest.raises(WaitTimeout) as err:
        run([(0, ("error", "HTTP 503 unavailable"))], timeout=5)
    assert "never read (HTTP 503 unavailable)" in str(err.value)
    # a read that was never answered gets the initial-read allowance, not just the timeout
    assert err.value.elapsed == pytest.approx(waiter.INITIAL_READ_ALLOWANCE)


def test_zero_timeout_checks_once():
    result = run([seen(0.2, obj("Ready"))], timeout=0)
    assert result.elapsed == pytest.approx(0.2)
    with pytest.raises(WaitTimeout):
        run([seen(0.2, obj("Pending")), seen(5, obj("Ready"))], timeout=0)


# -- helpers ---------------------------------------------------------------------------------------
def test_generation_current():
    assert generation_current(obj("Ready", generation=3, observed=3))
    assert not generation_current(obj("Ready", generation=3, observed=2))
    no_observed = {"metadata": {"generation": 2}, "status": {"phase": "Ready"}}
    assert generation_current(no_observed)
    assert not generation_current(no_observed, missing_ok=False)
    assert not generation_current(None)


def test_condition():
    o = {"status": {"conditions": [{"type": "HeadPodReady", "status": "True"}, {"type": "ReplicaFailure", "status": "False"}]}}
    assert condition(o, "ReplicaFailure")["status"] == "False"
    assert condition(o, "Ready") is None
    assert condition({}, "Ready") is None


def test_summarize_status_is_compact_and_shows_generation_lag():
    o = {"metadata": {"generation": 2}, "status": {
        "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "False", "reason": "Progressing",
                        "lastTransitionTime": "2026-01-01T00:00:00Z"}],
        "health": {"status": "Degraded", "lastTransitionTime": "x"},
        "feStatus": {"componentCondition": {"phase": "initializing"}, "runningInstances": ["a"]},
    }}
    text = summarize_status(o)
    assert text == ("observedGeneration=1/generation=2, Ready=False(Progressing), health.status=Degraded, "
                    "feStatus.componentCondition.phase=initializing, feStatus.runningInstances=[1]")
    assert summarize_status({"status": {}}) == "no status yet"
    assert len(summarize_status({"status": {"k%d" % i: "v" * 20 for i in range(100)}})) == waiter.MAX_STATUS_CHARS


# -- the list+watch feed against a fake client -------------------------------------------------------
class FakeWatch(object):
    def __init__(self, events):
        self.events = events  # a queue.Queue of (type, obj) | Exception | None (= stream end)
        self.closed = False

    def __iter__(self):
        while not self.closed:
            try:
                item = self.events.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    def close(self):
        self.closed = True


class Gone(Exception):
    status = 410


class FakeClient(object):
    def __init__(self, obj=None, watch_error=None):
        self.obj = obj
        self.events = queue.Queue()
        self.watch_error = watch_error
        self.calls = []

    def list_with_version(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        self.calls.append(("list", field_selector))
        return ([self.obj] if self.obj else []), "100"

    def watch(self, api_version, kind, namespace=None, name=None, resource_version=None, timeout=None, **_):
        self.calls.append(("watch", resource_version))
        if self.watch_error:
            raise self.watch_error
        return FakeWatch(self.events)

    def get(self, api_version, kind, name, namespace=None):
        self.calls.append(("get", name))
        return self.obj

    def change(self, o):
        """Another actor writes the object: the store changes and a watch event is sent."""
        self.obj = o
        self.events.put(("MODIFIED", o))


def later(seconds, fn, *args):
    timer = threading.Timer(seconds, fn, args)
    timer.start()
    return timer


def test_wait_for_sees_a_watch_event_quickly():
    client = FakeClient(obj("Progressing"))
    later(0.2, client.change, obj("Ready"))
    started = time.monotonic()
    result = wait_for(client, "ceph.rook.io/v1", "CephObjectStoreUser", "u", "rook", phase_ready, timeout=10)
    assert result.obj["status"]["phase"] == "Ready"
    assert time.monotonic() - started < 1.0
    assert client.calls[:2] == [("list", "metadata.name=u"), ("watch", "100")]
    assert not any(call[0] == "get" for call in client.calls)  # no polling while the watch works


def test_expired_watch_is_relisted():
    client = FakeClient(obj("Progressing"))
    client.events.put(Gone("too old"))
    later(0.2, client.change, obj("Ready"))
    result = wait_for(client, "ceph.rook.io/v1", "CephObjectStoreUser", "u", "rook", phase_ready, timeout=10)
    assert result.obj["status"]["phase"] == "Ready"
    assert [c[0] for c in client.calls].count("list") >= 2


def test_failing_watch_falls_back_to_polling():
    client = FakeClient(obj("Progressing"), watch_error=RuntimeError("405 watch not allowed"))
    later(0.2, setattr, client, "obj", obj("Ready"))
    started = time.monotonic()
    result = wait_for(client, "ceph.rook.io/v1", "CephObjectStoreUser", "u", "rook", phase_ready, timeout=10,
                      poll_interval=0.05)
    assert result.obj["status"]["phase"] == "Ready"
    assert time.monotonic() - started < 1.0
    assert ("get", "u") in client.calls


def test_deleted_event_satisfies_wait_absent():
    client = FakeClient(obj("Ready"))
    later(0.1, client.events.put, ("DELETED", obj("Ready")))
    result = wait_absent(client, "ceph.rook.io/v1", "CephObjectStoreUser", "u", "rook", timeout=10)
    assert result.obj is None


def test_wait_absent_timeout_says_what_it_waited_for():
    client = FakeClient(obj("Ready"))
    with pytest.raises(WaitTimeout) as err:
        wait_absent(client, "ceph.rook.io/v1", "CephObjectStoreUser", "u", "rook", timeout=0.3)
    assert "waiting for CephObjectStoreUser rook/u to be deleted: last status: phase=Ready" in str(err.value)


def test_feed_stop_closes_the_watch():
    client = FakeClient(obj("Progressing"))
    feed = ObjectFeed(client, "v1", "X", "u", "rook", deadline=time.monotonic() + 10).start()
    assert feed.next(2) == ("object", obj("Progressing"))
    deadline = time.monotonic() + 2
    while feed._stream is None and time.monotonic() < deadline:
        time.sleep(0.01)
    stream = feed._stream
    feed.stop()
    feed._thread.join(2)
    assert stream.closed and not feed._thread.is_alive()


def test_list_errors_are_retried_until_the_kind_appears():
    """A CRD registered a moment after the wait starts: failed reads are retried, not fatal."""
    client = FakeClient(obj("Ready"))
    failures = [RuntimeError("Kind CephObjectStoreUser not found")] * 2
    real_list = client.list_with_version

    def flaky_list(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real_list(*args, **kwargs)

    client.list_with_version = flaky_list
    result = wait_for(client, "ceph.rook.io/v1", "CephObjectStoreUser", "u", "rook", phase_ready, timeout=10,
                      poll_interval=0.05)
    assert result.obj["status"]["phase"] == "Ready" and not failures


# -- broken watches: re-listed and watched again, polling only when it keeps failing ---------------------------
class Cut(Exception):
    """A stream cut mid-wait, as KubeClient's WatchStream reports it (no HTTP answer)."""
    connection = True


class Unavailable(Exception):
    status = 503


def test_a_cut_watch_is_relisted_and_watched_again_not_polled():
    client = FakeClient(obj("Progressing"))
    client.events.put(Cut("stream ended prematurely"))
    client.events.put(Unavailable("503 while restarting"))
    later(0.6, client.change, obj("Ready"))
    feeds = []

    def factory(c, api_version, kind, name, namespace, deadline):
        feeds.append(ObjectFeed(c, api_version, kind, name, namespace, deadline))
        return feeds[-1]

    result = wait_for(client, "ceph.rook.io/v1", "CephObjectStoreUser", "u", "rook", phase_ready, timeout=10,
                      feed_factory=factory)
    assert result.obj["status"]["phase"] == "Ready"
    assert feeds[0].rewatches == 2 and not feeds[0].polling
    assert [c[0] for c in client.calls].count("list") == 3  # a fresh list after each break
    assert not any(call[0] == "get" for call in client.calls)


def test_a_watch_that_keeps_breaking_falls_back_to_polling(monkeypatch):
    monkeypatch.setattr(waiter, "WATCH_RETRIES", 2)
    monkeypatch.setattr(waiter, "_backoff", lambda failures: 0.01)
    client = FakeClient(obj("Progressing"), watch_error=Cut("refused"))
    later(0.3, setattr, client, "obj", obj("Ready"))
    result = wait_for(client, "ceph.rook.io/v1", "CephObjectStoreUser", "u", "rook", phase_ready, timeout=10,
                      poll_interval=0.05)
    assert result.obj["status"]["phase"] == "Ready"
    assert [c[0] for c in client.calls].count("watch") == 3  # the first and two re-established
    assert ("get", "u") in client.calls


def test_watch_backoff_is_capped_and_jittered():
    delays = [waiter._backoff(n) for n in range(1, 12)]
    assert all(d <= waiter.WATCH_RETRY_MAX for d in delays)
    assert delays[0] <= waiter.WATCH_RETRY_BASE and delays[-1] >= waiter.WATCH_RETRY_MAX / 2
