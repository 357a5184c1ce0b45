"""An independent oracle of the lakehouse rules R0-R5 in plain Python, for checking the dbt
build. Written for clarity, not speed; it shares no code with the models or the generator."""

from __future__ import annotations

import collections
import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ZONE_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": (
        "customerName", "email", "phone", "birthDay", "serialNumber", "registrationDate",
        "lastUpdateDate", "shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate",
    ),
    "accelerometer": ("user", "timestamp", "x", "y", "z"),
    "step_trainer": ("sensorReadingTime", "serialNumber", "distanceFromObject"),
}
# Fields declared as numbers (the landing sources' bigint, int and double); the others are
# strings, which take any JSON value. A value of another type makes the line malformed (R0).
WHOLE_NUMBER_FIELDS = {
    "registrationDate", "lastUpdateDate", "shareWithResearchAsOfDate", "shareWithPublicAsOfDate",
    "shareWithFriendsAsOfDate", "timestamp", "sensorReadingTime", "distanceFromObject",
}
NUMBER_FIELDS = {"x", "y", "z"}
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("email",),
    "accelerometer": ("user", "timestamp"),
    "step_trainer": ("serialNumber", "sensorReadingTime"),
}
CUSTOMER_COLUMNS = tuple(name.lower() for name in ZONE_FIELDS["customer"])
COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_trusted": CUSTOMER_COLUMNS,
    "customer_curated": CUSTOMER_COLUMNS,
    "accelerometer_trusted": ("user", "timestamp", "x", "y", "z"),
    "step_trainer_trusted": ("sensorreadingtime", "serialnumber", "distancefromobject"),
    "machine_learning_curated": ("subject_id", "sensorreadingtime", "distancefromobject", "timestamp", "x", "y", "z"),
}

Record = dict[str, Any]
Row = tuple[Any, ...]


def _landing_files(landing_root: Path, zone: str) -> list[Path]:
    """The zone's deliveries: *.json and *.json.gz files at any depth, none under a name
    starting with _ or . (the Hadoop convention for hidden files)."""
    folder = landing_root / zone / "landing"
    return sorted(
        path for path in folder.rglob("*")
        if path.is_file()
        and path.name.endswith((".json", ".json.gz"))
        and not any(part.startswith(("_", ".")) for part in path.relative_to(folder).parts)
    )


def _lines(landing_root: Path, zone: str) -> Iterator[str]:
    """Every non-blank line of the zone's landing files."""
    for path in _landing_files(landing_root, zone):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield line


def _fits(field: str, value: Any) -> bool:
    """Whether the value can be read as the field's declared type (null always can)."""
    if value is None or field not in WHOLE_NUMBER_FIELDS | NUMBER_FIELDS:
        return True
    if isinstance(value, bool):  # JSON true/false is no number, though Python's bool is an int
        return False
    return isinstance(value, int) if field in WHOLE_NUMBER_FIELDS else isinstance(value, int | float)


def _parse(line: str, zone: str) -> Record | None:
    """The line's JSON object, or None for a malformed line: not a JSON object, or a declared
    field holding a value of another type (a word where a number belongs)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict) or not all(_fits(name, value.get(name)) for name in ZONE_FIELDS[zone]):
        return None
    return value


def malformed_lines_per_file(landing_root: Path) -> dict[str, int]:
    """R0: each landing file with malformed lines (path relative to the root) and how many."""
    counts = {}
    for zone in ZONE_FIELDS:
        for path in _landing_files(landing_root, zone):
            opener = gzip.open if path.name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as lines:
                malformed = sum(_parse(line, zone) is None for line in lines if line.strip())
            if malformed:
                counts[path.relative_to(landing_root).as_posix()] = malformed
    return counts


def malformed_line_counts(landing_root: Path) -> dict[str, int]:
    """R0: lines per zone that are not a JSON object."""
    return {zone: sum(_parse(line, zone) is None for line in _lines(landing_root, zone)) for zone in ZONE_FIELDS}


def _missing(value: Any) -> bool:
    # a blank string identifies nothing, like a missing key
    return value is None or (isinstance(value, str) and not value.strip())


def landing_records(landing_root: Path, zone: str) -> list[Record]:
    """R0: the zone's records with their key fields, declared fields only, each distinct record once."""
    fields = ZONE_FIELDS[zone]
    distinct: set[Row] = set()
    for line in _lines(landing_root, zone):
        record = _parse(line, zone)
        if record is None or any(_missing(record.get(key)) for key in KEY_FIELDS[zone]):
            continue
        distinct.add(tuple(record.get(name) for name in fields))
    return [dict(zip(fields, values)) for values in distinct]


def email_key(email: str) -> str:
    return email.strip().lower()


