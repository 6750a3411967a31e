# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DorisCluster a role renders or applies, built by the same module_utils code as the
lakehouse.platform.doris_cluster module, so the rendered manifest, the applied object and what the
module ensures are one definition (and a bad option fails before any request, naming the option)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.module_utils import doris


def doris_cluster_manifest(components, name, namespace, auth_secret=None, spec=None):
    """``components``: {fe: {...}, be: {...}, cn: {...}, broker: {...}} with the doris_cluster module's
    component options (image, replicas, requests, limits, storage_size, storage_class, election_number)."""
    if not isinstance(components, dict):
        raise AnsibleFilterError("doris_cluster_manifest expects {fe: {...}, be: {...}}, got %s"
                                 % type(components).__name__)
    unknown = sorted(set(components) - set(doris.COMPONENTS))
    if unknown:
        raise AnsibleFilterError("doris_cluster_manifest: unknown component(s) %s (known: %s)"
                                 % (", ".join(unknown), ", ".join(doris.COMPONENTS)))
    chosen = dict((key, dict(value)) for key, value in components.items() if value)
    try:
        return doris.build_cluster(name, namespace, chosen, auth_secret=auth_secret or None, extra_spec=spec or None)
    except doris.DorisSpecError as error:
        raise AnsibleFilterError("DorisCluster %s/%s: %s" % (namespace, name, error))


class FilterModule(object):
    def filters(self):
        return {"doris_cluster_manifest": doris_cluster_manifest}
