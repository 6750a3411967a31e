# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for one Kubernetes object to satisfy a readiness predicate, by watching it.

How a wait works:

* ``ObjectFeed`` (a background thread) lists the object (``fieldSelector=metadata.name=<name>``),
  then watches from the list's resourceVersion; it re-lists when the watch ends or expires (410
  Gone). A watch that breaks (connection dropped, server restarting, HTTP 429/5xx) is re-established
  with a re-list, after a capped, jittered backoff, up to ``WATCH_RETRIES`` times in a row; it falls
  back to polling every ``poll_interval`` seconds only if watching keeps failing or is refused. Every
  state it sees goes into a queue, so a change reaches the waiter within milliseconds.
* ``ReadinessTracker`` is pure bookkeeping over (time, object) observations: ready or not, since
  when the failure predicate has held, and the last status for messages.
* ``run_wait()`` takes observations from any source with a ``next(timeout)`` method and wakes up
  at the deadline or when a failure's grace period runs out, so unit tests drive it with a scripted
  source and a fake clock, without threads or sleeping.

The client is duck-typed (``list_with_version``, ``watch``, ``get``; see kube.KubeClient).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import random
import threading
import time

try:
    import queue
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for the import sanity test
    import Queue as queue  # noqa: N813

DEFAULT_POLL_INTERVAL = 1.0
# The first read is always allowed to finish, even with timeout=0 ("check once").
INITIAL_READ_ALLOWANCE = 30.0
# A single watch request is bounded so that a server or proxy that never ends streams is re-listed.
MAX_WATCH_SECONDS = 300
MAX_STATUS_CHARS = 400
# Broken watches re-established in a row (each after a re-list) before falling back to polling.
WATCH_RETRIES = 8
WATCH_RETRY_BASE = 0.2
WATCH_RETRY_MAX = 3.0
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)


def _transient_watch_error(error):
    """A watch failure worth re-establishing: the stream was cut, no answer came, or the server said "later"."""
    return bool(getattr(error, "connection", False)) or getattr(error, "status", None) in TRANSIENT_STATUSES


class WaitError(Exception):
    """Base of the waiter's errors; carries the last object seen and the seconds waited."""

    def __init__(self, msg, obj=None, elapsed=0.0):
        super(WaitError, self).__init__(msg)
        self.msg = msg
        self.obj = obj
        self.elapsed = elapsed


class WaitTimeout(WaitError):
    """The predicate did not hold before the timeout."""


class WaitFailed(WaitError):
    """The failure predicate held continuously for the grace period."""


class WaitResult(object):
    def __init__(self, obj, elapsed):
        self.obj = obj
        self.elapsed = elapsed

    def __iter__(self):  # allows: obj, elapsed = wait_for(...)
        return iter((self.obj, self.elapsed))

    def __repr__(self):
        return "WaitResult(elapsed=%.3f)" % self.elapsed


