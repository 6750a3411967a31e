# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ingress of a component's UI (lakehouse.platform.ui_ingress): the runbook's "Service URLs"
(https://<ui>.<domain>) as one networking.k8s.io/v1 Ingress, or none when no host is set."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")


def ui_ingress(host, name, namespace, service, port, tls=True, class_name="", annotations=None):
    """[Ingress] routing https://<host>/ to <service>:<port> in <namespace> ([] when host is empty). With ``tls``,
    the certificate is read from the Secret <name>-tls (cert-manager makes it from the annotations, or the user)."""
    if not host:
        return []
    host = str(host)
    if not _HOST.match(host):
        raise AnsibleFilterError("ui_ingress %s: host %r must be a DNS name such as %s.example.com (from "
                                 "platform_ingress_domain)" % (name, host, name))
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise AnsibleFilterError("ui_ingress %s: port %r must be a number" % (name, port))
    backend = {"service": {"name": str(service), "port": {"number": number}}}
    spec = {"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}]}
    if class_name:
        spec["ingressClassName"] = str(class_name)
    if tls:
        spec["tls"] = [{"hosts": [host], "secretName": "%s-tls" % name}]
    metadata = {"name": name, "namespace": str(namespace)}
    if annotations:
        metadata["annotations"] = dict((str(k), str(v)) for k, v in annotations.items())
    return [{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec}]


class FilterModule(object):
    def filters(self):
        return {"ui_ingress": ui_ingress}
