"""Real Iceberg tables for the tests that query the stand-in: pyiceberg's Hive catalog on the suite's real Hive
Metastore (`hive_metastore` fixture, Thrift) with S3 FileIO on the real Ceph gateway (the metastore's warehouse
bucket and keys, as the phase-1 Rook user's are in a cluster).

    props = hive_catalog_properties(hive_metastore)
    catalog = open_hive_catalog(hive_metastore)
    create_table(catalog, hive_metastore.warehouse, "ns", "t", [10, 5])   # two appends: 15 rows, two snapshots
    drop_namespace(catalog, hive_metastore.warehouse, "ns")              # tables, files and the namespace

The stand-in is configured with the same properties: {"connector": "iceberg", "pyiceberg": props}.
"""
import pyarrow as pa

from ansible_collections.lakehouse.platform.plugins.module_utils.iceberg_ops import (
    catalog_properties,
    namespace_location,
    remove_location,
    s3_checksums_when_required,
)

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def hive_catalog_properties(hive_metastore):
    """pyiceberg properties of the real metastore's catalog (they hold the S3 keys: keep them out of output)."""
    s3 = hive_metastore.s3
    return catalog_properties("hive", hive_metastore.uri, hive_metastore.warehouse, s3_endpoint=s3["endpoint"],
                              s3_access_key=s3["access_key"], s3_secret_key=s3["secret_key"])


def open_hive_catalog(hive_metastore, name="iceberg"):
    from pyiceberg.catalog import load_catalog

    s3_checksums_when_required()  # Ceph RGW: no streaming upload checksums (see iceberg_ops)
    return load_catalog(name, **hive_catalog_properties(hive_metastore))


def append(table, rows, first_id=0):
    """Append `rows` rows (one new snapshot) in the table's current schema: ids from first_id, strings and
    numbers derived from them (works for the phase-1 check's evolved table as for SCHEMA)."""
    schema = table.schema().as_arrow()
    ids = list(range(first_id, first_id + rows))
    columns = {}
    for field in schema:
        if pa.types.is_integer(field.type):
            columns[field.name] = pa.array(ids, field.type)
        elif pa.types.is_floating(field.type):
            columns[field.name] = pa.array([i * 1.5 for i in ids], field.type)
        else:
            columns[field.name] = pa.array(["%s-%d" % (field.name, i) for i in ids], field.type)
    table.append(pa.Table.from_pydict(columns, schema=schema))


def create_table(catalog, warehouse, namespace, table, appends):
    """Namespace (if new) and a table with one snapshot per entry of `appends` (rows each); returns the table."""
    from pyiceberg.exceptions import NamespaceAlreadyExistsError

    try:
        catalog.create_namespace(namespace, {"location": namespace_location(warehouse, namespace)})
    except NamespaceAlreadyExistsError:
        pass
    created = catalog.create_table((namespace, table), schema=SCHEMA)
    first = 0
    for rows in appends:
        append(created, rows, first)
        first += rows
    return catalog.load_table((namespace, table))


def drop_namespace(catalog, warehouse, namespace):
    """Drop every table of `namespace` with its files, then the namespace (pyiceberg's HiveCatalog has no
    purge_table: the entry is dropped and the table's location deleted, as iceberg_table_check does)."""
    from pyiceberg.exceptions import NoSuchNamespaceError

    try:
        identifiers = catalog.list_tables(namespace)
    except NoSuchNamespaceError:
        return
    for identifier in identifiers:
        table = catalog.load_table(identifier)
        catalog.drop_table(identifier)
        remove_location(table.io, table.location())
    catalog.drop_namespace(namespace)
    remove_location(catalog._load_file_io(location=warehouse), namespace_location(warehouse, namespace))
