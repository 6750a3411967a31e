"""The kubeflow spark-operator's SparkApplication controller (sparkoperator.k8s.io/v1beta2), and the part of the
Spark driver that starts executors, through the API only.

What it writes, following spark-operator v2.5.2 (internal/controller/sparkapplication/controller.go):
- a new SparkApplication ("" state): "spark-submit" creates the driver pod `<name>-driver` (or
  `spec.driver.podName`; labels spark-role=driver, sparkoperator.k8s.io/app-name, launched-by-spark-operator,
  submission-id, spark-app-selector; owner the SparkApplication; restartPolicy Never), and the status
  SUBMITTED with submissionAttempts/executionAttempts 1, lastSubmissionAttemptTime, submissionID,
  sparkApplicationId and driverInfo.podName;
- driver pod Running -> RUNNING; the "driver" creates `spec.executor.instances` executor pods
  `<name>-<hex>-exec-<n>` (spark-role=executor, owner the driver pod) and executorState follows their phases;
- driver pod Succeeded -> SUCCEEDING -> COMPLETED, Failed -> FAILING -> FAILED with the operator's message
  `driver container failed with ExitCode: <code>, Reason: <reason>`; terminationTime; executors are deleted
  (the driver removes them on exit) and recorded COMPLETED / FAILED;
- driver pod gone: FAILED, `driver pod not found`.

The kubelet simulator (core.PodLifecycle) runs the pods: the driver carries simulator annotations for the
SparkApplication's behaviour, so it ends Succeeded, or Failed (container terminated, reason Error, exit code 1,
pod message = the `message` setting) in mode `fail`. Behaviour (see behaviour.py; namespace level
`sparkapplication.sim.lakehouse.test/<setting>`):
- `mode`: `ready` (also flap/degrade: a batch job has no readiness to lose) completes after `delay-seconds`;
  `fail` ends FAILED; `never-ready` leaves the driver Pending (Unschedulable, the quota is full), the
  application stays SUBMITTED.
- `submission-mode: fail`: spark-submit fails, no driver pod, SUBMISSION_FAILED with
  `failed to run spark-submit: <message>`.

Simplifications: no UI Service/Ingress, no retries (restartPolicy is taken as Never), no TTL, no webhook (pod
volumes are spec.volumes as they are), Python and Scala applications are started alike.
"""
import hashlib

from . import behaviour as beh
from .objects import meta, name_of, namespace_of, owner_reference, pod_phase, rfc3339
from .runtime import Controller

API_VERSION = "sparkoperator.k8s.io/v1beta2"
COMPONENT = "spark-operator"
APP_NAME_LABEL = "sparkoperator.k8s.io/app-name"
ROLE_LABEL = "spark-role"
LAUNCHED_LABEL = "sparkoperator.k8s.io/launched-by-spark-operator"
SUBMISSION_LABEL = "sparkoperator.k8s.io/submission-id"
SELECTOR_LABEL = "spark-app-selector"
DRIVER_CONTAINER = "spark-kubernetes-driver"
EXECUTOR_CONTAINER = "spark-kubernetes-executor"
SUBMISSION_MODE = "submission-mode"

NEW, SUBMITTED, RUNNING = "", "SUBMITTED", "RUNNING"
SUCCEEDING, COMPLETED, FAILING, FAILED = "SUCCEEDING", "COMPLETED", "FAILING", "FAILED"
SUBMISSION_FAILED = "SUBMISSION_FAILED"
TERMINAL = (COMPLETED, FAILED, SUBMISSION_FAILED)
EXECUTOR_STATES = {"Pending": "PENDING", "Running": "RUNNING", "Succeeded": "COMPLETED", "Failed": "FAILED"}
# Spark's default memory overhead: 10% of the memory, at least 384MiB (JVM and Python alike here).
MIN_OVERHEAD_MIB = 384


def spark_mib(value):
    """Spark memory notation (512m, 1g, 2048k, or a plain number of MiB) in MiB."""
    text = str(value).strip().lower()
    if text.endswith("b"):
        text = text[:-1]
    factors = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    if text and text[-1] in factors:
        return int(float(text[:-1]) * factors[text[-1]])
    return int(float(text))


def pod_memory_mib(role_spec):
    """What Spark asks for a driver/executor pod: memory + memoryOverhead (or the default overhead)."""
    memory = spark_mib(role_spec.get("memory") or "1g")
    overhead = role_spec.get("memoryOverhead")
    extra = spark_mib(overhead) if overhead else max(MIN_OVERHEAD_MIB, int(memory * 0.1))
    return memory + extra


def pod_resources(role_spec):
    cores = role_spec.get("cores") or 1
    memory = f"{pod_memory_mib(role_spec)}Mi"
    requests = {"cpu": str(role_spec.get("coreRequest") or cores), "memory": memory}
    limits = {"memory": memory}
    if role_spec.get("coreLimit"):
        limits["cpu"] = str(role_spec["coreLimit"])
    return {"requests": requests, "limits": limits}


def driver_pod_name(app):
    return ((app.get("spec") or {}).get("driver") or {}).get("podName") or f"{name_of(app)}-driver"


