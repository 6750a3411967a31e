"""Run the operator simulators as a process until SIGTERM/SIGINT.

    python -m tests.simulators --kubeconfig PATH [--only rook,doris,ray,cnpg,flux,argocd]
        [--default-delay 0.5] [--default-mode ready] [--flap-period 2] [--degrade-after 2]
        [--postgres-host H --postgres-port P --postgres-user U] [--rook-keys-secret NS/NAME]
        [--pidfile PATH] [--log-file PATH]

The PostgreSQL password is read from $SIM_POSTGRES_PASSWORD (or --postgres-password-file), never from the
command line, so it does not show in `ps`. The pidfile is written once every informer has synced, so its
existence means "running and watching".
"""
import argparse
import logging
import os
import signal
import sys
import threading

from . import SimulatorManager
from .behaviour import MODES, Defaults
from .config import PostgresTarget, SimulatorConfig


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.simulators", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--only", default="", help="comma-separated operator groups (default: all)")
    parser.add_argument("--default-delay", type=float, default=0.5, help="seconds before objects get ready")
    parser.add_argument("--default-mode", choices=MODES, default="ready")
    parser.add_argument("--flap-period", type=float, default=2.0)
    parser.add_argument("--degrade-after", type=float, default=2.0)
    parser.add_argument("--resync", type=float, default=SimulatorConfig.resync_seconds,
                        help="seconds between full resyncs (a safety net; events and requeues drive the rest)")
    parser.add_argument("--postgres-host")
    parser.add_argument("--postgres-port", type=int, default=5432)
    parser.add_argument("--postgres-user", default="postgres")
    parser.add_argument("--postgres-password-file", help="file holding the PostgreSQL superuser password")
    parser.add_argument("--postgres-dbname", default="postgres")
    parser.add_argument("--rook-keys-secret", default=SimulatorConfig.rook_keys_secret,
                        help="NAMESPACE/NAME of a Secret with AccessKey/SecretKey to hand out")
    parser.add_argument("--assign-cluster-ips", action="store_true",
                        help="give Services the simulators create a cluster IP (for servers that allocate none)")
    parser.add_argument("--pidfile")
    parser.add_argument("--log-file")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def config_from_args(args):
    postgres = None
    if args.postgres_host:
        password = os.environ.get("SIM_POSTGRES_PASSWORD", "")
        if args.postgres_password_file:
            with open(args.postgres_password_file) as handle:
                password = handle.read().strip()
        postgres = PostgresTarget(args.postgres_host, args.postgres_port, args.postgres_user, password,
                                  args.postgres_dbname)
    return SimulatorConfig(
        defaults=Defaults(args.default_delay, args.default_mode, args.flap_period, args.degrade_after),
        resync_seconds=args.resync, postgres=postgres, rook_keys_secret=args.rook_keys_secret,
        assign_cluster_ips=args.assign_cluster_ips)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(filename=args.log_file, level=getattr(logging, args.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(threadName)s %(levelname)s %(name)s: %(message)s")
    only = [n for n in args.only.split(",") if n.strip()] or None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sims = SimulatorManager(args.kubeconfig, config_from_args(args), only).start()
    try:
        if args.pidfile:
            tmp = args.pidfile + ".tmp"
            with open(tmp, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            os.replace(tmp, args.pidfile)
        while not stop.wait(1.0):
            pass
    finally:
        sims.stop()
        if args.pidfile and os.path.exists(args.pidfile):
            os.unlink(args.pidfile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
