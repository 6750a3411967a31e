"""lakehouse.platform.service_monitors: one ServiceMonitor per declared metrics endpoint (the real CRD's fields:
selector.matchLabels, namespaceSelector.matchNames, endpoints[].port/path/interval/scheme), none when off, and a
wrong item refused naming its index, its name and the key."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lakehouse.platform.plugins.filter.service_monitor import service_monitors
from ansible_collections.lakehouse.platform.plugins.filter.workloads import prerequisites_missing

HEAD = {"name": "ml-cluster-head", "selector": {"ray.io/cluster": "ml-cluster", "ray.io/node-type": "head"},
        "ports": ["metrics", "dash-metrics"]}


def test_one_service_monitor_per_endpoint_with_the_prometheus_selector_labels():
    (monitor,) = service_monitors([HEAD], "ml-platform", True, {"release": "kube-prometheus-stack"})
    assert monitor == {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": "ml-cluster-head", "namespace": "ml-platform", "labels": {"release": "kube-prometheus-stack"}},
        "spec": {"selector": {"matchLabels": {"ray.io/cluster": "ml-cluster", "ray.io/node-type": "head"}},
                 "namespaceSelector": {"matchNames": ["ml-platform"]},
                 "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s", "scheme": "http"},
                               {"port": "dash-metrics", "path": "/metrics", "interval": "30s", "scheme": "http"}]}}


def test_none_when_off_and_no_labels_when_none_given():
    assert service_monitors([HEAD], "ml-platform", False) == []
    (monitor,) = service_monitors([dict(HEAD, interval="1m", path="/stats", scheme="https")], "ml-platform")
    assert "labels" not in monitor["metadata"]
    assert monitor["spec"]["endpoints"][0] == {"port": "metrics", "path": "/stats", "interval": "1m", "scheme": "https"}


@pytest.mark.parametrize("item, fragment", [
    (dict(HEAD, name="Head_1"), "service_monitors[0]: name 'Head_1' must be a DNS label"),
    (dict(HEAD, selector={}), "service_monitors[0] (ml-cluster-head): selector must name the Service's labels"),
    (dict(HEAD, ports="metrics"), "ports must list the names of the Service's metrics ports, got 'metrics'"),
    (dict(HEAD, interval="30 seconds"), "interval '30 seconds' is not a duration"),
    (dict(HEAD, path="metrics"), "path 'metrics' must start with /"),
    (dict(HEAD, scheme="tcp"), "scheme 'tcp' must be http or https"),
    (dict(HEAD, port="metrics"), "unknown key(s) port"),
])
def test_a_wrong_endpoint_is_refused_naming_it(item, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        service_monitors([item], "ml-platform", True)
    assert fragment in str(err.value)


def test_labels_must_be_a_mapping():
    with pytest.raises(AnsibleFilterError, match="platform_service_monitor_labels must be a mapping"):
        service_monitors([HEAD], "ml-platform", True, ["release"])


def test_an_optional_prerequisite_is_looked_for_never_refused():
    crd = {"what": "ServiceMonitor CRD", "kind": "CustomResourceDefinition", "name": "servicemonitors.monitoring.coreos.com",
           "ready": True}
    assert prerequisites_missing([{"item": dict(crd, optional=True), "resources": []}]) == []
    assert prerequisites_missing([{"item": crd, "resources": []}]) == [
        "ServiceMonitor CRD (CustomResourceDefinition servicemonitors.monitoring.coreos.com): not found"]
