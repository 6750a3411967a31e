"""Seed Node objects so capacity checks (platform_capacity_info) and the pod scheduler have data."""
from .kube import KubeApi


def node_object(name, cpu, memory, pods="110", labels=None, address=None):
    """A Ready Node with capacity == allocatable (pure function)."""
    resources = {"cpu": str(cpu), "memory": str(memory), "pods": str(pods), "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                              "kubernetes.io/arch": "amd64", **(labels or {})}},
        "spec": {},
        "status": {
            "capacity": dict(resources), "allocatable": dict(resources),
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}],
            "addresses": [{"type": "InternalIP", "address": address or "127.0.0.1"},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.33.0", "operatingSystem": "linux", "architecture": "amd64",
                         "containerRuntimeVersion": "containerd://2.0.0"},
        },
    }


def _kube(client):
    """Accept our KubeApi, a kubernetes ApiClient, a DynamicClient (its .client), or a kubeconfig path."""
    if isinstance(client, KubeApi):
        return client
    if isinstance(client, str):
        return KubeApi.from_kubeconfig(client)
    api_client = getattr(client, "client", client)
    return KubeApi(api_client)


def seed_nodes(client, count, cpu, memory, prefix="node", pods="110", labels=None):
    """Create (or update) Nodes `<prefix>-1..count` with the given allocatable cpu/memory; returns them.

    The status is written through the status subresource, as a kubelet would.
    """
    kube = _kube(client)
    nodes = []
    for index in range(1, count + 1):
        node = node_object(f"{prefix}-{index}", cpu, memory, pods, labels, address=f"192.168.0.{index}")
        status = node.pop("status")
        kube.create_if_absent(node)
        nodes.append(kube.patch("v1", "Node", node["metadata"]["name"], None, {"status": status},
                                subresource="status"))
    return nodes
