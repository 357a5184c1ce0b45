"""Athena's tables, offline: what a Glue table describes, read from S3 into DuckDB as Athena reads
it, and query results written to S3 and Glue as Athena writes them.

Reading follows the Glue table at the time of the query: the objects under its location (a
partitioned table: under each Glue partition's location, the partition values taken from Glue),
at any depth, but not the names starting with `_` or `.`; Parquet columns by name, cast to the
Glue types; JSON through the OpenX SerDe port and CSV as the OpenCSV SerDe reads it, into string
columns with Athena's pseudo-columns. Writing is Hive's layout: Parquet files under the table's
location, a `key=value` folder per partition, the partitions added to Glue.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import duckdb

from stedi_lakehouse.checks.openx_json import MalformedJson, SerdeOptions, read_line, read_lines

CATALOG = "awsdatacatalog"
MAX_OPEN_PARTITIONS = 100  # partitions one Athena CTAS or INSERT INTO may write
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_FORMAT = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
}
TEXT_FORMAT = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
}
JSON_SERDES = {"org.openx.data.jsonserde.JsonSerDe"}
CSV_SERDES = {"org.apache.hadoop.hive.serde2.OpenCSVSerde"}
# Trino's hmac_sha256(binary, key) (macro email_hmac), which DuckDB lacks, as RFC 2104 defines it:
# a key over the 64-byte block is hashed first, then zero-padded, xored with the inner and outer
# pads. (A Python function would need numpy in DuckDB.)
HMAC_SHA256_MACROS = (
    "create macro hmac_block(key) as case when octet_length(key) > 64 then unhex(sha256(key)) else key end",
    "create macro hmac_pad(key, pad) as xor((hmac_block(key) || unhex(repeat('00', 64 - octet_length(hmac_block(key)))))::bit,"
    " unhex(repeat(pad, 64))::bit)::blob",
    "create macro hmac_sha256(message, key) as unhex(sha256(hmac_pad(key, '5c') || unhex(sha256(hmac_pad(key, '36') || message))))",
)
PSEUDO_COLUMNS = {"$path": "VARCHAR", "$file_size": "BIGINT", "$file_modified_time": "TIMESTAMPTZ"}
HIVE_TYPES = {
    "string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER",
    "integer": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT",
    "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB",
}
DUCKDB_TYPES = {
    "VARCHAR": "string", "BIGINT": "bigint", "HUGEINT": "bigint", "INTEGER": "int", "SMALLINT": "smallint",
    "TINYINT": "tinyint", "DOUBLE": "double", "FLOAT": "float", "BOOLEAN": "boolean", "DATE": "date", "BLOB": "binary",
}


class AthenaQueryError(Exception):
    """A statement that fails: Athena's error code and message, or what is not served offline."""


class S3Object(NamedTuple):
    bucket: str
    key: str
    etag: str
    size: int
    modified: datetime.datetime


def duckdb_type(hive_type: str) -> str:
    name = hive_type.strip().lower()
    base = re.sub(r"\(.*\)$", "", name)
    if base == "decimal":
        return name.upper()
    if base not in HIVE_TYPES:
        raise AthenaQueryError(f"NOT_SUPPORTED: column type {hive_type} is not served offline")
    return HIVE_TYPES[base]


def hive_type(duckdb_type_name: str) -> str:
    """The Glue type of a column Athena writes from a DuckDB result column."""
    name = duckdb_type_name.upper()
    if name.startswith("DECIMAL"):
        return name.lower()
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    if name not in DUCKDB_TYPES:
        raise AthenaQueryError(f"NOT_SUPPORTED: a column of type {duckdb_type_name} cannot be written offline")
    return DUCKDB_TYPES[name]


def partition_text(value: Any) -> str:
    """A partition value as Hive keeps it in Glue and in the partition's folder name."""
    if value is None:
        return HIVE_DEFAULT_PARTITION
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def escape_path_name(value: str) -> str:
    """Hive's FileUtils.escapePathName: the characters a partition folder name escapes."""
    special = set('"#%\'*/:=?\\\x7f{[]^')
    return "".join(f"%{ord(c):02X}" if c in special or ord(c) < 0x20 else c for c in value)


def partition_location(location: str, keys: list[str], values: list[str]) -> str:
    return location.rstrip("/") + "/" + "/".join(f"{escape_path_name(key)}={escape_path_name(value)}" for key, value in zip(keys, values))


