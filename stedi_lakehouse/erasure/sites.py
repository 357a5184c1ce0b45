"""The sites erase works on: a local landing folder with the local warehouses built from it
(embedded Spark, and the local Thrift server's), or an S3 landing prefix with the Athena tables
of a Glue database."""

from __future__ import annotations

from pathlib import Path

from stedi_lakehouse.erasure.run import Site
from stedi_lakehouse.erasure.storage import LocalStorage, S3Storage
from stedi_lakehouse.erasure.tables import glue_tables, local_tables, split_s3_uri
from stedi_lakehouse.preflight import PreflightError

# Under a local warehouse, and under <data dir>/<schema>/ on S3 (a leading _ keeps Athena and
# Hive from reading it as data): journal.json and log/<run>.jsonl.
LOCAL_HOME = "erasure"
S3_HOME = "_erasure"


def local_site(landing: Path, warehouses: list[Path]) -> Site:
    if not landing.is_dir():
        raise PreflightError(f"STEDI_LANDING_PATH={landing}: no such folder")
    return Site(
        landing=LocalStorage(landing),
        home=LocalStorage(warehouses[0] / LOCAL_HOME),
        tables=lambda: [table for warehouse in warehouses for table in local_tables(warehouse)],
    )


def athena_site(landing_uri: str, data_dir: str, database: str, region: str) -> Site:
    """AWS through boto3's usual chain (AWS_ENDPOINT_URL too, which the moto tests use)."""
    import boto3

    s3 = boto3.client("s3", region_name=region)
    glue = boto3.client("glue", region_name=region)
    landing_bucket, landing_prefix = split_s3_uri(landing_uri)
    data_bucket, data_prefix = split_s3_uri(data_dir)
    home_prefix = "/".join(part for part in (data_prefix, database, S3_HOME) if part)
    return Site(
        landing=S3Storage(landing_bucket, landing_prefix, s3),
        home=S3Storage(data_bucket, home_prefix, s3),
        tables=lambda: glue_tables(glue, s3, database, landing_uri),
    )
