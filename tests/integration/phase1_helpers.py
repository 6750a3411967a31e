"""Helpers for the phase-1 component tests: run a small playbook from the checkout and read back what it
registered, create RGW users and buckets on the real gateway, and read metastore tables on PostgreSQL."""
import json
import os
import subprocess
import sys
import uuid

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.dirname(sys.executable)


class PlaybookRun:
    def __init__(self, proc, results):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results  # {name: registered value} written by `ansible.builtin.copy` in the playbook

    @property
    def output(self):
        return self.stdout + self.stderr

    def changed_tasks(self):
        """Names of the tasks that reported a change (from the default callback's output)."""
        changed, task = [], None
        for line in self.stdout.splitlines():
            if line.startswith("TASK ["):
                task = line[len("TASK ["):].split("]")[0]
            elif line.startswith("changed:") and task and task not in changed:
                changed.append(task)
        return changed

    def errors(self):
        """The failure reports in the output (ansible-core prints them as "[ERROR]" / "fatal:" blocks)."""
        text = self.output
        spots = [i for marker in ("[ERROR]", "fatal:", "FAILED!") for i in [text.find(marker)] if i >= 0]
        return text[min(spots):min(spots) + 4000] if spots else text[-2000:]

    def __repr__(self):
        return "PlaybookRun(rc=%s)\n%s\nresults: %s" % (self.returncode, self.errors(), json.dumps(self.results)[:2000])


def run_playbook(tmp_path, tasks, extra_vars=None, env=None, check=False, diff=False, tags=None, timeout=1200,
                 results=(), pre_vars=None):
    """Run `tasks` on localhost from the repository root (ansible.cfg resolves lakehouse.platform).

    Every name in `results` is written (to JSON) after the tasks, even when a task failed, so tests can read
    the registered values back. Returns a PlaybookRun.
    """
    result_dir = tmp_path / ("results-" + uuid.uuid4().hex[:8])
    result_dir.mkdir()
    dump = [{"name": "Save %s" % name, "ansible.builtin.copy": {
        "content": "{{ %s | default(None) | to_json }}" % name, "dest": str(result_dir / (name + ".json")),
        "mode": "0600"}, "check_mode": False, "changed_when": False} for name in results]
    play = {"name": "phase-1 component test", "hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": dict(pre_vars or {}),
            "tasks": [{"name": "Run the tasks under test", "block": tasks, "always": dump or [
                {"name": "Nothing to save", "ansible.builtin.meta": "noop"}]}]}
    playbook = tmp_path / ("play-%s.yml" % uuid.uuid4().hex[:8])
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    varsfile = tmp_path / ("vars-%s.json" % uuid.uuid4().hex[:8])
    varsfile.write_text(json.dumps(extra_vars or {}))
    command = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,", str(playbook), "-e", "@" + str(varsfile)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if tags:
        command += ["--tags", tags]
    run_env = dict(os.environ if env is None else env)
    run_env.setdefault("ANSIBLE_CONFIG", os.path.join(REPO_ROOT, "ansible.cfg"))
    run_env["ANSIBLE_NOCOLOR"] = "1"
    run_env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
    proc = subprocess.run(command, cwd=REPO_ROOT, env=run_env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    saved = {}
    for name in results:
        path = result_dir / (name + ".json")
        if path.exists():
            saved[name] = json.loads(path.read_text())
    return PlaybookRun(proc, saved)


def create_rgw_user(ceph, uid):
    """A real RGW user with one S3 key pair; returns (access_key, secret_key)."""
    out = ceph.radosgw_admin("user", "create", "--uid", uid, "--display-name", uid)
    keys = json.loads(out.stdout)["keys"][0]
    return keys["access_key"], keys["secret_key"]


def s3_client(endpoint, access_key, secret_key):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def list_keys(client, bucket, prefix=""):
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys
