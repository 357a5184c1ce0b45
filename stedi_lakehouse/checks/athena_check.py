"""Proves the Athena target offline, since no Athena can be reached from here.

1. `dbt compile --target athena --no-populate-cache` with dummy credentials, every AWS endpoint
   pointed at an empty local moto server (compiling an incremental model asks Glue whether its
   table exists: none does) and every proxy at a local tripwire socket: one connection attempt
   through a proxy fails the check;
2. every compiled model, data test and analysis, and the landing DDL that
   `athena__landing_table_ddl` renders, parse with sqlglot's `athena` dialect;
3. the landing DDL is played on DuckDB: each external table is filled from the local landing
   files as the OpenX JSON SerDe reads them (`openx_json`), with the SerDe properties of the
   DDL, and each landing view, transpiled by sqlglot, is created over it; then every model's
   compiled Athena SQL, transpiled, is run in build order and each table must hold the same
   rows (a multiset, all columns, same names and kinds) as the Spark build of the same data.
Any model failing any step fails the check.
"""

from __future__ import annotations

import csv
import datetime
import graphlib
import json
import logging
import math
import os
import socket
import urllib.request
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

from stedi_lakehouse.landing import walk_folder
from stedi_lakehouse.paths import PROJECT_DIR
from stedi_lakehouse.checks.athena_tables import HMAC_SHA256_MACROS
from stedi_lakehouse.checks.openx_json import MalformedJson, SerdeOptions, read_line, read_lines

if TYPE_CHECKING:
    from stedi_lakehouse.checks.athena_endpoint import OfflineAws

CATALOG = "awsdatacatalog"
LANDING_URI = "s3://stedi-offline-check/landing"
# where dbt-athena writes its tables and query results on the stand-in for AWS (athena_endpoint)
STAND_IN_DATA_DIR = "s3://stedi-offline-check/tables/"
STAND_IN_RESULTS_DIR = "s3://stedi-offline-check/query-results/"
LANDING_DDL_TEMPLATE = (
    "{%- for landing in graph.sources.values() if landing.external -%}"
    "{%- set relation = api.Relation.create(database=landing.database, schema=landing.schema,"
    " identifier=landing.identifier) -%}"
    "{%- for statement in landing_table_ddl(relation, landing) %}{{ statement }};\n{% endfor -%}"
    "{%- endfor -%}"
)
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "offline-check",
    "AWS_SECRET_ACCESS_KEY": "offline-check",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_MAX_ATTEMPTS": "1",
}
# Nodes whose compiled SQL depends on built tables, so prove nothing against the empty local
# catalog: has_no_direct_identifiers lists the built table's columns (Glue) to find identifiers.
INTROSPECTIVE_NODES = ["test_name:has_no_direct_identifiers"]
SEED_TYPES = {"string": "varchar", "varchar": "varchar", "timestamp": "timestamp", "bigint": "bigint", "int": "integer", "double": "double"}



class AthenaCheckError(Exception):
    """The check could not run (not a model failure); the message says why."""


@dataclass
class CheckReport:
    compiled: list[str] = field(default_factory=list)
    parsed: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    landing_rows: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        landing = ", ".join(f"{table} {rows:,}" for table, rows in self.landing_rows.items())
        lines = [
            f"compiled for athena offline: {len(self.compiled)} models ({', '.join(self.compiled)})",
            f"parsed by sqlglot (athena): {len(self.parsed)} statements (models, data tests, analyses, landing DDL)",
            f"landing rows as the OpenX SerDe reads them: {landing or 'none'}",
            f"same rows on DuckDB as on Spark: {', '.join(self.matched) or 'none'}",
        ]
        lines += [f"FAILED {failure}" for failure in self.failures]
        return "\n".join(lines)


@contextmanager
def network_tripwire() -> Iterator[tuple[str, list[str]]]:
    """A local socket that records every connection made to it: point AWS and proxies here."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    connections: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, address = server.accept()
            except (TimeoutError, OSError):
                continue
            connections.append(f"{address[0]}:{address[1]}")
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", connections
    finally:
        stop.set()
        thread.join()
        server.close()


_open_aws = 0  # empty_aws contexts open in this process


@contextmanager
def empty_aws() -> Iterator[str]:
    """A local moto server standing in for AWS, empty: no Glue database (every table is new), no bucket."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    global _open_aws
    if not _open_aws:
        # moto keeps buckets, Glue tables and secrets in this process across servers: a test's
        # leftovers would make the next one's "empty" AWS hold them (nested servers share state)
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")).close()
    _open_aws += 1
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _open_aws -= 1
        server.stop()


