"""plugin_utils/role_vars: the variables an action sees for a component's role are layered as Ansible layers them
for the role (helper defaults < role defaults < the task's variables < helper vars < role vars < extra vars), and
each role declares its steps as data (<component>_apply_spec, <component>_wait_spec) in vars/main.yml."""
import os

import yaml

from ansible_collections.lakehouse.platform.plugins.plugin_utils import role_vars

ROLES = os.path.join(role_vars.COLLECTION_ROOT, "roles")
DATA_ROLES = ("elasticsearch", "kafka", "neo4j", "datahub", "doris", "ray", "mlflow", "kubeflow")


class _Loader:
    def load_from_file(self, path, unsafe=False, trusted_as_template=False):
        with open(path) as handle:
            return yaml.safe_load(handle)


class _Templar:
    def __init__(self, variables=None):
        self.variables = variables

    def copy_with_new_env(self, available_variables):
        return _Templar(available_variables)


def test_layers_follow_ansible_precedence(tmp_path, monkeypatch):
    for role, defaults, variables in (("chart_release", {"a": "helper default", "b": "helper default"}, {"h": "helper var"}),
                                      ("demo", {"b": "role default", "c": "role default"}, {"d": "role var"})):
        os.makedirs(tmp_path / role / "tasks")
        os.makedirs(tmp_path / role / "defaults")
        os.makedirs(tmp_path / role / "vars")
        (tmp_path / role / "defaults" / "main.yml").write_text(yaml.safe_dump(defaults))
        (tmp_path / role / "vars" / "main.yml").write_text(yaml.safe_dump(variables))
    roles = role_vars.RoleVariables(_Loader(), _Templar(), str(tmp_path))
    monkeypatch.setattr(roles, "extra_vars", lambda: {"d": "extra var"})
    _templar, merged = roles.templar_for("demo", {"c": "inventory", "h": "inventory"}, {"part": "1"})
    assert merged == {"a": "helper default", "b": "role default", "c": "inventory", "h": "helper var",
                      "d": "extra var", "part": "1"}
    assert roles.declares("demo", "d") and not roles.declares("demo", "c")
    assert roles.layers("not_a_role") == ({}, {})


def test_the_phase3_roles_declare_their_apply_wait_and_validate_steps_as_data():
    roles = role_vars.RoleVariables(_Loader(), _Templar(), ROLES)
    for component in DATA_ROLES:
        assert roles.declares(component, component + "_apply_spec"), component
        assert roles.declares(component, component + "_wait_spec"), component
        assert roles.declares(component, component + "_validate_spec"), component
        with open(os.path.join(ROLES, component, "tasks", "apply.yml")) as handle:
            (task,) = yaml.safe_load(handle)
        assert task["vars"] == {"chart_release_component": component}


def test_step_arguments_name_what_is_wrong():
    assert role_vars.step_arguments("demo", {"bogus": 1}, ("steps",))[2] == "demo: unsupported option(s) bogus"
    assert role_vars.step_arguments("demo", {}, ("steps", "component"))[2] == "demo: give steps or component"
    assert role_vars.step_arguments("demo", {"steps": [{"part": "1"}]}, ("steps",))[2] == (
        "demo: a step is {component, part}, got {'part': '1'}")
    steps, auth, error = role_vars.step_arguments("demo", {"component": "ray", "part": "2", "kubeconfig": "/k",
                                                           "context": None}, role_vars.STEP_OPTIONS)
    assert (steps, auth, error) == ([{"component": "ray", "part": "2"}], {"kubeconfig": "/k"}, None)
    assert [role_vars.step_part(step) for step in ({"part": ""}, {"part": 2}, {})] == [None, "2", None]
