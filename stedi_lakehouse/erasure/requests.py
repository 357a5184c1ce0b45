"""The file of erasure requests, `seeds/erasure_requests.csv` (a dbt seed): one line per request,
the keyed hash of the normalised email and when it was requested; never the email."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stedi_lakehouse.erasure.keys import email_hmac, normalize_email
from stedi_lakehouse.paths import PROJECT_DIR
from stedi_lakehouse.preflight import PreflightError

SEED_FILE = PROJECT_DIR / "seeds" / "erasure_requests.csv"
COLUMNS = ("email_hmac", "requested_at")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class ErasureRequest:
    email_hmac: str
    requested_at: str  # UTC, TIME_FORMAT


def read_requests(seed: Path = SEED_FILE) -> list[ErasureRequest]:
    """Every request of the seed file, in file order; fails on a file of another shape (emails)."""
    try:
        with seed.open(newline="", encoding="utf-8") as lines:
            rows = list(csv.reader(lines))
    except FileNotFoundError:
        raise PreflightError(f"{seed}: no erasure request file") from None
    if not rows or tuple(rows[0]) != COLUMNS:
        header = ",".join(rows[0]) if rows else "nothing"
        raise PreflightError(f"{seed}: expected the header {','.join(COLUMNS)}, found {header}")
    requests = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS) or len(row[0]) != 64 or any(c not in "0123456789abcdef" for c in row[0]):
            raise PreflightError(f"{seed}:{number}: expected a 64-digit lowercase hex hash and a time")
        requests.append(ErasureRequest(row[0], row[1]))
    return requests


def parse_time(text: str) -> str:
    """A request time as the seed stores it (UTC); a date alone is midnight."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise PreflightError(f"--requested-at {text}: expected a date or time such as 2024-05-01 or 2024-05-01 09:30:00") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.strftime(TIME_FORMAT)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime(TIME_FORMAT)


def record_requests(emails: Iterable[str], key: bytes, requested_at: str, seed: Path = SEED_FILE) -> tuple[list[str], list[str]]:
    """Append a request per email not requested yet; returns the hashes added and those already there."""
    existing = {request.email_hmac for request in read_requests(seed)}
    added: list[str] = []
    already: list[str] = []
    for email in emails:
        if "@" not in normalize_email(email):
            raise PreflightError("an erasure request needs an email address (one with an @); nothing was recorded")
        digest = email_hmac(key, email)
        (already if digest in existing or digest in added else added).append(digest)
    if added:
        text = seed.read_text(encoding="utf-8")
        with seed.open("a", newline="", encoding="utf-8") as lines:
            if text and not text.endswith("\n"):
                lines.write("\n")
            csv.writer(lines, lineterminator="\n").writerows((digest, requested_at) for digest in added)
    return added, already
