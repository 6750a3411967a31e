"""What the Trino stand-in executes: a handful of statements, answered from its configured catalogs.

SHOW CATALOGS, SHOW SCHEMAS [FROM|IN catalog], SHOW TABLES [FROM|IN [catalog.]schema] and
SELECT count(*) FROM [[catalog.]schema.]table, where an `iceberg` connector catalog reads the real table with
pyiceberg (the data files are scanned, as Trino's Iceberg connector would). Everything else is answered with
the error Trino gives for it, or NOT_SUPPORTED. Names resolve as in Trino: unquoted identifiers are
lower-cased, unqualified names take the session catalog/schema (X-Trino-Catalog / X-Trino-Schema).
"""
import re
import threading

# io.trino.spi.StandardErrorCode: (code, type) by name.
ERROR_CODES = {
    "SYNTAX_ERROR": (1, "USER_ERROR"),
    "NOT_SUPPORTED": (13, "USER_ERROR"),
    "CATALOG_NOT_FOUND": (44, "USER_ERROR"),
    "SCHEMA_NOT_FOUND": (45, "USER_ERROR"),
    "TABLE_NOT_FOUND": (46, "USER_ERROR"),
    "MISSING_CATALOG_NAME": (56, "USER_ERROR"),
    "MISSING_SCHEMA_NAME": (57, "USER_ERROR"),
    "USER_CANCELED": (3, "USER_ERROR"),
    "GENERIC_INTERNAL_ERROR": (65536, "INTERNAL_ERROR"),
}
UNBOUNDED_VARCHAR = 2147483647

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)'
_NAME = r"%s(?:\s*\.\s*%s){0,2}" % (_IDENT, _IDENT)
SHOW_CATALOGS = re.compile(r"\ASHOW\s+CATALOGS\Z", re.I)
SHOW_SCHEMAS = re.compile(r"\ASHOW\s+SCHEMAS(?:\s+(?:FROM|IN)\s+(?P<catalog>%s))?\Z" % _IDENT, re.I)
SHOW_TABLES = re.compile(r"\ASHOW\s+TABLES(?:\s+(?:FROM|IN)\s+(?P<schema>%s(?:\s*\.\s*%s)?))?\Z" % (_IDENT, _IDENT),
                         re.I)
COUNT_STAR = re.compile(r"\ASELECT\s+count\s*\(\s*\*\s*\)\s+FROM\s+(?P<table>%s)\Z" % _NAME, re.I)
FIRST_WORD = re.compile(r"\A\s*([A-Za-z]+)")
KNOWN_FIRST_WORDS = {"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "INSERT", "CREATE",
                     "DROP", "ALTER", "DELETE", "UPDATE", "MERGE", "CALL", "USE", "SET", "RESET", "GRANT", "REVOKE",
                     "PREPARE", "EXECUTE", "DEALLOCATE", "START", "COMMIT", "ROLLBACK", "ANALYZE", "REFRESH",
                     "COMMENT", "TRUNCATE"}


class QueryError(Exception):
    """A failed query, shaped as Trino's QueryError (errorName, errorType, errorCode, message, location)."""

    def __init__(self, name, message, offset=None, sql=""):
        super().__init__(message)
        self.name = name
        self.code, self.type = ERROR_CODES[name]
        self.location = _location(sql, offset) if offset is not None else None
        prefix = "line %d:%d: " % self.location if self.location else ""
        self.message = prefix + message

    def to_json(self):
        error = {"message": self.message, "errorCode": self.code, "errorName": self.name, "errorType": self.type,
                 "failureInfo": {"type": "io.trino.spi.TrinoException", "message": self.message,
                                 "suppressed": [], "stack": []}}
        if self.location:
            error["errorLocation"] = {"lineNumber": self.location[0], "columnNumber": self.location[1]}
            error["failureInfo"]["errorLocation"] = error["errorLocation"]
        return error


