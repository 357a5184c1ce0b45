"""The sites erase works on: a local landing folder with the local warehouses built from it
(embedded Spark, and the local Thrift server's), or an S3 landing prefix with the Athena tables
of a Glue database."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

from stedi_lakehouse.erasure.run import Site
from stedi_lakehouse.erasure.storage import LocalStorage, S3Storage
from stedi_lakehouse.erasure.tables import glue_tables, local_tables, split_s3_uri
from stedi_lakehouse.preflight import PreflightError
from stedi_lakehouse.thrift import ThriftServer
from stedi_lakehouse.warehouse_lock import hold_warehouse

Result = TypeVar("Result")

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


def open_site(landing: str, warehouse: Path, held: ExitStack) -> Site:
    """The site of a landing path, with the warehouse lock of each local warehouse held in `held`:
    erase refuses to run while a build (or a running local Thrift server) uses one. On S3 the local
    warehouse is held as well, against a build started from this machine."""
    if landing.startswith("s3://"):
        held.enter_context(hold_warehouse(warehouse, "make erase"))
        return athena_site(
            landing,
            os.environ.get("STEDI_ATHENA_S3_DATA_DIR", "s3://stedi-lakehouse-athena/tables/"),
            os.environ.get("STEDI_ATHENA_SCHEMA", os.environ.get("STEDI_SCHEMA", "stedi")),
            os.environ.get("STEDI_ATHENA_REGION", "us-east-1"),
        )
    thrift = warehouse / "thrift"
    warehouses = [warehouse, *([thrift] if (thrift / "tables").is_dir() else [])]
    for folder in warehouses:
        held.enter_context(hold_warehouse(folder, "make erase"))
    pid = ThriftServer(warehouse=thrift).running_pid()
    if pid is not None:
        raise PreflightError(f"a Thrift server (pid {pid}) serves {thrift}: stop it (`stedi thrift stop --warehouse {thrift}`), then erase")
    return local_site(Path(landing).resolve(), warehouses)


def with_aws_errors(work: Callable[[], Result], where: str) -> Result:
    """AWS failures as one line naming where (a local site raises none of them)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return work()
    except NoCredentialsError:
        raise PreflightError("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise PreflightError(f"{where}: AWS refused the erase ({code}: {error}); run it again once fixed") from None
    except BotoCoreError as error:
        raise PreflightError(f"{where}: {error}; run it again once fixed") from None
