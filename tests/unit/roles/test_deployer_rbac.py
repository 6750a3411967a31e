"""roles/deployer_rbac/vars/main.yml: every rule names a component of the catalog (or the phase runner), why it is
needed and a namespace setting the data file resolves; each setting falls back to the same default as the role
that owns it, so the deployer's Roles land where the components deploy."""
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DATA = os.path.join(ROOT, "roles", "deployer_rbac", "vars", "main.yml")
VERBS = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind"}


def _load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def _catalog_components():
    catalog = _load(os.path.join(ROOT, "playbooks", "vars", "phases.yml"))["platform_catalog"]
    return {step.split("/")[0] for phase in catalog.values() for stage in phase["stages"] for step in stage}, catalog


def test_every_rule_names_its_component_reason_and_namespace():
    data = _load(DATA)
    components, catalog = _catalog_components()
    settings = data["deployer_rbac_namespace_settings"]
    for rule in data["deployer_rbac_rules"]:
        assert rule["component"] in components | {"platform"}, rule
        assert rule["why"].strip(), rule
        assert rule["namespace"] == "cluster" or rule["namespace"] in settings, rule
        assert set(rule["verbs"]) <= VERBS and rule["resources"] and rule["apiGroups"], rule
        assert set(rule.get("phases", [])) <= set(catalog), rule
        assert set(rule.get("drivers", [])) <= {"flux", "argocd", "helm"}, rule
        if rule["namespace"] == "cluster":
            assert rule["component"] == "platform", "component rights are namespaced: %s" % rule
    assert components <= {rule["component"] for rule in data["deployer_rbac_rules"]}
    assert set(data["deployer_rbac_driver_namespace_settings"]) <= set(settings)


def test_namespace_settings_fall_back_to_the_owning_roles_defaults():
    settings = _load(DATA)["deployer_rbac_namespace_settings"]
    for name, expression in settings.items():
        match = re.fullmatch(r"\{\{ (\w+) \| default\((.*)\) \}\}", expression)
        assert match and match.group(1) == name, expression
        fallback = match.group(2)
        if name == "platform_state_namespace":  # a platform setting: the same expression as the manifests role's
            owner = _load(os.path.join(ROOT, "roles", "manifests", "defaults", "main.yml"))["manifests_state_namespace"]
            assert expression == owner
            continue
        if name == "platform_flux_namespace":  # read by phase_plan: platform_flux_namespace or flux-system
            assert fallback == "'flux-system'"
            continue
        role = next(r for r in sorted(os.listdir(os.path.join(ROOT, "roles"))) if name.startswith(r + "_"))
        owner = _load(os.path.join(ROOT, "roles", role, "defaults", "main.yml"))[name]
        templated = re.fullmatch(r"\{\{ (.*) \}\}", owner)
        assert fallback == (templated.group(1) if templated else "'%s'" % owner), (name, fallback, owner)
