"""A private copy of the collection for running phase playbooks in tests.

ansible-playbook runs from the copy (its own build/ directory, its own ./collections link), so tests
never write into the checkout and can add stand-in component roles: ``fake_component`` writes a small
role with the component contract (defaults with <c>_enabled and <c>_budget, apply/wait/validate/
rollback through the manifests role) for components whose real role is not there, or to inject a
failure.
"""
import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.dirname(sys.executable)
ANSIBLE_PLAYBOOK = os.path.join(VENV_BIN, "ansible-playbook")
COPIED = ["ansible.cfg", "galaxy.yml", "meta", "plugins", "roles", "playbooks", "inventories", "requirements.yml"]
CATALOG = os.path.join(ROOT, "playbooks", "vars", "phases.yml")


def phase_components(phase):
    """The components of ``phase`` in stage order, from the phase catalog (the one place that lists them)."""
    with open(CATALOG) as handle:
        stages = yaml.safe_load(handle)["platform_catalog"][phase]["stages"]
    order = []
    for stage in stages:
        for step in stage:
            component = step.split("/", 1)[0]
            if component not in order:
                order.append(component)
    return order


PHASE1_COMPONENTS = phase_components("phase1")


def copy_collection(tmp_path):
    """Copy the collection to <tmp>/ansible_collections/lakehouse/platform; return that path."""
    dest = tmp_path / "ansible_collections" / "lakehouse" / "platform"
    dest.mkdir(parents=True)
    for name in COPIED:
        src = os.path.join(ROOT, name)
        if os.path.isdir(src):
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif os.path.exists(src):
            shutil.copy2(src, dest / name)
    return dest


def _dump(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False))


def fake_component(collection, name, objects, budget=None, fail_in=None):
    """Write roles/<name> as a stand-in component whose apply hands ``objects`` to the manifests role.

    ``fail_in``: "apply" or "wait" makes that step fail (when <name>_fail is true, the default here)
    with a message naming the component, as a real failure would.
    """
    role = collection / "roles" / name
    if role.exists():
        shutil.rmtree(role)
    _dump(role / "defaults" / "main.yml", {
        name + "_enabled": True,
        name + "_fail": fail_in is not None,
        name + "_budget": budget or {"cpu": "100m", "memory": "256Mi", "storage": "1Gi",
                                     "pods": [{"name": name.replace("_", "-"), "cpu": "100m", "memory": "256Mi", "count": 1}]},
    })
    _dump(role / "meta" / "main.yml", {"galaxy_info": {"author": "tests", "description": "stand-in", "license": "GPL-3.0-or-later",
                                                       "min_ansible_version": "2.16"}, "dependencies": []})
    steps = ["apply", "wait", "validate"]
    _dump(role / "tasks" / "main.yml", [
        {"name": "Run " + step, "ansible.builtin.include_tasks": step + ".yml"} for step in steps])
    apply = [{
        "name": "Hand the objects to manifests",
        "ansible.builtin.include_role": {"name": "lakehouse.platform.manifests", "tasks_from": "apply"},
        "vars": {"manifests_component": name, "manifests_objects": objects},
    }]
    # Like a real component: validation runs (and records what it measured) in apply mode only.
    validate = [{"name": "Record the validation", "ansible.builtin.set_fact": {name + "_validation": {"objects": len(objects)}},
                 "when": "(platform_mode | default('render')) == 'apply'"}]
    for step in steps:
        tasks = {"apply": apply, "validate": validate}.get(
            step, [{"name": step + " is a no-op here", "ansible.builtin.debug": {"msg": name + " " + step}}])
        if fail_in == step:
            tasks = tasks + [{"name": "Fail on purpose", "ansible.builtin.fail": {"msg": name + ": injected failure in " + step},
                              "when": name + "_fail | bool"}]
        _dump(role / "tasks" / (step + ".yml"), tasks)
    _dump(role / "tasks" / "rollback.yml", [{
        "name": "Roll back through the inventory",
        "ansible.builtin.include_role": {"name": "lakehouse.platform.manifests", "tasks_from": "rollback"},
        "vars": {"manifests_component": name},
    }])
    return role


