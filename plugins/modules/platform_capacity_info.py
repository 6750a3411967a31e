#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: platform_capacity_info
short_description: Measure Kubernetes cluster capacity, storage use and pod health, and fit planned pods
version_added: 0.1.0
description:
  - Reads the cluster with three list requests (nodes, pods of all namespaces, PersistentVolumeClaims of
    all namespaces) and reports, per node, allocatable, requested and free CPU, memory, ephemeral storage
    and pod slots, the way the scheduler counts them.
  - A pod's request is the scheduler's effective request, max(sum of app and sidecar containers,
    largest init-container phase) plus C(spec.overhead); pods in phase C(Succeeded) or C(Failed) hold
    nothing; pods without C(spec.nodeName) are reported as pending, not on a node.
  - Also reports PVC use per storage class, pod health per namespace, and, when O(budget) is given,
    whether a list of planned pods fits the free resources of the schedulable nodes (first-fit
    decreasing), with the reason for every pod that does not fit.
  - Read only; it never changes the cluster.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
requirements:
  - kubernetes >= 24.2.0 (Python client)
  - kubernetes.core collection
options:
  namespaces:
    description:
      - Namespaces whose pod health and PVC use are reported. Empty means every namespace.
      - Node figures always count the pods of every namespace, because the free space of a node is
        shared by all of them.
    type: list
    elements: str
    default: []
  node_selector:
    description:
      - Only nodes carrying all of these labels are reported and used for the fit, as a pod
        C(nodeSelector) would restrict them. Use an empty string value for a label that only has to
        exist with an empty value (C(node-role.kubernetes.io/worker=)).
      - Pods bound to other nodes are counted in RV(totals.pods_on_unlisted_nodes).
    type: dict
    default: {}
  prerequisites:
    description:
      - Objects the run needs to exist before it writes anything (what earlier phases deploy, the chart
        driver's CRDs and controllers), read in the same call so a preflight costs one module run. Each is
        returned in RV(prerequisites) as found (or not); M(lakehouse.platform.platform_capacity_info) does not
        judge them, the caller does (the C(lakehouse.platform.prerequisites_missing) filter).
    type: list
    elements: dict
    default: []
    suboptions:
      what:
        description: What the object is, for messages (V(Hive Metastore), V(Flux helm-controller)).
        type: str
      api_version:
        description: API version of the object.
        type: str
        required: true
      kind:
        description: Kind of the object.
        type: str
        required: true
      name:
        description: Name of the object.
        type: str
        required: true
      namespace:
        description: Namespace of a namespaced object.
        type: str
      ready:
        description: Whether the caller also wants it ready (passed back in the C(item) of RV(prerequisites)).
        type: bool
        default: false
      how:
        description: How a user provides it when it is missing (passed back for the message).
        type: str
      component:
        description: The component that makes it (the phase catalog's C(requires)), passed back.
        type: str
      optional:
        description:
          - Looked for, never refused (passed back; the C(lakehouse.platform.prerequisites_missing) filter skips it).
            A feature such as C(platform_service_monitors=auto) turns on when it is found.
        type: bool
        default: false
      feature:
        description: The feature an optional object turns on (V(service_monitors)), passed back.
        type: str
  budget:
    description:
      - Planned pods to fit onto the free resources of the schedulable nodes. Each entry is one pod shape
        and how many replicas of it are planned.
      - "Every entry is validated before any request is sent; a bad one fails naming its path, for example
        C(budget[2].cpu: invalid quantity '4Gx': unknown suffix 'Gx')."
      - Nodes that are cordoned, not Ready or carry a C(NoSchedule)/C(NoExecute) taint are not used,
        because planned pods carry no tolerations.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the pod shape; replicas are named V(<name>-0), V(<name>-1), ... when O(budget[].count) > 1.
        type: str
        required: true
      cpu:
        description: CPU request of one pod as a Kubernetes quantity (V(500m), V(2), V(1.5)).
        type: raw
      memory:
        description: Memory request of one pod as a Kubernetes quantity (V(512Mi), V(4Gi), V(1G)).
        type: raw
      count:
        description: Number of replicas of this pod shape. V(0) leaves the shape out.
        type: int
        default: 1
      storage:
        description:
          - PVC storage of one pod (V(200Gi)). Only totalled in RV(fit.requested_storage); where volumes
            land is decided by the storage system, not the node fit.
        type: raw
  include_pods:
    description: Also return each node's pods with their effective requests in RV(nodes[].pod_requests).
    type: bool
    default: false
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.INFO_MODULE
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
notes:
  - CPU is counted in millicores and rounded up like the scheduler (V(1.5m) counts as V(2m)); memory and
    storage in bytes, rounded up. All arithmetic on quantities is exact.
  - Extended resources (GPUs, hugepages) are not tracked.
  - Pod health counts a pod as healthy when it is C(Running) with every container ready, or C(Succeeded).
seealso:
  - name: Resource sharing within containers (sidecars and init containers)
    description: The rule used for the effective request of a pod.
    link: https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers
"""

EXAMPLES = r"""
- name: Measure the cluster
  lakehouse.platform.platform_capacity_info:
  register: capacity

- name: Require 90% platform health in the data namespaces
  ansible.builtin.assert:
    that: capacity.health.overall.percent >= 90
    fail_msg: "Platform health is {{ capacity.health.overall.summary }}, below 90%"

- name: Check that the phase 3 pods fit on the worker nodes
  lakehouse.platform.platform_capacity_info:
    kubeconfig: ~/.kube/prod
    namespaces: [data-platform, ml-platform]
    node_selector:
      node-role.kubernetes.io/worker: ""
    budget:
      - {name: doris-fe, cpu: "2", memory: 8Gi, count: 3}
      - {name: doris-be, cpu: "4", memory: 16Gi, count: 2, storage: 200Gi}
      - {name: ray-worker, cpu: "2", memory: 8Gi, count: 2}
  register: phase3_capacity

- name: Refuse to start when a planned pod has no room
  ansible.builtin.assert:
    that: phase3_capacity.fit.fits
    fail_msg: "{{ phase3_capacity.fit.unplaced | map(attribute='reason') | join('; ') }}"
"""

RETURN = r"""
prerequisites:
  description:
    - One entry per O(prerequisites) item, in order, shaped like a result of a M(kubernetes.core.k8s_info) loop.
    - C(item) is the requested item, C(resources) holds the object when it exists (else is empty), C(failed)
      and C(msg) say why it could not be read (a refused request, for example).
    - An object whose kind the server does not serve (its CRD is not installed) is simply not found.
  returned: always
  type: list
  elements: dict
  sample: [{"item": {"what": "Flux helm-controller", "kind": "Deployment", "name": "helm-controller"},
            "resources": [], "failed": false}]
nodes:
  description: One entry per node (sorted by name), schedulable or not.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node name.
      type: str
      sample: worker-1
    schedulable:
      description: Whether planned pods may land on the node.
      type: bool
      sample: true
    unschedulable_reasons:
      description: Why not (cordoned, NotReady, a blocking taint); empty when schedulable.
      type: list
      elements: str
      sample: ["taint node-role.kubernetes.io/control-plane:NoSchedule"]
    allocatable:
      description:
        - C(status.allocatable) of the node. Every figure of this module has this shape, canonical
          strings plus raw integers.
      type: dict
      sample: {cpu: "8", cpu_millicores: 8000, memory: 32Gi, memory_bytes: 34359738368,
               ephemeral_storage: 100Gi, ephemeral_storage_bytes: 107374182400, pods: 110}
    requested:
      description: Sum of the effective requests of the node's non-terminal pods; C(pods) is their count.
      type: dict
      sample: {cpu: 5250m, cpu_millicores: 5250, memory: 20Gi, memory_bytes: 21474836480,
               ephemeral_storage: "0", ephemeral_storage_bytes: 0, pods: 31}
    free:
      description: Allocatable minus requested; negative when the node is overcommitted.
      type: dict
      sample: {cpu: 2750m, cpu_millicores: 2750, memory: 12Gi, memory_bytes: 12884901888,
               ephemeral_storage: 100Gi, ephemeral_storage_bytes: 107374182400, pods: 79}
    pods:
      description: Number of non-terminal pods on the node.
      type: int
      sample: 31
    pod_requests:
      description: The node's pods with namespace, name, phase and effective requests.
      returned: when O(include_pods=true)
      type: list
      elements: dict
totals:
  description: Sums over the reported nodes.
  returned: always
  type: dict
  contains:
    nodes:
      description: Number of nodes reported.
      type: int
    schedulable_nodes:
      description: Number of nodes planned pods may use.
      type: int
    allocatable:
      description: Sum of allocatable.
      type: dict
    requested:
      description: Sum of requests of pods on the reported nodes.
      type: dict
    free:
      description: Sum of free over all reported nodes.
      type: dict
    schedulable_free:
      description: Sum of free over schedulable nodes, overcommitted amounts counted as zero.
      type: dict
    pending:
      description: Requests of non-terminal pods not bound to a node yet; C(pods) is their count.
      type: dict
    pods_on_unlisted_nodes:
      description: Non-terminal pods bound to a node that is not reported (see O(node_selector)).
      type: int
storage:
  description: PersistentVolumeClaims in O(namespaces), per storage class and in total.
  returned: always
  type: dict
  contains:
    storage_classes:
      description:
        - Per storage class name (V((unset)) for claims without one) the counts C(claims), C(bound),
          C(pending), C(lost) and the sizes C(requested)/C(requested_bytes) (sum of
          C(spec.resources.requests.storage)) and C(capacity)/C(capacity_bytes) (sum of
          C(status.capacity.storage) of bound claims).
      type: dict
      sample: {ceph-block: {claims: 3, bound: 2, pending: 1, lost: 0, requested: 346Gi,
               requested_bytes: 371520307200, capacity: 146Gi, capacity_bytes: 156766306304}}
    total:
      description: The same figures over all classes; C(capacity) is the storage in use.
      type: dict
      sample: {claims: 3, bound: 2, pending: 1, lost: 0, requested: 346Gi, requested_bytes: 371520307200,
               capacity: 146Gi, capacity_bytes: 156766306304}
health:
  description:
    - Pod health in O(namespaces). C(healthy) counts pods Running with every container ready plus
      Succeeded pods; C(percent) is healthy / total (one decimal, null without pods). C(running) is the
      bare Running phase count, ready or not.
  returned: always
  type: dict
  contains:
    namespaces:
      description: Per namespace C(total), C(running), C(ready), C(succeeded), C(pending), C(failed), C(unknown), C(healthy), C(percent).
      type: dict
      sample: {data-platform: {total: 130, running: 110, ready: 108, succeeded: 0, pending: 20, failed: 0,
               unknown: 0, healthy: 108, percent: 83.1}}
    overall:
      description: The same counts over all reported namespaces, plus C(summary).
      type: dict
      sample: {total: 130, running: 110, ready: 108, succeeded: 0, pending: 20, failed: 0, unknown: 0,
               healthy: 108, percent: 83.1, summary: "83.1% (108/130 pods)"}
fit:
  description: First-fit-decreasing placement of O(budget) onto the free resources of schedulable nodes.
  returned: when O(budget) is given
  type: dict
  contains:
    fits:
      description: Whether every planned pod found a node.
      type: bool
      sample: false
    placements:
      description: Planned pod name to node name.
      type: dict
      sample: {doris-be-0: worker-1, doris-be-1: worker-2}
    unplaced:
      description:
        - Pods that fit nowhere, with C(pod), C(request) (the budget entry), C(cpu), C(memory), C(node)
          (the node that came closest), C(short) (per resource, how much that node lacks) and C(reason).
      type: list
      elements: dict
      sample: [{pod: ray-worker-1, request: ray-worker, cpu: "2", memory: 8Gi, node: worker-2,
                short: {memory: 2Gi}, reason: "needs cpu 2, memory 8Gi and a pod slot; closest node
                worker-2 is short of memory 2Gi"}]
    requested:
      description: Sum of the budget (cpu, memory, pods).
      type: dict
    requested_storage:
      description: Sum of the budget's PVC storage.
      type: str
      sample: 400Gi
    requested_storage_bytes:
      description: The same in bytes.
      type: int
    cluster_free:
      description: Free cpu, memory and pod slots summed over schedulable nodes, before placing the budget.
      type: dict
    fits_in_total:
      description: Whether the budget fits the summed free resources (false means a real shortage; true
        while RV(fit.fits) is false means fragmentation).
      type: bool
    total_shortfall:
      description: Per resource, how much the budget exceeds the summed free resources.
      type: dict
    schedulable_nodes:
      description: Number of nodes used for the fit.
      type: int
"""

import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils.capacity import (
    BudgetError,
    CapacityError,
    capacity_report,
    parse_budget,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    KindNotFound,
    KubeClient,
    KubeError,
    kube_argument_spec,
)


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        namespaces=dict(type="list", elements="str", default=[]),
        node_selector=dict(type="dict", default={}),
        budget=dict(
            type="list",
            elements="dict",
            options=dict(
                name=dict(type="str", required=True),
                cpu=dict(type="raw"),
                memory=dict(type="raw"),
                count=dict(type="int", default=1),
                storage=dict(type="raw"),
            ),
        ),
        include_pods=dict(type="bool", default=False),
        prerequisites=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                what=dict(type="str"),
                api_version=dict(type="str", required=True),
                kind=dict(type="str", required=True),
                name=dict(type="str", required=True),
                namespace=dict(type="str"),
                ready=dict(type="bool", default=False),
                how=dict(type="str"),
                component=dict(type="str"),
                optional=dict(type="bool", default=False),
                feature=dict(type="str"),
            ),
        ),
    )
    return spec


def label_selector(node_selector):
    """{label: value} -> the API's equality selector (``a=1,b=``)."""
    return ",".join("%s=%s" % (key, "" if value is None else value) for key, value in sorted(node_selector.items()))


def read_cluster(client, node_selector):
    """The three list requests the report needs: nodes, pods and PVCs of every namespace."""
    nodes = client.list("v1", "Node", label_selector=label_selector(node_selector) or None)
    pods = client.list("v1", "Pod")
    pvcs = client.list("v1", "PersistentVolumeClaim")
    return nodes, pods, pvcs


def read_prerequisites(client, items):
    """Each item read once: {item, resources: [obj] or [], failed, msg} (a kind that is not served is named)."""
    found = []
    for item in items:
        entry = {"item": item, "resources": [], "failed": False}
        try:
            obj = client.get(item["api_version"], item["kind"], item["name"], item.get("namespace"))
            if obj is not None:
                entry["resources"] = [obj]
        except KindNotFound:
            pass  # the kind is not served (its CRD is absent): the object cannot exist
        except KubeError as e:
            entry.update(failed=True, msg=to_native(e))
        found.append(entry)
    return found


def run(module):
    params = module.params
    try:
        budget = parse_budget(params["budget"]) if params["budget"] is not None else None
    except BudgetError as e:
        module.fail_json(msg=to_native(e))
    try:
        client = KubeClient.from_module(module)
        nodes, pods, pvcs = read_cluster(client, params["node_selector"] or {})
    except KubeError as e:
        module.fail_json(msg="Could not read the cluster: %s" % to_native(e), exception=traceback.format_exc())
    try:
        report = capacity_report(
            nodes, pods, pvcs, namespaces=params["namespaces"] or None, budget=budget,
            include_pods=params["include_pods"],
        )
    except CapacityError as e:
        module.fail_json(msg="Could not measure the cluster: %s" % to_native(e))
    try:
        report["prerequisites"] = read_prerequisites(client, params["prerequisites"] or [])
    except KubeError as e:
        module.fail_json(msg="Could not read the prerequisites: %s" % to_native(e))
    module.exit_json(changed=False, **report)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
