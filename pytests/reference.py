"""An independent computation of the lakehouse rules in plain Python: the oracle the dbt
build is checked against. Written for clarity, not speed; it shares no code with the models."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ZONE_FIELDS = {
    "customer": (
        "customerName", "email", "phone", "birthDay", "serialNumber", "registrationDate",
        "lastUpdateDate", "shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate",
    ),
    "accelerometer": ("user", "timestamp", "x", "y", "z"),
    "step_trainer": ("sensorReadingTime", "serialNumber", "distanceFromObject"),
}
KEY_FIELDS = {
    "customer": ("email",),
    "accelerometer": ("user", "timestamp"),
    "step_trainer": ("serialNumber", "sensorReadingTime"),
}
CUSTOMER_COLUMNS = tuple(field.lower() for field in ZONE_FIELDS["customer"])
COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_trusted": CUSTOMER_COLUMNS,
    "customer_curated": CUSTOMER_COLUMNS,
    "accelerometer_trusted": ("user", "timestamp", "x", "y", "z"),
    "step_trainer_trusted": ("sensorreadingtime", "serialnumber", "distancefromobject"),
    "machine_learning_curated": ("subject_id", "sensorreadingtime", "distancefromobject", "timestamp", "x", "y", "z"),
}

Record = dict[str, Any]


def _lines(landing_root: Path, zone: str) -> Iterator[str]:
    for path in sorted((landing_root / zone / "landing").glob("*.json")):
        with path.open(encoding="utf-8") as lines:
            yield from (line for line in lines if line.strip())


def _parse(line: str) -> Record | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def malformed_line_counts(landing_root: Path) -> dict[str, int]:
    """Lines per zone that are not a JSON object (R0: skipped and counted)."""
    return {zone: sum(_parse(line) is None for line in _lines(landing_root, zone)) for zone in ZONE_FIELDS}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def landing_records(landing_root: Path, zone: str) -> list[Record]:
    """R0: well-formed records with their key fields, declared fields only, each distinct record once."""
    fields = ZONE_FIELDS[zone]
    distinct: set[tuple[Any, ...]] = set()
    for line in _lines(landing_root, zone):
        record = _parse(line)
        if record is None or any(_is_blank(record.get(key)) for key in KEY_FIELDS[zone]):
            continue
        distinct.add(tuple(record.get(field) for field in fields))
    return [dict(zip(fields, values)) for values in distinct]


def email_key(email: str) -> str:
    return email.strip().lower()


def _current_record_order(record: Record) -> tuple[Any, ...]:
    """Sort key: the smallest is the current record (R1 and its tie-breaks)."""
    last_update = record["lastUpdateDate"]
    consent = record["shareWithResearchAsOfDate"]
    registration = record["registrationDate"]
    serial = record["serialNumber"]
    return (
        last_update is None, -(last_update or 0),          # latest update first, nulls last
        consent is not None, -(consent or 0),              # on a tie: no consent first, then latest consent
        registration is None, -(registration or 0),        # then latest registration
        serial is None, serial or "",                      # then serial number ascending, nulls last
        record["email"],
    )


def current_records(customers: Iterable[Record]) -> dict[str, Record]:
    by_person: dict[str, list[Record]] = defaultdict(list)
    for record in customers:
        by_person[email_key(record["email"])].append(record)
    return {person: min(records, key=_current_record_order) for person, records in by_person.items()}


def _customer_row(record: Record) -> tuple[Any, ...]:
    return tuple(record[field] for field in ZONE_FIELDS["customer"])


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def expected_zones(
    landing_root: Path,
    erasure_emails: Iterable[str] = (),
    include_pre_consent_readings: bool = False,
    subject_salt: str = "local-demo-salt",
) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every trusted and curated table as a multiset of rows in COLUMNS order."""
    erased = {email_key(email) for email in erasure_emails}

    def consented(reading_time: int, consent: int) -> bool:
        return include_pre_consent_readings or reading_time >= consent

    current = current_records(landing_records(landing_root, "customer"))
    trusted = {
        person: record
        for person, record in current.items()
        if record["shareWithResearchAsOfDate"] is not None and person not in erased
    }

    accelerometer = [
        reading
        for reading in landing_records(landing_root, "accelerometer")
        if email_key(reading["user"]) in trusted
        and consented(reading["timestamp"], trusted[email_key(reading["user"])]["shareWithResearchAsOfDate"])
    ]
    curated = {person: trusted[person] for person in {email_key(reading["user"]) for reading in accelerometer}}

    owners: dict[str, set[str]] = defaultdict(set)
    for person, record in current.items():
        if record["serialNumber"] is not None:
            owners[record["serialNumber"]].add(person)
    device_owner = {serial: next(iter(people)) for serial, people in owners.items() if len(people) == 1}

    distances: dict[tuple[str, int], list[int]] = defaultdict(list)
    for reading in landing_records(landing_root, "step_trainer"):
        owner = device_owner.get(reading["serialNumber"])
        if owner in curated and consented(reading["sensorReadingTime"], curated[owner]["shareWithResearchAsOfDate"]):
            distances[(reading["serialNumber"], reading["sensorReadingTime"])].append(reading["distanceFromObject"])
    step_trainer = {key: min(values, key=lambda d: (d is None, d or 0)) for key, values in distances.items()}

    readings_by_person_and_time: dict[tuple[str, int], list[Record]] = defaultdict(list)
    for reading in accelerometer:
        readings_by_person_and_time[(email_key(reading["user"]), reading["timestamp"])].append(reading)
    machine_learning: Counter[tuple[Any, ...]] = Counter()
    for (serial, reading_time), distance in step_trainer.items():
        owner = device_owner[serial]
        subject_id = hashlib.sha256((subject_salt + owner).encode()).hexdigest()
        for reading in readings_by_person_and_time.get((owner, reading_time), []):
            machine_learning[
                (subject_id, reading_time, distance, reading["timestamp"],
                 _float(reading["x"]), _float(reading["y"]), _float(reading["z"]))
            ] += 1

    return {
        "customer_trusted": Counter(_customer_row(record) for record in trusted.values()),
        "customer_curated": Counter(_customer_row(record) for record in curated.values()),
        "accelerometer_trusted": Counter(
            (r["user"], r["timestamp"], _float(r["x"]), _float(r["y"]), _float(r["z"])) for r in accelerometer
        ),
        "step_trainer_trusted": Counter(
            (reading_time, serial, distance) for (serial, reading_time), distance in step_trainer.items()
        ),
        "machine_learning_curated": machine_learning,
    }