def default_fake_objects(name, namespace="data-platform", with_namespace=False):
    objects = []
    if with_namespace:
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": name.replace("_", "-") + "-settings", "namespace": namespace},
                    "data": {"component": name}})
    return objects


def ensure_phase1_components(collection):
    """Stand-ins for the phase 1 component roles that do not exist (yet) in the checkout."""
    faked = []
    for index, name in enumerate(PHASE1_COMPONENTS):
        if not (collection / "roles" / name / "tasks" / "main.yml").exists():
            fake_component(collection, name, default_fake_objects(name, with_namespace=index == 0))
            faked.append(name)
    return faked


PHASE2_WORKLOADS = {"helmrelease.sim.lakehouse.test/workloads": "true"}


def write_inventory(collection, name, variables):
    """A localhost inventory `inventories/<name>` in the copy with `variables` as its group_vars; returns its path."""
    inventory = collection / "inventories" / name
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    (inventory / "group_vars" / "all" / "test.yml").write_text(yaml.safe_dump(variables))
    return "inventories/" + name


def run_playbook(collection, *args, env=None, check=True, timeout=1200):
    """Run ansible-playbook in the copy; returns CompletedProcess (stdout+stderr merged)."""
    # The copy's own settings come last: an ANSIBLE_COLLECTIONS_PATH inherited through `env` (tests/run-all.sh
    # exports the checkout's) would otherwise run the checkout's roles instead of the copy's fakes.
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collection.parent.parent.parent),
        "ANSIBLE_CONFIG": str(collection / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCAL_TEMP": str(collection.parent.parent.parent / "ansible-tmp"),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    result = subprocess.run([ANSIBLE_PLAYBOOK] + list(args), cwd=str(collection), env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                            check=False)
    if check and result.returncode != 0:
        raise AssertionError("ansible-playbook %s failed (rc=%d):\n%s" % (" ".join(args), result.returncode, result.stdout[-6000:]))
    return result


def recap(output):
    """{'ok': n, 'changed': n, 'failed': n, ...} of localhost from the PLAY RECAP."""
    for line in output.splitlines()[::-1]:
        if line.startswith("localhost") and "ok=" in line:
            return dict((key, int(value)) for key, value in (part.split("=") for part in line.split(":", 1)[1].split()))
    raise AssertionError("no PLAY RECAP in output:\n" + output[-3000:])


def seed_phase1_outputs(kube_api, ns):
    """What phase 2 needs from phase 1, made by hand: the namespaces ns['dp'], ns['spark'] and ns['jobs'] (chart
    workloads asked of the Flux simulator), the metastore's Thrift Endpoints with a ready address, the consumers'
    S3 keys Secret."""
    def create(path, body):
        status, answer, _headers = kube_api.request("POST", path, body)
        assert status == 201, answer
    for key in ("dp", "spark", "jobs"):
        create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": ns[key], "annotations": PHASE2_WORKLOADS}})
    seed_phase1_leftovers(kube_api, ns["dp"])


def seed_phase1_leftovers(kube_api, namespace):
    """In ``namespace`` (which exists): the metastore's Thrift Endpoints with a ready address and the consumers'
    S3 keys Secret, what phase 2's preflight asks of phase 1."""
    for path, body in (
            ("endpoints", {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "hive-metastore"},
                           "subsets": [{"addresses": [{"ip": "10.0.0.9"}], "ports": [{"name": "thrift", "port": 9083}]}]}),
            ("secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "iceberg-s3-credentials"},
                         "stringData": {"AWS_ACCESS_KEY_ID": "test-access", "AWS_SECRET_ACCESS_KEY": "test-secret"}})):
        status, answer, _headers = kube_api.request("POST", "/api/v1/namespaces/%s/%s" % (namespace, path), body)
        assert status == 201, answer
