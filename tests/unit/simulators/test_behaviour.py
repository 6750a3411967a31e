"""Behaviour: the state an object is in at a given age, and where its settings come from."""
import pytest

from tests.simulators import behaviour as beh
from tests.simulators.behaviour import Behaviour, BehaviourError, Defaults


@pytest.mark.parametrize("mode, ages, states", [
    ("ready", [0.0, 0.49, 0.5, 100], ["progressing", "progressing", "ready", "ready"]),
    ("never-ready", [0.2, 0.5, 100], ["progressing", "not-ready", "not-ready"]),
    ("fail", [0.2, 0.5, 100], ["progressing", "failed", "failed"]),
    ("flap", [0.2, 0.5, 2.4, 2.5, 4.4, 4.5], ["progressing", "ready", "ready", "failed", "failed", "ready"]),
    ("degrade", [0.2, 0.5, 2.4, 2.5, 100], ["progressing", "ready", "ready", "not-ready", "not-ready"]),
])
def test_state_over_time(mode, ages, states):
    behaviour = Behaviour(delay=0.5, mode=mode, flap_period=2.0, degrade_after=2.0)
    assert [behaviour.state_at(age) for age in ages] == states


def test_next_change_points_at_the_next_transition():
    assert Behaviour(delay=0.5).next_change(0.2) == pytest.approx(0.3)
    assert Behaviour(delay=0.5).next_change(0.7) is None
    assert Behaviour(delay=0.5, mode="flap", flap_period=2).next_change(1.5) == pytest.approx(1.0)
    assert Behaviour(delay=0.5, mode="degrade", degrade_after=2).next_change(1.5) == pytest.approx(1.0)
    assert Behaviour(delay=0.5, mode="degrade", degrade_after=2).next_change(3.0) is None
    assert Behaviour(delay=0.5, mode="fail").next_change(1) is None


def obj(annotations=None, kind="DorisCluster"):
    return {"kind": kind, "metadata": {"name": "x", "namespace": "ns", "annotations": annotations or {}}}


def test_object_annotation_beats_namespace_kind_beats_namespace_beats_defaults():
    defaults = Defaults(delay=0.5, mode="ready")
    ns = {"doriscluster.sim.lakehouse.test/mode": "never-ready", "sim.lakehouse.test/mode": "flap",
          "sim.lakehouse.test/delay-seconds": "3"}
    assert beh.resolve(obj({"sim.lakehouse.test/mode": "fail"}), ns, defaults).mode == "fail"
    assert beh.resolve(obj(), ns, defaults).mode == "never-ready"
    assert beh.resolve(obj(kind="RayCluster"), ns, defaults).mode == "flap"
    assert beh.resolve(obj(kind="RayCluster"), ns, defaults).delay == 3.0
    assert beh.resolve(obj(), {}, defaults) == Behaviour(0.5, "ready", 2.0, 2.0, "")


def test_component_scope_overrides_the_unscoped_setting_only_for_that_component():
    annotations = {"sim.lakehouse.test/be.mode": "fail", "sim.lakehouse.test/mode": "never-ready"}
    assert beh.resolve(obj(annotations), {}, Defaults(), scope="be").mode == "fail"
    assert beh.resolve(obj(annotations), {}, Defaults(), scope="fe").mode == "never-ready"


@pytest.mark.parametrize("annotations, message", [
    ({"sim.lakehouse.test/mode": "sometimes"}, "sim.lakehouse.test/mode must be one of"),
    ({"sim.lakehouse.test/delay-seconds": "soon"}, "sim.lakehouse.test/delay-seconds must be a number"),
    ({"sim.lakehouse.test/delay-seconds": "-1"}, "must not be negative"),
    ({"sim.lakehouse.test/flap-period": "0"}, "flap-period must be positive"),
])
def test_bad_settings_are_refused_naming_the_annotation_and_object(annotations, message):
    with pytest.raises(BehaviourError) as err:
        beh.resolve(obj(annotations), {}, Defaults())
    assert message in str(err.value)
    assert "DorisCluster ns/x" in str(err.value)


def test_children_inherit_only_explicit_settings():
    ns = {"doriscluster.sim.lakehouse.test/delay-seconds": "2"}
    inherited = beh.explicit_annotations(obj({"sim.lakehouse.test/be.mode": "fail"}), ns, scope="be")
    assert inherited == {"sim.lakehouse.test/delay-seconds": "2", "sim.lakehouse.test/mode": "fail"}
    assert beh.explicit_annotations(obj(), {}) == {}


def test_annotations_round_trip_to_the_same_behaviour():
    original = Behaviour(delay=1.25, mode="flap", flap_period=0.7, degrade_after=3, message="boom")
    child = {"kind": "Pod", "metadata": {"annotations": original.annotations()}}
    assert beh.resolve(child, {}, Defaults()) == original
