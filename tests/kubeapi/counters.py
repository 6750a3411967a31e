"""Request counters per (verb, group, resource, subresource, dry_run), for "check mode wrote nothing"."""
import threading
from collections import Counter

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


class RequestCounters:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts = Counter()

    def record(self, verb, group="", resource="", subresource="", dry_run=False):
        with self._lock:
            self._counts[(verb, group, resource, subresource, bool(dry_run))] += 1

    def reset(self):
        with self._lock:
            self._counts.clear()

    def snapshot(self):
        """JSON-ready: {"requests": [{verb, group, resource, subresource, dry_run, count}], "totals": {...}}."""
        with self._lock:
            rows = [{"verb": v, "group": g, "resource": r, "subresource": s, "dry_run": d, "count": n}
                    for (v, g, r, s, d), n in sorted(self._counts.items())]
        return {"requests": rows, "totals": summarize(rows)}


def summarize(rows):
    totals = {"writes": 0, "dry_run_writes": 0, "reads": 0}
    for row in rows:
        if row["verb"] in WRITE_VERBS:
            totals["dry_run_writes" if row["dry_run"] else "writes"] += row["count"]
        elif row["verb"] in ("get", "list", "watch"):
            totals["reads"] += row["count"]
        totals[row["verb"]] = totals.get(row["verb"], 0) + row["count"]
    return totals


class RequestCounts:
    """Read-side helper over a snapshot (from the server object or GET /_test/requests)."""

    def __init__(self, snapshot):
        self.rows = snapshot["requests"]

    def count(self, verb=None, resource=None, group=None, subresource=None, dry_run=None):
        """Sum of matching requests; `resource` may be "configmaps" or "deployments.apps"."""
        total = 0
        for row in self.rows:
            qualified = f'{row["resource"]}.{row["group"]}' if row["group"] else row["resource"]
            if verb is not None and row["verb"] != verb:
                continue
            if resource is not None and resource not in (row["resource"], qualified):
                continue
            if group is not None and row["group"] != group:
                continue
            if subresource is not None and row["subresource"] != subresource:
                continue
            if dry_run is not None and row["dry_run"] != dry_run:
                continue
            total += row["count"]
        return total

    def writes(self, resource=None):
        """Persisting writes (create/update/patch/delete without dryRun)."""
        return sum(self.count(verb, resource, dry_run=False) for verb in WRITE_VERBS)

    def dry_run_writes(self, resource=None):
        return sum(self.count(verb, resource, dry_run=True) for verb in WRITE_VERBS)

    def __repr__(self):
        return f"RequestCounts({self.rows!r})"
