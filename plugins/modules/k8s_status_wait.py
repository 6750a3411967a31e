#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_status_wait
short_description: Wait until any Kubernetes object's status matches a JMESPath expression
version_added: 0.1.0
description:
  - Watches one Kubernetes object (any kind, custom resources included) until the JMESPath expression
    O(ready) is true for it, for example V(status.phase == 'Ready') or
    V(status.health.status == 'Healthy' && status.sync.status == 'Synced').
  - Unlike the C(wait_condition) of M(kubernetes.core.k8s), the expression can test any field, not only
    entries of C(status.conditions), and a status written for an older spec is not taken as ready
    (see O(require_observed_generation)).
  - The object is watched, not polled, so a change is noticed within about a second. The wait fails
    early when O(failed) has been true for O(failure_grace) seconds, and otherwise after O(timeout)
    seconds with a message that names the object and its last status.
  - The object may not exist yet when the wait starts; it is waited for too.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  api_version:
    description:
      - API version of the object, for example V(v1), V(ceph.rook.io/v1), V(argoproj.io/v1alpha1).
    type: str
    default: v1
    aliases: [ api, version ]
  kind:
    description:
      - Kind of the object (kind, plural, singular or short name as the API server lists them).
    type: str
    required: true
  name:
    description:
      - Name of the object.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the object; required for namespaced kinds.
    type: str
  ready:
    description:
      - JMESPath expression evaluated against the whole object (C(metadata), C(spec), C(status)).
        The object is ready when the result is true in the JMESPath sense (not V(false), V(null),
        an empty string, an empty list or an empty object).
      - String literals are written in single quotes, numbers in backticks, for example
        V(status.readyReplicas == `3`).
      - An expression that cannot be evaluated against the current object (a function given a
        null field that is not filled in yet) counts as not ready.
    type: str
    required: true
  failed:
    description:
      - JMESPath expression; when its result is true for O(failure_grace) seconds without
        interruption, the wait fails at once instead of running into O(timeout).
      - When the result is a string, it is used as the failure message, for example
        V(status.conditions[?type=='ReplicaFailure' && status=='True'].message | [0]).
    type: str
  failure_grace:
    description:
      - Seconds the O(failed) expression must stay true before the wait fails. Any observation in
        between where it is false starts the count again, so short flaps are tolerated.
    type: int
    default: 0
  require_observed_generation:
    description:
      - Count the object as ready only when C(status.observedGeneration) equals
        C(metadata.generation), that is when its controller has seen the current spec.
      - Objects that do not report C(status.observedGeneration) are judged by O(ready) alone.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait in total. V(0) reads the object once and fails unless it is ready.
    type: int
    default: 300
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.INFO_MODULE
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
notes:
  - In check mode the object is read once and reported (RV(ready), RV(matched)) without waiting and
    without failing when it is not ready, because the changes that earlier tasks would have made were
    not made. To really wait during a check run, set C(check_mode=false) on the task; the module only reads.
requirements:
  - jmespath (Python library)
seealso:
  - module: kubernetes.core.k8s_info
    description: Its C(wait_condition) waits on C(status.conditions) entries only.
"""

EXAMPLES = r"""
- name: Wait for a Rook object store user to be Ready for its current spec
  lakehouse.platform.k8s_status_wait:
    api_version: ceph.rook.io/v1
    kind: CephObjectStoreUser
    namespace: rook-ceph
    name: iceberg
    ready: "status.phase == 'Ready'"
    failed: "status.phase == 'ReconcileFailed'"
    failure_grace: 60
    timeout: 600

- name: Wait for an Argo CD Application to be synced and healthy
  lakehouse.platform.k8s_status_wait:
    api_version: argoproj.io/v1alpha1
    kind: Application
    namespace: argocd
    name: mlflow
    ready: "status.health.status == 'Healthy' && status.sync.status == 'Synced' && status.operationState.phase != 'Running'"
    failed: "status.health.status == 'Degraded' || status.operationState.phase == 'Failed'"
    failure_grace: 30

- name: Wait for a RayCluster, failing with KubeRay's own message on ReplicaFailure
  lakehouse.platform.k8s_status_wait:
    api_version: ray.io/v1
    kind: RayCluster
    namespace: ml
    name: raycluster
    ready: >-
      status.conditions[?type=='HeadPodReady'].status | [0] == 'True' &&
      status.readyWorkerReplicas >= status.desiredWorkerReplicas
    failed: "status.conditions[?type=='ReplicaFailure' && status=='True'].message | [0]"
  register: ray

- name: Same wait, with the connection set once for the whole k8s group
  module_defaults:
    group/lakehouse.platform.k8s:
      kubeconfig: /etc/lakehouse/kubeconfig
      context: prod
  lakehouse.platform.k8s_status_wait:
    api_version: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    namespace: flux-system
    name: datahub
    ready: "status.conditions[?type=='Ready'].status | [0] == 'True'"
    failed: "status.conditions[?type=='Stalled' && status=='True'].message | [0]"
"""

RETURN = r"""
resource:
  description: The object as last seen (the ready one on success).
  returned: when the object exists
  type: dict
  sample: {"apiVersion": "ceph.rook.io/v1", "kind": "CephObjectStoreUser", "metadata": {"name": "iceberg"},
           "status": {"phase": "Ready", "observedGeneration": 1}}
ready:
  description: Whether the object satisfied O(ready) (and the generation check). Always true on success outside check mode.
  returned: always
  type: bool
  sample: true
