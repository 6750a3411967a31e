"""How a simulated object behaves over time: delay, mode and the state at a given age.

Settings come from annotations so that a test can steer one object, every object of a kind in a namespace,
or a whole namespace, and fall back to the simulator's global defaults:

  1. the object:      sim.lakehouse.test/<setting>  (or sim.lakehouse.test/<scope>.<setting> for a component,
                       e.g. `sim.lakehouse.test/be.mode: fail` on a DorisCluster, `worker.mode` on a RayCluster)
  2. its namespace:   <kind>.sim.lakehouse.test/<setting>  (kind lower-cased, e.g. doriscluster, cluster)
  3. its namespace:   sim.lakehouse.test/<setting>
  4. the config:      SimulatorConfig defaults (CLI --default-delay, --default-mode, ...)

The namespace levels exist because modules under test create their objects themselves: a test annotates the
namespace, then lets the module create the object that is meant to fail.
"""
from dataclasses import dataclass

PREFIX = "sim.lakehouse.test"

# Settings
DELAY = "delay-seconds"
MODE = "mode"
FLAP_PERIOD = "flap-period"
DEGRADE_AFTER = "degrade-after"
MESSAGE = "message"
SETTINGS = (DELAY, MODE, FLAP_PERIOD, DEGRADE_AFTER, MESSAGE)

# Modes
MODE_READY = "ready"
MODE_NEVER_READY = "never-ready"
MODE_FAIL = "fail"
MODE_FLAP = "flap"
MODE_DEGRADE = "degrade"
MODES = (MODE_READY, MODE_NEVER_READY, MODE_FAIL, MODE_FLAP, MODE_DEGRADE)

# States an object passes through
PROGRESSING = "progressing"  # before the delay has passed
READY = "ready"
FAILED = "failed"
NOT_READY = "not-ready"      # past the delay but not ready and not failed (never-ready, degraded)


class BehaviourError(ValueError):
    pass


@dataclass(frozen=True)
class Behaviour:
    delay: float = 0.5
    mode: str = MODE_READY
    flap_period: float = 2.0
    degrade_after: float = 2.0
    message: str = ""

    def state_at(self, elapsed):
        """The state of an object `elapsed` seconds after the simulator first saw it (or its current spec)."""
        if elapsed < self.delay:
            return PROGRESSING
        after = elapsed - self.delay
        if self.mode == MODE_READY:
            return READY
        if self.mode == MODE_NEVER_READY:
            return NOT_READY
        if self.mode == MODE_FAIL:
            return FAILED
        if self.mode == MODE_FLAP:
            return READY if int(after // self.flap_period) % 2 == 0 else FAILED
        if self.mode == MODE_DEGRADE:
            return READY if after < self.degrade_after else NOT_READY
        raise BehaviourError(f"unknown mode {self.mode!r}")

    def next_change(self, elapsed):
        """Seconds until state_at() changes, or None when it never changes again."""
        if elapsed < self.delay:
            return self.delay - elapsed
        after = elapsed - self.delay
        if self.mode == MODE_FLAP:
            return self.flap_period - (after % self.flap_period)
        if self.mode == MODE_DEGRADE and after < self.degrade_after:
            return self.degrade_after - after
        return None

    def failure_message(self, default):
        return self.message or default

    def with_mode(self, mode):
        return Behaviour(self.delay, mode, self.flap_period, self.degrade_after, self.message)

    def annotations(self):
        """Annotations that give a child object (e.g. a Pod) exactly this behaviour."""
        values = {DELAY: _fmt(self.delay), MODE: self.mode, FLAP_PERIOD: _fmt(self.flap_period),
                  DEGRADE_AFTER: _fmt(self.degrade_after)}
        if self.message:
            values[MESSAGE] = self.message
        return {f"{PREFIX}/{k}": v for k, v in values.items()}


def _fmt(number):
    return f"{number:g}"


@dataclass
class Defaults:
    delay: float = 0.5
    mode: str = MODE_READY
    flap_period: float = 2.0
    degrade_after: float = 2.0

    def behaviour(self):
        return Behaviour(self.delay, self.mode, self.flap_period, self.degrade_after, "")


def _candidates(setting, scope):
    return ([f"{scope}.{setting}"] if scope else []) + [setting]


def lookup(setting, obj_annotations, namespace_annotations, kind, scope=None):
    """The raw annotation value for `setting`, searched in precedence order, or None."""
    layers = [(obj_annotations or {}, PREFIX),
              (namespace_annotations or {}, f"{kind.lower()}.{PREFIX}"),
              (namespace_annotations or {}, PREFIX)]
    for annotations, prefix in layers:
        for name in _candidates(setting, scope):
            value = annotations.get(f"{prefix}/{name}")
            if value is not None:
                return value
    return None


def _seconds(value, setting, where):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BehaviourError(f"{where}: {PREFIX}/{setting} must be a number of seconds, got {value!r}") from None
    if number < 0:
        raise BehaviourError(f"{where}: {PREFIX}/{setting} must not be negative, got {value!r}")
    return number


def resolve(obj, namespace_annotations, defaults, scope=None):
    """The Behaviour of `obj` (a dict), optionally for one component `scope` of it."""
    meta = obj.get("metadata") or {}
    kind = obj.get("kind", "")
    where = f"{kind} {meta.get('namespace', '')}/{meta.get('name', '')}".strip()
    annotations = meta.get("annotations") or {}
    base = defaults.behaviour()

    def get(setting):
        return lookup(setting, annotations, namespace_annotations, kind, scope)

    delay = get(DELAY)
    mode = get(MODE)
    flap = get(FLAP_PERIOD)
    degrade = get(DEGRADE_AFTER)
    message = get(MESSAGE)
    if mode is not None and mode not in MODES:
        raise BehaviourError(f"{where}: {PREFIX}/{MODE} must be one of {', '.join(MODES)}, got {mode!r}")
    flap_period = _seconds(flap, FLAP_PERIOD, where) if flap is not None else base.flap_period
    if flap_period <= 0:
        raise BehaviourError(f"{where}: {PREFIX}/{FLAP_PERIOD} must be positive")
    return Behaviour(
        delay=_seconds(delay, DELAY, where) if delay is not None else base.delay,
        mode=mode if mode is not None else base.mode,
        flap_period=flap_period,
        degrade_after=_seconds(degrade, DEGRADE_AFTER, where) if degrade is not None else base.degrade_after,
        message=message or "",
    )


def strip_scoped(annotations):
    """Annotations minus the component-scoped simulator settings (they are meant for the parent only)."""
    out = {}
    for key, value in (annotations or {}).items():
        if key.startswith(PREFIX + "/") and "." in key.split("/", 1)[1]:
            continue
        out[key] = value
    return out


def explicit_annotations(obj, namespace_annotations, scope=None):
    """The settings set for `obj` by annotations (not the global defaults), as annotations for a child.

    Children such as Pods get these so that a namespace-level `<kind>.sim.lakehouse.test/mode` or a
    component-scoped `be.mode` reaches the pods of that kind or component.
    """
    meta = obj.get("metadata") or {}
    out = {}
    for setting in SETTINGS:
        value = lookup(setting, meta.get("annotations") or {}, namespace_annotations, obj.get("kind", ""), scope)
        if value is not None:
            out[f"{PREFIX}/{setting}"] = value
    return out
