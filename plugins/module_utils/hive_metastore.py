# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Thrift client for the Hive Metastore (ThriftHiveMetastore service).

The generated ThriftHiveMetastore bindings (`hive_metastore` package) ship with pyiceberg, which this
collection already needs for the Iceberg check; the transport is the `thrift` package. The HMS speaks the
binary protocol over a buffered socket transport by default (framed when
`metastore.thrift.framed.transport.enabled` is set), without SASL unless Kerberos is configured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import traceback

THRIFT_IMPORT_ERROR = None
try:
    from thrift.protocol import TBinaryProtocol
    from thrift.Thrift import TApplicationException, TException
    from thrift.transport import TSocket, TTransport
    from hive_metastore import ThriftHiveMetastore
    from hive_metastore.ttypes import NoSuchObjectException, MetaException
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    THRIFT_IMPORT_ERROR = traceback.format_exc()


class MetastoreError(Exception):
    """A failed call to the Hive Metastore, with a message naming the endpoint and the call."""


class MetastoreUnreachable(MetastoreError):
    """No TCP connection could be opened (worth retrying while the server starts)."""


def database_to_dict(database):
    """Plain dict of a hive_metastore.ttypes.Database (no privileges: they can carry principals only)."""
    return {
        "name": database.name,
        "description": database.description,
        "location_uri": database.locationUri,
        "owner_name": database.ownerName,
        "owner_type": database.ownerType,
        "catalog_name": getattr(database, "catalogName", None),
        "parameters": dict(database.parameters or {}),
    }


class MetastoreClient(object):
    """Context manager around one Thrift connection to a Hive Metastore.

    >>> with MetastoreClient("hive-metastore.data-platform.svc", 9083, timeout=10) as hms:
    ...     hms.get_all_databases()
    """

    def __init__(self, host, port=9083, timeout=10.0, transport="buffered"):
        self.host = host
        self.port = int(port)
        self.timeout = float(timeout)
        self.transport_kind = transport
        self._transport = None
        self._client = None

    @property
    def endpoint(self):
        return "%s:%d" % (self.host, self.port)

    def open(self):
        socket = TSocket.TSocket(self.host, self.port)
        socket.setTimeout(int(self.timeout * 1000))
        if self.transport_kind == "framed":
            self._transport = TTransport.TFramedTransport(socket)
        else:
            self._transport = TTransport.TBufferedTransport(socket)
        try:
            self._transport.open()
        except TTransport.TTransportException as exc:
            raise MetastoreUnreachable("cannot connect to the Hive Metastore at %s: %s" % (self.endpoint, exc))
        self._client = ThriftHiveMetastore.Client(TBinaryProtocol.TBinaryProtocol(self._transport))
        return self

    def close(self):
        if self._transport is not None and self._transport.isOpen():
            self._transport.close()

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()

    def _call(self, what, func, *args):
        try:
            return func(*args)
        except NoSuchObjectException as exc:
            raise MetastoreError("%s on the Hive Metastore at %s: no such object: %s"
                                 % (what, self.endpoint, exc.message))
        except MetaException as exc:
            raise MetastoreError("%s on the Hive Metastore at %s failed: %s" % (what, self.endpoint, exc.message))
        except TApplicationException as exc:
            raise MetastoreError("%s on the Hive Metastore at %s failed (Thrift application error %s): %s"
                                 % (what, self.endpoint, exc.type, exc.message))
        except (TException, OSError) as exc:
            # A plain TCP service that is not a Thrift server ends up here (EOF or a garbled reply).
            raise MetastoreError("%s on the Hive Metastore at %s failed: %s: %s"
                                 % (what, self.endpoint, type(exc).__name__, exc))

    def get_all_databases(self):
        return list(self._call("get_all_databases", self._client.get_all_databases))

    def get_database(self, name):
        return database_to_dict(self._call("get_database(%s)" % name, self._client.get_database, name))


def probe_metastore(host, port, timeout=10.0, transport="buffered", databases=None, expect_databases=None,
                    retries=0, retry_delay=2.0, sleep=time.sleep):
    """Call get_all_databases, then get_database for each of `expect_databases` and `databases`.

    `expect_databases` must be listed by the server. Retries only connection failures, `retries` times (a
    freshly started HMS can take a while to open 9083). Returns a dict for the module result; raises
    MetastoreError.
    """
    attempt = 0
    while True:
        attempt += 1
        started = time.monotonic()
        try:
            with MetastoreClient(host, port, timeout=timeout, transport=transport) as client:
                names = client.get_all_databases()
                missing = [name for name in (expect_databases or []) if name not in names]
                if missing:
                    raise MetastoreError("Hive Metastore at %s does not list the expected database(s) %s; it lists %s"
                                         % (client.endpoint, ", ".join(missing), ", ".join(names) or "none"))
                wanted = list(dict.fromkeys(list(expect_databases or []) + list(databases or [])))
                details = [client.get_database(name) for name in wanted]
                return {
                    "endpoint": client.endpoint,
                    "databases": names,
                    "database_details": details,
                    "attempts": attempt,
                    "elapsed_ms": int((time.monotonic() - started) * 1000),
                }
        except MetastoreUnreachable:
            if attempt > retries:
                raise
            sleep(retry_delay)
