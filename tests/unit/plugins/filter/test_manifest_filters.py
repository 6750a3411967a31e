"""manifest_filename / manifest_ref / manifest_labelled: the naming and labelling render and apply share."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.manifest import (manifest_filename, manifest_labelled,
                                                                            manifest_ref)

HR = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
      "metadata": {"name": "Hive-Metastore", "namespace": "data-platform", "labels": {"app": "hms", "x": "mine"}}}


def test_filename_and_reference():
    assert manifest_filename(HR) == "helmrelease-hive-metastore.yaml"
    assert manifest_ref(HR) == {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                                "namespace": "data-platform", "name": "Hive-Metastore"}
    assert manifest_ref({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dp"}})["namespace"] == ""


def test_labels_are_added_to_a_copy_and_ours_win():
    labelled = manifest_labelled(HR, {"x": "platform", "lakehouse.platform/phase": "phase1"})
    assert labelled["metadata"]["labels"] == {"app": "hms", "x": "platform", "lakehouse.platform/phase": "phase1"}
    assert HR["metadata"]["labels"] == {"app": "hms", "x": "mine"}


def test_objects_without_identity_are_refused():
    with pytest.raises(AnsibleFilterError, match="needs apiVersion, kind and metadata.name"):
        manifest_filename({"kind": "ConfigMap", "metadata": {}})
    with pytest.raises(AnsibleFilterError, match="expected a Kubernetes object"):
        manifest_ref("ConfigMap/x")
