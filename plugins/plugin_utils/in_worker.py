# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of this collection's modules inside the task's worker process instead of a new Python.

Why: the playbooks of this collection run on ``localhost`` with ``connection: local`` and
``ansible_python_interpreter: "{{ ansible_playbook_python }}"``. A module run then costs a new Python
process that unpacks AnsiballZ and imports ansible.module_utils and the Kubernetes client again, 0.5-2 s
on a small controller, for requests that take milliseconds. Ansible forks a worker per task from the
controller process, so the worker can run the module's ``main()`` itself: the same code, the same
arguments (the ``_ansible_*`` options that ``ActionBase._update_module_args`` adds: check mode, diff,
no_log, verbosity), the same serialization profile both ways and the same result handling. ansible-core
keeps ``AnsibleModule._record_module_result`` as the hook for this kind of direct in-worker execution.

Only where that is the same thing as a module run on the target, else the module runs as usual:
the connection is ``local``, the task is not delegated, not async and has no ``become``, and the host's
Python interpreter is the controller's own (``sys.executable``). The task's ``environment`` is set in the
worker's own environment (the worker is a process of its own, for this one task).
``LAKEHOUSE_IN_WORKER=0`` in the controller's environment (or the host variable
``platform_in_worker_modules: false``) always runs modules as separate processes.

With the callback ``lakehouse.platform.warm_workers`` enabled (the collection's ansible.cfg enables it),
the Kubernetes client is imported once in the controller before the first task of such a module, so the
forked workers start with it loaded.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import io
import json
import os
import sys
import traceback

from ansible import constants as C
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

display = Display()

PROFILE = "legacy"  # this collection's modules declare no other serialization profile
COLLECTION = "lakehouse.platform"
MODULE_PACKAGE = "ansible_collections.lakehouse.platform.plugins.modules"
# Modules of kubernetes.core that an action of this collection runs for a check (plugin_utils/sub_action): the
# same in-worker run, whose action plugin only handles a kubeconfig on a remote host and src/template files,
# neither of which applies to a local connection with a definition given inline.
FOREIGN_MODULES = {"kubernetes.core.k8s": "ansible_collections.kubernetes.core.plugins.modules",
                   "kubernetes.core.k8s_exec": "ansible_collections.kubernetes.core.plugins.modules",
                   "kubernetes.core.k8s_info": "ansible_collections.kubernetes.core.plugins.modules"}
# The modules that talk to Kubernetes (the warm_workers callback preloads their client).
KUBERNETES_MODULES = frozenset((
    "ceph_s3_user", "datahub_lineage_check", "doris_cluster", "kfp_pipeline_check", "k8s_apply", "k8s_generated_secret",
    "k8s_info", "k8s_service_request", "k8s_status_wait", "ml_workflow_check", "platform_capacity_info",
    "raycluster_wait", "run_lock", "superset_database", "trino_query"))


def _same_python(action, task_vars):
    interpreter = task_vars.get("ansible_python_interpreter")
    if interpreter is None:  # the setting interpreter_python (ANSIBLE_PYTHON_INTERPRETER), unless discovered
        interpreter = C.config.get_config_value("INTERPRETER_PYTHON", variables=task_vars)
        if not interpreter or str(interpreter).startswith("auto"):
            return False  # interpreter discovery decides: may be another Python
    interpreter = action._templar.template(interpreter)
    if not isinstance(interpreter, str) or not interpreter:
        return False
    try:
        return os.path.realpath(interpreter) == os.path.realpath(sys.executable)
    except (OSError, ValueError):
        return False


def why_not_in_worker(action, task_vars):
    """None when the module may run in this worker; else why not (shown at -vvv)."""
    if os.environ.get("LAKEHOUSE_IN_WORKER", "1").strip().lower() in ("0", "false", "no", "off"):
        return "LAKEHOUSE_IN_WORKER is off"
    setting = task_vars.get("platform_in_worker_modules", True)
    try:
        if not boolean(action._templar.template(setting), strict=False):
            return "platform_in_worker_modules is false"
    except Exception:  # noqa: BLE001 - an unreadable setting: be conservative
        return "platform_in_worker_modules is not a boolean"
    if getattr(action._connection, "transport", None) != "local":
        return "the connection is not local"
    if action._task.delegate_to:
        return "the task is delegated"
    if action._task.async_val:
        return "the task is async"
    if action._play_context.become:
        return "the task uses become"
    if not _same_python(action, task_vars):
        return "the host's Python is not the controller's (%s)" % sys.executable
    return None


def execute_module(action, module_name, module_args, task_vars, wrap_async=False):
    """Run ``module_name`` (a module of this collection) like ``ActionBase._execute_module`` does.

    In this worker when :func:`why_not_in_worker` allows it, else through ``_execute_module`` (with
    ``wrap_async`` as the normal action passes it).
    """
    short = module_name.rsplit(".", 1)[-1]
    reason = why_not_in_worker(action, task_vars)
    package = FOREIGN_MODULES.get(module_name, MODULE_PACKAGE if module_name == "%s.%s" % (COLLECTION, short) else None)
    if reason is not None or package is None:
        display.vvv("%s runs as a separate process: %s" % (module_name, reason or "not a module of %s" % COLLECTION))
        return action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars,
                                      wrap_async=wrap_async)

    module_args = dict(module_args)
    action._update_module_args(module_name, module_args, task_vars)
    environment = {}
    action._compute_environment_string(environment)
    os.environ.update(dict((str(key), str(value)) for key, value in environment.items()))
    display.vvv("%s runs in the worker process (pid %d)" % (module_name, os.getpid()))
    stdout, failure = _run_main(short, module_args, package)
    if failure is not None:
        return failure
    data = action._parse_returned_data(dict(rc=0, stdout=stdout, stderr=""), PROFILE)
    remove_internal_keys(data)
    return data


