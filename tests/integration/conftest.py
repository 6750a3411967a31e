"""Integration suite fixtures: each real or simulated service lives in its own fixtures module."""
import importlib.util

pytest_plugins = [
    name
    for name in (
        "tests.integration.fixtures.kube",        # Kubernetes API test server (+ CRDs from ../shared)
        "tests.integration.fixtures.simulators",  # operator simulators acting through the API
        "tests.integration.fixtures.postgres",    # real PostgreSQL (initdb on loopback)
        "tests.integration.fixtures.ceph",        # real Ceph mon + memstore OSD + radosgw
        "tests.integration.fixtures.hive_metastore",  # real Hive Metastore (Java) on PostgreSQL + RGW
        "tests.integration.fixtures.mariadb",     # real MariaDB (stand-in for the Doris FE's MySQL protocol)
    )
    if importlib.util.find_spec(name) is not None
]
