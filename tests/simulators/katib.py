"""Katib's Experiment controller (kubeflow.org/v1beta1), as far as the status an Experiment reports.

What it writes, following katib v0.17.0 (pkg/controller.v1beta1/experiment/util/status_util.go and
pkg/apis/controller/experiments/v1beta1/util.go):
- a new Experiment: `startTime`, condition Created (reason ExperimentCreated, "Experiment is created"), then
  Running (ExperimentRunning, "Experiment is running") with `parallelTrialCount` trials (capped by
  `maxTrialCount`) running: `trials`, `trialsRunning`, `runningTrialList` (names `<experiment>-<8 chars>`);
- mode `ready`, after `delay-seconds`: `maxTrialCount` trials succeeded (`trialsSucceeded`,
  `succeededTrialList`), `currentOptimalTrial` (best trial, its parameter assignments at the low end of each
  feasible space, the objective metric observed), Running=False and Succeeded=True with reason
  ExperimentMaxTrialsReached, "Experiment has succeeded because max trial count has reached", `completionTime`;
- mode `fail`: trials fail; with `maxFailedTrialCount` that many fail and the Experiment is Failed=True, reason
  ExperimentFailed, "Experiment has failed because max failed count has reached". Without it Katib counts failed
  trials as completed, so `maxTrialCount` failed trials end Succeeded (ExperimentMaxTrialsReached) with
  `trialsSucceeded` 0, as the real controller does;
- mode `never-ready` (and flap/degrade: an experiment has no readiness to lose): it stays Running.
A completed Experiment (Succeeded or Failed) is not touched again, like Katib's.

Simplifications: no Suggestion or Trial objects, no trial Jobs/pods and no metrics collector (only the counts and
names the Experiment's status reports), no finalizer, no restart (resumePolicy) and no objective goal check.
"""
from . import behaviour as beh
from .objects import find_condition, meta, name_of, rfc3339, set_condition, stable_hash
from .runtime import Controller

API_VERSION = "kubeflow.org/v1beta1"
CREATED_REASON, RUNNING_REASON = "ExperimentCreated", "ExperimentRunning"
MAX_TRIALS_REASON, FAILED_REASON = "ExperimentMaxTrialsReached", "ExperimentFailed"
SUCCEEDED_MESSAGE = "Experiment has succeeded because max trial count has reached"
FAILED_MESSAGE = "Experiment has failed because max failed count has reached"
COUNTS = ("trialsSucceeded", "trialsFailed", "trialsKilled", "trialsPending", "trialsRunning", "trialsEarlyStopped",
          "trialMetricsUnavailable")
LISTS = ("runningTrialList", "pendingTrialList", "failedTrialList", "succeededTrialList", "killedTrialList",
         "earlyStoppedTrialList", "metricsUnavailableTrialList")


def completed(experiment):
    conditions = (experiment.get("status") or {}).get("conditions")
    return any((find_condition(conditions, kind) or {}).get("status") == "True" for kind in ("Succeeded", "Failed"))


def trial_names(experiment, count):
    """Katib names trials <experiment>-<8 random characters>; stable here for one experiment (by uid)."""
    seed = meta(experiment).get("uid") or name_of(experiment)
    return [f"{name_of(experiment)}-{stable_hash([seed, index], 8)}" for index in range(count)]


def optimal_trial(experiment, name):
    """currentOptimalTrial: the best trial, its parameters (each at its feasible space's low end) and metric."""
    spec = experiment.get("spec") or {}
    assignments = []
    for parameter in spec.get("parameters") or []:
        space = parameter.get("feasibleSpace") or {}
        value = space.get("min") or (space.get("list") or [""])[0]
        assignments.append({"name": parameter.get("name"), "value": value})
    metric = ((spec.get("objective") or {}).get("objectiveMetricName")) or "objective"
    return {"bestTrialName": name, "parameterAssignments": assignments,
            "observation": {"metrics": [{"name": metric, "latest": "0.5", "min": "0.5", "max": "0.5"}]}}


def trials_status(names, state):
    """The trial summary of updateTrialsSummary: every name in one list (state: running, succeeded, failed)."""
    status = {key: 0 for key in COUNTS}
    status.update({key: None for key in LISTS})
    status["trials"] = len(names)
    status["trials" + state.capitalize()] = len(names)
    status[state + "TrialList"] = list(names)
    return {key: value for key, value in status.items() if value}  # omitempty, as Katib's JSON


def experiment_status(experiment, state, now):
    """The Experiment status for a simulator state (pure function of the spec and the previous status)."""
    spec = experiment.get("spec") or {}
    previous = experiment.get("status") or {}
    max_trials = int(spec.get("maxTrialCount") or 1)
    parallel = min(int(spec.get("parallelTrialCount") or 1), max_trials)
    max_failed = spec.get("maxFailedTrialCount")
    conditions = set_condition(previous.get("conditions"), "Created", "True", CREATED_REASON,
                               "Experiment is created", now=now)
    status = {"startTime": previous.get("startTime") or rfc3339(now), "lastReconcileTime": rfc3339(now)}
    if state == beh.READY:
        names = trial_names(experiment, max_trials)
        status.update(trials_status(names, "succeeded"))
        status["currentOptimalTrial"] = optimal_trial(experiment, names[0])
        done = ("Succeeded", MAX_TRIALS_REASON, SUCCEEDED_MESSAGE)
    elif state == beh.FAILED:
        failing = min(int(max_failed), max_trials) if max_failed else max_trials
        status.update(trials_status(trial_names(experiment, max(failing, 1)), "failed"))
        done = ("Failed", FAILED_REASON, FAILED_MESSAGE) if max_failed else (
            "Succeeded", MAX_TRIALS_REASON, SUCCEEDED_MESSAGE)
    else:
        status.update(trials_status(trial_names(experiment, parallel), "running"))
        conditions = set_condition(conditions, "Running", "True", RUNNING_REASON, "Experiment is running", now=now)
        status["conditions"] = _katib_conditions(conditions, now)
        return status
    conditions = set_condition(conditions, "Running", "True", RUNNING_REASON, "Experiment is running", now=now)
    conditions = set_condition(conditions, "Running", "False", RUNNING_REASON, "Experiment is running", now=now)
    conditions = set_condition(conditions, done[0], "True", done[1], done[2], now=now)
    status["conditions"] = _katib_conditions(conditions, now)
    status["completionTime"] = rfc3339(now)
    return status


def _katib_conditions(conditions, now):
    """Katib's ExperimentCondition carries lastUpdateTime as well."""
    for condition in conditions:
        condition.setdefault("lastUpdateTime", condition.get("lastTransitionTime") or rfc3339(now))
    return conditions


class ExperimentController(Controller):
    api_version, kind = API_VERSION, "Experiment"
    group = "katib"

    def reconcile(self, experiment, /):
        if meta(experiment).get("deletionTimestamp") or completed(experiment):
            return None
        behaviour = self.ctx.behaviour(experiment)
        elapsed = self.ctx.elapsed(experiment)
        state = behaviour.state_at(elapsed)
        if behaviour.mode not in (beh.MODE_READY, beh.MODE_FAIL):
            state = beh.PROGRESSING  # never-ready, flap, degrade: the trials keep running
        status = experiment_status(experiment, state, None)
        self.write_status(experiment, status, volatile=("lastReconcileTime",))
        if state in (beh.READY, beh.FAILED):
            return None
        wait = behaviour.next_change(elapsed)
        return wait if wait is not None and behaviour.mode in (beh.MODE_READY, beh.MODE_FAIL) else None