def split_s3(uri: str) -> tuple[str, str]:
    """Bucket and key prefix (ending with '/', or empty) of an s3:// location."""
    if not uri.startswith("s3://"):
        raise AthenaQueryError(f"INVALID_TABLE_PROPERTY: location {uri} is not an s3:// location")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class Tables:
    """The Glue catalog and S3 of one AWS endpoint (moto here), and the DuckDB tables read from them."""

    def __init__(self, aws_endpoint: str, scratch: Path, db: duckdb.DuckDBPyConnection, region: str = "us-east-1") -> None:
        # the local AWS takes any credentials: never look for real ones
        session = boto3.Session(aws_access_key_id="offline-check", aws_secret_access_key="offline-check", region_name=region)
        self.glue = session.client("glue", endpoint_url=aws_endpoint)
        self.s3 = session.client("s3", endpoint_url=aws_endpoint)
        self.scratch = scratch
        self.db = db
        self.json_rows: dict[str, int] = {}  # rows of each JSON table, as last read
        self._loaded: dict[tuple[str, str], Any] = {}  # what each DuckDB table was read from
        self._downloads: dict[tuple[str, str, str], Path] = {}

    # --- Glue and S3 -----------------------------------------------------------------------

    def get(self, schema: str, name: str) -> dict[str, Any] | None:
        try:
            return self.glue.get_table(DatabaseName=schema, Name=name)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def require(self, schema: str, name: str) -> dict[str, Any]:
        table = self.get(schema, name)
        if table is None:
            raise AthenaQueryError(f"TABLE_NOT_FOUND: Table '{CATALOG}.{schema}.{name}' does not exist")
        return table

    def update(self, schema: str, table: dict[str, Any], **changes: Any) -> None:
        keys = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys", "ViewOriginalText",
                "ViewExpandedText", "TableType", "Parameters")
        self.glue.update_table(DatabaseName=schema, TableInput={key: table[key] for key in keys if key in table} | changes)

    def partitions(self, schema: str, name: str) -> list[dict[str, Any]]:
        pages = self.glue.get_paginator("get_partitions").paginate(DatabaseName=schema, TableName=name)
        return [partition for page in pages for partition in page.get("Partitions", [])]

    def objects(self, location: str) -> list[S3Object]:
        """The data files under a location, at any depth, as Athena lists them: not the names
        starting with _ or . (Spark's _SUCCESS and checksum files)."""
        bucket, prefix = split_s3(location)
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        try:
            found = [
                S3Object(bucket, item["Key"], item["ETag"], item["Size"], item["LastModified"])
                for page in pages for item in page.get("Contents", [])
            ]
        except self.s3.exceptions.NoSuchBucket:
            return []
        return [item for item in found if not any(part.startswith(("_", ".")) for part in item.key[len(prefix):].split("/"))]

    def _download(self, item: S3Object) -> Path:
        if (item.bucket, item.key, item.etag) not in self._downloads:
            # the object's name stays at the end: a .gz landing file is read gunzipped
            local = self.scratch / f"read-{uuid.uuid4().hex}-{item.key.rsplit('/', 1)[-1]}"
            local.write_bytes(self.s3.get_object(Bucket=item.bucket, Key=item.key)["Body"].read())
            self._downloads[(item.bucket, item.key, item.etag)] = local
        return self._downloads[(item.bucket, item.key, item.etag)]

    # --- reading a table into DuckDB --------------------------------------------------------

    def drop_loaded(self, schema: str, name: str) -> None:
        for kind, catalog in (("view", "duckdb_views()"), ("table", "duckdb_tables()")):
            found = self.db.execute(
                f"select 1 from {catalog} where database_name = ? and schema_name = ? and {kind}_name = ?", [CATALOG, schema, name]
            ).fetchall()
            if found:
                self.db.execute(f'drop {kind} {CATALOG}."{schema}"."{name}"')
        self._loaded.pop((schema, name), None)

    def load_view(self, schema: str, name: str, duckdb_sql: str) -> None:
        if self._loaded.get((schema, name)) != ("view", duckdb_sql):
            self.drop_loaded(schema, name)
            self.db.execute(f'create view {CATALOG}."{schema}"."{name}" as {duckdb_sql}')
            self._loaded[(schema, name)] = ("view", duckdb_sql)

    def load_table(self, schema: str, name: str, table: dict[str, Any]) -> None:
        """Make the DuckDB table `awsdatacatalog.schema.name` hold what Athena reads from the
        Glue table now (read again only if its description or files changed)."""
        storage = table["StorageDescriptor"]
        serde = (storage.get("SerdeInfo") or {}).get("SerializationLibrary", "")
        columns = [(column["Name"].lower(), column["Type"]) for column in storage["Columns"]]
        keys = [(column["Name"].lower(), column["Type"]) for column in table.get("PartitionKeys") or []]
        if keys:
            files = [
                (item, tuple(partition["Values"]))
                for partition in self.partitions(schema, name)
                for item in self.objects(partition["StorageDescriptor"]["Location"])
            ]
        else:
            files = [(item, ()) for item in self.objects(storage["Location"])]
        described = json.dumps([columns, keys, storage.get("SerdeInfo"), table.get("Parameters")], sort_keys=True)
        signature = (described, tuple((item.key, item.etag, values) for item, values in files))
        if self._loaded.get((schema, name)) == signature:
            return
        self.drop_loaded(schema, name)
        relation = f'{CATALOG}."{schema}"."{name}"'
        if serde in JSON_SERDES | CSV_SERDES:
            if keys:
                raise AthenaQueryError(f"NOT_SUPPORTED: {schema}.{name}: partitioned text tables are not served offline")
            self._load_text(relation, table, columns, [item for item, _ in files])
        elif serde == PARQUET_SERDE:
            self._load_parquet(relation, columns, keys, files)
        else:
            raise AthenaQueryError(f"NOT_SUPPORTED: {schema}.{name}: SerDe {serde or '(none)'} is not served offline")
        self._loaded[(schema, name)] = signature

    def _load_text(self, relation: str, table: dict[str, Any], columns: list[tuple[str, str]], objects: list[S3Object]) -> None:
        """Read the objects as the table's SerDe reads them into string columns, with Athena's
        pseudo-columns "$path", "$file_size" and "$file_modified_time"."""
        serde = table["StorageDescriptor"]["SerdeInfo"]
        not_strings = [name for name, type_name in columns if type_name.lower() != "string"]
        if not_strings:
            raise AthenaQueryError(f"NOT_SUPPORTED: {table['Name']}: text tables are read into string columns only, not {not_strings}")
        names = [name for name, _ in columns]
        parameters = serde.get("Parameters") or {}
        skip = int((table.get("Parameters") or {}).get("skip.header.line.count", "0"))
        rows: list[tuple[Any, ...]] = []
        for item in objects:
            path, uri = self._download(item), f"s3://{item.bucket}/{item.key}"
            file = (uri, item.size, item.modified.isoformat())
            if serde["SerializationLibrary"] in JSON_SERDES:
                options = SerdeOptions.from_properties(parameters)
                try:
                    rows += [(*read_line(line, names, options), *file) for line in read_lines(path)]
                except MalformedJson as error:
                    raise AthenaQueryError(f"HIVE_BAD_DATA: Error parsing field value in {uri}: {error}") from None
            else:
                reader = csv.reader(
                    io.StringIO(path.read_text(encoding="utf-8")),
                    delimiter=parameters.get("separatorChar", ","), quotechar=parameters.get("quoteChar", '"'),
                    escapechar=parameters.get("escapeChar", "\\"),
                )
                for line in list(reader)[skip:]:
                    rows.append((*(line[index] if index < len(line) else None for index in range(len(names))), *file))
        if serde["SerializationLibrary"] in JSON_SERDES:
            self.json_rows[table["Name"]] = len(rows)
        # through a JSON-lines file: many times faster than inserting row by row
        lines = self.scratch / f"rows-{uuid.uuid4().hex}.json"
        lines.write_text("".join(json.dumps({f"c{index}": value for index, value in enumerate(row)}) + "\n" for row in rows))
        types = ["VARCHAR"] * len(names) + list(PSEUDO_COLUMNS.values())
        typed = ", ".join(f"'c{index}': '{type_name}'" for index, type_name in enumerate(types))
        renamed = ", ".join(f'c{index} as "{name}"' for index, name in enumerate([*names, *PSEUDO_COLUMNS]))
        self.db.execute(
            f"create table {relation} as select {renamed}"
            f" from read_json('{lines}', format = 'newline_delimited', columns = {{{typed}}})"
        )
        lines.unlink()

    def _load_parquet(
        self, relation: str, columns: list[tuple[str, str]], keys: list[tuple[str, str]], files: list[tuple[S3Object, tuple[str, ...]]]
    ) -> None:
        if not files:
            typed = [f'"{name}" {duckdb_type(type_name)}' for name, type_name in columns + keys]
            self.db.execute(f"create table {relation} ({', '.join(typed)})")
            return
        local = [(str(self._download(item)), values) for item, values in files]
        paths = "[" + ", ".join(f"'{path}'" for path, _ in local) + "]"
        present = {row[0].lower() for row in self.db.execute(f"describe select * from read_parquet({paths}, union_by_name = true)").fetchall()}
        self.db.execute("create or replace temp table __files (file varchar" + "".join(f", k{index} varchar" for index in range(len(keys))) + ")")
        self.db.executemany(f"insert into __files values ({', '.join('?' * (len(keys) + 1))})", [[path, *values] for path, values in local])
        select = [
            f'cast(data."{name}" as {duckdb_type(type_name)}) as "{name}"' if name in present else f'cast(null as {duckdb_type(type_name)}) as "{name}"'
            for name, type_name in columns
        ] + [
            f"cast(nullif(files.k{index}, '{HIVE_DEFAULT_PARTITION}') as {duckdb_type(type_name)}) as \"{name}\""
            for index, (name, type_name) in enumerate(keys)
        ]
        self.db.execute(
            f"create table {relation} as select {', '.join(select)}"
            f" from read_parquet({paths}, union_by_name = true, filename = true) as data"
            " inner join __files as files on data.filename = files.file"
        )

    # --- writing ------------------------------------------------------------------------------

    def write(self, schema: str, table: dict[str, Any], rows_table: str, existing: dict[tuple[str, ...], str], execution_id: str) -> int:
        """Write the rows of the DuckDB table `rows_table` (the Glue table's columns, partition
        keys last) as Parquet files under the table's location, one folder per partition (a
        partition Glue holds keeps its folder); add the new partitions to Glue. Returns the rows."""
        storage = table["StorageDescriptor"]
        data = ", ".join(f'"{column["Name"].lower()}"' for column in storage["Columns"])
        keys = [column["Name"].lower() for column in table.get("PartitionKeys") or []]
        rows = self.db.execute(f"select count(*) from {rows_table}").fetchall()[0][0]
        if not keys:
            if rows:
                self._put_parquet(f"select {data} from {rows_table}", f"{storage['Location'].rstrip('/')}/{execution_id}_00000")
            return rows
        partitions = self.partition_values(rows_table, keys)
        condition = " and ".join(f'"{key}" is not distinct from ?' for key in keys)
        added = []
        for number, values in enumerate(partitions):
            texts = [partition_text(value) for value in values]
            folder = existing.get(tuple(texts))
            if folder is None:
                folder = partition_location(storage["Location"], keys, texts)
                added.append({"Values": texts, "StorageDescriptor": {**storage, "Location": folder}})
            self._put_parquet(f"select {data} from {rows_table} where {condition}", f"{folder.rstrip('/')}/{execution_id}_{number:05d}", list(values))
        for start in range(0, len(added), 100):
            response = self.glue.batch_create_partition(DatabaseName=schema, TableName=table["Name"], PartitionInputList=added[start:start + 100])
            if response.get("Errors"):
                raise AthenaQueryError(f"could not add partitions to {schema}.{table['Name']}: {response['Errors'][0]}")
        return rows

    def partition_values(self, rows_table: str, keys: list[str]) -> list[tuple[Any, ...]]:
        """The partitions the rows fall in; more than Athena writes at once fail."""
        key_list = ", ".join(f'"{key}"' for key in keys)
        partitions = self.db.execute(f"select distinct {key_list} from {rows_table}").fetchall()
        if len(partitions) > MAX_OPEN_PARTITIONS:
            raise AthenaQueryError(
                f"HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of {MAX_OPEN_PARTITIONS} open writers for partitions/buckets"
            )
        return partitions

    def _put_parquet(self, query: str, uri: str, parameters: list[Any] | None = None) -> None:
        local = self.scratch / f"write-{uuid.uuid4().hex}.parquet"
        self.db.execute(f"copy ({query}) to '{local}' (format parquet)", parameters or [])
        bucket, key = uri[len("s3://"):].split("/", 1)
        self.s3.put_object(Bucket=bucket, Key=key, Body=local.read_bytes())
        local.unlink()
