#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_apply
short_description: Server-side apply all objects of a component in one task, recording what it created
version_added: 0.1.0
description:
  - Applies the Kubernetes objects of one component, in the order given, with server-side apply
    (C(PATCH) with C(application/apply-patch+yaml), field manager O(field_manager), conflicts forced
    by default) in one module run, instead of one task per object.
  - Every object is labelled with C(app.kubernetes.io/managed-by=lakehouse.platform),
    C(lakehouse.platform/component=<component>) and C(lakehouse.platform/phase=<phase>) before it is sent.
  - Each object is read first. An object that did not exist is reported as V(created). For an existing
    object only what this apply owns is compared, between the object read before and the server's answer
    to the apply - the fields the manifest sets (maps key by key, lists whole) and the field manager's
    C(managedFields) entry. C(status), C(metadata.resourceVersion), C(metadata.generation) and fields
    written by other managers (an operator updating C(status) in between) never count as a change, and
    neither does a value the server stores normalised (C(1000m) stored as C(1)).
  - When the object read already holds every field of the manifest and the field manager's
    C(managedFields) entry records exactly the manifest's fields, the apply is not sent at all, so a
    rerun that changes nothing sends no write request.
  - The objects this run created (not those that existed before, even when they are updated) are
    recorded in the component's inventory ConfigMap C(lakehouse-platform-inventory-<component>) in
    O(state_namespace), merged with what earlier runs recorded, together with O(extra_created) and
    O(helm_releases). Rollback deletes only what that inventory lists. The ConfigMap is written only when
    something new is to be recorded.
  - When an object fails, the module fails naming the component, the object and the API server's message;
    RV(results) still lists the objects applied before, and those that were created are recorded.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  objects:
    description:
      - The component's objects, complete Kubernetes manifests, in the order they are applied
        (Namespaces and CustomResourceDefinitions before the objects that need them).
      - Each needs C(apiVersion), C(kind) and C(metadata.name); namespaced kinds need C(metadata.namespace).
      - Secrets carrying C(data) or C(stringData) are refused before anything is sent, so secret values
        never appear in task arguments or results; create Secrets with M(lakehouse.platform.ceph_s3_user)
        or another task and list them in O(extra_created).
    type: list
    elements: dict
    required: true
  component:
    description:
      - Name of the component the objects belong to, for example V(hive_metastore).
      - Sets the C(lakehouse.platform/component) label and names the inventory ConfigMap
        (C(_) replaced by C(-)).
    type: str
    required: true
  phase:
    description:
      - Phase the component is deployed in; sets the C(lakehouse.platform/phase) label and the
        C(lakehouse.platform/phase) annotation of the inventory.
    type: str
    required: true
  field_manager:
    description:
      - Field manager name of the server-side apply.
    type: str
    default: lakehouse.platform
  force_conflicts:
    description:
      - Take over fields that another field manager owns with another value (C(force=true)) instead of
        failing with a conflict.
    type: bool
    default: true
  state_namespace:
    description:
      - Namespace of the inventory ConfigMap; created (labelled C(app.kubernetes.io/part-of=lakehouse.platform))
        when it does not exist.
    type: str
    default: lakehouse-system
  record:
    description:
      - Record the created objects, O(extra_created) and O(helm_releases) in the inventory ConfigMap.
      - Never written in check mode.
    type: bool
    default: true
  extra_created:
    description:
      - References of objects the caller created itself (for example a generated Secret) to record in the
        inventory as created by this component.
    type: list
    elements: dict
    default: []
    suboptions:
      apiVersion:
        description:
          - API version of the object.
        type: str
        required: true
      kind:
        description:
          - Kind of the object.
        type: str
        required: true
      namespace:
        description:
          - Namespace of the object; empty or omitted for cluster-scoped kinds.
        type: str
      name:
        description:
          - Name of the object.
        type: str
        required: true
  helm_releases:
    description:
      - Helm releases the component installed, to record in the inventory's C(helm_releases) list
        (rollback uninstalls them).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Release name.
        type: str
        required: true
      namespace:
        description:
          - Release namespace.
        type: str
        required: true
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.CHECK_MODE_FULL
  - lakehouse.platform.attributes.DIFF_FULL
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
attributes:
  action:
    description: An action plugin of the same name runs the module and adds the C(manifests_changes) fact.
    support: full
