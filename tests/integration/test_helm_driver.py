"""The helm chart driver run for real: roles/chart_release with platform_chart_driver=helm drives the helm
v3 CLI (scripts/install-test-deps.d/helm.sh) through kubernetes.core.helm against the Kubernetes API test
server, from a chart repository served on 127.0.0.1 (`helm package` + `helm repo index` of
tests/integration/charts/ at test time). helm keeps its releases in Secrets it sends, and reads back, as
protobuf (tests/kubeapi/protobuf.py); the simulators make the chart's Deployment ready, or never ready.

Pinned down: check mode on an empty namespace sends no write; converge installs and records only the release
it installed; a rerun changes and writes nothing; rollback uninstalls what the run installed and leaves a
release that was there before; a release that does not become ready fails naming the release, and helm
(atomic) leaves nothing behind.
"""
import base64
import gzip
import json
import os
import shutil
import subprocess
import sys
import types
import urllib.request

import pytest

from tests.fixtures.local_server import LocalServer, LocalServerError, serve
from tests.integration.fixtures.kube import run_k8s_playbook
from tests.kubeapi.counters import RequestCounts
from tests.kubeapi.protobuf import decode_object

CHARTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "charts")


def helm_binary():
    found = shutil.which("helm", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if not found:
        pytest.fail("helm is not installed (scripts/install.sh --test runs scripts/install-test-deps.d/helm.sh)",
                    pytrace=False)
    return found


class ChartRepository(LocalServer):
    """`helm package` of every chart under tests/integration/charts, `helm repo index`, served over HTTP."""

    name = "chart repository"
    error = LocalServerError

    def __init__(self, workdir, helm):
        super().__init__()
        self.workdir = workdir
        self.helm = helm
        self.logfile = os.path.join(workdir, "http.log")
        self.root = os.path.join(workdir, "repo")

    @property
    def url(self):
        return "http://%s:%s" % (self.host, self.port)

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        for chart in sorted(os.listdir(CHARTS)):
            subprocess.run([self.helm, "package", os.path.join(CHARTS, chart), "--destination", self.root],
                           check=True, capture_output=True, text=True)
        subprocess.run([self.helm, "repo", "index", self.root], check=True, capture_output=True, text=True)
        return self._start_on_a_free_port()

    def _spawn(self, log):
        return subprocess.Popen([sys.executable, "-m", "http.server", "--bind", self.host, "--directory", self.root,
                                 str(self.port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _probe(self):
        with urllib.request.urlopen(self.url + "/index.yaml", timeout=2) as response:
            response.read()

    def stop(self):
        self._kill()  # the workdir is pytest's


@pytest.fixture(scope="module")
def chart_repo(tmp_path_factory):
    yield from serve(ChartRepository(str(tmp_path_factory.mktemp("charts")), helm_binary()), "chart repository")


@pytest.fixture(scope="module")
def helm_env(kube_api, tmp_path_factory):
    """kube_api's environment plus private helm cache/config/data directories."""
    home = str(tmp_path_factory.mktemp("helm-home"))
    return dict(kube_api.env, HELM_CACHE_HOME=os.path.join(home, "cache"),
                HELM_CONFIG_HOME=os.path.join(home, "config"), HELM_DATA_HOME=os.path.join(home, "data"),
                PATH=os.path.dirname(helm_binary()) + os.pathsep + kube_api.env.get("PATH", ""))


@pytest.fixture
def play(kube_api, helm_env, tmp_path):
    server = types.SimpleNamespace(env=helm_env)
    return lambda tasks, **kwargs: run_k8s_playbook(server, tmp_path, tasks, **kwargs)


def helm(helm_env, *args):
    completed = subprocess.run([helm_binary(), *args], env=helm_env, capture_output=True, text=True, timeout=120,
                               check=False)  # checked below, with helm's output
    assert completed.returncode == 0, completed
    return completed.stdout


def release(name, repo, **extra):
    return dict({"name": name, "repo_url": repo.url, "chart": "demo", "version": "0.1.0", "wait_timeout": 60}, **extra)


def component(namespace, releases, tasks_from="component"):
    return {"name": "chart_release " + tasks_from,
            "ansible.builtin.include_role": {"name": "lakehouse.platform.chart_release", "tasks_from": tasks_from},
            "vars": {"platform_mode": "apply", "platform_phase": "phase3", "platform_chart_driver": "helm",
                     "platform_state_namespace": namespace, "chart_release_component": "demo",
                     "chart_release_releases": [dict(r, namespace=namespace) for r in releases]}}


def get(kube_api, path):
    status, body, _headers = kube_api.request("GET", path)
    return body if status == 200 else None


def raw_get(kube_api, path, accept):
    request = urllib.request.Request(kube_api.url + path, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["Content-Type"], response.read()


def release_secrets(kube_api, namespace, name):
    """helm's release records: Secrets sh.helm.release.v1.<name>.v<revision>, labelled owner=helm."""
    listing = get(kube_api, "/api/v1/namespaces/%s/secrets?labelSelector=owner%%3Dhelm,name%%3D%s" % (namespace, name))
    return sorted(listing["items"], key=lambda s: int(s["metadata"]["labels"]["version"]))


def release_record(secret):
    """The release helm stored: base64 (Secret data) of base64 of gzipped JSON."""
    return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))


def recorded_releases(kube_api, namespace):
    cm = get(kube_api, "/api/v1/namespaces/%s/configmaps/lakehouse-platform-inventory-demo" % namespace)
    return None if cm is None else json.loads(cm["data"]["helm_releases"])


def tasks_after(run, name):
    """(task name, result) of the tasks that ran after the task `name`."""
    named = [(task["task"]["name"], task["hosts"].get("localhost", {}))
             for play in run.report.get("plays", []) for task in play["tasks"]]
    return named[[n for n, _r in named].index(name) + 1:]


def platform_writes(counts):
    """Persisting writes to what helm and the role write (release Secrets, the chart's objects, the inventory);
    the simulators' own pod/endpoint/status writes do not count, nor Service creates: the CloudNativePG and KubeRay
    simulators create Services for other tests' objects (the counts are the server's), while helm only creates
    the chart's Service at install and would patch it on an upgrade."""
    return (sum(counts.writes(resource) for resource in ("secrets", "configmaps", "deployments.apps", "namespaces"))
            + sum(counts.count(verb=verb, resource="services", dry_run=False) for verb in ("update", "patch", "delete")))


def test_check_converge_rerun_and_rollback(kube_api, kube_namespace, simulators, chart_repo, helm_env, play):
    ns = kube_namespace
    # A release that was there before the platform: upgraded by the run, never uninstalled by its rollback.
    helm(helm_env, "upgrade", "--install", "kept", "demo", "--repo", chart_repo.url, "--version", "0.1.0",
         "-n", ns, "--wait", "--timeout", "60s")
    apply = component(ns, [release("web", chart_repo, values={"greeting": "hi from the platform"}),
                           release("kept", chart_repo, values={"greeting": "kept, upgraded"})])
    wait = component(ns, [release("web", chart_repo), release("kept", chart_repo)], "wait")

    kube_api.reset_counts()
    check = play([apply, wait], check=True)
    assert check.rc == 0, check
    assert kube_api.request_counts().writes() == 0, kube_api.request_counts()
    would_change = [name for name, result in tasks_after(check, "chart_release component") if result.get("changed")]
    assert [name.split(" : ")[-1] for name in would_change] == [
        "Install or upgrade the Helm release, web", "Install or upgrade the Helm release, kept"]
    assert release_secrets(kube_api, ns, "web") == []
    assert get(kube_api, "/api/v1/namespaces/%s/configmaps/web-settings" % ns) is None
    assert [s["metadata"]["labels"]["version"] for s in release_secrets(kube_api, ns, "kept")] == ["1"]

    # Converge, then the same again in the same play with the server's request counters reset in between.
    counters = kube_api.url + "/_test/requests"
    converge = play([apply, wait,
                     {"name": "rerun starts", "ansible.builtin.uri": {"url": counters + "/reset", "method": "POST"}},
                     apply, wait,
                     {"name": "rerun ends", "ansible.builtin.uri": {"url": counters}, "register": "rerun_counts"}])
    assert converge.rc == 0, converge
    rerun = tasks_after(converge, "rerun starts")
    assert [name for name, result in rerun if result.get("changed")] == []
    assert platform_writes(RequestCounts(rerun[-1][1]["json"])) == 0, rerun[-1][1]["json"]

    web = release_secrets(kube_api, ns, "web")
    assert [(s["type"], s["metadata"]["labels"]["status"]) for s in web] == [("helm.sh/release.v1", "deployed")]
    # What helm read back: the same Secret in protobuf, as client-go's Accept asks for it
    secret_path = "/api/v1/namespaces/%s/secrets/%s" % (ns, web[0]["metadata"]["name"])
    content_type, body = raw_get(kube_api, secret_path, "application/vnd.kubernetes.protobuf,application/json")
    assert content_type == "application/vnd.kubernetes.protobuf"
    assert decode_object(body) == dict(web[0], apiVersion="v1", kind="Secret")
    stored = release_record(web[0])
    assert (stored["name"], stored["namespace"], stored["version"], stored["chart"]["metadata"]["version"],
            stored["config"]) == ("web", ns, 1, "0.1.0", {"greeting": "hi from the platform"})
    settings = get(kube_api, "/api/v1/namespaces/%s/configmaps/web-settings" % ns)
    assert settings["data"] == {"greeting": "hi from the platform"}
    deployment = get(kube_api, "/apis/apps/v1/namespaces/%s/deployments/web-web" % ns)
    assert deployment["status"]["readyReplicas"] == 1  # helm --wait saw it ready
    assert [s["metadata"]["labels"]["status"] for s in release_secrets(kube_api, ns, "kept")] == \
        ["superseded", "deployed"]
    assert recorded_releases(kube_api, ns) == [{"name": "web", "namespace": ns}]  # only what this run installed

    rollback = play([component(ns, [], "rollback")])
    assert rollback.rc == 0, rollback
    assert release_secrets(kube_api, ns, "web") == []
    assert get(kube_api, "/api/v1/namespaces/%s/configmaps/web-settings" % ns) is None
    assert get(kube_api, "/apis/apps/v1/namespaces/%s/deployments/web-web" % ns) is None
    assert [s["metadata"]["labels"]["status"] for s in release_secrets(kube_api, ns, "kept")] == \
        ["superseded", "deployed"]
    assert recorded_releases(kube_api, ns) is None  # the inventory goes with its last entry


def test_release_that_never_becomes_ready_fails_naming_it(kube_api, kube_namespace, simulators, chart_repo, play):
    ns = kube_namespace
    simulators.set_namespace_behaviour(ns, kind="Pod", mode="never-ready")
    run = play([component(ns, [release("stuck", chart_repo, wait_timeout=4)], "component")])
    assert run.rc != 0
    failed = [r for r in run.results if r.get("failed")][-1]
    assert failed["msg"] == (
        "demo: Helm release stuck in namespace %s (chart demo 0.1.0 from %s, timeout 4s) failed: Error: release "
        "stuck failed, and has been uninstalled due to atomic being set: context deadline exceeded"
        % (ns, chart_repo.url))
    # atomic: helm removed its objects and its release record; nothing was recorded for rollback
    assert release_secrets(kube_api, ns, "stuck") == []
    assert get(kube_api, "/api/v1/namespaces/%s/configmaps/stuck-settings" % ns) is None
    assert recorded_releases(kube_api, ns) is None


def test_release_settings_are_checked_before_any_write(kube_api, kube_namespace, chart_repo, play):
    kube_api.reset_counts()
    run = play([component(kube_namespace, [release("web", chart_repo, version="")])])
    assert run.rc != 0
    failed = [r for r in run.results if r.get("failed")][-1]
    assert "chart release web (demo): version is not pinned" in failed["msg"], failed["msg"]
    assert kube_api.request_counts().writes() == 0
