"""The validation pipeline the kubeflow role ships (roles/kubeflow/files/validation_pipeline.yaml) is exactly what
the real kfp SDK compiles from its source (validation_pipeline.py beside it), and the KFP API stand-in accepts it.

The SDK runs from its own venv (scripts/install-test-deps.d/kfp-sdk.sh, pins in tests/requirements-kfp-sdk.txt):
kfp pins kubernetes<31, which .venv's kubernetes.core cannot run with. The compile is byte for byte, sdkVersion
included: a new SDK pin means recompiling the shipped file (the command is in validation_pipeline.py).
"""
import os
import subprocess

import pytest
import yaml

from tests.integration.kfp_standin import ir_problem
from tests.integration.phase1_helpers import REPO_ROOT

FILES = os.path.join(REPO_ROOT, "roles", "kubeflow", "files")
KFP_VENV = os.environ.get("LAKEHOUSE_KFP_SDK_VENV") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lakehouse", "kfp-sdk")


def test_the_shipped_pipeline_is_what_the_kfp_sdk_compiles(tmp_path):
    python = os.path.join(KFP_VENV, "bin", "python")
    if not os.access(python, os.X_OK):
        pytest.fail("%s missing: run scripts/install.sh --test (scripts/install-test-deps.d/kfp-sdk.sh)" % python)
    with open(os.path.join(REPO_ROOT, "tests", "requirements-kfp-sdk.txt")) as handle:
        pinned = next(line.split("==")[1].strip() for line in handle if line.startswith("kfp=="))
    compiled = tmp_path / "compiled.yaml"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    done = subprocess.run([python, os.path.join(FILES, "validation_pipeline.py"), str(compiled)], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(os.path.join(FILES, "validation_pipeline.yaml")) as handle:
        shipped = handle.read()
    assert compiled.read_text() == shipped, "recompile roles/kubeflow/files/validation_pipeline.yaml (see its .py)"
    spec = yaml.safe_load(shipped)
    assert spec["sdkVersion"] == "kfp-" + pinned
    assert spec["pipelineInfo"]["name"] == "lakehouse-platform-validation"
    assert ir_problem(shipped, "validation_pipeline.yaml") is None
    # The stand-in refuses what the real API server refuses: not IR, or a task without its component.
    assert ir_problem("name: x\n", "p.yaml") == ("invalid pipeline spec: missing pipelineInfo, root, components, "
                                                 "deploymentSpec, schemaVersion")
    broken = dict(spec, components={})
    assert ir_problem(yaml.safe_dump(broken), "p.yaml") == ("invalid pipeline spec: task echo-message refers to an "
                                                            "unknown component")
    assert ir_problem(shipped, "p.txt").startswith("Unexpected pipeline file format")
