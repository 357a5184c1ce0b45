"""Deterministic, scalable STEDI-shaped landing data for demos, tests and benchmarks.

The data holds every hard case of the lakehouse rules: customers who never consent,
revoke or consent late, duplicate and case-variant customer records, shared serial
numbers, readings before consent, readings of two people at the same millisecond,
conflicting step-trainer readings, re-delivered files, malformed lines, records missing
their keys and unknown extra fields.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

ZONES = ("customer", "accelerometer", "step_trainer")
MARKER = ".stedi-generated"
START_MS = 1_655_000_000_000  # mid-June 2022, like the public starter data
DAY_MS = 86_400_000
FILE_STAMP = 1_691_348_231_000
FIRST_NAMES = ("Ann", "Ben", "Cy", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jill", "Kai", "Lea")
LAST_NAMES = ("Lee", "Ray", "Fox", "Oak", "Ng", "Diaz", "Khan", "Berg", "Moss", "Sato", "Vega", "Wolf")
PERSONA_COUNT = 20  # customer i has persona i % 20, so every case appears once 20 customers exist


class GenerateError(Exception):
    """A landing folder the generator refuses to write into; the message says why."""


@dataclass(frozen=True)
class GeneratorConfig:
    customers: int = 1000
    readings_per_customer: int = 85
    seed: int = 42
    files_per_zone: int = 4


@dataclass
class GenerationSummary:
    lines: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ZONES, 0))
    malformed_lines: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ZONES, 0))
    files: int = 0

    def __str__(self) -> str:
        zones = ", ".join(f"{zone} {self.lines[zone]} lines ({self.malformed_lines[zone]} malformed)" for zone in ZONES)
        return f"{self.files} files: {zones}"


# Personas (customer index % 20), each one hard case of the rules.
CONSENTING = range(0, 10)
NEVER_CONSENTED = (10, 11, 12)
REVOKED = 13
LATE_CONSENT = 14
CASE_VARIANT = 15
NO_READINGS = 16
SHARED_SERIAL = 17  # shares the device of customer i - 17 (a consenting one)
DUPLICATED_RECORD = 18
MISSING_EMAIL = 19  # a customer line without email, besides the customer's real record


def _uuid(rng: random.Random) -> str:
    value = f"{rng.getrandbits(128):032x}"
    return f"{value[:8]}-{value[8:12]}-4{value[13:16]}-a{value[17:20]}-{value[20:]}"


def _json(record: dict[str, object]) -> str:
    return json.dumps(record, separators=(", ", ": "))


class _Writer:
    """Collects the lines of each zone into files_per_zone files, with malformed lines mixed in."""

    def __init__(self, rng: random.Random, files_per_zone: int, summary: GenerationSummary) -> None:
        self.rng = rng
        self.files_per_zone = max(1, files_per_zone)
        self.summary = summary
        self.lines: dict[str, list[list[str]]] = {zone: [[] for _ in range(self.files_per_zone)] for zone in ZONES}

    def add(self, zone: str, line: str, file_index: int) -> None:
        self.lines[zone][file_index % self.files_per_zone].append(line)
        self.summary.lines[zone] += 1

    def add_malformed(self, zone: str, valid_line: str, file_index: int) -> None:
        broken = valid_line[: len(valid_line) // 2] if self.rng.random() < 0.5 else "<html>503 Service Unavailable"
        self.add(zone, broken, file_index)
        self.summary.malformed_lines[zone] += 1

    def write(self, root: Path) -> list[Path]:
        written = []
        for zone_number, zone in enumerate(ZONES):
            folder = root / zone / "landing"
            folder.mkdir(parents=True, exist_ok=True)
            for file_index, lines in enumerate(self.lines[zone]):
                path = folder / f"{zone}-{FILE_STAMP + zone_number * 1000 + file_index}.json"
                path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
                written.append(path)
        self.summary.files += len(written)
        return written


def _prepare(root: Path) -> None:
    """Empty the generator's own files under root; refuse a folder holding someone else's data."""
    for zone in ZONES:
        folder = root / zone / "landing"
        existing = sorted(folder.glob("*.json")) if folder.is_dir() else []
        if existing and not (root / MARKER).exists():
            raise GenerateError(
                f"{folder} holds landing files the generator did not write ({existing[0].name}, ...); "
                "choose an empty folder for demo data"
            )
        for path in existing:
            path.unlink()
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("landing data written by `stedi generate`; safe to delete\n")


def _customer_record(index: int, rng: random.Random) -> dict[str, object]:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
    registered = START_MS + (index // 2) * 3_600_000 + rng.randrange(3_600_000)
    return {
        "customerName": f"{first} {last}",
        "email": f"{first}.{last}{index}@test.com",
        "phone": "8015551212",
        "birthDay": f"{1950 + index % 50}-01-01",
        "serialNumber": _uuid(rng),
        "registrationDate": registered,
        "lastUpdateDate": registered,
    }


def _session_times(index: int, count: int) -> list[int]:
    """Reading times of a customer: a pair of customers (2k, 2k+1) shares the same grid, so two
    people read at the same millisecond; the grid spans four days around the customer's consent."""
    base = START_MS + (index // 2) * 3_600_000
    step_ms = 4 * DAY_MS // count
    return [base + step * step_ms for step in range(count)]


def generate_landing(root: Path, config: GeneratorConfig) -> GenerationSummary:
    """Write the three landing zones under root; a rerun with the same config writes the same bytes."""
    _prepare(root)
    rng = random.Random(config.seed)
    summary = GenerationSummary()
    writer = _Writer(rng, config.files_per_zone, summary)
    serials: dict[int, str] = {}
    malformed_every = 400

    for index in range(config.customers):
        persona = index % PERSONA_COUNT
        record = _customer_record(index, rng)
        file_index = index
        if persona == SHARED_SERIAL and index >= SHARED_SERIAL:
            record["serialNumber"] = serials[index - SHARED_SERIAL]
        serials[index] = str(record["serialNumber"])
        registered = int(record["registrationDate"])  # type: ignore[arg-type]
        consent_at = registered + rng.randrange(DAY_MS // 4, 2 * DAY_MS)
        if index % 7 == 0:
            record["appVersion"] = "2.3.1"  # an unknown field, ignored by the lakehouse
        if persona in CONSENTING or persona in (NO_READINGS, SHARED_SERIAL, DUPLICATED_RECORD, MISSING_EMAIL):
            record["shareWithResearchAsOfDate"] = consent_at
            record["shareWithFriendsAsOfDate"] = consent_at
        records = [record]
        if persona == REVOKED:
            record["shareWithResearchAsOfDate"] = consent_at
            revocation = {key: value for key, value in record.items() if key != "shareWithResearchAsOfDate"}
            revocation["lastUpdateDate"] = consent_at + DAY_MS
            records.append(revocation)
        elif persona == LATE_CONSENT:
            late = dict(record, lastUpdateDate=consent_at, shareWithResearchAsOfDate=consent_at)
            records.append(late)
        elif persona == CASE_VARIANT:
            variant = dict(record, lastUpdateDate=consent_at, shareWithResearchAsOfDate=consent_at)
            variant["email"] = f"  {str(record['email']).upper()} "
            records.append(variant)
        elif persona == DUPLICATED_RECORD:
            records.append(dict(record))  # delivered twice, identical in every field
        elif persona == MISSING_EMAIL:
            records.append({key: value for key, value in record.items() if key != "email"})
        for offset, customer in enumerate(records):
            line = _json(customer)
            writer.add("customer", line, file_index + offset)
            if (index + offset) % malformed_every == 0:
                writer.add_malformed("customer", line, file_index + offset)

        if persona == NO_READINGS:
            continue
        times = _session_times(index, max(1, config.readings_per_customer // 2))
        user = str(record["email"]).upper() if persona == CASE_VARIANT else str(record["email"])
        for step, reading_time in enumerate(times):
            for _ in range(rng.choice((1, 2, 3))):  # several readings can share one millisecond
                reading = {
                    "user": user,
                    "timestamp": reading_time,
                    "x": float(rng.choice((-1, 0, 1))),
                    "y": float(rng.choice((-1, 0, 1))),
                    "z": float(rng.choice((-1, 0, 1))),
                }
                line = _json(reading)
                writer.add("accelerometer", line, file_index + step)
                if summary.lines["accelerometer"] % malformed_every == 0:
                    writer.add_malformed("accelerometer", line, file_index + step)
            if step % 5 == 4:
                continue  # a phone reading with no device reading at that millisecond
            distance = rng.randrange(100, 300)
            device = {"sensorReadingTime": reading_time, "serialNumber": serials[index], "distanceFromObject": distance}
            line = _json(device)
            writer.add("step_trainer", line, file_index + step)
            if step == 1:
                # the same device and millisecond with another distance: a conflicting reading
                writer.add("step_trainer", _json(dict(device, distanceFromObject=distance + 7)), file_index + step)
            if summary.lines["step_trainer"] % malformed_every == 0:
                writer.add_malformed("step_trainer", line, file_index + step)

        if persona == MISSING_EMAIL:
            writer.add("accelerometer", _json({"timestamp": times[0], "x": 0.0, "y": 0.0, "z": 1.0}), file_index)
            writer.add("accelerometer", _json({"user": user, "x": 0.0, "y": 0.0, "z": 1.0}), file_index)
            writer.add("step_trainer", _json({"sensorReadingTime": times[0], "distanceFromObject": 150}), file_index)
            writer.add("step_trainer", _json({"serialNumber": serials[index], "distanceFromObject": 150}), file_index)
            unknown_device = {"sensorReadingTime": times[0], "serialNumber": _uuid(rng), "distanceFromObject": 120}
            writer.add("step_trainer", _json(unknown_device), file_index)

    for zone in ZONES:  # at least one malformed line per zone, even in tiny data sets
        if summary.malformed_lines[zone] == 0:
            writer.add_malformed(zone, '{"email": "cut@off.example", "lastUpdateDate": 1', 0)
    written = writer.write(root)
    for zone in ("accelerometer", "step_trainer"):  # a file delivered twice under a new name
        original = next(path for path in written if path.parent.parent.name == zone)
        shutil.copyfile(original, original.with_name(f"{zone}-{FILE_STAMP + 9999}.json"))
        summary.files += 1
    return summary
