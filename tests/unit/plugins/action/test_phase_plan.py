"""phase_plan's helpers: the whole override reason of -e platform_override_reason="two words", the user's
variable a failing role default comes from, and the operator's login when USER is unset."""
import pwd
import os

from ansible_collections.lakehouse.platform.plugins.action import phase_plan


def test_the_documented_override_example_keeps_the_whole_reason():
    # The shell hands -e platform_override_reason="Storage below 200Gi, starting early" over without the quotes.
    written = ["platform_override_reason=Storage below 200Gi, starting early"]
    assert phase_plan.override_reason_as_written(written) == "Storage below 200Gi, starting early"
    # Quoted inside the argument, JSON, a file, or another variable: as ansible-playbook reads them.
    assert phase_plan.override_reason_as_written(["platform_override_reason='two words'"]) == "two words"
    assert phase_plan.override_reason_as_written(['{"platform_override_reason": "two words"}']) is None
    assert phase_plan.override_reason_as_written(["@vars.yml", "other=1"]) is None
    assert phase_plan.override_reason_as_written(["platform_override_reason=why other=1"]) == "why"
    assert phase_plan.override_reason_as_written(None) is None


def test_origin_follows_defaults_to_the_variables_the_user_set():
    defaults = {"s3_storage_warehouse_bucket": "{{ platform_s3_warehouse_bucket | default('warehouse') }}",
                "s3_storage_backups_bucket": "{{ platform_s3_backups_bucket | default('backups') }}",
                "s3_storage_buckets": [{"name": "{{ s3_storage_warehouse_bucket }}"},
                                       {"name": "{{ s3_storage_backups_bucket }}"}],
                "s3_storage_user": "iceberg"}
    given = {"platform_s3_warehouse_bucket": ""}
    assert phase_plan.origin("s3_storage_buckets", defaults, given) == ["platform_s3_warehouse_bucket"]
    assert phase_plan.origin("s3_storage_user", defaults, given) == []
    assert phase_plan.origin("s3_storage_warehouse_bucket", defaults, dict(given, s3_storage_warehouse_bucket="x")) == []


def test_the_login_is_known_without_user_or_logname(monkeypatch):
    for name in ("USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    assert phase_plan._login_name() == pwd.getpwuid(os.getuid()).pw_name != ""


def test_origin_ignores_ansible_and_play_variables():
    defaults = {"report_dir": "{{ inventory_dir }}/../build/{{ platform_phase }}/{{ platform_report_name }}"}
    given = {"inventory_dir": "/inv", "platform_phase": "phase1", "platform_report_name": "x"}
    assert phase_plan.origin("report_dir", defaults, given) == ["platform_report_name"]


class _Templar:
    """Renders '{{ name }}' from the settings, the one form the tests below use."""

    def __init__(self, values):
        self.values = values

    def template(self, value):
        if isinstance(value, list):
            return [self.template(item) for item in value]
        if isinstance(value, dict):
            return dict((key, self.template(item)) for key, item in value.items())
        if isinstance(value, str) and value.startswith("{{ ") and value.endswith(" }}"):
            return self.template(self.values[value[3:-3]])
        return value


def test_a_component_s_prerequisites_and_the_storage_classes_its_settings_name():
    crd = {"what": "the CRD", "api_version": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "name": "clusters.postgresql.cnpg.io", "ready": True, "how": "install the operator"}
    merged = {"postgres_prerequisites": [crd, dict(crd, name="")], "postgres_storage_class": "{{ platform_class }}",
              "platform_class": "fast-ssd"}
    needs, problem = phase_plan.ActionModule._component_prerequisites("postgres", merged, _Templar(merged))
    assert problem is None
    assert needs[0] == dict(crd, component="postgres")  # the item with an empty name is not checked
    assert needs[1] == {"what": "the StorageClass of postgres_storage_class", "api_version": "storage.k8s.io/v1",
                        "kind": "StorageClass", "name": "fast-ssd", "component": "postgres",
                        "how": "create it (its provisioner), or set postgres_storage_class to a StorageClass of the cluster"}
    assert len(needs) == 2


def test_an_empty_storage_class_is_the_default_and_not_looked_for():
    merged = {"elasticsearch_storage_class": ""}
    assert phase_plan.ActionModule._component_prerequisites("elasticsearch", merged, _Templar(merged)) == ([], None)
    # Only where the option is in use: MLflow's database class with an existing database is not.
    merged = {"mlflow_database_mode": "existing", "mlflow_postgres_storage_class": "ceph-block"}
    spec = ["mlflow_database_mode", "mlflow_postgres_storage_class"]
    assert phase_plan.ActionModule._component_prerequisites("mlflow", merged, _Templar(merged), spec) == ([], None)
    merged["mlflow_database_mode"] = "cnpg"
    needs, _problem = phase_plan.ActionModule._component_prerequisites("mlflow", merged, _Templar(merged), spec)
    assert [need["name"] for need in needs] == ["ceph-block"]


def test_a_malformed_prerequisite_is_named():
    merged = {"s3_storage_prerequisites": [{"what": "x", "kind": "Namespace", "name": "storage"}]}
    assert phase_plan.ActionModule._component_prerequisites("s3_storage", merged, _Templar(merged)) == (
        [], "s3_storage_prerequisites[0] needs api_version, how")
    merged = {"s3_storage_prerequisites": "storage"}
    assert phase_plan.ActionModule._component_prerequisites("s3_storage", merged, _Templar(merged))[1] == (
        "s3_storage_prerequisites must be a list of prerequisites, got str")
