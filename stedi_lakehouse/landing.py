"""What a landing zone holds, by the rules Spark, Athena and the offline Athena check share.

Every file under `<root>/<zone>/landing/`, at any depth, is a delivery. A file or folder whose name
starts with `_` or `.` is hidden (Hadoop's `_SUCCESS` markers, `.crc` files, `_temporary` folders)
and skipped, as Spark and Athena skip it. Of the rest, `*.json` and `*.json.gz` files are read as
newline-delimited JSON; any other name (a README.txt) is not read as data.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

DATA_SUFFIXES = (".json", ".json.gz")
HIDDEN_PREFIXES = ("_", ".")


class LandingRootError(ValueError):
    """STEDI_LANDING_PATH names no usable landing root; the message says why."""


def is_hidden(name: str) -> bool:
    return name.startswith(HIDDEN_PREFIXES)


def is_data_file(name: str) -> bool:
    return name.endswith(DATA_SUFFIXES)


def zone_folder(root: str | Path, zone: str) -> str:
    """`<root>/<zone>/landing`, for a local root or a URI root alike."""
    return f"{str(root).rstrip('/')}/{zone}/landing"


def resolve_landing_root(value: str, cwd: Path | None = None) -> str:
    """The landing root a build reads: an absolute local path, or a URI other than file://.

    A relative path is relative to `cwd` (the folder `make` runs in); `file:///data` is `/data`.
    The result has no trailing slash, so `<root>/<zone>/landing` is the same string everywhere.
    """
    value = value.strip()
    if not value:
        raise LandingRootError("STEDI_LANDING_PATH is empty: point it at a landing folder or an s3:// prefix")
    if value.startswith("file:"):
        parsed = urlparse(value)
        if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
            raise LandingRootError(f"STEDI_LANDING_PATH={value}: a file URI names a local absolute path, e.g. file:///data/stedi")
        return os.path.normpath(parsed.path)
    if "://" in value:
        return value.rstrip("/")
    return os.path.normpath(os.path.join(cwd or Path.cwd(), os.path.expanduser(value)))


@dataclass(frozen=True)
class LandingFile:
    """One file of a landing zone: its path relative to the landing root, and its size."""

    relative: str
    size: int

    @property
    def is_data(self) -> bool:
        return is_data_file(PurePosixPath(self.relative).name)


def walk_folder(folder: Path) -> Iterator[Path]:
    """Every file under `folder`, at any depth, that is not hidden, in path order."""
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = sorted(name for name in subdirectories if not is_hidden(name))
        for name in sorted(files):
            path = Path(directory) / name
            if not is_hidden(name) and path.is_file():
                yield path


def walk_zone(root: Path, zone: str) -> Iterator[tuple[Path, LandingFile]]:
    """Every file of a local landing zone that is not hidden, in path order."""
    for path in walk_folder(root / zone / "landing"):
        yield path, LandingFile(path.relative_to(root).as_posix(), path.stat().st_size)


def open_text(path: Path) -> Iterator[str]:
    """The text lines of a landing file, gunzipped when its name ends in .gz."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as lines:
        yield from lines


def holds_a_record(path: Path) -> bool:
    """True when the file has a line that is not blank: a record, well formed or not.
    Raises OSError or EOFError for a gzip file that cannot be read."""
    return any(line.strip() for line in open_text(path))
