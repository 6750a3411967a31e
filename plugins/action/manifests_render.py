# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of lakehouse.platform.manifests_render (documentation: plugins/modules/manifests_render.py).

Renders a component's objects into a GitOps tree on the controller in one task, producing byte for byte
what the task-based render of the manifests role wrote (copy of ``to_nice_yaml(indent=2, sort_keys=False)``,
find + kustomization, set_fact records), and closes (``finalize``) or removes (``absent``) parts of it.

Lists are deduplicated and sorted the way Jinja's ``unique`` and ``sort`` filters do it (case-insensitive),
and files are looked up the way ``ansible.builtin.find`` does it (regular files, hidden names skipped).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os
import shutil
import stat

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase
from ansible.plugins.filter.core import to_nice_yaml
from ansible_collections.lakehouse.platform.plugins.module_utils import local_files, manifests
from ansible_collections.lakehouse.platform.plugins.modules.manifests_render import REQUIRED_IF, argument_spec

KUSTOMIZATION = "kustomization.yaml"
SECRET_REFERENCES = "secret-references.yaml"
FILE_MODE = 0o644
DIR_MODE = 0o755

SECRET_REFERENCES_HEADER = (
    "# Secrets %s expects. They are not part of this tree: in apply mode the\n"
    "# playbook creates them (values generated once, kept only in the cluster); with GitOps, provide\n"
    "# them out of band (SOPS, External Secrets) under these names and keys.\n"
)


def nice_yaml(value):
    """What ``{{ value | ansible.builtin.to_nice_yaml(indent=2, sort_keys=False) }}`` renders."""
    return to_nice_yaml(value, indent=2, sort_keys=False)


def kustomization(resources):
    return nice_yaml({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    })


def _fold(value):
    return value.lower() if isinstance(value, str) else value


def unique_sorted(values):
    """``values | unique | sort`` as Jinja does it: first of case-insensitively equal values, then sorted ignoring case."""
    seen = set()
    result = []
    for value in values:
        key = _fold(value)
        if key not in seen:
            seen.add(key)
            result.append(value)
    return sorted(result, key=_fold)


def _lstat(path):
    try:
        return os.lstat(path)
    except OSError:
        return None


def yaml_files(directory):
    """Names ``find(paths=directory, patterns=['*.yaml'])`` returns: regular, not hidden, in listing order."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    result = []
    for name in names:
        if name.startswith(".") or not fnmatch.fnmatch(name, "*.yaml"):
            continue
        st = _lstat(os.path.join(directory, name))
        if st is not None and stat.S_ISREG(st.st_mode):
            result.append(name)
    return result


def subdirectories(directory):
    """Directories ``find(recurse=true)`` descends into from ``directory`` (not symlinks; hidden ones too)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    result = []
    for name in names:
        st = _lstat(os.path.join(directory, name))
        if st is not None and stat.S_ISDIR(st.st_mode):
            result.append(name)
    return result


def _mode_of(st):
    return stat.S_IMODE(st.st_mode)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _write(path, data):
    """Write ``data`` to ``path`` atomically, mode 0644."""
    local_files.write_atomic(path, data, FILE_MODE)


