# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Attribute documentation shared by the collection's modules. Use DOCUMENTATION together with one
# of the support fragments (CHECK_MODE_FULL + DIFF_FULL for modules that change things, INFO_MODULE
# for read-only ones) and K8S_ACTION_GROUP for members of the k8s action group.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and predict whether it would change something, without changing it.
  diff_mode:
    description: Returns what changed (or would change in check mode) as before and after, when run with C(--diff).
  idempotent:
    description:
      - A second run with the same arguments, outside check mode, reports no change.
      - Assumes that nothing else changed the target in between.
"""

    CHECK_MODE_FULL = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - No write reaches the target. Kubernetes writes are sent only as server-side dry runs
        (C(dryRun=All)), which the API server validates and answers without storing anything.
"""

    DIFF_FULL = r"""
options: {}
attributes:
  diff_mode:
    support: full
    details:
      - Secret values are replaced by a redaction marker in before and after.
  idempotent:
    support: full
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    K8S_ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/lakehouse.platform.k8s) in C(module_defaults) to set the Kubernetes connection options once.
    support: full
    membership:
      - lakehouse.platform.k8s
"""
