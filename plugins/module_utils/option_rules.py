# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules a component's settings must follow beyond their argument spec (types and choices).

A role's ``meta/argument_specs.yml`` cannot say "at least 1", "a Kubernetes quantity", "an http(s) URL" or
"min <= max" (its schema allows no extra keys), so those rules live here, per component, and
lakehouse.platform.phase_plan checks them with the argument spec for every component a run deploys, before
anything is touched. ``errors(component, values)`` returns one sentence per broken rule, each naming the
option as it is spelled in the inventory (``s3_storage_buckets[0].lifecycle[1].expiration_days``), the value
and the rule.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.lakehouse.platform.plugins.module_utils import quantity

_MISSING = object()
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_URL = re.compile(r"^https?://[^/\s:]+(:[0-9]+)?(/\S*)?$")
_THRIFT = re.compile(r"^thrift://[^:/\s]+:[0-9]+$")
_HOST_PORT = re.compile(r"^[^:/\s]+:[0-9]+$")
_RETENTION = re.compile(r"^[1-9][0-9]*[dwm]$")
# robfig/cron as CloudNativePG uses it: six fields (seconds first) or a @descriptor.
_CRON = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every \S+|(\S+\s+){5}\S+)$")
_SPARK_MEMORY = re.compile(r"^([0-9]+)([mMgG])$")


# -- checks: each takes a value and answers None (fine) or the rule it breaks ---------------------------------
def at_least(minimum):
    def check(value):
        try:
            number = int(value)
        except (TypeError, ValueError):
            return "must be a whole number of at least %d" % minimum
        if number < minimum or str(value).strip() != str(number):
            return "must be a whole number of at least %d" % minimum
        return None
    return check


def port(value):
    if at_least(1)(value) or int(value) > 65535:
        return "must be a port number (1-65535)"
    return None


def positive_quantity(value):
    """A Kubernetes quantity larger than zero (10Gi, 512Mi, 500m): 10Gb and 10 GB are not quantities."""
    try:
        parsed = quantity.parse_quantity(value)
    except (quantity.QuantityError, TypeError, ValueError):
        return ("must be a Kubernetes quantity: a number with an optional suffix Ki, Mi, Gi, Ti, Pi, Ei (binary) or "
                "m, k, M, G, T, P, E (decimal), such as 10Gi")
    if parsed <= 0:
        return "must be a quantity larger than zero, such as 10Gi"
    return None


def matches(pattern, rule, allow_empty=False):
    def check(value):
        if allow_empty and value in ("", None):
            return None
        if not isinstance(value, str) or not pattern.match(value):
            return rule
        return None
    return check


def not_empty(value):
    if value is None or not str(value).strip():
        return "must not be empty"
    return None


def dns_label(max_length):
    def check(value):
        if not isinstance(value, str) or len(value) > max_length or not _DNS_LABEL.match(value):
            return ("must be a DNS label: at most %d lower-case letters, digits and '-', starting with a letter and "
                    "ending with a letter or digit" % max_length)
        return None
    return check


def dns_subdomain(what, allow_empty=False):
    def check(value):
        if allow_empty and value == "":
            return None
        if not isinstance(value, str) or len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
            return ("must name %s: lower-case letters, digits, '-' and '.' (a DNS subdomain name, at most 253)%s"
                    % (what, "; empty for the cluster's default" if allow_empty else ""))
        return None
    return check


def mapping(value):
    return None if isinstance(value, dict) else "must be a mapping (a dict)"


def is_true(value):
    return None if value is True else "must be true"


url = matches(_URL, "must be an http:// or https:// URL with a host, such as http://rook-ceph-rgw-storage.storage.svc:80")
bucket = matches(_BUCKET, "must be an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-', starting and "
                          "ending with a letter or digit")
