#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kfp_pipeline_check
short_description: Upload a Kubeflow pipeline, run it to the end and delete it again, through the API server
version_added: 0.1.0
description:
  - The runbook's "Kubeflow - create test pipeline", in one call. Through the Kubeflow Pipelines (KFP) v2beta1
    REST API it asks the API server for its health (C(GET /apis/v2beta1/healthz)), uploads the compiled pipeline
    O(pipeline_spec) (C(POST /apis/v2beta1/pipelines/upload), multipart form field C(uploadfile)), reads the
    version the upload created (C(GET /apis/v2beta1/pipelines/{id}/versions)), starts a run of it
    (C(POST /apis/v2beta1/runs) with C(pipeline_version_reference) and C(runtime_config.parameters)), polls
    C(GET /apis/v2beta1/runs/{run_id}) until the run's C(state) is final, and deletes the run, the version and
    the pipeline (C(DELETE) on each), whatever the outcome.
  - A pipeline of the same O(pipeline_name) that an interrupted earlier probe left behind is found
    (C(GET /apis/v2beta1/pipelines/names/{name})) and deleted first, so a rerun starts clean.
  - The KFP API is reached through the Kubernetes API server's service proxy
    (C(/api/v1/namespaces/<namespace>/services/<service>:<port>/proxy/...)) with kubernetes.core's
    authentication, as M(lakehouse.platform.k8s_service_request) does, or at O(url) when it is set.
  - The run fails the task unless it ends C(SUCCEEDED); the message names O(component), the run id, its state
    and the error the API returned. A wrong answer of any call fails naming the call, how it was sent and
    what came back.
  - What is hand-written here and why - the kfp SDK's client (C(kfp.Client), generated C(kfp_server_api)) is
    the real client of this API, but it cannot live beside this collection's dependencies. kfp 2.17 pins
    C(kubernetes<31), and kubernetes.core (which these modules use for authentication) runs with the
    kubernetes client 33, so installing kfp would downgrade it. The client cannot send through the API
    server's service proxy either. This module therefore sends the same v2beta1 requests itself. The paths,
    the query parameters and the field names follow the KFP API server's v2beta1 swagger and the
    C(kfp_server_api) calls of C(Client.upload_pipeline), C(Client.run_pipeline) and
    C(Client.wait_for_run_completion). The pipeline itself is compiled by the real kfp SDK ahead of time (the
    kubeflow role ships it as a file, and a test recompiles it with the SDK and compares).
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  component:
    description:
      - Name used at the start of every message.
    type: str
    default: kubeflow
  namespace:
    description:
      - Namespace of the KFP API server's Service. Required unless O(url) is set.
    type: str
  service:
    description:
      - Name of the KFP API server's Service (upstream manifests - V(ml-pipeline)).
    type: str
    default: ml-pipeline
  port:
    description:
      - Port of that Service, by number or name (the REST API - V(8888)).
    type: str
    default: "8888"
  scheme:
    description:
      - Scheme the API server uses towards the KFP API endpoint.
    type: str
    choices: [http, https]
    default: http
  url:
    description:
      - Base URL of the KFP API as the controller reaches it (port-forward, ingress). When set (not empty) the
        requests go there directly and O(namespace), O(service), O(port) and O(scheme) are not used.
    type: str
    default: ""
  url_validate_certs:
    description:
      - Verify the TLS certificate of O(url).
    type: bool
    default: true
  pipeline_spec:
    description:
      - The compiled pipeline, as the kfp SDK writes it (IR YAML, or JSON), for example
        V("{{ lookup('ansible.builtin.file', 'validation_pipeline.yaml') }}").
      - It must have C(pipelineInfo.name), C(root.dag), C(deploymentSpec) and C(schemaVersion); anything else
        fails before a request is sent.
    type: str
    required: true
  pipeline_name:
    description:
      - Name of the uploaded pipeline (and of its version) in KFP.
    type: str
    default: lakehouse-platform-validation
  pipeline_namespace:
    description:
      - KFP namespace (multi-user mode - the profile namespace) of the pipeline; empty for a single-user
        installation.
    type: str
    default: ""
  experiment_id:
    description:
      - KFP experiment of the run; empty - the API server's default experiment.
    type: str
    default: ""
  run_name:
    description:
      - Display name of the run.
    type: str
    default: lakehouse-platform-validation
  parameters:
    description:
      - Runtime parameters of the run (C(runtime_config.parameters)), by the pipeline's input names.
    type: dict
    default: {}
  timeout:
    description:
      - Seconds the run may take to reach a final state once created.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds between two reads of the run.
    type: int
    default: 2
  request_timeout:
    description:
      - Seconds to wait for each answer.
    type: int
    default: 30
  cleanup:
    description:
      - Delete the run, the version and the pipeline at the end. With V(false) they stay (for a look in the KFP
        UI) and the task reports a change.
    type: bool
    default: true
  fail_unreachable:
    description:
      - Fail when the KFP API is not reached (the first request). With V(false) the module returns
        RV(reached=false), the reason in RV(msg) and RV(record) and a warning; once reached, every later
        failure fails the task.
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
      - Nothing is sent in check mode (not even the health request); the result says so.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A probe - what it creates it deletes, so it reports no change (unless O(cleanup=false)).