def _newest_first(value: Any) -> tuple[bool, Any]:
    """Sort key: the greatest value first, None last."""
    return (value is None, -value if value is not None else 0)


def _current_record_order(record: Record) -> tuple[Any, ...]:
    """R1: the record with the smallest key is the person's current record."""
    consent = record["shareWithResearchAsOfDate"]
    serial = record["serialNumber"]
    return (
        _newest_first(record["lastUpdateDate"]),
        (consent is not None, -consent if consent is not None else 0),  # a record without consent wins a tie
        _newest_first(record["registrationDate"]),
        (serial is None, serial or ""),
        record["email"],
        repr(tuple(record.values())),  # beyond the rules' tie-breaks: any fixed order, for repeatable results
    )


def current_records(customers: Iterable[Record]) -> dict[str, Record]:
    """R1: each person's (email key's) current record."""
    records_by_person: dict[str, list[Record]] = collections.defaultdict(list)
    for record in customers:
        records_by_person[email_key(record["email"])].append(record)
    return {person: min(records, key=_current_record_order) for person, records in records_by_person.items()}


def serial_owners(current: dict[str, Record]) -> dict[str, str]:
    """R4: serial number -> its owner, for serials held by exactly one person's current record."""
    holders: dict[str, set[str]] = collections.defaultdict(set)
    for person, record in current.items():
        if record["serialNumber"] is not None:
            holders[record["serialNumber"]].add(person)
    return {serial: next(iter(people)) for serial, people in holders.items() if len(people) == 1}


def subject_id(person: str, subject_salt: str) -> str:
    return hashlib.sha256((subject_salt + person).encode()).hexdigest()


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _smallest(distances: list[Any]) -> Any:
    """The smallest distance; None only when every distance is None (like SQL min)."""
    known = [distance for distance in distances if distance is not None]
    return min(known) if known else None


def expected_zones(
    landing_root: Path,
    erasure_emails: Iterable[str] = (),
    include_pre_consent_readings: bool = False,
    subject_salt: str = "local-demo-salt",
) -> dict[str, collections.Counter[Row]]:
    """Every trusted and curated table as a multiset of rows in COLUMNS order."""
    erased = {email_key(email) for email in erasure_emails}

    def within_consent(reading_time: int, person: str) -> bool:
        return include_pre_consent_readings or reading_time >= trusted[person]["shareWithResearchAsOfDate"]

    # R1
    current = current_records(landing_records(landing_root, "customer"))
    trusted = {
        person: record
        for person, record in current.items()
        if record["shareWithResearchAsOfDate"] is not None and person not in erased
    }

    # R2
    accelerometer = [
        reading
        for reading in landing_records(landing_root, "accelerometer")
        if email_key(reading["user"]) in trusted and within_consent(reading["timestamp"], email_key(reading["user"]))
    ]

    # R3
    curated = {email_key(reading["user"]) for reading in accelerometer}

    # R4
    owners = serial_owners(current)
    distances: dict[tuple[str, int], list[Any]] = collections.defaultdict(list)
    for reading in landing_records(landing_root, "step_trainer"):
        owner = owners.get(reading["serialNumber"])
        if owner in curated and within_consent(reading["sensorReadingTime"], owner):
            distances[(reading["serialNumber"], reading["sensorReadingTime"])].append(reading["distanceFromObject"])
    step_trainer = {key: _smallest(values) for key, values in distances.items()}

    # R5
    readings_by_person_and_time: dict[tuple[str, int], list[Record]] = collections.defaultdict(list)
    for reading in accelerometer:
        readings_by_person_and_time[(email_key(reading["user"]), reading["timestamp"])].append(reading)
    machine_learning: collections.Counter[Row] = collections.Counter()
    for (serial, reading_time), distance in step_trainer.items():
        owner = owners[serial]
        for reading in readings_by_person_and_time[(owner, reading_time)]:
            machine_learning[(
                subject_id(owner, subject_salt), reading_time, distance, reading["timestamp"],
                _as_float(reading["x"]), _as_float(reading["y"]), _as_float(reading["z"]),
            )] += 1

    customer_fields = ZONE_FIELDS["customer"]
    return {
        "customer_trusted": collections.Counter(
            tuple(record[name] for name in customer_fields) for record in trusted.values()
        ),
        "accelerometer_trusted": collections.Counter(
            (r["user"], r["timestamp"], _as_float(r["x"]), _as_float(r["y"]), _as_float(r["z"])) for r in accelerometer
        ),
        "customer_curated": collections.Counter(
            tuple(trusted[person][name] for name in customer_fields) for person in curated
        ),
        "step_trainer_trusted": collections.Counter(
            (reading_time, serial, distance) for (serial, reading_time), distance in step_trainer.items()
        ),
        "machine_learning_curated": machine_learning,
    }