waited:
  description: Whether the module waited; false in check mode, where the object is read once.
  returned: always
  type: bool
  sample: true
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 12.4
matched:
  description: The results of the expressions for the object as last seen.
  returned: always
  type: dict
  contains:
    ready:
      description: Result of the O(ready) expression.
      type: raw
      sample: true
    failed:
      description: Result of the O(failed) expression, null when O(failed) is not set.
      type: raw
      sample: false
    generation_current:
      description: Whether C(status.observedGeneration) equals C(metadata.generation) (true when not reported).
      type: bool
      sample: true
  sample: {"ready": true, "failed": false, "generation_current": true}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

try:
    import jmespath
    from jmespath.exceptions import JMESPathError, JMESPathTypeError

    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    KindNotFound,
    KubeClient,
    KubeError,
    kube_argument_spec,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import (
    WaitError,
    generation_current,
    summarize_status,
    wait_for,
)


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        api_version=dict(type="str", default="v1", aliases=["api", "version"]),
        kind=dict(type="str", required=True),
        name=dict(type="str", required=True),
        namespace=dict(type="str"),
        ready=dict(type="str", required=True),
        failed=dict(type="str"),
        failure_grace=dict(type="int", default=0),
        require_observed_generation=dict(type="bool", default=True),
        timeout=dict(type="int", default=300),
    )
    return spec


def jmespath_true(value):
    """JMESPath truthiness: false, null, '', [] and {} are false; every number (0 too) is true."""
    return not (value is None or value is False or value == "" or value == [] or value == {})


class StatusExpressions(object):
    """The compiled ready/failed expressions, evaluated as predicates for the waiter.

    Remembers the last results so the module can return them and messages can show them.
    """

    def __init__(self, ready, failed=None, require_observed_generation=True):
        self.ready_text = ready
        self.failed_text = failed
        self.ready_expr = compile_expression("ready", ready)
        self.failed_expr = compile_expression("failed", failed) if failed else None
        self.require_observed_generation = require_observed_generation
        self.matched = {"ready": None, "failed": None, "generation_current": None}
        self.last_eval_error = None

    def _search(self, expression, obj):
        try:
            return expression.search(obj)
        except JMESPathTypeError as e:
            # A field the function needs is not filled in yet (null): not a match, keep waiting.
            self.last_eval_error = to_native(e)
            return None

    def ready(self, obj):
        self.last_eval_error = None
        value = self._search(self.ready_expr, obj)
        current = generation_current(obj)
        self.matched["ready"] = value
        self.matched["generation_current"] = current
        return jmespath_true(value) and (current or not self.require_observed_generation)

    def failed(self, obj):
        if self.failed_expr is None:
            return None
        value = self._search(self.failed_expr, obj)
        self.matched["failed"] = value
        if not jmespath_true(value):
            return None
        if isinstance(value, str):
            return value
        return "failed expression %r is true" % self.failed_text

    def describe(self, obj):
        text = summarize_status(obj)
        if obj is not None and self.matched.get("generation_current") is False and self.require_observed_generation:
            text += " (status is for an older generation)"
        if self.last_eval_error:
            text += "; ready expression error: %s" % self.last_eval_error
        return text


def compile_expression(option, text):
    try:
        return jmespath.compile(text)
    except JMESPathError as e:
        raise ValueError("Invalid JMESPath expression in option '%s' (%s): %s" % (option, text, to_native(e)))


def validate(params):
    """Everything checkable without the cluster; returns StatusExpressions or raises ValueError."""
    if params["timeout"] < 0:
        raise ValueError("Option 'timeout' must be 0 or more seconds, got %d" % params["timeout"])
    if params["failure_grace"] < 0:
        raise ValueError("Option 'failure_grace' must be 0 or more seconds, got %d" % params["failure_grace"])
    if params["failure_grace"] and not params["failed"]:
        raise ValueError("Option 'failure_grace' needs option 'failed'")
    return StatusExpressions(params["ready"], params["failed"], params["require_observed_generation"])


def check_once(module, client, params, expressions):
    """Check mode: one read, report what is there, never wait and never fail on not-ready."""
    try:
        obj = client.get(params["api_version"], params["kind"], params["name"], params["namespace"])
    except KindNotFound as e:
        # Typically a CRD that an earlier task of this check run would have installed.
        module.warn("Check mode: %s; reported as not ready" % e)
        obj = None
    ready = obj is not None and expressions.ready(obj)
    if obj is not None:
        expressions.failed(obj)
    result = dict(changed=False, ready=ready, waited=False, elapsed=0.0, matched=expressions.matched)
    if obj is not None:
        result["resource"] = obj
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_JMESPATH:
        module.fail_json(msg=missing_required_lib("jmespath"), exception=JMESPATH_IMPORT_ERROR)
    params = module.params
    try:
        expressions = validate(params)
    except ValueError as e:
        module.fail_json(msg=to_native(e))

    try:
        client = KubeClient.from_module(module)
        if module.check_mode:
            module.exit_json(**check_once(module, client, params, expressions))
        result = wait_for(
            client, params["api_version"], params["kind"], params["name"], params["namespace"],
            ready=expressions.ready,
            failed=expressions.failed if expressions.failed_expr is not None else None,
            timeout=params["timeout"],
            failure_grace=params["failure_grace"],
            describe=expressions.describe,
        )
    except WaitError as e:
        failure = dict(msg=e.msg, elapsed=round(e.elapsed, 3), ready=False, waited=True, matched=expressions.matched)
        if e.obj is not None:
            failure["resource"] = e.obj
        module.fail_json(**failure)
    except KubeError as e:
        module.fail_json(msg=to_native(e))
    module.exit_json(
        changed=False, ready=True, waited=True, resource=result.obj, elapsed=round(result.elapsed, 3),
        matched=expressions.matched,
    )


if __name__ == "__main__":
    main()
