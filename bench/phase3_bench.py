"""The project's benchmark: how long phase 3 takes to render, converge and rerun (see bench/README.md).

Run through ``bench/run``. Everything happens in a private copy of the collection under a temporary
directory (tests/integration/phase_copy.py), so the checkout's build/ is never touched; the Kubernetes API
test server and the operator simulators listen on 127.0.0.1 only and are stopped by PID at the end.
"""
import argparse
import glob
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from tests.integration.fixtures.kube import EXTRA_CRD_DIR, KubeAPIProcess, crd_dir  # noqa: E402
from tests.integration.fixtures.simulators import SimulatorsHandle  # noqa: E402
from tests.integration.phase_copy import ANSIBLE_PLAYBOOK, copy_collection  # noqa: E402

PLAYBOOK = "playbooks/phase3.yml"
COMPONENTS = ["elasticsearch", "kafka", "neo4j", "datahub", "doris", "ray", "mlflow", "kubeflow"]
# The two stages of playbooks/phase3.yml (its header comment), used when playbooks/vars/ has no catalog.
BUILTIN_STAGES = [["elasticsearch", "kafka", "neo4j", "datahub", "doris", "ray", "mlflow"],
                  ["datahub", "doris", "ray", "mlflow", "kubeflow"]]
# Readiness delay per component (seconds), deterministic: 20 s plus a few seconds that vary per component.
# A component's delay holds in both stages it takes part in (operator or database in stage 1, the workload in
# stage 2).
DELAYS = {"elasticsearch": 21, "kafka": 23, "neo4j": 20, "datahub": 22, "doris": 25, "ray": 24, "mlflow": 27,
          "kubeflow": 29}
SIM = "sim.lakehouse.test"
# Namespaces of the converge: one per component, so that each gets its own delay.
NS = {"dp": "bench-data-platform", "state": "bench-state", "elasticsearch": "bench-elasticsearch",
      "kafka": "bench-kafka", "neo4j": "bench-neo4j", "datahub": "bench-datahub", "doris": "bench-doris",
      "doris_operator": "bench-doris-operator", "ray_operator": "bench-ray-system", "ray": "bench-ray",
      "mlflow": "bench-mlflow", "kubeflow": "bench-kubeflow", "flux": "bench-flux"}
KUBEFLOW_DEPLOYMENTS = {"kubeflow-pipelines": ["ml-pipeline", "ml-pipeline-ui", "ml-pipeline-persistenceagent"],
                        "katib": ["katib-controller", "katib-db-manager", "katib-ui"]}
LEASES = "leases.coordination.k8s.io"
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


def note(message):
    print("  # " + message, flush=True)


def figure(line):
    print(line, flush=True)


# -- processes ------------------------------------------------------------------------------------------------
class Interrupted(BaseException):
    pass


def _on_signal(signum, _frame):
    raise Interrupted("signal %d" % signum)


class Run:
    def __init__(self, seconds, rc, output):
        self.seconds, self.rc, self.output = seconds, rc, output

    @property
    def recap(self):
        return recap(self.output)

    @property
    def tasks(self):
        """Tasks executed: ok + skipped + failed + unreachable of the PLAY RECAP (ok already counts changed)."""
        r = self.recap
        return sum(r.get(key, 0) for key in ("ok", "skipped", "failed", "unreachable")) if r else None

    @property
    def task_lines(self):
        return self.output.count("TASK [")


def run_command(command, cwd, env, log_path, timeout):
    """Run a command in its own process group, timed; killed (by its group id) when we are interrupted."""
    started = time.monotonic()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            rc = process.wait(timeout=timeout)
        except BaseException:
            _kill_group(process)
            raise
    seconds = time.monotonic() - started
    with open(log_path, errors="replace") as handle:
        return Run(seconds, rc, handle.read())