notes:
  - In check mode every object is sent as a server-side dry run (C(dryRun=All)), so the server validates
    and defaults it and nothing is stored; the inventory is not written. Objects whose namespace does not
    exist yet (a real run creates it first, from the same O(objects)) and objects of a kind the API server
    does not serve yet (its CRD comes from a chart of the same run) cannot be dry-run; they are reported with
    action V(skipped) and a reason instead of failing.
  - Outside check mode a kind that is not served fails the module, except that a CustomResourceDefinition
    applied earlier in the same O(objects) is given up to 30 seconds to be served.
  - The action plugin of the same name runs this module and adds C(ansible_facts.manifests_changes) (the
    previous value plus one entry per created or updated object, with C(component) and C(action)). The
    module itself returns everything else and can be run without it.
seealso:
  - module: kubernetes.core.k8s
    description: Applies one object per task.
"""

EXAMPLES = r"""
- name: Apply the Hive Metastore's objects and record what was created
  lakehouse.platform.k8s_apply:
    component: hive_metastore
    phase: phase1
    objects: "{{ hive_metastore_manifests }}"
    extra_created:
      - apiVersion: v1
        kind: Secret
        namespace: metastore
        name: hive-metastore-db
    helm_releases:
      - name: hive-metastore
        namespace: metastore
  register: applied

- name: Same, with the connection set once for the whole k8s group
  module_defaults:
    group/lakehouse.platform.k8s:
      kubeconfig: /etc/lakehouse/kubeconfig
      context: prod
  lakehouse.platform.k8s_apply:
    component: ray
    phase: phase3
    state_namespace: lakehouse-system
    objects:
      - apiVersion: v1
        kind: Namespace
        metadata:
          name: ml
      - apiVersion: ray.io/v1
        kind: RayCluster
        metadata:
          name: raycluster
          namespace: ml
        spec:
          rayVersion: 2.40.0
          headGroupSpec:
            rayStartParams: {}
            template:
              spec:
                containers:
                  - name: ray-head
                    image: rayproject/ray:2.40.0

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ applied.created | length }} created, {{ applied.updated | length }} updated"
"""

RETURN = r"""
changed:
  description: Whether an object was created or updated, or the inventory was written (in check mode, would be).
  returned: always
  type: bool
  sample: true
results:
  description: One entry per object of O(objects), in order (up to the failing object when the module fails).
  returned: always
  type: list
  elements: dict
  contains:
    apiVersion:
      description: API version of the object.
      type: str
      sample: v1
    kind:
      description: Kind of the object.
      type: str
      sample: ConfigMap
    namespace:
      description: Namespace of the object, empty for cluster-scoped kinds.
      type: str
      sample: metastore
    name:
      description: Name of the object.
      type: str
      sample: hive-site
    action:
      description:
        - V(created), V(updated) or V(unchanged); in check mode what would happen, with RV(results[].check_mode) true.
        - V(skipped) in check mode for an object that cannot be dry-run, see RV(results[].reason).
        - V(failed) for the object that made the module fail.
      type: str
      sample: created
    reason:
      description: Why the object was skipped or failed.
      type: str
      returned: when action is V(skipped) or V(failed)
      sample: namespace metastore does not exist yet (a real run creates it first)
    check_mode:
      description: True when the action is a prediction from a dry run.
      type: bool
      returned: in check mode
      sample: true
  sample: [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "metastore", "name": "hive-site", "action": "created"}]
created:
  description: References (apiVersion, kind, namespace, name) of the objects this run created (in check mode, would create).
  returned: always
  type: list
  elements: dict
  sample: [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "metastore", "name": "hive-site"}]
updated:
  description: References of the existing objects this run changed.
  returned: always
  type: list
  elements: dict
  sample: []
