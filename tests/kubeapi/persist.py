"""State that survives a restart of the test server process (`--state-file PATH`), as etcd keeps a real
kube-apiserver's: every stored object with its resourceVersion and uid, and the revision counter.

Written when the process stops (SIGTERM/SIGINT), read when it starts with an existing file (then neither the
standard namespaces nor the --crds are created again: the CRDs are in the state and are served again). The
watch-event history is not kept: a watch resumed from a resourceVersion older than the restart answers 410
Expired, as a real server whose watch cache was rebuilt may.
"""
import json
import os

from .api import CRDS


def dump(api, path):
    store = api.store
    with store.lock:
        objects = [[group, plural, obj] for (group, plural), stored in store._objects.items()
                   for obj in stored.values()]
        state = {"revision": store._revision, "objects": objects}
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        json.dump(state, handle, separators=(",", ":"))
    os.replace(tmp, path)


def load(api, path):
    """Replace the store's content with the saved state; serve the saved CRDs' types."""
    with open(path) as handle:
        state = json.load(handle)
    store = api.store
    with store.lock:
        store._objects = {}
        for group, plural, obj in state["objects"]:
            metadata = obj["metadata"]
            store._objects.setdefault((group, plural), {})[(metadata.get("namespace") or "", metadata["name"])] = obj
        store._revision = int(state["revision"])
        store._events.clear()
        store._compacted_revision = store._revision  # older resourceVersions: 410 Expired
    for crd in (store._objects.get(CRDS) or {}).values():
        api.registry.register_crd(crd)
