"""option_rules: the rules phase_plan checks beyond the argument specs; each refusal names the option as it is
spelled in the inventory, the value and the rule, and the seed figures of every role pass."""
import os

import pytest
import yaml

from ansible_collections.lakehouse.platform.plugins.module_utils import option_rules

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def test_every_rule_belongs_to_a_role_and_names_its_options():
    for component in option_rules.RULES:
        assert os.path.isdir(os.path.join(ROOT, "roles", component, "tasks")), component
        with open(os.path.join(ROOT, "roles", component, "defaults", "main.yml")) as handle:
            defaults = yaml.safe_load(handle)
        for name in option_rules.option_names(component):
            assert name in defaults, "%s: rule on %s, which its defaults do not define" % (component, name)


@pytest.mark.parametrize("value, fine", [
    ("10Gi", True), ("500m", True), (10, True), ("1.5Gi", True),
    ("10Gb", False), ("10 Gi", False), ("", False), ("0", False), ("-1Gi", False), (None, False)])
def test_positive_quantity(value, fine):
    assert (option_rules.positive_quantity(value) is None) is fine


@pytest.mark.parametrize("value, fine", [(1, True), ("3", True), (0, False), (-1, False), ("two", False),
                                         (True, False), (1.5, False)])
def test_whole_number_of_at_least_one(value, fine):
    assert (option_rules.count(value) is None) is fine


def test_postgres_errors_name_option_value_and_rule():
    errors = option_rules.errors("postgres", {
        "postgres_instances": -1, "postgres_storage_size": "10Gb", "postgres_cluster_name": "hive-metastore-postgres",
        "postgres_backup_enabled": False, "postgres_backup_retention": "30days"})
    assert errors == [
        "postgres_instances=-1: must be a whole number of at least 1",
        "postgres_storage_size='10Gb': must be a Kubernetes quantity: a number with an optional suffix Ki, Mi, Gi, "
        "Ti, Pi, Ei (binary) or m, k, M, G, T, P, E (decimal), such as 10Gi",
    ]  # the retention is not checked while backups are off


def test_list_entries_are_named_by_their_index():
    buckets = [{"name": "warehouse", "lifecycle": [{"rule_id": "a", "expiration_days": 1, "prefix": None},
                                                   {"rule_id": "b", "expiration_days": 0}]},
               {"name": "Bad_Bucket", "lifecycle": []}, {"name": "warehouse"}]
    errors = option_rules.errors("s3_storage", {"s3_storage_buckets": buckets, "s3_storage_warehouse_bucket": "warehouse"})
    assert "s3_storage_buckets[0].lifecycle[1].expiration_days=0: must be a whole number of at least 1" in errors
    assert any(e.startswith("s3_storage_buckets[1].name='Bad_Bucket': must be an S3 bucket name") for e in errors)
    assert "s3_storage_buckets names 'warehouse' more than once: each bucket is listed once (with all its " \
           "lifecycle rules)" in errors
    assert len(errors) == 3, errors


def test_rules_over_several_options():
    assert option_rules.errors("ray", {"ray_workers": {"min_replicas": 3, "replicas": 2, "max_replicas": 4}}) == [
        "ray_workers: min_replicas <= replicas <= max_replicas must hold, got min_replicas=3, replicas=2, max_replicas=4"]
    quota = option_rules.errors("spark_operator", {
        "spark_operator_jobs_quota": {"cpu": "12", "memory": "1Gi"},
        "spark_operator_test_job": {"partitions": 1, "driver": {"cores": 1, "memory": "512m", "memory_overhead": "384m"},
                                    "executor": {"instances": 1, "cores": 1, "memory": "512m", "memory_overhead": "384m"}}})
    assert quota == ["spark_operator_jobs_quota (cpu 12, memory 1Gi) is smaller than the test job spark_operator_test_job: "
                     "the driver and 1 executor(s) request cpu 2, memory 1792Mi (one executor alone 1 cpu, 896Mi); the "
                     "quota must hold them all"]
    assert option_rules.errors("hive_metastore", {"hive_metastore_release": "hms", "hive_metastore_db_secret": "x"}) == [
        "hive_metastore_db_secret='x': must be 'hms-pgauth', the chart always reads the database credentials from "
        "Secret <hive_metastore_release>-pgauth"]


def test_datahub_token_needs_the_gms_url_and_the_test_dataset_is_not_the_upstream():
    base = {"datahub_lineage_timeout": 60, "datahub_lineage_dataset": "a.test", "datahub_lineage_upstream": "a.table",
            "datahub_gms_token_secret": "", "datahub_gms_url": ""}
    assert option_rules.errors("datahub", base) == []
    assert option_rules.errors("datahub", dict(base, datahub_gms_token_secret="dh-token")) == [
        "datahub_gms_token_secret='dh-token': needs datahub_gms_url (the API server's service proxy removes the "
        "Authorization header, so a DataHub token cannot reach GMS through it)"]
    assert option_rules.errors("datahub", dict(base, datahub_gms_token_secret="dh-token", datahub_gms_url="http://g")) == []
    assert option_rules.errors("datahub", dict(base, datahub_lineage_upstream="a.test", datahub_lineage_timeout=-1)) == [
        "datahub_lineage_timeout=-1: must be a whole number of at least 0",
        "datahub_lineage_dataset='a.test' and datahub_lineage_upstream='a.test': must differ (the test dataset is "
        "deleted after the check)"]


def test_conditions_select_the_rules_of_the_chosen_catalog():
    hive = {"trino_iceberg_catalog_type": "hive_metastore", "trino_metastore_uri": "hive:9083", "trino_iceberg_rest_uri": ""}
    assert option_rules.errors("trino", hive) == ["trino_metastore_uri='hive:9083': must be thrift://host:port"]
    rest = dict(hive, trino_iceberg_catalog_type="rest")
    assert option_rules.errors("trino", rest) == [
        "trino_iceberg_rest_uri='': must be an http:// or https:// URL with a host, such as "
        "http://rook-ceph-rgw-storage.storage.svc:80"]


def test_storage_class_may_be_empty_only_where_the_cluster_default_is_meant():
    assert option_rules.errors("kafka", {"kafka_storage_class": ""}) == []
    assert option_rules.errors("postgres", {"postgres_storage_class": ""})[0].startswith(
        "postgres_storage_class='': must name a StorageClass")


def test_options_that_must_differ_are_both_named_with_their_values():
    assert option_rules.errors("doris", {"doris_namespace": "doris", "doris_operator_namespace": "doris"}) == [
        "doris_namespace='doris' and doris_operator_namespace='doris': must differ (the operator runs in its own "
        "namespace, outside the istio-injected cluster namespace)"]
