"""`stedi erase`: carries out every pending erasure request on one site (a landing zone, the
warehouses built from it, and the home of the journal and audit log).

The order of steps, and why a kill between any two of them loses no one's record:
1. plan: the requests not in the audit log yet, and the serial numbers and pseudonyms of their
   people (as keyed hashes), written to the journal before any file is touched;
2. the landing zone, file by file, then every table file by file: each file is read, filtered,
   recorded in the journal, then replaced whole (temporary file and rename, or an S3 PUT), so it
   holds either its old or its new content, and the new content is the old one less the erased
   people's records. A rerun finds what is left to do from the files themselves, with the
   journal's plan;
3. staging's manifest, once every staging table is done (erasure/staging.py): it says what
   staging now holds of each landing file erase changed;
4. the audit records of the run, written whole, then the journal deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stedi_lakehouse.erasure.journal import JOURNAL, MANIFEST_UPDATED, FileChange, Journal, now, read_audit, write_audit
from stedi_lakehouse.erasure.keys import keyed_hash
from stedi_lakehouse.erasure.landing import deliveries, filter_lines, is_delivery, text_of, zone_folder
from stedi_lakehouse.erasure.matching import SUBJECT_COLUMN, Matcher
from stedi_lakehouse.erasure.parquet import filter_rows, is_parquet
from stedi_lakehouse.erasure.requests import ErasureRequest, read_requests
from stedi_lakehouse.erasure.staging import is_manifest, is_staging_table, surplus, updated_manifest
from stedi_lakehouse.erasure.storage import LocalStorage, Storage
from stedi_lakehouse.erasure.tables import Table
from stedi_lakehouse.paths import LANDING_ZONES
from stedi_lakehouse.preflight import PreflightError

Report = Callable[[str], None]


@dataclass
class Site:
    """Where a run works: one landing zone, the tables built from it, the journal and audit log."""

    landing: Storage
    home: Storage
    tables: Callable[[], list[Table]]


@dataclass
class _Holdings:
    """What the plan learns from the customer records, in memory only."""

    serials_of_erased: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    serials_of_others: set[str] = field(default_factory=set)
    subjects_of_erased: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    emails: set[str] = field(default_factory=set)  # the email keys (lower(trim)) of everyone

    def add(self, email: Any, serial: Any, matcher: Matcher) -> None:
        if not isinstance(email, str) or not email.strip():
            return  # a record without an email identifies nobody (R0 drops it)
        email_key = email.strip(" ").lower()  # as normalize_email in SQL: the key subject_id hashes
        self.emails.add(email_key)
        owners = matcher.of_email(email)
        for owner in owners:
            self.subjects_of_erased[email_key].add(owner)
        if isinstance(serial, str):
            if owners:
                self.serials_of_erased[serial].update(owners)
            else:
                self.serials_of_others.add(serial)


def subject_id(subject_salt: str, email_key: str) -> str:
    """The pseudonym of machine_learning_curated (macro subject_id): sha256(salt || email key)."""
    return hashlib.sha256((subject_salt + email_key).encode("utf-8")).hexdigest()


def _scan_customers(site: Site, tables: list[Table], holdings: _Holdings, matcher: Matcher) -> None:
    for key in deliveries(site.landing, "customer"):
        for line in text_of(site.landing.read(key)).splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                holdings.add(record.get("email"), record.get("serialNumber"), matcher)
    for table in tables:
        for _, parquet in _parquet_files(table):
            names = {name.lower(): name for name in parquet.schema_arrow.names}
            if "email" not in names:
                break  # not a table of customer records
            email, serial = names["email"], names.get("serialnumber")
            for row in parquet.read(columns=[email, *([serial] if serial else [])]).to_pylist():
                holdings.add(row[email], row.get(serial) if serial else None, matcher)


def _parquet_files(table: Table) -> Iterator[tuple[str, pq.ParquetFile]]:
    for key in table.data_files():
        data = table.storage.read(key)
        if is_parquet(data):
            yield key, pq.ParquetFile(pa.BufferReader(data))


def _check_subject_salt(tables: list[Table], holdings: _Holdings, subject_salt: str) -> None:
    """Refuse when a table's pseudonyms were not made with this salt: erase could not find the
    erased people's rows in it."""
    known = {subject_id(subject_salt, email_key) for email_key in holdings.emails}
    for table in tables:
        for key, parquet in _parquet_files(table):
            if SUBJECT_COLUMN not in parquet.schema_arrow.names:
                break  # not a table of pseudonyms
            subjects = set(pc.unique(parquet.read(columns=[SUBJECT_COLUMN]).column(0)).to_pylist()) - {None}
            if subjects - known:
                raise PreflightError(
                    f"{table.name} holds subject_id values not made with this STEDI_SUBJECT_SALT "
                    f"({table.storage.describe(key)}): run erase with the salt of the build"
                )


def plan(site: Site, requests: list[ErasureRequest], key: bytes, subject_salt: str) -> Journal:
    """The journal of a new run: the requests, and their people's serial numbers (those nobody
    else held) and pseudonyms, as keyed hashes."""
    matcher = Matcher(key, frozenset(request.email_hmac for request in requests), {}, {})
    tables = site.tables()
    holdings = _Holdings()
    _scan_customers(site, tables, holdings, matcher)
    _check_subject_salt(tables, holdings, subject_salt)
    serials = {
        keyed_hash(key, serial): sorted(owners)
        for serial, owners in holdings.serials_of_erased.items()
        if serial not in holdings.serials_of_others
    }
    subjects = {
        keyed_hash(key, subject_id(subject_salt, email_key)): sorted(owners)
        for email_key, owners in holdings.subjects_of_erased.items()
    }
    return Journal.start(requests, serials, subjects)


