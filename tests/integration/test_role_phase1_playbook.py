"""playbooks/phase1.yml with the real phase-1 component roles, from the checkout: render, then apply against
the Kubernetes API test server with the operator simulators, the real Ceph object gateway, a real PostgreSQL
and a real Hive Metastore. What apply stores is what render writes, every objective completes
with its validation recorded in the report, and a second run changes nothing."""
import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest
import yaml

from tests.integration.fixtures.hive_metastore import HiveMetastoreServer
from tests.integration.k8s_compare import (create_ready_node, delete_node, require_real_crds, is_subset,
                                           load_rendered)
from tests.integration.phase1_helpers import REPO_ROOT, create_rgw_user
from tests.integration.leak_scan import assert_no_leak, secret_values_of, texts_of_tree

LOCAL_CAPACITY = os.path.join(REPO_ROOT, "inventories", "local", "group_vars", "all", "capacity.yml")


def run_phase(inventory, env, *args, timeout=2400):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
               "playbooks/phase1.yml"] + list(args)
    run_env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"))
    return subprocess.run(command, cwd=REPO_ROOT, env=run_env, capture_output=True, text=True, timeout=timeout,
                          check=False)


def recap_changed(stdout):
    line = [text for text in stdout.splitlines() if text.startswith("localhost") and "changed=" in text][-1]
    return int(line.split("changed=")[1].split()[0])


@pytest.fixture
def phase_env(kube_api, simulators_with_postgres, ceph_rgw, postgres, tmp_path):
    suffix = uuid.uuid4().hex[:6]
    names = {"platform": "dp-" + suffix, "rook": "storage-" + suffix, "state": "lh-" + suffix,
             "database": "metastore_" + suffix, "owner": "hive_" + suffix}
    require_real_crds(kube_api)
    node = create_ready_node(kube_api, "phase1-" + suffix)
    access_key, secret_key = create_rgw_user(ceph_rgw, "iceberg-" + suffix)
    simulators_with_postgres.set_rook_keys(access_key, secret_key, namespace=names["rook"], user="iceberg")
    kube = kube_api.client()
    namespaces = kube.resources.get(api_version="v1", kind="Namespace")
    secrets = kube.resources.get(api_version="v1", kind="Secret")
    for namespace in (names["rook"], names["platform"]):
        namespaces.create(body={"metadata": {"name": namespace}})
    # The owner Secret exists before the run (the role reuses a Secret it finds), so the metastore can be
    # launched before the database exists: like a metastore pod restarting until initdb finished, it starts
    # (in the background, on a port chosen now) once the CNPG simulator has created the database.
    owner_password = "pw-" + uuid.uuid4().hex
    secrets.create(namespace=names["platform"], body={
        "metadata": {"name": "hive-metastore-pgauth"}, "type": "kubernetes.io/basic-auth",
        "stringData": {"username": names["owner"], "password": owner_password}})
    secrets.create(namespace=names["platform"], body={
        "metadata": {"name": "pg-admin"}, "type": "kubernetes.io/basic-auth",
        "stringData": {"username": postgres.user, "password": postgres.password}})
    warehouse = "warehouse-" + suffix
    metastore = HiveMetastoreServer(postgres, {"endpoint": ceph_rgw.endpoint, "access_key": access_key,
                                               "secret_key": secret_key, "bucket": warehouse},
                                    dbname=names["database"], db_user=names["owner"], db_password=owner_password)
    metastore.start_when_database_exists()

    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    shutil.copy(LOCAL_CAPACITY, str(inventory / "group_vars" / "all" / "capacity.yml"))  # render-mode figures
    settings = {
        "platform_mode": "apply", "platform_kubeconfig": kube_api.kubeconfig,
        "platform_namespace": names["platform"], "platform_state_namespace": names["state"],
        "platform_operator": "phase1-component-test", "platform_render_dir": str(tmp_path / "build"),
        "platform_phase_triggers": {"phase1": {"storage_used": "1Ei"}},
        "platform_override_reason": "Integration test of the phase-1 components against the API test server.",
        "platform_s3_endpoint": ceph_rgw.endpoint,
        "platform_s3_warehouse_bucket": warehouse, "platform_s3_backups_bucket": "backups-" + suffix,
        "s3_storage_rook_namespace": names["rook"],
        "postgres_database": names["database"], "postgres_owner": names["owner"],
        "postgres_connect_host": postgres.host, "postgres_connect_port": postgres.port,
        "postgres_connect_sslmode": "disable", "hive_metastore_db_name": names["database"],
        "hive_metastore_connect_host": metastore.host, "hive_metastore_connect_port": metastore.port,
        # the JVM starts only once the database exists: give it the start timeout
        "hive_metastore_validate_retries": int(metastore.start_timeout / 2), "hive_metastore_validate_retry_delay": 2,
        "iceberg_catalog_uri": metastore.uri, "iceberg_catalog_wait_retries": 3, "iceberg_catalog_wait_delay": 1,
        "iceberg_check_rows": 5,
        "metadata_backup_schedule": "0 0 0 1 1 *", "metadata_backup_restore_test": "database",
        "metadata_backup_restore_database": "restore_check_" + suffix, "metadata_backup_restore_admin_secret": "pg-admin",
    }
    (inventory / "group_vars" / "all" / "platform.yml").write_text(yaml.safe_dump(settings))
    try:
        yield {"names": names, "inventory": inventory, "env": kube_api.env, "kube": kube, "build": tmp_path / "build",
               "secret_key": secret_key, "owner_password": owner_password}
    finally:
        metastore.stop()
        delete_node(kube_api, node)
    if metastore.background_error():
        pytest.fail("Hive Metastore: %s" % metastore.background_error(), pytrace=False)


