"""platform_capacity_info through ansible-playbook against the Kubernetes API test server.

Nodes (with status.allocatable and Ready conditions), pods (with requests, nodeName and phases) and PVCs
are created through the API; the module runs in a real playbook; the test asserts the figures and that
the run sent exactly three list requests and no write.
"""
import json
import os
import subprocess
import textwrap
import uuid

import pytest

from tests.integration.kube_status import patch_status

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO_ROOT, ".venv", "bin", "ansible-playbook")
PYTHON = os.path.join(REPO_ROOT, ".venv", "bin", "python")


def _create(dynamic, api_version, kind, body, namespace=None):
    resource = dynamic.resources.get(api_version=api_version, kind=kind)
    return dynamic.create(resource, body=body, namespace=namespace)


@pytest.fixture
def capacity_cluster(kube_api, kube_namespace):
    """Three labelled nodes, five pods and three PVCs in a fresh namespace; nodes removed afterwards."""
    dynamic = kube_api.client()
    label = "capacity-%s" % uuid.uuid4().hex[:8]
    ns = kube_namespace
    nodes = {"a": ("4", "16Gi", "10", False), "b": ("8", "32Gi", "110", False), "c": ("16", "64Gi", "110", True)}
    names = {}
    for suffix, (cpu, memory, pods, cordoned) in nodes.items():
        name = "%s-%s" % (label, suffix)
        names[suffix] = name
        body = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"lakehouse.test/pool": label}}}
        if cordoned:
            body["spec"] = {"unschedulable": True}
        _create(dynamic, "v1", "Node", body)
        patch_status(kube_api, "v1", "Node", None, name, {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "100Gi"},
            "capacity": {"cpu": cpu, "memory": memory, "pods": pods},
            "conditions": [{"type": "Ready", "status": "True"}],
        })

    def container(name, cpu, memory, restart_policy=None):
        result = {"name": name, "image": "busybox", "resources": {"requests": {"cpu": cpu, "memory": memory}}}
        if restart_policy:
            result["restartPolicy"] = restart_policy
        return result

    running_ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    pods = [
        ("p1", names["a"], [container("app", "1500m", "4Gi")], None, running_ready),
        # Sidecar then a regular init container: init phase needs 100m + 2 = 2100m cpu.
        ("p2", names["a"], [container("app", "500m", "1Gi")],
         [container("proxy", "100m", "128Mi", "Always"), container("migrate", "2", "1Gi")], running_ready),
        ("p3", names["b"], [container("app", "2", "8Gi")], None,
         {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}),
        ("p4", None, [container("app", "1", "1Gi")], None, {"phase": "Pending"}),
        ("p5", names["b"], [container("app", "4", "4Gi")], None, {"phase": "Succeeded"}),
    ]
    for name, node_name, containers, init, status in pods:
        spec = {"containers": containers}
        if node_name:
            spec["nodeName"] = node_name
        if init:
            spec["initContainers"] = init
        _create(dynamic, "v1", "Pod", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}, ns)
        patch_status(kube_api, "v1", "Pod", ns, name, status)

    for name, size, phase in (("data-0", "100Gi", "Bound"), ("data-1", "46Gi", "Bound"), ("new", "200Gi", "Pending")):
        _create(dynamic, "v1", "PersistentVolumeClaim", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"storageClassName": "ceph-block", "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": size}}},
        }, ns)
        status = {"phase": phase}
        if phase == "Bound":
            status["capacity"] = {"storage": size}
        patch_status(kube_api, "v1", "PersistentVolumeClaim", ns, name, status)
    try:
        yield {"label": label, "namespace": ns, "nodes": names}
    finally:
        node_resource = dynamic.resources.get(api_version="v1", kind="Node")
        for name in names.values():
            dynamic.delete(node_resource, name=name)


