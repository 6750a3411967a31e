"""ThriftHiveMetastore handler that keeps its state in PostgreSQL (see schema.py)."""
import threading
import time

import psycopg2
from hive_metastore.ttypes import (
    AlreadyExistsException,
    Database,
    FieldSchema,
    InvalidOperationException,
    LockResponse,
    MetaException,
    LockState,
    NoSuchLockException,
    NoSuchObjectException,
    PrincipalType,
    SerDeInfo,
    StorageDescriptor,
    Table,
)

from . import schema


class PostgresMetastoreHandler:
    """The ThriftHiveMetastore calls the collection and pyiceberg make; every call is one transaction."""

    def __init__(self, dsn, warehouse="s3a://warehouse", lazy=False):
        self.dsn = dsn
        self.warehouse = warehouse.rstrip("/")
        self._lock = threading.Lock()  # one call at a time: simple, and consistent ids without sequences
        self._schema_ready = False
        if not lazy:
            self._tx(lambda cur: None)

    # -- storage helpers --------------------------------------------------------------------------------------
    def _tx(self, func, *args):
        """Run func(cursor, *args) in one transaction. The schema is created on first use, like the real
        metastore's schematool step; lazily, the server may start before its database exists (as a metastore
        pod may start before CloudNativePG finished initdb) and a call then fails until it does."""
        with self._lock:
            try:
                conn = psycopg2.connect(self.dsn)
            except psycopg2.OperationalError as exc:
                raise MetaException(message="cannot reach the metastore database: %s" % exc)
            try:
                with conn:
                    with conn.cursor() as cur:
                        if not self._schema_ready:
                            self._init_schema(cur)
                            self._schema_ready = True
                        return func(cur, *args)
            finally:
                conn.close()

    @staticmethod
    def _next_id(cur, table, column):
        cur.execute('SELECT COALESCE(MAX("%s"), 0) + 1 FROM "%s"' % (column, table))
        return cur.fetchone()[0]

    def _init_schema(self, cur):
        """Like schematool -initSchema plus the metastore's start-up creation of database `default`."""
        for statement in schema.DDL:
            cur.execute(statement)
        cur.execute('SELECT 1 FROM "VERSION"')
        if cur.fetchone() is None:
            cur.execute('INSERT INTO "VERSION" VALUES (1, %s, %s)',
                        (schema.SCHEMA_VERSION, "Hive release version " + schema.SCHEMA_VERSION))
        cur.execute('SELECT 1 FROM "DBS" WHERE "NAME" = %s', ("default",))
        if cur.fetchone() is None:
            cur.execute('INSERT INTO "DBS" VALUES (1, %s, %s, %s, %s, %s, %s)',
                        ("Default Hive database", self.warehouse, "default", "public", "ROLE", "hive"))

    @staticmethod
    def _db_row(cur, name):
        cur.execute('SELECT "DB_ID", "DESC", "DB_LOCATION_URI", "NAME", "OWNER_NAME", "OWNER_TYPE", "CTLG_NAME"'
                    ' FROM "DBS" WHERE "NAME" = %s', (name.lower(),))
        row = cur.fetchone()
        if row is None:
            raise NoSuchObjectException(message="database %s not found" % name)
        return row

    @staticmethod
    def _write_params(cur, table, id_column, object_id, params):
        cur.execute('DELETE FROM "%s" WHERE "%s" = %%s' % (table, id_column), (object_id,))
        for key, value in (params or {}).items():
            cur.execute('INSERT INTO "%s" ("%s", "PARAM_KEY", "PARAM_VALUE") VALUES (%%s, %%s, %%s)'
                        % (table, id_column), (object_id, key, value))

    @staticmethod
    def _read_params(cur, table, id_column, object_id):
        cur.execute('SELECT "PARAM_KEY", "PARAM_VALUE" FROM "%s" WHERE "%s" = %%s' % (table, id_column), (object_id,))
        return dict(cur.fetchall())

    # -- databases --------------------------------------------------------------------------------------------
    def get_all_databases(self):
        def run(cur):
            cur.execute('SELECT "NAME" FROM "DBS" ORDER BY "NAME"')
            return [row[0] for row in cur.fetchall()]
        return self._tx(run)

    def get_database(self, name):
        def run(cur):
            db_id, desc, location, db_name, owner, owner_type, catalog = self._db_row(cur, name)
            return Database(name=db_name, description=desc, locationUri=location,
                            parameters=self._read_params(cur, "DATABASE_PARAMS", "DB_ID", db_id),
                            ownerName=owner, ownerType=getattr(PrincipalType, owner_type or "USER", None),
                            catalogName=catalog)
        return self._tx(run)

    def create_database(self, database):
        def run(cur):
            cur.execute('SELECT 1 FROM "DBS" WHERE "NAME" = %s', (database.name.lower(),))
            if cur.fetchone():
                raise AlreadyExistsException(message="Database %s already exists" % database.name)
            db_id = self._next_id(cur, "DBS", "DB_ID")
            location = database.locationUri or "%s/%s.db" % (self.warehouse, database.name.lower())
            owner_type = PrincipalType._VALUES_TO_NAMES.get(database.ownerType, "USER")
            cur.execute('INSERT INTO "DBS" VALUES (%s, %s, %s, %s, %s, %s, %s)',
                        (db_id, database.description, location, database.name.lower(), database.ownerName,
                         owner_type, database.catalogName or "hive"))
            self._write_params(cur, "DATABASE_PARAMS", "DB_ID", db_id, database.parameters)
        self._tx(run)

    def alter_database(self, dbname, db):
        def run(cur):
            db_id = self._db_row(cur, dbname)[0]
            cur.execute('UPDATE "DBS" SET "DESC" = %s, "OWNER_NAME" = COALESCE(%s, "OWNER_NAME") WHERE "DB_ID" = %s',
                        (db.description, db.ownerName, db_id))
            self._write_params(cur, "DATABASE_PARAMS", "DB_ID", db_id, db.parameters)
        self._tx(run)

    def drop_database(self, name, deleteData, cascade):  # noqa: N803 - Thrift argument names
        def run(cur):
            db_id = self._db_row(cur, name)[0]
            cur.execute('SELECT "TBL_NAME" FROM "TBLS" WHERE "DB_ID" = %s', (db_id,))
            tables = [row[0] for row in cur.fetchall()]
            if tables and not cascade:
                raise InvalidOperationException(
                    message="Database %s is not empty. One or more tables exist." % name)
            for table in tables:
                self._drop_table(cur, db_id, table)
            cur.execute('DELETE FROM "DATABASE_PARAMS" WHERE "DB_ID" = %s', (db_id,))
            cur.execute('DELETE FROM "DBS" WHERE "DB_ID" = %s', (db_id,))
        self._tx(run)

    # -- tables -----------------------------------------------------------------------------------------------
    def get_all_tables(self, db_name):
        def run(cur):
            db_id = self._db_row(cur, db_name)[0]
            cur.execute('SELECT "TBL_NAME" FROM "TBLS" WHERE "DB_ID" = %s ORDER BY "TBL_NAME"', (db_id,))
            return [row[0] for row in cur.fetchall()]
        return self._tx(run)

    def _table_id(self, cur, dbname, tbl_name):
        db_id = self._db_row(cur, dbname)[0]
        cur.execute('SELECT "TBL_ID", "SD_ID" FROM "TBLS" WHERE "DB_ID" = %s AND "TBL_NAME" = %s',
                    (db_id, tbl_name.lower()))
        row = cur.fetchone()
        if row is None:
            raise NoSuchObjectException(message="%s.%s table not found" % (dbname, tbl_name))
        return db_id, row[0], row[1]

    def _read_table(self, cur, dbname, tbl_name):
        _db_id, tbl_id, sd_id = self._table_id(cur, dbname, tbl_name)
        cur.execute('SELECT "TBL_NAME", "OWNER", "CREATE_TIME", "LAST_ACCESS_TIME", "RETENTION", "TBL_TYPE",'
                    ' "VIEW_ORIGINAL_TEXT", "VIEW_EXPANDED_TEXT" FROM "TBLS" WHERE "TBL_ID" = %s', (tbl_id,))
        name, owner, created, accessed, retention, tbl_type, view_original, view_expanded = cur.fetchone()
        cur.execute('SELECT s."CD_ID", s."INPUT_FORMAT", s."IS_COMPRESSED", s."LOCATION", s."NUM_BUCKETS",'
                    ' s."OUTPUT_FORMAT", d."NAME", d."SLIB", s."IS_STOREDASSUBDIRECTORIES"'
                    ' FROM "SDS" s LEFT JOIN "SERDES" d ON d."SERDE_ID" = s."SERDE_ID" WHERE s."SD_ID" = %s', (sd_id,))
        cd_id, input_format, compressed, location, buckets, output_format, serde_name, serde_lib, subdirs = \
            cur.fetchone()
        cur.execute('SELECT "COLUMN_NAME", "TYPE_NAME", "COMMENT" FROM "COLUMNS_V2" WHERE "CD_ID" = %s'
                    ' ORDER BY "INTEGER_IDX"', (cd_id,))
        cols = [FieldSchema(name=col, type=typ, comment=comment) for col, typ, comment in cur.fetchall()]
        sd = StorageDescriptor(cols=cols, location=location, inputFormat=input_format, outputFormat=output_format,
                               compressed=compressed, numBuckets=buckets, bucketCols=[], sortCols=[], parameters={},
                               serdeInfo=SerDeInfo(name=serde_name, serializationLib=serde_lib, parameters={}),
                               storedAsSubDirectories=subdirs)
        return Table(tableName=name, dbName=dbname.lower(), owner=owner, createTime=created, lastAccessTime=accessed,
                     retention=retention, sd=sd, partitionKeys=[], tableType=tbl_type,
                     parameters=self._read_params(cur, "TABLE_PARAMS", "TBL_ID", tbl_id),
                     viewOriginalText=view_original, viewExpandedText=view_expanded, catName="hive")

    def _write_sd(self, cur, sd):
        cd_id = self._next_id(cur, "CDS", "CD_ID")
        cur.execute('INSERT INTO "CDS" VALUES (%s)', (cd_id,))
        for index, col in enumerate(sd.cols or []):
            cur.execute('INSERT INTO "COLUMNS_V2" VALUES (%s, %s, %s, %s, %s)',
                        (cd_id, col.comment, col.name, col.type, index))
        serde_id = self._next_id(cur, "SERDES", "SERDE_ID")
        serde = sd.serdeInfo or SerDeInfo()
        cur.execute('INSERT INTO "SERDES" VALUES (%s, %s, %s)', (serde_id, serde.name, serde.serializationLib))
        sd_id = self._next_id(cur, "SDS", "SD_ID")
        cur.execute('INSERT INTO "SDS" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)',
                    (sd_id, cd_id, sd.inputFormat, bool(sd.compressed), bool(sd.storedAsSubDirectories),
                     sd.location, sd.numBuckets if sd.numBuckets is not None else -1, sd.outputFormat, serde_id))
        return sd_id

    @staticmethod
    def _delete_sd(cur, sd_id):
        cur.execute('SELECT "CD_ID", "SERDE_ID" FROM "SDS" WHERE "SD_ID" = %s', (sd_id,))
        cd_id, serde_id = cur.fetchone()
        cur.execute('DELETE FROM "SDS" WHERE "SD_ID" = %s', (sd_id,))
        cur.execute('DELETE FROM "SERDES" WHERE "SERDE_ID" = %s', (serde_id,))
        cur.execute('DELETE FROM "COLUMNS_V2" WHERE "CD_ID" = %s', (cd_id,))
        cur.execute('DELETE FROM "CDS" WHERE "CD_ID" = %s', (cd_id,))

    def get_table(self, dbname, tbl_name):
        return self._tx(self._read_table, dbname, tbl_name)

    def get_table_objects_by_name(self, dbname, tbl_names):
        def run(cur):
            tables = []
            for name in tbl_names:
                try:
                    tables.append(self._read_table(cur, dbname, name))
                except NoSuchObjectException:
                    pass
            return tables
        return self._tx(run)

    def create_table(self, tbl):
        def run(cur):
            db_id = self._db_row(cur, tbl.dbName)[0]
            cur.execute('SELECT 1 FROM "TBLS" WHERE "DB_ID" = %s AND "TBL_NAME" = %s', (db_id, tbl.tableName.lower()))
            if cur.fetchone():
                raise AlreadyExistsException(message="Table %s.%s already exists" % (tbl.dbName, tbl.tableName))
            sd_id = self._write_sd(cur, tbl.sd or StorageDescriptor())
            tbl_id = self._next_id(cur, "TBLS", "TBL_ID")
            now = int(time.time())
            cur.execute('INSERT INTO "TBLS" ("TBL_ID", "CREATE_TIME", "DB_ID", "LAST_ACCESS_TIME", "OWNER",'
                        ' "OWNER_TYPE", "RETENTION", "SD_ID", "TBL_NAME", "TBL_TYPE", "VIEW_EXPANDED_TEXT",'
                        ' "VIEW_ORIGINAL_TEXT") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)',
                        (tbl_id, tbl.createTime or now, db_id, tbl.lastAccessTime or 0, tbl.owner, "USER",
                         tbl.retention or 0, sd_id, tbl.tableName.lower(), tbl.tableType, tbl.viewExpandedText,
                         tbl.viewOriginalText))
            self._write_params(cur, "TABLE_PARAMS", "TBL_ID", tbl_id, tbl.parameters)
        self._tx(run)

    def alter_table_with_environment_context(self, dbname, tbl_name, new_tbl, environment_context):
        def run(cur):
            try:
                _db_id, tbl_id, sd_id = self._table_id(cur, dbname, tbl_name)
            except NoSuchObjectException as exc:
                raise InvalidOperationException(message="alter is not possible: " + exc.message)
            new_db_id = self._db_row(cur, new_tbl.dbName or dbname)[0]
            new_sd_id = self._write_sd(cur, new_tbl.sd or StorageDescriptor())
            cur.execute('UPDATE "TBLS" SET "TBL_NAME" = %s, "DB_ID" = %s, "SD_ID" = %s, "OWNER" = %s,'
                        ' "TBL_TYPE" = %s WHERE "TBL_ID" = %s',
                        (new_tbl.tableName.lower(), new_db_id, new_sd_id, new_tbl.owner, new_tbl.tableType, tbl_id))
            self._delete_sd(cur, sd_id)
            self._write_params(cur, "TABLE_PARAMS", "TBL_ID", tbl_id, new_tbl.parameters)
        self._tx(run)

    def alter_table(self, dbname, tbl_name, new_tbl):
        self.alter_table_with_environment_context(dbname, tbl_name, new_tbl, None)

    def _drop_table(self, cur, db_id, tbl_name):
        cur.execute('SELECT "TBL_ID", "SD_ID" FROM "TBLS" WHERE "DB_ID" = %s AND "TBL_NAME" = %s', (db_id, tbl_name))
        tbl_id, sd_id = cur.fetchone()
        cur.execute('DELETE FROM "TABLE_PARAMS" WHERE "TBL_ID" = %s', (tbl_id,))
        cur.execute('DELETE FROM "TBLS" WHERE "TBL_ID" = %s', (tbl_id,))
        self._delete_sd(cur, sd_id)

    def drop_table(self, dbname, name, deleteData):  # noqa: N803 - Thrift argument names
        def run(cur):
            db_id = self._table_id(cur, dbname, name)[0]
            self._drop_table(cur, db_id, name.lower())
        self._tx(run)

    # -- locks (exclusive table locks, granted at once: one writer in the tests) -----------------------------
    def lock(self, rqst):
        def run(cur):
            lock_id = self._next_id(cur, "HIVE_LOCKS", "HL_LOCK_EXT_ID")
            component = rqst.component[0]
            cur.execute('INSERT INTO "HIVE_LOCKS" VALUES (%s, %s, %s, %s, %s, %s, %s, %s)',
                        (lock_id, component.dbname, component.tablename, "a", "e", rqst.user or "",
                         rqst.hostname or "", int(time.time() * 1000)))
            return LockResponse(lockid=lock_id, state=LockState.ACQUIRED)
        return self._tx(run)

    def check_lock(self, rqst):
        def run(cur):
            cur.execute('SELECT 1 FROM "HIVE_LOCKS" WHERE "HL_LOCK_EXT_ID" = %s', (rqst.lockid,))
            if cur.fetchone() is None:
                raise NoSuchLockException(message="No such lock: %s" % rqst.lockid)
            return LockResponse(lockid=rqst.lockid, state=LockState.ACQUIRED)
        return self._tx(run)

    def unlock(self, rqst):
        def run(cur):
            cur.execute('DELETE FROM "HIVE_LOCKS" WHERE "HL_LOCK_EXT_ID" = %s', (rqst.lockid,))
            if cur.rowcount == 0:
                raise NoSuchLockException(message="No such lock: %s" % rqst.lockid)
        self._tx(run)