def _check_name(what, value, component=None):
    """A component or phase is one directory level of the tree."""
    if not value or value in (".", "..") or "/" in value or os.sep in value or "\0" in value:
        prefix = "%s: " % component if component else ""
        raise AnsibleActionFail("%s%s must be a single directory name, got %r" % (prefix, what, value))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        dummy, args = self.validate_argument_spec(argument_spec=argument_spec(), required_if=REQUIRED_IF)
        self._check = bool(self._task.check_mode)
        self._want_diff = bool(self._task.diff)
        self._diffs = []
        self._changed = False

        _check_name("phase", args["phase"], args.get("component"))
        if args["component"] is not None:
            _check_name("component", args["component"], args["component"])
        render_dir = os.path.abspath(args["render_dir"])

        if args["state"] == "present":
            result.update(self._present(args, render_dir, task_vars))
        elif args["state"] == "finalize":
            result.update(self._finalize(args, render_dir, task_vars))
        else:
            result.update(self._absent(args, render_dir))

        result["changed"] = self._changed
        if self._want_diff and self._diffs:
            result["diff"] = self._diffs
        return result

    # -- helpers --------------------------------------------------------------------------------------------
    def _var(self, task_vars, name, default):
        """A variable of the run, templated (a record kept by set_fact or returned as a fact)."""
        if name not in task_vars:
            return default
        value = self._templar.template(task_vars[name])
        return default if value is None else value

    def _diff(self, path, before, after):
        if not self._want_diff:
            return
        before_text = to_text(before, errors="surrogate_or_replace") if before is not None else ""
        after_text = to_text(after, errors="surrogate_or_replace") if after is not None else ""
        if self._task.no_log:
            before_text = ""
            after_text = " [[ Diff output has been hidden because 'no_log: true' was specified for this result ]]\n"
        self._diffs.append(dict(before_header=path, after_header=path, before=before_text, after=after_text))

    def _ensure_directory(self, path):
        """``file: state=directory mode=0755``: missing levels are created 0755, the directory itself set to 0755."""
        missing = []
        current = path
        while True:
            if _lstat(current) is not None:
                if not os.path.isdir(current):
                    raise AnsibleActionFail("%s exists and is not a directory" % current)
                break
            missing.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        if missing:
            self._changed = True
            if not self._check:
                for directory in reversed(missing):
                    os.mkdir(directory)
                    os.chmod(directory, DIR_MODE)
            return
        if _mode_of(os.stat(path)) != DIR_MODE:
            self._changed = True
            if not self._check:
                os.chmod(path, DIR_MODE)

    def _put(self, directory, name, text, label=None):
        """Write one file when its content or mode differs; the result entry (and the diff)."""
        path = os.path.join(directory, name)
        data = to_bytes(text, errors="surrogate_or_strict")
        before = None
        st = _lstat(path)
        if st is not None:
            if stat.S_ISDIR(os.stat(path).st_mode):
                raise AnsibleActionFail("%s is a directory, not a file" % path)
            before = _read(path)
        if before is None:
            action = "created"
        elif before != data:
            action = "updated"
        elif stat.S_ISLNK(st.st_mode) or _mode_of(st) != FILE_MODE:
            action = "updated"
        else:
            action = "unchanged"
        if action != "unchanged":
            self._changed = True
            if before != data:
                self._diff(path, before, data)
            if not self._check:
                if before == data and not stat.S_ISLNK(st.st_mode):
                    os.chmod(path, FILE_MODE)
                else:
                    _write(path, data)
        return dict(name=label or name, path=path, action=action)

    # -- state=present --------------------------------------------------------------------------------------
    def _present(self, args, render_dir, task_vars):
        component = args["component"]
        phase = args["phase"]
        objects = args["objects"] or []
        references = args["secret_references"] or []
        directory = os.path.join(render_dir, phase, component)

        files = []
        for index, obj in enumerate(objects):
            try:
                files.append(manifests.filename(obj))
            except manifests.ManifestError as err:
                raise AnsibleActionFail("%s: objects[%d] is not a Kubernetes object: %s" % (component, index, err))
        secrets = manifests.secret_values(objects)
        if secrets:
            raise AnsibleActionFail(manifests.secret_values_message(component, secrets))
        if len(unique_sorted(files)) != len(files):
            raise AnsibleActionFail(
                "%s: two objects share a kind and name, so they would share a file (files: %s)."
                % (component, ", ".join(files)))
        for index, reference in enumerate(references):
            if not reference.get("name"):
                raise AnsibleActionFail("%s: secret_references[%d] has no name" % (component, index))

        labels = manifests.component_labels(component, phase)
        labelled = [manifests.labelled(obj, labels) for obj in objects]
        try:
            contents = [nice_yaml(obj) for obj in labelled]
            references_content = None
            if references:
                references_content = SECRET_REFERENCES_HEADER % component + nice_yaml({"secretReferences": references})
        except Exception as err:  # pylint: disable=broad-except
            raise AnsibleActionFail("%s: cannot write the objects as YAML: %s" % (component, to_text(err)))

        self._ensure_directory(directory)
        results = []
        changes = []
        for obj, name, content in zip(labelled, files, contents):
            entry = self._put(directory, name, content)
            results.append(entry)
            if entry["action"] != "unchanged":
                change = dict(manifests.ref(obj))
                change.update(component=component, action="rendered")
                changes.append(change)
        if references_content is not None:
            results.append(self._put(directory, SECRET_REFERENCES, references_content))

        present = [name for name in yaml_files(directory) if name not in (KUSTOMIZATION, SECRET_REFERENCES)]
        results.append(self._put(directory, KUSTOMIZATION, kustomization(unique_sorted(present + files))))

        rendered = dict(self._var(task_vars, "manifests_rendered", {}))
        in_phase = dict(rendered.get(phase) or {})
        in_phase[component] = list(in_phase.get(component) or []) + files + ([SECRET_REFERENCES] if references else [])
        rendered[phase] = in_phase
        previous_changes = list(self._var(task_vars, "manifests_changes", []))

        return dict(
            directory=directory,
            files=files,
            results=results,
            ansible_facts=dict(manifests_rendered=rendered, manifests_changes=previous_changes + changes),
        )

    # -- state=finalize -------------------------------------------------------------------------------------
    def _finalize(self, args, render_dir, task_vars):
        phase = args["phase"]
        phase_dir = os.path.join(render_dir, phase)
        rendered = args["rendered"]
        if rendered is None:
            rendered = dict(self._var(task_vars, "manifests_rendered", {})).get(phase) or {}
        for component, names in rendered.items():
            if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
                raise AnsibleActionFail("%s: rendered must list file names per component, got %r" % (component, names))

        self._ensure_directory(phase_dir)
        components = subdirectories(phase_dir)
        candidates = []
        with_kustomization = []
        for component in components:
            names = yaml_files(os.path.join(phase_dir, component))
            if KUSTOMIZATION in names:
                with_kustomization.append(component)
            if component in rendered:
                keep = rendered[component]
                candidates.extend(os.path.join(phase_dir, component, name) for name in names
                                  if name != KUSTOMIZATION and name not in keep)

        results = []
        pruned = []
        for path in sorted(candidates, key=_fold):
            self._changed = True
            self._diff(path, _read(path), None)
            if not self._check:
                os.unlink(path)
            pruned.append(path)
            results.append(dict(name=os.path.relpath(path, phase_dir), path=path, action="removed"))

        for component in unique_sorted(os.path.basename(os.path.dirname(path)) for path in pruned):
            resources = unique_sorted(name for name in rendered[component] if name != SECRET_REFERENCES)
            entry = self._put(os.path.join(phase_dir, component), KUSTOMIZATION, kustomization(resources))
            entry["name"] = "%s/%s" % (component, KUSTOMIZATION)
            results.append(entry)

        results.append(self._put(phase_dir, KUSTOMIZATION, kustomization(unique_sorted(with_kustomization))))
        return dict(directory=phase_dir, pruned=pruned, results=results)

    # -- state=absent ---------------------------------------------------------------------------------------
    def _absent(self, args, render_dir):
        directory = os.path.join(render_dir, args["phase"], args["component"])
        st = _lstat(directory)
        if st is not None:
            self._changed = True
            if self._want_diff:
                kind = "directory" if stat.S_ISDIR(st.st_mode) else "file"
                self._diffs.append(dict(before=dict(path=directory, state=kind), after=dict(path=directory, state="absent")))
            if not self._check:
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(directory)
                else:
                    os.unlink(directory)
        return dict(directory=directory)
