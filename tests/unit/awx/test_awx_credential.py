"""awx/configure.yml's Kubernetes credential takes the deployer's token, API server and CA from the kubeconfig that
playbooks/rbac.yml wrote (LAKEHOUSE_DEPLOYER_KUBECONFIG), else from K8S_BEARER_TOKEN/K8S_CA_CERT."""
import base64
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _credential_inputs(tmp_path, env):
    with open(os.path.join(ROOT, "awx", "configure.yml")) as handle:
        tasks = yaml.safe_load(handle)[0]["tasks"]
    task = next(t for t in tasks if "awx.awx.credential" in t)
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "vars_files": [os.path.join(ROOT, "awx", "vars", "controller.yml")],
        "tasks": [{"ansible.builtin.copy": {"dest": str(tmp_path / "out.json"), "mode": "0600",
                                            "content": "{{ awx_inputs | to_json }}"},
                   "vars": dict(task["vars"], awx_inputs=task["awx.awx.credential"]["inputs"])}],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=" + sys.executable, str(tmp_path / "play.yml")]
    run = subprocess.run(command, cwd=ROOT, env=dict(os.environ, ANSIBLE_NOCOLOR="1", **env), capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((tmp_path / "out.json").read_text())


def test_the_credential_is_the_deployers_token_from_its_kubeconfig(tmp_path):
    ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    kubeconfig = tmp_path / "deployer.kubeconfig"
    ca_data = base64.b64encode(ca.encode()).decode()
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "lakehouse-deployer",
        "clusters": [{"name": "prod", "cluster": {"server": "https://api.prod:6443",
                                                  "certificate-authority-data": ca_data}}],
        "users": [{"name": "lakehouse-deployer", "user": {"token": "deployer-token"}}],
        "contexts": [{"name": "lakehouse-deployer", "context": {"cluster": "prod", "user": "lakehouse-deployer"}}]}))
    inputs = _credential_inputs(tmp_path, {"LAKEHOUSE_DEPLOYER_KUBECONFIG": str(kubeconfig),
                                           "K8S_BEARER_TOKEN": "admin-token"})
    expected = ("https://api.prod:6443", "deployer-token", ca)
    assert (inputs["host"], inputs["bearer_token"], inputs["ssl_ca_cert"]) == expected


def test_without_a_deployer_kubeconfig_the_environment_token_is_used(tmp_path):
    inputs = _credential_inputs(tmp_path, {"LAKEHOUSE_DEPLOYER_KUBECONFIG": "", "K8S_BEARER_TOKEN": "env-token",
                                           "K8S_CA_CERT": "env-ca"})
    assert (inputs["host"], inputs["bearer_token"], inputs["ssl_ca_cert"]) == (
        "https://kubernetes.example.com:6443", "env-token", "env-ca")