def _run_main(short, module_args, package=MODULE_PACKAGE):
    """(stdout of the module, None) or (None, failure result) when main() raised."""
    from ansible.module_utils import basic

    encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
    basic._ANSIBLE_ARGS = json.dumps(dict(ANSIBLE_MODULE_ARGS=module_args), cls=encoder).encode()
    basic._ANSIBLE_PROFILE = PROFILE
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            try:
                module = importlib.import_module("%s.%s" % (package, short))
                module.main()
            except SystemExit:
                pass  # exit_json / fail_json printed the result and exited
    except Exception as err:  # noqa: BLE001 - what a module process would print as MODULE FAILURE
        return None, dict(failed=True, changed=False,
                          msg="MODULE FAILURE: %s raised %s: %s" % (short, type(err).__name__, err),
                          module_stderr=traceback.format_exc(), rc=1)
    finally:
        basic._ANSIBLE_ARGS = None
        basic._ANSIBLE_PROFILE = None
    output = captured.getvalue()
    if not output.strip():
        return None, dict(failed=True, changed=False, rc=1,
                          msg="MODULE FAILURE: %s returned without a result" % short)
    return output, None


def preload():
    """Import (where installed) what this collection's Kubernetes modules import, in the controller (see warm_workers)."""
    for name in ("kubernetes.client", "kubernetes.dynamic", "kubernetes.config", "kubernetes.watch",
                 "ansible.module_utils.basic",
                 "ansible_collections.lakehouse.platform.plugins.module_utils.kube",
                 "ansible_collections.lakehouse.platform.plugins.module_utils.waiter",
                 "ansible_collections.kubernetes.core.plugins.module_utils.k8s.client",
                 "ansible_collections.kubernetes.core.plugins.module_utils.k8s.core",
                 "ansible_collections.kubernetes.core.plugins.module_utils.k8s.service"):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the module itself reports a missing library
            pass


class InWorkerModuleAction(ActionBase):
    """The action plugin of a module of this collection: runs it with :func:`execute_module`, otherwise as
    ansible.builtin.normal runs a module (async included: an async task runs as a separate process)."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(InWorkerModuleAction, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        name = getattr(self._task, "resolved_action", None) or self._task.action
        if "." not in name:
            name = "%s.%s" % (COLLECTION, name)
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result = merge_hash(result, execute_module(self, name, self._task.args.copy(), task_vars, wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
