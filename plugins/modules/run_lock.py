#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: run_lock
short_description: Take or release the platform's run lock, a coordination.k8s.io/v1 Lease
version_added: 0.2.0
description:
  - Takes (O(state=acquired)) or releases (O(state=released)) the Lease that keeps two phase runs from
    changing the platform at the same time, in one call instead of a read, a decision and a write as
    separate tasks.
  - Taking it reads the Lease first. Another holder's Lease younger than O(ttl) seconds is a refusal naming
    the holder, its phase and its age. An absent Lease is created (HTTP 409 when another run created it
    first); our own or a stale one is replaced carrying the resourceVersion that was read (409 when it
    changed meanwhile). Two runs can never both win.
  - The state namespace is created when it does not exist; when it does, it is not written (a rerun sends
    no write besides the Lease).
  - Releasing deletes the Lease only when this run (O(holder)) still holds it.
  - Hand-written because kubernetes.core has no compare-and-swap of an object against the
    resourceVersion read in the same call; the requests go through kubernetes.core's client.
  - Taking or releasing the lock is not a change to the platform, so the module always reports
    RV(ignore:changed=false).
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  state:
    description:
      - V(acquired) takes the lock (or refuses), V(released) gives it back.
    type: str
    choices: [acquired, released]
    default: acquired
  name:
    description: Name of the Lease.
    type: str
    default: lakehouse-platform-run
  namespace:
    description: Namespace of the Lease (the platform's state namespace).
    type: str
    required: true
  holder:
    description: Identity of this run, stored as C(spec.holderIdentity), for example V(alice/20261202T101500Z-42).
    type: str
    required: true
  ttl:
    description: Seconds after which another holder's lock counts as stale and is taken over.
    type: int
    default: 7200
  annotations:
    description: Annotations of the Lease (phase, operator, since, action), shown to a run that is refused.
    type: dict
    default: {}
  labels:
    description: Labels of the Lease and, when it is created, of the state namespace.
    type: dict
    default: {}
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.CHECK_MODE_FULL
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
attributes:
  check_mode:
    details: The Lease is read and the decision reported (a refusal fails as it would); nothing is written.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: A rerun by the same holder replaces its own Lease (renewing it); the platform is not changed.
notes:
  - The Lease's C(spec.acquireTime) is the age the next run measures; C(leaseDurationSeconds) is O(ttl).
"""

EXAMPLES = r"""
- name: Take the run lock
  lakehouse.platform.run_lock:
    namespace: lakehouse-system
    holder: "alice/{{ run_id }}"
    ttl: 7200
    annotations:
      lakehouse.platform/phase: phase3
  register: lock

- name: Release it
  lakehouse.platform.run_lock:
    state: released
    namespace: lakehouse-system
    holder: "alice/{{ run_id }}"
"""

RETURN = r"""
held:
  description: The Lease as it was read before this call.
  returned: always
  type: dict
  contains:
    exists: {description: Whether the Lease existed., type: bool}
    holder: {description: Its holder identity (empty when none)., type: str}
    phase: {description: The phase annotation of the holder's run., type: str}
    since: {description: "When the holder's run started (its annotation, or the acquire time).", type: str}
    age: {description: Seconds since the holder acquired it., type: int}
  sample: {"exists": true, "holder": "bob/20261202T090000Z-7", "phase": "phase1", "since": "2026-12-02T09:00:00Z", "age": 9000}
taken:
  description: Whether this run holds the lock now (false in check mode and after a release).
  returned: always
  type: bool
took_over:
  description: The holder of the stale lock this run took over, empty when none.
  returned: state=acquired
  type: str
released:
  description: Whether the Lease was deleted.
  returned: state=released
  type: bool
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lakehouse.platform.plugins.module_utils.kube import (
    KubeClient,
    KubeError,
    kube_argument_spec,
)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(text):
    """A Lease's MicroTime ('2026-12-02T10:15:00.123456Z', or without the fraction) as an aware datetime."""
    if not text:
        return None
    text = text.strip().replace("+00:00", "Z")
    for pattern in (TIME_FORMAT, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.datetime.strptime(text, pattern).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            continue
    return None


def held_of(lease, now):
    """What a run reads of an existing Lease (or of none)."""
    if lease is None:
        return {"exists": False, "holder": "", "phase": "", "since": "", "age": 0, "resource_version": ""}
    spec = lease.get("spec") or {}
    meta = lease.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    acquired = spec.get("acquireTime") or ""
    when = parse_time(acquired)
    age = int((now - when).total_seconds()) if when else 0
    return {
        "exists": True,
        "holder": spec.get("holderIdentity") or "",
        "phase": annotations.get("lakehouse.platform/phase", "?"),
        "since": annotations.get("lakehouse.platform/since", acquired or "?"),
        "age": age,
        "resource_version": meta.get("resourceVersion") or "",
    }


def refusal(held, holder, ttl, namespace, name):
    """The refusal message when another live run holds the lock, else None."""
    if not held["exists"] or not held["holder"] or held["holder"] == holder or held["age"] > ttl:
        return None
    return ("the run lock %s/%s is held by %s (phase %s, since %s, %ss ago); it becomes stale after "
            "platform_lock_ttl=%ss. Wait for that run, or delete the Lease if it is dead."
            % (namespace, name, held["holder"], held["phase"], held["since"], held["age"], ttl))


def lease_definition(params, held, now):
    stamp = now.strftime(TIME_FORMAT)
    metadata = {"name": params["name"], "namespace": params["namespace"],
                "labels": dict(params["labels"] or {}), "annotations": dict(params["annotations"] or {})}
    if held["exists"]:
        metadata["resourceVersion"] = held["resource_version"]
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
            "spec": {"holderIdentity": params["holder"], "acquireTime": stamp, "renewTime": stamp,
                     "leaseDurationSeconds": params["ttl"]}}


def acquire(module, client, params):
    now = _now()
    held = held_of(client.get("coordination.k8s.io/v1", "Lease", params["name"], params["namespace"]), now)
    public = dict((k, v) for k, v in held.items() if k != "resource_version")
    refused = refusal(held, params["holder"], params["ttl"], params["namespace"], params["name"])
    if refused:
        phase = (params["annotations"] or {}).get("lakehouse.platform/phase")
        module.fail_json(msg=("%s: %s" % (phase, refused)) if phase else refused, held=public, taken=False)
    took_over = held["holder"] if held["exists"] and held["holder"] and held["holder"] != params["holder"] else ""
    if took_over:
        module.warn("Taking over the stale run lock of %s (phase %s, %ss old, platform_lock_ttl=%ss)."
                    % (took_over, held["phase"], held["age"], params["ttl"]))
    if module.check_mode:
        return dict(changed=False, held=public, taken=False, took_over=took_over)
    if client.get("v1", "Namespace", params["namespace"]) is None:
        try:
            client.create({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": params["namespace"], "labels": dict(params["labels"] or {})}})
        except KubeError as e:
            if e.status != 409:  # created meanwhile by another run: fine
                raise
    definition = lease_definition(params, held, now)
    try:
        if held["exists"]:
            client.replace(definition)
        else:
            client.create(definition)
    except KubeError as e:
        module.fail_json(msg="could not take the run lock %s/%s (another run took it first, or the API refused): %s"
                         % (params["namespace"], params["name"], to_native(e)), held=public, taken=False)
    return dict(changed=False, held=public, taken=True, took_over=took_over)


def release(module, client, params):
    held = held_of(client.get("coordination.k8s.io/v1", "Lease", params["name"], params["namespace"]), _now())
    public = dict((k, v) for k, v in held.items() if k != "resource_version")
    ours = held["exists"] and held["holder"] == params["holder"]
    if ours and not module.check_mode:
        client.delete("coordination.k8s.io/v1", "Lease", params["name"], params["namespace"])
    return dict(changed=False, held=public, taken=False, released=bool(ours and not module.check_mode))


def main():
    spec = kube_argument_spec()
    spec.update(
        state=dict(type="str", choices=["acquired", "released"], default="acquired"),
        name=dict(type="str", default="lakehouse-platform-run"),
        namespace=dict(type="str", required=True),
        holder=dict(type="str", required=True),
        ttl=dict(type="int", default=7200),
        annotations=dict(type="dict", default={}),
        labels=dict(type="dict", default={}),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    if params["ttl"] < 1:
        module.fail_json(msg="Option 'ttl' must be 1 or more seconds, got %d" % params["ttl"])
    if not params["holder"].strip():
        module.fail_json(msg="Option 'holder' must not be empty")
    try:
        client = KubeClient.from_module(module)
        result = acquire(module, client, params) if params["state"] == "acquired" else release(module, client, params)
    except KubeError as e:
        module.fail_json(msg="run lock %s/%s: %s" % (params["namespace"], params["name"], to_native(e)))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
