"""KubeAPIServer: the test API server as a library object (thread) with kubeconfig and CRD loading."""
import glob
import json
import os
import threading
import urllib.request
from http.server import ThreadingHTTPServer

import yaml

from .api import KubeAPI, WriteOptions
from . import faults
from .counters import RequestCounters, RequestCounts
from .errors import ApiError
from .handler import KubeAPIHandler
from .rbac import Authorizer
from .podexec import ExecBackends
from .serviceproxy import ServiceBackends

# libyaml's loader when available: the reference CRDs are ~2.5 MB of YAML.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def write_kubeconfig(path, url, token="kubeapi-test-token", context="kubeapi-test", namespace="default"):
    """A kubeconfig with one cluster/user/context pointing at `url` (token auth, plain HTTP)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}],
        "current-context": context,
        "preferences": {},
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    os.replace(tmp, path)  # readers never see a half-written kubeconfig
    return path


def crd_documents(crd_dirs):
    """Every CustomResourceDefinition document in *.yaml/*.yml/*.json files of the given directories."""
    for directory in crd_dirs or []:
        files = sorted(glob.glob(os.path.join(directory, "*.yaml")) + glob.glob(os.path.join(directory, "*.yml"))
                       + glob.glob(os.path.join(directory, "*.json")))
        for path in files:
            with open(path) as handle:
                for document in yaml.load_all(handle, Loader=_YAML_LOADER):
                    if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
                        yield path, document


class KubeAPIServer:
    def __init__(self, crd_dirs=(), host="127.0.0.1", port=0, namespaces=("default", "kube-system", "kube-public"),
                 access_log=None):
        self.api = KubeAPI()
        self.counters = RequestCounters()
        self._httpd = _HTTPServer((host, port), KubeAPIHandler)
        self._httpd.api = self.api
        self._httpd.counters = self.counters
        self._httpd.stopping = threading.Event()
        self._httpd.access_log = access_log
        faults.install(self._httpd)
        self._httpd.authorizer = Authorizer(self.api)
        self._httpd.service_backends = ServiceBackends()  # real local servers behind Services (serviceproxy)
        self._httpd.exec_backends = ExecBackends()  # local commands standing in for containers (podexec)
        self._thread = None
        self._bootstrap(namespaces, crd_dirs)

    def _bootstrap(self, namespaces, crd_dirs):
        """Initial state: the standard namespaces and the given CRDs, created through the API layer."""
        namespace_type = self.api.registry.find("", "v1", "namespaces")
        for name in namespaces:
            self.api.create(namespace_type, "", {"metadata": {"name": name}}, WriteOptions(manager="kube-apiserver"))
        crd_type = self.api.registry.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        for path, document in crd_documents(crd_dirs):
            try:
                self.api.create(crd_type, "", document, WriteOptions(manager="kubeapi-bootstrap"))
            except ApiError as exc:
                raise RuntimeError(f"CRD from {path} refused: {exc.message}") from exc

    @property
    def host(self):
        return self._httpd.server_address[0]

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, name="kubeapi", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        faults.serve(self._httpd, poll_interval=0.2)  # comes back after an injected restart

    def stop(self):
        self._httpd.stopping.set()
        self._httpd.faults.resumed.wait(30)  # an injected restart under way finishes first
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def write_kubeconfig(self, path):
        return write_kubeconfig(path, self.url)

    def request_counts(self):
        return RequestCounts(self.counters.snapshot())

    def reset_counts(self):
        self.counters.reset()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def fetch_request_counts(url):
    """RequestCounts of a server running elsewhere (another process), through GET /_test/requests."""
    with urllib.request.urlopen(f"{url}/_test/requests", timeout=10) as response:
        return RequestCounts(json.load(response))


def reset_request_counts(url):
    request = urllib.request.Request(f"{url}/_test/requests/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