def _location(sql, offset):
    before = sql[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column


def identifier(text):
    text = text.strip()
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


def split_name(text):
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "." and not quoted:
            parts.append(identifier(current))
            current = ""
        else:
            current += char
    parts.append(identifier(current))
    return parts


def varchar(name):
    return {"name": name, "type": "varchar",
            "typeSignature": {"rawType": "varchar", "arguments": [{"kind": "LONG", "value": UNBOUNDED_VARCHAR}]}}


def bigint(name):
    return {"name": name, "type": "bigint", "typeSignature": {"rawType": "bigint", "arguments": []}}


class Engine:
    """Executes a statement for a session (catalog, schema); returns (columns, rows) or raises QueryError."""

    def __init__(self, catalogs):
        self.catalogs = dict(catalogs)
        self.catalogs.setdefault("system", {"connector": "system"})
        self._pyiceberg = {}
        self._lock = threading.Lock()

    # -- catalogs ------------------------------------------------------------------------------------------
    def _catalog(self, name, sql, offset):
        if name not in self.catalogs:
            raise QueryError("CATALOG_NOT_FOUND", "Catalog '%s' not found" % name, offset, sql)
        return self.catalogs[name]

    def _iceberg(self, name):
        with self._lock:
            if name not in self._pyiceberg:
                from pyiceberg.catalog import load_catalog
                self._pyiceberg[name] = load_catalog(name, **self.catalogs[name]["pyiceberg"])
            return self._pyiceberg[name]

    def _schemas(self, name):
        config = self.catalogs[name]
        schemas = ["information_schema"]
        if config.get("connector") == "iceberg":
            schemas += [".".join(ns) for ns in self._iceberg(name).list_namespaces()]
        elif config.get("connector") == "system":
            schemas += ["jdbc", "metadata", "runtime"]
        return sorted(set(schemas))

    # -- statements ----------------------------------------------------------------------------------------
    def execute(self, sql, catalog=None, schema=None):
        text = sql.strip()
        if ";" in text:
            raise QueryError("SYNTAX_ERROR", "mismatched input ';'. Expecting: <EOF>", sql.index(";"), sql)
        if SHOW_CATALOGS.match(text):
            return [varchar("Catalog")], [[name] for name in sorted(self.catalogs)]
        match = SHOW_SCHEMAS.match(text)
        if match:
            name = identifier(match.group("catalog")) if match.group("catalog") else catalog
            if not name:
                raise QueryError("MISSING_CATALOG_NAME", "Catalog must be specified when session catalog is not set",
                                 0, sql)
            self._catalog(name, sql, match.start("catalog") if match.group("catalog") else 0)
            return [varchar("Schema")], [[s] for s in self._schemas(name)]
        match = SHOW_TABLES.match(text)
        if match:
            return self._show_tables(sql, text, match, catalog, schema)
        match = COUNT_STAR.match(text)
        if match:
            return [bigint("_col0")], [[self._count(sql, text, match, catalog, schema)]]
        return self._not_modelled(sql, text)

    def _show_tables(self, sql, text, match, catalog, schema):
        offset = match.start("schema") if match.group("schema") else 0
        parts = split_name(match.group("schema")) if match.group("schema") else []
        if not parts:
            if not schema:
                raise QueryError("MISSING_SCHEMA_NAME", "Schema must be specified when session schema is not set",
                                 0, sql)
            parts = [schema]
        if len(parts) == 1:
            if not catalog:
                raise QueryError("MISSING_CATALOG_NAME", "Catalog must be specified when session catalog is not set",
                                 offset, sql)
            parts = [catalog] + parts
        name, schema_name = parts
        config = self._catalog(name, sql, offset)
        if schema_name not in self._schemas(name):
            raise QueryError("SCHEMA_NOT_FOUND", "Schema '%s' does not exist" % schema_name, offset, sql)
        tables = []
        if config.get("connector") == "iceberg" and schema_name != "information_schema":
            tables = [ident[-1] for ident in self._iceberg(name).list_tables(schema_name)]
        return [varchar("Table")], [[t] for t in sorted(tables)]

    def _count(self, sql, text, match, catalog, schema):
        offset = match.start("table")
        parts = split_name(match.group("table"))
        if len(parts) == 1:
            if not schema:
                raise QueryError("MISSING_SCHEMA_NAME", "Schema must be specified when session schema is not set",
                                 offset, sql)
            if not catalog:
                raise QueryError("MISSING_CATALOG_NAME", "Catalog must be specified when session catalog is not set",
                                 offset, sql)
            parts = [catalog, schema] + parts
        elif len(parts) == 2:
            if not catalog:
                raise QueryError("MISSING_CATALOG_NAME", "Catalog must be specified when session catalog is not set",
                                 offset, sql)
            parts = [catalog] + parts
        name, schema_name, table = parts
        config = self._catalog(name, sql, offset)
        qualified = "%s.%s.%s" % (name, schema_name, table)
        if config.get("connector") != "iceberg":
            raise QueryError("NOT_SUPPORTED", "The Trino stand-in reads tables of iceberg catalogs only; '%s' is a %s "
                             "catalog" % (name, config.get("connector")), offset, sql)
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
        if schema_name not in self._schemas(name):
            raise QueryError("SCHEMA_NOT_FOUND", "Schema '%s' does not exist" % schema_name, offset, sql)
        try:
            iceberg_table = self._iceberg(name).load_table((schema_name, table))
        except (NoSuchTableError, NoSuchNamespaceError):
            raise QueryError("TABLE_NOT_FOUND", "Table '%s' does not exist" % qualified, offset, sql) from None
        try:
            return iceberg_table.scan().to_arrow().num_rows
        except Exception as exc:  # noqa: BLE001 - reported as Trino reports an internal failure
            raise QueryError("GENERIC_INTERNAL_ERROR", "Reading %s failed: %s: %s"
                             % (qualified, type(exc).__name__, exc)) from None

    def _not_modelled(self, sql, text):
        match = FIRST_WORD.match(text)
        word = match.group(1).upper() if match else ""
        if word not in KNOWN_FIRST_WORDS:
            found = match.group(1) if match else text[:1]
            raise QueryError("SYNTAX_ERROR", "mismatched input '%s'. Expecting: 'ALTER', 'ANALYZE', 'CALL', "
                             "'COMMIT', 'CREATE', 'DEALLOCATE', 'DELETE', 'DESC', 'DESCRIBE', 'DROP', 'EXECUTE', "
                             "'EXPLAIN', 'GRANT', 'INSERT', 'MERGE', 'PREPARE', 'REFRESH', 'RESET', 'REVOKE', "
                             "'ROLLBACK', 'SELECT', 'SET', 'SHOW', 'START', 'TABLE', 'UPDATE', 'USE', 'VALUES', "
                             "'WITH', <query>" % found, len(sql) - len(sql.lstrip()), sql)
        raise QueryError("NOT_SUPPORTED", "The Trino stand-in does not execute this statement: %s" % text[:200])