notes:
  - Through the service proxy the caller needs C(get), C(create) and C(delete) on C(services/proxy) in
    O(namespace).
  - Through the service proxy the API server consumes the C(Authorization) header; a KFP that wants its own
    credentials (multi-user mode behind an auth proxy) is reached through O(url) from inside its mesh.
seealso:
  - module: lakehouse.platform.k8s_service_request
    description: One HTTP request through the service proxy.
"""

EXAMPLES = r"""
- name: Run the validation pipeline in Kubeflow Pipelines and delete it again
  lakehouse.platform.kfp_pipeline_check:
    namespace: kubeflow
    pipeline_spec: "{{ lookup('ansible.builtin.file', 'validation_pipeline.yaml') }}"
    parameters: {message: hello}
    timeout: 600
  register: kfp_check

- name: The same at a port-forward, recording why it was not reached instead of failing
  lakehouse.platform.kfp_pipeline_check:
    url: http://127.0.0.1:8888
    pipeline_spec: "{{ lookup('ansible.builtin.file', 'validation_pipeline.yaml') }}"
    fail_unreachable: false
  register: kfp_check
"""

RETURN = r"""
reached:
  description: Whether the KFP API answered.
  returned: always
  type: bool
sent:
  description: Whether any request was sent (false in check mode and when no client could be built).
  returned: always
  type: bool
via:
  description: How the KFP API was reached.
  returned: always
  type: str
  sample: service proxy kubeflow/ml-pipeline:8888
health:
  description: The answer of C(/apis/v2beta1/healthz).
  returned: when reached
  type: dict
  sample: {"commit_sha": "...", "tag_name": "2.4.0", "multi_user": false}
pipeline_id:
  description: ID of the uploaded pipeline.
  returned: when uploaded
  type: str
pipeline_version_id:
  description: ID of its version.
  returned: when uploaded
  type: str
run_id:
  description: ID of the run.
  returned: when the run was created
  type: str
state:
  description: Final state of the run (C(SUCCEEDED) on success).
  returned: when the run was created
  type: str
  sample: SUCCEEDED
