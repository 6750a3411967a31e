"""Make the checkout importable as ansible_collections.lakehouse.platform for pytest.

scripts/install.sh links ./collections/ansible_collections/lakehouse/platform to the repository root;
ansible_collections is a namespace package, so this path merges with the bundled collections
(kubernetes.core, amazon.aws, ...) in site-packages.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "latency: asserts how soon something is seen (a watch within about a second, a grace respected); "
        "tests/run-all.sh runs these alone, before the parallel integration run loads the machine")