identifier = matches(_IDENTIFIER, "must be a lower-case identifier (letters, digits, '_', not starting with a digit)")
thrift_uri = matches(_THRIFT, "must be thrift://host:port")
retention = matches(_RETENTION, "must be a retention like 30d, 4w or 6m")
cron = matches(_CRON, 'must be a cron schedule of six fields, seconds first, like "0 0 2 * * *" (or @daily)')
spark_memory = matches(_SPARK_MEMORY, "must be Spark memory: <n>m or <n>g, such as 512m")
host_port = matches(_HOST_PORT, "must be host:port")
secret_name = dns_subdomain("a Secret")
storage_class = dns_subdomain("a StorageClass")
storage_class_or_default = dns_subdomain("a StorageClass", allow_empty=True)
count = at_least(1)


# -- paths ---------------------------------------------------------------------------------------------------
def _resolve(values, path):
    """[(spelled path, value)] for a path like a.b[*].c (each list element), skipping what is not set."""
    found = [("", values)]
    for part in re.findall(r"[^.\[\]]+|\[\*\]", path):
        step = []
        for spelled, value in found:
            if part == "[*]":
                if isinstance(value, list):
                    step.extend(("%s[%d]" % (spelled, index), item) for index, item in enumerate(value))
            elif isinstance(value, dict) and value.get(part, _MISSING) is not _MISSING:
                step.append(((spelled + "." if spelled else "") + part, value[part]))
        found = step
    return found


def _shown(value):
    return repr(value) if isinstance(value, str) else str(value).replace("True", "true").replace("False", "false")


def _value(values, path, default=None):
    found = _resolve(values, path)
    return found[0][1] if found else default


def _flag(values, path):
    return _value(values, path) in (True, "true", "True", "yes", 1)


# A rule: (path, check) or (path, check, condition); the condition takes the values of the component.
def _when(path, expected=True):
    if expected is True:
        return lambda values: _flag(values, path)
    return lambda values: _value(values, path) == expected


# -- rules over several options --------------------------------------------------------------------------------
def _s3_storage_buckets(values):
    names = [b.get("name") for b in values.get("s3_storage_buckets") or [] if isinstance(b, dict)]
    errors = []
    duplicates = sorted(set(n for n in names if names.count(n) > 1 and n))
    if duplicates:
        errors.append("s3_storage_buckets names %s more than once: each bucket is listed once (with all its "
                      "lifecycle rules)" % ", ".join(repr(n) for n in duplicates))
    warehouse = values.get("s3_storage_warehouse_bucket")
    if warehouse and names and warehouse not in names:
        errors.append("s3_storage_warehouse_bucket=%r: must be one of the buckets of s3_storage_buckets (%s)"
                      % (warehouse, ", ".join(repr(n) for n in names)))
    for index, entry in enumerate(values.get("s3_storage_buckets") or []):
        rules = entry.get("lifecycle") if isinstance(entry, dict) else None
        ids = [r.get("rule_id") for r in rules or [] if isinstance(r, dict)]
        twice = sorted(set(i for i in ids if ids.count(i) > 1))
        if twice:
            errors.append("s3_storage_buckets[%d].lifecycle has rule_id %s more than once" % (index, ", ".join(twice)))
    return errors


def _spark_mib(text):
    match = _SPARK_MEMORY.match(str(text))
    if not match:
        return None
    return int(match.group(1)) * (1024 if match.group(2) in "gG" else 1)


def _spark_quota(values):
    """The job namespace's quota holds every Spark pod: the test job (driver and executors) must fit in it."""
    job = values.get("spark_operator_test_job") or {}
    quota = values.get("spark_operator_jobs_quota") or {}
    try:
        driver, executor = job["driver"], job["executor"]
        instances = int(executor["instances"])
        cpu = int(driver["cores"]) + instances * int(executor["cores"])
        mib = [_spark_mib(driver["memory"]), _spark_mib(driver["memory_overhead"]),
               _spark_mib(executor["memory"]), _spark_mib(executor["memory_overhead"])]
        quota_cpu = quantity.cpu_millicores(quota["cpu"]) / 1000.0
        quota_mib = quantity.memory_bytes(quota["memory"]) / 1048576.0
    except (KeyError, TypeError, ValueError, quantity.QuantityError):
        return []  # a malformed figure is reported by its own rule
    if None in mib:
        return []
    needed = mib[0] + mib[1] + instances * (mib[2] + mib[3])
    executor_mib = mib[2] + mib[3]
    if cpu <= quota_cpu and needed <= quota_mib:
        return []
    return ["spark_operator_jobs_quota (cpu %s, memory %s) is smaller than the test job spark_operator_test_job: the "
            "driver and %d executor(s) request cpu %d, memory %dMi (one executor alone %d cpu, %dMi); the quota must "
            "hold them all" % (quota.get("cpu"), quota.get("memory"), instances, cpu, needed,
                               int(executor["cores"]), executor_mib)]


