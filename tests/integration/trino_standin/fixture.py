"""`TrinoStandIn`: the stand-in as a private server process (tests.fixtures.local_server.LocalServer: 127.0.0.1,
a free port, stopped by its PID, workdir removed). Test modules start one per set of catalogs:

    server = TrinoStandIn({"iceberg": {"connector": "iceberg", "pyiceberg": {...}}, "hive": {"connector": "hive"}})
    yield from serve(server, "Trino stand-in")

The catalog configuration (it may hold S3 keys) goes into a 0600 file in the server's private workdir, never
onto the command line. `.requests()` / `.queries()` read what the stand-in saw.
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from tests.fixtures.local_server import LocalServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class TrinoStandIn(LocalServer):
    name = "Trino stand-in"

    def __init__(self, catalogs, page_size=2, queued_polls=1):
        super().__init__()
        self.config = {"catalogs": catalogs, "page_size": page_size, "queued_polls": queued_polls}

    def start(self):
        self.workdir = tempfile.mkdtemp(prefix="lakehouse-trino-")
        self.logfile = os.path.join(self.workdir, "trino-standin.log")
        config = os.path.join(self.workdir, "config.json")
        descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(self.config, handle)
        self.config_path = config
        return self._start_on_a_free_port()

    def _spawn(self, log):
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.trino_standin", "--port", str(self.port),
             "--config", self.config_path],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _get(self, path):
        with urllib.request.urlopen("http://%s:%d%s" % (self.host, self.port, path), timeout=5) as response:
            return json.loads(response.read())

    def _probe(self):
        if self._get("/v1/info").get("starting") is not False:
            raise self.error("still starting")

    def requests(self):
        return self._get("/v1/standin/requests")

    def queries(self):
        return self._get("/v1/standin/queries")
