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
  - With O(fe_check), also connects to the FE over the MySQL protocol, runs C(SHOW FRONTENDS) and
    C(SHOW BACKENDS), and waits until the number of alive FE, BE and CN nodes equals the replicas.
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
      - Check the cluster from inside Doris after it is available, over the FE's MySQL protocol port, with
        C(SHOW FRONTENDS) and C(SHOW BACKENDS), until the alive FE, BE and CN counts equal their replicas.
      - Not done in check mode, nor when O(wait=false).
    type: dict
    suboptions:
      host:
        description:
          - FE address; default the in-cluster FE Service, C(<name>-fe-service.<namespace>.svc), which
            resolves only where the controller runs inside the cluster.
        type: str
      port:
        description: FE query (MySQL protocol) port.
        type: int
        default: 9030
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
        description: Seconds to wait for a connection to the FE.
        type: int
        default: 10
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
  - pymysql (Python library), for O(fe_check) only
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
  description: Node counts read from the FE with C(SHOW FRONTENDS) / C(SHOW BACKENDS).
  returned: when O(fe_check) ran
  type: dict
  contains:
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
      description: BEs listed.
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
fe_alive:
  description: Same as RV(fe_check.fe_alive).
  returned: when O(fe_check) ran
  type: int
  sample: 1
be_alive:
  description: Same as RV(fe_check.be_alive).
  returned: when O(fe_check) ran
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

from ansible_collections.lakehouse.platform.plugins.module_utils import doris
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    KindNotFound,
    KubeClient,
    KubeError,
    decode_secret_data,
    delete,
    ensure,
    kube_argument_spec,
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


def run_fe_check(module, client, obj, timeout):
    if not doris.HAS_PYMYSQL:
        module.fail_json(msg=missing_required_lib("pymysql"), exception=to_native(doris.PYMYSQL_IMPORT_ERROR))
    connect_kwargs = fe_connection(module, client, obj)
    counts, mismatches = doris.check_fe(connect_kwargs, expected_node_counts(obj), timeout=timeout)
    if mismatches:
        not_alive = "; ".join(
            "%s (%s): %s" % (n["name"], n["host"], n["error"] or "no error message") for n in counts["not_alive"]
        )
        module.fail_json(
            msg="Doris FE at %s:%s reports %s%s"
            % (connect_kwargs["host"], connect_kwargs["port"], ", ".join(mismatches),
               "; not alive: " + not_alive if not_alive else ""),
            fe_check=counts,
        )
    return counts


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
            counts = run_fe_check(module, client, obj, remaining)
            result.update(fe_check=counts, fe_alive=counts["fe_alive"], be_alive=counts["be_alive"])
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
