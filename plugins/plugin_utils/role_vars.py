# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variables a role of this collection would see, for an action that runs a component's step as data.

Layers, lowest first, as Ansible orders them for a role: the defaults of the helper roles (chart_release), the
component role's defaults, the task's variables (inventory, play, facts, extra vars), the helper roles' vars
and the component role's vars, then the extra vars again (they win over role vars). Each role's files are read
once per action run.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.lakehouse.platform.plugins.module_utils.component_steps import STEP_SPEC

try:  # kubernetes.core's auth options (module_utils/kube's kube_argument_spec), without importing the client
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
except ImportError:  # pragma: no cover - the modules report the missing collection
    AUTH_ARG_SPEC = {}

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# The Kubernetes connection options (module_defaults of the lakehouse.platform.k8s group), passed on as given, and
# the options of the actions that run a component step declared as data.
AUTH_OPTIONS = tuple(sorted(AUTH_ARG_SPEC))
STEP_OPTIONS = tuple(sorted(set(AUTH_OPTIONS) | set(STEP_SPEC)))


class StepFailure(Exception):
    """A component's step failed: the component, the message (naming it), the result of what failed."""

    def __init__(self, component, message, result=None):
        super(StepFailure, self).__init__(message)
        self.component = component
        self.result = result or {}


class RoleVariables(object):
    def __init__(self, loader, templar, roles_dir=None, helpers=("chart_release",)):
        self._loader = loader
        self._templar = templar
        self.roles_dir = roles_dir or os.path.join(COLLECTION_ROOT, "roles")
        self._helpers = tuple(helpers)
        self._layers = {}
        self._extra = None

    def _load(self, path):
        if not os.path.exists(path):
            return {}
        # unsafe: no deep copy (these files are only read, never changed)
        return self._loader.load_from_file(path, unsafe=True, trusted_as_template=True) or {}

    def layers(self, role):
        """(defaults, vars) of a role; ({}, {}) for a name that is no role of the collection."""
        if role not in self._layers:
            path = os.path.join(self.roles_dir, role)
            if not os.path.isdir(os.path.join(path, "tasks")):
                self._layers[role] = ({}, {})
            else:
                self._layers[role] = (self._load(os.path.join(path, "defaults", "main.yml")),
                                      self._load(os.path.join(path, "vars", "main.yml")))
        return self._layers[role]

    def role_path(self, role):
        return os.path.join(self.roles_dir, role)

    def declares(self, role, name):
        """Whether the role's vars/main.yml declares ``name``."""
        return name in self.layers(role)[1]

    def extra_vars(self):
        if self._extra is None:
            try:
                from ansible.utils.vars import load_extra_vars
                self._extra = load_extra_vars(self._loader)
            except Exception:  # pylint: disable=broad-except
                self._extra = {}
        return self._extra

    def templar_for(self, component, task_vars, overrides=None):
        """(templar, variables) of ``component``'s role with ``overrides`` (set last)."""
        merged = {}
        for helper in self._helpers:
            merged.update(self.layers(helper)[0])
        defaults, role_vars = self.layers(component)
        merged.update(defaults)
        merged.update(task_vars)
        for helper in self._helpers:
            merged.update(self.layers(helper)[1])
        merged.update(role_vars)
        merged.update(self.extra_vars())
        merged.update(overrides or {})
        return self._templar.copy_with_new_env(available_variables=merged), merged


def kube_action_group():
    """The modules of this collection's ``k8s`` action group (meta/runtime.yml), which take the Kubernetes
    connection options of the group's module_defaults."""
    import yaml
    with open(os.path.join(COLLECTION_ROOT, "meta", "runtime.yml")) as handle:
        return list((yaml.safe_load(handle).get("action_groups") or {}).get("k8s") or [])


def step_arguments(name, args, allowed):
    """(steps, auth, error) of the arguments of the action ``name`` that runs component steps: the steps given, or
    the one ``component`` (and ``part``); the Kubernetes connection options given; a message naming what is wrong
    (an unknown option, a step that is no {component, part}), else None."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        return None, None, "%s: unsupported option(s) %s" % (name, ", ".join(unknown))
    steps = args.get("steps")
    if steps is None:
        if not args.get("component"):
            return None, None, "%s: give steps or component" % name
        steps = [{"component": args["component"], "part": args.get("part")}]
    for step in steps:
        if not isinstance(step, dict) or not step.get("component"):
            return None, None, "%s: a step is {component, part}, got %r" % (name, step)
    auth = dict((key, args[key]) for key in AUTH_OPTIONS if args.get(key) is not None)
    return steps, auth, None


def step_part(step):
    """The part of a step as the roles' platform_component_stage has it, None for the whole component."""
    part = step.get("part")
    return None if part in (None, "") else str(part)
