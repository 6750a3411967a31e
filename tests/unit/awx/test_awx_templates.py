"""awx/configure.yml's job templates and workflow come from the phase catalog: one deploy and one
rollback template per phase (its playbook), the status template, and a workflow that runs the phases in
catalog order, each after the previous one succeeded, then the status."""
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _awx_vars(tmp_path):
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "vars_files": [os.path.join(ROOT, "playbooks", "vars", "phases.yml")]
        + [os.path.join(ROOT, "awx", "vars", name) for name in ("controller.yml", "surveys.yml", "templates.yml")],
        "tasks": [{"ansible.builtin.copy": {
            "dest": str(tmp_path / "out.json"), "mode": "0644",
            "content": "{{ {'templates': awx_phase_templates, 'nodes': awx_workflow_nodes} | to_json }}"}}],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + sys.executable, str(tmp_path / "play.yml")]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((tmp_path / "out.json").read_text())


def test_templates_and_workflow_follow_the_catalog(tmp_path):
    with open(os.path.join(ROOT, "playbooks", "vars", "phases.yml")) as handle:
        phases = list(yaml.safe_load(handle)["platform_catalog"])
    data = _awx_vars(tmp_path)
    templates = data["templates"]
    deploys = [t for t in templates if t["job_tags"] == "" and t["name"] != "lakehouse status"]
    rollbacks = [t for t in templates if t["job_tags"] == "rollback"]
    assert [t["playbook"] for t in deploys] == ["playbooks/%s.yml" % p for p in phases]
    assert [t["playbook"] for t in rollbacks] == ["playbooks/%s.yml" % p for p in phases]
    assert all(os.path.exists(os.path.join(ROOT, t["playbook"])) for t in templates)
    assert deploys[0]["name"] == "lakehouse phase 1 - foundation"
    assert rollbacks[0]["name"] == "lakehouse phase 1 - rollback"
    assert all(t["survey"]["spec"] for t in deploys)  # the override justification
    nodes = data["nodes"]
    assert [n["identifier"] for n in nodes] == phases + ["status"]
    for node, following in zip(nodes, phases[1:]):
        assert node["related"]["success_nodes"] == [{"identifier": following}]
        assert node["related"]["failure_nodes"] == [{"identifier": "status"}]
    assert nodes[len(phases) - 1]["related"] == {"always_nodes": [{"identifier": "status"}]}
    names = {t["name"] for t in templates}
    assert all(n["unified_job_template"]["name"] in names for n in nodes)
