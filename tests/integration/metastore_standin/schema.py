"""The subset of the Hive 3 metastore schema (PostgreSQL flavour) the stand-in stores its state in.

Quoted upper-case identifiers, as Hive's schematool creates them, so SQL written against a real metastore
database (backup/restore comparisons, row counts) reads these tables the same way.
"""

SCHEMA_VERSION = "3.0.0"

DDL = [
    'CREATE TABLE IF NOT EXISTS "VERSION" ("VER_ID" bigint PRIMARY KEY, "SCHEMA_VERSION" varchar(127) NOT NULL,'
    ' "VERSION_COMMENT" varchar(255) NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "DBS" ("DB_ID" bigint PRIMARY KEY, "DESC" varchar(4000),'
    ' "DB_LOCATION_URI" varchar(4000) NOT NULL, "NAME" varchar(128) UNIQUE, "OWNER_NAME" varchar(128),'
    ' "OWNER_TYPE" varchar(10), "CTLG_NAME" varchar(256) NOT NULL DEFAULT \'hive\')',
    'CREATE TABLE IF NOT EXISTS "DATABASE_PARAMS" ("DB_ID" bigint NOT NULL REFERENCES "DBS" ("DB_ID"),'
    ' "PARAM_KEY" varchar(180) NOT NULL, "PARAM_VALUE" varchar(4000), PRIMARY KEY ("DB_ID", "PARAM_KEY"))',
    'CREATE TABLE IF NOT EXISTS "CDS" ("CD_ID" bigint PRIMARY KEY)',
    'CREATE TABLE IF NOT EXISTS "COLUMNS_V2" ("CD_ID" bigint NOT NULL REFERENCES "CDS" ("CD_ID"),'
    ' "COMMENT" varchar(4000), "COLUMN_NAME" varchar(767) NOT NULL, "TYPE_NAME" text, "INTEGER_IDX" integer NOT NULL,'
    ' PRIMARY KEY ("CD_ID", "COLUMN_NAME"))',
    'CREATE TABLE IF NOT EXISTS "SERDES" ("SERDE_ID" bigint PRIMARY KEY, "NAME" varchar(128), "SLIB" varchar(4000))',
    'CREATE TABLE IF NOT EXISTS "SDS" ("SD_ID" bigint PRIMARY KEY, "CD_ID" bigint REFERENCES "CDS" ("CD_ID"),'
    ' "INPUT_FORMAT" varchar(4000), "IS_COMPRESSED" boolean NOT NULL, "IS_STOREDASSUBDIRECTORIES" boolean NOT NULL,'
    ' "LOCATION" varchar(4000), "NUM_BUCKETS" bigint NOT NULL, "OUTPUT_FORMAT" varchar(4000),'
    ' "SERDE_ID" bigint REFERENCES "SERDES" ("SERDE_ID"))',
    'CREATE TABLE IF NOT EXISTS "TBLS" ("TBL_ID" bigint PRIMARY KEY, "CREATE_TIME" bigint NOT NULL,'
    ' "DB_ID" bigint REFERENCES "DBS" ("DB_ID"), "LAST_ACCESS_TIME" bigint NOT NULL, "OWNER" varchar(767),'
    ' "OWNER_TYPE" varchar(10), "RETENTION" bigint NOT NULL, "SD_ID" bigint REFERENCES "SDS" ("SD_ID"),'
    ' "TBL_NAME" varchar(256), "TBL_TYPE" varchar(128), "VIEW_EXPANDED_TEXT" text, "VIEW_ORIGINAL_TEXT" text,'
    ' "IS_REWRITE_ENABLED" boolean NOT NULL DEFAULT false, UNIQUE ("TBL_NAME", "DB_ID"))',
    'CREATE TABLE IF NOT EXISTS "TABLE_PARAMS" ("TBL_ID" bigint NOT NULL REFERENCES "TBLS" ("TBL_ID"),'
    ' "PARAM_KEY" varchar(256) NOT NULL, "PARAM_VALUE" text, PRIMARY KEY ("TBL_ID", "PARAM_KEY"))',
    'CREATE TABLE IF NOT EXISTS "HIVE_LOCKS" ("HL_LOCK_EXT_ID" bigint PRIMARY KEY, "HL_DB" varchar(128) NOT NULL,'
    ' "HL_TABLE" varchar(128), "HL_LOCK_STATE" char(1) NOT NULL, "HL_LOCK_TYPE" char(1) NOT NULL,'
    ' "HL_USER" varchar(128) NOT NULL, "HL_HOST" varchar(128) NOT NULL, "HL_ACQUIRED_AT" bigint)',
]

TABLES = ["VERSION", "DBS", "DATABASE_PARAMS", "CDS", "COLUMNS_V2", "SERDES", "SDS", "TBLS", "TABLE_PARAMS",
          "HIVE_LOCKS"]