def test_phase1_playbook_renders_what_it_applies_and_completes_every_objective(phase_env):
    names, kube, build = phase_env["names"], phase_env["kube"], phase_env["build"]
    # -vvv in both modes: the leak scan below searches everything the runs printed
    render = run_phase(phase_env["inventory"], phase_env["env"], "-e", "platform_mode=render", "-vvv")
    assert render.returncode == 0, render.stdout[-5000:] + render.stderr[-3000:]
    rendered = load_rendered(str(build / "phase1"))
    kinds = {kind for kind, _ns, _name in rendered}
    assert kinds == {"Namespace", "CephObjectStoreUser", "Cluster", "ScheduledBackup", "HelmRelease", "HelmRepository"}
    places = {"render -vvv " + k: v for k, v in texts_of_tree(build).items()}
    shutil.rmtree(str(build))

    first = run_phase(phase_env["inventory"], phase_env["env"], "-vvv")
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
    places.update({"render -vvv output": render.stdout + render.stderr, "apply -vvv output": first.stdout + first.stderr})

    # the API server holds exactly the labelled objects render wrote
    for (kind, namespace, name), obj in rendered.items():
        resource = kube.resources.get(api_version=obj["apiVersion"], kind=kind)
        stored = resource.get(name=name, namespace=namespace or None).to_dict()
        assert is_subset(obj, stored) == [], (kind, namespace, name)

    report = json.loads((build / "phase1" / "report.json").read_text())
    assert report["outcome"] == "succeeded" and report["mode"] == "apply"
    assert [o["state"] for o in report["objectives"]] == ["completed"] * 4
    validations = report["validations"]
    assert set(validations) >= {"s3_storage", "postgres", "hive_metastore", "iceberg", "metadata_backup"}
    assert validations["iceberg"]["rows_current"] == 10
    assert validations["metadata_backup"]["comparison"]["matches"] is True
    assert validations["metadata_backup"]["comparison"]["tables"] >= 9
    assert "default" in validations["hive_metastore"]["databases"]

    second = run_phase(phase_env["inventory"], phase_env["env"])
    assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-3000:]
    assert recap_changed(second.stdout) == 0, second.stdout[-6000:]

    # The leak scan: the S3 secret key, the database passwords (given and generated) and every other value of
    # the Secrets in the run's namespaces appear nowhere the runs left text (output, files, state ConfigMaps).
    secrets = [item.to_dict() for namespace in (names["platform"], names["rook"])
               for item in kube.resources.get(api_version="v1", kind="Secret").get(namespace=namespace).items]
    values = secret_values_of(secrets)
    values.update({"rook user secret key": phase_env["secret_key"], "metastore owner password": phase_env["owner_password"]})
    places.update({"apply " + k: v for k, v in texts_of_tree(build).items()})
    for configmap in kube.resources.get(api_version="v1", kind="ConfigMap").get(namespace=names["state"]).items:
        places["ConfigMap " + configmap.metadata.name] = json.dumps(configmap.to_dict().get("data") or {})
    scanned = assert_no_leak(values, places)
    assert scanned["values"] >= 4 and scanned["places"] > 10, scanned
