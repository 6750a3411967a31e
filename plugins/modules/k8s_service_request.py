#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_service_request
short_description: Send an HTTP request to a Kubernetes Service through the API server's service proxy
version_added: 0.1.0
description:
  - Sends one HTTP request to a Service inside the cluster through the Kubernetes API server
    (C(/api/v1/namespaces/<namespace>/services/<scheme>:<service>:<port>/proxy/<path>)), so a validation
    runs wherever the playbook reaches the API (a laptop, AWX inside or outside the cluster) without a
    port-forward or an ingress. With O(url) it sends the same request to that URL instead.
  - Authentication is kubernetes.core's (module options, E(K8S_AUTH_*), kubeconfig, in-cluster), resolved by
    its C(get_api_client) function; the request goes through that client's connection pool, TLS settings and
    bearer token.
  - What is hand-written here and why - kubernetes.core has no module for the service proxy, and the
    kubernetes client's generated C(connect_*_namespaced_service_proxy_with_path) calls send no request body,
    query string or headers and raise on any non-2xx answer. This module builds the proxy path, sends the
    request with that client's pool and auth headers, and tells the API server's own refusals apart from the
    service's answers.
  - The service's answer (any status) is returned as RV(status), RV(content) and RV(json); a status not in
    O(status_code) fails naming O(component), the request, how it was sent (RV(via)) and what came back.
  - "When the service is not reached - the API server does not answer or refuses the proxy request
    (401/403), the Service does not exist (404), or no ready endpoint answers (503 from the API server,
    no endpoints or connection refused) - the module fails with C(<component>: not reachable: <why>), or with
    O(fail_unreachable=false) returns RV(reached=false) and that message in RV(msg), with a warning."
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  component:
    description:
      - Name used at the start of every message, for example V(mlflow).
    type: str
    default: service
  namespace:
    description:
      - Namespace of the Service. Required unless O(url) is set.
    type: str
  service:
    description:
      - Name of the Service. Required unless O(url) is set.
    type: str
  port:
    description:
      - Port of the Service, by number (V(8265)) or by name (V(dashboard)). Empty for a Service with one
        unnamed port.
    type: str
    default: ""
  scheme:
    description:
      - Scheme the API server uses towards the endpoint. The API server does not verify a backend's certificate.
    type: str
    choices: [http, https]
    default: http
  url:
    description:
      - Base URL of the service as the controller reaches it (port-forward, ingress). When set (not empty) the
        request goes there directly and O(namespace), O(service), O(port) and O(scheme) are not used.
    type: str
    default: ""
  url_validate_certs:
    description:
      - Verify the TLS certificate of O(url). (The API server's certificate follows O(validate_certs).)
    type: bool
    default: true
  path:
    description:
      - Path on the service, for example V(/health) or V(/api/jobs/).
    type: str
    default: /
  method:
    description:
      - HTTP method.
    type: str
    choices: [GET, HEAD, POST, PUT, PATCH, DELETE]
    default: GET
  query:
    description:
      - Query string parameters; a list value repeats the parameter.
    type: dict
  body:
    description:
      - Request body. With O(body_format=json), data is sent as JSON (a string is sent as it is).
    type: raw
  body_format:
    description:
      - V(json) sets C(Content-Type) to C(application/json) unless O(headers) sets it; V(raw) sends O(body) as given.
    type: str
    choices: [json, raw]
    default: json
  headers:
    description:
      - Request headers. Through the service proxy an C(Authorization) header never reaches the service, because
        the API server consumes it (it authenticates the caller); services that need their own credentials are
        asked through O(url) or inside the cluster.
    type: dict
  status_code:
    description:
      - Statuses of the service's answer that count as success; any other status fails.
    type: list
    elements: int
    default: [200]
  timeout:
    description:
      - Seconds to wait for the answer (each read). The connection to the API server (or O(url)) must open
        within the smaller of this and 10 seconds.
    type: int
    default: 30
  fail_unreachable:
    description:
      - Fail when the service is not reached. With V(false) the module returns RV(reached=false), the reason in
        RV(msg) and a warning, and the caller records it; an answer with a wrong status fails either way.
    type: bool
    default: true
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
attributes:
  check_mode:
    support: partial
    details:
      - V(GET) and V(HEAD) are sent in check mode (they only read). Other methods are not sent; the result
        says so (RV(sent=false)) and reports a change.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - V(GET) and V(HEAD) never report a change. Other methods report a change when the service accepted them.
notes:
  - The API server must allow the caller C(get) (and C(create), C(update), C(patch), C(delete) for the
    other methods) on the C(services/proxy) subresource in the namespace.
  - The answer is read whole into memory; this is for health checks and small API calls, not downloads.
seealso:
  - module: ansible.builtin.uri
    description: For URLs the controller reaches directly.
  - module: kubernetes.core.k8s_exec
    description: For checks that need a command in a pod rather than an HTTP API.
"""

EXAMPLES = r"""
- name: Ask MLflow for its health through the API server
  lakehouse.platform.k8s_service_request:
    component: mlflow
    namespace: ml-platform
    service: mlflow
    port: "80"
    path: /health

- name: Submit a Ray job through the dashboard's Service (or the URL when one is given)
  lakehouse.platform.k8s_service_request:
    component: ray
    url: "{{ ray_dashboard_url }}"
    namespace: ml-platform
    service: ml-cluster-head-svc
    port: dashboard
    path: /api/jobs/
    method: POST
    body: {entrypoint: "python -c 'print(1)'"}
  register: ray_job

- name: Record the Elasticsearch health, or why it was not reached
  lakehouse.platform.k8s_service_request:
    component: elasticsearch
    namespace: data-platform
    service: elasticsearch
    port: "9200"
    path: /_cluster/health
    fail_unreachable: false
  register: es_health
"""

RETURN = r"""
reached:
  description: Whether the service answered (any status).
  returned: always
  type: bool
  sample: true
sent:
  description: Whether the request was sent (false only for a write method in check mode).
  returned: always
  type: bool
via:
  description: How the service was reached.
  returned: always
  type: str
  sample: service proxy ml-platform/mlflow:80
status:
  description: HTTP status of the service's answer.
  returned: when reached
  type: int
  sample: 200
content:
  description: Body of the answer as text.
  returned: when reached
  type: str
  sample: OK
json:
  description: Body of the answer parsed as JSON, null when it is not JSON.
  returned: when reached
  type: raw
headers:
  description: Headers of the answer, names in lower case.
  returned: when reached
  type: dict
elapsed_ms:
  description: Milliseconds between sending the request and reading the whole answer.
  returned: when reached
  type: int
reach:
  description:
    - "For the record of a validation - C(via <via>) when the service answered, C(not reachable: <why> (<request> via <via>))
      when it was not reached, C(not sent (check mode)) for a write in check mode."
  returned: always
  type: str
  sample: via service proxy ml-platform/mlflow:80
msg:
  description: "What happened, starting with O(component); C(<component>: not reachable: <why>) when not reached."
  returned: always
  type: str
  sample: "mlflow: GET /health via service proxy ml-platform/mlflow:80 answered HTTP 200"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six.moves.urllib.parse import urlsplit, urlunsplit

from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KubeClient, KubeError, kube_argument_spec
from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import (
    READ_METHODS,
    Unreachable,
    encode_body,
    request_url,
    request_via_proxy,
)


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        component=dict(type="str", default="service"),
        namespace=dict(type="str"),
        service=dict(type="str"),
        port=dict(type="str", default=""),
        scheme=dict(type="str", choices=["http", "https"], default="http"),
        url=dict(type="str", default=""),
        url_validate_certs=dict(type="bool", default=True),
        path=dict(type="str", default="/"),
        method=dict(type="str", choices=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], default="GET"),
        query=dict(type="dict"),
        body=dict(type="raw"),
        body_format=dict(type="str", choices=["json", "raw"], default="json"),
        headers=dict(type="dict"),
        status_code=dict(type="list", elements="int", default=[200]),
        timeout=dict(type="int", default=30),
        fail_unreachable=dict(type="bool", default=True),
    )
    return spec


