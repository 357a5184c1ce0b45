"""The journal of an erase run, and the append-only audit log of the runs carried out.

The journal is written before any file is touched: the requests of the run, and the serial
numbers and pseudonyms of their people as keyed hashes (once a zone is rewritten they could not
be found again). Each rewrite is recorded in it just before the file is replaced, keyed by file,
so that a rerun after a kill records the same counts. It is deleted when the run's audit records
are written. The audit log holds, per request, its hash, when it was requested and carried out,
the records removed per zone and the files rewritten: never an email.
"""

from __future__ import annotations

import datetime
import json
import secrets
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from stedi_lakehouse.erasure.requests import TIME_FORMAT, ErasureRequest
from stedi_lakehouse.erasure.storage import Storage

JOURNAL = "journal.json"
AUDIT_LOG = "log"  # one JSON-lines file per run, never changed once written
# staging's manifest given the new size of the landing files rewritten (no record of anyone in it)
MANIFEST_UPDATED = "manifest updated"


@dataclass
class FileChange:
    zone: str
    action: str  # rewritten, deleted (a landing file left empty), old version deleted, manifest updated
    removed: dict[str, int]  # records removed per request
    # a landing file's path relative to the landing root (staging's landing_file) and the records
    # left in it: what staging and its manifest (stg_landing__files) must hold of it afterwards
    landing_file: str | None = None
    records_left: int | None = None


@dataclass
class Journal:
    run: str
    started_at: str
    requests: list[ErasureRequest]
    serials: dict[str, list[str]]
    subjects: dict[str, list[str]]
    changes: dict[str, FileChange] = field(default_factory=dict)
    steps_done: list[str] = field(default_factory=list)
    carried_out_at: str | None = None

    @classmethod
    def start(cls, requests: list[ErasureRequest], serials: dict[str, list[str]], subjects: dict[str, list[str]]) -> Journal:
        started = now()
        run = f"{started.replace(' ', 'T').replace(':', '').replace('-', '')}Z-{secrets.token_hex(3)}"
        return cls(run, started, requests, serials, subjects)

    @classmethod
    def load(cls, storage: Storage) -> Journal | None:
        if not storage.exists(JOURNAL):
            return None
        data: dict[str, Any] = json.loads(storage.read(JOURNAL))
        data["requests"] = [ErasureRequest(**request) for request in data["requests"]]
        data["changes"] = {path: FileChange(**change) for path, change in data["changes"].items()}
        return cls(**data)

    def save(self, storage: Storage) -> None:
        storage.replace(JOURNAL, json.dumps(asdict(self), indent=1, sort_keys=True).encode())

    def record(self, storage: Storage, path: str, change: FileChange) -> None:
        """Record a change before making it: a kill after it leaves a journal that says so."""
        self.changes[path] = change
        self.save(storage)

    def step_done(self, storage: Storage, step: str) -> None:
        self.steps_done.append(step)
        self.save(storage)

    def audit_records(self) -> list[dict[str, Any]]:
        records = []
        for request in self.requests:
            removed: Counter[str] = Counter()
            files: dict[str, list[str]] = {}
            for path, change in sorted(self.changes.items()):
                count = change.removed.get(request.email_hmac, 0)
                if count or change.action == MANIFEST_UPDATED:
                    removed[change.zone] += count
                    files.setdefault(change.zone, []).append(path if change.action == "rewritten" else f"{path} ({change.action})")
            records.append({
                "email_hmac": request.email_hmac,
                "requested_at": request.requested_at,
                "carried_out_at": self.carried_out_at,
                "run": self.run,
                "records_removed": dict(sorted(removed.items())),
                "files_rewritten": files,
            })
        return records


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime(TIME_FORMAT)


def write_audit(storage: Storage, journal: Journal) -> list[dict[str, Any]]:
    """The run's audit file: written whole, the same again if a rerun writes it after a kill."""
    records = journal.audit_records()
    storage.replace(f"{AUDIT_LOG}/{journal.run}.jsonl", "".join(json.dumps(record, sort_keys=True) + "\n" for record in records).encode())
    return records


def read_audit(storage: Storage) -> list[dict[str, Any]]:
    """Every audit record, oldest run first."""
    records = []
    for key in storage.files(AUDIT_LOG):
        if key.endswith(".jsonl"):
            records += [json.loads(line) for line in storage.read(key).decode().splitlines() if line.strip()]
    return sorted(records, key=lambda record: (record["carried_out_at"] or "", record["run"]))
