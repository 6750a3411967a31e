"""A stateful Kubernetes API server for tests (discovery, CRUD, patch, apply, watch, CRDs, GC).

    from tests.kubeapi import KubeAPIServer
    srv = KubeAPIServer(crd_dirs=[...]).start(); srv.write_kubeconfig(path); ...; srv.stop()

Run as a process with `python -m tests.kubeapi --help`.
"""
from .counters import RequestCounts
from .server import KubeAPIServer, fetch_request_counts, reset_request_counts, write_kubeconfig

__all__ = ["KubeAPIServer", "RequestCounts", "fetch_request_counts", "reset_request_counts", "write_kubeconfig"]
