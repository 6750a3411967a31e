#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: doris_cluster
short_description: Ensure an Apache Doris cluster (doris-operator DorisCluster) and wait until it serves
version_added: 0.1.0
description:
  - Creates, updates or deletes a C(doris.selectdb.com/v1) C(DorisCluster) handled by the Apache
    doris-operator, built from FE, BE and optional CN and broker options.
  - Inputs are checked before any request reaches the cluster, resource quantities with the exact
    Kubernetes grammar (an error names the option, for example C(fe.requests.memory)), requests against
    limits, and the FE meta volume against its 5Gi minimum.
  - With O(wait), waits (watching the object) until every component present in the spec reports
    C(componentCondition.phase=available) with as many C(runningInstances) as replicas. A component in
    C(haveMemberFailed) for longer than O(failure_grace) seconds fails the task with the operator's reason
    and message; the timeout message names the object and each component's last phase and counts.
  - With O(fe_check), also asks the FE itself, then (O(fe_check.round_trip)) runs a SQL round trip, the
    runbook's "create table and run simple query" - see O(fe_check) for the three ways in.
  - O(state=absent) deletes the DorisCluster and, with O(wait), waits until it is gone.
  - With O(apply=false) the module never writes the DorisCluster (something else applies it, for example the
    doris role's manifests step); it only waits for it and runs the FE check.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  name:
    description:
      - Name of the DorisCluster. The operator derives the StatefulSets (C(<name>-fe), C(<name>-be)) and the
        FE Service (C(<name>-fe-service)) from it.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the DorisCluster.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the DorisCluster, V(absent) deletes it.
    type: str
    choices: [ present, absent ]
    default: present
  apply:
    description:
      - V(true) creates or updates the DorisCluster from the options, then waits.
      - V(false) - the DorisCluster is applied by something else (the doris role's manifests step) and the module
        never writes it, not even as a server-side dry run in check mode; it waits for it (it must exist, or
        appear within O(wait_timeout)) and runs the FE check, with the same readiness and failure rules, and
        returns the same values. The replica counts the wait and O(fe_check) expect are read from the live object.
      - With V(false), O(fe), O(be), O(cn), O(broker) and O(spec) are not needed; when given they are only
        validated, and a warning says they are not used.
      - V(false) needs O(state=present).
    type: bool
    default: true
  fe:
    description:
      - The frontends (C(spec.feSpec)). Required when O(state=present) and O(apply=true).
    type: dict
    suboptions:
      image:
        description:
          - FE image, for example V(apache/doris:fe-3.0.8).
        type: str
        required: true
      replicas:
        description:
          - Number of FE pods, at least 1.
        type: int
        default: 1
      election_number:
        description:
          - Number of FEs taking part in the election (followers); the others become observers. At most
            O(fe.replicas). When not set the operator's default applies.
        type: int
      requests:
        description:
          - "Resource requests, resource name to quantity, for example C({cpu: 1, memory: 2Gi})."
        type: dict
      limits:
        description:
          - Resource limits, resource name to quantity. Each request must not exceed its limit.
        type: dict
      storage_size:
        description:
          - Size of the persistent FE meta volume (mounted at C(/opt/apache-doris/fe/doris-meta)).
          - Must be at least V(5Gi); the FE does not start on a smaller meta volume, and the module refuses it
            rather than warn, because a persistent volume claim cannot shrink or be fixed later in place.
          - When not set the FE keeps its metadata on the pod's own disk, lost on restart.
        type: str
      storage_class:
        description:
          - Storage class of the volume; the cluster default when not set. Needs O(fe.storage_size).
        type: str
  be:
    description:
      - The backends (C(spec.beSpec)). Same options as O(fe) except O(fe.election_number); the volume is
        mounted at C(/opt/apache-doris/be/storage) and has no minimum size.
    type: dict
    suboptions:
      image:
        description: BE image, for example V(apache/doris:be-3.0.8).
        type: str
        required: true
      replicas:
        description: Number of BE pods.
        type: int
        default: 1
      requests:
        description: Resource requests, resource name to quantity.
        type: dict
      limits:
        description: Resource limits, resource name to quantity.
        type: dict
      storage_size:
        description: Size of the persistent BE storage volume; pod-local disk when not set.
        type: str
      storage_class:
        description: Storage class of the volume. Needs O(be.storage_size).
        type: str
  cn:
    description:
      - Optional compute nodes (C(spec.cnSpec)), stateless BEs for queries on external data. Same options as O(be).
    type: dict
    suboptions:
      image:
        description: CN image (a BE image).
        type: str
        required: true
      replicas:
        description: Number of CN pods.
        type: int
        default: 1
      requests:
        description: Resource requests, resource name to quantity.
        type: dict
      limits:
        description: Resource limits, resource name to quantity.
        type: dict
      storage_size:
        description: Size of a persistent cache volume; pod-local disk when not set.
        type: str
      storage_class:
        description: Storage class of the volume. Needs O(cn.storage_size).
        type: str
  broker:
    description:
      - Optional brokers (C(spec.brokerSpec)), which keep no data and so take no volume.
    type: dict
    suboptions:
      image:
        description: Broker image.
        type: str
        required: true
      replicas:
        description: Number of broker pods.
        type: int
        default: 1
      requests:
        description: Resource requests, resource name to quantity.
        type: dict
      limits:
        description: Resource limits, resource name to quantity.
        type: dict
  auth_secret:
    description:
      - Name of a C(kubernetes.io/basic-auth) Secret in O(namespace) with keys C(username) (default V(root))
        and C(password), used by the operator to manage the nodes (C(spec.authSecret)) and by O(fe_check).
      - Passwords are never module options; create the Secret beforehand (for example with a generated password).
      - The Secret must exist, except in check mode where a missing Secret is only a warning. It is checked with
        O(apply=false) too.
    type: str
  spec:
    description:
      - Further C(DorisCluster) spec fields passed through as they are (for example C(configMapInfo),
        C(feSpec.service), C(enableRestartWhenConfigChange)). The options above win where both set a field.
    type: dict
  wait:
    description:
      - Wait until every component is available (and, with O(fe_check), until the FE reports all nodes
        alive), or with O(state=absent) until the DorisCluster is gone.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait in total (component readiness and FE check share it).
    type: int
    default: 900
  failure_grace:
    description:
      - Seconds a component may stay in C(haveMemberFailed) before the task fails. The operator also reports a
        pod that is merely restarting this way, so short episodes are tolerated; any observation without the
        failure starts the count again.
    type: int
    default: 60
  fe_check:
    description:
      - Check the cluster from inside Doris after it is available. Three ways in, in this order.
      - O(fe_check.host) set - over the FE's MySQL protocol port (pymysql) - C(SHOW FRONTENDS) and C(SHOW BACKENDS)
        until the alive FE, BE and CN counts equal their replicas, then the round trip.
      - "O(fe_check.url) set - the same statements through Doris' SQL HTTP API at that URL
        (C(POST /api/query/default_cluster/information_schema) with a JSON body C({\"stmt\": ...}) and HTTP basic auth)."
      - Neither, with O(fe_check.way=exec) (the default) - the runbook's own way, the FE container's C(mysql) client
        through the Kubernetes API server's pod exec (C(mysql -h 127.0.0.1 -P <port> -u <user> --batch -e <statement>)
        in a Running pod labelled C(app.doris.ownerreference/name=<name>-fe), container O(fe_check.container)), one
        exec per statement. The password goes in on the command's stdin (into C(MYSQL_PWD)), never in the command,
        which the API server logs. Needs C(get) and C(create) on C(pods/exec) in O(namespace).
      - Neither, with O(fe_check.way=proxy) - through the API server's service proxy to the FE Service's HTTP port
        (O(fe_check.http_port)), C(GET /api/health), until the FE reports as many online backends as the BE and
        CN replicas. The SQL round trip cannot go this way - kube-apiserver removes the C(Authorization) header of
        every request it proxies (kubernetes/kubernetes#38775), so the FE never sees the Doris credentials - and
        RV(round_trip) says so (C(ran=false)) instead of being skipped silently.
      - What is hand-written here and why - the SQL HTTP API has no Python client; the request and answer follow
        fe-core's C(StmtExecutionAction) and C(StatementSubmitter) (every answer is HTTP 200, the outcome is in
        C(code), C(msg) and C(data)). The MySQL way uses pymysql, the client of Doris' MySQL protocol. The exec way
        uses the kubernetes client's C(kubernetes.stream) as M(kubernetes.core.k8s_exec) does (that is a module,
        not a library, and this probe runs several statements in one task).
      - Not done in check mode, nor when O(wait=false).
    type: dict
    suboptions:
      host:
        description:
          - FE address for the MySQL protocol way (an override of the default way). The in-cluster FE Service
            C(<name>-fe-service.<namespace>.svc) resolves only where the controller runs inside the cluster.
        type: str
      port:
        description: FE query (MySQL protocol) port, with O(fe_check.host) and O(fe_check.way=exec).
        type: int
        default: 9030
      url:
        description:
          - Base URL of the FE's HTTP port as the controller reaches it (port-forward, ingress, in-cluster DNS), for the
            SQL HTTP API way, for example V(http://doris-cluster-fe-service.doris-analytics.svc:8030). Not used with
            O(fe_check.host).
        type: str
      url_validate_certs:
        description: Verify the TLS certificate of an V(https) O(fe_check.url).
        type: bool
        default: true
      way:
        description: The way in when neither O(fe_check.host) nor O(fe_check.url) is set (see above).
        type: str
        choices: [exec, proxy]
        default: exec
      container:
        description: The FE pod's container for O(fe_check.way=exec) (doris-operator names it V(fe)).
        type: str
        default: fe
      exec_timeout:
        description: Seconds one statement may take over pod exec.
        type: int
        default: 60
      http_port:
        description: FE Service port of the FE's HTTP server for O(fe_check.way=proxy) (the operator names it C(http-port)).
        type: int
        default: 8030
      service:
        description:
          - FE Service for the default way; default C(status.feStatus.accessService), else C(<name>-fe-service).
        type: str
      user:
        description:
          - Doris user; default the C(username) of the password Secret, else V(root).
        type: str
      password_secret:
        description:
          - Name of the Secret in O(namespace) holding the password under O(fe_check.password_key); default
            O(auth_secret). Without either, connects without a password (Doris' initial root account).
        type: str
      password_key:
        description: Key of the password in O(fe_check.password_secret).
        type: str
        default: password
      connect_timeout:
        description: Seconds to wait for a connection to the FE (and for each HTTP answer).
        type: int
        default: 10
      round_trip:
        description:
          - After the node check, create a database (O(fe_check.database_prefix) and a short random suffix) and a
            table (C(DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1), C(replication_num) = min(alive backends, 3)),
            insert 3 rows, read them back, then C(DROP DATABASE ... FORCE), also when a step failed. A probe - it
            leaves nothing behind and does not count as a change.
          - Runs with O(fe_check.host), O(fe_check.url) and O(fe_check.way=exec); O(fe_check.way=proxy) reports why
            it cannot (see above).
        type: bool
        default: true
      database_prefix:
        description: Start of the round trip's database name (letters, digits, C(_)).
        type: str
        default: lakehouse_check
      fail_unreachable:
        description:
          - "V(false) - when the FE is not reached (no endpoint, connection refused, no answer), return with
            RV(fe_check.reach) C(not reachable: <why>) and a warning instead of failing. A FE that answers wrongly
            (refused password, a statement failing, rows not read back, nodes not alive) always fails."
        type: bool
        default: true
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.CHECK_MODE_FULL
  - lakehouse.platform.attributes.DIFF_FULL
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
notes:
  - In check mode the DorisCluster is sent as a server-side dry run (with O(apply=false) it is only read) and
    nothing is waited for or queried; RV(components) describes the object as it is now.
  - A DorisCluster has no C(observedGeneration). Right after a change that keeps the replica counts (a new
    image, new resources) the operator may still show the previous C(available) phase for a few seconds,
    so such a change can pass the wait before the rollout begins; O(fe_check) and later checks still see
    the real cluster.
  - Fields removed from the options are not removed from the live object (updates are merge patches);
    set them to V(null) in O(spec) to remove them.
requirements:
  - pymysql (Python library), for O(fe_check.host) only
seealso:
  - name: doris-operator DorisCluster reference
    description: All fields of the custom resource.
    link: https://github.com/apache/doris-operator/blob/master/doc/examples/doriscluster-all-fields-reference.yaml
  - module: lakehouse.platform.k8s_status_wait
"""

EXAMPLES = r"""
- name: Doris with the seed's figures (1 FE, 2 BE), waiting until it serves
  lakehouse.platform.doris_cluster:
    name: doris-cluster
    namespace: doris-analytics
    auth_secret: doris-admin
    fe:
      image: apache/doris:fe-3.0.8
      replicas: 1
      requests: {cpu: 1, memory: 2Gi}
      limits: {cpu: 2, memory: 4Gi}
      storage_size: 30Gi
      storage_class: local-storage-standard
    be:
      image: apache/doris:be-3.0.8
      replicas: 2
      requests: {cpu: 2, memory: 4Gi}
      limits: {cpu: 4, memory: 8Gi}
      storage_size: 100Gi
      storage_class: local-storage-standard
    failure_grace: 120
    fe_check: {}
  register: doris

- name: Pass further spec fields through (FE Service as NodePort)
  lakehouse.platform.doris_cluster:
    name: doris-cluster
    namespace: doris-analytics
    fe:
      image: apache/doris:fe-3.0.8
    be:
      image: apache/doris:be-3.0.8
    spec:
      feSpec:
        service:
          type: NodePort

- name: Wait for a DorisCluster applied by an earlier step, then count the alive nodes from the FE
  lakehouse.platform.doris_cluster:
    name: doris-cluster
    namespace: doris-analytics
    apply: false
    auth_secret: doris-admin
    wait_timeout: 900
    fe_check: {}
  register: doris

- name: Remove the cluster (its PVCs stay; delete them apart if the data is not kept)
  lakehouse.platform.doris_cluster:
    name: doris-cluster
    namespace: doris-analytics
    state: absent
"""

RETURN = r"""
cluster:
  description: Identity of the DorisCluster.
  returned: when the DorisCluster exists or would be created
  type: dict
  contains:
    name:
      description: Name.
      type: str
    namespace:
      description: Namespace.
      type: str
    uid:
      description: UID (absent for a would-be object in check mode).
      type: str
    generation:
      description: C(metadata.generation).
      type: int
    components:
      description: Components present in the spec, among V(fe), V(be), V(cn), V(broker).
      type: list
      elements: str
    fe_service:
      description: In-cluster DNS name of the FE access Service.
      type: str
  sample: {"name": "doris-cluster", "namespace": "doris-analytics", "components": ["fe", "be"],
           "fe_service": "doris-cluster-fe-service.doris-analytics.svc"}
components:
  description: Per component present in the spec, its last status.
  returned: when the DorisCluster exists or would be created
  type: dict
  sample: {"fe": {"phase": "available", "replicas": 1, "running": 1, "creating": 0, "failed": 0,
                  "failed_instances": [], "reason": "", "message": "", "access_service": "doris-cluster-fe-service"}}
ready:
  description: Whether every component was available with all replicas running when last seen.
  returned: always
  type: bool
  sample: true
fe_check:
  description:
    - What the FE reported and how it was reached. Over SQL (O(fe_check.host), O(fe_check.url)) the node counts of
      C(SHOW FRONTENDS) / C(SHOW BACKENDS); the default way (service proxy, C(GET /api/health)) has only RV(fe_check.reach),
      RV(fe_check.be_online) and RV(fe_check.be_total).
  returned: when O(fe_check) ran
  type: dict
  contains:
    reach:
      description: "C(via service proxy <namespace>/<service>:<port>), C(via url <url>), C(via mysql <host>:<port>), or
        C(not reachable: <why>) with O(fe_check.fail_unreachable=false)."
      type: str
    be_online:
      description: Backends (BE and CN) the FE reports online (C(/api/health)), default way only; C(be_total) is then
        the backends the FE knows.
      type: int
    fe_alive:
      description: FEs with C(Alive=true).
      type: int
    fe_total:
      description: FEs listed.
      type: int
    be_alive:
      description: BEs (C(NodeRole) other than V(computation)) with C(Alive=true).
      type: int
    be_total:
      description: BEs listed (over SQL); with the default way the backends the FE knows (C(/api/health)).
      type: int
    cn_alive:
      description: CNs (C(NodeRole=computation)) with C(Alive=true).
      type: int
    cn_total:
      description: CNs listed.
      type: int
    fe_master:
      description: Host of the FE that is master.
      type: str
    not_alive:
      description: Nodes that are not alive, with their heartbeat error.
      type: list
      elements: dict
  sample: {"fe_alive": 1, "fe_total": 1, "be_alive": 2, "be_total": 2, "cn_alive": 0, "cn_total": 0,
           "fe_master": "doris-cluster-fe-0.doris-cluster-fe-internal.doris-analytics.svc.cluster.local",
           "not_alive": []}
round_trip:
  description: The SQL round trip of O(fe_check.round_trip).
  returned: when O(fe_check) ran
  type: dict
  contains:
    ran:
      description: Whether the statements were sent.
      type: bool
    why:
      description: Why it did not run (the default way, O(fe_check.round_trip=false), FE not reached).
      type: str
    database:
      description: The run's database (dropped again).
      type: str
    table:
      description: The table.
      type: str
    written:
      description: Rows inserted.
      type: int
    read_back:
      description: Rows the C(SELECT) returned.
      type: int
    dropped:
      description: C(SHOW DATABASES LIKE) no longer lists the database after C(DROP DATABASE ... FORCE).
      type: bool
    replication_num:
      description: Replicas of the test table.
      type: int
    reach:
      description: How the FE was reached, as in RV(fe_check.reach).
      type: str
  sample: {"ran": true, "database": "lakehouse_check_1a2b3c4d", "table": "lakehouse_check", "written": 3,
           "read_back": 3, "dropped": true, "replication_num": 2, "reach": "via url http://127.0.0.1:8030"}
fe_alive:
  description: Same as RV(fe_check.fe_alive).
  returned: when O(fe_check) ran over SQL
  type: int
  sample: 1
be_alive:
  description: Same as RV(fe_check.be_alive).
  returned: when O(fe_check) ran over SQL
  type: int
  sample: 2
elapsed:
  description: Seconds spent waiting (readiness, FE check or deletion).
  returned: always
  type: float
  sample: 187.2
resource:
  description: The DorisCluster as last seen (the would-be object in check mode).
  returned: when O(state=present); null when O(apply=false) and the DorisCluster does not exist (check mode)
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils import doris, pod_exec
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    KindNotFound,
    KubeClient,
    KubeError,
    decode_secret_data,
    delete,
    ensure,
    kube_argument_spec,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import (
    Unreachable,
    request_url,
    request_via_proxy,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import WaitError, wait_for

BASIC_AUTH_TYPE = "kubernetes.io/basic-auth"


def component_suboptions(component):
    options = dict(
        image=dict(type="str", required=True),
        replicas=dict(type="int", default=1),
        requests=dict(type="dict"),
        limits=dict(type="dict"),
    )
    if component in doris.DATA_MOUNT_PATHS:
        options.update(storage_size=dict(type="str"), storage_class=dict(type="str"))
    if component == "fe":
        options["election_number"] = dict(type="int")
    return options


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        apply=dict(type="bool", default=True),
        auth_secret=dict(type="str", no_log=False),
        spec=dict(type="dict"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
        failure_grace=dict(type="int", default=60),
        fe_check=dict(
            type="dict",
            options=dict(
                host=dict(type="str"),
                port=dict(type="int", default=doris.FE_QUERY_PORT),
                user=dict(type="str"),
                password_secret=dict(type="str", no_log=False),
                password_key=dict(type="str", default="password", no_log=False),
                connect_timeout=dict(type="int", default=10),
                url=dict(type="str"),
                url_validate_certs=dict(type="bool", default=True),
                way=dict(type="str", choices=["exec", "proxy"], default="exec"),
                container=dict(type="str", default="fe"),
                exec_timeout=dict(type="int", default=60),
                http_port=dict(type="int", default=doris.FE_HTTP_PORT),
                service=dict(type="str"),
                round_trip=dict(type="bool", default=True),
                database_prefix=dict(type="str", default="lakehouse_check"),
                fail_unreachable=dict(type="bool", default=True),
            ),
        ),
    )
    for component in doris.COMPONENTS:
        spec[component] = dict(type="dict", options=component_suboptions(component))
    return spec


# Options that describe the DorisCluster to write; with apply=false they are validated only.
SPEC_OPTIONS = tuple(doris.COMPONENTS) + ("spec",)


def check_timing(params):
    for option in ("wait_timeout", "failure_grace"):
        if params[option] < 0:
            raise doris.DorisSpecError("%s must be 0 or more seconds, got %d" % (option, params[option]))


def check_params(params):
    """Option combinations and values the argument spec cannot express; raises DorisSpecError. No cluster access."""
    check_timing(params)
    if not params["apply"] and params["state"] != "present":
        raise doris.DorisSpecError("apply=false only waits for a DorisCluster that something else applies; "
                                   "it cannot be combined with state=%s" % params["state"])
    if params["state"] == "present" and params["apply"] and not params["fe"]:
        raise doris.DorisSpecError("state is present but all of the following are missing: fe "
                                   "(needed unless apply=false)")
    check = params.get("fe_check")
    if check:
        if check["url"] and not check["url"].startswith(("http://", "https://")):
            raise doris.DorisSpecError("fe_check.url must start with http:// or https://, got %r" % check["url"])
        if check["connect_timeout"] <= 0:
            raise doris.DorisSpecError("fe_check.connect_timeout must be 1 or more seconds, got %d"
                                       % check["connect_timeout"])
        if check["exec_timeout"] <= 0:
            raise doris.DorisSpecError("fe_check.exec_timeout must be 1 or more seconds, got %d" % check["exec_timeout"])
        doris.round_trip_database(check["database_prefix"])  # raises naming fe_check.database_prefix


def desired_definition(params):
    """The DorisCluster to ensure; raises DorisSpecError naming the bad option. No cluster access."""
    check_timing(params)
    components = dict((c, params[c]) for c in doris.COMPONENTS if params.get(c))
    return doris.build_cluster(
        params["name"], params["namespace"], components, auth_secret=params["auth_secret"], extra_spec=params["spec"]
    )


def check_auth_secret(module, client, name, namespace):
    """The operator needs a basic-auth Secret; refuse a missing or mistyped one before writing the CR."""
    secret = client.get("v1", "Secret", name, namespace)
    if secret is None:
        message = "auth_secret %r not found in namespace %r" % (name, namespace)
        if module.check_mode:
            module.warn(message + " (check mode: an earlier task may create it)")
            return
        module.fail_json(msg=message + ": create the kubernetes.io/basic-auth Secret first")
    if secret.get("type") != BASIC_AUTH_TYPE:
        module.fail_json(
            msg="auth_secret %r in namespace %r has type %r; doris-operator needs type %s"
            % (name, namespace, secret.get("type"), BASIC_AUTH_TYPE)
        )


def fe_connection(module, client, obj):
    """pymysql connect() arguments for fe_check; the password comes from a Secret, never from options."""
    params = module.params
    check = params["fe_check"]
    password, secret_user = None, None
    secret_name = check["password_secret"] or params["auth_secret"]
    if secret_name:
        secret = client.get("v1", "Secret", secret_name, params["namespace"])
        if secret is None:
            module.fail_json(msg="fe_check: Secret %r not found in namespace %r" % (secret_name, params["namespace"]))
        values = decode_secret_data(secret, secret_name)
        if check["password_key"] not in values:
            module.fail_json(
                msg="fe_check: Secret %r has no key %r (keys: %s)"
                % (secret_name, check["password_key"], ", ".join(sorted(values)) or "none")
            )
        password = values[check["password_key"]]
        if password:
            module.no_log_values.add(password)
        secret_user = values.get("username")
    return dict(
        host=check["host"] or doris.fe_service_host(obj),
        port=check["port"],
        user=check["user"] or secret_user or "root",
        password=password,
        connect_timeout=check["connect_timeout"],
    )


def expected_node_counts(obj):
    """Replicas per component that shows up in SHOW FRONTENDS / SHOW BACKENDS (brokers do not)."""
    spec = obj.get("spec") or {}
    expected = {}
    for component in ("fe", "be", "cn"):
        component_spec = spec.get(doris.SPEC_KEYS[component])
        if component_spec is not None and component_spec.get("replicas") is not None:
            expected[component] = component_spec["replicas"]
    return expected


def fe_service(module, obj):
    service = module.params["fe_check"]["service"]
    if service:
        return service
    return ((obj.get("status") or {}).get("feStatus") or {}).get("accessService") or "%s-fe-service" % obj["metadata"]["name"]


def not_alive_text(counts):
    return "; ".join("%s (%s): %s" % (n["name"], n["host"], n["error"] or "no error message")
                     for n in counts["not_alive"])


def check_membership_sql(module, obj, timeout, connect_kwargs, runner_factory, where,
                         unreachable_grace=doris.UNREACHABLE_GRACE):
    """SHOW FRONTENDS / SHOW BACKENDS until the alive counts equal the replicas (MySQL: doris.check_fe)."""
    expected = expected_node_counts(obj)
    if connect_kwargs is not None:
        counts, mismatches = doris.check_fe(connect_kwargs, expected, timeout=timeout)
    else:
        def attempt():
            runner = runner_factory()
            try:
                found = doris.read_membership_via(runner)
            finally:
                runner.close()
            return (found, doris.expected_mismatches(found, expected)), not doris.expected_mismatches(found, expected)

        (counts, mismatches), _done = doris.poll(attempt, timeout, unreachable_grace=unreachable_grace)
    if mismatches:
        dead = not_alive_text(counts)
        module.fail_json(msg="Doris FE at %s reports %s%s" % (where, ", ".join(mismatches),
                                                              "; not alive: " + dead if dead else ""), fe_check=counts)
    return counts


def fe_pod(module, client, obj):
    """The first Running FE pod (by name) of the cluster, for pod exec; raises DorisUnreachable without one."""
    namespace = module.params["namespace"]
    selector = "app.doris.ownerreference/name=%s-fe" % obj["metadata"]["name"]
    pods = sorted((p for p in client.list("v1", "Pod", namespace, label_selector=selector)
                   if (p.get("status") or {}).get("phase") == "Running"), key=lambda p: p["metadata"]["name"])
    if not pods:
        raise doris.DorisUnreachable("not reachable: no Running pod labelled %s in namespace %s (pod exec)"
                                     % (selector, namespace))
    return pods[0]["metadata"]["name"]


def check_health_via_proxy(module, client, obj, timeout):
    """Default way: GET /api/health through the service proxy until every backend is online."""
    check, namespace = module.params["fe_check"], module.params["namespace"]
    service, port = fe_service(module, obj), str(check["http_port"])
    via = "service proxy %s/%s:%s" % (namespace, service, port)
    expected = expected_node_counts(obj)
    backends = expected.get("be", 0) + expected.get("cn", 0)

    def attempt():
        try:
            answer = request_via_proxy(client, namespace, service, port, doris.HEALTH_PATH, "GET",
                                       timeout=check["connect_timeout"], connect_timeout=check["connect_timeout"])
        except Unreachable as exc:
            raise doris.DorisUnreachable("%s (GET %s via %s)" % (exc, doris.HEALTH_PATH, via))
        counts = doris.health_counts(answer, via)
        return counts, counts["be_online"] == backends

    counts, done = doris.poll(attempt, timeout)
    if not done:
        module.fail_json(msg="Doris FE: GET %s via %s reports %d of %d backends online, expected %d"
                         % (doris.HEALTH_PATH, via, counts["be_online"], counts["be_total"], backends),
                         fe_check=dict(counts, reach="via " + via))
    return dict(counts, reach="via " + via)


def run_fe_check(module, client, obj, timeout):
    """The FE check and the round trip; returns the result keys fe_check, round_trip (and fe_alive, be_alive)."""
    check = module.params["fe_check"]
    connection = fe_connection(module, client, obj)  # user and password from the Secret
    runner_factory, connect_kwargs, where = None, None, None
    if check["host"]:
        if not doris.HAS_PYMYSQL:
            module.fail_json(msg=missing_required_lib("pymysql"), exception=to_native(doris.PYMYSQL_IMPORT_ERROR))
        connect_kwargs = connection
        where = "%s:%s" % (connection["host"], connection["port"])
        reach = "via mysql " + where

        def runner_factory():
            return doris.MySQLRunner(connect_kwargs)
    elif check["url"]:
        url = check["url"].rstrip("/")
        where, reach = url, "via url " + url

        def send(path, body, headers):
            return request_url(url, path, "POST", body=body, headers=headers, timeout=check["connect_timeout"],
                               validate_certs=check["url_validate_certs"])

        def runner_factory():
            runner = doris.HttpSqlRunner(send, connection["user"], connection["password"], "url " + url, (Unreachable,))
            module.no_log_values.add(runner.token)
            return runner
    elif check["way"] == "exec":
        where = None

        def runner_factory():
            pod = fe_pod(module, client, obj)  # raises DorisUnreachable: no Running FE pod
            via = pod_exec.describe(module.params["namespace"], pod, check["container"])

            def run(command, stdin):
                return pod_exec.run(client, module.params["namespace"], pod, check["container"], command, stdin,
                                    timeout=check["exec_timeout"])
            return doris.ExecSqlRunner(run, connection["user"], connection["password"], check["port"], via,
                                       (Unreachable,))
    else:
        reach = None
    try:
        if check["way"] == "exec" and runner_factory is not None and where is None:
            probe = runner_factory()
            where = probe.via
            reach = "via " + probe.via
        if runner_factory is None:
            fe_result = check_health_via_proxy(module, client, obj, timeout)
            why = ("Doris' SQL HTTP API needs the Doris password in the Authorization header, which the Kubernetes API "
                   "server removes from every request it proxies (kubernetes/kubernetes#38775); the default "
                   "fe_check.way=exec, fe_check.url or fe_check.host run the round trip")
            return {"fe_check": fe_result, "round_trip": {"ran": False, "why": "not run: " + why,
                                                          "reach": fe_result["reach"]}}
        counts = check_membership_sql(module, obj, timeout, connect_kwargs, runner_factory, where,
                                      0 if reach.startswith("via pod exec") else doris.UNREACHABLE_GRACE)
        counts["reach"] = reach
        result = {"fe_check": counts, "fe_alive": counts["fe_alive"], "be_alive": counts["be_alive"]}
        if not check["round_trip"]:
            result["round_trip"] = {"ran": False, "why": "not run: fe_check.round_trip is false", "reach": reach}
            return result
        runner = runner_factory()
        try:
            trip = doris.round_trip(runner, doris.round_trip_database(check["database_prefix"]),
                                    replicas=doris.replication_num(counts["be_alive"]))
        except doris.DorisQueryError as exc:
            module.fail_json(msg="doris: %s" % to_native(exc), fe_check=counts,
                             round_trip=dict(getattr(exc, "report", {}), ran=True, reach=reach))
        finally:
            runner.close()
        result["round_trip"] = dict(trip, ran=True, reach=reach)
        return result
    except doris.DorisUnreachable as exc:
        message = "doris: %s" % to_native(exc)
        if check["fail_unreachable"]:
            module.fail_json(msg=message)
        module.warn(message)
        return {"fe_check": {"reach": to_native(exc)},
                "round_trip": {"ran": False, "why": to_native(exc), "reach": to_native(exc)}}
    except doris.DorisQueryError as exc:
        module.fail_json(msg="doris: %s" % to_native(exc))


def read_applied(module, client):
    """apply=false: the DorisCluster as it is now (a read, never a write), or None when it is not there yet.

    Outside check mode an absent object (or CRD) is not an error here: the wait below waits for it to appear.
    """
    params = module.params
    what = "DorisCluster %s/%s" % (params["namespace"], params["name"])
    try:
        obj = client.get(doris.DORIS_API_VERSION, doris.DORIS_KIND, params["name"], params["namespace"])
    except KindNotFound:
        if not module.check_mode:
            raise
        module.warn("%s: kind not found (check mode: the step that applies it would install the CRD); apply=false, "
                    "nothing is written" % what)
        return None
    if obj is None and module.check_mode:
        module.warn("%s not found (check mode: the step that applies it would create it); apply=false, nothing is "
                    "written" % what)
    elif obj is None and not params["wait"]:
        module.fail_json(msg="%s not found; with apply=false the module does not create it (apply it first, or "
                             "set wait=true to wait for it)" % what, changed=False, ready=False, elapsed=0.0)
    return obj


def reports(obj):
    """cluster, components and resource of the result; the first two only for an object that exists."""
    if obj is None:
        return dict(resource=None)
    return dict(cluster=doris.summary(obj), components=doris.component_reports(obj), resource=obj)


def present(module, client, definition):
    params = module.params
    if params["auth_secret"]:
        check_auth_secret(module, client, params["auth_secret"], params["namespace"])
    if params["apply"]:
        outcome = ensure(client, definition, module.check_mode)
        for warning in outcome.warnings:
            module.warn(warning)
        changed, diff, obj = outcome.changed, outcome.diff, outcome.after
    else:
        unused = [option for option in SPEC_OPTIONS if params.get(option)]
        if unused:
            module.warn("apply=false: options %s are not used (they describe the DorisCluster to write; the live "
                        "object is waited for as it is)" % ", ".join(unused))
        changed, diff, obj = False, None, read_applied(module, client)
    result = dict(changed=changed, ready=False, elapsed=0.0)
    if diff and module._diff:
        result["diff"] = diff

    if params["wait"] and not module.check_mode:
        started = time.monotonic()
        try:
            waited = wait_for(
                client, doris.DORIS_API_VERSION, doris.DORIS_KIND, params["name"], params["namespace"],
                ready=doris.is_ready, failed=doris.failure, timeout=params["wait_timeout"],
                failure_grace=params["failure_grace"], describe=doris.describe,
            )
        except WaitError as e:
            last = e.obj if e.obj is not None else obj
            module.fail_json(msg=e.msg, changed=changed, ready=False, elapsed=round(e.elapsed, 3), **reports(last))
        obj = waited.obj
        if params["fe_check"] is not None:
            remaining = max(1.0, params["wait_timeout"] - (time.monotonic() - started))
            result.update(run_fe_check(module, client, obj, remaining))
        result["elapsed"] = round(time.monotonic() - started, 3)

    result.update(ready=obj is not None and doris.is_ready(obj), **reports(obj))
    return result


def absent(module, client):
    params = module.params
    started = time.monotonic()
    changed, before = delete(
        client, doris.DORIS_API_VERSION, doris.DORIS_KIND, params["name"], params["namespace"], module.check_mode,
        wait=params["wait"], timeout=params["wait_timeout"],
    )
    result = dict(changed=changed, ready=False, elapsed=round(time.monotonic() - started, 3))
    if changed and module._diff:
        result["diff"] = {"before": before, "after": {}}
    if before is not None:
        result.update(cluster=doris.summary(before), components=doris.component_reports(before))
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    definition = None
    try:
        check_params(params)
        # With apply=false options given for the spec are still validated, but the definition is not used.
        if params["state"] == "present" and params["fe"]:
            definition = desired_definition(params)
        elif params["state"] == "present":
            for component in doris.COMPONENTS:
                if params.get(component):
                    doris.validate_component(component, params[component])
    except doris.DorisSpecError as e:
        module.fail_json(msg=to_native(e))
    try:
        client = KubeClient.from_module(module)
        if params["state"] == "present":
            module.exit_json(**present(module, client, definition))
        module.exit_json(**absent(module, client))
    except WaitError as e:  # deletion wait
        module.fail_json(msg=e.msg, elapsed=round(e.elapsed, 3))
    except (KubeError, doris.DorisQueryError) as e:
        module.fail_json(msg=to_native(e))


if __name__ == "__main__":
    main()