unchanged:
  description: References of the objects that already were as applied.
  returned: always
  type: list
  elements: dict
  sample: []
skipped_objects:
  description:
    - References of the objects check mode could not dry-run (RV(results[].action) V(skipped)).
    - Not called C(skipped), which Ansible would take as "the task was skipped".
  returned: always
  type: list
  elements: dict
  sample: []
absent_namespaces:
  description: Namespaces of O(objects) that do not exist yet (looked up in check mode only; empty otherwise).
  returned: always
  type: list
  elements: str
  sample: [metastore]
inventory:
  description: The inventory ConfigMap and whether this run wrote it.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the ConfigMap.
      type: str
      sample: lakehouse-platform-inventory-hive-metastore
    namespace:
      description: Its namespace, O(state_namespace).
      type: str
      sample: lakehouse-system
    written:
      description: Whether it was written (never in check mode, or when nothing new was to be recorded).
      type: bool
      sample: true
  sample: {"name": "lakehouse-platform-inventory-hive-metastore", "namespace": "lakehouse-system", "written": true}
diff:
  description:
    - With C(--diff), before and after of every created or updated object (without C(managedFields),
      C(resourceVersion), C(generation) and C(status)); Secret values are redacted.
  returned: when diff mode is on and an object changed
  type: list
  elements: dict
  sample: [{"before": {}, "after": {"apiVersion": "v1", "kind": "ConfigMap"}, "before_header": "ConfigMap/metastore/hive-site",
            "after_header": "ConfigMap/metastore/hive-site"}]