def _differs(first, second, why):
    def check(values):
        a, b = values.get(first, _MISSING), values.get(second, _MISSING)
        if a is not _MISSING and a == b:
            return ["%s=%r and %s=%r: must differ (%s)" % (first, a, second, b, why)]
        return []
    return check


def _hive_db_secret(values):
    release, secret = values.get("hive_metastore_release"), values.get("hive_metastore_db_secret")
    if release and secret is not None and secret != "%s-pgauth" % release:
        return ["hive_metastore_db_secret=%r: must be %r, the chart always reads the database credentials from "
                "Secret <hive_metastore_release>-pgauth" % (secret, "%s-pgauth" % release)]
    return []


def _datahub_token(values):
    """A DataHub token needs the explicit GMS URL: the API server's service proxy drops Authorization headers."""
    if values.get("datahub_gms_token_secret") and not values.get("datahub_gms_url"):
        return ["datahub_gms_token_secret=%r: needs datahub_gms_url (the API server's service proxy removes the "
                "Authorization header, so a DataHub token cannot reach GMS through it)" % values["datahub_gms_token_secret"]]
    return []


def _ray_workers(values):
    workers = values.get("ray_workers") or {}
    try:
        low, want, high = (int(workers[k]) for k in ("min_replicas", "replicas", "max_replicas"))
    except (KeyError, TypeError, ValueError):
        return []
    if low <= want <= high:
        return []
    return ["ray_workers: min_replicas <= replicas <= max_replicas must hold, got min_replicas=%d, replicas=%d, "
            "max_replicas=%d" % (low, want, high)]


def _kubeflow_installs(values):
    if values.get("kubeflow_pipelines_enabled", True) in (False, "false") and \
            values.get("kubeflow_katib_enabled", True) in (False, "false"):
        return ["kubeflow_pipelines_enabled and kubeflow_katib_enabled are both false: enable at least one, or set "
                "kubeflow_enabled=false"]
    return []


def _lifecycle_days():
    base = "s3_storage_buckets[*].lifecycle[*]."
    return [(base + key, count) for key in
            ("expiration_days", "abort_incomplete_multipart_upload_days", "noncurrent_version_expiration_days")]


