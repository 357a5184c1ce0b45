"""The tables of a warehouse, found where their files are: the folders of a local Spark
warehouse (embedded or Thrift), or the S3 locations the Glue catalog gives for Athena."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stedi_lakehouse.erasure.storage import LocalStorage, S3Storage, Storage
from stedi_lakehouse.preflight import PreflightError

# where a table's rows are counted in the audit log, by its name (the project's naming rules)
ZONE_PREFIXES = {"stg_": "staging", "int_": "intermediate", "reading_table_": "bookkeeping"}


@dataclass(frozen=True)
class Table:
    name: str  # schema.table
    storage: Storage
    folders: tuple[str, ...]  # where its data files are, relative to the storage root

    @property
    def zone(self) -> str:
        table = self.name.rpartition(".")[2]
        for prefix, zone in ZONE_PREFIXES.items():
            if table.startswith(prefix):
                return zone
        for zone in ("trusted", "curated"):
            if table.endswith(f"_{zone}"):
                return zone
        return "other"

    def data_files(self) -> list[str]:
        """Every data file; names starting with _ or . are not data (Spark, Hive and Athena agree)."""
        files = {key for folder in self.folders for key in self.storage.files(folder)}
        return sorted(key for key in files if not any(part.startswith(("_", ".")) for part in key.split("/")))


def local_tables(warehouse: Path) -> list[Table]:
    """The tables of a Spark warehouse: tables/<schema>.db/<table>/, and tables/<table>/ of the
    default schema."""
    root = warehouse / "tables"
    if not root.is_dir():
        return []
    storage = LocalStorage(warehouse)
    tables = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(("_", "."))):
        if folder.name.endswith(".db"):
            schema = folder.name.removesuffix(".db")
            tables += [
                Table(f"{schema}.{table.name}", storage, (table.relative_to(warehouse).as_posix(),))
                for table in sorted(folder.iterdir())
                if table.is_dir() and not table.name.startswith(("_", "."))
            ]
        else:
            tables.append(Table(f"default.{folder.name}", storage, (folder.relative_to(warehouse).as_posix(),)))
    return tables


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise PreflightError(f"{uri}: expected an s3://bucket/prefix location")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    return bucket, prefix.strip("/")


def glue_tables(glue: Any, s3: Any, database: str, landing_uri: str) -> list[Table]:
    """The Athena tables of a Glue database with their S3 folders (partitions included); views,
    and the external tables over the landing zone, have no files of their own to erase."""
    landing = landing_uri.rstrip("/") + "/"
    storages: dict[str, S3Storage] = {}
    tables = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for entry in page["TableList"]:
            location = entry.get("StorageDescriptor", {}).get("Location", "")
            if entry.get("TableType") == "VIRTUAL_VIEW" or not location.startswith("s3://"):
                continue
            if (location.rstrip("/") + "/").startswith(landing):
                continue
            locations = {location}
            for partitions in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=entry["Name"]):
                locations.update(
                    partition["StorageDescriptor"]["Location"]
                    for partition in partitions["Partitions"]
                    if partition.get("StorageDescriptor", {}).get("Location", "").startswith("s3://")
                )
            by_bucket: dict[str, list[str]] = {}
            for uri in sorted(locations):
                bucket, prefix = split_s3_uri(uri)
                by_bucket.setdefault(bucket, []).append(prefix)
            for bucket, prefixes in by_bucket.items():
                storage = storages.setdefault(bucket, S3Storage(bucket, "", s3))
                tables.append(Table(f"{database}.{entry['Name']}", storage, tuple(prefixes)))
    return tables
