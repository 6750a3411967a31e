"""Test-side helpers: play the controller (write .status) and build the collection's KubeClient."""
import threading

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KubeClient


def kube_client(kube_api):
    """The collection's KubeClient, built the way modules build it (kubernetes.core auth from a kubeconfig)."""
    return KubeClient(get_api_client(kubeconfig=kube_api.kubeconfig))


def patch_status(kube_api, api_version, kind, namespace, name, status):
    """Merge-patch .status as an operator would: through /status when the CRD has that subresource."""
    dynamic = kube_api.client()
    resource = dynamic.resources.get(api_version=api_version, kind=kind)
    target = resource.subresources.get("status", resource) if hasattr(resource, "subresources") else resource
    return dynamic.patch(target, body={"status": status}, name=name, namespace=namespace,
                         content_type="application/merge-patch+json").to_dict()


def patch_status_later(kube_api, delay, api_version, kind, namespace, name, status, done=None):
    """Patch .status from another thread after delay seconds.

    done (a dict) receives "at", the monotonic time just before the write request is sent, so a
    latency measured from it includes the write itself (an upper bound of the watch delay).
    """
    import time

    def write():
        time.sleep(delay)
        if done is not None:
            done["at"] = time.monotonic()
        patch_status(kube_api, api_version, kind, namespace, name, status)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread
