"""execution-environment.yml builds a valid ansible-builder 3 context: the collection's Python, Galaxy and
system requirements, and a verified helm binary with the helm-diff plugin (no container engine needed)."""
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ansible_builder_creates_the_context(tmp_path):
    builder = os.path.join(os.path.dirname(sys.executable), "ansible-builder")
    result = subprocess.run([builder, "create", "-f", "execution-environment.yml", "-c", str(tmp_path / "ctx")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    build = tmp_path / "ctx" / "_build"
    with open(os.path.join(ROOT, "requirements.txt")) as handle:
        assert (build / "requirements.txt").read_text() == handle.read()
    assert (build / "bindep.txt").exists() and (build / "requirements.yml").exists()
    dockerfile = (tmp_path / "ctx" / "Dockerfile").read_text()
    final_stage = dockerfile[dockerfile.index("FROM base as final"):]
    assert "ARG HELM_VERSION=" in final_stage  # build args are scoped to the stage using them
    assert "sha256sum -c helm-${HELM_VERSION}-linux-amd64.tar.gz.sha256sum" in final_stage
    assert "helm plugin install https://github.com/databus23/helm-diff" in final_stage


def test_collection_metadata_points_at_the_same_requirements():
    with open(os.path.join(ROOT, "meta", "execution-environment.yml")) as handle:
        meta = yaml.safe_load(handle)
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    for name in meta["dependencies"].values():
        assert os.path.exists(os.path.join(ROOT, name))