def app_ids(app):
    """(submissionID, sparkApplicationId, executor name prefix), stable per SparkApplication uid."""
    digest = hashlib.sha256((meta(app).get("uid") or name_of(app)).encode()).hexdigest()
    submission = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return submission, f"spark-{digest[32:64]}", f"{name_of(app)}-{digest[:16]}"


def pod_labels(app, role):
    submission, app_id, _prefix = app_ids(app)
    role_spec = (app.get("spec") or {}).get(role) or {}
    labels = dict(role_spec.get("labels") or {})
    labels.update({APP_NAME_LABEL: name_of(app), LAUNCHED_LABEL: "true", SUBMISSION_LABEL: submission,
                   SELECTOR_LABEL: app_id, ROLE_LABEL: role})
    return labels


def spark_pod(app, role, name, container_name, args, owner, node_name, annotations):
    spec = app.get("spec") or {}
    role_spec = spec.get(role) or {}
    container = {"name": container_name, "image": role_spec.get("image") or spec.get("image") or "",
                 "imagePullPolicy": spec.get("imagePullPolicy") or "IfNotPresent", "args": args,
                 "resources": pod_resources(role_spec)}
    if role_spec.get("volumeMounts"):
        container["volumeMounts"] = role_spec["volumeMounts"]
    mounted = {m.get("name") for m in role_spec.get("volumeMounts") or []}
    pod_spec = {"restartPolicy": "Never", "containers": [container],
                "serviceAccountName": role_spec.get("serviceAccount") or "default"}
    volumes = [v for v in spec.get("volumes") or [] if v.get("name") in mounted]
    if volumes:
        pod_spec["volumes"] = volumes
    if node_name:
        pod_spec["nodeName"] = node_name
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": namespace_of(app), "labels": pod_labels(app, role),
                        "ownerReferences": [owner_reference(owner)]},
           "spec": pod_spec}
    if annotations:
        pod["metadata"]["annotations"] = annotations
    return pod


def driver_args(app):
    spec = app.get("spec") or {}
    args = ["driver", "--properties-file", "/opt/spark/conf/spark.properties"]
    if spec.get("type") == "Python":
        args += ["--class", "org.apache.spark.deploy.PythonRunner"]
    elif spec.get("mainClass"):
        args += ["--class", spec["mainClass"]]
    return args + [spec.get("mainApplicationFile") or ""] + [str(a) for a in spec.get("arguments") or []]


