# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the manifests role uses to name, reference and label Kubernetes objects.

Render and apply both start from the same labelled object list; these filters keep the
naming of files and inventory entries in one place so both modes agree.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.lakehouse.platform.plugins.module_utils import manifests as _manifests


def _wrap(func):
    def filter_function(*args):
        try:
            return func(*args)
        except _manifests.ManifestError as err:
            raise AnsibleFilterError(str(err))
    filter_function.__name__ = func.__name__
    filter_function.__doc__ = func.__doc__
    return filter_function


manifest_filename = _wrap(_manifests.filename)
manifest_ref = _wrap(_manifests.ref)
manifest_labelled = _wrap(_manifests.labelled)


class FilterModule(object):
    def filters(self):
        return {
            "manifest_filename": manifest_filename,
            "manifest_ref": manifest_ref,
            "manifest_labelled": manifest_labelled,
        }
