"""The controller runtime: shared informers (list + watch), delay work queues, controllers, and a manager.

This mirrors controller-runtime in miniature. An Informer lists a kind, then watches it from the list's
resourceVersion (relisting on 410 Gone or a broken stream) and fans events out to handlers. Each Controller has
one worker thread draining a work queue of object keys; `reconcile(obj)` reads the live object and returns
how many seconds later it wants to run again (a time-based transition), or None. Events on owned kinds
enqueue the owner (found through ownerReferences); a periodic resync enqueues everything as a safety net.
"""
import heapq
import logging
import threading
import time

from . import behaviour as beh
from .kube import Gone, KubeError
from .objects import annotations_of, controller_of, key_of, merge_patch, meta, random_suffix, rfc3339, without

LOG = logging.getLogger("tests.simulators")

WATCH_TIMEOUT = 240       # seconds per watch request (the informer loops); long, to keep background requests few
RETRY_AFTER_ERROR = 1.0   # seconds before a failed reconcile runs again


def node_schedulable(node):
    """Not cordoned, and Ready unless the node reports no conditions at all."""
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = [c for c in conditions if c.get("type") == "Ready"]
    return not ready or ready[0].get("status") == "True"


class Informer:
    """List + watch one kind; keep a cache; call handlers(event_type, obj) for every change."""

    def __init__(self, kube, api_version, kind, stop):
        self.kube = kube
        self.api_version = api_version
        self.kind = kind
        self.stop = stop
        self.cache = {}
        self.handlers = []
        self.synced = threading.Event()
        self._lock = threading.Lock()

    def add_handler(self, handler):
        self.handlers.append(handler)

    def items(self):
        with self._lock:
            return list(self.cache.values())

    def _emit(self, event_type, obj):
        for handler in self.handlers:
            try:
                handler(event_type, obj)
            except Exception:  # noqa: BLE001 - a handler bug must not kill the informer
                LOG.exception("handler failed for %s %s", self.kind, key_of(obj))

    def _relist(self):
        items, version = self.kube.list_with_version(self.api_version, self.kind)
        fresh = {key_of(o): o for o in items}
        with self._lock:
            gone = [o for k, o in self.cache.items() if k not in fresh]
            self.cache = fresh
        for obj in gone:
            self._emit("DELETED", obj)
        for obj in items:
            self._emit("SYNC", obj)
        return version

    def run(self):
        version = None
        while not self.stop.is_set():
            try:
                if version is None:
                    version = self._relist()
                    self.synced.set()
                for event_type, obj in self.kube.watch(self.api_version, self.kind, version, WATCH_TIMEOUT):
                    new_version = meta(obj).get("resourceVersion")
                    if new_version:
                        version = new_version
                    if event_type == "BOOKMARK":
                        continue
                    with self._lock:
                        if event_type == "DELETED":
                            self.cache.pop(key_of(obj), None)
                        else:
                            self.cache[key_of(obj)] = obj
                    self._emit(event_type, obj)
                    if self.stop.is_set():
                        return
            except Gone:
                version = None
            except Exception as exc:  # noqa: BLE001 - connection drops etc.: relist after a pause
                if self.stop.is_set():
                    return
                LOG.warning("watch of %s failed (%s); relisting", self.kind, exc)
                version = None
                self.stop.wait(0.5)


class DelayQueue:
    """Keys with a due time; a key queued twice keeps its earliest due time."""

    def __init__(self):
        self._heap = []
        self._due = {}
        self._cond = threading.Condition()

    def add(self, key, delay=0.0):
        due = time.monotonic() + max(0.0, delay)
        with self._cond:
            current = self._due.get(key)
            if current is not None and current <= due:
                return
            self._due[key] = due
            heapq.heappush(self._heap, (due, key))
            self._cond.notify()

    def get(self, stop):
        """Block until a key is due (returns it) or stop is set (returns None)."""
        with self._cond:
            while not stop.is_set():
                now = time.monotonic()
                while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
                    heapq.heappop(self._heap)  # superseded entry
                if self._heap and self._heap[0][0] <= now:
                    due, key = heapq.heappop(self._heap)
                    del self._due[key]
                    return key
                timeout = (self._heap[0][0] - now) if self._heap else 0.5
                self._cond.wait(min(timeout, 0.5))
            return None

    def wake(self):
        with self._cond:
            self._cond.notify_all()


