"""The size of the statements a dbt build sends: Athena refuses a query string over 256 KB, so
no statement may grow with the files delivered or the subjects a day changes (64 KB is the
project's bound)."""

from __future__ import annotations

import re
from pathlib import Path

STATEMENT_LIMIT = 64 * 1024
LOG_ENTRY = re.compile(r"^\x1b\[0m\d\d:\d\d:\d\d\.\d{6} \[", re.MULTILINE)


def log_size(warehouse: Path) -> int:
    """Where the next build's entries start in dbt's debug log (it appends across builds)."""
    log = warehouse / "logs" / "dbt.log"
    return log.stat().st_size if log.exists() else 0


def statement_sizes(warehouse: Path, log_from: int = 0) -> list[int]:
    """The size in bytes of every statement dbt sent (its debug log, from byte `log_from`) and
    of every compiled model of the last build (target/run)."""
    with (warehouse / "logs" / "dbt.log").open("rb") as log_file:
        log_file.seek(log_from)
        log = log_file.read().decode(errors="replace")
    starts = [match.start() for match in LOG_ENTRY.finditer(log)] + [len(log)]
    entries = [log[start:end] for start, end in zip(starts, starts[1:])]
    sizes = [len(entry.encode()) for entry in entries if "]: On " in entry.split("\n", 1)[0]]
    sizes += [path.stat().st_size for path in (warehouse / "target" / "run").rglob("*.sql")]
    return sizes
