"""Controller runtime pieces that need no server: work queue, clocks, controller selection, CLI config."""
import threading
import time

import pytest

from tests.simulators import GROUPS, controller_classes
from tests.simulators.__main__ import config_from_args, parse_args
from tests.simulators.config import SimulatorConfig
from tests.simulators.core import PodLifecycle
from tests.simulators.rook import CephObjectStoreUserController
from tests.simulators.runtime import Context, DelayQueue


def test_delay_queue_returns_due_keys_in_order_and_keeps_the_earliest_due_time():
    queue, stop = DelayQueue(), threading.Event()
    queue.add("late", 0.2)
    queue.add("now")
    queue.add("late", 5.0)  # a later request does not postpone the earlier one
    assert queue.get(stop) == "now"
    start = time.monotonic()
    assert queue.get(stop) == "late"
    assert 0.1 < time.monotonic() - start < 2.0


def test_delay_queue_get_returns_none_when_stopped():
    queue, stop = DelayQueue(), threading.Event()
    stop.set()
    assert queue.get(stop) is None


def test_elapsed_is_per_object_and_tag_and_mark_done_skips_the_delay():
    ctx = Context(kube=None, config=SimulatorConfig())
    obj = {"metadata": {"uid": "a", "name": "x", "namespace": "n"}}
    assert ctx.elapsed(obj, 1) < 0.1
    time.sleep(0.05)
    assert ctx.elapsed(obj, 1) >= 0.05
    assert ctx.elapsed(obj, 2) < 0.05  # a new generation starts its own clock
    ctx.mark_done(obj, 3)
    assert ctx.elapsed(obj, 3) > 1000
    ctx.forget(obj)
    assert ctx.elapsed(obj, 1) < 0.05


def test_ip_allocation_is_unique():
    ctx = Context(kube=None, config=SimulatorConfig())
    addresses = [ctx.allocate_ip("pod") for _allocation in range(600)]
    assert len(set(addresses)) == 600 and addresses[0] == "10.244.0.2"


def test_controller_selection():
    everything = controller_classes()
    assert PodLifecycle in everything and CephObjectStoreUserController in everything
    assert len(everything) == 7 + sum(len(v) for v in GROUPS.values())
    only_rook = controller_classes(["rook"])
    assert CephObjectStoreUserController in only_rook and PodLifecycle in only_rook
    assert all(c not in only_rook for c in GROUPS["doris"])
    assert controller_classes(["kuberay"]) == controller_classes(["ray"])
    with pytest.raises(ValueError, match="unknown simulator group"):
        controller_classes(["rooks"])


def test_cli_config(tmp_path, monkeypatch):
    password_file = tmp_path / "pw"
    password_file.write_text("from-file\n")
    monkeypatch.setenv("SIM_POSTGRES_PASSWORD", "from-env")
    args = parse_args(["--kubeconfig", "kc", "--default-delay", "0.2", "--default-mode", "flap",
                       "--postgres-host", "127.0.0.1", "--postgres-port", "6543", "--postgres-user", "admin"])
    config = config_from_args(args)
    assert (config.defaults.delay, config.defaults.mode) == (0.2, "flap")
    assert (config.postgres.host, config.postgres.port, config.postgres.user, config.postgres.password) == \
        ("127.0.0.1", 6543, "admin", "from-env")
    args = parse_args(["--kubeconfig", "kc", "--postgres-host", "h", "--postgres-password-file", str(password_file)])
    assert config_from_args(args).postgres.password == "from-file"
    assert config_from_args(parse_args(["--kubeconfig", "kc"])).postgres is None
