"""Operator simulators for tests: they act only through the Kubernetes API, like the real operators.

    from tests.simulators import SimulatorManager, SimulatorConfig, seed_nodes
    with SimulatorManager(kubeconfig, only=["rook", "cnpg"]) as sims:
        ...

or as a process (what the `simulators` pytest fixture runs):

    python -m tests.simulators --kubeconfig PATH [--only rook,doris,...] [--default-delay 0.5] \
        [--postgres-host H --postgres-port P --postgres-user U] --pidfile PATH

Groups: rook (CephObjectStoreUser), doris (DorisCluster), ray (RayCluster), cnpg (Cluster, Backup,
ScheduledBackup), flux (HelmRelease), argocd (Application), spark (SparkApplication), katib (Experiment).
The core controllers (kubelet-like pod lifecycle, volume binder, endpoints) and the workload controllers
(Deployment, ReplicaSet, StatefulSet, Job) always run: every operator needs them. Behaviour per object: see behaviour.py.
"""
from .argocd import ApplicationController
from .behaviour import Behaviour, Defaults
from . import controllers
from .cnpg import BackupController, ClusterController, ScheduledBackupController
from .config import PostgresTarget, SimulatorConfig
from .core import EndpointsController, PodLifecycle, VolumeBinder
from .doris import DorisClusterController
from .flux import HelmReleaseController
from .kube import KubeApi
from .katib import ExperimentController
from .kuberay import RayClusterController
from .nodes import seed_nodes
from .rook import CephObjectStoreUserController
from .sparkoperator import SparkApplicationController
from .runtime import Manager
from .workloads import DeploymentController, JobController, ReplicaSetController, StatefulSetController

ALWAYS = [PodLifecycle, VolumeBinder, EndpointsController,
          DeploymentController, ReplicaSetController, StatefulSetController, JobController]
GROUPS = {
    "rook": [CephObjectStoreUserController],
    "doris": [DorisClusterController],
    "ray": [RayClusterController],
    "cnpg": [ClusterController, BackupController, ScheduledBackupController],
    "flux": [HelmReleaseController],
    "argocd": [ApplicationController],
    "spark": [SparkApplicationController],
    "katib": [ExperimentController],
}
ALIASES = {"kuberay": "ray", "cloudnative-pg": "cnpg", "argo": "argocd", "helm": "flux", "spark-operator": "spark",
           "sparkoperator": "spark"}


def controller_classes(only=None):
    """The controllers to run: the always-on ones plus the selected operator groups (all when only=None)."""
    names = list(GROUPS) if not only else [ALIASES.get(n.strip(), n.strip()) for n in only if n.strip()]
    unknown = [n for n in names if n not in GROUPS and n not in ("core", "workloads")]
    if unknown:
        raise ValueError(f"unknown simulator group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    return ALWAYS + [cls for name in names for cls in GROUPS.get(name, [])]


class SimulatorManager:
    """Run the simulators in this process (threads) against the API server of `kubeconfig`."""

    def __init__(self, kubeconfig, config=None, only=None):
        self.config = config or SimulatorConfig()
        self.kube = KubeApi.from_kubeconfig(kubeconfig)
        self.manager = Manager(self.kube, self.config, controller_classes(only))
        self.groups = list(GROUPS) if not only else [ALIASES.get(n.strip(), n.strip()) for n in only if n.strip()]

    def start(self):
        self.manager.start()
        # The controllers' own workloads (flux-system, argocd), for a preflight that checks they run.
        controllers.announce(self.kube, self.groups)
        return self

    def stop(self):
        self.manager.stop()
        self.kube.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def run_simulators(kubeconfig, config=None, only=None, stop_event=None):
    """Run until stop_event is set (blocking); returns after a clean stop."""
    import threading
    sims = SimulatorManager(kubeconfig, config, only).start()
    try:
        (stop_event or threading.Event()).wait()
    finally:
        sims.stop()


__all__ = ["Behaviour", "Defaults", "GROUPS", "KubeApi", "PostgresTarget", "SimulatorConfig",
           "SimulatorManager", "controller_classes", "run_simulators", "seed_nodes"]
