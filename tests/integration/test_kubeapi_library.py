"""The server as a library object (in-process thread) and as a process, as other test code uses it."""
import json
import os
import signal
import subprocess
import sys
import time

from kubernetes import client, config

from tests.integration.fixtures.kube import REPO_ROOT, crd_dir
from tests.kubeapi import KubeAPIServer, fetch_request_counts


def test_library_server_with_kubeconfig_and_counters(tmp_path):
    server = KubeAPIServer(crd_dirs=[crd_dir()], port=0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"))
        core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
        names = sorted(ns.metadata.name for ns in core.list_namespace().items)
        assert names == ["default", "kube-public", "kube-system"]
        core.create_namespaced_config_map("default", {"metadata": {"name": "lib"}})
        counts = server.request_counts()
        assert counts.count(verb="list", resource="namespaces") == 1
        assert counts.count(verb="create", resource="configmaps") == 1 and counts.writes() == 1
        assert fetch_request_counts(server.url).writes() == 1
        server.reset_counts()
        assert server.request_counts().writes() == 0
    finally:
        server.stop()


def test_process_entry_point_writes_files_and_stops_on_sigterm(tmp_path):
    files = {name: str(tmp_path / name) for name in ("kubeconfig", "pid", "ready")}
    process = subprocess.Popen([sys.executable, "-m", "tests.kubeapi", "--crds", crd_dir(), "--port", "0",
                                "--kubeconfig", files["kubeconfig"], "--pidfile", files["pid"],
                                "--ready-file", files["ready"]], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(files["ready"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        url = open(files["ready"]).read().strip()
        assert int(open(files["pid"]).read()) == process.pid
        out = subprocess.run(["kubectl", "get", "crd", "-o", "json"], capture_output=True, text=True, check=True,
                             env=dict(os.environ, KUBECONFIG=files["kubeconfig"])).stdout
        crds = {item["metadata"]["name"] for item in json.loads(out)["items"]}
        assert {"rayclusters.ray.io", "dorisclusters.doris.selectdb.com", "clusters.postgresql.cnpg.io",
                "cephobjectstoreusers.ceph.rook.io", "helmreleases.helm.toolkit.fluxcd.io"} <= crds
        assert url in open(files["kubeconfig"]).read()
    finally:
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=15) == 0
