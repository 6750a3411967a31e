"""A Hive Metastore stand-in for the integration suite: a real Thrift server, a real PostgreSQL store.

There is no Java Hive Metastore runnable on the test machine (no container runtime, no Maven Central).
This package serves the ThriftHiveMetastore service, generated from Hive's IDL (the `hive_metastore`
bindings that ship with pyiceberg), over the same binary protocol and buffered transport the real metastore
uses, and keeps its state in PostgreSQL tables named and shaped like the subset of the Hive 3 metastore
schema that the calls touch (DBS, DATABASE_PARAMS, TBLS, TABLE_PARAMS, SDS, SERDES, CDS, COLUMNS_V2, VERSION).

It implements only what the collection and pyiceberg's HiveCatalog call: get_all_databases, get_database,
create_database, alter_database, drop_database, get_all_tables, get_table, get_table_objects_by_name,
create_table, alter_table(_with_environment_context), drop_table, lock, check_lock, unlock. Any other call
fails with a Thrift application error, exactly as a client would see an unsupported method. It is a test
double for the server side: the client side under test (plugins/module_utils/hive_metastore.py and
pyiceberg) is the production code, unchanged.
"""