def url_for_display(url):
    """The URL without user:password@ (never in results or messages)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, parts.fragment))


def validate(params):
    """Bad input, named by option, before anything is sent -> error message or None."""
    if not params["url"]:
        missing = [name for name in ("namespace", "service") if not params.get(name)]
        if missing:
            return "Options %s are required when url is empty (the request goes through the service proxy)" % (
                " and ".join(missing))
        if ":" in params["service"] or "/" in params["service"]:
            return "Option service must be a Service name, got %r (give the port in port, the scheme in scheme)" % (
                params["service"])
        if ":" in params["port"] or "/" in params["port"]:
            return "Option port must be a port number or name, got %r" % params["port"]
    elif not params["url"].startswith(("http://", "https://")):
        return "Option url must start with http:// or https://, got %r" % url_for_display(params["url"])
    if params["timeout"] <= 0:
        return "Option timeout must be 1 or more seconds, got %d" % params["timeout"]
    if not params["status_code"]:
        return "Option status_code must list at least one status"
    return None


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    problem = validate(params)
    if problem:
        module.fail_json(msg=problem)
    component, method, path = params["component"], params["method"], params["path"] or "/"
    if params["url"]:
        via = "url %s" % url_for_display(params["url"])
    else:
        via = "service proxy %s/%s%s" % (params["namespace"], params["service"],
                                         ":" + params["port"] if params["port"] else "")
    asked = "%s %s" % (method, path)
    result = dict(changed=False, reached=False, sent=False, via=via, reach="")

    if module.check_mode and method not in READ_METHODS:
        result.update(changed=True, reach="not sent (check mode)",
                      msg="%s: check mode: %s via %s not sent" % (component, asked, via))
        module.exit_json(**result)

    try:
        body, headers = encode_body(params["body"], params["body_format"], params["headers"])
    except (TypeError, ValueError) as e:
        module.fail_json(msg="%s: option body cannot be sent as %s: %s" % (component, params["body_format"], to_native(e)),
                         **result)
    timeout = params["timeout"]
    try:
        if params["url"]:
            answer = request_url(params["url"], path, method, params["query"], body, headers, timeout,
                                 params["url_validate_certs"])
            answer.via = via
        else:
            client = KubeClient.from_module(module)
            answer = request_via_proxy(client, params["namespace"], params["service"], params["port"], path, method,
                                       params["scheme"] if params["scheme"] == "https" else "", params["query"],
                                       body, headers, timeout=timeout, connect_timeout=min(timeout, 10))
    except Unreachable as e:
        reach = "%s (%s via %s)" % (to_native(e), asked, via)
        result.update(sent=True, reach=reach, msg="%s: %s" % (component, reach))
        if params["fail_unreachable"]:
            module.fail_json(**result)
        module.warn(result["msg"])
        module.exit_json(**result)
    except KubeError as e:  # no usable client (kubeconfig, auth): nothing was sent
        reach = "not reachable: %s (%s via %s)" % (to_native(e), asked, via)
        result.update(sent=False, reach=reach, msg="%s: %s" % (component, reach))
        if params["fail_unreachable"]:
            module.fail_json(**result)
        module.warn(result["msg"])
        module.exit_json(**result)

    result.update(answer.as_dict())
    result.update(reached=True, sent=True, via=via, reach="via %s" % via)
    if answer.status not in params["status_code"]:
        result["msg"] = "%s: %s via %s answered HTTP %d, expected %s: %s" % (
            component, asked, via, answer.status, ", ".join(str(c) for c in params["status_code"]),
            answer.excerpt() or "(empty body)")
        module.fail_json(**result)
    result["changed"] = method not in READ_METHODS
    result["msg"] = "%s: %s via %s answered HTTP %d" % (component, asked, via, answer.status)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
