# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ServiceMonitors of a component (lakehouse.platform.service_monitors): the Prometheus operator's
monitoring.coreos.com/v1 ServiceMonitor per metrics endpoint the component's role declares, or none while
platform_service_monitors leaves them off."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.six import string_types

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")
_KEYS = ("name", "selector", "ports", "path", "interval", "scheme")


def service_monitors(specs, namespace, enabled=True, labels=None):
    """[ServiceMonitor] for each spec {name, selector (the Service's labels), ports (names of the Service's
    ports), path, interval, scheme} in ``namespace``, or [] when not ``enabled``. ``labels`` go on every
    ServiceMonitor (the Prometheus resource's serviceMonitorSelector, such as release: kube-prometheus-stack)."""
    if not enabled or enabled in ("false", "False"):
        return []
    if not is_sequence(specs):
        raise AnsibleFilterError("service_monitors: expects a list of endpoints, got %s" % type(specs).__name__)
    if labels is not None and not isinstance(labels, dict):
        raise AnsibleFilterError("service_monitors: platform_service_monitor_labels must be a mapping, got %s"
                                 % type(labels).__name__)
    monitors = []
    for index, spec in enumerate(specs):
        where = "service_monitors[%d]" % index
        if not isinstance(spec, dict):
            raise AnsibleFilterError("%s: must be a mapping, got %s" % (where, type(spec).__name__))
        unknown = sorted(set(spec) - set(_KEYS))
        if unknown:
            raise AnsibleFilterError("%s: unknown key(s) %s (known: %s)" % (where, ", ".join(unknown), ", ".join(_KEYS)))
        name = str(spec.get("name") or "")
        if not _NAME.match(name) or len(name) > 63:
            raise AnsibleFilterError("%s: name %r must be a DNS label (lower case, digits, '-')" % (where, name))
        selector = spec.get("selector")
        if not isinstance(selector, dict) or not selector:
            raise AnsibleFilterError("%s (%s): selector must name the Service's labels, got %r" % (where, name, selector))
        ports = spec.get("ports")
        if isinstance(ports, string_types) or not is_sequence(ports) or not ports:
            raise AnsibleFilterError("%s (%s): ports must list the names of the Service's metrics ports, got %r"
                                     % (where, name, ports))
        interval = str(spec.get("interval") or "30s")
        if not _DURATION.match(interval):
            raise AnsibleFilterError("%s (%s): interval %r is not a duration such as 30s or 1m" % (where, name, interval))
        path = str(spec.get("path") or "/metrics")
        if not path.startswith("/"):
            raise AnsibleFilterError("%s (%s): path %r must start with /" % (where, name, path))
        scheme = str(spec.get("scheme") or "http")
        if scheme not in ("http", "https"):
            raise AnsibleFilterError("%s (%s): scheme %r must be http or https" % (where, name, scheme))
        metadata = {"name": name, "namespace": str(namespace)}
        if labels:
            metadata["labels"] = dict((str(k), str(v)) for k, v in labels.items())
        monitors.append({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": metadata,
            "spec": {
                "selector": {"matchLabels": dict((str(k), str(v)) for k, v in selector.items())},
                "namespaceSelector": {"matchNames": [str(namespace)]},
                "endpoints": [{"port": str(port), "path": path, "interval": interval, "scheme": scheme}
                              for port in ports],
            },
        })
    return monitors


class FilterModule(object):
    def filters(self):
        return {"service_monitors": service_monitors}