def _kill_group(process):
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def playbook_env(collection, extra=None):
    env = dict(os.environ)
    env.update(extra or {})
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(collection.parent.parent.parent),
                "ANSIBLE_CONFIG": str(collection / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_LOCAL_TEMP": str(collection.parent.parent.parent / "ansible-tmp"),
                "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def recap(output):
    for line in output.splitlines()[::-1]:
        if line.startswith("localhost") and "ok=" in line:
            return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line.split(":", 1)[1])}
    return None


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="lakehouse-bench-")
        self.logs = os.path.join(self.workdir, "logs")
        os.makedirs(self.logs)
        self.collection = copy_collection(__import__("pathlib").Path(self.workdir))
        self.counter = 0
        self.results = {}

    def log_path(self, name):
        self.counter += 1
        return os.path.join(self.logs, "%02d-%s.log" % (self.counter, name))

    def playbook(self, name, args, env=None, timeout=7200, must_succeed=True):
        run = run_command([ANSIBLE_PLAYBOOK] + list(args), str(self.collection), playbook_env(self.collection, env),
                          self.log_path(name), timeout)
        if must_succeed and (run.rc != 0 or run.recap is None or run.recap.get("failed", 0)):
            tail = "\n".join(run.output.splitlines()[-60:])
            raise RuntimeError("ansible-playbook %s failed (rc=%d) after %.1f s:\n%s"
                               % (" ".join(args), run.rc, run.seconds, tail))
        return run

    # -- figures ----------------------------------------------------------------------------------------------
    def one_task(self):
        path = self.collection / "playbooks" / "bench-one-task.yml"
        path.write_text(yaml.safe_dump([{"name": "One task", "hosts": "localhost", "connection": "local",
                                         "gather_facts": False,
                                         "tasks": [{"name": "Say hello", "ansible.builtin.debug": {"msg": "hello"}}]}],
                                       sort_keys=False))
        self.playbook("one-task-warmup", [str(path.relative_to(self.collection))])
        runs = [self.playbook("one-task", [str(path.relative_to(self.collection))])
                for _index in range(max(3, self.args.runs))]
        seconds = [r.seconds for r in runs]
        self.results["one_task"] = statistics.median(seconds)
        figure("one-task ansible-playbook: %.1f s%s" % (self.results["one_task"], spread(seconds)))

    def render(self, timed=True):
        """Render on the embedded default inventory; the first run builds the tree, the timed ones rerun it."""
        build = self.collection / "build" / "phase3"
        if not build.is_dir():
            first = self.playbook("render-first", [PLAYBOOK])
            note("first render (builds the tree, not counted): %.1f s, changed=%d"
                 % (first.seconds, first.recap.get("changed", 0)))
        if not timed:
            return
        runs = [self.playbook("render", [PLAYBOOK]) for _index in range(self.args.runs)]
        seconds = [r.seconds for r in runs]
        self.results["render"] = statistics.median(seconds)
        figure("render phase3: %.1f s, %d tasks%s" % (self.results["render"], runs[-1].tasks, spread(seconds)))
        note("tasks = ok+skipped+failed of the PLAY RECAP (ok includes changed); %d 'TASK [' lines; changed=%d"
             % (runs[-1].task_lines, runs[-1].recap.get("changed", 0)))
        if "one_task" in self.results:
            figure("render/one-task ratio: %.1f" % (self.results["render"] / self.results["one_task"]))

    def converge_all(self):
        stages, source = load_stages(self.collection)
        tagged = tagged_components(self.args.tags)
        stage_delays = [[DELAYS[c] for c in stage if c in tagged] for stage in stages]
        critical = sum(max(delays) for delays in stage_delays if delays)
        if not critical:
            raise RuntimeError("no stage of %s holds a component of %s" % (source, sorted(tagged)))
        note("readiness delays (s): %s; stages from %s: %s"
             % (", ".join("%s %d" % (c, DELAYS[c]) for c in COMPONENTS if c in tagged), source,
                " | ".join(",".join(c for c in s if c in tagged) for s in stages)))
        note("mlflow: mlflow_bucket_create=false (no Ceph object gateway here); kubeflow: a kustomize-controller "
             "stand-in in this process marks the Kustomizations Ready")
        if self.args.tags:
            note("limited to --tags %s (the default runs the whole phase)" % self.args.tags)
        rows = [self.converge_once(index, critical) for index in range(self.args.runs)]

        def med(key):
            return statistics.median(r[key] for r in rows)

        def spread_of(key):
            return spread([r[key] for r in rows])

        figure("converge phase3: %.1f s, %d tasks; critical path %.1f s%s"
               % (med("converge"), rows[-1]["converge_tasks"], critical, spread_of("converge")))
        figure("converge wall/critical ratio: %.2f" % (med("converge") / critical))
        figure("rerun phase3: %.1f s, changed=%d%s"
               % (med("rerun"), max(r["changed"] for r in rows), spread_of("rerun")))
        figure("kubectl apply --server-side: %.1f s (%d objects)%s"
               % (med("kubectl"), rows[-1]["objects"], spread_of("kubectl")))
        figure("rerun/kubectl-apply ratio: %.1f" % (med("rerun") / med("kubectl")))
        figure("writes during the rerun: %d (Lease excluded)" % max(r["writes"] for r in rows))
        if any(r["writes"] for r in rows):
            note("writes: " + ", ".join(describe_row(row) for row in rows[-1]["write_rows"]))

    def converge_once(self, index, critical):
        workdir = os.path.join(self.workdir, "server-%d" % index)
        os.makedirs(workdir)
        server = simulators = stand_in = None
        try:
            server = KubeAPIProcess(workdir, [crd_dir(), EXTRA_CRD_DIR])
            ensure_crds(server)
            for i in range(2):
                create_ready_node(server, "bench-node-%d" % i)
            create_namespaces(server)
            simulators = SimulatorsHandle(server, workdir, default_delay=0.5).start()
            stand_in = KustomizeControllerStandIn(server, NS["flux"], NS["kubeflow"], DELAYS["kubeflow"])
            stand_in.start()
            inventory = write_apply_inventory(self.collection, server.kubeconfig, os.path.join(workdir, "build"))
            args = ["-i", inventory, PLAYBOOK] + (["--tags", self.args.tags] if self.args.tags else [])
            converge = self.playbook("converge", args, env=server.env)
            note("converge %d: %.1f s, changed=%d (critical path %.1f s)"
                 % (index + 1, converge.seconds, converge.recap.get("changed", 0), critical))
            # The rerun with the simulators stopped and the stand-in paused, so every write counted is the
            # playbook's (nothing is left to get ready: the waits find every object ready).
            simulators.stop()
            stand_in.paused.set()
            # Only Katib's controller runs on: kubeflow's validation creates a probe Experiment and waits for it to
            # succeed (then deletes it); its writes, and the simulator's status writes, are counted below.
            katib_dir = os.path.join(workdir, "katib")
            os.makedirs(katib_dir)
            simulators = SimulatorsHandle(server, katib_dir, default_delay=0.5, only="katib").start()
            time.sleep(1)
            server.reset_counts()
            rerun = self.playbook("rerun", args, env=server.env)
            counts = server.request_counts()
            writes = counts.writes() - counts.writes(LEASES)
            write_rows = [row for row in counts.rows if row["verb"] in WRITE_VERBS and not row["dry_run"]
                          and row["resource"] != "leases"]
            kubectl_seconds, objects = self.kubectl_apply(server, workdir)
            return {"converge": converge.seconds, "converge_tasks": converge.tasks, "rerun": rerun.seconds,
                    "changed": rerun.recap.get("changed", 0), "writes": writes, "write_rows": write_rows,
                    "kubectl": kubectl_seconds, "objects": objects}
        finally:
            if stand_in is not None:
                stand_in.stopping.set()
                stand_in.join(timeout=10)
            if simulators is not None:
                simulators.stop()
            if server is not None:
                server.stop()

    def kubectl_apply(self, server, workdir):
        """kubectl apply --server-side of the render tree's object files; one creating apply (not counted),
        then the timed no-op applies, like the rerun."""
        files = object_files(str(self.collection / "build" / "phase3"))
        # Namespaces the objects live in but the tree does not hold (e.g. Flux's): made first, not timed.
        declared = {o["metadata"]["name"] for o in files.values() if o["kind"] == "Namespace"}
        for namespace in sorted({o["metadata"].get("namespace") for o in files.values()} - declared - {None}):
            server.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                          "metadata": {"name": namespace}})
        ordered = sorted(files, key=lambda p: (files[p]["kind"] != "Namespace", p))
        command = ["kubectl", "apply", "--server-side", "--field-manager", "bench"]
        for path in ordered:
            command += ["-f", path]
        first = run_command(command, workdir, server.env, self.log_path("kubectl-first"), 600)
        if first.rc != 0:
            raise RuntimeError("kubectl apply failed (rc=%d):\n%s" % (first.rc, first.output[-4000:]))
        objects = len([line for line in first.output.splitlines() if "serverside-applied" in line])
        runs = []
        for _index in range(max(3, self.args.runs)):
            run = run_command(command, workdir, server.env, self.log_path("kubectl"), 600)
            if run.rc != 0:
                raise RuntimeError("kubectl apply failed (rc=%d):\n%s" % (run.rc, run.output[-4000:]))
            runs.append(run.seconds)
        note("kubectl: first (creating) apply %.1f s; the figure is the median no-op reapply of %d" %
             (first.seconds, len(runs)))
        return statistics.median(runs), objects

    def cleanup(self):
        if self.args.keep:
            print("  # kept %s" % self.workdir, flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def describe_row(row):
    """'patch helmreleases.helm.toolkit.fluxcd.io 1' of one /_test/requests row."""
    resource = row["resource"] + ("." + row["group"] if row["group"] else "")
    return "%s %s%s %d" % (row["verb"], resource, "/" + row["subresource"] if row["subresource"] else "", row["count"])


def spread(values):
    if len(values) < 2:
        return ""
    return " (median of %d, %.1f-%.1f s)" % (len(values), min(values), max(values))


def tagged_components(tags):
    if not tags:
        return set(COMPONENTS)
    named = {t.strip() for t in tags.split(",")}
    return {c for c in COMPONENTS if c in named} or set(COMPONENTS)


def load_stages(collection):
    """The phase 3 stages from a catalog under playbooks/vars/ if one names them, else the built-in ones."""
    for path in sorted(glob.glob(str(collection / "playbooks" / "vars" / "**" / "*.y*ml"), recursive=True)):
        try:
            with open(path) as handle:
                data = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError):
            continue
        stages = _find_stages(data)
        if stages:
            return stages, os.path.relpath(path, str(collection))
    return BUILTIN_STAGES, "the header of playbooks/phase3.yml"