# -- predicates' helpers ------------------------------------------------------------------------------
def condition(obj, type_):
    """The entry of status.conditions with this type, or None."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == type_:
            return cond
    return None


def generation_current(obj, missing_ok=True):
    """True when status.observedGeneration == metadata.generation: the status describes the current spec.

    Objects whose controller never reports observedGeneration (DorisCluster) count as current unless
    missing_ok=False; an object without metadata.generation likewise.
    """
    if not obj:
        return False
    observed = (obj.get("status") or {}).get("observedGeneration")
    generation = (obj.get("metadata") or {}).get("generation")
    if observed is None or generation is None:
        return missing_ok
    return observed == generation


def object_label(kind, name, namespace):
    """'DorisCluster data/doris' or 'Namespace data' — how messages name an object."""
    return "%s %s/%s" % (kind, namespace, name) if namespace else "%s %s" % (kind, name)


def summarize_status(obj):
    """A compact, one-line summary of obj.status for messages.

    Conditions as Type=Status(Reason); other scalar fields as dotted key=value up to three levels
    deep (health.status=Healthy, feStatus.componentCondition.phase=initializing); lists of values as
    their length; timestamps left out; a generation lag as observedGeneration=1/generation=2.
    """
    if obj is None:
        return "object not found"
    status = obj.get("status")
    if not status:
        return "no status yet"
    parts = []
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration") if isinstance(status, dict) else None
    if observed is not None and generation is not None and observed != generation:
        parts.append("observedGeneration=%s/generation=%s" % (observed, generation))
    _summarize_into(parts, "", status, 0)
    text = ", ".join(parts) if parts else json.dumps(status, sort_keys=True, default=str)
    if len(text) > MAX_STATUS_CHARS:
        text = text[:MAX_STATUS_CHARS - 3] + "..."
    return text


def _summarize_into(parts, prefix, value, depth):
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        path = prefix + key
        if key == "observedGeneration" or key.endswith(("Time", "Timestamp", "At")):
            continue
        if key == "conditions" and isinstance(item, list):
            for cond in item:
                if isinstance(cond, dict):
                    text = "%s=%s" % (cond.get("type"), cond.get("status", "?"))
                    if cond.get("reason"):
                        text += "(%s)" % cond["reason"]
                    parts.append(text)
        elif isinstance(item, dict):
            if depth < 2:
                _summarize_into(parts, path + ".", item, depth + 1)
        elif isinstance(item, list):
            parts.append("%s=[%d]" % (path, len(item)))
        elif item is not None and item != "":
            parts.append("%s=%s" % (path, item))


def _seconds(value):
    value = round(value, 1)
    return "%ds" % value if value == int(value) else "%.1fs" % value


# -- the state machine -------------------------------------------------------------------------------
class ReadinessTracker(object):
    """Bookkeeping of observations; no I/O, no clock of its own (times are passed in).

    ready(obj) -> bool is called with the object or None (absent); failed(obj) -> message or None
    is called for present objects only. A failure counts once it has held continuously for
    failure_grace seconds: any observation where failed() returns None resets it (flapping).
    """

    def __init__(self, ready, failed=None, failure_grace=0):
        self._ready = ready
        self._failed = failed
        self.failure_grace = max(0.0, float(failure_grace or 0))
        self.observed = False
        self.obj = None
        self.is_ready = False
        self.failing_since = None
        self.failure_message = None
        self.last_error = None

    def observe(self, obj, now):
        self.observed = True
        self.obj = obj
        self.last_error = None
        self.is_ready = bool(self._ready(obj))
        message = self._failed(obj) if (self._failed and obj is not None and not self.is_ready) else None
        if message:
            if self.failing_since is None:
                self.failing_since = now
            self.failure_message = message
        else:
            self.failing_since = None
            self.failure_message = None

    def note_error(self, error):
        """A read failed; the wait goes on, and a timeout message mentions it."""
        self.last_error = error

    def failure_deadline(self):
        """When the current failure stops being tolerated, or None."""
        if self.failing_since is None:
            return None
        return self.failing_since + self.failure_grace

    def has_failed(self, now):
        deadline = self.failure_deadline()
        return deadline is not None and now >= deadline


# -- the loop -------------------------------------------------------------------------------------------
def run_wait(source, tracker, timeout, label, describe=None, clock=time.monotonic, goal=""):
    """Consume observations from source until ready, failed (after grace) or timed out.

    source.next(timeout) returns ("object", obj_or_None), ("error", message) or None when nothing
    arrived within timeout seconds.
    """
    describe = describe or summarize_status
    start = clock()
    deadline = start + max(0.0, float(timeout))
    while True:
        now = clock()
        if tracker.observed and tracker.is_ready:
            return WaitResult(tracker.obj, now - start)
        if tracker.has_failed(now):
            raise WaitFailed(
                "%s failed: %s (for %s; last status: %s)" % (
                    label, tracker.failure_message, _seconds(now - tracker.failing_since), describe(tracker.obj)),
                tracker.obj, now - start,
            )
        effective_deadline = deadline if tracker.observed else max(deadline, start + INITIAL_READ_ALLOWANCE)
        if now >= effective_deadline:
            raise WaitTimeout(_timeout_message(tracker, timeout, label, describe, goal), tracker.obj, now - start)
        wake_at = effective_deadline
        failure_deadline = tracker.failure_deadline()
        if failure_deadline is not None:
            wake_at = min(wake_at, failure_deadline)
        item = source.next(max(0.0, wake_at - now))
        if item is None:
            continue
        kind, payload = item
        if kind == "object":
            tracker.observe(payload, clock())
        elif kind == "error":
            tracker.note_error(payload)


def _timeout_message(tracker, timeout, label, describe, goal):
    if not tracker.observed:
        last = "never read" + ("" if tracker.last_error is None else " (%s)" % tracker.last_error)
    else:
        last = describe(tracker.obj) if tracker.obj is not None else "object not found"
    goal = " " + goal if goal else ""
    message = "Timed out after %s waiting for %s%s: last status: %s" % (_seconds(float(timeout)), label, goal, last)
    if tracker.failure_message:
        message += "; failing: %s" % tracker.failure_message
    if tracker.observed and tracker.last_error is not None:
        message += "; last error: %s" % tracker.last_error
    return message


def _backoff(failures):
    """Seconds before re-establishing a watch after `failures` breaks in a row: capped exponential, jittered."""
    ceiling = min(WATCH_RETRY_MAX, WATCH_RETRY_BASE * (2 ** (failures - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


# -- the real source: list + watch in a thread -----------------------------------------------------------
class ObjectFeed(object):
    """Observations of one named object from the API, pushed by a daemon thread into a queue."""

    def __init__(self, client, api_version, kind, name, namespace, deadline, poll_interval=DEFAULT_POLL_INTERVAL,
                 clock=time.monotonic):
        self._client = client
        self._api_version = api_version
        self._kind = kind
        self._name = name
        self._namespace = namespace
        self._deadline = deadline
        self._poll_interval = poll_interval
        self._clock = clock
        self._queue = queue.Queue()
        self._stop = threading.Event()
        self._stream = None
        self._thread = threading.Thread(target=self._run, name="lakehouse-waiter-%s" % name)
        self._thread.daemon = True
        self.watching = False  # True once a watch has been established (for tests and debugging)
        self.polling = False  # True after falling back to polling
        self.rewatches = 0  # broken watches re-established (for tests and debugging)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        stream = self._stream
        if stream is not None and hasattr(stream, "close"):
            stream.close()

    def next(self, timeout):
        try:
            return self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def _remaining(self):
        return self._deadline - self._clock()

    def _put_object(self, obj):
        self._queue.put(("object", obj))

    def _list(self):
        items, resource_version = self._client.list_with_version(
            self._api_version, self._kind, namespace=self._namespace,
            field_selector="metadata.name=%s" % self._name,
        )
        matching = [i for i in items if (i.get("metadata") or {}).get("name") == self._name]
        self._put_object(matching[0] if matching else None)
        return resource_version

    def _run(self):
        try:
            self._watch_loop()
        except Exception as e:  # the watch path failed: poll for the rest of the wait
            self._queue.put(("error", "watch failed, polling instead: %s" % e))
            self.polling = True
            self._poll_loop()

    def _watch_loop(self):
        resource_version = None
        listed = False
        failures = 0  # broken watches in a row, without an event in between
        while not self._stop.is_set() and self._remaining() > 0:
            if not listed:
                try:
                    resource_version = self._list()
                except Exception as e:
                    # A read error (API hiccup, CRD registered a moment later) is retried, not fatal.
                    self._queue.put(("error", str(e)))
                    self._stop.wait(self._poll_interval)
                    continue
                listed = True
            seconds = max(1, min(MAX_WATCH_SECONDS, int(self._remaining()) + 1))
            try:
                self._stream = self._client.watch(
                    self._api_version, self._kind, namespace=self._namespace, name=self._name,
                    resource_version=resource_version, timeout=seconds,
                )
                for event_type, obj in self._stream:
                    self.watching = True
                    failures = 0
                    if self._stop.is_set():
                        return
                    rv = (obj.get("metadata") or {}).get("resourceVersion")
                    if rv:
                        resource_version = rv
                    self._put_object(None if event_type == "DELETED" else obj)
            except Exception as e:
                if getattr(e, "status", None) == 410:
                    listed = False  # too old: list again, then watch from the fresh version
                    continue
                if self._stop.is_set():
                    return
                if not _transient_watch_error(e) or failures >= WATCH_RETRIES:
                    raise
                # Cut or refused for now: what changed meanwhile comes from a fresh list, then a new watch.
                failures += 1
                self.rewatches += 1
                self._queue.put(("error", "watch interrupted (%s), re-listing" % e))
                listed = False
                self._stop.wait(_backoff(failures))
                continue
            finally:
                self._stream = None
            # The stream ended (server timeout): resume from the last version seen; a watch that
            # ends at once without ever delivering an event is re-listed to avoid a tight loop.
            if not self.watching:
                listed = False
                self._stop.wait(self._poll_interval)

    def _poll_loop(self):
        while not self._stop.is_set() and self._remaining() > 0:
            try:
                self._put_object(
                    self._client.get(self._api_version, self._kind, self._name, self._namespace)
                )
            except Exception as e:
                self._queue.put(("error", str(e)))
            self._stop.wait(self._poll_interval)


def wait_for(client, api_version, kind, name, namespace, ready, failed=None, timeout=300, failure_grace=0,
             describe=None, poll_interval=DEFAULT_POLL_INTERVAL, clock=time.monotonic, feed_factory=None):
    """Wait until ready(obj) is true for the named object -> WaitResult(obj, elapsed).

    ready(obj) -> bool gets the object as a dict (never called while it does not exist);
    failed(obj) -> str or None returns a failure message. Raises WaitFailed when failed() has held
    for failure_grace seconds, WaitTimeout after timeout seconds (its message names the object and
    its last status, via describe(obj) or summarize_status).
    """
    return _wait(client, api_version, kind, name, namespace, lambda obj: obj is not None and ready(obj), failed,
                 timeout, failure_grace, describe, poll_interval, clock, feed_factory, "")


def wait_absent(client, api_version, kind, name, namespace, timeout=120, poll_interval=DEFAULT_POLL_INTERVAL,
                clock=time.monotonic, feed_factory=None):
    """Wait until the named object no longer exists -> WaitResult(None, elapsed)."""
    return _wait(client, api_version, kind, name, namespace, lambda obj: obj is None, None, timeout, 0, None,
                 poll_interval, clock, feed_factory, "to be deleted")


def _wait(client, api_version, kind, name, namespace, ready, failed, timeout, failure_grace, describe,
          poll_interval, clock, feed_factory, goal):
    label = object_label(kind, name, namespace)
    tracker = ReadinessTracker(ready, failed, failure_grace)
    deadline = clock() + max(float(timeout), INITIAL_READ_ALLOWANCE if timeout <= 0 else 0)
    if feed_factory is None:
        feed = ObjectFeed(client, api_version, kind, name, namespace, deadline, poll_interval, clock)
    else:
        feed = feed_factory(client, api_version, kind, name, namespace, deadline)
    if hasattr(feed, "start"):
        feed.start()
    try:
        return run_wait(feed, tracker, timeout, label, describe, clock, goal)
    finally:
        if hasattr(feed, "stop"):
            feed.stop()
