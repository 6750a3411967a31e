#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: superset_database
short_description: Ensure a database connection in Apache Superset, through the Kubernetes service proxy
version_added: 0.1.0
description:
  - Ensures that Superset has a database connection named O(database_name) pointing at O(sqlalchemy_uri)
    (O(state=present)), or has none (O(state=absent)), with one call to Superset's REST API
    (C(/api/v1/database/)), the way the runbook's C(superset fab create-db) does by hand.
  - Superset is reached through the Kubernetes API server's service proxy (O(namespace), O(service), O(port)),
    or at O(url) when that is set. Credentials come from Kubernetes Secrets by name, never from task
    arguments - Superset's login from O(superset_secret), the database's user and password from
    O(credentials_secret); the passwords are never returned or logged.
  - "How it logs in - through the service proxy the API server consumes the caller's C(Authorization) header,
    so a JWT from C(POST /api/v1/security/login) cannot reach Superset; the module then logs in with Superset's
    login form (C(GET) and C(POST /login/), a session cookie), as Superset's own login page does. With O(url) it
    uses C(POST /api/v1/security/login) with the C(db) provider and sends the access token. Either way it then
    fetches C(/api/v1/security/csrf_token/) and sends the token with every write."
  - The connection is found by its exact name (C(GET /api/v1/database/) with a rison filter). A missing one is
    created (C(POST /api/v1/database/); Superset tests the connection first, so the database must answer). An
    existing one whose URI differs is updated (C(PUT /api/v1/database/<id>)). Superset never shows a stored
    password (it masks it), so a password alone that changed is only sent with O(update_password=always).
  - A connection this module creates carries a marker in its C(extra) JSON (key C(lakehouse_platform)); with
    O(state=absent) and O(only_if_created=true) a connection without it (made by hand or by another tool) is
    left alone.
  - What is hand-written and why - no client library of Superset's REST API exists on PyPI (the
    C(apache-superset) package is the server), so the requests (login, CSRF token, database list, create,
    update, delete) are sent here by the API's documented paths over
    M(lakehouse.platform.k8s_service_request)'s code (C(module_utils/service_proxy.py)).
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  component:
    description:
      - Name used at the start of every message, for example V(doris).
    type: str
    default: superset
  state:
    description:
      - V(present) creates or updates the connection; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  database_name:
    description:
      - Name of the connection in Superset (its C(database_name)), for example V(Doris OLAP).
    type: str
    required: true
  sqlalchemy_uri:
    description:
      - SQLAlchemy URI of the database without a password, for example
        V(mysql://doris-cluster-fe-service.doris-analytics:9030/information_schema). The user and password of
        O(credentials_secret) are put into it. Required with O(state=present).
      - The driver is the URI's scheme; Superset must have it installed (V(mysql://) needs C(mysqlclient),
        V(mysql+pymysql://) needs C(pymysql)).
    type: str
  credentials_secret:
    description:
      - The Kubernetes Secret with the database's user and password (a C(kubernetes.io/basic-auth) Secret, as
        doris-operator's C(authSecret)). Without it O(sqlalchemy_uri) is sent as it is.
    type: dict
    suboptions:
      name:
        description: Name of the Secret.
        type: str
        required: true
      namespace:
        description: Its namespace.
        type: str
        required: true
      username_key:
        description: Key of the user name.
        type: str
        default: username
      password_key:
        description: Key of the password.
        type: str
        default: password
  superset_secret:
    description:
      - The Kubernetes Secret with the Superset account the module logs in as (an admin, or a user allowed to
        read and write databases).
    type: dict
    required: true
    suboptions:
      name:
        description: Name of the Secret.
        type: str
        required: true
      namespace:
        description: Its namespace.
        type: str
        required: true
      username_key:
        description: Key of the user name.
        type: str
        default: username
      password_key:
        description: Key of the password.
        type: str
        default: password
  expose_in_sqllab:
    description:
      - Whether the connection is offered in SQL Lab.
    type: bool
    default: true
  update_password:
    description:
      - V(on_create) sends the password when the connection is created or its URI changes. V(always) also
        updates an unchanged connection with it (reported as a change, since Superset cannot show whether the
        stored password differs).
    type: str
    choices: [on_create, always]
    default: on_create
  only_if_created:
    description:
      - With O(state=absent), delete the connection only when this module created it (the marker in its
        C(extra)); a connection made otherwise is reported and kept.
    type: bool
    default: true
  namespace:
    description:
      - Namespace of Superset's Service. Required unless O(url) is set.
    type: str
  service:
    description:
      - Name of Superset's Service. Required unless O(url) is set.
    type: str
  port:
    description:
      - Port of the Service, by number or name.
    type: str
    default: "8088"
  scheme:
    description:
      - Scheme the API server uses towards Superset.
    type: str
    choices: [http, https]
    default: http
  url:
    description:
      - Base URL of Superset as the controller reaches it (ingress, port-forward). When set (not empty) requests
        go there and O(namespace), O(service), O(port) and O(scheme) are not used.
    type: str
    default: ""
  url_validate_certs:
    description:
      - Verify the TLS certificate of O(url).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each answer (Superset's create connects to the database first).
    type: int
    default: 60
  fail_unreachable:
    description:
      - Fail when Superset is not reached. With V(false) the module returns RV(reached=false), the reason in
        RV(reach) and a warning; a Superset that answers wrongly fails either way.
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
      - Logs in (a session only) and reads; reports what it would create, update or delete, and writes nothing.
  diff_mode:
    support: full
    details:
      - Before and after of C(database_name), C(sqlalchemy_uri) (password masked) and C(expose_in_sqllab).
  idempotent:
    support: full
notes:
  - The API server must allow the caller C(get) and C(create) (plus C(update) and C(delete) for those writes)
    on C(services/proxy) in Superset's namespace, and C(get) on the two Secrets.
  - The Superset account needs the database permissions (C(can_read), C(can_write) on C(Database)); the
    C(Admin) role has them.
seealso:
  - module: lakehouse.platform.k8s_service_request
    description: One HTTP request through the service proxy.
  - name: Superset REST API
    description: The API this module calls.
    link: https://superset.apache.org/docs/api
"""

EXAMPLES = r"""
- name: Connect Superset to Doris (the runbook's "Doris OLAP")
  lakehouse.platform.superset_database:
    component: doris
    database_name: Doris OLAP
    sqlalchemy_uri: mysql://doris-cluster-fe-service.doris-analytics:9030/information_schema
    credentials_secret: {name: doris-auth, namespace: doris-analytics}
    superset_secret: {name: superset-admin, namespace: data-platform}
    namespace: data-platform
    service: superset
    port: "8088"
  register: doris_superset

- name: Remove it again, only if this collection created it
  lakehouse.platform.superset_database:
    component: doris
    state: absent
    database_name: Doris OLAP
    superset_secret: {name: superset-admin, namespace: data-platform}
    url: https://superset.example.com
"""

RETURN = r"""
action:
  description: What was done (or would be, in check mode).
  returned: always
  type: str
  choices: [created, updated, unchanged, deleted, absent, kept, not reached]
  sample: created
database:
  description: The connection after the call (empty when there is none).
  returned: always
  type: dict
  contains:
    id:
      description: Superset's id of the connection (null in check mode before it exists).
      type: int
    database_name:
      description: Its name.
      type: str
    sqlalchemy_uri:
      description: Its URI, the password masked as Superset shows it.
      type: str
    created_here:
      description: Whether this collection created it (the marker in its C(extra)).
      type: bool
  sample: {id: 3, database_name: Doris OLAP, created_here: true,
           sqlalchemy_uri: "mysql://lakehouse_admin:XXXXXXXXXX@doris-cluster-fe-service.doris-analytics:9030/information_schema"}
reached:
  description: Whether Superset answered.
  returned: always
  type: bool
via:
  description: How Superset was reached.
  returned: always
  type: str
  sample: service proxy data-platform/superset:8088
reach:
  description: "C(via <via>) when Superset answered, C(not reachable: <why> (<request> via <via>)) when not."
  returned: always
  type: str
requests:
  description: The requests sent, in order, each with the status of its answer.
  returned: always
  type: list
  elements: str
  sample: ["GET /login/ -> 200", "POST /login/ -> 302", "GET /api/v1/security/csrf_token/ -> 200"]
msg:
  description: What happened, starting with O(component).
  returned: always
  type: str
  sample: "doris: Superset database Doris OLAP id 3 created via service proxy data-platform/superset:8088"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils.kube import KubeClient, KubeError, kube_argument_spec
from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import (
    Unreachable,
    request_url,
    request_via_proxy,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.superset import (
    SupersetError,
    SupersetSession,
    created_here,
    marker_extra,
    masked_uri,
    same_uri,
    uri_with_credentials,
    uri_without_credentials,
)

SECRET_SPEC = dict(
    name=dict(type="str", required=True),
    namespace=dict(type="str", required=True),
    username_key=dict(type="str", default="username", no_log=False),
    password_key=dict(type="str", default="password", no_log=False),
)


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        component=dict(type="str", default="superset"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        database_name=dict(type="str", required=True),
        sqlalchemy_uri=dict(type="str"),
        credentials_secret=dict(type="dict", options=SECRET_SPEC, no_log=False),
        superset_secret=dict(type="dict", options=SECRET_SPEC, required=True, no_log=False),
        expose_in_sqllab=dict(type="bool", default=True),
        update_password=dict(type="str", choices=["on_create", "always"], default="on_create", no_log=False),
        only_if_created=dict(type="bool", default=True),
        namespace=dict(type="str"),
        service=dict(type="str"),
        port=dict(type="str", default="8088"),
        scheme=dict(type="str", choices=["http", "https"], default="http"),
        url=dict(type="str", default=""),
        url_validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=60),
        fail_unreachable=dict(type="bool", default=True),
    )
    return spec


def validate(params):
    """Bad input, named by option, before anything is sent -> error message or None."""
    if not params["database_name"].strip():
        return "Option database_name must not be empty"
    if params["state"] == "present":
        uri = params.get("sqlalchemy_uri") or ""
        if "://" not in uri:
            return "Option sqlalchemy_uri must be a SQLAlchemy URI (<dialect>[+<driver>]://<host>:<port>/<database>), " \
                   "got %r" % uri_without_credentials(uri)
        netloc = uri.split("://", 1)[1].split("/", 1)[0]
        if ":" in netloc.rsplit("@", 1)[0] and "@" in netloc:
            return "Option sqlalchemy_uri must not carry a password: give it in credentials_secret"
    if not params["url"]:
        missing = [name for name in ("namespace", "service") if not params.get(name)]
        if missing:
            return "Options %s are required when url is empty (Superset is reached through the service proxy)" % (
                " and ".join(missing))
        if ":" in params["service"] or "/" in params["service"]:
            return "Option service must be a Service name, got %r (give the port in port)" % params["service"]
    elif not params["url"].startswith(("http://", "https://")):
        return "Option url must start with http:// or https://, got %r" % uri_without_credentials(params["url"])
    if params["timeout"] <= 0:
        return "Option timeout must be 1 or more seconds, got %d" % params["timeout"]
    return None


def read_credentials(client, module, option, component):
    """(username, password) from the Secret option names; fails naming it when absent or incomplete."""
    ref = module.params[option]
    data = client.read_secret(ref["name"], ref["namespace"])
    where = "Secret %s/%s (option %s)" % (ref["namespace"], ref["name"], option)
    if data is None:
        return None, "%s does not exist" % where
    missing = [key for key in (ref["username_key"], ref["password_key"]) if not data.get(key)]
    if missing:
        return None, "%s has no %s" % (where, " or ".join("key %s" % key for key in missing))
    module.no_log_values.add(data[ref["password_key"]])
    return (data[ref["username_key"]], data[ref["password_key"]]), None


def describe(database_id, connection, database_name):
    if connection is None:
        return {}
    return {"id": database_id, "database_name": database_name,
            "sqlalchemy_uri": connection.get("sqlalchemy_uri", ""),
            "expose_in_sqllab": bool(connection.get("expose_in_sqllab")),
            "created_here": created_here(connection)}


def for_diff(database):
    return dict((key, database[key]) for key in ("database_name", "sqlalchemy_uri", "expose_in_sqllab") if key in database)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("state", "present", ("sqlalchemy_uri",))])
    params = module.params
    problem = validate(params)
    if problem:
        module.fail_json(msg=problem)
    component, name, state = params["component"], params["database_name"], params["state"]
    if params["url"]:
        via = "url %s" % uri_without_credentials(params["url"])
    else:
        via = "service proxy %s/%s%s" % (params["namespace"], params["service"],
                                         ":" + params["port"] if params["port"] else "")
    result = dict(changed=False, action="", database={}, reached=False, via=via, reach="", requests=[])

    def fail(msg, **extra):
        result.update(extra)
        module.fail_json(msg="%s: %s" % (component, msg), **result)

    try:
        client = KubeClient.from_module(module)
        superset_login, problem = read_credentials(client, module, "superset_secret", component)
        if problem:
            fail("Superset login: %s" % problem)
        db_login = None
        if state == "present" and params["credentials_secret"]:
            db_login, problem = read_credentials(client, module, "credentials_secret", component)
            if problem and not module.check_mode:
                fail("database %s credentials: %s" % (name, problem))
    except KubeError as e:
        fail("Superset database %s: %s" % (name, to_native(e)))

    timeout = params["timeout"]
    if params["url"]:
        def send(method, path, query, body, headers):
            answer = request_url(params["url"], path, method, query, body, headers, timeout,
                                 params["url_validate_certs"])
            answer.via = via
            return answer
    else:
        def send(method, path, query, body, headers):
            return request_via_proxy(client, params["namespace"], params["service"], params["port"], path, method,
                                     params["scheme"] if params["scheme"] == "https" else "", query, body, headers,
                                     timeout=timeout, connect_timeout=min(timeout, 10))

    session = SupersetSession(send, via, base_url=params["url"])
    wanted_uri = params["sqlalchemy_uri"] or ""
    if db_login:
        wanted_uri = uri_with_credentials(wanted_uri, db_login[0], db_login[1])
    elif state == "present" and params["credentials_secret"]:  # check mode, Secret not there yet
        wanted_uri = uri_with_credentials(wanted_uri, "(from %s)" % params["credentials_secret"]["name"], "unknown")
    asked = "database %s" % name
    try:
        session.login(superset_login[0], superset_login[1], "api" if params["url"] else "form")
        database_id, connection = session.find_database(name)
        before = describe(database_id, connection, name)
        after = dict(before)
        if state == "absent":
            if not before:
                action = "absent"
            elif params["only_if_created"] and not before["created_here"]:
                action = "kept"
            else:
                action = "deleted"
                if not module.check_mode:
                    session.delete_database(database_id, name)
                after = {}
        else:
            payload = {"database_name": name, "sqlalchemy_uri": wanted_uri,
                       "expose_in_sqllab": params["expose_in_sqllab"]}
            after = {"id": database_id, "database_name": name, "sqlalchemy_uri": masked_uri(wanted_uri),
                     "expose_in_sqllab": params["expose_in_sqllab"],
                     "created_here": before.get("created_here", True)}
            if not before:
                action = "created"
                if not module.check_mode:
                    payload["extra"] = marker_extra(component)
                    after["id"] = session.create_database(payload)
            elif (same_uri(before["sqlalchemy_uri"], wanted_uri)
                  and before["expose_in_sqllab"] == params["expose_in_sqllab"]
                  and params["update_password"] == "on_create"):
                action = "unchanged"
                after = before
            else:
                action = "updated"
                if not module.check_mode:
                    session.update_database(database_id, payload)
    except Unreachable as e:
        reach = "%s (%s via %s)" % (to_native(e), session.pending, via)
        result.update(reach=reach, requests=session.requests, action="not reached")
        msg = "%s: Superset %s" % (component, reach)
        if params["fail_unreachable"]:
            module.fail_json(msg=msg, **result)
        module.warn(msg)
        result["msg"] = msg
        module.exit_json(**result)
    except SupersetError as e:
        fail("%s: %s" % (asked, to_native(e)), reached=True, reach="via %s" % via, requests=session.requests)

    changed = action in ("created", "updated", "deleted")
    result.update(changed=changed, action=action, database=after, reached=True, reach="via %s" % via,
                  requests=session.requests)
    if module._diff:
        result["diff"] = {"before": for_diff(before), "after": for_diff(after),
                          "before_header": "superset database %s" % name, "after_header": "superset database %s" % name}
    would = "check mode: would be " if module.check_mode and changed else ""
    ident = " id %s" % after.get("id", before.get("id")) if (after or before).get("id") is not None else ""
    result["msg"] = "%s: Superset database %s%s %s%s via %s" % (component, name, ident, would, action, via)
    if problem and module.check_mode and state == "present":
        result["msg"] += " (the credentials: %s)" % problem
    module.exit_json(**result)


if __name__ == "__main__":
    main()