def offline_dbt(
    args: list[str], work_dir: Path, landing_uri: str, project_dir: Path,
    aws: OfflineAws | None = None, settings: Mapping[str, str] | None = None,
) -> str:
    """`dbt ARGS --target athena` with dummy credentials against `aws`, the stand-in for AWS (for
    a compile: an empty local moto server and no cache, when None), with `settings` added to the
    environment; fails if it tries to reach the network."""
    profiles = work_dir / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / "profiles.yml").write_text((project_dir / "profiles.example.yml").read_text())
    dbt = Path(sys.executable).parent / "dbt"
    command = [str(dbt), *args, "--target", "athena", "--project-dir", str(project_dir)]
    with ExitStack() as stack:
        tripwire, connections = stack.enter_context(network_tripwire())
        if aws is None:
            command.append("--no-populate-cache")
            endpoints = {"AWS_ENDPOINT_URL": stack.enter_context(empty_aws())}
        else:
            endpoints = {
                "AWS_ENDPOINT_URL": aws.aws_endpoint,
                "AWS_ENDPOINT_URL_ATHENA": aws.athena_endpoint,
                "STEDI_ATHENA_S3_DATA_DIR": STAND_IN_DATA_DIR,
                "STEDI_ATHENA_S3_STAGING_DIR": STAND_IN_RESULTS_DIR,
            }
        env = {
            # no AWS setting of this machine (a profile, an endpoint of one service) reaches dbt
            **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
            **DUMMY_AWS,
            **endpoints,
            **{proxy: tripwire for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")},
            # the local AWS is reached directly, anything else through the tripwire
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
            "STEDI_LANDING_PATH": landing_uri,
            "DBT_PROFILES_DIR": str(profiles),
            "DBT_TARGET_PATH": str(work_dir / "target"),
            "DBT_LOG_PATH": str(work_dir / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **(settings or {}),
        }
        result = subprocess.run(
            command, cwd=project_dir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
    if connections:
        raise AthenaCheckError(f"dbt {args[0]} --target athena tried to reach the network ({len(connections)} connections)")
    if result.returncode != 0:
        raise AthenaCheckError(f"dbt {args[0]} --target athena failed: {result.stdout[-2500:]}{result.stderr[-1000:]}")
    return result.stdout


def compile_for_athena(work_dir: Path, project_dir: Path = PROJECT_DIR, landing_uri: str = LANDING_URI) -> tuple[dict[str, Any], list[str]]:
    """The manifest of an offline athena compile, and the landing DDL statements it renders."""
    ddl = offline_dbt(["compile", "--quiet", "--inline", LANDING_DDL_TEMPLATE], work_dir, landing_uri, project_dir)
    # second, so that the manifest read below is the full compile's
    offline_dbt(["compile", "--exclude", *INTROSPECTIVE_NODES], work_dir, landing_uri, project_dir)
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    return manifest, [statement.strip() for statement in ddl.split(";\n") if statement.strip()]


def _landing_folder(location: str, landing_uri: str, landing_root: Path) -> Path:
    prefix = landing_uri.rstrip("/") + "/"
    if not location.startswith(prefix):
        raise AthenaCheckError(f"landing table location {location} is not under {prefix}")
    return landing_root / location[len(prefix):].strip("/")


def _table_name(table: exp.Table) -> str:
    return f'{CATALOG}."{table.db}"."{table.name}"'


def _create_external_table(db: duckdb.DuckDBPyConnection, ddl: exp.Create, landing_uri: str, landing_root: Path) -> int:
    """Fill the external table from the landing files as the SerDe of its DDL reads them."""
    schema = ddl.this
    columns = [column.name for column in schema.expressions]
    non_string = [column.sql("athena") for column in schema.expressions if not column.args["kind"].is_type(exp.DataType.Type.TEXT)]
    if non_string:
        raise AthenaCheckError(f"{schema.this.name}: the offline SerDe reads string columns only, not {', '.join(non_string)}")
    serde = ddl.find(exp.RowFormatSerdeProperty)
    serde_properties = serde.args.get("serde_properties") if serde else None
    properties = {prop.this.name: prop.args["value"].name for prop in serde_properties.expressions} if serde_properties else {}
    options = SerdeOptions.from_properties(properties)
    location = ddl.find(exp.LocationProperty).this.name
    folder = _landing_folder(location, landing_uri, landing_root)
    table = _table_name(schema.this)
    definition = ", ".join(f'"{column}" varchar' for column in columns)
    db.execute(f'create table {table} ({definition}, "$path" varchar, "$file_size" bigint, "$file_modified_time" timestamptz)')
    rows = []
    # Athena reads every object under the location, at any depth, but hidden ones (a name
    # starting with _ or .); the landing view then keeps *.json and *.json.gz objects
    for path in walk_folder(folder) if folder.is_dir() else []:
        s3_path = f"{location.rstrip('/')}/{path.relative_to(folder).as_posix()}"
        status = path.stat()
        modified = datetime.datetime.fromtimestamp(status.st_mtime_ns // 1_000_000 / 1000, tz=datetime.timezone.utc)
        try:
            rows += [(*read_line(line, columns, options), s3_path, status.st_size, modified) for line in read_lines(path)]
        except MalformedJson as error:
            raise AthenaCheckError(f"{s3_path}: a malformed line fails every query of {table}: {error}") from None
    if rows:
        db.executemany(f"insert into {table} values ({', '.join('?' * (len(columns) + 3))})", rows)
    return len(rows)


def _load_seeds(db: duckdb.DuckDBPyConnection, manifest: dict[str, Any], project_dir: Path) -> None:
    for seed in (node for node in manifest["nodes"].values() if node["resource_type"] == "seed"):
        with (project_dir / seed["original_file_path"]).open(newline="") as seed_file:
            header, *values = list(csv.reader(seed_file))
        types = seed["config"].get("column_types") or {}
        definition = ", ".join(f'"{column}" {SEED_TYPES.get(types.get(column, "string"), "varchar")}' for column in header)
        table = f'{CATALOG}."{seed["schema"]}"."{seed["alias"]}"'
        db.execute(f"create table {table} ({definition})")
        if values:
            rows = [[value if value != "" else None for value in row] for row in values]
            db.executemany(f"insert into {table} values ({', '.join('?' * len(header))})", rows)


def _models_in_build_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    models = {
        uid: node for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == manifest["metadata"].get("project_name", node["package_name"])
    }
    graph = {uid: [parent for parent in node["depends_on"]["nodes"] if parent in models] for uid, node in sorted(models.items())}
    return [models[uid] for uid in graph_order(graph)]


def graph_order(graph: dict[str, list[str]]) -> list[str]:
    return list(graphlib.TopologicalSorter(graph).static_order())


def _kind(type_name: str) -> str:
    name = type_name.upper()
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    if name in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}:
        return "integer"
    if name in {"FLOAT", "DOUBLE", "REAL"} or name.startswith("DECIMAL"):
        return "number"
    return "string" if name == "VARCHAR" else name.lower()


def _normalized(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return round(aware.timestamp() * 1000)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return 0.0 if value == 0 else float(f"{value:.12g}")
    return value


def _rows(db: duckdb.DuckDBPyConnection, query: str) -> tuple[list[tuple[str, str]], Counter[tuple[Any, ...]]]:
    columns = [(row[0], _kind(row[1])) for row in db.execute(f"describe {query}").fetchall()]
    rows = Counter(tuple(_normalized(value) for value in row) for row in db.execute(query).fetchall())
    return columns, rows


def _without(db: duckdb.DuckDBPyConnection, query: str, ignored: tuple[str, ...]) -> str:
    """The query without the `ignored` columns it has."""
    present = [column for column in ignored if column in {row[0] for row in db.execute(f"describe {query}").fetchall()}]
    return f"select * exclude ({', '.join(present)}) from ({query})" if present else query


def compare_queries(
    db: duckdb.DuckDBPyConnection, athena_query: str, spark_query: str, ignored: tuple[str, ...] = ("loaded_at",)
) -> str | None:
    """None when the two queries give the same columns and rows, `ignored` columns left out (by
    default loaded_at, the start of each engine's build), else what differs."""
    athena_columns, athena_rows = _rows(db, _without(db, athena_query, ignored))
    spark_columns, spark_rows = _rows(db, _without(db, spark_query, ignored))
    if athena_columns != spark_columns:
        return f"columns differ from Spark: {athena_columns} on Athena, {spark_columns} on Spark"
    if athena_rows == spark_rows:
        return None
    missing, extra = spark_rows - athena_rows, athena_rows - spark_rows
    example = next(iter(missing or extra))
    return f"rows differ from Spark: {sum(missing.values())} missing, {sum(extra.values())} extra (e.g. {example})"


def _parse(sql: str) -> exp.Expression:
    expression = sqlglot.parse_one(sql, read="athena")
    if expression is None:
        raise sqlglot.errors.ParseError("empty statement")
    return expression


def _check_parses(manifest: dict[str, Any], ddl: list[str], report: CheckReport) -> list[exp.Create]:
    """Parse every compiled node and DDL statement; return the parsed landing DDL."""
    for node in sorted(manifest["nodes"].values(), key=lambda node: node["unique_id"]):
        if node["resource_type"] in {"model", "test", "analysis"} and node.get("compiled_code"):
            try:
                _parse(node["compiled_code"])
                report.parsed.append(node["name"])
            except sqlglot.errors.SqlglotError as error:
                report.failures.append(f"{node['name']}: does not parse as Athena SQL: {str(error).splitlines()[0]}")
    landing_ddl = []
    for statement in ddl:
        try:
            parsed = _parse(statement)
            report.parsed.append(statement.split("(")[0].strip())
        except sqlglot.errors.SqlglotError as error:
            report.failures.append(f"landing DDL does not parse: {statement.splitlines()[0]}: {str(error).splitlines()[0]}")
            continue
        if isinstance(parsed, exp.Create):
            landing_ddl.append(parsed)
    return landing_ddl


def _play_landing_ddl(db: duckdb.DuckDBPyConnection, landing_ddl: list[exp.Create], landing_root: Path, report: CheckReport) -> None:
    for ddl in landing_ddl:
        if ddl.args.get("kind") == "TABLE":
            report.landing_rows[ddl.this.this.name] = _create_external_table(db, ddl, LANDING_URI, landing_root)
        else:
            try:
                db.execute(ddl.sql("duckdb"))
            except duckdb.Error as error:
                report.failures.append(f"landing view {ddl.this.name}: {str(error).splitlines()[0]}")


def _run_model(db: duckdb.DuckDBPyConnection, model: dict[str, Any], spark_tables_dir: Path, report: CheckReport) -> None:
    name = model["name"]
    relation = f'{CATALOG}."{model["schema"]}"."{model["alias"]}"'
    kind = "view" if model["config"]["materialized"] == "view" else "table"
    try:
        duckdb_sql = sqlglot.transpile(model["compiled_code"], read="athena", write="duckdb")[0]
        db.execute(f"create {kind} {relation} as {duckdb_sql}")
    except (sqlglot.errors.SqlglotError, duckdb.Error) as error:
        report.failures.append(f"{name}: {type(error).__name__}: {str(error).splitlines()[0]}")
        return
    if kind == "view" or model["config"].get("meta", {}).get("zone") in ("staging", "observability"):
        # staging copies landing lines as each engine reads them (s3:// against file: paths, the
        # differences docs/athena.md lists) and observability counts them, stamped with each build's
        # time and id; the trusted and curated zones must be the same
        return
    parquet = spark_tables_dir / model["alias"]
    if not parquet.is_dir():
        report.failures.append(f"{name}: no Spark build to compare with at {parquet}")
        return
    difference = compare_queries(db, f"select * from {relation}", f"select * from read_parquet('{parquet}/**/*.parquet', hive_partitioning = true)")
    if difference:
        report.failures.append(f"{name}: {difference}")
    else:
        report.matched.append(name)


def run_check(landing_root: Path, spark_tables_dir: Path, project_dir: Path = PROJECT_DIR) -> CheckReport:
    """Compile for Athena offline, parse, run on DuckDB over the landing files and compare with
    the Spark build's Parquet tables under spark_tables_dir (`<warehouse>/tables/<schema>.db`)."""
    report = CheckReport()
    with tempfile.TemporaryDirectory(prefix="stedi-athena-check-") as scratch:
        manifest, ddl = compile_for_athena(Path(scratch), project_dir)
    landing_ddl = _check_parses(manifest, ddl, report)
    db = duckdb.connect()
    db.execute("set TimeZone = 'UTC'")  # Athena's session zone, in which "$file_modified_time" is given
    for macro in HMAC_SHA256_MACROS:
        db.execute(macro)
    db.execute(f"attach ':memory:' as {CATALOG}")
    schemas = {node["schema"] for node in [*manifest["nodes"].values(), *manifest["sources"].values()] if node.get("schema")}
    for schema in sorted(schemas):
        db.execute(f'create schema {CATALOG}."{schema}"')
    _play_landing_ddl(db, landing_ddl, landing_root, report)
    _load_seeds(db, manifest, project_dir)
    for model in _models_in_build_order(manifest):
        if model["config"]["materialized"] != "ephemeral":  # ephemeral: compiled into the models that use it
            report.compiled.append(model["name"])
            _run_model(db, model, spark_tables_dir, report)
    return report
