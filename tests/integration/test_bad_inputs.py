"""Bad inputs (tests/integration/bad_inputs.yml, one row each) are refused before anything is written.

Each row runs the phase playbook as a user would (ansible-playbook playbooks/<phase>.yml in apply mode against the
Kubernetes API test server, the row's -e / --tags on the command line). The rows run concurrently (most are refused
by the plan, the first task, in about two seconds), against one server whose request counters are reset first:
after all of them the server saw no create, update, patch or delete (so no run lock was taken), and each row failed
in the task the table names (the plan, or preflight before its lock) with a message holding the option as the user
spells it, the value and the rule.
"""
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from tests.integration.k8s_compare import create_ready_node, delete_node

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_inputs.yml")
with open(TABLE) as _handle:
    ROWS = yaml.safe_load(_handle)["rows"]
WORKERS = 4
REASON = "Bad-input suite: the phase is started below its trigger on the API test server."


def _command(inventory, row):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
               os.path.join("playbooks", row["phase"] + ".yml")] + [str(arg) for arg in row.get("args") or []]
    if row.get("extra_vars"):
        command += ["-e", json.dumps(row["extra_vars"])]
    return command


def _failures(stdout):
    """[(task path, message)] of every failed task, from the ansible.posix.json callback's report."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return []  # the play did not start (the callback writes its report at the end of a started run)
    failed = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            result = task["hosts"].get("localhost", {})
            if result.get("failed"):
                failed.append((task["task"].get("path", ""), str(result.get("msg", ""))))
    return failed


@pytest.fixture(scope="module")
def refusals(kube_api, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bad-inputs")
    suffix = uuid.uuid4().hex[:6]
    inventory = workdir / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (inventory / "group_vars" / "all" / "test.yml").write_text(yaml.safe_dump({
        "platform_mode": "apply", "platform_kubeconfig": kube_api.kubeconfig, "platform_operator": "bad-inputs",
        "platform_namespace": "bad-dp-" + suffix, "platform_state_namespace": "bad-state-" + suffix,
        "platform_render_dir": str(workdir / "build"), "platform_override_reason": REASON}))
    env = dict(kube_api.env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"),
               ANSIBLE_LOCAL_TEMP=str(workdir / "ansible-tmp"), PYTHONDONTWRITEBYTECODE="1")

    def run(row):
        started = time.monotonic()
        done = subprocess.run(_command(str(inventory), row), cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300, check=False)  # each row's rc is asserted by its test
        return row["id"], {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                           "seconds": time.monotonic() - started}

    # A Ready node with room for every phase's budget: the rows preflight refuses get past the capacity fit.
    node = create_ready_node(kube_api, "bad-inputs-" + suffix)
    try:
        kube_api.reset_counts()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            outcomes = dict(pool.map(run, ROWS))
        seconds = time.monotonic() - started
        counts = kube_api.request_counts()
    finally:
        delete_node(kube_api, node)
    return {"rows": outcomes, "counts": counts, "seconds": seconds}


def test_the_table_has_at_least_25_distinct_rows_over_every_phase():
    ids = [row["id"] for row in ROWS]
    assert len(ids) >= 25 and len(set(ids)) == len(ids)
    assert set(row["phase"] for row in ROWS) == {"phase1", "phase2", "phase3"}
    assert all(row.get("expect") and row.get("refused_by") in ("load", "role", "plan", "preflight") for row in ROWS)


def test_no_row_wrote_anything_or_took_the_lock(refusals):
    counts = refusals["counts"]
    assert counts.writes() == 0, counts
    assert counts.dry_run_writes() == 0, counts
    assert counts.count(resource="leases") == counts.count(resource="leases", verb="get"), counts
    print("%d bad inputs refused in %.1fs (%d at a time), 0 writes" % (len(ROWS), refusals["seconds"], WORKERS))


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_bad_input_is_refused_naming_the_option_value_and_rule(refusals, row):
    outcome = refusals["rows"][row["id"]]
    assert outcome["rc"] != 0, outcome["stdout"][-3000:]
    failures = _failures(outcome["stdout"])
    if row["refused_by"] == "load":
        assert failures == [], failures
        failures = [("", outcome["stderr"])]
    assert len(failures) == 1, (failures, outcome["stderr"][-2000:])
    path, message = failures[0]
    if row["refused_by"] == "load":
        pass
    elif row["refused_by"] == "role":  # ansible's argument validation of the phase role, before its tasks
        assert "playbooks/%s.yml" % row["phase"] in path and "Validation of arguments failed" in message, path
    elif row["refused_by"] == "plan":
        assert "/roles/phase/tasks/main.yml" in path, (path, message)
    else:
        assert "/roles/preflight/tasks/" in path and "lock.yml" not in path, (path, message)
    flat = " ".join(message.split())
    missing = [fragment for fragment in row["expect"] if " ".join(fragment.split()) not in flat]
    assert not missing, "missing %s in: %s" % (missing, flat)