def _landing_line_outcomes(landing_root: Path, zone: str) -> tuple[collections.Counter[str], list[Record]]:
    """R0 line by line: the lines each R0 outcome stopped, and the distinct records that go on."""
    stopped: collections.Counter[str] = collections.Counter()
    fields = ZONE_FIELDS[zone]
    seen: set[Row] = set()
    records: list[Record] = []
    for line in _lines(landing_root, zone):
        record = _parse(line, zone)
        if record is None:
            stopped["malformed_line"] += 1
        elif any(_missing(record.get(key)) for key in KEY_FIELDS[zone]):
            stopped["missing_key"] += 1
        elif (values := tuple(record.get(name) for name in fields)) in seen:
            stopped["duplicate_delivery"] += 1
        else:
            seen.add(values)
            records.append(dict(zip(fields, values)))
    return stopped, records


def landing_outcomes(
    landing_root: Path,
    erasure_emails: Iterable[str] = (),
    include_pre_consent_readings: bool = False,
) -> dict[str, collections.Counter[str]]:
    """Per landing table, its lines by outcome: "kept" (a curated customer's current record; a reading
    in a row of the training table) or the first rule that stopped the line. Follows each record
    through the rules in the order they apply, apart from expected_zones."""
    erased = {email_key(email) for email in erasure_emails}
    outcomes = {zone: _landing_line_outcomes(landing_root, zone) for zone in ZONE_FIELDS}
    counts = {f"{zone}_landing": stopped.copy() for zone, (stopped, _) in outcomes.items()}
    customers, phone_readings, device_readings = (outcomes[zone][1] for zone in ZONE_FIELDS)

    # R1: how far each person got
    current = current_records(customers)
    ever_consented = {email_key(r["email"]) for r in customers if r["shareWithResearchAsOfDate"] is not None}

    def person_outcome(person: str) -> str | None:
        """The R1 outcome that stops the person, None for a trusted person."""
        if person not in current or current[person]["shareWithResearchAsOfDate"] is None:
            return "revoked" if person in ever_consented else "no_research_consent"
        return "erased" if person in erased else None

    def within_consent(reading_time: int, person: str) -> bool:
        return include_pre_consent_readings or reading_time >= current[person]["shareWithResearchAsOfDate"]

    # R2: phone readings
    trusted_phone: list[tuple[str, int]] = []
    for reading in phone_readings:
        person = email_key(reading["user"])
        stop = person_outcome(person) or (None if within_consent(reading["timestamp"], person) else "before_consent")
        if stop:
            counts["accelerometer_landing"][stop] += 1
        else:
            trusted_phone.append((person, reading["timestamp"]))
    curated = {person for person, _ in trusted_phone}  # R3

    # customers: one record per person goes on, the others are superseded
    counts["customer_landing"]["superseded"] += len(customers) - len(current)
    for person in current:
        stop = person_outcome(person) or (None if person in curated else "not_curated")
        counts["customer_landing"][stop or "kept"] += 1

    # R4: device readings, through their owner
    holders: dict[str, set[str]] = collections.defaultdict(set)
    for person, record in current.items():
        if record["serialNumber"] is not None:
            holders[record["serialNumber"]].add(person)
    candidates: dict[tuple[str, int], int] = collections.Counter()
    for reading in device_readings:
        owners = holders.get(reading["serialNumber"], set())
        if len(owners) > 1:
            stop = "serial_shared"
        elif not owners:
            stop = "no_research_consent"
        else:
            owner = next(iter(owners))
            stop = (
                person_outcome(owner)
                or (None if owner in curated else "not_curated")
                or (None if within_consent(reading["sensorReadingTime"], owner) else "before_consent")
            )
        if stop:
            counts["step_trainer_landing"][stop] += 1
        else:
            candidates[(reading["serialNumber"], reading["sensorReadingTime"])] += 1
    # one reading per device and millisecond; the others conflict with it
    counts["step_trainer_landing"]["conflicting_reading"] += sum(candidates.values()) - len(candidates)

    # R5: the same person's phone and device in one millisecond
    device_of = {person: current[person]["serialNumber"] for person in curated}
    phone_times = collections.Counter(trusted_phone)
    trusted_devices = set(candidates)
    for person, reading_time in trusted_phone:
        counts["accelerometer_landing"]["kept" if (device_of[person], reading_time) in trusted_devices else "unpaired"] += 1
    for serial, reading_time in trusted_devices:
        owner = next(iter(holders[serial]))
        counts["step_trainer_landing"]["kept" if phone_times[(owner, reading_time)] else "unpaired"] += 1
    return counts


def landing_line_counts(landing_root: Path) -> dict[str, int]:
    """Lines per landing table, as its reader counts them (blank lines skipped)."""
    return {f"{zone}_landing": sum(1 for _ in _lines(landing_root, zone)) for zone in ZONE_FIELDS}
