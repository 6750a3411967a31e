#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: raycluster_wait
short_description: Wait until a KubeRay RayCluster is really ready
version_added: 0.1.0
description:
  - Watches a C(ray.io/v1) C(RayCluster) until all of these hold at once
    C(HeadPodReady=True), C(RayClusterProvisioned=True), no C(ReplicaFailure=True),
    C(status.readyWorkerReplicas) at least the desired worker count (at least the minimum worker count when
    C(spec.enableInTreeAutoscaling) is true), and C(status.observedGeneration) equal to C(metadata.generation).
  - C(status.state) is never used. KubeRay sets it to V(ready) the first time all pods are ready and never
    resets it (except to V(suspended)), so it stays V(ready) while the head pod is down.
  - The desired and minimum worker counts are the larger of the status figures and those derived from
    C(spec.workerGroupSpecs) the way KubeRay derives them (replicas clamped to min/max, times C(numOfHosts),
    suspended groups left out), because KubeRay omits zero counts from the status.
  - The object is watched, not polled, so readiness is noticed within about a second.
  - Fails at once when C(ReplicaFailure) is V(True) (KubeRay could not create or delete a pod; the message is
    KubeRay's), or when the cluster is suspended. Otherwise fails after O(timeout) seconds with a message that
    names the RayCluster and its last conditions and worker counts.
  - The RayCluster may not exist yet when the wait starts; it is waited for too.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  name:
    description:
      - Name of the RayCluster.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the RayCluster.
    type: str
    required: true
  timeout:
    description:
      - Seconds to wait in total. V(0) reads the RayCluster once and fails unless it is ready.
    type: int
    default: 600
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.INFO_MODULE
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
notes:
  - Only reads. In check mode the RayCluster is read once and reported (RV(ready), RV(problems)) without
    waiting and without failing, because the changes that earlier tasks would have made were not made. To
    really wait during a check run, set C(check_mode=false) on the task.
  - Needs KubeRay with the C(RayClusterStatusConditions) feature gate (on by default since KubeRay 1.2);
    without conditions the cluster never counts as ready and the timeout message says so.
seealso:
  - module: lakehouse.platform.k8s_status_wait
    description: Waits on any object with JMESPath expressions.
"""

EXAMPLES = r"""
- name: Wait for the ML Ray cluster and keep its dashboard URL
  lakehouse.platform.raycluster_wait:
    name: ml-cluster
    namespace: ml-platform
    timeout: 900
  register: ray

- name: Show where the dashboard is
  ansible.builtin.debug:
    msg: "Ray dashboard: {{ ray.dashboard_url }} ({{ ray.workers.ready }}/{{ ray.workers.required }} workers)"

- name: Really wait even in a --check run (the module only reads)
  lakehouse.platform.raycluster_wait:
    name: ml-cluster
    namespace: ml-platform
  check_mode: false
"""

RETURN = r"""
ready:
  description: Whether the RayCluster is ready by the rules above. Always true on success outside check mode.
  returned: always
  type: bool
  sample: true
waited:
  description: Whether the module waited; false in check mode, where the RayCluster is read once.
  returned: always
  type: bool
  sample: true
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 41.7
problems:
  description: What kept the RayCluster from being ready when last seen; empty when ready.
  returned: always
  type: list
  elements: str
  sample: ["HeadPodReady is False (ContainersNotReady)", "1 of 2 desired workers ready"]
head_service:
  description: Name of the head Service (from C(status.head), else C(spec.headGroupSpec.headService), else C(<name>-head-svc)).
  returned: when the RayCluster exists
  type: str
  sample: ml-cluster-head-svc
dashboard_url:
  description:
    - In-cluster URL of the Ray dashboard, C(http://<head service>.<namespace>.svc:<port>).
    - The port is C(status.endpoints.dashboard) for a ClusterIP head Service, otherwise 8265 (KubeRay records
      the node port there for NodePort Services, which the Service name does not serve).
  returned: when the RayCluster exists
  type: str
  sample: http://ml-cluster-head-svc.ml-platform.svc:8265
workers:
  description: Worker counts as last seen.
  returned: when the RayCluster exists
  type: dict
  contains:
    ready:
      description: C(status.readyWorkerReplicas).
      type: int
      sample: 2
    available:
      description: C(status.availableWorkerReplicas) (running, not necessarily ready).
      type: int
      sample: 2
    desired:
      description: Desired workers (larger of C(status.desiredWorkerReplicas) and the figure derived from the spec).
      type: int
      sample: 2
    min:
      description: Minimum workers (larger of C(status.minWorkerReplicas) and the sum of C(minReplicas) x C(numOfHosts)).
      type: int
      sample: 1
    max:
      description: Sum of C(maxReplicas) x C(numOfHosts) over the worker groups that are not suspended.
      type: int
      sample: 5
    autoscaling:
      description: Whether C(spec.enableInTreeAutoscaling) is true.
      type: bool
      sample: false
    required:
      description: What C(ready) had to reach, C(min) with autoscaling, else C(desired).
      type: int
      sample: 2
autoscaler:
  description:
    - The in-tree autoscaler of the ready RayCluster (the runbook's "Ray workers auto-scaling").
  returned: after a successful wait
  type: dict
  contains:
    enabled:
      description: Whether C(spec.enableInTreeAutoscaling) is true.
      type: bool
    container:
      description: Whether the head pod has KubeRay's C(autoscaler) container (null when the pod was not read).
      type: bool
    head_pod:
      description: The head pod read for it.
      type: str
    upscaling_mode:
      description: C(spec.autoscalerOptions.upscalingMode).
      type: str
    idle_timeout_seconds:
      description: C(spec.autoscalerOptions.idleTimeoutSeconds).
      type: int
    desired:
      description: Desired workers.
      type: int
    min:
      description: Minimum workers.
      type: int
    max:
      description: Maximum workers.
      type: int
    within_bounds:
      description: Whether C(min) <= C(desired) <= C(max).
      type: bool
raycluster:
  description: Summary of the RayCluster as last seen.
  returned: when the RayCluster exists
  type: dict
  contains:
    name:
      description: Name.
      type: str
    namespace:
      description: Namespace.
      type: str
    generation:
      description: C(metadata.generation).
      type: int
    observed_generation:
      description: C(status.observedGeneration).
      type: int
    head_service:
      description: Head Service name.
      type: str
    head_pod:
      description: Head pod name from C(status.head.podName).
      type: str
    dashboard_url:
      description: Same as RV(dashboard_url).
      type: str
    endpoints:
      description: C(status.endpoints), port name to port.
      type: dict
    workers:
      description: Same as RV(workers).
      type: dict
    conditions:
      description: C(status.conditions) (type, status, reason, message).
      type: list
      elements: dict
    state:
      description: C(status.state), reported for information only (sticky, not used to decide readiness).
      type: str
  sample: {"name": "ml-cluster", "namespace": "ml-platform", "generation": 1, "observed_generation": 1,
           "head_service": "ml-cluster-head-svc", "state": "ready"}
failure:
  description: The failure message (C(ReplicaFailure) or suspension) when there is one.
  returned: when the RayCluster has failed, also in check mode
  type: str
  sample: "ReplicaFailure: FailedCreateWorkerPod: pods is forbidden: exceeded quota"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils import raycluster
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    KubeClient,
    KubeError,
    kube_argument_spec,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import WaitError, WaitFailed, wait_for


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        timeout=dict(type="int", default=600),
    )
    return spec


def report(obj):
    """The module's return values for the RayCluster as last seen (None = not found)."""
    if obj is None:
        return dict(ready=False, problems=["the RayCluster does not exist"])
    result = dict(
        ready=raycluster.is_ready(obj),
        problems=raycluster.readiness_problems(obj),
        head_service=raycluster.head_service_name(obj),
        dashboard_url=raycluster.dashboard_url(obj),
        workers=raycluster.worker_counts(obj),
        raycluster=raycluster.summary(obj),
    )
    failure = raycluster.failure(obj)
    if failure:
        result["failure"] = failure
    return result


def run(module, client):
    params = module.params
    if module.check_mode:
        obj = client.get(raycluster.RAY_API_VERSION, raycluster.RAY_KIND, params["name"], params["namespace"])
        return dict(changed=False, waited=False, elapsed=0.0, **report(obj))
    result = wait_for(
        client, raycluster.RAY_API_VERSION, raycluster.RAY_KIND, params["name"], params["namespace"],
        ready=raycluster.is_ready,
        failed=raycluster.failure,
        timeout=params["timeout"],
        failure_grace=0,  # ReplicaFailure does not clear by itself: fail on first sight
        describe=raycluster.describe,
    )
    return dict(changed=False, waited=True, elapsed=round(result.elapsed, 3), autoscaler=autoscaler(client, result.obj),
                **report(result.obj))


def autoscaler(client, obj):
    """The autoscaler figures, with the head pod read for its container when the spec turns autoscaling on."""
    head_pod = None
    name = ((obj.get("status") or {}).get("head") or {}).get("podName")
    if raycluster.autoscaling_enabled(obj) and name:
        try:
            head_pod = client.get("v1", "Pod", name, obj["metadata"]["namespace"])
        except KubeError:
            head_pod = None  # reported as container: null (not read)
    return raycluster.autoscaler_report(obj, head_pod)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if module.params["timeout"] < 0:
        module.fail_json(msg="Option 'timeout' must be 0 or more seconds, got %d" % module.params["timeout"])
    try:
        client = KubeClient.from_module(module)
        module.exit_json(**run(module, client))
    except WaitError as e:
        failure = dict(msg=e.msg, waited=True, elapsed=round(e.elapsed, 3))
        failure.update(report(e.obj))
        if isinstance(e, WaitFailed):
            failure["failure"] = raycluster.failure(e.obj) if e.obj is not None else e.msg
        module.fail_json(**failure)
    except KubeError as e:
        module.fail_json(msg=to_native(e))


if __name__ == "__main__":
    main()