error:
  description: The error of a run that did not succeed (its C(error.message), else its failed tasks' errors).
  returned: when the run was created
  type: str
elapsed_s:
  description: Seconds from creating the run to reading its final state.
  returned: when the run ended
  type: float
leftovers_deleted:
  description: IDs of pipelines of the same name from earlier probes that were deleted first.
  returned: when reached
  type: list
  elements: str
deleted:
  description: What the clean-up deleted (C(run <id>), C(pipeline <id>)).
  returned: always
  type: list
  elements: str
requests:
  description: The requests sent, in order (C(<METHOD> <path>)).
  returned: always
  type: list
  elements: str
record:
  description:
    - "For the validation record - C(<run id> SUCCEEDED in <n>s via <via> (...)), or C(not reachable: <why> (...))."
  returned: always
  type: str
  sample: "5f0c... SUCCEEDED in 21.4s via service proxy kubeflow/ml-pipeline:8888 (pipeline lakehouse-platform-validation, deleted)"
msg:
  description: What happened, starting with O(component).
  returned: always
  type: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils.kfp_rest import (
    BASE,
    KfpApi,
    KfpError,
    check_pipeline_spec,
    run_error,
    wait_for_run,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KubeClient, KubeError, kube_argument_spec
from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import (
    Unreachable,
    request_url,
    request_via_proxy,
)

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        component=dict(type="str", default="kubeflow"),
        namespace=dict(type="str"),
        service=dict(type="str", default="ml-pipeline"),
        port=dict(type="str", default="8888"),
        scheme=dict(type="str", choices=["http", "https"], default="http"),
        url=dict(type="str", default=""),
        url_validate_certs=dict(type="bool", default=True),
        pipeline_spec=dict(type="str", required=True),
        pipeline_name=dict(type="str", default="lakehouse-platform-validation"),
        pipeline_namespace=dict(type="str", default=""),
        experiment_id=dict(type="str", default=""),
        run_name=dict(type="str", default="lakehouse-platform-validation"),
        parameters=dict(type="dict", default={}),
        timeout=dict(type="int", default=600),
        poll_interval=dict(type="int", default=2),
        request_timeout=dict(type="int", default=30),
        cleanup=dict(type="bool", default=True),
        fail_unreachable=dict(type="bool", default=True),
    )
    return spec


def validate(params):
    """Bad input, named by option, before anything is sent -> (error message or None, parsed spec)."""
    if not params["url"]:
        if not params.get("namespace"):
            return "Option namespace is required when url is empty (the requests go through the service proxy)", None
        for name in ("service", "port"):
            if not params[name] or ":" in params[name] or "/" in params[name]:
                what = "name" if name == "service" else "port number or name"
                return "Option %s must be a Service %s, got %r" % (name, what, params[name]), None
    elif not params["url"].startswith(("http://", "https://")):
        return "Option url must start with http:// or https://", None
    for name in ("timeout", "poll_interval", "request_timeout"):
        if params[name] <= 0:
            return "Option %s must be 1 or more seconds, got %d" % (name, params[name]), None
    if not params["pipeline_name"].strip():
        return "Option pipeline_name must not be empty", None
    try:
        documents = [doc for doc in yaml.safe_load_all(params["pipeline_spec"]) if doc is not None]
    except yaml.YAMLError as e:
        return "Option pipeline_spec is not YAML or JSON: %s" % to_native(e), None
    spec = documents[0] if documents else None
    problem = check_pipeline_spec(spec)
    if problem:
        return "Option pipeline_spec: %s" % problem, None
    inputs = ((spec["root"].get("inputDefinitions") or {}).get("parameters") or {})
    unknown = sorted(set(params["parameters"]) - set(inputs))
    if unknown:
        return "Option parameters names %s, which pipeline %s does not take (its inputs: %s)" % (
            ", ".join(unknown), spec["pipelineInfo"]["name"], ", ".join(sorted(inputs)) or "none"), None
    return None, spec


def sender(module, params):
    """(send(method, path, query, body, headers) -> ServiceResponse, via)."""
    timeout = params["request_timeout"]
    if params["url"]:
        def send(method, path, query, body, headers):
            answer = request_url(params["url"], path, method, query, body, headers, timeout,
                                 params["url_validate_certs"])
            return answer
        return send, "url %s" % params["url"].split("@")[-1]
    client = KubeClient.from_module(module)
    scheme = params["scheme"] if params["scheme"] == "https" else ""

    def send(method, path, query, body, headers):
        return request_via_proxy(client, params["namespace"], params["service"], params["port"], path, method,
                                 scheme, query, body, headers, timeout=timeout, connect_timeout=min(timeout, 10))
    return send, "service proxy %s/%s:%s" % (params["namespace"], params["service"], params["port"])


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    params = module.params
    component = params["component"]
    problem, _spec = validate(params)
    if problem:
        module.fail_json(msg="%s: %s" % (component, problem))
    via = ("url %s" % params["url"].split("@")[-1]) if params["url"] else "service proxy %s/%s:%s" % (
        params["namespace"], params["service"], params["port"])
    result = dict(changed=False, reached=False, sent=False, via=via, deleted=[], requests=[])
    if module.check_mode:
        result.update(record="not run (check mode)", msg="%s: check mode: nothing sent to the KFP API via %s"
                      % (component, via))
        module.exit_json(**result)

    def not_reached(why, asked):
        reach = "not reachable: %s (%s via %s)" % (why, asked, via)
        result.update(record=reach, msg="%s: %s" % (component, reach))
        if params["fail_unreachable"]:
            module.fail_json(**result)
        module.warn(result["msg"])
        module.exit_json(**result)

    try:
        send, via = sender(module, params)
    except KubeError as e:  # no usable client (kubeconfig, auth): nothing was sent
        not_reached(to_native(e), "GET %s/healthz" % BASE)
    api = KfpApi(send, component, via)
    result["requests"] = api.calls
    try:
        result["health"] = api.health()
    except Unreachable as e:
        result["sent"] = True
        not_reached(to_native(e.why), "GET %s/healthz" % BASE)
    except KfpError as e:
        result.update(sent=True, reached=True, record="%s" % e, msg=to_native(e))
        module.fail_json(**result)
    result.update(sent=True, reached=True)

    created = {}
    failure = None
    try:
        leftover = api.find_pipeline(params["pipeline_name"], params["pipeline_namespace"])
        result["leftovers_deleted"] = []
        if leftover and leftover.get("pipeline_id"):
            api.delete_pipeline(leftover["pipeline_id"])
            result["leftovers_deleted"].append(leftover["pipeline_id"])
        pipeline = api.upload(params["pipeline_name"], "lakehouse.platform validation pipeline (deleted after its run)",
                              "%s.yaml" % params["pipeline_name"], params["pipeline_spec"],
                              params["pipeline_namespace"])
        created["pipeline"] = result["pipeline_id"] = pipeline["pipeline_id"]
        versions = api.versions(pipeline["pipeline_id"])
        if not versions or not versions[0].get("pipeline_version_id"):
            raise KfpError("%s: pipeline %s (%s) has no version after the upload via %s" % (
                component, params["pipeline_name"], pipeline["pipeline_id"], via))
        result["pipeline_version_id"] = versions[0]["pipeline_version_id"]
        run = api.create_run(params["run_name"], pipeline["pipeline_id"], result["pipeline_version_id"],
                             params["parameters"], params["experiment_id"])
        created["run"] = result["run_id"] = run["run_id"]
        run, waited = wait_for_run(api, run["run_id"], params["timeout"], params["poll_interval"])
        result.update(state=run.get("state"), error=run_error(run), elapsed_s=round(waited, 1))
        if result["state"] != "SUCCEEDED":
            failure = "%s: pipeline run %s of pipeline %s ended %s after %.1fs via %s: %s" % (
                component, result["run_id"], params["pipeline_name"], result["state"], waited, via,
                result["error"] or "the API returned no error message")
    except (KfpError, Unreachable) as e:
        failure = to_native(e) if isinstance(e, KfpError) else "%s: %s (after %s)" % (
            component, to_native(e), api.calls[-1])
    finally:
        cleanup_problems = []
        if params["cleanup"]:
            for kind, delete in (("run", api.delete_run), ("pipeline", api.delete_pipeline)):
                if kind in created:
                    try:
                        delete(created[kind])
                        result["deleted"].append("%s %s" % (kind, created[kind]))
                    except (KfpError, Unreachable) as e:
                        cleanup_problems.append("%s %s not deleted: %s" % (kind, created[kind], to_native(e)))
    if cleanup_problems:
        failure = "; ".join(([failure] if failure else []) + cleanup_problems)
    if not params["cleanup"] and created:
        result["changed"] = True
    if failure:
        result.update(record=failure, msg=failure)
        module.fail_json(**result)
    kept = "deleted" if params["cleanup"] else "kept"
    result["record"] = "%s SUCCEEDED in %.1fs via %s (pipeline %s, %s)" % (
        result["run_id"], result["elapsed_s"], via, params["pipeline_name"], kept)
    result["msg"] = "%s: pipeline run %s" % (component, result["record"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