def _erase_landing(site: Site, journal: Journal, matcher: Matcher) -> None:
    """Every delivery the build reads (stedi_lakehouse.landing's rules: names starting with _ or .
    are a writer's unfinished files and markers, left alone), and its old versions on S3."""
    for zone in LANDING_ZONES:
        folder = zone_folder(zone)
        if isinstance(site.landing, LocalStorage):
            site.landing.remove_leftovers(folder)
        for key in deliveries(site.landing, zone):
            filtered = filter_lines(site.landing.read(key), matcher)
            if not filtered.removed:
                continue
            action = "rewritten" if filtered.content is not None else "deleted"
            change = FileChange("landing", action, dict(filtered.removed), landing_file=key, records_left=filtered.records_left)
            journal.record(site.home, site.landing.describe(key), change)
            if filtered.content is None:
                site.landing.delete(key)
            else:
                site.landing.replace(key, filtered.content, keep_modified=True)
        for version in site.landing.old_versions(folder):
            if is_delivery(zone, version.key):
                filtered = filter_lines(site.landing.read_version(version), matcher)
                if filtered.removed:
                    path = f"{site.landing.describe(version.key)}?versionId={version.version_id}"
                    journal.record(site.home, path, FileChange("landing", "old version deleted", dict(filtered.removed)))
                    site.landing.delete_version(version)


def _erase_table(site: Site, journal: Journal, table: Table, matcher: Matcher) -> None:
    storage = table.storage
    if isinstance(storage, LocalStorage):
        for folder in table.folders:
            storage.remove_leftovers(folder)
    extra = surplus(table, journal.changes, matcher)
    for key in table.data_files():
        data = storage.read(key)
        if not is_parquet(data):
            continue
        filtered = filter_rows(data, matcher, extra)
        if filtered.content is None:
            continue
        journal.record(site.home, storage.describe(key), FileChange(table.zone, "rewritten", dict(filtered.removed)))
        storage.replace(key, filtered.content)
    for folder in table.folders:
        for version in storage.old_versions(folder):
            data = storage.read_version(version)
            if not is_parquet(data):
                continue
            filtered = filter_rows(data, matcher)
            if filtered.content is not None:
                path = f"{storage.describe(version.key)}?versionId={version.version_id}"
                journal.record(site.home, path, FileChange(table.zone, "old version deleted", dict(filtered.removed)))
                storage.delete_version(version)


def carry_out(site: Site, journal: Journal, key: bytes) -> list[dict[str, Any]]:
    """Every step of the journal not done yet, then the audit records; returns them."""
    matcher = Matcher(key, frozenset(request.email_hmac for request in journal.requests), journal.serials, journal.subjects)
    if "landing" not in journal.steps_done:
        _erase_landing(site, journal, matcher)
        journal.step_done(site.home, "landing")
    tables = site.tables()
    for table in tables:
        step = f"table {table.storage.describe(table.folders[0])}"
        if step not in journal.steps_done:
            _erase_table(site, journal, table, matcher)
            journal.step_done(site.home, step)
    for manifest in filter(is_manifest, tables):
        # last: it counts the records staging holds once every staging table is done
        staging = [table for table in tables if is_staging_table(table) and _same_schema(table, manifest)]
        for key, content in updated_manifest(manifest, staging, site.landing, journal.changes):
            journal.record(site.home, manifest.storage.describe(key), FileChange(manifest.zone, MANIFEST_UPDATED, {}))
            manifest.storage.replace(key, content)
    if journal.carried_out_at is None:
        journal.carried_out_at = now()
        journal.save(site.home)
    records = write_audit(site.home, journal)
    site.home.delete(JOURNAL)
    return records


def _same_schema(table: Table, other: Table) -> bool:
    """Built by the same build: the same warehouse (or bucket) and schema."""
    return table.storage.describe("") == other.storage.describe("") and table.name.rpartition(".")[0] == other.name.rpartition(".")[0]


def pending_requests(site: Site, seed_requests: list[ErasureRequest]) -> list[ErasureRequest]:
    """The requests of the seed not carried out on this site yet, each once."""
    done = {record["email_hmac"] for record in read_audit(site.home)}
    pending: dict[str, ErasureRequest] = {}
    for request in seed_requests:
        if request.email_hmac not in done:
            pending.setdefault(request.email_hmac, request)
    return list(pending.values())


def erase(site: Site, seed_requests: Callable[[], list[ErasureRequest]], key: Callable[[], bytes], subject_salt: str, report: Report) -> list[dict[str, Any]]:
    """Finish an interrupted run if there is one, then carry out every pending request."""
    records: list[dict[str, Any]] = []
    journal = Journal.load(site.home)
    if journal is not None:
        report(f"erase: resuming run {journal.run} ({len(journal.requests)} requests), interrupted after: {', '.join(journal.steps_done) or 'planning'}")
        records += carry_out(site, journal, key())
    pending = pending_requests(site, seed_requests())
    if pending:
        report(f"erase: {len(pending)} pending requests")
        erasure_key = key()
        journal = plan(site, pending, erasure_key, subject_salt)
        journal.save(site.home)
        records += carry_out(site, journal, erasure_key)
    return records
