# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The phase catalog (playbooks/vars/phases.yml): its rules, in one place.

``normalise()`` checks a catalog and returns every phase with its steps spelled out;
``tags_of()`` and ``rollback_tags_of()`` give the tags that select a component, ``known_tags()``
every tag a phase playbook answers to, and ``select()`` the components a run with given
``--tags`` / ``--skip-tags`` runs. The phase role's action plugins and the tests share them.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Tags every phase playbook answers to besides the catalog's own.
BUILTIN_TAGS = ("all", "always", "never", "tagged", "untagged", "preflight", "rollback")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogError(ValueError):
    """A catalog that breaks a rule; the message names the phase and the entry."""


OBJECTIVE_KEYS = frozenset(("id", "title", "components"))


def objective_tag(objective_id):
    """objective_<x>_<y> for objective id "x.y"."""
    return "objective_" + str(objective_id).replace(".", "_")


def _parse_step(phase, stage_index, step):
    if not isinstance(step, str) or not step:
        raise CatalogError("%s: stage %d: a step is '<component>' or '<component>/<part>', got %r" % (phase, stage_index, step))
    component, _sep, part = step.partition("/")
    if not _NAME.match(component):
        raise CatalogError("%s: stage %d: %r is not a component (role) name" % (phase, stage_index, component))
    return {"component": component, "part": part or "all"}


def normalise(catalog):
    """{phase: {title, objectives, stages: [{index, steps: [{component, part}]}], components, objective_of, ...}}."""
    if not isinstance(catalog, dict) or not catalog:
        raise CatalogError("the phase catalog (platform_catalog) must be a mapping of phases, got %r" % (type(catalog).__name__,))
    phases = {}
    owner = {}
    for phase, entry in catalog.items():
        if not isinstance(entry, dict):
            raise CatalogError("%s: a phase must be a mapping" % phase)
        objectives = entry.get("objectives")
        stages = entry.get("stages")
        if not isinstance(objectives, list) or not objectives:
            raise CatalogError("%s: needs a list of objectives" % phase)
        if not isinstance(stages, list) or not stages:
            raise CatalogError("%s: needs a list of stages" % phase)
        objective_of = {}
        norm_objectives = []
        for objective in objectives:
            if not isinstance(objective, dict) or not objective.get("id") or not objective.get("title"):
                raise CatalogError("%s: every objective needs id and title, got %r" % (phase, objective))
            # A title with commas in a YAML flow mapping ({title: a (b, c)}) is cut and leaves stray keys.
            stray = sorted(set(objective) - OBJECTIVE_KEYS, key=str)
            if stray:
                raise CatalogError("%s: objective %s has unknown key(s) %s (quote a title that holds commas)"
                                   % (phase, objective["id"], ", ".join(map(str, stray))))
            components = list(objective.get("components") or [])
            for component in components:
                if component in objective_of:
                    raise CatalogError("%s: component %s belongs to two objectives" % (phase, component))
                objective_of[component] = str(objective["id"])
            norm_objectives.append({"id": str(objective["id"]), "title": str(objective["title"]),
                                    "tag": objective_tag(objective["id"]), "components": components})
        norm_stages = []
        order = []
        for index, stage in enumerate(stages, 1):
            if not isinstance(stage, list) or not stage:
                raise CatalogError("%s: stage %d must be a non-empty list of steps" % (phase, index))
            steps = [_parse_step(phase, index, step) for step in stage]
            seen = set()
            for step in steps:
                if step["component"] in seen:
                    raise CatalogError("%s: stage %d lists %s twice" % (phase, index, step["component"]))
                seen.add(step["component"])
                if step["component"] not in order:
                    order.append(step["component"])
            norm_stages.append({"index": index, "steps": steps})
        for component in order:
            if component in owner and owner[component] != phase:
                raise CatalogError("component %s is in %s and in %s" % (component, owner[component], phase))
            owner[component] = phase
        for component in objective_of:
            if component not in order:
                raise CatalogError("%s: objective component %s is in no stage" % (phase, component))
        extra = {}
        for key in ("tags", "rollback_tags"):
            value = entry.get(key) or {}
            if not isinstance(value, dict):
                raise CatalogError("%s: %s must map a tag to components" % (phase, key))
            for tag, members in value.items():
                unknown = [m for m in members or [] if m not in objective_of]
                if unknown:
                    raise CatalogError("%s: %s.%s names unknown components %s" % (phase, key, tag, ", ".join(unknown)))
            extra[key] = dict((str(t), list(m or [])) for t, m in value.items())
        requires = entry.get("requires") or []
        if not isinstance(requires, list):
            raise CatalogError("%s: requires must be a list" % phase)
        for need in requires:
            missing = [k for k in ("what", "api_version", "kind") if not (isinstance(need, dict) and need.get(k))]
            if isinstance(need, dict) and not (need.get("name") or need.get("name_from")):
                missing.append("name or name_from")
            if missing:
                raise CatalogError("%s: a requires entry needs %s, got %r" % (phase, ", ".join(missing), need))
        phases[phase] = {
            "title": str(entry.get("title") or phase),
            "objectives": norm_objectives,
            "stages": norm_stages,
            "components": order,
            "objective_of": objective_of,
            "trigger": dict(entry.get("trigger") or {}),
            "requires": [dict(need) for need in requires],
            "min_health_percent": entry.get("min_health_percent"),
            "health_target_percent": entry.get("health_target_percent"),
            "tags": extra["tags"],
            "rollback_tags": extra["rollback_tags"],
        }
    return phases


