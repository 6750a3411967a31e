"""Versioned object storage with a bounded watch-event history.

One global resourceVersion counter, bumped on every write, like etcd's revision: clients may compare and
resume watches with it. Objects are stored per (group, plural) so every served version of a type shares them.
"""
import copy
import threading
from collections import deque
from dataclasses import dataclass


@dataclass
class WatchEvent:
    resource_version: int
    type_key: tuple          # (group, plural)
    event_type: str          # ADDED | MODIFIED | DELETED
    obj: dict                # the object after the change (the last state for DELETED)
    old: dict = None         # the object before the change (None for ADDED)


class ResourceVersionTooOld(Exception):
    """The requested resourceVersion is older than the retained event history (-> 410 Gone)."""


class ObjectStore:
    def __init__(self, history_limit=20000, first_resource_version=1000):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._revision = first_resource_version
        self._objects = {}                       # (group, plural) -> {(namespace, name): object}
        self._events = deque(maxlen=history_limit)
        self._compacted_revision = first_resource_version  # events at or below this are gone

    @property
    def revision(self):
        with self.lock:
            return self._revision

    def get(self, type_key, namespace, name):
        with self.lock:
            obj = self._objects.get(type_key, {}).get((namespace or "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, type_key, predicate=None):
        """Snapshot of (objects sorted by namespace/name, revision) taken under one lock."""
        with self.lock:
            items = [copy.deepcopy(o) for k, o in sorted(self._objects.get(type_key, {}).items())
                     if predicate is None or predicate(o)]
            return items, self._revision

    def find(self, predicate):
        """(type_key, copy) of every stored object `predicate` accepts; only matches are copied."""
        with self.lock:
            return [(type_key, copy.deepcopy(obj)) for type_key, objects in self._objects.items()
                    for obj in objects.values() if predicate(obj)]

    def write(self, type_key, obj):
        """Store `obj` (create or replace), stamping a fresh resourceVersion; returns the stored copy."""
        with self.lock:
            metadata = obj["metadata"]
            key = (metadata.get("namespace") or "", metadata["name"])
            objects = self._objects.setdefault(type_key, {})
            old = objects.get(key)
            self._revision += 1
            stored = copy.deepcopy(obj)
            stored["metadata"]["resourceVersion"] = str(self._revision)
            objects[key] = stored
            self._record(WatchEvent(self._revision, type_key, "MODIFIED" if old else "ADDED", stored, old))
            return copy.deepcopy(stored)

    def remove(self, type_key, namespace, name):
        """Delete an object; the DELETED event carries a new resourceVersion like the real server's."""
        with self.lock:
            objects = self._objects.get(type_key, {})
            old = objects.pop((namespace or "", name), None)
            if old is None:
                return None
            self._revision += 1
            final = copy.deepcopy(old)
            final["metadata"]["resourceVersion"] = str(self._revision)
            self._record(WatchEvent(self._revision, type_key, "DELETED", final, old))
            return copy.deepcopy(final)

    def drop_type(self, type_key):
        """Remove every object of a type (CRD deletion), emitting DELETED events."""
        with self.lock:
            for namespace, name in list(self._objects.get(type_key, {})):
                self.remove(type_key, namespace, name)
            self._objects.pop(type_key, None)

    def _record(self, event):
        if len(self._events) == self._events.maxlen:
            self._compacted_revision = self._events[0].resource_version
        self._events.append(event)
        self.changed.notify_all()

    def events_after(self, revision):
        """Events with resourceVersion > revision; raises ResourceVersionTooOld if some were dropped."""
        with self.lock:
            if revision < self._compacted_revision:
                raise ResourceVersionTooOld(revision)
            newer = []
            for event in reversed(self._events):  # newest first: stop at the first already-seen event
                if event.resource_version <= revision:
                    break
                newer.append(event)
            newer.reverse()
            return newer

    def wait_for_change(self, revision, timeout):
        """Block until the global revision passes `revision` or `timeout` seconds elapse."""
        with self.changed:
            if self._revision <= revision:
                self.changed.wait(timeout)
            return self._revision
