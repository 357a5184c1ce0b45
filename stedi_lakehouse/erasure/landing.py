"""Removing a person's lines from landing files: every other line stays byte for byte, a gzip
file stays gzip, and a file left without lines is deleted (an empty delivery is no delivery)."""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from stedi_lakehouse.erasure.matching import Matcher
from stedi_lakehouse.erasure.storage import LocalStorage, Storage
from stedi_lakehouse.landing import is_data_file, is_hidden, walk_zone

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FilteredFile:
    content: bytes | None  # None: no line is left, delete the file
    removed: Counter[str]  # lines removed per request
    records_left: int  # lines that are not blank: the records staging holds of the file


def zone_folder(zone: str) -> str:
    return f"{zone}/landing/"


def is_delivery(zone: str, key: str) -> bool:
    """A file the build reads (stedi_lakehouse.landing): *.json or *.json.gz at any depth under
    <zone>/landing/, no name on the way starting with _ or . (markers, a writer's _temporary/)."""
    folder = zone_folder(zone)
    return key.startswith(folder) and is_data_file(key) and not any(is_hidden(part) for part in key[len(folder):].split("/"))


def deliveries(storage: Storage, zone: str) -> list[str]:
    """The files of a zone the build reads, as storage keys (paths relative to the landing root,
    which is what staging's landing_file holds)."""
    if isinstance(storage, LocalStorage):
        return [file.relative for _, file in walk_zone(Path(storage.root), zone) if file.is_data]
    return [key for key in storage.files(zone_folder(zone)) if is_delivery(zone, key)]


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
    # Spark's JSON reader makes one record of each line that is not blank, malformed or not
    records_left = sum(1 for line in kept if line.strip())
    if not removed:
        return FilteredFile(data, removed, records_left)
    if not records_left:
        return FilteredFile(None, removed, 0)
    body = b"".join(kept)
    return FilteredFile(gzip.compress(body, mtime=0) if compressed else body, removed, records_left)
