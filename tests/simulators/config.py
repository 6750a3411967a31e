"""Simulator-wide configuration (CLI flags map onto these fields)."""
from dataclasses import dataclass, field

from .behaviour import Defaults


@dataclass
class PostgresTarget:
    """A real PostgreSQL server the CNPG simulator provisions databases on."""
    host: str
    port: int
    user: str
    password: str = ""
    dbname: str = "postgres"


@dataclass
class SimulatorConfig:
    defaults: Defaults = field(default_factory=Defaults)
    # How often every object is reconciled even without events. Time-based transitions are requeued
    # precisely and events wake controllers, so this is only a safety net: keep it rare, the API test server
    # is shared with the tests.
    resync_seconds: float = 30.0
    postgres: PostgresTarget = None
    # Where the Rook simulator looks for keys to hand out (see rook.py); "namespace/name".
    rook_keys_secret: str = "lakehouse-sim/rook-object-user-keys"
    # Give Services we create a cluster IP ourselves; only for API servers that do not allocate one
    # (a real cluster and the kubeapi test server do).
    assign_cluster_ips: bool = False
    cluster_domain: str = "cluster.local"
