"""CloudNativePG: Cluster phases, Secret keys, Backup phases, ScheduledBackup children and schedules."""
import datetime
import urllib.parse

import pytest

from tests.simulators import behaviour as beh
from tests.simulators.cnpg import (backup_status, child_backup, cluster_status, connection_values, next_run,
                                   scheduled_backup_name)

NOW = "2026-01-01T10:00:00Z"


def cluster(instances=2, status=None):
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
            "metadata": {"name": "pg", "namespace": "ns", "uid": "cluster-uid"},
            "spec": {"instances": instances}, "status": status or {}}


def pod(name, ready=True, phase="Running"):
    return {"metadata": {"name": name},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def ready_condition(status):
    return next(c for c in status["conditions"] if c["type"] == "Ready")


def test_phases_from_setting_up_primary_to_healthy():
    empty = cluster_status(cluster(), [], NOW)
    assert empty["phase"] == "Setting up primary" and ready_condition(empty)["reason"] == "ClusterIsNotReady"
    assert ready_condition(empty)["message"] == "Cluster Is Not Ready"
    starting = cluster_status(cluster(status=empty), [pod("pg-1", ready=False)], NOW)
    assert starting["phase"] == "Setting up primary" and starting["targetPrimary"] == "pg-1"
    assert "currentPrimary" not in starting
    replica = cluster_status(cluster(status=starting), [pod("pg-1")], NOW)
    assert replica["phase"] == "Creating a new replica" and replica["currentPrimary"] == "pg-1"
    healthy = cluster_status(cluster(status=replica), [pod("pg-1"), pod("pg-2")], NOW)
    assert healthy["phase"] == "Cluster in healthy state"
    assert ready_condition(healthy) | {"lastTransitionTime": None} == {
        "type": "Ready", "status": "True", "reason": "ClusterIsReady", "message": "Cluster is Ready",
        "lastTransitionTime": None}
    assert (healthy["instances"], healthy["readyInstances"]) == (2, 2)
    assert (healthy["writeService"], healthy["readService"]) == ("pg-rw", "pg-r")
    assert healthy["instancesStatus"] == {"healthy": ["pg-1", "pg-2"]}
    assert "phaseReason" not in healthy


def test_a_healthy_cluster_losing_an_instance_waits_for_it():
    healthy = cluster_status(cluster(), [pod("pg-1"), pod("pg-2")], NOW)
    degraded = cluster_status(cluster(status=healthy), [pod("pg-1"), pod("pg-2", ready=False)], NOW)
    assert degraded["phase"] == "Waiting for the instances to become active"
    assert ready_condition(degraded)["status"] == "False"
    assert degraded["instancesStatus"] == {"healthy": ["pg-1"], "replicating": ["pg-2"]}


def test_cluster_level_failure():
    failed = cluster_status(cluster(), [], NOW, failure=("Unable to create required cluster objects", "forbidden"))
    assert failed["phase"] == "Unable to create required cluster objects" and failed["phaseReason"] == "forbidden"
    assert ready_condition(failed)["status"] == "False"


def test_app_secret_keys_follow_cnpg():
    values = connection_values("pg-rw", 5432, "ns", "app", "app", "p@ss/word", "cluster.local")
    assert values["host"] == "pg-rw" and values["port"] == "5432"
    assert values["pgpass"] == "pg-rw:5432:app:app:p@ss/word\n"
    assert values["uri"] == "postgresql://app:p%40ss%2Fword@pg-rw.ns:5432/app"
    assert values["fqdn-uri"] == "postgresql://app:p%40ss%2Fword@pg-rw.ns.svc.cluster.local:5432/app"
    jdbc = urllib.parse.urlparse(values["jdbc-uri"].removeprefix("jdbc:"))
    assert urllib.parse.parse_qs(jdbc.query) == {"password": ["p@ss/word"], "user": ["app"]}
    assert jdbc.netloc == "pg-rw.ns:5432"
    real = connection_values("127.0.0.1", 55432, "ns", "hive", "hive", "pw", "cluster.local", qualify_host=False)
    assert real["uri"] == "postgresql://hive:pw@127.0.0.1:55432/hive"


def backup(status=None, **spec):
    return {"metadata": {"name": "b"}, "spec": {"cluster": {"name": "pg"}, **spec}, "status": status or {}}


HEALTHY = {"metadata": {"name": "pg"}, "status": {"currentPrimary": "pg-1"}}


def test_backup_phases():
    pending = backup_status(backup(), HEALTHY, None, None, None, "")
    assert pending == {"phase": "pending"}
    started = backup_status(backup(pending), HEALTHY, beh.PROGRESSING, NOW, NOW, "")
    assert started["phase"] == "started" and started["instanceID"] == {"podName": "pg-1"}
    assert started["backupId"] and started["startedAt"] == NOW and started["method"] == "barmanObjectStore"
    running = backup_status(backup(started), HEALTHY, beh.PROGRESSING, NOW, NOW, "")
    assert running["phase"] == "running" and running["backupId"] == started["backupId"]
    done = backup_status(backup(running), HEALTHY, beh.READY, NOW, "2026-01-01T10:01:00Z", "")
    assert done["phase"] == "completed" and done["stoppedAt"] == "2026-01-01T10:01:00Z"
    failed = backup_status(backup(running, method="plugin"), HEALTHY, beh.FAILED, NOW, NOW, "bucket gone")
    assert (failed["phase"], failed["error"], failed["method"]) == ("failed", "bucket gone", "plugin")


def scheduled(owner_mode=None, immediate=True):
    spec = {"schedule": "0 0 2 * * *", "cluster": {"name": "pg"}, "immediate": immediate, "method": "plugin",
            "pluginConfiguration": {"name": "barman-cloud.cloudnative-pg.io"}}
    if owner_mode:
        spec["backupOwnerReference"] = owner_mode
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup",
            "metadata": {"name": "nightly", "namespace": "ns", "uid": "sb-uid"}, "spec": spec}


def test_child_backup_labels_and_owner():
    moment = datetime.datetime(2026, 1, 2, 2, 0, 0, tzinfo=datetime.timezone.utc)
    child = child_backup(scheduled(), moment, immediate=True)
    assert child["metadata"]["name"] == "nightly-20260102020000" == scheduled_backup_name(scheduled(), moment)
    assert child["metadata"]["labels"] == {"cnpg.io/cluster": "pg", "cnpg.io/immediateBackup": "true",
                                           "cnpg.io/scheduled-backup": "nightly"}
    assert "ownerReferences" not in child["metadata"]
    assert child["spec"] == {"cluster": {"name": "pg"}, "method": "plugin",
                             "pluginConfiguration": {"name": "barman-cloud.cloudnative-pg.io"}}
    owned = child_backup(scheduled("self"), moment, immediate=False, owner=scheduled("self"))
    assert owned["metadata"]["ownerReferences"][0]["uid"] == "sb-uid"
    assert owned["metadata"]["labels"]["cnpg.io/immediateBackup"] == "false"


@pytest.mark.parametrize("schedule, after, expected", [
    ("0 0 2 * * *", "2026-01-01T10:00:00", "2026-01-02T02:00:00"),     # seconds first (robfig)
    ("*/15 * * * * *", "2026-01-01T10:00:01", "2026-01-01T10:00:15"),
    ("@daily", "2026-01-01T10:00:00", "2026-01-02T00:00:00"),
])
def test_next_run_reads_six_field_schedules_with_seconds_first(schedule, after, expected):
    start = datetime.datetime.fromisoformat(after)
    assert next_run(schedule, start) == datetime.datetime.fromisoformat(expected)