def _find_stages(data, inside_phase3=False):
    if isinstance(data, dict):
        for key, value in data.items():
            key = str(key)
            if (inside_phase3 and key == "stages") or key in ("phase3_stages",):
                stages = [_members(stage) for stage in (value.values() if isinstance(value, dict) else value or [])]
                stages = [s for s in stages if s]
                if stages:
                    return stages
            found = _find_stages(value, inside_phase3 or key == "phase3")
            if found:
                return found
    return None


def _members(stage):
    if isinstance(stage, str):  # "<component>" or "<component>/<part>"
        name = stage.split("/", 1)[0].strip()
        return [name] if name in COMPONENTS else []
    if isinstance(stage, dict):
        for key in ("components", "members", "items", "steps"):
            if key in stage:
                return _members(stage[key])
        return _members(stage.get("component") or stage.get("name") or "")
    if isinstance(stage, list):
        out = []
        for item in stage:
            out += [m for m in _members(item) if m not in out]
        return out
    return []


def object_files(directory):
    """{path: object} of every object file of the render tree (not kustomization.yaml, secret-references.yaml)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.yaml"), recursive=True)):
        if os.path.basename(path) in ("kustomization.yaml", "secret-references.yaml"):
            continue
        with open(path) as handle:
            obj = yaml.safe_load(handle)
        if isinstance(obj, dict) and obj.get("kind") and obj.get("apiVersion"):
            out[path] = obj
    return out


# -- the test server's setup, as tests/integration/test_phase3.py does it --------------------------------------
def _crd(group, kind, plural, required):
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "%s.%s" % (plural, group)},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"kind": kind, "listKind": kind + "List", "plural": plural, "singular": kind.lower()},
                 "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                   "metadata": {"type": "object"},
                                   "spec": {"type": "object", "required": required,
                                            "x-kubernetes-preserve-unknown-fields": True},
                                   "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}}


FALLBACK_CRDS = [_crd("source.toolkit.fluxcd.io", "HelmRepository", "helmrepositories", ["url"]),
                 _crd("source.toolkit.fluxcd.io", "GitRepository", "gitrepositories", ["url", "interval"]),
                 _crd("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations", ["interval", "prune", "sourceRef"])]


def ensure_crds(server):
    """The Flux source/kustomize kinds, should the shared CRD set not carry them."""
    for crd in FALLBACK_CRDS:
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
        if server.request("GET", path + crd["metadata"]["name"])[0] == 404:
            status, body, _headers = server.request("POST", path.rstrip("/"), crd)
            if status not in (200, 201):
                raise RuntimeError("cannot create CRD %s: %s" % (crd["metadata"]["name"], body))


def create_ready_node(server, name, cpu="64", memory="256Gi", pods="110"):
    status, body, _headers = server.request("POST", "/api/v1/nodes",
                                            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    if status != 201:
        raise RuntimeError("cannot create node %s: %s" % (name, body))
    figures = {"cpu": cpu, "memory": memory, "pods": pods}
    server.request("PATCH", "/api/v1/nodes/%s/status" % name, {"status": {
        "allocatable": figures, "capacity": figures, "conditions": [{"type": "Ready", "status": "True"}]}},
        content_type="application/merge-patch+json")


def namespace_annotations():
    """Per namespace, the simulator settings that give each component its readiness delay."""
    def release(component):
        return {"helmrelease.%s/workloads" % SIM: "true", "helmrelease.%s/delay-seconds" % SIM: str(DELAYS[component])}

    out = {NS[c]: release(c) for c in ("elasticsearch", "kafka", "neo4j", "datahub")}
    out[NS["dp"]] = {"helmrelease.%s/workloads" % SIM: "true"}
    # doris-operator (HelmRelease) and the DorisCluster share the namespace; the BE waits for the FE, so the FE
    # carries the delay and the BE follows at once.
    out[NS["doris"]] = dict(release("doris"), **{"doriscluster.%s/fe.delay-seconds" % SIM: str(DELAYS["doris"]),
                                                 "doriscluster.%s/be.delay-seconds" % SIM: "1"})
    out[NS["doris_operator"]] = {"helmrelease.%s/workloads" % SIM: "true"}
    out[NS["ray_operator"]] = release("ray")
    out[NS["ray"]] = {"raycluster.%s/delay-seconds" % SIM: str(DELAYS["ray"])}
    out[NS["mlflow"]] = dict(release("mlflow"), **{"cluster.%s/delay-seconds" % SIM: str(DELAYS["mlflow"])})
    out[NS["kubeflow"]] = {}
    out[NS["flux"]] = {}
    return out


def create_namespaces(server):
    for name, annotations in namespace_annotations().items():
        status, body, _headers = server.request("POST", "/api/v1/namespaces", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": annotations}})
        if status != 201:
            raise RuntimeError("cannot create namespace %s: %s" % (name, body))


def write_apply_inventory(collection, kubeconfig, render_dir):
    """The apply inventory of tests/integration/test_phase3.py, with a namespace per component."""
    variables = {
        "platform_mode": "apply", "platform_kubeconfig": kubeconfig,
        "platform_namespace": NS["dp"], "platform_state_namespace": NS["state"], "platform_operator": "bench",
        "platform_render_dir": render_dir,
        "elasticsearch_namespace": NS["elasticsearch"], "kafka_namespace": NS["kafka"],
        "neo4j_namespace": NS["neo4j"], "datahub_namespace": NS["datahub"],
        "doris_namespace": NS["doris"], "doris_operator_namespace": NS["doris_operator"],
        "ray_operator_namespace": NS["ray_operator"], "ray_namespace": NS["ray"], "mlflow_namespace": NS["mlflow"],
        "kubeflow_namespace": NS["kubeflow"], "kubeflow_flux_namespace": NS["flux"],
        "neo4j_workload_selector": "app.kubernetes.io/instance=neo4j",
        "mlflow_bucket_create": False,
        "phase3_min_health_percent": 0,
        "doris_failure_grace": 5,
        "doris_operator_wait_timeout": 600, "ray_operator_wait_timeout": 600, "mlflow_postgres_wait_timeout": 600,
    }
    for component in COMPONENTS:
        variables["%s_wait_timeout" % component] = 600
    inventory = collection / "inventories" / "bench-apply"
    (inventory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    (inventory / "group_vars" / "all" / "bench.yml").write_text(yaml.safe_dump(variables))
    return "inventories/bench-apply"


class KustomizeControllerStandIn(threading.Thread):
    """Plays Flux's kustomize-controller for the Kubeflow Kustomizations (as tests/integration/test_phase3.py
    does), with a readiness delay: the Deployments come at once, Ready=True `delay` seconds after first seen."""

    def __init__(self, server, flux_namespace, target_namespace, delay):
        super().__init__(daemon=True)
        self.server, self.flux_namespace, self.target_namespace, self.delay = (
            server, flux_namespace, target_namespace, delay)
        self.stopping, self.paused = threading.Event(), threading.Event()
        self.first_seen = {}

    def run(self):
        while not self.stopping.wait(0.5):
            if not self.paused.is_set():
                try:
                    self.reconcile()
                except Exception:  # noqa: BLE001 - retried on the next pass
                    pass

    def reconcile(self):
        status, body, _headers = self.server.request(
            "GET", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/%s/kustomizations" % self.flux_namespace)
        for item in body.get("items", []) if status == 200 else []:
            name = item["metadata"]["name"]
            key = (item["metadata"].get("uid"), item["metadata"].get("generation", 1))
            seen = self.first_seen.setdefault(key, time.monotonic())
            for deployment in KUBEFLOW_DEPLOYMENTS.get(name, []):
                self._ensure_deployment(name, deployment)
            if time.monotonic() - seen >= self.delay:
                self._mark_ready(item)

    def _ensure_deployment(self, owner, name):
        path = "/apis/apps/v1/namespaces/%s/deployments" % self.target_namespace
        if self.server.request("GET", path + "/" + name)[0] == 200:
            return
        labels = {"app": name}
        self.server.request("POST", path, {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": self.target_namespace,
                         "labels": {"kustomize.toolkit.fluxcd.io/name": owner,
                                    "kustomize.toolkit.fluxcd.io/namespace": self.flux_namespace}},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": "registry.invalid/" + name}]}}}})

    def _mark_ready(self, item):
        generation = item["metadata"].get("generation", 1)
        ready = [c for c in (item.get("status") or {}).get("conditions", []) if c.get("type") == "Ready"]
        if ready and ready[0].get("status") == "True" and ready[0].get("observedGeneration") == generation:
            return
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.server.request(
            "PATCH", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/%s/kustomizations/%s/status"
            % (self.flux_namespace, item["metadata"]["name"]),
            {"status": {"observedGeneration": generation, "conditions": [{
                "type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                "observedGeneration": generation, "message": "Applied revision: bench stand-in",
                "lastTransitionTime": now}]}},
            content_type="application/merge-patch+json")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="bench/run", description="The phase 3 benchmark (bench/README.md).")
    parser.add_argument("--runs", type=int, default=1,
                        help="timed runs per figure (median reported; one-task and kubectl take at least 3)")
    parser.add_argument("--only", choices=["render", "converge"],
                        help="render: one-task + render figures; converge: converge, rerun, kubectl figures")
    parser.add_argument("--tags", default="",
                        help="development only: limit the converge and rerun to these tags (e.g. doris)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) for inspection")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    if shutil.which("kubectl") is None and args.only != "render":
        sys.exit("bench/run: kubectl is not on PATH (scripts/install-test-deps.d/kubectl.sh installs it)")
    if not os.path.isdir(crd_dir()) and args.only != "render":
        sys.exit("bench/run: the CRD directory %s is missing (set LAKEHOUSE_SHARED_DIR)" % crd_dir())
    bench = Bench(args)
    started = time.monotonic()
    try:
        if args.only in (None, "render"):
            bench.one_task()
            bench.render()
        if args.only in (None, "converge"):
            if args.only == "converge":
                bench.render(timed=False)  # the kubectl figure applies the render tree
            bench.converge_all()
    except Interrupted as exc:
        print("bench/run: interrupted (%s); servers stopped, temporary files removed" % exc, file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print("bench/run: %s" % exc, file=sys.stderr)
        print("bench/run: logs in %s" % bench.logs, file=sys.stderr)
        bench.args.keep = True
        return 1
    finally:
        bench.cleanup()
    note("bench total %.0f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
