#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ml_workflow_check
short_description: Run an ML workflow end to end - a Ray job logs a run to MLflow, and the run is read back
version_added: 0.1.0
description:
  - The runbook's I(Complete ML workflow tested), in one call. It asks MLflow for C(/health), submits a job
    through the Ray dashboard's Jobs REST API (C(POST /api/jobs/)) and polls it (C(GET /api/jobs/<id>)) until it
    ends. The job computes the sum of squares of C(0 .. tasks-1) with Ray tasks and logs it as the metric
    C(sum_of_squares) of a new run (tagged C(lakehouse_workflow_id=<uuid>)) in the experiment O(experiment) of
    the MLflow tracking server at O(tracking_uri) - the address the job uses inside the cluster.
  - The run is then read back from MLflow (C(POST /api/2.0/mlflow/runs/search) for that tag) and must be the
    job's one run, C(FINISHED), with the expected metric. Then the run is deleted, and the experiment too when
    the job created it (or restored it from deleted), so a rerun leaves MLflow as it found it.
  - Ray and MLflow are reached through the Kubernetes API server's service proxy
    (C(/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/<path>), kubernetes.core's auth), or at O(ray_url)
    and O(mlflow_url) when set.
  - What is hand-written here and why - the job's code uses only the Python standard library (C(urllib)) to call
    MLflow's REST API (C(experiments/get-by-name), C(experiments/create), C(runs/create), C(runs/log-metric),
    C(runs/update)), so it runs in the stock C(rayproject/ray) image without the mlflow package, and the
    controller needs neither the ray nor the mlflow client library; both servers' REST APIs are stable and
    documented. The requests from the controller are those of M(lakehouse.platform.k8s_service_request).
  - MLflow's REST API deletes softly - a deleted run or experiment keeps its id in the C(deleted) lifecycle
    stage until C(mlflow gc) purges it; searches of active runs no longer find it.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  component:
    description:
      - Name used at the start of every message.
    type: str
    default: ray
  ray_url:
    description:
      - Base URL of the Ray dashboard as the controller reaches it; when set, O(ray_namespace), O(ray_service)
        and O(ray_port) are not used.
    type: str
    default: ""
  ray_namespace:
    description:
      - Namespace of the Ray head Service. Required unless O(ray_url) is set.
    type: str
  ray_service:
    description:
      - The Ray head Service (dashboard port), for example V(ml-cluster-head-svc). Required unless O(ray_url) is set.
    type: str
  ray_port:
    description:
      - Dashboard port of O(ray_service), by number or name.
    type: str
    default: "8265"
  mlflow_url:
    description:
      - Base URL of the MLflow tracking server as the controller reaches it, for the health check, the read-back
        and the clean-up; when set, O(mlflow_namespace), O(mlflow_service) and O(mlflow_port) are not used.
    type: str
    default: ""
  mlflow_namespace:
    description:
      - Namespace of the MLflow Service. Required unless O(mlflow_url) is set.
    type: str
  mlflow_service:
    description:
      - The MLflow Service. Required unless O(mlflow_url) is set.
    type: str
  mlflow_port:
    description:
      - Port of O(mlflow_service), by number or name.
    type: str
    default: "80"
  url_validate_certs:
    description:
      - Verify the TLS certificates of O(ray_url) and O(mlflow_url). (The API server's follows O(validate_certs).)
    type: bool
    default: true
  tracking_uri:
    description:
      - The MLflow tracking URI the job uses from inside the cluster, for example
        V(http://mlflow.ml-platform.svc:80). It is part of the job's entrypoint, so it must not hold credentials.
    type: str
    required: true
  experiment:
    description:
      - The MLflow experiment the job logs its run into (created when absent, restored when deleted).
    type: str
    default: lakehouse-platform-ml-workflow
  tasks:
    description:
      - How many Ray tasks the job runs (task C(i) squares C(i)); the metric must read back as their sum.
    type: int
    default: 10
  timeout:
    description:
      - Seconds the job may take from its submission (the first submission on a head also starts its job
        supervisor). A job still running then is stopped, and the module fails.
    type: int
    default: 300
  fail_unreachable:
    description:
      - Fail when Ray or MLflow is not reached at all. With V(false) the module returns RV(reached=false), the
        reason in RV(record) and a warning; a workflow that ran and went wrong fails either way.
    type: bool
    default: true
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
attributes:
  check_mode:
    support: full
    details:
      - Nothing is sent in check mode (a submitted job would write to MLflow); the result says so.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A probe - what the job creates in MLflow is deleted again, and the module never reports a change.
notes:
  - Through the service proxy the caller needs C(get) and C(create) on C(services/proxy) in both namespaces.
  - The job's pod reaches MLflow by O(tracking_uri); MLflow 3.5 and later answer C(403 Invalid Host header) to a
    Host that is not in C(MLFLOW_SERVER_ALLOWED_HOSTS) (default - localhost and private addresses), which the job's
    failure message then shows (the mlflow role of this collection allows its in-cluster Service names).
seealso:
  - module: lakehouse.platform.k8s_service_request
"""

EXAMPLES = r"""
- name: Run the ML workflow through the API server
  lakehouse.platform.ml_workflow_check:
    ray_namespace: ml-platform
    ray_service: ml-cluster-head-svc
    mlflow_namespace: ml-platform
    mlflow_service: mlflow
    tracking_uri: http://mlflow.ml-platform.svc:80
  register: ml_workflow

- name: The same through port-forwards, recording why it was not reached instead of failing
  lakehouse.platform.ml_workflow_check:
    ray_url: http://127.0.0.1:8265
    mlflow_url: http://127.0.0.1:5000
    tracking_uri: http://mlflow.ml-platform.svc:80
    fail_unreachable: false
"""

RETURN = r"""
reached:
  description: Whether both services answered and the job was submitted.
  returned: always
  type: bool
record:
  description:
    - "For the validation record - C(run <id> metric sum_of_squares=<value> logged by Ray job <id> read back via <way>),
      or C(not reachable: <why> (<request> via <way>)), or C(not run (check mode))."
  returned: always
  type: str
  sample: run 3f2c... metric sum_of_squares=285.0 logged by Ray job lakehouse-ml-workflow-0a1b2c3d4e5f read back via service proxy ml-platform/mlflow:80
job_id:
  description: The Ray job's submission id (C(lakehouse-ml-workflow-<12 hex>)).
  returned: always
  type: str
job_status:
  description: The job's last status (C(SUCCEEDED), C(FAILED), C(STOPPED), ...).
  returned: always
  type: str
job_logs_tail:
  description: The last lines of the job's log.
  returned: always
  type: str
workflow_id:
  description: The uuid the run was tagged with (C(lakehouse_workflow_id)).
  returned: always
  type: str
experiment_id:
  description: The MLflow experiment the job used.
  returned: always
  type: str
run_id:
  description: The MLflow run the job logged.
  returned: always
  type: str
metric:
  description: The metric C(key), its C(value) as read back, and the C(expected) value.
  returned: always
  type: dict
  sample: {key: sum_of_squares, value: 285.0, expected: 285.0}
deleted:
  description: Whether the C(run) and the C(experiment) were deleted afterwards.
  returned: always
  type: dict
ray_via:
  description: How Ray was reached.
  returned: always
  type: str
  sample: service proxy ml-platform/ml-cluster-head-svc:8265
mlflow_via:
  description: How MLflow was reached.
  returned: always
  type: str
  sample: service proxy ml-platform/mlflow:80
tracking_uri:
  description: The tracking URI the job used.
  returned: always
  type: str
msg:
  description: What happened, starting with O(component).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KubeClient, KubeError, kube_argument_spec
from ansible_collections.lakehouse.platform.plugins.module_utils.ml_workflow import (
    NotReached,
    Workflow,
    WorkflowFailed,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import (
    describe_proxy,
    encode_body,
    request_url,
    request_via_proxy,
)


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        component=dict(type="str", default="ray"),
        ray_url=dict(type="str", default=""),
        ray_namespace=dict(type="str"),
        ray_service=dict(type="str"),
        ray_port=dict(type="str", default="8265"),
        mlflow_url=dict(type="str", default=""),
        mlflow_namespace=dict(type="str"),
        mlflow_service=dict(type="str"),
        mlflow_port=dict(type="str", default="80"),
        url_validate_certs=dict(type="bool", default=True),
        tracking_uri=dict(type="str", required=True),
        experiment=dict(type="str", default="lakehouse-platform-ml-workflow"),
        tasks=dict(type="int", default=10),
        timeout=dict(type="int", default=300),
        fail_unreachable=dict(type="bool", default=True),
    )
    return spec


def _plain(url):
    """The URL without user:password@."""
    parts = urlsplit(url)
    return url if "@" not in parts.netloc else url.replace(parts.netloc, parts.netloc.rsplit("@", 1)[1], 1)


def validate(params):
    """Bad input, named by option, before anything is sent -> error message or None."""
    for side in ("ray", "mlflow"):
        url = params["%s_url" % side]
        if url:
            if not url.startswith(("http://", "https://")):
                return "Option %s_url must start with http:// or https://, got %r" % (side, _plain(url))
            continue
        missing = ["%s_%s" % (side, name) for name in ("namespace", "service") if not params.get("%s_%s" % (side, name))]
        if missing:
            return "Options %s are required when %s_url is empty (the requests go through the service proxy)" % (
                " and ".join(missing), side)
        for name in ("service", "port"):
            value = params["%s_%s" % (side, name)] or ""
            if ":" in value or "/" in value:
                return "Option %s_%s must be a Service %s, got %r" % (side, name, "name" if name == "service" else
                                                                      "port number or name", value)
    uri = params["tracking_uri"]
    if not uri.startswith(("http://", "https://")) or not urlsplit(uri).hostname:
        return "Option tracking_uri must be an http:// or https:// URL, got %r" % _plain(uri)
    if "@" in urlsplit(uri).netloc:
        return ("Option tracking_uri must not hold credentials (it is part of the Ray job's entrypoint), got %r"
                % _plain(uri))
    if not params["experiment"].strip():
        return "Option experiment must not be empty"
    if not 1 <= params["tasks"] <= 1000:
        return "Option tasks must be between 1 and 1000, got %d" % params["tasks"]
    if params["timeout"] <= 0:
        return "Option timeout must be 1 or more seconds, got %d" % params["timeout"]
    return None


class _Client(object):
    """The Kubernetes client, built once and only when a request goes through the service proxy."""

    def __init__(self, module):
        self.module, self.client = module, None

    def get(self):
        if self.client is None:
            self.client = KubeClient.from_module(self.module)
        return self.client


def endpoint(params, side, kube):
    """(send, via) for ray or mlflow; send(method, path, body=None, query=None, timeout=30) -> ServiceResponse."""
    url, validate_certs = params["%s_url" % side], params["url_validate_certs"]
    if url:
        via = "url %s" % _plain(url)

        def send(method, path, body=None, query=None, timeout=30):
            data, headers = encode_body(body, "json", None)
            answer = request_url(url, path, method, query, data, headers, timeout, validate_certs)
            answer.via = via
            return answer
        return send, via
    namespace, service, port = (params["%s_%s" % (side, name)] for name in ("namespace", "service", "port"))

    def send(method, path, body=None, query=None, timeout=30):
        data, headers = encode_body(body, "json", None)
        return request_via_proxy(kube.get(), namespace, service, port, path, method, "", query, data, headers,
                                 timeout=timeout, connect_timeout=min(timeout, 10))
    return send, describe_proxy(namespace, service, port)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    problem = validate(params)
    if problem:
        module.fail_json(msg=problem)
    kube = _Client(module)
    workflow = Workflow(endpoint(params, "ray", kube), endpoint(params, "mlflow", kube), params["tracking_uri"],
                        params["experiment"], tasks=params["tasks"], timeout=params["timeout"],
                        component=params["component"])
    if module.check_mode:
        result = dict(workflow.result, record="not run (check mode)",
                      msg="%s: ML workflow not run in check mode (the job would write to MLflow)" % params["component"])
        module.exit_json(**result)
    try:
        result = workflow.run()
    except NotReached as e:
        result = dict(e.result, record=e.reach, msg="%s: ML workflow: %s" % (params["component"], e.reach))
        if params["fail_unreachable"]:
            module.fail_json(**result)
        module.warn(result["msg"])
        module.exit_json(**result)
    except KubeError as e:  # no usable client (kubeconfig, auth): nothing was sent
        reach = "not reachable: %s (no Kubernetes API client)" % to_native(e)
        result = dict(workflow.result, record=reach, msg="%s: ML workflow: %s" % (params["component"], reach))
        if params["fail_unreachable"]:
            module.fail_json(**result)
        module.warn(result["msg"])
        module.exit_json(**result)
    except WorkflowFailed as e:
        module.fail_json(**dict(e.result, record="", msg=to_native(e)))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