"""

import copy
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils import manifests
from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    DEFAULT_FIELD_MANAGER,
    KindNotFound,
    KubeClient,
    KubeError,
    apply_changed,
    apply_in_sync,
    kube_argument_spec,
    record_created,
    redact_secret,
)

CRD_KIND = "CustomResourceDefinition"
CRD_SERVED_TIMEOUT = 30  # seconds a kind whose CRD this run applied may take to be served
HIDDEN_IN_DIFF_METADATA = ("managedFields", "resourceVersion", "generation")


def argument_spec():
    spec = kube_argument_spec()
    spec.update(
        objects=dict(type="list", elements="dict", required=True),
        component=dict(type="str", required=True),
        phase=dict(type="str", required=True),
        field_manager=dict(type="str", default=DEFAULT_FIELD_MANAGER),
        force_conflicts=dict(type="bool", default=True),
        state_namespace=dict(type="str", default="lakehouse-system"),
        record=dict(type="bool", default=True),
        extra_created=dict(type="list", elements="dict", default=[], options=dict(
            apiVersion=dict(type="str", required=True),
            kind=dict(type="str", required=True),
            namespace=dict(type="str"),
            name=dict(type="str", required=True),
        )),
        helm_releases=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            namespace=dict(type="str", required=True),
        )),
    )
    return spec


class ApplyFailed(Exception):
    """An object could not be applied; msg names the component and the object."""


def describe(reference):
    """Kind/namespace/name (Kind/name for cluster-scoped objects)."""
    if reference.get("namespace"):
        return "%s/%s/%s" % (reference["kind"], reference["namespace"], reference["name"])
    return "%s/%s" % (reference["kind"], reference["name"])


def prepare(params):
    """Validate everything without the cluster -> (labelled objects, extra refs, helm releases); raises ValueError."""
    component = params["component"]
    if not component:
        raise ValueError("Option 'component' must not be empty")
    if not params["phase"]:
        raise ValueError("Option 'phase' must not be empty (component %s)" % component)
    labels = manifests.component_labels(component, params["phase"])
    objects = []
    for index, obj in enumerate(params["objects"] or []):
        try:
            labelled = manifests.labelled(obj, labels)
        except manifests.ManifestError as e:
            raise ValueError("Component %s: objects[%d] is not a Kubernetes object: %s" % (component, index, to_native(e)))
        objects.append(labelled)
    with_values = manifests.secret_values(objects)
    if with_values:
        raise ValueError(manifests.secret_values_message(component, with_values))
    extra = []
    for entry in params["extra_created"] or []:
        reference = dict(apiVersion=str(entry["apiVersion"]), kind=str(entry["kind"]),
                         namespace=str(entry.get("namespace") or ""), name=str(entry["name"]))
        if reference not in extra:
            extra.append(reference)
    releases = []
    for entry in params["helm_releases"] or []:
        release = dict(name=str(entry["name"]), namespace=str(entry["namespace"]))
        if release not in releases:
            releases.append(release)
    return objects, extra, releases


def union(known, new):
    """known followed by the entries of new it does not have (the Ansible union filter, order kept)."""
    result = list(known)
    for item in new:
        if item not in result:
            result.append(item)
    return result


def for_diff(obj):
    if obj is None:
        return {}
    if obj.get("kind") == "Secret":
        obj = redact_secret(obj)
    result = copy.deepcopy(obj)
    result.pop("status", None)
    metadata = result.get("metadata") or {}
    for key in HIDDEN_IN_DIFF_METADATA:
        metadata.pop(key, None)
    return result


class ComponentApply(object):
    """Applies one component's objects with one client, collecting the module result."""

    def __init__(self, client, params, check_mode, diff_mode, objects, extra_created, helm_releases):
        self.client = client
        self.params = params
        self.component = params["component"]
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.objects = objects
        self.extra_created = extra_created
        self.helm_releases = helm_releases
        self.field_manager = params["field_manager"] or DEFAULT_FIELD_MANAGER
        self.results = []
        self.diffs = []
        self.absent_namespaces = []
        self.crd_applied = False
        self.inventory = dict(name=manifests.inventory_name(self.component), namespace=params["state_namespace"],
                              written=False)

    # -- the objects -------------------------------------------------------------------------------
    def run(self):
        skips = self._check_mode_skips() if self.check_mode else {}
        for index, obj in enumerate(self.objects):
            reference = manifests.ref(obj)
            if index in skips:
                self._result(reference, "skipped", reason=skips[index])
                continue
            try:
                self._apply_one(obj, reference)
            except KubeError as e:
                self._result(reference, "failed", reason=to_native(e))
                raise ApplyFailed("Component %s: could not apply %s: %s" % (self.component, describe(reference), to_native(e)))

    def _resource(self, obj):
        """Discovery of the object's kind; outside check mode waits a little for a CRD this run applied."""
        deadline = time.monotonic() + CRD_SERVED_TIMEOUT
        while True:
            try:
                return self.client.resource(obj["apiVersion"], obj["kind"])
            except KindNotFound:
                if self.check_mode or not self.crd_applied or time.monotonic() >= deadline:
                    raise
            time.sleep(1)

    def _check_mode_skips(self):
        """{index: reason} of the objects a dry run cannot take: kind not served, namespace absent."""
        skips = {}
        namespaces = []
        namespaced = {}
        for index, obj in enumerate(self.objects):
            try:
                resource = self._resource(obj)
            except KindNotFound as e:
                skips[index] = "kind %s %s is not served yet (its CRD is not installed): %s" % (
                    obj["apiVersion"], obj["kind"], to_native(e))
                continue
            except KubeError as e:
                raise ApplyFailed("Component %s: discovery for %s failed: %s" % (
                    self.component, describe(manifests.ref(obj)), to_native(e)))
            namespace = obj["metadata"].get("namespace")
            if resource.namespaced and namespace:
                namespaced[index] = namespace
                if namespace not in namespaces:
                    namespaces.append(namespace)
        for namespace in namespaces:
            try:
                found = self.client.get("v1", "Namespace", namespace)
            except KubeError as e:
                raise ApplyFailed("Component %s: could not read namespace %s: %s" % (self.component, namespace, to_native(e)))
            if found is None:
                self.absent_namespaces.append(namespace)
        for index, namespace in namespaced.items():
            if namespace in self.absent_namespaces:
                skips[index] = "namespace %s does not exist yet (a real run creates it first)" % namespace
        return skips

    def _apply_one(self, obj, reference):
        try:
            self._resource(obj)
        except KindNotFound as e:
            raise KubeError("kind %s %s is not served by the API server: %s" % (obj["apiVersion"], obj["kind"], to_native(e)))
        metadata = obj["metadata"]
        before = self.client.get(obj["apiVersion"], obj["kind"], metadata["name"], metadata.get("namespace"))
        if before is not None and apply_in_sync(before, obj, self.field_manager):
            self._result(reference, "unchanged")
            return
        after = self.client.apply(obj, dry_run=self.check_mode, field_manager=self.field_manager,
                                  force_conflicts=self.params["force_conflicts"])
        if obj["kind"] == CRD_KIND and not self.check_mode:
            self.crd_applied = True
        if before is None:
            action = "created"
        elif apply_changed(before, after, obj, self.field_manager):
            action = "updated"
        else:
            action = "unchanged"
        self._result(reference, action)
        if self.diff_mode and action != "unchanged":
            header = describe(reference)
            self.diffs.append(dict(before=for_diff(before), after=for_diff(after), before_header=header,
                                   after_header=header))

    def _result(self, reference, action, reason=None):
        entry = dict(reference, action=action)
        if reason:
            entry["reason"] = reason
        if self.check_mode:
            entry["check_mode"] = True
        self.results.append(entry)

    def refs(self, action):
        return [dict((k, r[k]) for k in ("apiVersion", "kind", "namespace", "name")) for r in self.results
                if r["action"] == action]

    # -- the inventory -----------------------------------------------------------------------------
    def record(self):
        """Merge the created refs, extra_created and helm_releases into the inventory; write only if new."""
        if self.check_mode or not self.params["record"]:
            return
        created = union(self.refs("created"), self.extra_created)
        if not created and not self.helm_releases:
            return
        name, namespace = self.inventory["name"], self.inventory["namespace"]
        try:
            written = record_created(self.client, self.component, self.params["phase"], created, self.helm_releases,
                                     state_namespace=namespace, field_manager=self.field_manager)
        except KubeError as e:
            raise ApplyFailed("Component %s: could not write the inventory %s/%s: %s" % (
                self.component, namespace, name, to_native(e)))
        self.inventory["written"] = written

    def result(self):
        created, updated, skipped = self.refs("created"), self.refs("updated"), self.refs("skipped")
        result = dict(
            # a skipped object (check mode) does not exist yet: a real run creates it
            changed=bool(created or updated or skipped or self.inventory["written"]),
            results=self.results,
            created=created,
            updated=updated,
            unchanged=self.refs("unchanged"),
            skipped_objects=skipped,
            absent_namespaces=self.absent_namespaces,
            inventory=self.inventory,
        )
        if self.diff_mode and self.diffs:
            result["diff"] = self.diffs
        return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        objects, extra_created, helm_releases = prepare(module.params)
    except ValueError as e:
        module.fail_json(msg=to_native(e))

    try:
        client = KubeClient.from_module(module)
    except KubeError as e:
        module.fail_json(msg="Component %s: %s" % (module.params["component"], to_native(e)))
    run = ComponentApply(client, module.params, module.check_mode, module._diff, objects, extra_created, helm_releases)
    try:
        run.run()
    except ApplyFailed as e:
        try:
            run.record()  # what was created before the failure must still be rolled back
        except ApplyFailed as record_error:
            module.warn(to_native(record_error))
        module.fail_json(msg=to_native(e), **run.result())
    try:
        run.record()
    except ApplyFailed as e:
        module.fail_json(msg=to_native(e), **run.result())
    result = run.result()
    reasons = {}
    for entry in result["results"]:
        if entry.get("action") == "skipped":
            reasons.setdefault(entry.get("reason", ""), []).append("%s/%s" % (entry["kind"], entry["name"]))
    for reason, names in sorted(reasons.items()):
        # Said out loud: these objects are in the change set of the check run but were not validated by the server.
        module.warn("Component %s: %s would be created without a server dry run: %s" % (
            module.params["component"], ", ".join(names), reason))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
