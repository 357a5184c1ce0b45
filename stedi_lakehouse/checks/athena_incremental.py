"""Proves Athena's incremental builds offline: a delivered day built by dbt-athena on a stand-in
for AWS gives the tables the embedded Spark gives for the same day.

For each day (`Day`: the Spark tables before it, the landing files after it, the Spark tables
after it), `prove_day`:
1. starts the stand-in (athena_endpoint): moto's Glue and S3, and an Athena API whose queries
   are parsed with sqlglot's `athena` dialect and run on DuckDB (athena_engine);
2. puts the landing files in its S3 and gives Glue and S3 the tables of the Spark build before
   the day, as dbt-athena would have left them (athena_state): so every incremental model
   exists and compiles its is_incremental() branch;
3. runs the Makefile's main job, `dbt build --target athena`, against it with dummy
   credentials, every proxy at a tripwire: dbt-athena as it runs on AWS (the queries the plan
   runs while a model compiles, the staging watermark, the pre-hook's clean_up_partitions of
   the planned partitions through Glue and S3, insert_overwrite through a `__dbt_tmp` table,
   the bookkeeping inserts, the scoped data tests);
4. compares every staging, trusted and curated table with the Spark build after the day (a
   multiset of rows, all columns but IGNORED_COLUMNS, landing paths relative to the landing root).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stedi_lakehouse.checks.athena_check import (
    LANDING_URI, STAND_IN_DATA_DIR, STAND_IN_RESULTS_DIR, AthenaCheckError, compare_queries, offline_dbt,
)
from stedi_lakehouse.checks.athena_endpoint import OfflineAws, offline_aws
from stedi_lakehouse.checks.athena_scenario import MAIN_JOB
from stedi_lakehouse.checks.athena_state import landing_paths, local_landing_prefixes, publish_spark_tables
from stedi_lakehouse.checks.athena_tables import split_s3
from stedi_lakehouse.landing import walk_folder

COMPARED_ZONES = ("staging", "trusted", "curated")  # observability counts each engine's own builds
# each engine's own: the start of its build, and the storage's modification time of a landing
# file (a local file's, an S3 object's upload time, to the second)
IGNORED_COLUMNS = ("loaded_at", "file_modified_at")


@dataclass(frozen=True)
class Day:
    """A delivered day built on Spark: `before` and `after` are the Spark build's table folders
    (`<warehouse>/tables/<schema>.db`) around the build of `landing`, made from `spark_landing`
    (the folder whose paths Spark's tables hold) with `project`."""

    name: str
    project: Path
    landing: Path
    spark_landing: Path
    before: Path
    after: Path


@dataclass
class DayResult:
    name: str
    tables: list[str] = field(default_factory=list)  # equal to Spark's
    incremental: list[str] = field(default_factory=list)  # models that ran their is_incremental() branch
    statements: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.failures:
            return "\n".join(f"FAILED {self.name}: {failure}" for failure in self.failures)
        return (
            f"proven: {self.name}: is_incremental() run by {len(self.incremental)} models; {len(self.tables)} tables equal"
            f" Spark's ({', '.join(self.tables)}); {self.statements} statements run on DuckDB in {self.seconds:.0f} s"
        )


def _put_landing(aws: OfflineAws, landing: Path) -> None:
    """The landing files in the stand-in's S3 under LANDING_URI, and the buckets dbt writes to."""
    s3 = aws.engine.tables.s3
    for uri in (LANDING_URI, STAND_IN_DATA_DIR, STAND_IN_RESULTS_DIR):
        bucket, _ = split_s3(uri)
        if bucket not in {item["Name"] for item in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
    bucket, prefix = split_s3(LANDING_URI)
    for path in walk_folder(landing):
        s3.put_object(Bucket=bucket, Key=f"{prefix}{path.relative_to(landing).as_posix()}", Body=path.read_bytes())


def _compared_models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    project = manifest["metadata"].get("project_name")
    return sorted(
        (
            node for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["package_name"] == project
            and node["config"]["materialized"] in ("table", "incremental")
            and node["config"].get("meta", {}).get("zone") in COMPARED_ZONES
        ),
        key=lambda node: node["name"],
    )


def _compare_tables(aws: OfflineAws, manifest: dict[str, Any], day: Day, published: list[str], result: DayResult) -> None:
    db = aws.engine.db
    # landing files are named relative to the landing root on both sides
    prefixes = [*local_landing_prefixes(day.spark_landing), f"{LANDING_URI}/"]
    for model in _compared_models(manifest):
        if model["config"]["materialized"] == "incremental" and model["alias"].lower() in published:
            result.incremental.append(model["name"])
        spark = day.after / model["alias"]
        if not spark.is_dir():
            result.failures.append(f"{model['name']}: no Spark build to compare with at {spark}")
            continue
        athena = aws.engine.load(model["schema"].lower(), model["alias"].lower())
        spark_scan = f"read_parquet('{spark}/**/*.parquet', hive_partitioning = true)"
        difference = compare_queries(
            db, landing_paths(db, athena, prefixes, "landing/"), landing_paths(db, spark_scan, prefixes, "landing/"), IGNORED_COLUMNS
        )
        if difference:
            result.failures.append(f"{model['name']}: {difference}")
        else:
            result.tables.append(model["name"])


def prove_day(day: Day, work_dir: Path, settings: Mapping[str, str] | None = None, schema: str = "stedi") -> DayResult:
    """Build `day` with dbt-athena on the stand-in, from the Spark state before it, and compare
    every table with the Spark build after it. `settings`: environment of the build, at least
    the STEDI_SUBJECT_SALT and STEDI_ERASURE_KEY the Spark builds used."""
    result = DayResult(day.name)
    started = time.monotonic()
    scratch = work_dir / "scratch"
    for folder in (scratch, work_dir / "target"):
        shutil.rmtree(folder, ignore_errors=True)
    scratch.mkdir(parents=True)
    with offline_aws(scratch) as aws:
        _put_landing(aws, day.landing)
        published = publish_spark_tables(aws.engine.tables, day.before, schema, STAND_IN_DATA_DIR, day.spark_landing, LANDING_URI)
        try:
            offline_dbt(MAIN_JOB, work_dir, LANDING_URI, day.project, aws, settings)
        except AthenaCheckError as error:
            errors = "".join(f"\n  offline Athena: {error}" for error in aws.engine.errors[-5:])
            result.failures.append(f"{error}{errors}")
        result.statements = len(aws.engine.statements)
        result.seconds = time.monotonic() - started
        manifest = work_dir / "target" / "manifest.json"
        if manifest.is_file():  # the tables a failed build wrote say what went wrong too
            _compare_tables(aws, json.loads(manifest.read_text()), day, published, result)
    return result


def prove_days(days: list[Day], work_dir: Path) -> list[DayResult]:
    """Each day proven in turn, with this process's settings (those the Spark builds had)."""
    schema = os.environ.get("STEDI_ATHENA_SCHEMA", os.environ.get("STEDI_SCHEMA", "stedi"))
    return [prove_day(day, work_dir / f"day-{number}", schema=schema) for number, day in enumerate(days)]
