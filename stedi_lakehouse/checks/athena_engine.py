"""Athena's SQL run offline: the statements dbt-athena sends, executed on DuckDB over the Glue
catalog and S3 of a local moto server (athena_tables).

Each statement is parsed with sqlglot's `athena` dialect and transpiled to DuckDB; every table it
reads is first read from S3 as Glue describes it at that moment, so partitions dbt-athena
deleted through the Glue and S3 APIs are gone for the next statement. Served: SELECT; CREATE
TABLE AS (Hive, Parquet, `partitioned_by`); INSERT INTO; CREATE EXTERNAL TABLE; CREATE [OR
REPLACE] VIEW (kept in Glue as Athena keeps it); DROP TABLE and VIEW; CREATE SCHEMA; ALTER TABLE
SET TBLPROPERTIES. Any other statement fails, as one Athena rejects would. Athena's rules that
dbt-athena reacts to are kept: a CTAS or INSERT writes at most 100 partitions
(HIVE_TOO_MANY_OPEN_PARTITIONS), a CTAS needs an empty location and its partition columns last,
an INSERT needs the table's column types.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from stedi_lakehouse.checks.athena_tables import (
    CATALOG, HMAC_SHA256_MACROS, PARQUET_FORMAT, PARQUET_SERDE, TEXT_FORMAT, AthenaQueryError, Tables, duckdb_type, hive_type,
)

PRESTO_VIEW = re.compile(r"/\* Presto View: (?P<encoded>[A-Za-z0-9+/=]+) \*/")
# type families an INSERT may write into each other (Trino's implicit coercions)
FAMILIES = {name: "NUMBER" for name in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")}
ATHENA_TYPES = {
    "BIGINT": "bigint", "HUGEINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint", "TINYINT": "tinyint",
    "DOUBLE": "double", "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date", "BLOB": "varbinary",
}
CTAS_PROPERTIES = {"table_type", "is_external", "external_location", "format", "write_compression"}


@dataclass
class QueryResult:
    statement_type: str  # DDL or DML, as Athena reports it
    columns: list[tuple[str, str]] = field(default_factory=list)  # name, Athena type
    rows: list[tuple[str | None, ...]] = field(default_factory=list)
    update_count: int = 0


def athena_type(duckdb_type_name: str) -> str:
    """The type name Athena gives a result column."""
    name = duckdb_type_name.upper()
    if name.startswith("TIMESTAMP"):
        return "timestamp with time zone" if "TIME ZONE" in name else "timestamp"
    if name.startswith("DECIMAL"):
        return "decimal"
    return ATHENA_TYPES.get(name, "varchar")


def athena_text(value: Any) -> str | None:
    """A value as Athena's query results print it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _text(node: exp.Expression | None) -> str:
    return node.name if node is not None else ""


def _name(table: exp.Expression, database: str) -> tuple[str, str]:
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table):
        raise AthenaQueryError(f"not a table name: {table.sql()}")
    if table.catalog and table.catalog.lower() != CATALOG:
        raise AthenaQueryError(f"NOT_SUPPORTED: catalog {table.catalog} (the offline Athena has {CATALOG} only)")
    return (table.db or database).lower(), table.name.lower()


