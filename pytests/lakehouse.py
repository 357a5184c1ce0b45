"""Runs the dbt project the way a user does and reads back what it built."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import duckdb

from stedi_lakehouse.dbt_env import isolated_dbt_env
from stedi_lakehouse.paths import PROJECT_DIR

STARTER_DATA = PROJECT_DIR.parent / "shared" / "data" / "stedi-starter"
BIN = PROJECT_DIR / ".venv" / "bin"
SCHEMA = "stedi"
SUBJECT_SALT = "pytest-salt"
ERASURE_KEY = "pytest-erasure-key-0123456789abcdef"
ZONE_TABLES = (
    "customer_trusted",
    "accelerometer_trusted",
    "customer_curated",
    "step_trainer_trusted",
    "machine_learning_curated",
)


def dbt_env(landing: Path | str, warehouse: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a dbt run whose every output stays under `warehouse`."""
    return {
        **isolated_dbt_env(landing, warehouse),
        "STEDI_SUBJECT_SALT": SUBJECT_SALT,
        "STEDI_ERASURE_KEY": ERASURE_KEY,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **(extra or {}),
    }


def run_dbt(
    args: Sequence[str],
    *,
    landing: Path | str,
    warehouse: Path,
    project_dir: Path = PROJECT_DIR,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run `dbt ARGS` on the project; on an unexpected failure show dbt's output."""
    result = subprocess.run(
        [str(BIN / "dbt"), *args, "--project-dir", str(project_dir)],
        cwd=project_dir,
        env=dbt_env(landing, warehouse, env),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def dbt_vars(**values: object) -> list[str]:
    """`--vars` arguments for dbt from keyword values."""
    import json

    return ["--vars", json.dumps(values)] if values else []


def table_path(warehouse: Path, table: str, schema: str = SCHEMA) -> Path:
    return warehouse / "tables" / f"{schema}.db" / table


def _parquet_scan(warehouse: Path, table: str, schema: str) -> str:
    """A DuckDB scan of a table's Parquet files, partition folders (reading_date=...) included."""
    files = table_path(warehouse, table, schema) / "**" / "*.parquet"
    return f"read_parquet('{files}', hive_partitioning = true)"


def read_table(warehouse: Path, table: str, columns: Iterable[str], schema: str = SCHEMA) -> Counter[tuple]:
    """The rows of a built Parquet table, as a multiset of tuples of `columns`."""
    select = ", ".join(f'"{column}"' for column in columns)
    rows = duckdb.sql(f"select {select} from {_parquet_scan(warehouse, table, schema)}").fetchall()
    return Counter(rows)


def table_columns(warehouse: Path, table: str, schema: str = SCHEMA) -> list[str]:
    return [row[0] for row in duckdb.sql(f"describe select * from {_parquet_scan(warehouse, table, schema)}").fetchall()]


def assert_same_tables(built: Path, reference: Path) -> None:
    """Every trusted and curated table of `built` has the columns and rows of `reference`'s.

    loaded_at is left out of the rows: it is each build's start.
    """
    for table in ZONE_TABLES:
        columns = table_columns(reference, table)
        assert table_columns(built, table) == columns, table
        compared = [column for column in columns if column != "loaded_at"]
        rows = read_table(built, table, compared)
        assert rows, f"{built} has {table} empty"
        assert rows == read_table(reference, table, compared), table


def write_erasure_requests(project: Path, emails: Iterable[str]) -> None:
    """The project's erasure request file with a request per email, as `stedi erasure-request`
    records it with the tests' key."""
    from stedi_lakehouse.erasure.requests import record_requests

    seed = project / "seeds" / "erasure_requests.csv"
    seed.write_text("email_hmac,requested_at\n")
    record_requests(emails, ERASURE_KEY.encode(), "2024-05-01 00:00:00", seed)


def copy_project(destination: Path) -> Path:
    """A copy of the dbt project (sources only), to change seeds without touching the checkout."""
    ignore = shutil.ignore_patterns(".venv", ".git", "target", "logs", "warehouse", "demo_landing", ".dbt", "__pycache__", ".pytest_cache")
    shutil.copytree(PROJECT_DIR, destination, ignore=ignore)
    return destination


def _newest_recorded(warehouse: Path, columns: str, measure_filter: str, schema: str = SCHEMA) -> list[tuple]:
    scan = _parquet_scan(warehouse, "build_record_counts", schema)
    return duckdb.sql(
        f"select {columns} from {scan} where {measure_filter} and built_at = (select max(built_at) from {scan})"
    ).fetchall()


def recorded_counts(warehouse: Path, schema: str = SCHEMA) -> dict[tuple[str, str, str | None], int]:
    """The newest build's rows of build_record_counts but the per-file ones:
    (measure, counted_table, reason) -> record_count."""
    rows = _newest_recorded(warehouse, "measure, counted_table, reason, record_count", "measure <> 'malformed_lines'", schema)
    return {(measure, table, reason): count for measure, table, reason, count in rows}


def recorded_malformed_lines(warehouse: Path, schema: str = SCHEMA) -> dict[str, int]:
    """The newest build's malformed lines per landing file (relative path)."""
    rows = _newest_recorded(warehouse, "landing_file, record_count", "measure = 'malformed_lines'", schema)
    return dict(rows)


def recorded_landing_outcomes(warehouse: Path, *, with_zeros: bool = False) -> dict[str, Counter[str]]:
    """Per landing table, the newest build's lines by outcome: "kept" or the reason that stopped them."""
    outcomes: dict[str, Counter[str]] = {}
    for (measure, table, reason), count in recorded_counts(warehouse).items():
        if measure != "table_rows" and (count or with_zeros):
            outcomes.setdefault(table, Counter())[reason or "kept"] = count
    return outcomes


def row_count(warehouse: Path, table: str, schema: str = SCHEMA) -> int:
    return duckdb.sql(f"select count(*) from {_parquet_scan(warehouse, table, schema)}").fetchall()[0][0]
