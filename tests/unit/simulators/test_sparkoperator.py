"""The spark-operator simulator's pure parts: Spark memory notation, pod requests, driver command, the
operator's failure message, ids stable per application."""
import pytest

from tests.simulators.sparkoperator import (app_ids, driver_args, driver_error_message, driver_pod_name,
                                            pod_memory_mib, pod_resources, spark_mib, spark_pod)


def app(**spec):
    base = {"type": "Python", "image": "docker.io/apache/spark:4.0.4",
            "mainApplicationFile": "local:///opt/lakehouse/spark/pi.py", "arguments": ["10"],
            "driver": {"cores": 1, "memory": "512m", "serviceAccount": "spark-driver"},
            "executor": {"instances": 2, "cores": 1, "memory": "1g"}}
    base.update(spec)
    return {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
            "metadata": {"name": "pi", "namespace": "jobs", "uid": "1234"}, "spec": base}


@pytest.mark.parametrize("text, mib", [("512m", 512), ("1g", 1024), ("2048k", 2), ("1G", 1024), ("384", 384),
                                       ("1gb", 1024)])
def test_spark_memory_notation_in_mib(text, mib):
    assert spark_mib(text) == mib


def test_pod_memory_is_memory_plus_overhead_at_least_384mib():
    assert pod_memory_mib({"memory": "512m"}) == 512 + 384
    assert pod_memory_mib({"memory": "8g"}) == 8192 + 819
    assert pod_memory_mib({"memory": "512m", "memoryOverhead": "128m"}) == 640


def test_pod_resources_cpu_limit_only_with_core_limit():
    assert pod_resources({"cores": 2, "memory": "1g"}) == {"requests": {"cpu": "2", "memory": "1408Mi"},
                                                           "limits": {"memory": "1408Mi"}}
    assert pod_resources({"cores": 1, "coreLimit": "1", "memory": "512m", "memoryOverhead": "384m"})["limits"] == \
        {"memory": "896Mi", "cpu": "1"}


def test_driver_command_names_the_main_file_and_arguments():
    assert driver_args(app())[-3:] == ["org.apache.spark.deploy.PythonRunner", "local:///opt/lakehouse/spark/pi.py",
                                       "10"]
    scala = app(type="Scala", mainClass="org.apache.spark.examples.SparkPi",
                mainApplicationFile="local:///opt/spark/examples/jars/spark-examples.jar", arguments=[1000])
    assert driver_args(scala)[-4:] == ["--class", "org.apache.spark.examples.SparkPi",
                                       "local:///opt/spark/examples/jars/spark-examples.jar", "1000"]


def test_driver_failure_message_is_the_operators():
    pod = {"status": {"containerStatuses": [{"name": "spark-kubernetes-driver", "state": {
        "terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}
    assert driver_error_message(pod) == "driver container failed with ExitCode: 137, Reason: OOMKilled"
    assert driver_error_message({"status": {}}) == "driver container status missing"


def test_ids_are_stable_per_application_and_the_driver_pod_name():
    assert app_ids(app()) == app_ids(app())
    submission, app_id, prefix = app_ids(app())
    assert app_id.startswith("spark-") and len(app_id) == 38 and prefix.startswith("pi-")
    assert driver_pod_name(app()) == "pi-driver"
    assert driver_pod_name(app(driver={"podName": "custom"})) == "custom"


def test_driver_pod_mounts_only_the_volumes_it_names():
    spec = {"volumes": [{"name": "program", "configMap": {"name": "pi-program"}}, {"name": "other", "emptyDir": {}}],
            "driver": {"cores": 1, "memory": "512m", "serviceAccount": "spark-driver",
                       "volumeMounts": [{"name": "program", "mountPath": "/opt/lakehouse/spark"}]}}
    application = app(**spec)
    pod = spark_pod(application, "driver", "pi-driver", "spark-kubernetes-driver", driver_args(application),
                    application, None, {})
    assert pod["spec"]["volumes"] == [{"name": "program", "configMap": {"name": "pi-program"}}]
    assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["serviceAccountName"] == "spark-driver"
    labels = pod["metadata"]["labels"]
    assert labels["spark-role"] == "driver" and labels["sparkoperator.k8s.io/app-name"] == "pi"
    assert labels["sparkoperator.k8s.io/launched-by-spark-operator"] == "true"
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "SparkApplication"
