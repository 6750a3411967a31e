"""The spark_operator role (phase 2) on its own: render (objects, pinned chart, quota), the test program run by
a real local Spark with the arguments the SparkApplication names, bad settings refused before anything is
written, apply against the Kubernetes API test server and the simulators (validation COMPLETED, rerun
changed=0, a FAILED job failing fast with the operator's errorMessage and the driver pod's status, rollback
of only what the component created), and the spark-operator simulator itself."""
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from tests.integration.k8s_compare import load_rendered, require_real_crds
from tests.integration.phase1_helpers import REPO_ROOT, run_playbook

SPARK_CRD = "sparkapplications.sparkoperator.k8s.io"
SA_API = "sparkoperator.k8s.io/v1beta2"
PROGRAM = os.path.join(REPO_ROOT, "roles", "spark_operator", "files", "pi.py")


def role_task(tasks_from="main", public=False):
    task = {"name": "Run spark_operator %s" % tasks_from,
            "ansible.builtin.include_role": {"name": "lakehouse.platform.spark_operator", "tasks_from": tasks_from}}
    if public:
        task["ansible.builtin.include_role"]["public"] = True
    return task


def _get(kube_api, path):
    status, body, _headers = kube_api.request("GET", path)
    return body if status == 200 else None


def _namespace(kube_api, name, annotations=None):
    status, body, _headers = kube_api.request("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": annotations or {}}})
    assert status == 201, body
    return name


@pytest.fixture
def suffix():
    return uuid.uuid4().hex[:6]


def render_vars(render_dir, **extra):
    return dict({"platform_mode": "render", "platform_phase": "phase2", "platform_render_dir": str(render_dir)},
                **extra)


def apply_vars(suffix, **extra):
    return dict({"platform_mode": "apply", "platform_phase": "phase2", "platform_state_namespace": "state-" + suffix,
                 "spark_operator_namespace": "spark-operator-" + suffix,
                 "spark_operator_job_namespace": "spark-jobs-" + suffix,
                 "spark_operator_wait_timeout": 120, "spark_operator_validation_timeout": 120,
                 "spark_operator_validation_failure_grace": 1}, **extra)


# -- render ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("spark-render")
    render_dir = tmp_path / "build"
    run = run_playbook(tmp_path, [role_task("apply", public=True)], extra_vars=render_vars(render_dir),
                       results=["spark_operator_test_application"])
    assert run.returncode == 0, run
    return load_rendered(str(render_dir / "phase2" / "spark_operator")), run.results["spark_operator_test_application"]


