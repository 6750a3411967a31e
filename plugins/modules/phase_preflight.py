#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: phase_preflight
short_description: Check a phase can start (variables, capacity, health, trigger, prerequisites), then take the run lock
version_added: 0.2.0
description:
  - The one task of the C(lakehouse.platform.preflight) role. A refusal anywhere before the lock changes nothing,
    and states the measured figure and the threshold.
  - First the checks that read only variables - the mode and the components, a budget for every enabled component
    and their sum (each quantity checked, naming the variable such as C(hive_metastore_budget.pods[0].cpu)), the
    lock time-to-live, the trigger threshold, the length of a given override reason, the declared capacity of
    render mode.
  - Then the measurement - M(lakehouse.platform.platform_capacity_info) in apply mode (with the prerequisites in the
    same call), the same code on O(declared_capacity) in render mode - and the checks of the budget's fit (per
    node and with the capacity buffer), the platform health, the phase trigger (below it O(override_reason) is
    required and recorded, who, when and why) and the prerequisites.
  - Finally, in apply mode, the run lock, a C(coordination.k8s.io/v1) Lease (M(lakehouse.platform.run_lock); check
    mode reads and decides, and writes nothing).
  - Sets the facts C(preflight_run) (run id, operator, budget, capacity, trigger, override, lock, service monitors),
    C(preflight_lock), C(preflight_budget), C(preflight_capacity), and starts C(platform_validations) and
    C(phase_checks) empty.
  - Hand-written because these checks are this collection's own; the cluster is read and locked through
    kubernetes.core's client. The action plugin does the work; this file holds its documentation.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  mode:
    description: V(apply) measures and locks the cluster, V(render) uses O(declared_capacity).
    type: str
    required: true
  phase:
    description: The phase.
    type: str
    required: true
  components:
    description: The phase's components in stage order.
    type: list
    elements: str
    required: true
  budgets:
    description:
      - The budgets of the enabled components, C({component -> budget}) (the phase plan's).
      - Without it, C(<component>_enabled) and C(<component>_budget) are read from the play's variables.
    type: dict
  state_namespace:
    description: Namespace of the run lock.
    type: str
    default: lakehouse-system
  lock_name:
    description: Name of the run lock's Lease.
    type: str
    default: lakehouse-platform-run
  lock_ttl:
    description: Seconds after which a lock left by a crashed run is stale and may be taken over.
    type: raw
    default: 3600
  triggers:
    description: Per phase, C(storage_used), the storage use below which the phase needs O(override_reason).
    type: dict
    default: {}
  override_reason:
    description: A written justification for starting below the trigger.
    type: str
    default: ""
  override_min_length:
    description: The least length of O(override_reason).
    type: raw
    default: 20
  operator:
    description: Who runs the phase (recorded with the lock and an override).
    type: str
    required: true
  headroom_percent:
    description: Percent of the free capacity kept as a buffer.
    type: raw
    default: 30
  min_health_percent:
    description: The least platform health (percent of healthy pods) the phase starts on.
    type: raw
    default: 0
  declared_capacity:
    description: Render mode's capacity, C(platform_declared_capacity).
    type: dict
    default: {}
  prerequisites:
    description: What the phase needs on the cluster (the phase plan's), read and judged in apply mode.
    type: list
    elements: dict
    default: []
  service_monitors:
    description: V(true), V(false) or V(auto) (V(true) when apply mode found the ServiceMonitor CRD).
    type: str
    default: "false"
  run_id:
    description: The run's id (the AWX job id); a time stamp and a random number without it.
    type: str
    default: ""
extends_documentation_fragment:
  - lakehouse.platform.k8s_auth
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.CHECK_MODE_FULL
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
attributes:
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Each run takes the run lock anew (a Lease with this run's holder), so it reports a change in apply mode.
seealso:
  - module: lakehouse.platform.platform_capacity_info
  - module: lakehouse.platform.run_lock
"""

EXAMPLES = r"""
- name: Check the phase can start, then take the run lock
  lakehouse.platform.phase_preflight:
    mode: apply
    phase: phase1
    components: [s3_storage, postgres, hive_metastore]
    budgets: "{{ platform_plan.budgets }}"
    operator: "{{ platform_operator }}"
    triggers: {phase1: {storage_used: 200Gi}}
"""

RETURN = r"""
ansible_facts:
  description: C(preflight_run) and the other facts listed above.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lakehouse.platform.plugins.module_utils.kube import kube_argument_spec


def main():
    spec = kube_argument_spec()
    spec.update(
        mode=dict(type="str", required=True),
        phase=dict(type="str", required=True),
        components=dict(type="list", elements="str", required=True),
        budgets=dict(type="dict"),
        state_namespace=dict(type="str", default="lakehouse-system"),
        lock_name=dict(type="str", default="lakehouse-platform-run"),
        lock_ttl=dict(type="raw", default=3600),
        triggers=dict(type="dict", default={}),
        override_reason=dict(type="str", default=""),
        override_min_length=dict(type="raw", default=20),
        operator=dict(type="str", required=True),
        headroom_percent=dict(type="raw", default=30),
        min_health_percent=dict(type="raw", default=0),
        declared_capacity=dict(type="dict", default={}),
        prerequisites=dict(type="list", elements="dict", default=[]),
        service_monitors=dict(type="str", default="false"),
        run_id=dict(type="str", default=""),
    )
    AnsibleModule(argument_spec=spec, supports_check_mode=True).fail_json(
        msg="lakehouse.platform.phase_preflight runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
