#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ceph_s3_user
short_description: Ensure a Ceph RGW S3 user is present or absent and return its credentials
version_added: 0.1.0
description:
  - Ensures an S3 user of a Ceph object gateway (RGW) exists with the given display name, capabilities
    and quota, returns its first S3 key pair and, optionally, copies the keys into Secrets of the
    namespaces whose workloads use them (Hive Metastore, Trino, MLflow, ...).
  - With O(backend=rook) the user is a Rook C(CephObjectStoreUser) custom resource. The module applies
    it (unless O(apply=false)), waits until Rook reports C(status.phase=Ready) for the current generation
    (C(status.observedGeneration) equal to C(metadata.generation)) and reads the keys from the Secret
    Rook writes, C(rook-ceph-object-user-<store>-<name>).
  - With O(backend=rgw_admin) the module talks to the RGW Admin Ops API (C(/admin/user)) directly, with
    requests signed like S3 requests (AWS Signature Version 4, signed by botocore). No amazon.aws module
    drives the Admin Ops API, so this client is part of the collection; buckets, lifecycle rules and
    objects are left to M(amazon.aws.s3_bucket), M(amazon.aws.s3_lifecycle) and M(amazon.aws.s3_object).
  - Options that are not given are left as they are on an existing user, so a task that only names the
    user never changes it.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  name:
    description:
      - The user ID (C(uid)). With O(backend=rook) also the name of the C(CephObjectStoreUser), so it
        must be a DNS subdomain name (lower case letters, digits, V(-) and V(.)).
    type: str
    required: true
    aliases: [ uid ]
  state:
    description:
      - V(present) creates or updates the user, V(absent) deletes it together with the consumer Secrets
        this module copied its keys into (those that carry its labels).
    type: str
    choices: [ present, absent ]
    default: present
  backend:
    description:
      - V(rook) manages a C(ceph.rook.io/v1) C(CephObjectStoreUser) through the Kubernetes API
        (needs O(store)).
      - V(rgw_admin) manages the user through the RGW Admin Ops API (needs O(endpoint),
        O(admin_access_key) and O(admin_secret_key)).
    type: str
    choices: [ rook, rgw_admin ]
    default: rook
  apply:
    description:
      - With O(backend=rook), V(true) creates or updates the C(CephObjectStoreUser) from the options, then waits.
      - V(false) - the C(CephObjectStoreUser) is applied by something else (the s3_storage role's manifests step)
        and the module never writes it, not even as a server-side dry run in check mode; it waits until Rook
        reports it Ready (it must exist, or appear within O(wait_timeout)), reads the keys from Rook's Secret and
        copies them as O(copy_to) says (the consumer Secrets are the module's own objects and are still written).
      - With V(false), O(display_name), O(capabilities), O(quota) and O(cluster_namespace) are not used (a warning
        says so when they are given); O(store) is still needed, for the name of Rook's Secret.
      - V(false) needs O(state=present) and O(backend=rook).
    type: bool
    default: true
  display_name:
    description:
      - Display name of the user. A new RGW user gets its O(name) when this is not given.
    type: str
  capabilities:
    description:
      - Admin capabilities of the user, as a mapping of capability type to permission (see the examples).
      - Types are those RGW knows (V(users), V(buckets), V(metadata), V(usage), V(zone), V(info),
        V(roles), V(user-policy), ...). Permissions are V(*), V(read), V(write) or V(read, write)
        (the same as V(*)).
      - When given, the user ends up with exactly these capabilities; types not listed are removed.
        Use V({}) to remove all. When not given, capabilities are left alone.
      - Rook documents capabilities as effectively applied at creation only.
    type: dict
  quota:
    description:
      - The user quota (all buckets of the user together). Limits not given are left as they are.
    type: dict
    suboptions:
      max_size:
        description:
          - Maximum total size, as a Kubernetes quantity string (V(100Gi), V(500G)) or a number of bytes.
            V(-1) means no limit.
        type: raw
      max_objects:
        description:
          - Maximum number of objects. V(-1) means no limit.
        type: int
      max_buckets:
        description:
          - Maximum number of buckets the user may own (RGW's C(max_buckets) user setting).
        type: int
      enabled:
        description:
          - Whether the quota is enforced. Defaults to V(true) when a limit is given.
          - Only O(backend=rgw_admin); Rook enables the quota whenever limits are set.
        type: bool
  suspended:
    description:
      - Suspend (V(true)) or reactivate (V(false)) the user. Only O(backend=rgw_admin).
    type: bool
  purge_data:
    description:
      - With O(state=absent) and O(backend=rgw_admin), also delete the user's buckets and objects.
        Without it RGW refuses to delete a user that still owns buckets.
    type: bool
    default: false
  store:
    description:
      - Name of the C(CephObjectStore) the user belongs to. Required with O(backend=rook).
    type: str
  namespace:
    description:
      - With O(backend=rook), the namespace of the C(CephObjectStoreUser) (and of the Secret Rook
        writes). Defaults to V(rook-ceph).
      - The default namespace of O(copy_to) entries.
    type: str
  cluster_namespace:
    description:
      - With O(backend=rook), the namespace of the C(CephCluster) and C(CephObjectStore) when the user
        lives in another namespace (C(spec.clusterNamespace)). The object store must allow users in
        O(namespace) (C(spec.allowUsersInNamespaces)).
    type: str
  wait_timeout:
    description:
      - Seconds to wait for Rook to report the user Ready (and for its Secret), or for the
        C(CephObjectStoreUser) to be gone with O(state=absent).
    type: int
    default: 300
  reconcile_failed_grace:
    description:
      - With O(backend=rook), seconds a C(ReconcileFailed) phase may last before the module fails with
        the operator's message (Rook keeps retrying, and an object store that is still starting is a
        common transient cause). Defaults to V(60).
    type: int
  copy_to:
    description:
      - Secrets in other namespaces to copy the credentials into, for the workloads that use them.
        Each Secret is created or updated, labelled as managed by this module, and deleted with
        O(state=absent).
      - A Secret that already exists without this module's labels for this user is not taken over;
        the module fails instead.
      - With O(backend=rgw_admin) this needs access to a Kubernetes API (the connection options below),
        and O(state=absent) deletes copies only when O(copy_to) is given (without it the module does
        not contact Kubernetes).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the Secret.
        type: str
        required: true
      namespace:
        description: Namespace of the Secret. Defaults to O(namespace).
        type: str
      keys:
        description:
          - Names of the Secret keys that receive each value. Set a key to an empty string to leave
            that value out.
        type: dict
        suboptions:
          access_key:
            description: Key for the access key.
            type: str
            default: AWS_ACCESS_KEY_ID
          secret_key:
            description: Key for the secret key.
            type: str
            default: AWS_SECRET_ACCESS_KEY
          endpoint:
            description: Key for the S3 endpoint URL.
            type: str
            default: AWS_ENDPOINT_URL
      endpoint:
        description:
          - S3 endpoint URL written to this Secret, when the consumers reach the gateway by another URL
            than RV(endpoint) (for example the in-cluster Service).
        type: str
  endpoint:
    description:
      - With O(backend=rgw_admin), URL of the RGW endpoint, for example V(https://rgw.example.com) or
        V(http://rook-ceph-rgw-storage.storage.svc). Required with O(backend=rgw_admin).
      - With O(backend=rook), the S3 endpoint to report and copy instead of the in-cluster URL from
        Rook's Secret.
    type: str
  admin_access_key:
    description:
      - Access key of an RGW user with the C(users=*) capability (C(users=read) is enough for reading).
        Required with O(backend=rgw_admin).
    type: str
  admin_secret_key:
    description:
      - Secret key of that admin user. Required with O(backend=rgw_admin).
    type: str
  endpoint_validate_certs:
    description:
      - Whether to verify the TLS certificate of O(endpoint).
      - Separate from O(validate_certs), which is about the Kubernetes API server.
    type: bool
    default: true
  endpoint_ca_cert:
    description:
      - Path of a CA bundle to verify the certificate of O(endpoint) with.
    type: path
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.CHECK_MODE_FULL
  - lakehouse.platform.attributes.DIFF_FULL
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
notes:
  - Check mode sends no write to RGW (only the reads) and only server-side dry runs to Kubernetes (with
    O(apply=false) none for the C(CephObjectStoreUser), only for the consumer Secrets).
    A user that does not exist yet has no keys, so RV(access_key) and RV(secret_key) are null then.
  - The credentials are returned so that later tasks can use them (see the examples); set
    C(no_log=true) on tasks whose output is kept (AWX job output). O(copy_to) hands them to
    workloads without passing them through the play.
  - With O(backend=rgw_admin) the admin credentials are checked by a read before any write, and a user
    created by a run that fails half way is deleted again.
requirements:
  - botocore (Python library, for O(backend=rgw_admin))
  - kubernetes (Python library, for O(backend=rook) and O(copy_to))
seealso:
  - module: amazon.aws.s3_bucket
    description: Create buckets on the gateway (set C(endpoint_url) and C(ceph=true)).
  - module: amazon.aws.s3_lifecycle
    description: Lifecycle rules of a bucket.
  - name: RGW Admin Ops API
    description: The API behind O(backend=rgw_admin).
    link: https://docs.ceph.com/en/latest/radosgw/adminops/
  - name: Rook CephObjectStoreUser
    description: The custom resource behind O(backend=rook).
    link: https://rook.io/docs/rook/latest/CRDs/Object-Storage/ceph-object-store-user-crd/
"""

EXAMPLES = r"""
- name: S3 user for Iceberg through Rook, keys copied for Hive Metastore and Trino
  lakehouse.platform.ceph_s3_user:
    name: iceberg
    store: storage
    namespace: storage
    display_name: Iceberg warehouse
    quota:
      max_size: 200Gi
      max_buckets: 10
    capabilities:
      buckets: read
    copy_to:
      - name: iceberg-s3
        namespace: data-platform
      - name: trino-s3
        namespace: trino
        keys:
          access_key: S3_ACCESS_KEY
          secret_key: S3_SECRET_KEY
          endpoint: ""
  register: iceberg_user
  no_log: true

- name: Wait for a CephObjectStoreUser applied by an earlier step and copy its keys (the user is not written)
  lakehouse.platform.ceph_s3_user:
    name: iceberg
    store: storage
    namespace: storage
    apply: false
    copy_to:
      - name: iceberg-s3
        namespace: data-platform
  register: iceberg_user
  no_log: true

- name: MLflow artifact user through the Admin Ops API
  lakehouse.platform.ceph_s3_user:
    backend: rgw_admin
    name: mlflow
    display_name: MLflow artifacts
    endpoint: https://rgw.example.com
    admin_access_key: "{{ rgw_admin_access_key }}"
    admin_secret_key: "{{ rgw_admin_secret_key }}"
    quota:
      max_size: 50Gi
      max_objects: 1000000
  register: mlflow_user
  no_log: true

- name: A bucket for it, with the returned keys
  amazon.aws.s3_bucket:
    name: mlflow-artifacts
    endpoint_url: "{{ mlflow_user.endpoint }}"
    access_key: "{{ mlflow_user.access_key }}"
    secret_key: "{{ mlflow_user.secret_key }}"
    ceph: true
    state: present

- name: Suspend a user without deleting it
  lakehouse.platform.ceph_s3_user:
    backend: rgw_admin
    name: old-etl
    suspended: true
    endpoint: https://rgw.example.com
    admin_access_key: "{{ rgw_admin_access_key }}"
    admin_secret_key: "{{ rgw_admin_secret_key }}"

- name: Remove the Rook user and the Secrets its keys were copied into
  lakehouse.platform.ceph_s3_user:
    name: iceberg
    store: storage
    namespace: storage
    state: absent
"""

RETURN = r"""
user:
  description:
    - The user as it is after the task (as it would be, in check mode); null when absent. Never
      contains keys.
  returned: always
  type: dict
  contains:
    uid:
      description: User ID.
      type: str
      sample: iceberg
    display_name:
      description: Display name (null with O(backend=rook) when the spec leaves it to Rook).
      type: str
      sample: Iceberg warehouse
    caps:
      description: Capabilities, type to canonical permission (V(read), V(write) or V(*)).
      type: dict
      sample: {"buckets": "read"}
    quota:
      description: User quota; sizes in bytes, V(-1) for no limit. Unset limits are null with O(backend=rook).
      type: dict
      sample: {"enabled": true, "max_size": 214748364800, "max_objects": -1, "max_buckets": 10}
    suspended:
      description: Whether the user is suspended (null with O(backend=rook)).
      type: bool
      sample: false
    phase:
      description: C(status.phase) of the C(CephObjectStoreUser) (O(backend=rook) only).
      type: str
      sample: Ready
access_key:
  description:
    - The user's first S3 access key. Null in check mode for a user that does not exist yet, and
      with O(state=absent).
  returned: always
  type: str
  sample: 0555b35654ad1656d804
secret_key:
  description:
    - The secret key that goes with RV(access_key).
  returned: always
  type: str
  sample: h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==
endpoint:
  description:
    - S3 endpoint URL of the gateway; with O(backend=rook) the in-cluster URL Rook wrote to its
      Secret, unless O(endpoint) is given.
  returned: always
  type: str
  sample: http://rook-ceph-rgw-storage.storage.svc
secret_name:
  description: The Secret Rook wrote the keys to (O(backend=rook)), null with O(backend=rgw_admin).
  returned: always
  type: str
  sample: rook-ceph-object-user-storage-iceberg
copied_to:
  description: The consumer Secrets written (or deleted, with O(state=absent)), as namespace/name.
  returned: always
  type: list
  elements: str
  sample: ["data-platform/iceberg-s3"]
diff:
  description: The user and the consumer Secrets before and after the task; Secret values are redacted.
  returned: always
  type: dict
  sample: {"before": {"user": {"uid": "iceberg", "quota": {"max_size": -1}}, "consumer_secrets": {}},
           "after": {"user": {"uid": "iceberg", "quota": {"max_size": 1073741824}}, "consumer_secrets": {}}}
"""

import hashlib
import re
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils import rgw_admin
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    REDACTED,
    KindNotFound,
    KubeClient,
    KubeError,
    delete as kube_delete,
    ensure,
    ensure_secret,
    kube_argument_spec,
    redact_secret,
)
from ansible_collections.lakehouse.platform.plugins.module_utils.quantity import QuantityError, memory_bytes
from ansible_collections.lakehouse.platform.plugins.module_utils.waiter import (
    WaitError,
    generation_current,
    summarize_status,
    wait_for,
)

ROOK_API_VERSION = "ceph.rook.io/v1"
ROOK_KIND = "CephObjectStoreUser"
ROOK_DEFAULT_NAMESPACE = "rook-ceph"
DEFAULT_RECONCILE_FAILED_GRACE = 60
ROOK_SECRET_KEYS = ("AccessKey", "SecretKey", "Endpoint")

# Labels that mark a consumer Secret as written by this module for one user. The id label is exact
# (a hash of backend + location + uid); the user label is for people reading `kubectl get -l`.
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_USER = "lakehouse.platform/ceph-s3-user"
LABEL_USER_ID = "lakehouse.platform/ceph-s3-user-id"
MANAGED_BY = "lakehouse.platform"

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SECRET_KEY_NAME = re.compile(r"^[-._a-zA-Z0-9]+$")

ROOK_ONLY = ("store", "cluster_namespace", "reconcile_failed_grace")
# Options that describe the CephObjectStoreUser to write: not used with apply=false.
ROOK_SPEC_OPTIONS = ("display_name", "capabilities", "quota", "cluster_namespace")
RGW_ONLY = ("suspended",)


class ParameterError(ValueError):
    """Bad module arguments, found before any request is made."""


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        name=dict(type="str", required=True, aliases=["uid"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        backend=dict(type="str", default="rook", choices=["rook", "rgw_admin"]),
        apply=dict(type="bool", default=True),
        display_name=dict(type="str"),
        capabilities=dict(type="dict"),
        quota=dict(type="dict", options=dict(
            max_size=dict(type="raw"),
            max_objects=dict(type="int"),
            max_buckets=dict(type="int"),
            enabled=dict(type="bool"),
        )),
        suspended=dict(type="bool"),
        purge_data=dict(type="bool", default=False),
        store=dict(type="str"),
        namespace=dict(type="str"),
        cluster_namespace=dict(type="str"),
        wait_timeout=dict(type="int", default=300),
        reconcile_failed_grace=dict(type="int"),
        copy_to=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            namespace=dict(type="str"),
            keys=dict(type="dict", apply_defaults=True, no_log=False, options=dict(
                access_key=dict(type="str", default="AWS_ACCESS_KEY_ID", no_log=False),
                secret_key=dict(type="str", default="AWS_SECRET_ACCESS_KEY", no_log=False),
                endpoint=dict(type="str", default="AWS_ENDPOINT_URL"),
            )),
            endpoint=dict(type="str"),
        )),
        endpoint=dict(type="str"),
        admin_access_key=dict(type="str", no_log=False),
        admin_secret_key=dict(type="str", no_log=True),
        endpoint_validate_certs=dict(type="bool", default=True),
        endpoint_ca_cert=dict(type="path"),
    )
    return spec


# -- argument validation (no request is made before this passes) ---------------------------------------
def validate(params):
    """Check the arguments and normalise them -> dict of what the user asked for. Raises ParameterError."""
    backend = params["backend"]
    name = params["name"]
    if not name or name != name.strip():
        raise ParameterError("Option 'name' must be a non-empty user ID without surrounding spaces, got %r" % name)
    if backend == "rook" and (len(name) > 253 or not DNS_SUBDOMAIN.match(name)):
        raise ParameterError("Option 'name' %r is not a valid CephObjectStoreUser name: use lower case letters, "
                             "digits, '-' and '.' (a DNS subdomain name), or backend=rgw_admin" % name)
    if params["wait_timeout"] < 0:
        raise ParameterError("Option 'wait_timeout' must be 0 or more seconds, got %d" % params["wait_timeout"])
    if params["reconcile_failed_grace"] is not None and params["reconcile_failed_grace"] < 0:
        raise ParameterError("Option 'reconcile_failed_grace' must be 0 or more seconds, got %d"
                             % params["reconcile_failed_grace"])

    if not params["apply"]:
        if backend != "rook":
            raise ParameterError("Option 'apply' is only supported with backend=rook (apply=false waits for a "
                                 "CephObjectStoreUser that something else applies)")
        if params["state"] != "present":
            raise ParameterError("Option 'apply=false' only waits for a CephObjectStoreUser that something else "
                                 "applies; it cannot be combined with state=%s" % params["state"])

    if backend == "rook":
        for option in RGW_ONLY:
            if params[option] is not None:
                raise ParameterError("Option '%s' is only supported with backend=rgw_admin" % option)
        if params["purge_data"]:
            raise ParameterError("Option 'purge_data' is only supported with backend=rgw_admin; Rook decides "
                                 "what happens to the buckets of a deleted CephObjectStoreUser")
        if params["state"] == "present" and not params["store"]:
            raise ParameterError("Option 'store' (the CephObjectStore name) is required with backend=rook")
        if params["store"] and not DNS_SUBDOMAIN.match(params["store"]):
            raise ParameterError("Option 'store' %r is not a valid CephObjectStore name" % params["store"])
        for option in ("namespace", "cluster_namespace"):
            if params[option] and not DNS_LABEL.match(params[option]):
                raise ParameterError("Option '%s' %r is not a valid namespace name" % (option, params[option]))
    else:
        for option in ROOK_ONLY:
            if params[option] is not None:
                raise ParameterError("Option '%s' is only supported with backend=rook" % option)
        missing = [o for o in ("endpoint", "admin_access_key", "admin_secret_key") if not params[o]]
        if missing:
            raise ParameterError("backend=rgw_admin needs option%s %s"
                                 % ("s" if len(missing) > 1 else "", ", ".join("'%s'" % m for m in missing)))
        if not re.match(r"^https?://[^/?#\s]+", params["endpoint"]):
            raise ParameterError("Option 'endpoint' must be an http:// or https:// URL, got %r" % params["endpoint"])

    return {
        "uid": name,
        "display_name": params["display_name"],
        "caps": validate_capabilities(params["capabilities"]),
        "quota": validate_quota(params["quota"], backend),
        "suspended": params["suspended"],
        "copies": validate_copies(params["copy_to"], params["namespace"], backend),
    }


def validate_capabilities(capabilities):
    """{"usage": "read, write"} -> {"usage": "*"}; None stays None (leave caps alone)."""
    if capabilities is None:
        return None
    result = {}
    for cap_type, perm in capabilities.items():
        if cap_type not in rgw_admin.CAP_TYPES:
            raise ParameterError("Option 'capabilities' has unknown capability type %r; known types: %s"
                                 % (cap_type, ", ".join(rgw_admin.CAP_TYPES)))
        try:
            result[cap_type] = rgw_admin.normalize_perm(perm)
        except ValueError as e:
            raise ParameterError("Option 'capabilities' entry %s: %s" % (cap_type, to_native(e)))
    return result


def quota_size_bytes(value):
    """max_size as bytes: a quantity string or a number; -1 is 'no limit'."""
    if value in (-1, "-1"):
        return -1
    try:
        return memory_bytes(value)
    except QuantityError as e:
        raise ParameterError("Option 'quota.max_size': %s (use a size such as 100Gi, a number of bytes, or -1 "
                             "for no limit)" % to_native(e))


def validate_quota(quota, backend):
    """Normalised quota: keys max_size (bytes), max_size_spec (as given), max_objects, max_buckets, enabled.

    Limits not given stay None (= leave as is). None when the option is not given.
    """
    if quota is None:
        return None
    result = {
        "max_size": None if quota["max_size"] is None else quota_size_bytes(quota["max_size"]),
        "max_size_spec": quota["max_size"],
        "max_objects": quota["max_objects"],
        "max_buckets": quota["max_buckets"],
        "enabled": quota["enabled"],
    }
    for option in ("max_objects", "max_buckets"):
        if result[option] is not None and result[option] < -1:
            raise ParameterError("Option 'quota.%s' must be -1 (no limit) or more, got %d" % (option, result[option]))
    if backend == "rook" and quota["enabled"] is not None:
        raise ParameterError("Option 'quota.enabled' is only supported with backend=rgw_admin; Rook enforces the "
                             "quota whenever limits are set")
    if all(result[k] is None for k in ("max_size", "max_objects", "max_buckets", "enabled")):
        raise ParameterError("Option 'quota' is empty: give max_size, max_objects, max_buckets or enabled")
    return result


def validate_copies(copy_to, default_namespace, backend):
    """copy_to entries with namespace resolved and key names checked."""
    if not copy_to:
        return []
    if default_namespace is None and backend == "rook":
        default_namespace = ROOK_DEFAULT_NAMESPACE
    copies, seen = [], set()
    for index, entry in enumerate(copy_to):
        where = "copy_to[%d]" % index
        namespace = entry["namespace"] or default_namespace
        if not namespace:
            raise ParameterError("Option '%s.namespace' is required (no option 'namespace' to default to)" % where)
        if not DNS_LABEL.match(namespace):
            raise ParameterError("Option '%s.namespace' %r is not a valid namespace name" % (where, namespace))
        if len(entry["name"]) > 253 or not DNS_SUBDOMAIN.match(entry["name"]):
            raise ParameterError("Option '%s.name' %r is not a valid Secret name" % (where, entry["name"]))
        if (namespace, entry["name"]) in seen:
            raise ParameterError("Option 'copy_to' names Secret %s/%s twice" % (namespace, entry["name"]))
        seen.add((namespace, entry["name"]))
        keys = {}
        for source, target in (entry["keys"] or {}).items():
            if not target:
                continue  # an empty key name leaves that value out
            if len(target) > 253 or not SECRET_KEY_NAME.match(target):
                raise ParameterError("Option '%s.keys.%s' %r is not a valid Secret key (letters, digits, '-', '_', '.')"
                                     % (where, source, target))
            keys[source] = target
        if len(set(keys.values())) != len(keys):
            raise ParameterError("Option '%s.keys' maps two values to the same Secret key" % where)
        if not keys.get("access_key") and not keys.get("secret_key"):
            raise ParameterError("Option '%s.keys' leaves out both the access key and the secret key" % where)
        if entry["endpoint"] is not None and not re.match(r"^https?://", entry["endpoint"]):
            raise ParameterError("Option '%s.endpoint' must be an http:// or https:// URL" % where)
        copies.append({"name": entry["name"], "namespace": namespace, "keys": keys, "endpoint": entry["endpoint"]})
    return copies


# -- diff helpers ----------------------------------------------------------------------------------------
def make_diff(before_user, after_user, before_secrets, after_secrets):
    return {
        "before": {"user": before_user, "consumer_secrets": before_secrets},
        "after": {"user": after_user, "consumer_secrets": after_secrets},
    }


# -- backend rgw_admin -----------------------------------------------------------------------------------
def run_rgw_admin(module, desired, kube_for_copies):
    params = module.params
    check_mode = module.check_mode
    try:
        client = rgw_admin.RGWAdmin(params["endpoint"], params["admin_access_key"], params["admin_secret_key"],
                                    validate_certs=params["endpoint_validate_certs"],
                                    ca_path=params["endpoint_ca_cert"])
    except ValueError as e:
        raise ParameterError("Option 'endpoint': %s" % to_native(e))
    uid = desired["uid"]
    identity = "rgw_admin:%s/%s" % (client.endpoint, uid)
    # This read is also the check of endpoint and admin credentials: it comes before any write.
    user, before = rgw_admin.read_user(client, uid)

    if params["state"] == "absent":
        changed = before is not None
        if changed and not check_mode:
            client.delete_user(uid, purge_data=params["purge_data"])
        copies_changed, copied, before_secrets = remove_copies(kube_for_copies, identity, desired["copies"],
                                                               check_mode, module)
        return dict(changed=changed or copies_changed, user=None, access_key=None, secret_key=None,
                    endpoint=client.endpoint, secret_name=None, copied_to=copied,
                    diff=make_diff(before, None, before_secrets, {}))

    after = rgw_admin.desired_user_view(before, uid, display_name=desired["display_name"], caps=desired["caps"],
                                        quota=desired["quota"], suspended=desired["suspended"])
    steps = rgw_admin.plan_user_changes(before, after)
    if steps and not check_mode:
        rgw_admin.apply_user_changes(client, uid, steps)
        user, after = rgw_admin.read_user(client, uid)
    access_key, secret_key = rgw_admin.first_s3_key(user)
    if user is not None and access_key is None and not check_mode:
        # A user made elsewhere without keys (generate-key=false): give it one so it can use S3.
        client.create_s3_key(uid)
        user, after = rgw_admin.read_user(client, uid)
        access_key, secret_key = rgw_admin.first_s3_key(user)
        steps.append(("create_s3_key", {"uid": uid}))
    elif user is not None and access_key is None:
        steps.append(("create_s3_key", {"uid": uid}))
    protect(module, access_key, secret_key)

    credentials = {"access_key": access_key, "secret_key": secret_key, "endpoint": client.endpoint}
    copies_changed, copied, before_secrets, after_secrets = write_copies(
        kube_for_copies, identity, uid, desired["copies"], credentials, check_mode)
    return dict(changed=bool(steps) or copies_changed, user=after, access_key=access_key, secret_key=secret_key,
                endpoint=client.endpoint, secret_name=None, copied_to=copied,
                diff=make_diff(before, after, before_secrets, after_secrets))


# -- backend rook ----------------------------------------------------------------------------------------
def rook_namespace(params):
    return params["namespace"] or ROOK_DEFAULT_NAMESPACE


def rook_secret_name(store, name):
    return "rook-ceph-object-user-%s-%s" % (store, name)


def build_object_user(params, desired, live=None):
    """The CephObjectStoreUser to ensure. Capabilities that `live` has but `desired` drops are set to
    null so the merge patch removes them."""
    spec = {"store": params["store"]}
    if desired["display_name"] is not None:
        spec["displayName"] = desired["display_name"]
    if params["cluster_namespace"]:
        spec["clusterNamespace"] = params["cluster_namespace"]
    if desired["caps"] is not None:
        caps = dict(desired["caps"])  # canonical perms are spelled as the CRD's enum wants them
        live_caps = ((live or {}).get("spec") or {}).get("capabilities") or {}
        for cap_type in live_caps:
            caps.setdefault(cap_type, None)
        spec["capabilities"] = caps
    quota = desired["quota"]
    if quota is not None:
        quotas = {}
        if quota["max_size"] is not None:
            spec_value = quota["max_size_spec"]
            quotas["maxSize"] = spec_value if isinstance(spec_value, (int, str)) else quota["max_size"]
        if quota["max_objects"] is not None:
            quotas["maxObjects"] = quota["max_objects"]
        if quota["max_buckets"] is not None:
            quotas["maxBuckets"] = quota["max_buckets"]
        spec["quotas"] = quotas
    return {
        "apiVersion": ROOK_API_VERSION,
        "kind": ROOK_KIND,
        "metadata": {"name": desired["uid"], "namespace": rook_namespace(params)},
        "spec": spec,
    }


def rook_user_view(obj):
    """What the module reports about a CephObjectStoreUser (from its spec and phase)."""
    if obj is None:
        return None
    spec = obj.get("spec") or {}
    quotas = spec.get("quotas") or {}
    max_size = quotas.get("maxSize")
    if max_size is not None:
        try:
            max_size = -1 if max_size in (-1, "-1") else memory_bytes(max_size)
        except QuantityError:
            pass  # report what the spec says if it is not a quantity we can read
    caps = {}
    for cap_type, perm in (spec.get("capabilities") or {}).items():
        try:
            caps[cap_type] = rgw_admin.normalize_perm(perm)
        except ValueError:
            caps[cap_type] = perm
    return {
        "uid": (obj.get("metadata") or {}).get("name"),
        "display_name": spec.get("displayName"),
        "caps": caps,
        "quota": {
            "enabled": bool(quotas),
            "max_size": max_size,
            "max_objects": quotas.get("maxObjects"),
            "max_buckets": quotas.get("maxBuckets"),
        },
        "suspended": None,
        "store": spec.get("store"),
        "cluster_namespace": spec.get("clusterNamespace"),
        "phase": (obj.get("status") or {}).get("phase"),
    }


def rook_ready(obj):
    return (obj.get("status") or {}).get("phase") == "Ready" and generation_current(obj, missing_ok=False)


def rook_failed(obj):
    status = obj.get("status") or {}
    if status.get("phase") != "ReconcileFailed":
        return None
    info = status.get("info") or {}
    detail = ", ".join("%s=%s" % (k, v) for k, v in sorted(info.items()))
    return "Rook reports phase ReconcileFailed%s" % (" (%s)" % detail if detail else "")


def rook_events(client, name, namespace, limit=5):
    """The newest events Kubernetes has about the CephObjectStoreUser, as 'Reason: message' strings."""
    try:
        events = client.list("v1", "Event", namespace=namespace, field_selector="involvedObject.name=%s" % name)
    except KubeError:
        return []  # events are a bonus for the message; not being allowed to read them is no error
    events = [e for e in events if (e.get("involvedObject") or {}).get("name") == name
              and (e.get("involvedObject") or {}).get("kind") in (None, ROOK_KIND)]

    def when(event):
        return event.get("lastTimestamp") or event.get("eventTime") or (event.get("metadata") or {}).get(
            "creationTimestamp") or ""

    events.sort(key=when)
    return ["%s: %s" % (e.get("reason") or e.get("type") or "Event", (e.get("message") or "").strip())
            for e in events[-limit:]]


def wait_rook_ready(client, name, namespace, params):
    grace = params["reconcile_failed_grace"]
    if grace is None:
        grace = DEFAULT_RECONCILE_FAILED_GRACE
    try:
        return wait_for(client, ROOK_API_VERSION, ROOK_KIND, name, namespace, ready=rook_ready, failed=rook_failed,
                        timeout=params["wait_timeout"], failure_grace=grace, describe=summarize_status).obj
    except WaitError as e:
        events = rook_events(client, name, namespace)
        message = e.msg
        if events:
            message += "; events: " + " | ".join(events)
        raise WaitError(message, e.obj, e.elapsed)


def read_rook_secret(client, store, name, namespace, timeout, wait):
    """Rook's Secret values, waiting (up to timeout) for it when `wait`; None if absent."""
    secret_name = rook_secret_name(store, name)
    if wait:
        try:
            wait_for(client, "v1", "Secret", secret_name, namespace,
                     ready=lambda obj: bool((obj.get("data") or {}).get("AccessKey")), timeout=timeout)
        except WaitError as e:
            raise WaitError("%s is Ready but its Secret %s/%s with AccessKey/SecretKey did not appear: %s"
                            % (ROOK_KIND, namespace, secret_name, e.msg), e.obj, e.elapsed)
    return client.read_secret(secret_name, namespace)


def run_rook(module, desired, client):
    params = module.params
    check_mode = module.check_mode
    name = desired["uid"]
    namespace = rook_namespace(params)
    identity = "rook:%s/%s" % (namespace, name)
    try:
        live = client.get(ROOK_API_VERSION, ROOK_KIND, name, namespace)
    except KindNotFound:
        # No Rook CRD: nothing to delete; ensure() below fails with a clear message outside check mode.
        if not params["apply"] and not check_mode:
            raise  # apply=false: nothing will create the CRD while this waits
        live = None
    before = rook_user_view(live)

    if params["state"] == "absent":
        changed = kube_delete(client, ROOK_API_VERSION, ROOK_KIND, name, namespace, check_mode,
                              wait=True, timeout=params["wait_timeout"])[0]
        copies_changed, copied, before_secrets = remove_copies(client, identity, desired["copies"], check_mode,
                                                               module)
        return dict(changed=changed or copies_changed, user=None, access_key=None, secret_key=None,
                    endpoint=params["endpoint"], secret_name=None, copied_to=copied,
                    diff=make_diff(before, None, before_secrets, {}))

    started = time.monotonic()
    if params["apply"]:
        definition = build_object_user(params, desired, live)
        result = ensure(client, definition, check_mode)
        for warning in result.warnings:
            module.warn(warning)
        user_changed, obj = result.changed, result.after
    else:
        # Applied by something else (the s3_storage role's manifests step): read and wait, never write it.
        unused = [option for option in ROOK_SPEC_OPTIONS if params.get(option) is not None]
        if unused:
            module.warn("apply=false: options %s are not used (they describe the %s to write)"
                        % (", ".join(unused), ROOK_KIND))
        if live is None and check_mode:
            module.warn("%s %s/%s not found (check mode: the step that applies it would create it); apply=false, "
                        "nothing is written" % (ROOK_KIND, namespace, name))
        user_changed, obj = False, live
    secret_name = rook_secret_name(params["store"], name)
    values = None
    if not check_mode:
        obj = wait_rook_ready(client, name, namespace, params)
        remaining = max(1, params["wait_timeout"] - int(time.monotonic() - started))
        values = read_rook_secret(client, params["store"], name, namespace, remaining, wait=True)
    elif live is not None:
        # Changing the spec of an existing user keeps its keys; reading them is allowed in check mode.
        values = client.read_secret(secret_name, namespace)
    values = values or {}
    access_key, secret_key = values.get("AccessKey"), values.get("SecretKey")
    protect(module, access_key, secret_key)
    endpoint = params["endpoint"] or values.get("Endpoint")
    after = rook_user_view(obj)

    credentials = {"access_key": access_key, "secret_key": secret_key, "endpoint": endpoint}
    copies_changed, copied, before_secrets, after_secrets = write_copies(
        client, identity, name, desired["copies"], credentials, check_mode)
    return dict(changed=user_changed or copies_changed, user=after, access_key=access_key, secret_key=secret_key,
                endpoint=endpoint, secret_name=secret_name, copied_to=copied,
                diff=make_diff(before, after, before_secrets, after_secrets))


# -- consumer Secrets ------------------------------------------------------------------------------------
def copy_labels(identity, uid):
    """Labels that mark a consumer Secret as this module's copy for one user (see LABEL_USER_ID)."""
    readable = re.sub(r"[^A-Za-z0-9._-]", "-", uid)[:63].strip("-_.") or "user"
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_USER: readable,
        LABEL_USER_ID: hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40],
    }


def is_our_copy(secret, identity):
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return labels.get(LABEL_USER_ID) == copy_labels(identity, "x")[LABEL_USER_ID]


def copy_data(copy_spec, credentials):
    values = {"access_key": credentials["access_key"], "secret_key": credentials["secret_key"],
              "endpoint": copy_spec["endpoint"] or credentials["endpoint"]}
    return dict((target, values[source]) for source, target in copy_spec["keys"].items()
                if values.get(source) is not None)


def write_copies(client, identity, uid, copies, credentials, check_mode):
    """Create/update the consumer Secrets -> (changed, ['ns/name'], before {ns/name: redacted}, after {...})."""
    changed, copied, before, after = False, [], {}, {}
    if not copies:
        return changed, copied, before, after
    labels = copy_labels(identity, uid)
    for copy_spec in copies:
        key = "%s/%s" % (copy_spec["namespace"], copy_spec["name"])
        live = client.get("v1", "Secret", copy_spec["name"], copy_spec["namespace"])
        if live is not None and not is_our_copy(live, identity):
            raise KubeError("Secret %s exists and was not written by ceph_s3_user for user %s (it lacks the label "
                            "%s); choose another copy_to name or delete that Secret" % (key, uid, LABEL_USER_ID))
        if live is not None:
            before[key] = redact_secret(live).get("data") or {}
        copied.append(key)
        data = copy_data(copy_spec, credentials)
        if credentials["access_key"] is None:
            # Check mode for a user that does not exist yet: the keys will only be known after creation.
            after[key] = dict((target, REDACTED) for target in copy_spec["keys"].values())
            changed = True
            continue
        result = ensure_secret(client, copy_spec["name"], copy_spec["namespace"], data, labels=labels,
                               check_mode=check_mode)
        changed = changed or result.changed
        after[key] = (result.after or {}).get("data") or {}
    return changed, copied, before, after


def remove_copies(client, identity, copies, check_mode, module):
    """Delete this user's consumer Secrets: those listed in copy_to and those found by label.

    -> (changed, ['ns/name'], before {ns/name: redacted data}).
    """
    if client is None:
        return False, [], {}
    labels = copy_labels(identity, "x")
    candidates = dict(((c["namespace"], c["name"]), None) for c in copies)
    try:
        for secret in client.list("v1", "Secret", label_selector="%s=%s" % (LABEL_USER_ID, labels[LABEL_USER_ID])):
            metadata = secret.get("metadata") or {}
            candidates[(metadata.get("namespace"), metadata.get("name"))] = secret
    except KubeError as e:
        if not copies:
            module.warn("Could not search all namespaces for Secrets copied for this user (%s); list them in "
                        "copy_to to have them deleted" % to_native(e))
    changed, removed, before = False, [], {}
    for (namespace, name), secret in sorted(candidates.items()):
        if secret is None:
            secret = client.get("v1", "Secret", name, namespace)
        if secret is None:
            continue
        if not is_our_copy(secret, identity):
            module.warn("Secret %s/%s was not written by ceph_s3_user for this user; left in place" % (namespace, name))
            continue
        before["%s/%s" % (namespace, name)] = redact_secret(secret).get("data") or {}
        deleted = kube_delete(client, "v1", "Secret", name, namespace, check_mode)[0]
        changed = changed or deleted
        removed.append("%s/%s" % (namespace, name))
    return changed, removed, before


def protect(module, *secrets):
    """Mask the credentials in anything the module logs, warns or fails with.

    They leave no_log_values again just before a successful exit (see main), because Ansible masks a
    registered value everywhere in the result, including RV(access_key) and RV(secret_key) whose job
    is to return them.
    """
    for secret in secrets:
        if secret:
            module.no_log_values.add(secret)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if module.params["backend"] == "rgw_admin" and not rgw_admin.HAS_BOTOCORE:
        module.fail_json(msg=missing_required_lib("botocore"), exception=rgw_admin.BOTOCORE_IMPORT_ERROR)
    try:
        desired = validate(module.params)
    except ParameterError as e:
        module.fail_json(msg=to_native(e))

    try:
        client = None
        if module.params["backend"] == "rook" or desired["copies"]:
            client = KubeClient.from_module(module)
        if module.params["backend"] == "rook":
            result = run_rook(module, desired, client)
        else:
            result = run_rgw_admin(module, desired, client)
    except ParameterError as e:
        module.fail_json(msg=to_native(e))
    except rgw_admin.RGWAdminError as e:
        module.fail_json(msg=e.msg, status=e.status, code=e.code)
    except WaitError as e:
        failure = dict(msg=e.msg, elapsed=round(e.elapsed, 3))
        if e.obj is not None:
            failure["resource"] = e.obj
        module.fail_json(**failure)
    except KubeError as e:
        module.fail_json(msg=to_native(e))

    for secret in (result["access_key"], result["secret_key"]):
        module.no_log_values.discard(secret)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
