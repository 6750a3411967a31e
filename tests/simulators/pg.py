"""Provision the application database of a simulated CNPG Cluster on a REAL PostgreSQL server.

CNPG's initdb bootstrap creates the owner role with the password from the app Secret, the database owned by
it, then runs postInitApplicationSQL in that database as superuser. Doing the same on a real server lets
integration tests run real SQL against "the cluster's" database. Databases created here carry a COMMENT
naming the Cluster, so deleting the Cluster drops only databases the simulator made for it.
"""
import logging

import psycopg2
from psycopg2 import sql

LOG = logging.getLogger(__name__)


def marker(namespace, name):
    return f"lakehouse-sim cnpg Cluster {namespace}/{name}"


class PostgresProvisioner:
    def __init__(self, target):
        self.target = target

    def _connect(self, dbname=None):
        conn = psycopg2.connect(host=self.target.host, port=self.target.port, user=self.target.user,
                                password=self.target.password or None, dbname=dbname or self.target.dbname,
                                connect_timeout=5)
        conn.autocommit = True
        return conn

    def ensure_database(self, database, owner, password, comment, post_init_sql=()):
        """Create or update role + database; returns True when the database was created now."""
        conn = self._connect()
        created = False
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,))
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(sql.SQL(verb + " ROLE {} WITH LOGIN PASSWORD %s").format(sql.Identifier(owner)),
                            (password,))
                cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,))
                row = cur.fetchone()
                if row is None:
                    cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database),
                                                                              sql.Identifier(owner)))
                    cur.execute(sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(database)),
                                (comment,))
                    created = True
                elif row[0] != owner:
                    cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database),
                                                                                sql.Identifier(owner)))
        finally:
            conn.close()
        if created and post_init_sql:
            conn = self._connect(database)
            try:
                with conn.cursor() as cur:
                    for statement in post_init_sql:
                        cur.execute(statement)
            finally:
                conn.close()
        return created

    def drop_database(self, database, comment):
        """Drop the database only if it carries our comment for this Cluster; True when dropped."""
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                            (database,))
                row = cur.fetchone()
                if not row or row[0] != comment:
                    return False
                cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
                return True
        finally:
            conn.close()