RULES = {
    "s3_storage": [
        ("s3_storage_user", dns_subdomain("an object store user")),
        ("s3_storage_endpoint", url),
        ("s3_storage_controller_endpoint", url),
        ("s3_storage_warehouse_bucket", bucket),
        ("s3_storage_backups_bucket", bucket),
        ("s3_storage_buckets[*].name", bucket),
        ("s3_storage_credentials_secret", secret_name),
        ("s3_storage_quota.max_size", positive_quantity),
        ("s3_storage_quota.max_buckets", count),
    ] + _lifecycle_days() + [_s3_storage_buckets],
    "postgres": [
        ("postgres_cluster_name", dns_label(50)),
        ("postgres_instances", count),
        ("postgres_storage_size", positive_quantity),
        ("postgres_storage_class", storage_class),
        ("postgres_resources.requests.cpu", positive_quantity),
        ("postgres_resources.requests.memory", positive_quantity),
        ("postgres_database", identifier),
        ("postgres_owner", identifier),
        ("postgres_credentials_secret", secret_name),
        ("postgres_backup_retention", retention, _when("postgres_backup_enabled")),
        ("postgres_backup_destination_path",
         matches(re.compile(r"^s3://[a-z0-9][a-z0-9.-]+[a-z0-9](/.*)?$"), "must be s3://<bucket>/<path>"),
         _when("postgres_backup_enabled")),
        ("postgres_backup_endpoint", url, _when("postgres_backup_enabled")),
        ("postgres_backup_credentials_secret", secret_name, _when("postgres_backup_enabled")),
    ],
    "hive_metastore": [
        ("hive_metastore_release", dns_label(53)),
        ("hive_metastore_replicas", count),
        ("hive_metastore_thrift_port", port),
        ("hive_metastore_s3_endpoint", url, _when("hive_metastore_s3a_enabled")),
        ("hive_metastore_warehouse_dir", matches(re.compile(r"^s3a://[a-z0-9][a-z0-9.-]+[a-z0-9](/.*)?$"),
                                                 "must be s3a://<bucket>/"), _when("hive_metastore_s3a_enabled")),
        ("hive_metastore_s3_credentials_secret", secret_name, _when("hive_metastore_s3a_enabled")),
        _hive_db_secret,
    ],
    "iceberg": [
        ("iceberg_catalog_uri", thrift_uri, _when("iceberg_catalog_type", "hive")),
        ("iceberg_warehouse", matches(re.compile(r"^s3a?://[a-z0-9][a-z0-9.-]+[a-z0-9](/.*)?$"),
                                      "must be s3://<bucket> or s3a://<bucket>")),
        ("iceberg_s3_endpoint", url),
        ("iceberg_s3_credentials_secret", secret_name),
        ("iceberg_check_namespace", identifier),
        ("iceberg_check_table", identifier),
        ("iceberg_check_rows", count),
    ],
    "metadata_backup": [
        ("metadata_backup_schedule", cron),
        ("metadata_backup_retention", retention),
        ("metadata_backup_restore_cluster", dns_label(50)),
        ("metadata_backup_restore_database", identifier),
        ("metadata_backup_restore_storage_class", storage_class),
    ],
    "spark_operator": [
        ("spark_operator_image", not_empty),
        ("spark_operator_spark_version", not_empty),
        ("spark_operator_test_job.partitions", count),
        ("spark_operator_test_job.driver.cores", count),
        ("spark_operator_test_job.executor.cores", count),
        ("spark_operator_test_job.executor.instances", count),
        ("spark_operator_test_job.driver.memory", spark_memory),
        ("spark_operator_test_job.driver.memory_overhead", spark_memory),
        ("spark_operator_test_job.executor.memory", spark_memory),
        ("spark_operator_test_job.executor.memory_overhead", spark_memory),
        ("spark_operator_jobs_quota.cpu", positive_quantity),
        ("spark_operator_jobs_quota.memory", positive_quantity),
        ("spark_operator_webhook_enabled", is_true),
        _differs("spark_operator_job_namespace", "spark_operator_namespace",
                 "the job namespace holds the jobs' quota, the operator lives apart"),
        _spark_quota,
    ],
    "trino": [
        ("trino_workers", count),
        ("trino_metastore_uri", thrift_uri, _when("trino_iceberg_catalog_type", "hive_metastore")),
        ("trino_iceberg_rest_uri", url, _when("trino_iceberg_catalog_type", "rest")),
        ("trino_iceberg_catalog_name", identifier),
        ("trino_hive_catalog_name", identifier),
        ("trino_s3_credentials_secret", secret_name),
        ("trino_s3_credentials_keys.access_key", not_empty),
        ("trino_s3_credentials_keys.secret_key", not_empty),
        ("trino_s3_endpoint", url),
        ("trino_coordinator.requests.memory", positive_quantity),
        ("trino_worker.requests.memory", positive_quantity),
    ],
    "elasticsearch": [
        ("elasticsearch_master.replicas", count),
        ("elasticsearch_data.replicas", count),
        ("elasticsearch_coordinating.replicas", at_least(0)),
        ("elasticsearch_master.storage", positive_quantity),
        ("elasticsearch_data.storage", positive_quantity),
        ("elasticsearch_storage_class", storage_class_or_default),
    ],
    "kafka": [
        ("kafka_replicas", count),
        ("kafka_storage", positive_quantity),
        ("kafka_storage_class", storage_class_or_default),
        ("kafka_kraft_secret", secret_name),
    ],
    "neo4j": [
        ("neo4j_name", not_empty),
        ("neo4j_storage", positive_quantity),
        ("neo4j_storage_class", storage_class_or_default),
        ("neo4j_auth_secret", secret_name),
    ],
    "datahub": [
        ("datahub_mysql_storage", positive_quantity),
        ("datahub_kafka_bootstrap_server", host_port),
        ("datahub_storage_class", storage_class_or_default),
        ("datahub_mysql_secret", secret_name),
        ("datahub_neo4j_auth_secret", secret_name),
        ("datahub_lineage_timeout", at_least(0)),
        ("datahub_gms_token_secret", secret_name, lambda values: bool(values.get("datahub_gms_token_secret"))),
        _differs("datahub_lineage_dataset", "datahub_lineage_upstream", "the test dataset is deleted after the check"),
        _datahub_token,
    ],
    "doris": [
        ("doris_fe.replicas", count),
        ("doris_be.replicas", count),
        ("doris_storage_class", storage_class_or_default),
        ("doris_auth_secret", secret_name),
        _differs("doris_namespace", "doris_operator_namespace", "the operator runs in its own namespace, outside the istio-injected cluster namespace"),
    ],
    "ray": [
        ("ray_workers.replicas", at_least(0)),
        ("ray_workers.min_replicas", at_least(0)),
        ("ray_workers.max_replicas", count),
        ("ray_head.ray_start_params", mapping),
        ("ray_workers.ray_start_params", mapping),
        _ray_workers,
    ],
    "mlflow": [
        ("mlflow_replicas", count),
        ("mlflow_bucket", bucket),
        ("mlflow_s3_endpoint", url),
        ("mlflow_s3_controller_endpoint", url),
        ("mlflow_postgres_storage", positive_quantity, _when("mlflow_database_mode", "cnpg")),
        ("mlflow_postgres_storage_class", storage_class_or_default, _when("mlflow_database_mode", "cnpg")),
        ("mlflow_database_secret", secret_name),
        ("mlflow_s3_credentials_secret", secret_name),
    ],
    "kubeflow": [
        ("kubeflow_pipelines_version", not_empty),
        ("kubeflow_katib_version", not_empty),
        _kubeflow_installs,
    ],
}


