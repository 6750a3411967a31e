"""Run the Trino stand-in: python -m tests.integration.trino_standin --port PORT --config CONFIG.json.

Listens on 127.0.0.1:PORT until SIGTERM (stop it by PID). CONFIG (JSON, may hold S3 keys: keep it 0600):
{"catalogs": {"<name>": {"connector": "iceberg", "pyiceberg": {<pyiceberg catalog properties>}} |
                        {"connector": "<other>"}},
 "page_size": 2, "queued_polls": 1}
"""
import argparse
import json
import logging
import os
import signal
import sys

from .server import StandInServer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    # pyarrow's and botocore's S3 clients: checksums only where an operation needs them (Ceph RGW before Reef
    # rejects the newer streaming ones; see iceberg_ops.s3_checksums_when_required).
    for name in ("AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION"):
        os.environ.setdefault(name, "WHEN_REQUIRED")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with open(args.config) as handle:
        config = json.load(handle)
    server = StandInServer(("127.0.0.1", args.port), config)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
