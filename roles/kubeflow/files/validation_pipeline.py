# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubeflow Pipelines validation pipeline (the runbook's "Kubeflow: create test pipeline").

One container step that prints its message and exits 0: it proves the KFP API server accepts a pipeline,
and that its driver, launcher and Argo workflow controller run a pod to completion. A container component
(not a lightweight Python one) so that the step installs nothing at run time (a Python component would
`pip install kfp` in the pod, which a cluster without access to PyPI cannot do).

validation_pipeline.yaml beside this file is this pipeline compiled by the kfp SDK (the pinned version in
tests/requirements-kfp-sdk.txt); tests/integration/test_kfp_pipeline_spec.py compiles this file again with that
SDK and asserts the shipped YAML is what it writes. Recompile after a change with
    <venv with kfp>/bin/python roles/kubeflow/files/validation_pipeline.py roles/kubeflow/files/validation_pipeline.yaml
The collection does not run the SDK itself (lakehouse.platform.kfp_pipeline_check says why).
"""
import sys

from kfp import compiler, dsl

IMAGE = "docker.io/library/busybox:1.36.1"


@dsl.container_component
def echo_message(message: str):
    """Print the message; the run succeeds when this pod exits 0."""
    return dsl.ContainerSpec(image=IMAGE, command=["sh", "-c", 'echo "$0"'], args=[message])


@dsl.pipeline(name="lakehouse-platform-validation",
              description="lakehouse.platform: one container step, run and deleted by the kubeflow validation")
def validation_pipeline(message: str = "lakehouse.platform validation"):
    # Never a cached result: the validation is that a pod ran.
    echo_message(message=message).set_caching_options(False)


if __name__ == "__main__":
    compiler.Compiler().compile(validation_pipeline, sys.argv[1] if len(sys.argv) > 1 else "validation_pipeline.yaml")
