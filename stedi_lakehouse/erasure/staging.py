"""Staging after erase: its tables and its manifest of staged deliveries (stg_landing__files)
as a build on landing files that never held the erased people would have left them.

Staging holds one record per line of a landing file that is not blank (malformed lines too),
keyed by landing_file, the file's path relative to the landing root; a rewritten landing file
keeps that path. So that the next incremental build neither stages a file again nor finds one
missing (the landing_files_are_staged test), a rewritten file keeps its manifest row, with the
size, modification time and staged records it has now, and a deleted file loses its row (a new
delivery of the same name would otherwise never be staged). The rewritten file is newer than the
staging watermark (macro is_unstaged_landing_file), which only looks at files the manifest does
not hold: it is read again only when a late delivery pulls the watermark back, and then left out
by the join with the staged files, as every staged file newer than the watermark is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stedi_lakehouse.erasure.journal import FileChange
from stedi_lakehouse.erasure.matching import Matcher, identifying_columns
from stedi_lakehouse.erasure.parquet import LANDING_FILE, is_parquet, row_masks, write_like
from stedi_lakehouse.erasure.storage import Storage
from stedi_lakehouse.erasure.tables import Table

MANIFEST = "stg_landing__files"


def is_staging_table(table: Table) -> bool:
    return table.zone == "staging" and table.name.rpartition(".")[2] != MANIFEST


def is_manifest(table: Table) -> bool:
    return table.name.rpartition(".")[2] == MANIFEST


def landing_changes(changes: dict[str, FileChange]) -> dict[str, FileChange]:
    """The landing files erase rewrote or deleted, by landing_file."""
    return {change.landing_file: change for change in changes.values() if change.landing_file is not None}


def _parquet_files(table: Table) -> Iterator[tuple[str, pq.ParquetFile]]:
    for key in table.data_files():
        data = table.storage.read(key)
        if is_parquet(data):
            yield key, pq.ParquetFile(pa.BufferReader(data))


def _staged_counts(table: Table, files: set[str], matcher: Matcher | None) -> Counter[str]:
    """Records of each of `files` in a staging table, those of erased people left out (matcher)."""
    counts: Counter[str] = Counter()
    wanted = pa.array(sorted(files), type=pa.string())
    for _, parquet in _parquet_files(table):
        if LANDING_FILE not in parquet.schema_arrow.names:
            break
        identifying = identifying_columns(parquet.schema_arrow.names) if matcher else []
        columns = parquet.read(columns=[LANDING_FILE, *identifying])
        keep = pc.is_in(columns.column(LANDING_FILE), value_set=wanted)
        masks = row_masks(columns.select(identifying), matcher) if matcher and identifying else {}
        for mask in masks.values():
            keep = pc.and_(keep, pc.invert(mask))
        counts.update(columns.column(LANDING_FILE).filter(keep).to_pylist())
    return counts


def surplus(table: Table, changes: dict[str, FileChange], matcher: Matcher) -> dict[str, list[str]]:
    """Per rewritten landing file, the requests to take a record of a removed malformed line
    for (parquet._records_of_removed_lines): the records the table holds of the file, theirs left
    out, beyond the records left in the file. Computed from the table as it is, so that a rerun
    after a kill takes the ones left."""
    landing = landing_changes(changes)
    if not is_staging_table(table) or not landing:
        return {}
    counts = _staged_counts(table, set(landing), matcher)
    extra = {}
    for file, change in landing.items():
        beyond = counts[file] - (change.records_left or 0)
        if beyond > 0:
            requests = [request for request, lines in sorted(change.removed.items()) for _ in range(lines)]
            extra[file] = requests[:beyond]
    return extra


def updated_manifest(manifest: Table, staging: list[Table], landing: Storage, changes: dict[str, FileChange]) -> Iterator[tuple[str, bytes]]:
    """The manifest's part files that change, with their new content: rows of deleted landing
    files dropped, rows of rewritten ones given the file's size and modification time and the
    records staging holds of it now. Nothing when they already say so (a rerun)."""
    rewritten = landing_changes(changes)
    if not rewritten:
        return
    staged = Counter[str]()
    for table in staging:
        staged.update(_staged_counts(table, set(rewritten), None))
    for key, parquet in _parquet_files(manifest):
        rows = parquet.read()
        files = rows.column(LANDING_FILE).to_pylist()
        if not set(files) & set(rewritten):
            continue
        kept = [index for index, file in enumerate(files) if file not in rewritten or rewritten[file].action != "deleted"]
        updated = rows.take(kept)
        new_values = {name: updated.column(name).to_pylist() for name in ("file_size", "file_modified_at", "staged_records")}
        for row, file in enumerate(updated.column(LANDING_FILE).to_pylist()):
            if file in rewritten:
                now = landing.stat(file)
                new_values["file_size"][row], new_values["file_modified_at"][row] = now.size, now.modified_at
                new_values["staged_records"][row] = staged[file]
        for name, values in new_values.items():
            updated = updated.set_column(updated.schema.get_field_index(name), updated.schema.field(name), pa.array(values, type=updated.schema.field(name).type))
        if not updated.equals(rows):
            yield key, write_like(updated, parquet)
