# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument spec of the actions that run a step the component roles declare as data (component_apply,
component_wait): the Kubernetes connection options, then steps, component, part and roles_dir (documented by
the lakehouse.platform.component_steps doc fragment)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

STEP_SPEC = dict(
    steps=dict(type="list", elements="dict"),
    component=dict(type="str"),
    part=dict(type="str"),
    roles_dir=dict(type="path"),
)


def component_steps_argument_spec(**extra):
    # Imported here: the actions that read STEP_SPEC in the controller must not import the Kubernetes client
    # (module_utils/kube imports it), which a render run never needs.
    from ansible_collections.lakehouse.platform.plugins.module_utils.kube import kube_argument_spec

    spec = kube_argument_spec()
    spec.update(STEP_SPEC)
    spec.update(extra)
    return spec