def driver_error_message(pod):
    """The operator's message for a failed driver (GetDriverContainerTerminatedState)."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == DRIVER_CONTAINER:
            terminated = (status.get("state") or {}).get("terminated")
            if terminated:
                return (f"driver container failed with ExitCode: {terminated.get('exitCode', 0)}, "
                        f"Reason: {terminated.get('reason', '')}")
    return "driver container status missing"


def _app_keys(controller, pod):
    app = (meta(pod).get("labels") or {}).get(APP_NAME_LABEL)
    return [(namespace_of(pod), app)] if app else []


class SparkApplicationController(Controller):
    api_version, kind = API_VERSION, "SparkApplication"
    watches = (("v1", "Pod", _app_keys),)
    group = "spark"

    def reconcile(self, app, /):
        if meta(app).get("deletionTimestamp"):
            return None
        status = app.get("status") or {}
        state = (status.get("applicationState") or {}).get("state") or NEW
        if state in TERMINAL:
            return None
        if state == NEW:
            return self._submit(app)
        return self._track(app, state)

    # -- submission ---------------------------------------------------------------------------------------------
    def _submission_failing(self, app):
        value = beh.lookup(SUBMISSION_MODE, meta(app).get("annotations"),
                           self.ctx.namespace_annotations(namespace_of(app)), self.kind)
        return value == beh.MODE_FAIL

    def _submit(self, app):
        behaviour = self.ctx.behaviour(app)
        now = rfc3339()
        submission, app_id, _prefix = app_ids(app)
        base = {"submissionAttempts": 1, "executionAttempts": 1, "lastSubmissionAttemptTime": now,
                "submissionID": submission}
        if self._submission_failing(app):
            message = behaviour.failure_message(
                'exit status 1: Exception in thread "main" io.fabric8.kubernetes.client.KubernetesClientException: '
                f'pods "{driver_pod_name(app)}" is forbidden: exceeded quota')
            self.write_status(app, dict(base, applicationState={
                "state": SUBMISSION_FAILED, "errorMessage": f"failed to run spark-submit: {message}"},
                driverInfo={}, terminationTime=now))
            self.ctx.record_event(app, "Warning", "SparkApplicationSubmissionFailed",
                                  f'SparkApplication {name_of(app)} failed submission: {message}', COMPONENT)
            return None
        never = behaviour.mode == beh.MODE_NEVER_READY
        mode = beh.MODE_FAIL if behaviour.mode == beh.MODE_FAIL else beh.MODE_READY
        annotations = {} if never else beh.Behaviour(behaviour.delay, mode, message=behaviour.message).annotations()
        pod = spark_pod(app, "driver", driver_pod_name(app), DRIVER_CONTAINER, driver_args(app), app,
                        None if never else self.ctx.pick_node(), annotations)
        created = self.kube.create_if_absent(pod)
        if never:
            # Nobody schedules it: Pending for good (what a full quota or a missing node looks like).
            self.kube.patch("v1", "Pod", name_of(created), namespace_of(created), {"status": {
                "phase": "Pending", "conditions": [{
                    "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": now,
                    "message": behaviour.failure_message("0/1 nodes are available: 1 Insufficient cpu.")}]}},
                subresource="status")
        self.write_status(app, dict(base, applicationState={"state": SUBMITTED}, sparkApplicationId=app_id,
                                    driverInfo={"podName": driver_pod_name(app)}))
        self.ctx.record_event(app, "Normal", "SparkApplicationSubmitted",
                              f"SparkApplication {name_of(app)} was submitted successfully", COMPONENT)
        return None

    # -- after submission ---------------------------------------------------------------------------------------
    def _executors(self, app):
        pods = self.kube.list("v1", "Pod", namespace_of(app),
                              label_selector=f"{APP_NAME_LABEL}={name_of(app)},{ROLE_LABEL}=executor")
        return [p for p in pods if not meta(p).get("deletionTimestamp")]

    def _start_executors(self, app, driver, executors):
        _submission, _app_id, prefix = app_ids(app)
        want = int(((app.get("spec") or {}).get("executor") or {}).get("instances") or 1)
        have = {name_of(p) for p in executors}
        # Executors run until the driver ends (then it deletes them): never "ready to complete" by themselves.
        annotations = beh.Behaviour(0, beh.MODE_NEVER_READY).annotations()
        for number in range(1, want + 1):
            name = f"{prefix}-exec-{number}"
            if name in have:
                continue
            pod = spark_pod(app, "executor", name, EXECUTOR_CONTAINER, ["executor"], driver, self.ctx.pick_node(),
                            annotations)
            pod["metadata"]["labels"]["spark-exec-id"] = str(number)
            executors.append(self.kube.create_if_absent(pod))
        return executors

    def _track(self, app, state):
        status = dict(app.get("status") or {})
        now = rfc3339()
        driver = self.kube.get("v1", "Pod", driver_pod_name(app), namespace_of(app))
        executors = self._executors(app)
        executor_state = dict(status.get("executorState") or {})
        if driver is None or meta(driver).get("deletionTimestamp"):
            self._end(app, status, executors, executor_state, FAILED, "driver pod not found", now)
            return None
        phase = pod_phase(driver)
        if state in (SUCCEEDING, FAILING):
            final = COMPLETED if state == SUCCEEDING else FAILED
            self._end(app, status, executors, executor_state, final, None, now)
            return None
        if phase == "Running":
            executors = self._start_executors(app, driver, executors)
            executor_state.update({name_of(p): EXECUTOR_STATES.get(pod_phase(p) or "Pending", "UNKNOWN")
                                   for p in executors})
            status.update(applicationState={"state": RUNNING}, executorState=executor_state)
            self.write_status(app, status)
            if state != RUNNING:
                self.ctx.record_event(app, "Normal", "SparkDriverRunning",
                                      f"Driver {name_of(driver)} is running", COMPONENT)
            return None
        if phase in ("Succeeded", "Failed"):
            succeeded = phase == "Succeeded"
            app_state = {"state": SUCCEEDING if succeeded else FAILING}
            if not succeeded:
                app_state["errorMessage"] = driver_error_message(driver)
            status.update(applicationState=app_state, terminationTime=now)
            self.write_status(app, status)
            self.ctx.record_event(app, "Normal" if succeeded else "Warning",
                                  "SparkDriverCompleted" if succeeded else "SparkDriverFailed",
                                  f"Driver {name_of(driver)} {'completed' if succeeded else 'failed'}", COMPONENT)
            return 0.2  # the operator's next pass moves SUCCEEDING/FAILING on
        return None  # Pending: stays SUBMITTED, a pod event brings us back

    def _end(self, app, status, executors, executor_state, final, message, now):
        for pod in executors:
            self.kube.delete("v1", "Pod", name_of(pod), namespace_of(pod))
            executor_state[name_of(pod)] = "COMPLETED" if final == COMPLETED else "FAILED"
        app_state = dict(status.get("applicationState") or {})
        app_state["state"] = final
        if message:
            app_state["errorMessage"] = message
        status.update(applicationState=app_state)
        status.setdefault("terminationTime", now)
        if executor_state:
            status["executorState"] = executor_state
        self.write_status(app, status)
        if final == COMPLETED:
            self.ctx.record_event(app, "Normal", "SparkApplicationCompleted",
                                  f"SparkApplication {name_of(app)} completed", COMPONENT)
        else:
            self.ctx.record_event(app, "Warning", "SparkApplicationFailed",
                                  f"SparkApplication {name_of(app)} failed: {app_state.get('errorMessage', '')}",
                                  COMPONENT)


__all__ = ["SparkApplicationController", "driver_error_message", "pod_memory_mib", "pod_resources", "spark_mib"]