def test_render_writes_the_namespaces_driver_rbac_quota_and_the_pinned_release(rendered):
    objects, _application = rendered
    kinds = sorted(kind for kind, _ns, _name in objects)
    assert kinds == sorted(["Namespace", "Namespace", "ServiceAccount", "Role", "RoleBinding", "ResourceQuota",
                            "ConfigMap", "HelmRepository", "HelmRelease"]), kinds
    assert ("Namespace", "", "spark-operator") in objects and ("Namespace", "", "spark-jobs") in objects
    assert not [key for key in objects if key[0] == "Secret"]
    assert not [key for key in objects if key[0] == "SparkApplication"], "the test job is validation, not desired state"

    quota = objects[("ResourceQuota", "spark-jobs", "spark-jobs")]
    assert quota["spec"]["hard"] == {"requests.cpu": "12", "requests.memory": "42Gi",
                                     "limits.cpu": "12", "limits.memory": "42Gi"}
    role = objects[("Role", "spark-jobs", "spark-driver")]
    assert role["rules"] == [{
        "apiGroups": [""], "resources": ["pods", "configmaps", "persistentvolumeclaims", "services"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]}]
    binding = objects[("RoleBinding", "spark-jobs", "spark-driver")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "spark-driver", "namespace": "spark-jobs"}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "spark-driver"}
    assert ("ServiceAccount", "spark-jobs", "spark-driver") in objects

    repository = objects[("HelmRepository", "spark-operator", "spark-operator")]
    assert repository["spec"]["url"] == "https://kubeflow.github.io/spark-operator"
    release = objects[("HelmRelease", "spark-operator", "spark-operator")]
    chart = release["spec"]["chart"]["spec"]
    assert (chart["chart"], chart["version"]) == ("spark-operator", "2.5.2")
    values = release["spec"]["values"]
    assert values["spark"] == {"jobNamespaces": ["spark-jobs"], "rbac": {"create": False},
                               "serviceAccount": {"create": False, "name": "spark-driver"}}
    assert values["webhook"]["enable"] is True
    assert values["controller"]["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}
    for obj in objects.values():
        assert obj["metadata"]["labels"]["lakehouse.platform/component"] == "spark_operator"

    with open(PROGRAM) as handle:
        assert objects[("ConfigMap", "spark-jobs", "lakehouse-spark-pi-program")]["data"]["pi.py"] == handle.read()


def test_the_test_application_names_the_shipped_program_pinned_image_and_fits_the_quota(rendered):
    _objects, application = rendered
    spec = application["spec"]
    assert application["apiVersion"] == SA_API
    assert (spec["type"], spec["image"], spec["sparkVersion"]) == ("Python", "docker.io/apache/spark:4.0.4", "4.0.4")
    assert spec["mainApplicationFile"] == "local:///opt/lakehouse/spark/pi.py"
    assert spec["arguments"] == ["10"]
    assert spec["volumes"] == [{"name": "program", "configMap": {"name": "lakehouse-spark-pi-program"}}]
    assert spec["driver"]["volumeMounts"] == [
        {"name": "program", "mountPath": "/opt/lakehouse/spark", "readOnly": True}]
    assert spec["driver"]["serviceAccount"] == "spark-driver"
    # A quota on limits.cpu admits only pods with a CPU limit: Spark sets one from coreLimit.
    assert spec["driver"]["coreLimit"] == "1" and spec["executor"]["coreLimit"] == "1"
    assert spec["executor"]["instances"] == 1


def _program_from(objects, application, workdir):
    """The file the driver runs: mainApplicationFile resolved through the driver's volume mounts to the ConfigMap."""
    spec = application["spec"]
    path = spec["mainApplicationFile"][len("local://"):]
    mount = next(m for m in spec["driver"]["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/"))
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    configmap = objects[("ConfigMap", application["metadata"]["namespace"], volume["configMap"]["name"])]
    key = path[len(mount["mountPath"].rstrip("/")) + 1:]
    local = workdir / key
    local.write_text(configmap["data"][key])
    return local


def test_a_local_spark_runs_the_program_and_arguments_of_the_test_application(rendered, tmp_path):
    """The driver's file (mainApplicationFile through the driver's volume mount to the rendered ConfigMap) and the
    SparkApplication's arguments, run by spark-submit of the pinned pyspark (tests/requirements.txt) on local[1].
    The program uses only the RDD API, the same in the image's Spark 4.0.4 and the pinned pyspark."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java for a local Spark")
    objects, application = rendered
    program = _program_from(objects, application, tmp_path)
    spark_submit = os.path.join(os.path.dirname(sys.executable), "spark-submit")
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1", SPARK_LOCAL_DIRS=str(tmp_path))
    started = time.monotonic()
    run = subprocess.run([spark_submit, "--master", "local[1]", "--conf", "spark.ui.enabled=false",
                          "--conf", "spark.driver.memory=512m", str(program)] + application["spec"]["arguments"],
                         capture_output=True, text=True, timeout=180, env=env, cwd=str(tmp_path), check=False)
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    assert "Pi is roughly 3.1" in run.stdout and "(10 partitions)" in run.stdout, run.stdout
    assert time.monotonic() - started < 120


# -- bad settings ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings, named", [
    ({"spark_operator_jobs_quota": {"cpu": "1", "memory": "42Gi"}},
     "spark_operator_jobs_quota (cpu 1, memory 42Gi) is smaller"),
    ({"spark_operator_jobs_quota": {"cpu": "12", "memory": "1Gi"}}, "memory 1792Mi"),
    ({"spark_operator_test_job": {
        "name": "pi", "partitions": 10, "driver": {"cores": 1, "memory": "512m", "memory_overhead": "384m"},
        "executor": {"instances": 0, "cores": 1, "memory": "512m", "memory_overhead": "384m"}}},
     "executor.instances=0"),
    ({"spark_operator_image": ""}, "spark_operator_image and spark_operator_spark_version must not be empty (got '',"),
], ids=["quota-cpu", "quota-memory", "zero-executors", "empty-image"])
def test_bad_settings_are_refused_before_anything_is_written(tmp_path, settings, named):
    render_dir = tmp_path / "build"
    run = run_playbook(tmp_path, [role_task("apply")], extra_vars=render_vars(render_dir, **settings))
    assert run.returncode != 0
    assert named in run.errors(), run.errors()
    assert not render_dir.exists()


# -- apply -------------------------------------------------------------------------------------------------------
def test_apply_validates_with_a_completed_spark_application_reruns_unchanged_and_rolls_back(
        tmp_path, kube_api, simulators, suffix):
    require_real_crds(kube_api, [SPARK_CRD])
    variables = apply_vars(suffix)
    ops, jobs = variables["spark_operator_namespace"], variables["spark_operator_job_namespace"]
    run = run_playbook(tmp_path, [role_task()], extra_vars=variables, env=kube_api.env,
                       results=["spark_operator_validation", "platform_validations"])
    assert run.returncode == 0, run
    validation = run.results["spark_operator_validation"]
    assert validation["state"] == "COMPLETED", validation
    assert validation["driver_pod"] == "lakehouse-spark-pi-driver"
    assert validation["application"] == "%s/lakehouse-spark-pi" % jobs
    assert validation["spark_application_id"].startswith("spark-")
    assert float(validation["duration"]) < 60
    assert run.results["platform_validations"]["spark_operator"] == validation
    # The test job is gone after success; what the component owns is there.
    assert _get(kube_api, "/apis/%s/namespaces/%s/sparkapplications/lakehouse-spark-pi" % (SA_API, jobs)) is None
    quota = _get(kube_api, "/api/v1/namespaces/%s/resourcequotas/spark-jobs" % jobs)
    assert quota["spec"]["hard"]["requests.memory"] == "42Gi" and quota["spec"]["hard"]["limits.cpu"] == "12"
    release = _get(kube_api, "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/spark-operator" % ops)
    assert release["spec"]["chart"]["spec"]["version"] == "2.5.2"
    assert [c["status"] for c in release["status"]["conditions"] if c["type"] == "Ready"] == ["True"]

    rerun = run_playbook(tmp_path, [role_task()], extra_vars=variables, env=kube_api.env,
                         results=["spark_operator_validation"])
    assert rerun.returncode == 0, rerun
    assert rerun.changed_tasks() == [], rerun.changed_tasks()
    assert rerun.results["spark_operator_validation"]["state"] == "COMPLETED"

    rollback = run_playbook(tmp_path, [role_task("rollback")], extra_vars=variables, env=kube_api.env)
    assert rollback.returncode == 0, rollback
    for path in ("/api/v1/namespaces/%s/resourcequotas/spark-jobs" % jobs,
                 "/api/v1/namespaces/%s/serviceaccounts/spark-driver" % jobs,
                 "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/roles/spark-driver" % jobs,
                 "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings/spark-driver" % jobs,
                 "/api/v1/namespaces/%s/configmaps/lakehouse-spark-pi-program" % jobs,
                 "/apis/helm.toolkit.fluxcd.io/v2/namespaces/%s/helmreleases/spark-operator" % ops):
        assert _get(kube_api, path) is None, path
    # keep_data (default): the namespaces stay; without it, the ones the component created go.
    assert _get(kube_api, "/api/v1/namespaces/" + jobs) is not None
    assert _get(kube_api, "/api/v1/namespaces/" + ops) is not None
    purge = run_playbook(tmp_path, [role_task("rollback")], extra_vars=dict(variables, spark_operator_keep_data=False),
                         env=kube_api.env)
    assert purge.returncode == 0, purge
    for name in (jobs, ops):
        namespace = _get(kube_api, "/api/v1/namespaces/" + name)
        assert namespace is None or namespace["metadata"].get("deletionTimestamp"), name


def test_a_failed_spark_application_fails_fast_naming_the_error_and_the_driver_pod(
        tmp_path, kube_api, simulators, suffix):
    require_real_crds(kube_api, [SPARK_CRD])
    variables = apply_vars(suffix)
    jobs = variables["spark_operator_job_namespace"]
    # The job namespace exists before the role (so it is not the component's) and makes SparkApplications fail.
    _namespace(kube_api, jobs)
    simulators.set_namespace_behaviour(jobs, kind="SparkApplication", mode="fail",
                                       message="java.lang.OutOfMemoryError: Java heap space")
    variables["spark_operator_validation_timeout"] = 300
    started = time.monotonic()
    run = run_playbook(tmp_path, [role_task()], extra_vars=variables, env=kube_api.env)
    elapsed = time.monotonic() - started
    assert run.returncode != 0
    errors = run.errors()
    assert ("spark_operator: SparkApplication %s/lakehouse-spark-pi did not complete: state FAILED" % jobs) in errors
    assert "errorMessage 'driver container failed with ExitCode: 1, Reason: Error'" in errors, errors
    assert ("driver pod lakehouse-spark-pi-driver: phase Failed (Error: java.lang.OutOfMemoryError: Java heap space)"
            in errors), errors
    assert "container spark-kubernetes-driver terminated reason Error exit code 1" in errors
    assert elapsed < 120, "failed after %.0fs: not fast" % elapsed
    # Kept for inspection; the next run deletes it before it runs the job again.
    app = _get(kube_api, "/apis/%s/namespaces/%s/sparkapplications/lakehouse-spark-pi" % (SA_API, jobs))
    assert app["status"]["applicationState"]["state"] == "FAILED"


# -- the simulator ------------------------------------------------------------------------------------------------
def _application(name, namespace, instances=1, annotations=None):
    return {"apiVersion": SA_API, "kind": "SparkApplication",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
            "spec": {"type": "Python", "mode": "cluster", "image": "docker.io/apache/spark:4.0.4",
                     "sparkVersion": "4.0.4",
                     "mainApplicationFile": "local:///opt/spark/examples/src/main/python/pi.py", "arguments": ["10"],
                     "driver": {"cores": 1, "coreLimit": "1", "memory": "512m", "serviceAccount": "spark-driver"},
                     "executor": {"instances": instances, "cores": 1, "memory": "1g", "memoryOverhead": "512m"}}}


def _wait(read, check, timeout=20.0):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = read()
        if value is not None and check(value):
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met within %ss; last value: %r" % (timeout, value))


def _state(app):
    return ((app.get("status") or {}).get("applicationState") or {}).get("state")


def test_simulator_runs_driver_and_executors_to_completed(kube_api, simulators, suffix):
    kube = simulators.kube
    ns = _namespace(kube_api, "spark-sim-" + suffix)
    kube.create(_application("pi", ns, instances=2, annotations={"sim.lakehouse.test/delay-seconds": "3"}))

    def read():
        return kube.get(SA_API, "SparkApplication", "pi", ns)

    running = _wait(read, lambda a: _state(a) == "RUNNING" and len(a["status"].get("executorState") or {}) == 2)
    status = running["status"]
    assert status["driverInfo"]["podName"] == "pi-driver"
    assert status["submissionAttempts"] == 1 and status["sparkApplicationId"].startswith("spark-")
    executors = kube.list("v1", "Pod", ns, label_selector="sparkoperator.k8s.io/app-name=pi,spark-role=executor")
    assert len(executors) == 2
    assert all(p["metadata"]["ownerReferences"][0]["name"] == "pi-driver" for p in executors)
    assert executors[0]["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "1536Mi"}
    driver = kube.get("v1", "Pod", "pi-driver", ns)
    assert driver["spec"]["containers"][0]["args"][-2:] == ["local:///opt/spark/examples/src/main/python/pi.py", "10"]
    assert driver["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "896Mi"}
    assert driver["spec"]["serviceAccountName"] == "spark-driver"

    done = _wait(read, lambda a: _state(a) == "COMPLETED")
    assert set(done["status"]["executorState"].values()) == {"COMPLETED"}
    assert done["status"].get("terminationTime")
    assert kube.get("v1", "Pod", "pi-driver", ns)["status"]["phase"] == "Succeeded"
    _wait(lambda: kube.list("v1", "Pod", ns, label_selector="spark-role=executor"), lambda pods: pods == [])


def test_simulator_submission_failure_and_a_job_that_never_starts(kube_api, simulators, suffix):
    kube = simulators.kube
    ns = _namespace(kube_api, "spark-sim-" + suffix)
    kube.create(_application("rejected", ns, annotations={"sim.lakehouse.test/submission-mode": "fail",
                                                          "sim.lakehouse.test/message": "no image"}))
    kube.create(_application("stuck", ns, annotations={"sim.lakehouse.test/mode": "never-ready"}))
    rejected = _wait(lambda: kube.get(SA_API, "SparkApplication", "rejected", ns),
                     lambda a: _state(a) == "SUBMISSION_FAILED")
    assert rejected["status"]["applicationState"]["errorMessage"] == "failed to run spark-submit: no image"
    assert kube.get("v1", "Pod", "rejected-driver", ns) is None
    stuck = _wait(lambda: kube.get(SA_API, "SparkApplication", "stuck", ns), lambda a: _state(a) == "SUBMITTED")
    time.sleep(2)
    stuck = kube.get(SA_API, "SparkApplication", "stuck", ns)
    assert _state(stuck) == "SUBMITTED"
    pod = kube.get("v1", "Pod", "stuck-driver", ns)
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["conditions"][0]["reason"] == "Unschedulable"
