"""The tables of a Spark build as Athena would find them.

`publish_spark_tables` gives the offline Athena's Glue catalog and S3 the tables a Spark build
made, as dbt-athena would have left them: one Glue database per schema, a Hive table of Parquet
files at `<s3_data_dir>/<schema>/<table>` (the profile's s3_data_naming `schema_table`), the
Parquet columns with their Athena types, the `key=value` folders as partition keys and Glue
partitions. Paths of landing files in the data are written as the S3 paths Athena records for
the same files.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import duckdb

from stedi_lakehouse.checks.athena_tables import PARQUET_FORMAT, Tables, hive_type, partition_location

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _data_files(folder: Path) -> list[Path]:
    """Parquet files as Hive lists them: not _SUCCESS, nor Spark's hidden checksum files."""
    return sorted(
        path for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(("_", ".")) for part in path.relative_to(folder).parts)
    )


def _partition_values(folder: Path, path: Path) -> list[tuple[str, str]]:
    return [tuple(part.split("=", 1)) for part in path.relative_to(folder).parent.parts]  # type: ignore[misc]


def _key_type(values: set[str]) -> str:
    """A partition key's type, from its values: Spark keeps the types in its own metastore only.
    Dates are dates; anything else is read as a string."""
    return "date" if values and all(ISO_DATE.fullmatch(value) for value in values) else "string"


def landing_paths(db: duckdb.DuckDBPyConnection, relation: str, local_prefixes: list[str], replacement: str) -> str:
    """A query of `relation` with every string value that starts with one of `local_prefixes`
    starting with `replacement` instead."""
    columns = db.execute(f"describe select * from {relation}").fetchall()
    selected = []
    for name, type_name, *_ in columns:
        expression = f'"{name}"'
        if type_name == "VARCHAR":
            for prefix in local_prefixes:
                expression = (
                    f"case when starts_with({expression}, '{prefix}')"
                    f" then '{replacement}' || substr({expression}, {len(prefix) + 1}) else {expression} end"
                )
        selected.append(f'{expression} as "{name}"')
    return f"select {', '.join(selected)} from {relation}"


def local_landing_prefixes(landing: Path) -> list[str]:
    """How Spark writes the path of a file of the local landing folder (`_metadata.file_path`)."""
    root = landing.resolve().as_posix().rstrip("/")
    return [f"file://{root}/", f"file:{root}/"]


def publish_spark_tables(
    catalog: Tables, tables: Path, schema: str, data_dir: str, landing: Path, landing_uri: str
) -> list[str]:
    """Register every table of a Spark build (`<warehouse>/tables/<schema>.db`) in Glue with its
    files in S3; returns their names. A table without data files is left out (Spark keeps its
    columns in its own metastore only): the Athena build creates it as it would a new one."""
    try:
        catalog.glue.create_database(DatabaseInput={"Name": schema})
    except catalog.glue.exceptions.AlreadyExistsException:
        pass
    published = []
    for folder in sorted(path for path in tables.iterdir() if path.is_dir()):
        files = _data_files(folder)
        if not files:
            continue
        name = folder.name.lower()
        location = f"{data_dir.rstrip('/')}/{schema}/{name}"
        key_names = [key for key, _ in _partition_values(folder, files[0])]
        partitions = sorted({tuple(value for _, value in _partition_values(folder, path)) for path in files})
        key_types = [_key_type({values[index] for values in partitions}) for index in range(len(key_names))]
        paths = "[" + ", ".join(f"'{path}'" for path in files) + "]"
        scan = f"read_parquet({paths}, union_by_name = true, hive_partitioning = false)"
        columns = [
            {"Name": row[0].lower(), "Type": hive_type(row[1])}
            for row in catalog.db.execute(f"describe select * from {scan}").fetchall()
        ]
        bucket, _, prefix = f"{location}/"[len("s3://"):].partition("/")
        for path in files:
            relative = path.relative_to(folder).as_posix()
            local = catalog.scratch / f"publish-{uuid.uuid4().hex}.parquet"
            rewritten = landing_paths(catalog.db, f"read_parquet('{path}')", local_landing_prefixes(landing), f"{landing_uri.rstrip('/')}/")
            catalog.db.execute(f"copy ({rewritten}) to '{local}' (format parquet)")
            catalog.s3.put_object(Bucket=bucket, Key=f"{prefix}{relative}", Body=local.read_bytes())
            local.unlink()
        keys = [{"Name": key, "Type": key_type} for key, key_type in zip(key_names, key_types)]
        storage = {**PARQUET_FORMAT, "Columns": columns, "Location": location}
        catalog.glue.create_table(
            DatabaseName=schema,
            TableInput={
                "Name": name, "TableType": "EXTERNAL_TABLE", "PartitionKeys": keys, "StorageDescriptor": storage,
                "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet", "has_encrypted_data": "false"},
            },
        )
        inputs = [
            {
                "Values": list(values),
                "StorageDescriptor": {
                    **storage,
                    "Location": partition_location(location, key_names, list(values)),
                },
            }
            for values in (partitions if key_names else [])
        ]
        for start in range(0, len(inputs), 100):
            catalog.glue.batch_create_partition(DatabaseName=schema, TableName=name, PartitionInputList=inputs[start:start + 100])
        published.append(name)
    return published