class Context:
    """What controllers share: the API client, the config, informer caches, clocks and allocators."""

    def __init__(self, kube, config):
        self.kube = kube
        self.config = config
        self.informers = {}
        self._first_seen = {}
        self._lock = threading.Lock()
        self._node_index = 0
        self._ip_counter = {}

    # -- informers -----------------------------------------------------------------------------------------
    def cached(self, api_version, kind):
        informer = self.informers.get((api_version, kind))
        return informer.items() if informer else self.kube.list(api_version, kind)

    def namespace_annotations(self, namespace):
        if not namespace:
            return {}
        for ns in self.cached("v1", "Namespace"):
            if meta(ns).get("name") == namespace:
                return annotations_of(ns)
        live = self.kube.get("v1", "Namespace", namespace)
        return annotations_of(live) if live else {}

    def behaviour(self, obj, scope=None):
        return beh.resolve(obj, self.namespace_annotations(meta(obj).get("namespace")),
                           self.config.defaults, scope)

    def inherited_annotations(self, obj, scope=None):
        """Simulator settings a child of obj (e.g. its Pods) should carry."""
        return beh.explicit_annotations(obj, self.namespace_annotations(meta(obj).get("namespace")), scope)

    # -- time ---------------------------------------------------------------------------------------------
    def elapsed(self, obj, tag=""):
        """Seconds since this simulator first saw the object (per uid and tag, e.g. a generation)."""
        key = (meta(obj).get("uid") or key_of(obj), tag)
        now = time.monotonic()
        with self._lock:
            start = self._first_seen.setdefault(key, now)
        return now - start

    def mark_done(self, obj, tag=""):
        """Treat the object as long past its delay (it was finished before this simulator started)."""
        key = (meta(obj).get("uid") or key_of(obj), tag)
        with self._lock:
            self._first_seen.setdefault(key, time.monotonic() - 10 ** 6)

    def forget(self, obj):
        uid = meta(obj).get("uid") or key_of(obj)
        with self._lock:
            for key in [k for k in self._first_seen if k[0] == uid]:
                del self._first_seen[key]

    # -- allocators -----------------------------------------------------------------------------------------
    def pick_node(self):
        """Round-robin over schedulable Ready Nodes (None when there are none), like a very fair scheduler."""
        nodes = sorted(meta(n).get("name") for n in self.cached("v1", "Node") if node_schedulable(n))
        if not nodes:
            return None
        with self._lock:
            name = nodes[self._node_index % len(nodes)]
            self._node_index += 1
        return name

    def allocate_ip(self, pool):
        """Unique addresses per pool: pods 10.244.x.y, services 10.96.x.y."""
        bases = {"pod": (10, 244), "service": (10, 96)}
        with self._lock:
            n = self._ip_counter.get(pool, 0) + 1
            self._ip_counter[pool] = n
        a, b = bases[pool]
        return f"{a}.{b + n // 250}.{n // 250 % 250}.{n % 250 + 1}" if n >= 250 * 250 else \
            f"{a}.{b}.{n // 250}.{n % 250 + 1}"

    # -- events -----------------------------------------------------------------------------------------------
    def record_event(self, obj, event_type, reason, message, component):
        """A core/v1 Event about obj, as the operator's event recorder would write it."""
        now = rfc3339()
        md = meta(obj)
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{md.get('name')}.{random_suffix(10)}", "namespace": md.get("namespace")},
            "involvedObject": {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
                               "name": md.get("name"), "namespace": md.get("namespace"),
                               "uid": md.get("uid"), "resourceVersion": md.get("resourceVersion")},
            "reason": reason, "message": message, "type": event_type,
            "source": {"component": component}, "reportingComponent": component,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }
        try:
            self.kube.create(event)
        except KubeError as exc:
            LOG.warning("could not record event %s on %s: %s", reason, key_of(obj), exc)


class Controller:
    """Base class. Subclasses set api_version/kind, optionally `owns` (child kinds whose events enqueue the
    controlling owner of this kind) and `watches` ((api_version, kind, mapper(obj) -> [keys])),
    and implement reconcile(obj) -> seconds-until-next-run or None."""

    api_version = None
    kind = None
    owns = ()
    watches = ()
    group = "core"      # the --only name this controller belongs to
    status_subresource = True

    def __init__(self, ctx):
        self.ctx = ctx
        self.kube = ctx.kube
        self.config = ctx.config
        self.queue = DelayQueue()
        self._deleted = {}
        self._deleted_lock = threading.Lock()

    @property
    def name(self):
        return type(self).__name__

    # The object is passed positionally (positional-only, `/`), so each controller names it after
    # what it reconciles (pod, cluster, app, ...) without breaking the override contract.
    def reconcile(self, obj, /):  # pragma: no cover - abstract
        raise NotImplementedError

    def deleted(self, obj, /):
        """Called once when an object of this kind is deleted (cleanup the API's GC does not do)."""

    def note_deleted(self, obj):
        with self._deleted_lock:
            self._deleted[key_of(obj)] = obj

    def take_deleted(self, key):
        with self._deleted_lock:
            return self._deleted.pop(key, None)

    # -- helpers for subclasses ---------------------------------------------------------------------------
    def write_status(self, obj, status, volatile=()):
        """Write `status` when it differs from the live one (ignoring `volatile` top-level keys).

        Uses the status subresource with a merge patch computed against the live status, so keys we drop
        are removed. Returns the updated object (or obj unchanged when nothing was written).
        """
        old = obj.get("status") or {}
        if without(old, volatile) == without(status, volatile):
            return obj
        patch = {"status": merge_patch(old, status)}
        md = meta(obj)
        return self.kube.patch(obj["apiVersion"], obj["kind"], md["name"], md.get("namespace"), patch,
                               subresource="status" if self.status_subresource else None)

    def owner_keys(self, obj):
        ref = controller_of(obj)
        if ref and ref.get("kind") == self.kind and ref.get("apiVersion", "").split("/")[0] == \
                self.api_version.split("/")[0]:
            return [(meta(obj).get("namespace") or "", ref.get("name"))]
        return []


