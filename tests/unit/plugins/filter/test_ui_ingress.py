"""lakehouse.platform.ui_ingress: one Ingress per UI host (TLS Secret <name>-tls, class, annotations), none
without a host, and a host or port that cannot be one named."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.ingress import ui_ingress


def test_one_ingress_routes_the_host_to_the_service():
    (ingress,) = ui_ingress("mlflow.254carbon.com", "mlflow", "ml-platform", "mlflow", "80", class_name="nginx",
                            annotations={"cert-manager.io/cluster-issuer": "letsencrypt"})
    assert ingress["apiVersion"] == "networking.k8s.io/v1" and ingress["kind"] == "Ingress"
    assert ingress["metadata"] == {"name": "mlflow", "namespace": "ml-platform",
                                   "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"}}
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "mlflow.254carbon.com"
    assert rule["http"]["paths"] == [{"path": "/", "pathType": "Prefix",
                                      "backend": {"service": {"name": "mlflow", "port": {"number": 80}}}}]
    assert ingress["spec"]["tls"] == [{"hosts": ["mlflow.254carbon.com"], "secretName": "mlflow-tls"}]
    assert ingress["spec"]["ingressClassName"] == "nginx"


def test_no_host_no_ingress_and_plain_http_without_tls():
    assert ui_ingress("", "ray", "ml-platform", "ml-cluster-head-svc", 8265) == []
    (ingress,) = ui_ingress("ray.example.com", "ray", "ml-platform", "ml-cluster-head-svc", 8265, tls=False)
    assert "tls" not in ingress["spec"] and "ingressClassName" not in ingress["spec"]
    assert "annotations" not in ingress["metadata"]


def test_a_bad_host_or_port_is_named():
    with pytest.raises(AnsibleFilterError, match="host 'Ray_UI.example.com' must be a DNS name"):
        ui_ingress("Ray_UI.example.com", "ray", "ml", "svc", 80)
    with pytest.raises(AnsibleFilterError, match="port 'http' must be a number"):
        ui_ingress("ray.example.com", "ray", "ml", "svc", "http")
