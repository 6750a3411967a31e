"""Run the test API server as its own process:

    python -m tests.kubeapi --crds DIR --port 0 --kubeconfig PATH --pidfile PATH --ready-file PATH

The kubeconfig (and ready file, holding the URL) are written once the server listens; SIGTERM stops it.
"""
import argparse
import os
import signal
import sys
import threading

from . import persist
from .server import KubeAPIServer


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.kubeapi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crds", action="append", default=[], help="directory of CRD YAML files (repeatable)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--kubeconfig", help="write a kubeconfig for the server here")
    parser.add_argument("--pidfile", help="write this process id here")
    parser.add_argument("--ready-file", help="write the server URL here once listening")
    parser.add_argument("--access-log", help="append one line per request to this file")
    parser.add_argument("--state-file", help="keep the stored objects here across restarts (tests/kubeapi/persist.py)")
    args = parser.parse_args(argv)

    access_log = open(args.access_log, "a") if args.access_log else None
    restored = bool(args.state_file) and os.path.exists(args.state_file)
    server = KubeAPIServer(crd_dirs=() if restored else args.crds, host=args.host, port=args.port,
                           access_log=access_log, **({"namespaces": ()} if restored else {}))
    if restored:
        persist.load(server.api, args.state_file)
    if args.pidfile:
        with open(args.pidfile, "w") as handle:
            handle.write(f"{os.getpid()}\n")
    if args.kubeconfig:
        server.write_kubeconfig(args.kubeconfig)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(server.url + "\n")
        os.replace(tmp, args.ready_file)

    def stop(signum, frame):
        # shutdown() blocks until serve_forever returns, so it must run on another thread.
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"kubeapi listening on {server.url}", flush=True)
    server.serve_forever()
    if args.state_file:
        persist.dump(server.api, args.state_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