def tags_of(phase_entry, component):
    """Tags that select a component for deployment: its name, its objective's tag, catalog extras."""
    tags = {component}
    if phase_entry["objective_of"].get(component):
        tags.add(objective_tag(phase_entry["objective_of"][component]))
    for tag, members in phase_entry["tags"].items():
        if component in members:
            tags.add(tag)
    return tags


def rollback_tags_of(phase_entry, component):
    tags = {"rollback", "rollback_" + component}
    for tag, members in phase_entry["rollback_tags"].items():
        if component in members:
            tags.add(tag)
    return tags


def deploy_tags(phase_entry):
    """Every tag of the phase's deploy block (sorted)."""
    tags = set()
    for component in phase_entry["components"]:
        tags |= tags_of(phase_entry, component)
    return sorted(tags)


def rollback_tags(phase_entry):
    """Every tag of the phase's rollback block; ``never`` keeps it out of a plain run."""
    tags = set()
    for component in phase_entry["components"]:
        tags |= rollback_tags_of(phase_entry, component)
    return ["never"] + sorted(tags)


def known_tags(phases):
    """Every tag any phase playbook answers to (site.yml runs them all with one --tags)."""
    tags = set(BUILTIN_TAGS)
    for entry in phases.values():
        tags |= set(deploy_tags(entry)) | set(rollback_tags(entry))
    return tags


def unknown_tags(phases, run_tags, skip_tags=None):
    """Tags asked for (--tags) that no phase answers to: a typo would otherwise run nothing and succeed.
    Skipped tags (--skip-tags) are not checked: skipping what does not exist is harmless (molecule always skips
    molecule-notest and notest)."""
    known = known_tags(phases)
    return sorted(t for t in list(run_tags or []) if t not in known)


def select(phase_entry, run_tags, skip_tags):
    """(deploy, rollback): the components a run deploys and rolls back, in catalog order."""
    run = set(run_tags or ["all"])
    skip = set(skip_tags or [])
    deploy = []
    rollback = []
    for component in phase_entry["components"]:
        tags = tags_of(phase_entry, component)
        if ("all" in run or tags & run) and not tags & skip:
            deploy.append(component)
        rtags = rollback_tags_of(phase_entry, component)
        if rtags & run and not rtags & skip and not tags & skip:
            rollback.append(component)
    return deploy, rollback
