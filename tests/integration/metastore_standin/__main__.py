"""Run the Hive Metastore stand-in: python -m tests.integration.metastore_standin --dsn DSN --port-file PATH.

Listens on 127.0.0.1 (port 0 = a free one, written to --port-file once accepting); stop it by PID (SIGTERM).
"""
import argparse
import logging
import os
import signal
import socket
import sys
import threading

from hive_metastore import ThriftHiveMetastore
from thrift.protocol import TBinaryProtocol
from thrift.server import TServer
from thrift.transport import TSocket, TTransport

from .handler import PostgresMetastoreHandler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True, help="libpq DSN of the metastore database")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--warehouse", default="s3a://warehouse")
    parser.add_argument("--lazy", action="store_true", help="create the schema on the first call, not at start")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")

    handler = PostgresMetastoreHandler(args.dsn, warehouse=args.warehouse, lazy=args.lazy)
    server_socket = TSocket.TServerSocket(host="127.0.0.1", port=args.port, socket_family=socket.AF_INET)
    server = TServer.TThreadedServer(
        ThriftHiveMetastore.Processor(handler), server_socket,
        TTransport.TBufferedTransportFactory(), TBinaryProtocol.TBinaryProtocolFactory(), daemon=True)
    server_socket.listen()
    port = server_socket.handle.getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(str(port))
    os.replace(tmp, args.port_file)  # atomically: readers never see a half-written port
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # TThreadedServer.serve() would call listen() again; the socket is already listening (its port is
    # published above), so run the same accept loop and hand each connection to the server's handler.
    while True:
        client = server_socket.accept()
        if client is not None:
            threading.Thread(target=server.handle, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()