class Manager:
    """Runs a set of controllers against one API server until stopped."""

    def __init__(self, kube, config, controller_classes):
        self.kube = kube
        self.config = config
        self.stop_event = threading.Event()
        self.ctx = Context(kube, config)
        self.controllers = [cls(self.ctx) for cls in controller_classes]
        self.threads = []
        # Kinds the context reads from cache, whether or not a controller watches them.
        for api_version, kind in (("v1", "Namespace"), ("v1", "Node")):
            self._informer(api_version, kind)
        for controller in self.controllers:
            self._wire(controller)

    def _informer(self, api_version, kind):
        key = (api_version, kind)
        if key not in self.ctx.informers:
            self.ctx.informers[key] = Informer(self.kube, api_version, kind, self.stop_event)
        return self.ctx.informers[key]

    def _wire(self, controller):
        primary = self._informer(controller.api_version, controller.kind)

        def on_primary(event_type, obj, controller=controller):
            if event_type == "DELETED":
                # Cleanup runs on the controller's worker, after any reconcile already in flight (which may
                # still create children of the object being deleted).
                controller.note_deleted(obj)
            controller.queue.add(key_of(obj))

        primary.add_handler(on_primary)
        for api_version, kind in controller.owns:
            def on_owned(event_type, obj, controller=controller):
                for key in controller.owner_keys(obj):
                    controller.queue.add(key)
            self._informer(api_version, kind).add_handler(on_owned)
        for api_version, kind, mapper in controller.watches:
            def on_watched(event_type, obj, controller=controller, mapper=mapper):
                for key in mapper(controller, obj) or []:
                    controller.queue.add(key)
            self._informer(api_version, kind).add_handler(on_watched)

    def _work(self, controller):
        while not self.stop_event.is_set():
            key = controller.queue.get(self.stop_event)
            if key is None:
                return
            namespace, name = key
            gone = controller.take_deleted(key)
            if gone is not None:
                try:
                    controller.deleted(gone)
                except Exception:  # noqa: BLE001 - cleanup is best effort, like an operator without finalizer
                    LOG.exception("%s failed to clean up after %s", controller.name, key)
                finally:
                    self.ctx.forget(gone)
            try:
                obj = self.kube.get(controller.api_version, controller.kind, name, namespace or None)
                if obj is None:
                    continue
                again = controller.reconcile(obj)
                if again is not None:
                    controller.queue.add(key, again)
            except beh.BehaviourError as exc:
                LOG.error("%s %s: %s", controller.name, key, exc)
            except Exception:  # noqa: BLE001 - keep the worker alive, retry like a real controller
                if self.stop_event.is_set():
                    return
                LOG.exception("%s failed to reconcile %s; retrying", controller.name, key)
                controller.queue.add(key, RETRY_AFTER_ERROR)

    def _resync(self):
        while not self.stop_event.wait(self.config.resync_seconds):
            for controller in self.controllers:
                informer = self.ctx.informers[(controller.api_version, controller.kind)]
                for obj in informer.items():
                    controller.queue.add(key_of(obj))

    def start(self, wait_synced=30.0):
        for informer in self.ctx.informers.values():
            self._spawn(informer.run, f"informer-{informer.kind}")
        deadline = time.monotonic() + wait_synced
        for informer in self.ctx.informers.values():
            if not informer.synced.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"informer for {informer.kind} did not sync within {wait_synced}s")
        for controller in self.controllers:
            self._spawn(lambda c=controller: self._work(c), f"worker-{controller.name}")
        self._spawn(self._resync, "resync")
        LOG.info("simulators running: %s", ", ".join(c.name for c in self.controllers))

    def _spawn(self, target, name):
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self, timeout=5.0):
        self.stop_event.set()
        for controller in self.controllers:
            controller.queue.wake()
        self.kube.close_watches()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
