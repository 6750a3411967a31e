#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_info
short_description: kubernetes.core.k8s_info, run in the task's worker process
version_added: 0.2.0
description:
  - The read of M(kubernetes.core.k8s_info) (the same options, its client and its service layer's C(find), the
    same results), run by this collection's action plugin inside the task's worker process when the
    connection is local and the host's Python is the controller's, else as a separate process like any module.
    The roles use it for their reads (workloads of a release, the objectives ConfigMap) so a read costs a
    request, not a new Python process.
  - Only the argument spec and the call of the service layer are written here (kubernetes.core keeps them in
    its module file, which another module cannot import); see M(kubernetes.core.k8s_info) for the details of
    every option and return value.
  - A member of the C(lakehouse.platform.k8s) action group.
author:
  - lakehouse.platform contributors (@lakehouse-platform)
options:
  kind:
    description:
      - Kind of the objects to read (as for M(kubernetes.core.k8s_info)).
    type: str
    required: true
  label_selectors:
    description: List of label selectors to filter the objects by.
    type: list
    elements: str
    default: []
  field_selectors:
    description: List of field selectors to filter the objects by.
    type: list
    elements: str
    default: []
  hidden_fields:
    description: Fields to leave out of the returned objects, for example V(metadata.managedFields).
    type: list
    elements: str
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - kubernetes.core.k8s_name_options
  - kubernetes.core.k8s_wait_options
  - lakehouse.platform.attributes
  - lakehouse.platform.attributes.INFO_MODULE
  - lakehouse.platform.attributes.K8S_ACTION_GROUP
requirements:
  - kubernetes.core (the collection) and the kubernetes Python client
seealso:
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Read the StatefulSets of a release
  lakehouse.platform.k8s_info:
    api_version: apps/v1
    kind: StatefulSet
    namespace: data-platform
    label_selectors: [app.kubernetes.io/instance=kafka]
  register: sts
"""

RETURN = r"""
resources:
  description: The objects read (as M(kubernetes.core.k8s_info) returns them).
  returned: success
  type: list
  elements: dict
api_found:
  description: Whether the API of O(kind) was found.
  returned: success
  type: bool
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.ansiblemodule import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC, WAIT_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService


def argument_spec():
    """kubernetes.core.k8s_info's options: its auth and wait options and its selectors."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(WAIT_ARG_SPEC))
    spec.update(
        kind=dict(type="str", required=True),
        api_version=dict(type="str", default="v1", aliases=["api", "version"]),
        name=dict(type="str"),
        namespace=dict(type="str"),
        label_selectors=dict(type="list", elements="str", default=[]),
        field_selectors=dict(type="list", elements="str", default=[]),
        hidden_fields=dict(type="list", elements="str"),
    )
    return spec


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        service = K8sService(get_api_client(module), module)
        found = service.find(
            params["kind"], params["api_version"], name=params["name"], namespace=params["namespace"],
            label_selectors=params["label_selectors"], field_selectors=params["field_selectors"],
            wait=params["wait"], wait_sleep=params["wait_sleep"], wait_timeout=params["wait_timeout"],
            condition=params["wait_condition"], hidden_fields=params["hidden_fields"])
    except CoreException as err:
        module.fail_from_exception(err)
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
