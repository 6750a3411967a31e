# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Kubernetes API connection options. The names, types, aliases and K8S_AUTH_* environment variables
# are those of kubernetes.core (module_utils/kube.py reuses its AUTH_ARG_SPEC), so module_defaults
# and AWX credentials written for kubernetes.core work unchanged.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  host:
    description:
      - URL of the Kubernetes API server.
      - Falls back to the E(K8S_AUTH_HOST) environment variable.
    type: str
  api_key:
    description:
      - Bearer token sent to the API server.
      - Falls back to the E(K8S_AUTH_API_KEY) environment variable (set by the AWX "OpenShift or
        Kubernetes API Bearer Token" credential).
    type: str
  kubeconfig:
    description:
      - Path of a kubeconfig file, or the kubeconfig content as a dictionary.
      - Several files can be given separated by V(:) (V(;) on Windows).
      - Falls back to the E(K8S_AUTH_KUBECONFIG) environment variable. When neither this nor
        O(host) with credentials is set, the in-cluster service account is tried, then C(~/.kube/config).
    type: raw
  context:
    description:
      - Name of the kubeconfig context to use.
      - Falls back to the E(K8S_AUTH_CONTEXT) environment variable.
    type: str
  username:
    description:
      - User name for HTTP basic authentication (only for API servers configured for it).
      - Falls back to the E(K8S_AUTH_USERNAME) environment variable.
    type: str
  password:
    description:
      - Password for HTTP basic authentication, see O(username).
      - Falls back to the E(K8S_AUTH_PASSWORD) environment variable.
    type: str
  client_cert:
    description:
      - Path of a client certificate used to authenticate to the API server.
      - Falls back to the E(K8S_AUTH_CERT_FILE) environment variable.
    type: path
    aliases: [ cert_file ]
  client_key:
    description:
      - Path of the key of O(client_cert).
      - Falls back to the E(K8S_AUTH_KEY_FILE) environment variable.
    type: path
    aliases: [ key_file ]
  ca_cert:
    description:
      - Path of the CA certificate (full chain) that signed the API server's certificate.
      - Falls back to the E(K8S_AUTH_SSL_CA_CERT) environment variable.
    type: path
    aliases: [ ssl_ca_cert ]
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate.
      - Falls back to the E(K8S_AUTH_VERIFY_SSL) environment variable.
    type: bool
    aliases: [ verify_ssl ]
  proxy:
    description:
      - URL of an HTTP proxy for API requests.
      - Falls back to the E(K8S_AUTH_PROXY) environment variable; E(HTTP_PROXY) is not read.
    type: str
  no_proxy:
    description:
      - Comma separated hosts, domains, IP addresses or CIDRs reached without O(proxy),
        for example V(localhost,.svc,10.0.0.0/8).
      - Falls back to the E(K8S_AUTH_NO_PROXY) environment variable; E(NO_PROXY) is not read.
    type: str
  proxy_headers:
    description:
      - Headers sent to the HTTP proxy.
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - V(user:password) for the proxy's basic authentication.
          - Falls back to the E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH) environment variable.
        type: str
      basic_auth:
        description:
          - V(user:password) for a basic authentication header.
          - Falls back to the E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH) environment variable.
        type: str
      user_agent:
        description:
          - User-Agent header value, for example V(lakehouse/1.0).
          - Falls back to the E(K8S_AUTH_PROXY_HEADERS_USER_AGENT) environment variable.
        type: str
  persist_config:
    description:
      - Whether to write refreshed tokens (OIDC and similar auth providers) back to the kubeconfig file.
      - Falls back to the E(K8S_AUTH_PERSIST_CONFIG) environment variable. Not saved when unset.
    type: bool
  impersonate_user:
    description:
      - User name to act as (C(Impersonate-User) header).
      - Falls back to the E(K8S_AUTH_IMPERSONATE_USER) environment variable.
    type: str
  impersonate_groups:
    description:
      - Groups to act as (C(Impersonate-Group) headers).
      - Falls back to the E(K8S_AUTH_IMPERSONATE_GROUPS) environment variable, comma separated.
    type: list
    elements: str
notes:
  - Authentication is resolved by the kubernetes.core collection's client code; first
    the module options, then E(K8S_AUTH_*) environment variables, then kubeconfig, then the in-cluster service account.
  - With O(validate_certs=true), give the whole CA chain in O(ca_cert) or in the kubeconfig.
  - All Kubernetes-facing modules of this collection are in the action group C(lakehouse.platform.k8s),
    so C(module_defaults) can set these options once per play.
requirements:
  - kubernetes >= 24.2.0 (Python library)
  - PyYAML >= 3.11
  - kubernetes.core collection
"""
