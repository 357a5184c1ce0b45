"""Removing a person's lines from landing files: every other line stays byte for byte, a gzip
file stays gzip, and a file left without lines is deleted (an empty delivery is no delivery)."""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import dataclass

from stedi_lakehouse.erasure.matching import Matcher
from stedi_lakehouse.paths import LANDING_ZONES

GZIP_MAGIC = b"\x1f\x8b"
LANDING_SUFFIXES = (".json", ".json.gz")


@dataclass(frozen=True)
class FilteredFile:
    content: bytes | None  # None: no line is left, delete the file
    removed: Counter[str]  # lines removed per request


def landing_folders() -> list[str]:
    return [f"{zone}/landing" for zone in LANDING_ZONES]


def is_landing_file(key: str) -> bool:
    """A delivery at any depth under <zone>/landing/, .json or .json.gz, hidden or not (a hidden
    file is not read by the build, but may hold the person's lines all the same)."""
    return key.lower().endswith(LANDING_SUFFIXES)


def text_of(data: bytes) -> bytes:
    """A landing file's lines, uncompressed."""
    return gzip.decompress(data) if data.startswith(GZIP_MAGIC) else data


def filter_lines(data: bytes, matcher: Matcher) -> FilteredFile:
    """The file without the lines of erased people; `removed` is empty when none was there."""
    compressed = data.startswith(GZIP_MAGIC)
    text = text_of(data)
    kept: list[bytes] = []
    removed: Counter[str] = Counter()
    for line in text.splitlines(keepends=True):  # \n, \r\n and \r, as Spark splits lines
        owners = matcher.of_line(line.decode("utf-8", errors="replace"))
        if owners:
            removed.update(owners)
        else:
            kept.append(line)
    if not removed:
        return FilteredFile(data, removed)
    if not any(line.strip() for line in kept):
        return FilteredFile(None, removed)
    body = b"".join(kept)
    return FilteredFile(gzip.compress(body, mtime=0) if compressed else body, removed)
