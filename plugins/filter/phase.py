# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tags of a phase, from the phase catalog (playbooks/vars/phases.yml).

The phase role tags its deploy block with ``phase_tags`` and its rollback block with
``phase_rollback_tags``, so ``--tags <component>``, ``--tags objective_<x>_<y>``,
``--tags rollback_<component>`` and ``--list-tags`` work from the catalog alone.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.module_utils import phase_catalog


def _entry(catalog, phase):
    try:
        phases = phase_catalog.normalise(catalog)
    except phase_catalog.CatalogError as err:
        raise AnsibleFilterError("phase catalog: %s" % err)
    if phase not in phases:
        raise AnsibleFilterError("%r is not a phase of the catalog (phases: %s)" % (phase, ", ".join(sorted(phases))))
    return phases[phase]


def phase_tags(catalog, phase):
    """Every tag that selects a component of ``phase`` for deployment."""
    return phase_catalog.deploy_tags(_entry(catalog, phase))


def phase_rollback_tags(catalog, phase):
    """``never``, ``rollback`` and every ``rollback_<component>`` tag of ``phase``."""
    return phase_catalog.rollback_tags(_entry(catalog, phase))


def phase_components(catalog, phase):
    """The components of ``phase`` in stage order."""
    return list(_entry(catalog, phase)["components"])


class FilterModule(object):
    def filters(self):
        return {
            "phase_tags": phase_tags,
            "phase_rollback_tags": phase_rollback_tags,
            "phase_components": phase_components,
        }
