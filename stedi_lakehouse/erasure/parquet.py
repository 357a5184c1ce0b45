"""Removing a person's rows from a Parquet file with pyarrow, keeping what Spark and Athena
expect of it: the same schema and metadata, compression, and INT96 timestamps where the file
had them (Spark writes its timestamps so)."""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stedi_lakehouse.erasure.matching import Matcher, identifying_columns

PARQUET_MAGIC = b"PAR1"
# Staging's columns of where a record came from: not the record's own values.
LANDING_FILE = "landing_file"
IS_MALFORMED = "is_malformed"
BOOKKEEPING_COLUMNS = (LANDING_FILE, IS_MALFORMED, "loaded_at")


@dataclass(frozen=True)
class FilteredTable:
    content: bytes | None  # None: the file holds nobody's rows of interest, leave it as it is
    removed: Counter[str]  # rows removed per request
    rows_left: int


def is_parquet(data: bytes) -> bool:
    return len(data) >= 12 and data.startswith(PARQUET_MAGIC) and data.endswith(PARQUET_MAGIC)


def row_masks(columns: pa.Table, matcher: Matcher) -> dict[str, pa.ChunkedArray]:
    """Per request, which rows are its person's (in any identifying column)."""
    masks: dict[str, pa.ChunkedArray] = {}
    for name in columns.column_names:
        column = columns.column(name)
        values_of: dict[str, list[str]] = defaultdict(list)
        for value in pc.unique(column).to_pylist():
            if isinstance(value, str):
                for request in matcher.of_column(name, value):
                    values_of[request].append(value)
        for request, values in values_of.items():
            hit = pc.fill_null(pc.is_in(column, value_set=pa.array(values, type=pa.string())), False)
            masks[request] = pc.or_(masks[request], hit) if request in masks else hit
    return masks


def write_like(table: pa.Table, like: pq.ParquetFile) -> bytes:
    """The table as a Parquet file written the way `like` was."""
    metadata = like.metadata
    codec = metadata.row_group(0).column(0).compression if metadata.num_row_groups else "SNAPPY"
    int96 = any(like.schema.column(i).physical_type == "INT96" for i in range(len(like.schema)))
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(
        sink,
        table.schema.remove_metadata(),
        compression=codec.lower() if codec != "UNCOMPRESSED" else "none",
        use_deprecated_int96_timestamps=int96,
        version=metadata.format_version if metadata.format_version in {"1.0", "2.4", "2.6"} else "2.6",
        store_schema=False,  # no ARROW:schema: the file's own key-value metadata only, as Spark wrote it
    ) as writer:
        writer.write_table(table.replace_schema_metadata(None))
        if metadata.metadata:
            writer.add_key_value_metadata({key.decode(): value.decode() for key, value in metadata.metadata.items()})
    return sink.getvalue().to_pybytes()


def _records_of_removed_lines(parquet: pq.ParquetFile, surplus: dict[str, list[str]]) -> dict[str, pa.Array]:
    """Per request, staging rows that hold nothing but their landing file and a malformed flag:
    what Spark made of malformed lines (a cut-off line) that erase removed from that file and
    that no column ties to anyone. surplus[file] lists the requests to take them for, one a row;
    taken rows leave the list, so a table's part files share it."""
    names = parquet.schema_arrow.names
    rows = parquet.metadata.num_rows
    if not rows or not {LANDING_FILE, IS_MALFORMED} <= set(names):
        return {}
    files = parquet.read(columns=[LANDING_FILE]).column(0)
    if not pc.any(pc.is_in(files, value_set=pa.array(sorted(surplus), type=pa.string()))).as_py():
        return {}
    table = parquet.read()
    nothing_but_the_file = functools.reduce(
        pc.and_,
        [pc.is_null(table.column(name)) for name in names if name not in BOOKKEEPING_COLUMNS],
        pc.fill_null(table.column(IS_MALFORMED), False),
    )
    masks: dict[str, list[bool]] = {}
    for index, (file, empty) in enumerate(zip(files.to_pylist(), nothing_but_the_file.to_pylist())):
        if empty and surplus.get(file):
            masks.setdefault(surplus[file].pop(), [False] * rows)[index] = True
    return {request: pa.array(mask) for request, mask in masks.items()}


def filter_rows(data: bytes, matcher: Matcher, surplus: dict[str, list[str]] | None = None) -> FilteredTable:
    """The file without the rows of erased people. `surplus`: see _records_of_removed_lines."""
    parquet = pq.ParquetFile(pa.BufferReader(data))
    rows = parquet.metadata.num_rows
    identifying = identifying_columns(parquet.schema_arrow.names)
    masks = row_masks(parquet.read(columns=identifying), matcher) if identifying and rows else {}
    for request, mask in (_records_of_removed_lines(parquet, surplus) if surplus else {}).items():
        masks[request] = pc.or_(masks[request], mask) if request in masks else mask
    removed = Counter({request: pc.sum(mask).as_py() for request, mask in masks.items()})
    if not masks:
        return FilteredTable(None, removed, rows)
    theirs = functools.reduce(pc.or_, masks.values())
    kept = parquet.read().filter(pc.invert(theirs))
    return FilteredTable(write_like(kept, parquet), removed, kept.num_rows)