class AthenaEngine:
    """Runs Athena statements on DuckDB over the Glue catalog and S3 of `aws_endpoint`."""

    def __init__(self, aws_endpoint: str, scratch: Path) -> None:
        self.db = duckdb.connect()
        self.db.execute("set TimeZone = 'UTC'")  # Athena's session zone, in which "$file_modified_time" is given
        for macro in HMAC_SHA256_MACROS:
            self.db.execute(macro)
        self.db.execute(f"attach ':memory:' as {CATALOG}")
        self.tables = Tables(aws_endpoint, scratch, self.db)
        self._lock = threading.Lock()
        self.statements: list[str] = []  # the kind of every statement run
        self.errors: list[str] = []  # every statement that failed, with why
        self.busy_seconds = 0.0

    def execute(self, sql: str, database: str, execution_id: str) -> QueryResult:
        """Run one statement; AthenaQueryError says why it failed, as Athena would."""
        with self._lock:
            started = time.monotonic()
            try:
                return self._execute(sql, database.lower(), execution_id)
            except AthenaQueryError as error:
                self.errors.append(f"{error} (in: {' '.join(sql.split())[:300]})")
                raise
            except Exception as error:  # noqa: BLE001 - any failure fails the query, saying what it was
                message = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
                self.errors.append(f"{message} (in: {' '.join(sql.split())[:300]})")
                raise AthenaQueryError(message) from None
            finally:
                self.busy_seconds += time.monotonic() - started

    def load(self, schema: str, name: str) -> str:
        """The DuckDB relation holding what Athena reads from the Glue table or view now."""
        table = self.tables.require(schema, name)
        self.db.execute(f'create schema if not exists {CATALOG}."{schema}"')
        if table.get("TableType") == "VIRTUAL_VIEW":
            match = PRESTO_VIEW.fullmatch(table.get("ViewOriginalText", "").strip())
            if match is None:
                raise AthenaQueryError(f"{schema}.{name}: not a view Athena made")
            original = json.loads(base64.b64decode(match["encoded"]))
            query = sqlglot.parse_one(original["originalSql"], read="athena")
            self.tables.load_view(schema, name, self._duckdb_sql(query, original.get("schema", schema)))
        else:
            self.tables.load_table(schema, name, table)
        return f'{CATALOG}."{schema}"."{name}"'

    def close(self) -> None:
        self.db.close()

    def _duckdb_sql(self, query: exp.Expression, database: str) -> str:
        """The query in DuckDB's SQL, every table it reads loaded and named in full."""
        query = query.copy()
        ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
        for table in list(query.find_all(exp.Table)):
            if not table.name or (not table.db and table.name.lower() in ctes):
                continue
            schema, name = _name(table, database)
            self.load(schema, name)
            table.set("catalog", exp.to_identifier(CATALOG))
            table.set("db", exp.to_identifier(schema, quoted=True))
            table.set("this", exp.to_identifier(name, quoted=True))
        return query.sql(dialect="duckdb")

    def _execute(self, sql: str, database: str, execution_id: str) -> QueryResult:
        statements = [statement for statement in sqlglot.parse(sql, read="athena") if statement is not None]
        if len(statements) != 1:
            raise AthenaQueryError(f"INVALID_REQUEST: one statement a query, not {len(statements)}")
        statement = statements[0]
        kind = type(statement).__name__.upper()
        if isinstance(statement, exp.Create):
            kind = f"CREATE {statement.args.get('kind')}{' AS' if statement.expression else ''}"
        self.statements.append(kind)
        if isinstance(statement, exp.Query):
            return self._select(statement, database)
        if isinstance(statement, exp.Insert):
            return self._insert(statement, database, execution_id)
        if isinstance(statement, exp.Create):
            if statement.args.get("kind") in ("SCHEMA", "DATABASE"):
                return self._create_schema(statement)
            if statement.args.get("kind") == "VIEW":
                return self._create_view(statement, database)
            if statement.args.get("kind") == "TABLE" and statement.expression is not None:
                return self._create_table_as(statement, database, execution_id)
            if statement.args.get("kind") == "TABLE":
                return self._create_external_table(statement, database)
        if isinstance(statement, exp.Drop) and statement.args.get("kind") in ("TABLE", "VIEW"):
            return self._drop(statement, database)
        if isinstance(statement, exp.Alter):
            return self._alter(statement, database)
        raise AthenaQueryError(f"NOT_SUPPORTED: the offline Athena does not run {kind} statements")

    def _select(self, query: exp.Query, database: str) -> QueryResult:
        relation = self.db.sql(self._duckdb_sql(query, database))
        types = [str(duck_type) for duck_type in relation.types]
        rows = relation.fetchall()
        return QueryResult(
            "DML",
            [(name, athena_type(duck_type)) for name, duck_type in zip(relation.columns, types)],
            [tuple(athena_text(value) for value in row) for row in rows],
        )

    def _create_schema(self, statement: exp.Create) -> QueryResult:
        name = (statement.this.db or statement.this.name).lower()
        try:
            self.tables.glue.create_database(DatabaseInput={"Name": name})
        except self.tables.glue.exceptions.AlreadyExistsException:
            if not statement.args.get("exists"):
                raise AthenaQueryError(f"Database {name} already exists") from None
        return QueryResult("DDL")

    def _drop(self, statement: exp.Drop, database: str) -> QueryResult:
        tables = statement.args.get("tables") or [statement.this]
        if len(tables) != 1:
            raise AthenaQueryError("NOT_SUPPORTED: DROP one table at a time")
        schema, name = _name(tables[0], database)
        table = self.tables.get(schema, name)
        if table is None:
            if statement.args.get("exists"):
                return QueryResult("DDL")
            raise AthenaQueryError(f"TABLE_NOT_FOUND: Table {schema}.{name} does not exist")
        is_view = table.get("TableType") == "VIRTUAL_VIEW"
        if is_view != (statement.args.get("kind") == "VIEW"):
            raise AthenaQueryError(f"{schema}.{name} is {'a view' if is_view else 'a table'}: DROP {statement.args.get('kind')} does not drop it")
        # an external table's files stay: DROP removes it from the catalog only
        self.tables.glue.delete_table(DatabaseName=schema, Name=name)
        return QueryResult("DDL")

    def _alter(self, statement: exp.Alter, database: str) -> QueryResult:
        actions = statement.args.get("actions") or []
        properties = [action.find(exp.Properties) for action in actions if isinstance(action, exp.AlterSet)]
        if len(actions) != 1 or not properties or properties[0] is None:
            raise AthenaQueryError("NOT_SUPPORTED: the offline Athena runs ALTER TABLE ... SET TBLPROPERTIES only")
        schema, name = _name(statement.this, database)
        table = self.tables.require(schema, name)
        parameters = dict(table.get("Parameters") or {})
        parameters.update({_text(prop.this): _text(prop.args.get("value")) for prop in properties[0].expressions})
        self.tables.update(schema, table, Parameters=parameters)
        return QueryResult("DDL")

    def _create_view(self, statement: exp.Create, database: str) -> QueryResult:
        schema, name = _name(statement.this, database)
        query = statement.expression
        existing = self.tables.get(schema, name)
        if existing is not None and not statement.args.get("replace"):
            raise AthenaQueryError(f"ALREADY_EXISTS: View {schema}.{name} already exists")
        relation = self.db.sql(self._duckdb_sql(query, database))
        types = [str(duck_type) for duck_type in relation.types]
        original = {
            "originalSql": query.sql(dialect="athena"), "catalog": CATALOG, "schema": schema,
            "columns": [{"name": column, "type": athena_type(duck_type)} for column, duck_type in zip(relation.columns, types)],
        }
        encoded = base64.b64encode(json.dumps(original).encode()).decode()
        table_input = {
            "Name": name, "TableType": "VIRTUAL_VIEW", "Parameters": {"presto_view": "true", "comment": "Presto View"},
            "ViewOriginalText": f"/* Presto View: {encoded} */", "ViewExpandedText": "/* Presto View */",
            "StorageDescriptor": {
                "Columns": [{"Name": column, "Type": hive_type(duck_type)} for column, duck_type in zip(relation.columns, types)],
                "SerdeInfo": {},
            },
        }
        if existing is None:
            self.tables.glue.create_table(DatabaseName=schema, TableInput=table_input)
        else:
            self.tables.glue.update_table(DatabaseName=schema, TableInput=table_input)
        return QueryResult("DDL")

    def _create_external_table(self, statement: exp.Create, database: str) -> QueryResult:
        definition = statement.this
        if not isinstance(definition, exp.Schema):
            raise AthenaQueryError("NOT_SUPPORTED: CREATE TABLE without columns or AS")
        schema, name = _name(definition.this, database)
        if self.tables.get(schema, name) is not None:
            if statement.args.get("exists"):
                return QueryResult("DDL")
            raise AthenaQueryError(f"ALREADY_EXISTS: Table {schema}.{name} already exists")
        items = statement.args["properties"].expressions if statement.args.get("properties") else []
        if not any(isinstance(item, exp.ExternalProperty) for item in items):
            raise AthenaQueryError("NOT_SUPPORTED: Athena creates Hive tables with CREATE EXTERNAL TABLE only")
        location = next((_text(item.this) for item in items if isinstance(item, exp.LocationProperty)), None)
        if not location:
            raise AthenaQueryError(f"{schema}.{name}: an external table needs a LOCATION")
        serde = next((item for item in items if isinstance(item, exp.RowFormatSerdeProperty)), None)
        file_format = next((item.name.lower() for item in items if isinstance(item, exp.FileFormatProperty)), None)
        partitioned = next((item for item in items if isinstance(item, exp.PartitionedByProperty)), None)
        table_properties = {_text(item.this): _text(item.args.get("value")) for item in items if type(item) is exp.Property}

        def column(definition: exp.ColumnDef) -> dict[str, str]:
            return {"Name": definition.name.lower(), "Type": definition.args["kind"].sql(dialect="hive").lower()}

        if serde is not None:
            properties = serde.args.get("serde_properties")
            parameters = {_text(prop.this): _text(prop.args.get("value")) for prop in properties.expressions} if properties else {}
            storage: dict[str, Any] = {**TEXT_FORMAT, "SerdeInfo": {"SerializationLibrary": _text(serde.this), "Parameters": parameters}}
        elif file_format == "parquet":
            storage = dict(PARQUET_FORMAT)
        else:
            raise AthenaQueryError(f"NOT_SUPPORTED: {schema}.{name}: the offline Athena reads Parquet, OpenX JSON and OpenCSV tables only")
        self.tables.glue.create_table(
            DatabaseName=schema,
            TableInput={
                "Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": {"EXTERNAL": "TRUE", **table_properties},
                "PartitionKeys": [column(key) for key in partitioned.this.expressions] if partitioned else [],
                "StorageDescriptor": {**storage, "Columns": [column(col) for col in definition.expressions], "Location": location},
            },
        )
        return QueryResult("DDL")

    def _ctas_properties(self, statement: exp.Create) -> tuple[dict[str, str], list[str]]:
        properties: dict[str, str] = {}
        partitioned_by: list[str] = []
        for item in statement.args["properties"].expressions if statement.args.get("properties") else []:
            if isinstance(item, exp.PartitionedByProperty):
                partitioned_by = [element.name.lower() for element in item.this.expressions]
            elif isinstance(item, exp.FileFormatProperty):
                properties["format"] = item.name.lower()
            elif isinstance(item, exp.LocationProperty):
                properties["external_location"] = _text(item.this)
            elif isinstance(item, exp.Property):
                value = item.args.get("value")
                properties[item.name.lower()] = value.name.lower() if isinstance(value, (exp.Literal, exp.Boolean, exp.Var)) else value.sql()
            else:
                raise AthenaQueryError(f"NOT_SUPPORTED: CTAS property {item.sql(dialect='athena')}")
        if properties.get("table_type", "hive") != "hive" or properties.get("format", "parquet") != "parquet":
            raise AthenaQueryError("NOT_SUPPORTED: the offline Athena writes Hive tables of Parquet files only")
        if set(properties) - CTAS_PROPERTIES:
            raise AthenaQueryError(f"NOT_SUPPORTED: CTAS properties {sorted(set(properties) - CTAS_PROPERTIES)}")
        if not properties.get("external_location"):
            raise AthenaQueryError("the offline Athena's work group has no output location: give external_location")
        return properties, partitioned_by

    def _create_table_as(self, statement: exp.Create, database: str, execution_id: str) -> QueryResult:
        schema, name = _name(statement.this, database)
        if self.tables.get(schema, name) is not None:
            raise AthenaQueryError(f"ALREADY_EXISTS: Table {schema}.{name} already exists")
        properties, partitioned_by = self._ctas_properties(statement)
        location = properties["external_location"].rstrip("/")
        if self.tables.objects(location):
            raise AthenaQueryError(f"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{schema}.{name}' already exists: {location}")
        self.db.execute(f"create or replace temp table __written as {self._duckdb_sql(statement.expression, database)}")
        described = [(row[0].lower(), row[1]) for row in self.db.execute("describe __written").fetchall()]
        if [column for column, _ in described][len(described) - len(partitioned_by):] != partitioned_by:
            raise AthenaQueryError(
                "HIVE_COLUMN_ORDER_MISMATCH: Partition keys must be the last columns in the table and in the same order as"
                f" the table properties: {partitioned_by}"
            )
        columns = [{"Name": column, "Type": hive_type(duck_type)} for column, duck_type in described]
        data = len(columns) - len(partitioned_by)
        table_input = {
            "Name": name, "TableType": "EXTERNAL_TABLE",
            "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false"}, "PartitionKeys": columns[data:],
            "StorageDescriptor": {**PARQUET_FORMAT, "Columns": columns[:data], "Location": location},
        }
        if partitioned_by:
            self.tables.partition_values("__written", partitioned_by)  # a CTAS that fails leaves no table
        self.tables.glue.create_table(DatabaseName=schema, TableInput=table_input)
        rows = self.tables.write(schema, table_input, "__written", {}, execution_id)
        return QueryResult("DDL", update_count=rows)

    def _insert(self, statement: exp.Insert, database: str, execution_id: str) -> QueryResult:
        target = statement.this
        listed = [column.name.lower() for column in target.expressions] if isinstance(target, exp.Schema) else None
        schema, name = _name(target, database)
        table = self.tables.require(schema, name)
        if (table["StorageDescriptor"].get("SerdeInfo") or {}).get("SerializationLibrary") != PARQUET_SERDE:
            raise AthenaQueryError(f"NOT_SUPPORTED: the offline Athena inserts into Parquet tables only, not {schema}.{name}")
        columns = table["StorageDescriptor"]["Columns"] + (table.get("PartitionKeys") or [])
        names = [column["Name"].lower() for column in columns]
        listed = listed or names
        missing = [column for column in listed if column not in names]
        if missing:
            raise AthenaQueryError(f"COLUMN_NOT_FOUND: Insert column name does not exist in target table: {missing[0]}")
        query = statement.expression.this if isinstance(statement.expression, exp.Subquery) else statement.expression
        self.db.execute(f"create or replace temp table __inserted as {self._duckdb_sql(query, database)}")
        described = self.db.execute("describe __inserted").fetchall()
        if len(described) != len(listed):
            raise AthenaQueryError(f"MISMATCHED_COLUMN_ALIASES: Insert query has {len(described)} columns, target table {len(listed)}")
        source = {column: (row[0], row[1]) for column, row in zip(listed, described)}
        selected = []
        for column in columns:
            column_name, column_type = column["Name"].lower(), duckdb_type(column["Type"])
            if column_name in source:
                self._check_coercible(*source[column_name], column["Type"], f"{schema}.{name}")
                selected.append(f'cast("{source[column_name][0]}" as {column_type}) as "{column_name}"')
            else:
                selected.append(f'cast(null as {column_type}) as "{column_name}"')
        self.db.execute(f"create or replace temp table __written as select {', '.join(selected)} from __inserted")
        # a partition Glue holds is written to in its own folder
        existing = {tuple(partition["Values"]): partition["StorageDescriptor"]["Location"] for partition in self.tables.partitions(schema, name)}
        rows = self.tables.write(schema, table, "__written", existing, execution_id)
        return QueryResult("DML", update_count=rows)

    def _check_coercible(self, source_name: str, source_type: str, target_type: str, table: str) -> None:
        def family(type_name: str) -> str:
            base = re.sub(r"\(.*\)$", "", type_name.upper())
            return "TIMESTAMP" if base.startswith("TIMESTAMP") else FAMILIES.get(base, base)

        if family(source_type) == family(duckdb_type(target_type)):
            return
        if self.db.execute(f'select count("{source_name}") from __inserted').fetchall()[0][0] == 0:
            return  # only nulls: Athena types them as the column
        raise AthenaQueryError(f"TYPE_MISMATCH: Insert query has mismatched column types: Table: {target_type}, Query: {source_type} ({table})")