def option_names(component):
    """The top-level options the rules of ``component`` read (the plan templates these)."""
    names = set()
    for rule in RULES.get(component, []):
        if isinstance(rule, tuple):
            names.add(re.split(r"[.\[]", rule[0], 1)[0])
    return names


def storage_class_settings(component, values):
    """[(option, StorageClass)] of the component's options that name a StorageClass, set (not empty, which is the
    cluster's default) and in use (their rule's condition holds): what preflight looks for on the cluster."""
    found = []
    for rule in RULES.get(component, []):
        if not isinstance(rule, tuple) or rule[1] not in (storage_class, storage_class_or_default):
            continue
        if len(rule) > 2 and not rule[2](values):
            continue
        value = values.get(rule[0])
        if isinstance(value, str) and value:
            found.append((rule[0], value))
    return found


def errors(component, values):
    """Sentences naming each option of ``component`` that breaks a rule, its value and the rule."""
    found = []
    for rule in RULES.get(component, []):
        if not isinstance(rule, tuple):
            found.extend(rule(values))
            continue
        path, check = rule[0], rule[1]
        if len(rule) > 2 and not rule[2](values):
            continue
        for spelled, value in _resolve(values, path):
            if value is None and "[*]" in path:
                continue  # an optional field of a list entry that is not given
            problem = check(value)
            if problem:
                found.append("%s=%s: %s" % (spelled, _shown(value), problem))
    return found
