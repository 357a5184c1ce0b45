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


@dataclass(frozen=True)
class FilteredTable:
    content: bytes | None  # None: the file holds nobody's rows of interest, leave it as it is
    removed: Counter[str]  # rows removed per request
    rows_left: int


def is_parquet(data: bytes) -> bool:
    return len(data) >= 12 and data.startswith(PARQUET_MAGIC) and data.endswith(PARQUET_MAGIC)


def _masks(columns: pa.Table, matcher: Matcher) -> dict[str, pa.ChunkedArray]:
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


def _write(table: pa.Table, like: pq.ParquetFile) -> bytes:
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


def filter_rows(data: bytes, matcher: Matcher, everything: bool = False) -> FilteredTable:
    """The file without the rows of erased people, or without any row (everything=True: a table
    that the next build recomputes whole)."""
    parquet = pq.ParquetFile(pa.BufferReader(data))
    rows = parquet.metadata.num_rows
    identifying = identifying_columns(parquet.schema_arrow.names)
    masks = _masks(parquet.read(columns=identifying), matcher) if identifying and rows else {}
    removed = Counter({request: pc.sum(mask).as_py() for request, mask in masks.items()})
    if not masks and not (everything and rows):
        return FilteredTable(None, removed, rows)
    table = parquet.read()
    if everything:
        kept = table.slice(0, 0)
    else:
        theirs = functools.reduce(pc.or_, masks.values())
        kept = table.filter(pc.invert(theirs))
    return FilteredTable(_write(kept, parquet), removed, kept.num_rows)
