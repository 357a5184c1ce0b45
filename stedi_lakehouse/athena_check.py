"""Proves the Athena target offline, since no Athena can be reached from here.

1. `dbt compile --target athena` with dummy credentials and no network;
2. every compiled model and the landing-table DDL parse with sqlglot's `athena` dialect;
3. every model's compiled Athena SQL, transpiled by sqlglot to DuckDB and run there over the
   same landing files (read as the OpenX JSON SerDe reads them), gives the same rows as the
   Spark build of the same data.
Any model failing any step fails the check.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

PROJECT_DIR = Path(__file__).resolve().parents[1]
CATALOG = "awsdatacatalog"
LANDING_DDL_TEMPLATE = (
    "{%- for landing in graph.sources.values() if landing.external -%}"
    "{%- set relation = api.Relation.create(database=landing.database, schema=landing.schema,"
    " identifier=landing.identifier) -%}"
    "{%- for statement in landing_table_ddl(relation, landing) %}{{ statement }};\n{% endfor -%}"
    "{%- endfor -%}"
)
OFFLINE_AWS = {
    "AWS_ACCESS_KEY_ID": "offline-check",
    "AWS_SECRET_ACCESS_KEY": "offline-check",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class AthenaCheckError(Exception):
    """The check could not run (not a model failure); the message says why."""


@dataclass
class CheckReport:
    compiled: list[str] = field(default_factory=list)
    parsed: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"compiled for athena: {len(self.compiled)} models",
            f"parsed by sqlglot (athena): {len(self.parsed)} statements",
            f"same rows on DuckDB as on Spark: {', '.join(self.matched) or 'none'}",
        ]
        lines += [f"FAILED {failure}" for failure in self.failures]
        return "\n".join(lines)


def _dbt(args: list[str], work_dir: Path, landing_uri: str, project_dir: Path) -> str:
    profiles = work_dir / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / "profiles.yml").write_text((project_dir / "profiles.example.yml").read_text())
    env = {
        **os.environ,
        **OFFLINE_AWS,
        "STEDI_LANDING_PATH": landing_uri,
        "DBT_PROFILES_DIR": str(profiles),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).parent / "dbt"
    command = [str(dbt), *args, "--target", "athena", "--no-populate-cache", "--project-dir", str(project_dir)]
    result = subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AthenaCheckError(f"dbt {' '.join(args[:1])} --target athena failed: {result.stdout[-2000:]}")
    return result.stdout


def compile_for_athena(
    work_dir: Path, project_dir: Path = PROJECT_DIR, landing_uri: str = "s3://stedi-landing/lake"
) -> tuple[dict[str, Any], str]:
    """The manifest of an offline athena compile, and the landing DDL it renders."""
    ddl = _dbt(["compile", "--quiet", "--inline", LANDING_DDL_TEMPLATE], work_dir, landing_uri, project_dir)
    # second, so that the manifest read below holds the compiled models
    select_models = ["compile", "--select", "resource_type:model", "--indirect-selection", "empty"]
    _dbt(select_models, work_dir, landing_uri, project_dir)
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    return manifest, ddl


def _models_in_build_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    models = {
        uid: node for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "stedi_lakehouse"
    }
    ordered: list[dict[str, Any]] = []
    visiting: set[str] = set()

    def visit(uid: str) -> None:
        if uid in visiting or any(node["unique_id"] == uid for node in ordered):
            return
        visiting.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            if parent in models:
                visit(parent)
        ordered.append(models[uid])

    for uid in sorted(models):
        visit(uid)
    return ordered


def _landing_rows(landing_root: Path, zone: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows as the OpenX JSON SerDe with ignore.malformed.json and case.insensitive reads them:
    a malformed line is a row of nulls; keys match case-insensitively; extra keys are ignored."""
    rows = []
    for path in sorted((landing_root / zone / "landing").glob("*.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = {}
            lowered = {str(key).lower(): value for key, value in record.items()} if isinstance(record, dict) else {}
            rows.append((*(lowered.get(column) for column in columns), f"file:{path}"))
    return rows


def _load_landing(db: duckdb.DuckDBPyConnection, manifest: dict[str, Any], landing_root: Path) -> None:
    types = {"string": "varchar", "bigint": "bigint", "double": "double", "int": "integer"}
    for landing in manifest["sources"].values():
        corrupt = (landing["external"].get("options") or {}).get("columnNameOfCorruptRecord")
        columns = {name.lower(): types[column["data_type"]] for name, column in landing["columns"].items() if name != corrupt}
        definition = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        table = f'{CATALOG}.{landing["schema"]}."{landing["identifier"]}"'
        db.execute(f'create table {table} ({definition}, "$path" varchar)')
        zone = landing["identifier"].removesuffix("_landing")
        rows = _landing_rows(landing_root, zone, list(columns))
        if rows:
            db.executemany(f"insert into {table} values ({', '.join('?' * (len(columns) + 1))})", rows)


def _load_seeds(db: duckdb.DuckDBPyConnection, manifest: dict[str, Any], seeds_dir: Path) -> None:
    for seed in manifest["nodes"].values():
        if seed["resource_type"] != "seed":
            continue
        with (seeds_dir / f"{seed['name']}.csv").open(newline="") as seed_file:
            rows = list(csv.reader(seed_file))
        header, values = rows[0], rows[1:]
        table = f'{CATALOG}.{seed["schema"]}."{seed["alias"]}"'
        db.execute(f"create table {table} ({', '.join(f'{column} varchar' for column in header)})")
        if values:
            db.executemany(f"insert into {table} values ({', '.join('?' * len(header))})", values)


def _normalized(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return round(aware.timestamp() * 1000)
    return value


def _rows(db: duckdb.DuckDBPyConnection, query: str) -> tuple[list[str], Counter[tuple[Any, ...]]]:
    cursor = db.execute(query)
    columns = [description[0] for description in cursor.description]
    return columns, Counter(tuple(_normalized(value) for value in row) for row in cursor.fetchall())


def run_check(landing_root: Path, spark_tables_dir: Path, project_dir: Path = PROJECT_DIR) -> CheckReport:
    """Compile for Athena, parse, run on DuckDB and compare with the Spark build's Parquet tables
    under spark_tables_dir (`<warehouse>/tables/<schema>.db`)."""
    report = CheckReport()
    with tempfile.TemporaryDirectory(prefix="stedi-athena-check-") as scratch:
        manifest, ddl = compile_for_athena(Path(scratch), project_dir)
    for statement in (part.strip() for part in ddl.split(";")):
        if statement:
            try:
                sqlglot.parse_one(statement, read="athena")
                report.parsed.append(statement.split("(")[0].strip())
            except sqlglot.errors.ParseError as error:
                report.failures.append(f"landing DDL does not parse: {statement.splitlines()[0]}: {error}")

    db = duckdb.connect()
    db.execute(f"attach ':memory:' as {CATALOG}")
    schemas = {node["schema"] for node in [*manifest["nodes"].values(), *manifest["sources"].values()] if node.get("schema")}
    for schema in schemas:
        db.execute(f"create schema {CATALOG}.{schema}")
    _load_landing(db, manifest, landing_root)
    _load_seeds(db, manifest, project_dir / "seeds")

    for model in _models_in_build_order(manifest):
        name, sql = model["name"], model.get("compiled_code")
        if model["config"]["materialized"] == "ephemeral":
            continue  # compiled into the models that use it
        report.compiled.append(name)
        try:
            sqlglot.parse_one(sql, read="athena")
            report.parsed.append(name)
            duckdb_sql = sqlglot.transpile(sql, read="athena", write="duckdb")[0]
            kind = "view" if model["config"]["materialized"] == "view" else "table"
            db.execute(f'create {kind} {CATALOG}.{model["schema"]}."{model["alias"]}" as {duckdb_sql}')
        except (sqlglot.errors.SqlglotError, duckdb.Error) as error:
            report.failures.append(f"{name}: {type(error).__name__}: {str(error).splitlines()[0]}")
            continue
        if kind == "view":
            continue
        parquet = spark_tables_dir / model["alias"]
        if not parquet.is_dir():
            report.failures.append(f"{name}: no Spark build to compare with at {parquet}")
            continue
        columns, athena_rows = _rows(db, f'select * from {CATALOG}.{model["schema"]}."{model["alias"]}"')
        select = ", ".join(f'"{column}"' for column in columns)
        _, spark_rows = _rows(db, f"select {select} from read_parquet('{parquet}/*.parquet')")
        if athena_rows == spark_rows:
            report.matched.append(name)
        else:
            missing, extra = spark_rows - athena_rows, athena_rows - spark_rows
            report.failures.append(
                f"{name}: rows differ from Spark: {sum(missing.values())} missing, {sum(extra.values())} extra "
                f"(e.g. {next(iter(missing or extra))})"
            )
    return report