def run_playbook(kube_api, tmp_path, module_args, check=False):
    """Run the module in a one-task playbook; return (rc, registered result, output)."""
    result_file = tmp_path / "result.json"
    playbook = tmp_path / "capacity.yml"
    playbook.write_text(textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Measure
              lakehouse.platform.platform_capacity_info: {args}
              register: capacity
              ignore_errors: true
            - name: Keep the result for the test
              ansible.builtin.copy:
                content: "{{{{ capacity | to_json }}}}"
                dest: {dest}
              check_mode: false
        """).format(args=json.dumps(module_args), dest=str(result_file)))
    env = dict(kube_api.env, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-tmp"))
    command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + PYTHON,
               str(playbook)]
    if check:
        command.append("--check")
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
                               check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    return json.loads(result_file.read_text()), output


def test_reports_the_cluster_as_the_scheduler_counts_it(kube_api, capacity_cluster, tmp_path):
    label, ns, nodes = capacity_cluster["label"], capacity_cluster["namespace"], capacity_cluster["nodes"]
    kube_api.reset_counts()
    result, output = run_playbook(kube_api, tmp_path, {
        "node_selector": {"lakehouse.test/pool": label},
        "namespaces": [ns],
        "budget": [
            {"name": "doris-be", "cpu": "4", "memory": "16Gi", "count": 2, "storage": "200Gi"},
            {"name": "ray-head", "cpu": "300m", "memory": "1Gi"},
        ],
    }, check=True)
    counts = kube_api.request_counts()
    assert result.get("failed") is not True, output
    assert result["changed"] is False
    assert "[WARNING]" not in output

    by_name = dict((node["name"], node) for node in result["nodes"])
    assert sorted(by_name) == sorted(nodes.values())
    node_a = by_name[nodes["a"]]
    # p1 1500m + p2 max(500m + 100m sidecar, 100m + 2 init) = 3600m; memory 4Gi + 1Gi + 128Mi.
    assert node_a["requested"]["cpu"] == "3600m"
    assert node_a["requested"]["memory"] == "5248Mi"
    assert node_a["free"]["cpu_millicores"] == 400
    assert node_a["free"]["memory_bytes"] == 11136 * 2 ** 20
    assert node_a["free"]["pods"] == 8
    node_b = by_name[nodes["b"]]
    assert node_b["requested"]["cpu"] == "2"  # the Succeeded pod p5 holds nothing
    assert node_b["pods"] == 1
    node_c = by_name[nodes["c"]]
    assert node_c["schedulable"] is False
    assert node_c["unschedulable_reasons"] == ["cordoned (spec.unschedulable)"]
    assert result["totals"]["schedulable_free"]["cpu"] == "6400m"
    assert result["totals"]["pending"]["pods"] >= 1  # p4 (other tests may leave pending pods too)

    health = result["health"]["namespaces"][ns]
    assert (health["total"], health["running"], health["ready"], health["succeeded"], health["pending"]) == (5, 3, 2, 1, 1)
    assert result["health"]["overall"]["summary"] == "60% (3/5 pods)"

    block = result["storage"]["storage_classes"]["ceph-block"]
    assert (block["claims"], block["bound"], block["pending"]) == (3, 2, 1)
    assert block["capacity"] == "146Gi"
    assert block["requested"] == "346Gi"

    fit = result["fit"]
    assert fit["placements"] == {"doris-be-0": nodes["b"], "ray-head": nodes["a"]}
    assert fit["fits"] is False
    (miss,) = fit["unplaced"]
    assert (miss["pod"], miss["node"], miss["short"]) == ("doris-be-1", nodes["b"], {"cpu": "2", "memory": "8Gi"})
    assert fit["fits_in_total"] is False
    assert fit["total_shortfall"]["cpu"] == "1900m"
    assert fit["requested_storage"] == "400Gi"

    # One list per kind, nothing written (not even a dry run).
    assert counts.count("list", "nodes") == 1
    assert counts.count("list", "pods") == 1
    assert counts.count("list", "persistentvolumeclaims") == 1
    assert counts.writes() == 0
    assert counts.dry_run_writes() == 0


def test_bad_budget_fails_naming_the_option_before_any_request(kube_api, tmp_path):
    kube_api.reset_counts()
    result, output = run_playbook(kube_api, tmp_path, {
        "budget": [{"name": "a", "cpu": "1"}, {"name": "b", "memory": "1Gi"}, {"name": "c", "cpu": "4Gx"}],
    })
    assert result["failed"] is True, output
    assert result["msg"] == "budget[2].cpu: invalid quantity '4Gx': unknown suffix 'Gx'"
    assert kube_api.request_counts().rows == []
