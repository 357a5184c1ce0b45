"""Deterministic, scalable STEDI-shaped landing data that holds every hard case of the rules.

Customer i plays persona i % 20 (see the persona constants), so every hard case recurs in
each block of 20 customers; malformed lines recur every 100 customers, starting with the
first block. Fewer than 20 customers leave some cases out.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from stedi_lakehouse.demo_marker import is_marked, write_marker
from stedi_lakehouse.paths import LANDING_ZONES

FILE_STAMP = 1_700_000_000_000  # file k of a zone is <zone>-<FILE_STAMP + k>.json, like the real names
MAX_FILES = 1_000_000
START_MS = 1_655_000_000_000  # mid-June 2022, like the real data
SLOT_MS = 40_000  # customer i starts a session about i * 40 s after START_MS
CLOCK_JITTER_MS = 10_000
MIN_GAP_MS, GAP_SPREAD_MS = 2_000, 2_000  # a person's reading times are 2-4 s apart, as in the real data
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
GROUP_SIZES = (3, 3, 3, 3, 3, 3, 3, 2, 2, 1)  # readings sharing one millisecond
MEAN_GROUP = sum(GROUP_SIZES) / len(GROUP_SIZES)
MIN_READINGS_PER_CUSTOMER = 10
MIN_READING_TIMES = 4
UNMATCHED_EVERY = 10  # every 10th reading time of a phone has no device reading
BATCH_READING_TIMES = 3
BATCH_SLOT_MS = 1_000
BLOCK = 20
MALFORMED_EVERY_BLOCKS = 5
FLUSH_LINES = 50_000

# Personas: the hard case customer i plays is i % BLOCK.
PAIR_FIRST = 0  # reads at the same milliseconds as the next customer
PAIR_SECOND = 1
CONSENT_AT_READING = 2  # consent equals a reading time; one conflicting step-trainer reading
EXTRA_FIELDS = 3  # accelerometer readings with an unknown field
UNMATCHED_STEP = 4  # a device reading at a millisecond without phone readings; unknown fields
PLAIN = 5
PRE_CONSENT_ONLY = 6  # consents after all of the readings
SHARED_SERIAL_FIRST = 7
SHARED_SERIAL_SECOND = 8  # another person with the previous customer's serial number
NEVER_CONSENTED = 9
PUBLIC_ONLY = 10  # shares with the public and friends, never with research
REVOKED = 11
LATE_CONSENT = 12
CASE_VARIANT = 13  # a later record with " ann.lee13@Test.com ", readings by "ANN.LEE13@TEST.COM"
DUPLICATED = 14  # the same record in two files
NO_READINGS = 15  # consents, uses the device, never the phone
NO_SERIAL = 16  # phone only: no serialNumber
LOWER_CASE_USER = 17  # readings by "ann.lee17@test.com"
NOISE = 18  # brings the email-less, key-less, unknown-serial and malformed lines
PLAIN_LAST = 19

BEFORE, STRADDLE, AT_READING, AFTER = "before", "straddle", "at reading", "after"
CONSENT_MODE: dict[int, str] = {
    PAIR_FIRST: BEFORE,
    PAIR_SECOND: STRADDLE,
    CONSENT_AT_READING: AT_READING,
    EXTRA_FIELDS: STRADDLE,
    UNMATCHED_STEP: BEFORE,
    PLAIN: STRADDLE,
    PRE_CONSENT_ONLY: AFTER,
    SHARED_SERIAL_FIRST: BEFORE,
    SHARED_SERIAL_SECOND: STRADDLE,
    REVOKED: STRADDLE,
    LATE_CONSENT: STRADDLE,
    CASE_VARIANT: STRADDLE,
    DUPLICATED: BEFORE,
    NO_READINGS: BEFORE,
    NO_SERIAL: BEFORE,
    LOWER_CASE_USER: STRADDLE,
    NOISE: BEFORE,
    PLAIN_LAST: BEFORE,
}

FIRST_NAMES = ("Ann", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kira", "Liam", "Mia")
LAST_NAMES = ("Lee", "Khan", "Berg", "Diaz", "Fox", "Moss", "Ng", "Oak", "Ray", "Sato", "Vega", "Wolf", "Young")
CUSTOMER_FIELDS = (
    "customerName", "email", "phone", "birthDay", "serialNumber", "registrationDate", "lastUpdateDate",
    "shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate", "appVersion",
)
# The real data's x and y are -1, 0 or 1 and z is -1 or 0.
XYZ = tuple(f'"x":{x:.1f},"y":{y:.1f},"z":{z:.1f}' for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0))
PHONE_TAILS = tuple(f",{xyz}}}" for xyz in XYZ)
EXTRA_PHONE_TAILS = tuple(f',{xyz},"appVersion":"2.3.1"}}' for xyz in XYZ)
DEVICE_TAIL = "}"
EXTRA_DEVICE_TAIL = ',"firmware":"1.4.0"}'
GARBAGE = (
    "<html><body><h1>503 Service Unavailable</h1></body></html>",
    "#### upload interrupted ####",
    "{{ template not rendered }}",
)


@dataclass(frozen=True)
class GeneratorConfig:
    """readings_per_customer is the mean number of accelerometer readings of a customer who has any."""

    customers: int = 1000
    readings_per_customer: int = 85
    seed: int = 42
    files_per_zone: int = 4


@dataclass(frozen=True)
class GenerationSummary:
    """Lines per zone (malformed ones and re-delivered copies included) and files written."""

    lines: dict[str, int]
    malformed_lines: dict[str, int]
    files: int
    bytes: int

    def __str__(self) -> str:
        zones = ", ".join(
            f"{zone} {self.lines[zone]:,} lines ({self.malformed_lines[zone]} malformed)" for zone in LANDING_ZONES
        )
        return f"{self.files} files, {self.bytes:,} bytes: {zones}"


@dataclass(frozen=True)
class _Person:
    index: int
    records: tuple[dict[str, object], ...]  # customer records; the first is the oldest
    user: str | None  # accelerometer user; None: no phone readings
    serial: str | None  # serial number of the device readings; None: no device readings
    clock: int  # first reading time
    gap: int
    reading_times: int

    @property
    def persona(self) -> int:
        return self.index % BLOCK

    def times(self) -> list[int]:
        return [self.clock + step * self.gap for step in range(self.reading_times)]


def _check(config: GeneratorConfig) -> None:
    if config.customers < 1:
        raise ValueError(f"customers must be at least 1, not {config.customers}")
    if config.readings_per_customer < MIN_READINGS_PER_CUSTOMER:
        raise ValueError(
            f"readings_per_customer must be at least {MIN_READINGS_PER_CUSTOMER}, not {config.readings_per_customer}"
        )
    if not 1 <= config.files_per_zone < MAX_FILES:
        raise ValueError(f"files_per_zone must be between 1 and {MAX_FILES - 1}, not {config.files_per_zone}")


def _uuid(rng: random.Random) -> str:
    digits = f"{rng.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


def _clock(slot: int, seed: int) -> tuple[int, int]:
    """First reading time and gap of a session slot: a pure function, so a pair can share it."""
    mixed = (slot * 2_654_435_761 + seed * 40_503) % 2**32
    return START_MS + slot * SLOT_MS + mixed % CLOCK_JITTER_MS, MIN_GAP_MS + (mixed >> 16) % GAP_SPREAD_MS


def _reading_times(readings_per_customer: int, jitter: int) -> int:
    return max(MIN_READING_TIMES, round((readings_per_customer + jitter) / MEAN_GROUP))


def _consent(mode: str | None, rng: random.Random, clock: int, gap: int, reading_times: int) -> int | None:
    if mode is None:
        return None
    if mode == BEFORE:
        return clock - 1 - rng.randrange(DAY_MS)
    if mode == AFTER:
        return clock + (reading_times - 1) * gap + 1 + rng.randrange(DAY_MS)
    step = 1 + rng.randrange(max(1, reading_times // 3))
    return clock + step * gap - (0 if mode == AT_READING else 1 + rng.randrange(gap - 1))


def _customer(**values: object) -> dict[str, object]:
    """A customer record in the real field order; a None value leaves its key out."""
    return {key: values[key] for key in CUSTOMER_FIELDS if values.get(key) is not None}


def _name(person_index: int) -> tuple[str, str]:
    return FIRST_NAMES[person_index % len(FIRST_NAMES)], LAST_NAMES[person_index // len(FIRST_NAMES) % len(LAST_NAMES)]


def _email(person_index: int) -> str:
    first, last = _name(person_index)
    return f"{first}.{last}{person_index}@test.com"


def _records(
    person_index: int, rng: random.Random, serial: str | None, consent: int | None, clock: int, session_end: int
) -> tuple[dict[str, object], ...]:
    """The person's customer records, oldest first; the last one is current."""
    persona = person_index % BLOCK
    first, last = _name(person_index)
    email = _email(person_index)
    registered = min(clock, clock if consent is None else consent) - HOUR_MS - rng.randrange(30 * DAY_MS)
    shares_publicly = persona == PUBLIC_ONLY or (persona != NEVER_CONSENTED and rng.random() < 0.5)
    shares_with_friends = persona == PUBLIC_ONLY or (persona != NEVER_CONSENTED and rng.random() < 0.5)
    identity: dict[str, object] = {
        "customerName": f"{first} {last}",
        "email": email,
        "phone": f"801555{rng.randrange(10_000):04d}",
        "birthDay": f"{rng.randrange(1930, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "serialNumber": serial,
        "registrationDate": registered,
        "shareWithPublicAsOfDate": registered if shares_publicly else None,
        "shareWithFriendsAsOfDate": registered if shares_with_friends else None,
        "appVersion": "2.3.1" if person_index % 7 == 3 else None,
    }
    last_update = registered if consent is None else consent
    current = _customer(**identity, lastUpdateDate=last_update, shareWithResearchAsOfDate=consent)
    not_consenting = _customer(**identity, lastUpdateDate=registered)
    if persona == REVOKED:
        revoked_at = session_end + HOUR_MS + rng.randrange(DAY_MS)
        return current, _customer(**identity, lastUpdateDate=revoked_at)
    if persona == LATE_CONSENT:
        return not_consenting, current
    if persona == CASE_VARIANT:
        local, domain = email.split("@")
        return not_consenting, dict(current, email=f" {local.lower()}@{domain.capitalize()} ")
    if persona == DUPLICATED:
        return current, dict(current)
    if persona == NOISE:
        return current, {key: value for key, value in current.items() if key != "email"}
    return (current,)


def _people(config: GeneratorConfig) -> Iterator[_Person]:
    """The customers, their records and reading sessions; cheap, so append_batch recomputes it."""
    rng = random.Random(config.seed)
    spread = config.readings_per_customer // 10
    serial = ""
    for index in range(config.customers):
        persona = index % BLOCK
        clock, gap = _clock(index - 1 if persona == PAIR_SECOND else index, config.seed)
        reading_times = _reading_times(config.readings_per_customer, rng.randint(-spread, spread))
        serial = serial if persona == SHARED_SERIAL_SECOND else _uuid(rng)
        own_serial = None if persona == NO_SERIAL else serial
        consent = _consent(CONSENT_MODE.get(persona), rng, clock, gap, reading_times)
        session_end = clock + (reading_times - 1) * gap
        email = _email(index)
        user = {NO_READINGS: None, CASE_VARIANT: email.upper(), LOWER_CASE_USER: email.lower()}.get(persona, email)
        records = _records(index, rng, own_serial, consent, clock, session_end)
        yield _Person(index, records, user, own_serial, clock, gap, reading_times)


def _phone_lines(user: str, times: list[int], rng: random.Random, tails: tuple[str, ...]) -> list[str]:
    head = '{"user":' + json.dumps(user) + ',"timestamp":'
    draw = rng.random
    lines = []
    for reading_time in times:
        stamp = head + str(reading_time)
        for _ in range(GROUP_SIZES[int(draw() * len(GROUP_SIZES))]):
            lines.append(stamp + tails[int(draw() * len(tails))])
    return lines


def _device_line(serial: str, reading_time: int, distance: int, tail: str = DEVICE_TAIL) -> str:
    serial_json = json.dumps(serial)
    return f'{{"sensorReadingTime":{reading_time},"serialNumber":{serial_json},"distanceFromObject":{distance}{tail}'


def _device_lines(serial: str, times: list[int], rng: random.Random, tail: str = DEVICE_TAIL) -> list[str]:
    middle = ',"serialNumber":' + json.dumps(serial) + ',"distanceFromObject":'
    draw = rng.random
    return [
        '{"sensorReadingTime":' + str(reading_time) + middle + str(201 + int(draw() * 100)) + tail
        for reading_time in times
    ]


def _customer_line(record: dict[str, object]) -> str:
    return json.dumps(record)


def _cut_off(line: str, rng: random.Random) -> str:
    """A valid line cut mid-way: no prefix of a JSON object is valid JSON."""
    return line[: len(line) // 3 + rng.randrange(len(line) // 3)]


class _LandingWriter:
    """files_per_zone files per zone, written in big chunks; counts what it writes."""

    def __init__(self, root: Path, files_per_zone: int) -> None:
        self.paths = {zone: [_file_path(root, zone, k) for k in range(files_per_zone)] for zone in LANDING_ZONES}
        self.handles: dict[str, list[TextIO]] = {zone: [] for zone in LANDING_ZONES}
        for zone in LANDING_ZONES:
            for path in self.paths[zone]:
                self.handles[zone].append(path.open("w", encoding="utf-8", newline="\n"))
        self.buffers = {zone: [[] for _ in range(files_per_zone)] for zone in LANDING_ZONES}
        self.lines = {zone: [0] * files_per_zone for zone in LANDING_ZONES}
        self.malformed = {zone: [0] * files_per_zone for zone in LANDING_ZONES}

    def add(self, zone: str, file: int, lines: list[str]) -> None:
        buffer: list[str] = self.buffers[zone][file]
        buffer.extend(lines)
        self.lines[zone][file] += len(lines)
        if len(buffer) >= FLUSH_LINES:
            self._flush(zone, file)

    def add_malformed(self, zone: str, file: int, lines: list[str]) -> None:
        self.add(zone, file, lines)
        self.malformed[zone][file] += len(lines)

    def _flush(self, zone: str, file: int) -> None:
        buffer = self.buffers[zone][file]
        if buffer:
            self.handles[zone][file].write("\n".join(buffer) + "\n")
            buffer.clear()

    def close(self) -> None:
        for zone in LANDING_ZONES:
            for file, handle in enumerate(self.handles[zone]):
                self._flush(zone, file)
                handle.close()


def _file_path(root: Path, zone: str, number: int) -> Path:
    return root / zone / "landing" / f"{zone}-{FILE_STAMP + number}.json"


def _batch_path(root: Path, zone: str, batch: int) -> Path:
    return root / zone / "landing" / f"{zone}-batch-{batch:04d}.json"


def _is_generated(zone: str, name: str) -> bool:
    """Whether a file name is one generate_landing or append_batch writes."""
    match = re.fullmatch(rf"{zone}-(?:(\d+)|batch-\d{{4,}})\.json", name)
    return match is not None and (match[1] is None or FILE_STAMP <= int(match[1]) < FILE_STAMP + MAX_FILES)


def _prepare(root: Path) -> None:
    """Remove the generator's own files; refuse a folder that holds landing files of someone else,
    so demo data is never mixed into real data."""
    foreign = [
        path
        for zone in LANDING_ZONES
        for path in sorted((root / zone / "landing").glob("*.json"))
        if not _is_generated(zone, path.name)
    ]
    if foreign:
        raise ValueError(
            f"{foreign[0].parent} holds landing files the generator did not write ({foreign[0].name}); "
            "choose an empty folder for demo data"
        )
    for zone in LANDING_ZONES:
        folder = root / zone / "landing"
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("*.json"):
            path.unlink()


def _file_of(index: int, customers: int, files: int) -> int:
    """File 0 holds only the first block of customers, so its re-delivered copy stays small."""
    if files == 1 or index < BLOCK:
        return 0
    return 1 + (index - BLOCK) * (files - 1) // max(1, customers - BLOCK)


def _write_person(writer: _LandingWriter, person: _Person, file: int, files: int, rng: random.Random) -> dict[str, str]:
    """Write the person's lines; returns the first line written per zone."""
    persona = person.persona
    first_lines: dict[str, str] = {}
    for number, record in enumerate(person.records):
        # later records land in the next file, which may sort first: file order must not matter
        line = _customer_line(record)
        writer.add("customer", (file + min(number, 1)) % files, [line])
        first_lines.setdefault("customer", line)
    times = person.times()
    if person.user is not None:
        tails = EXTRA_PHONE_TAILS if persona == EXTRA_FIELDS else PHONE_TAILS
        lines = _phone_lines(person.user, times, rng, tails)
        writer.add("accelerometer", file, lines)
        first_lines["accelerometer"] = lines[0]
    if person.serial is None:
        return first_lines
    last = times[-1]
    device_times = [t for step, t in enumerate(times) if step % UNMATCHED_EVERY != UNMATCHED_EVERY - 1 or t == last]
    tail = EXTRA_DEVICE_TAIL if persona == UNMATCHED_STEP else DEVICE_TAIL
    lines = _device_lines(person.serial, device_times, rng, tail)
    writer.add("step_trainer", file, lines)
    first_lines["step_trainer"] = lines[0]
    if persona == CONSENT_AT_READING:
        # distances 100-199 never equal the 201-300 of the first reading
        writer.add("step_trainer", file, [_device_line(person.serial, last, 100 + rng.randrange(100))])
    if persona == UNMATCHED_STEP:
        unmatched = _device_line(person.serial, last + person.gap // 2, 201 + rng.randrange(100), tail)
        writer.add("step_trainer", file, [unmatched])
    return first_lines


def _write_noise(
    writer: _LandingWriter, person: _Person, file: int, rng: random.Random, first_lines: dict[str, str]
) -> None:
    """Lines without their key fields, readings of an unknown device and, every few blocks, malformed
    lines: a cut-off copy of a line written before and a garbage line in every zone."""
    assert person.user is not None and person.serial is not None
    times = person.times()
    writer.add("accelerometer", file, [
        f'{{"timestamp":{times[0]},"x":0.0,"y":0.0,"z":-1.0}}',
        f'{{"user":{json.dumps(person.user)},"x":1.0,"y":0.0,"z":0.0}}',
    ])
    unknown_serial = _uuid(rng)
    writer.add("step_trainer", file, [
        f'{{"sensorReadingTime":{times[0]},"distanceFromObject":250}}',
        f'{{"serialNumber":{json.dumps(person.serial)},"distanceFromObject":250}}',
        *(_device_line(unknown_serial, t, 201 + rng.randrange(100)) for t in times[:3]),
    ])
    block = person.index // BLOCK
    if block % MALFORMED_EVERY_BLOCKS:
        return
    garbage = GARBAGE[block // MALFORMED_EVERY_BLOCKS % len(GARBAGE)]
    for zone in LANDING_ZONES:
        writer.add_malformed(zone, file, [_cut_off(first_lines[zone], rng), garbage])


def generate_landing(root: Path, config: GeneratorConfig) -> GenerationSummary:
    """Write <root>/<zone>/landing/*.json and the demo-data marker (demo_marker); the generator's
    own earlier files are replaced, others kept."""
    _check(config)
    _prepare(root)
    files = config.files_per_zone
    rng = random.Random(f"{config.seed}:readings")
    writer = _LandingWriter(root, files)
    try:
        for person in _people(config):
            file = _file_of(person.index, config.customers, files)
            first_lines = _write_person(writer, person, file, files, rng)
            if person.persona == NOISE:
                _write_noise(writer, person, file, rng, first_lines)
    finally:
        writer.close()
    lines = {zone: sum(counts) for zone, counts in writer.lines.items()}
    malformed = {zone: sum(counts) for zone, counts in writer.malformed.items()}
    written = [path for zone in LANDING_ZONES for path in writer.paths[zone]]
    for zone in ("accelerometer", "step_trainer"):
        # a file delivered twice under a new name
        copy = _file_path(root, zone, files)
        shutil.copyfile(writer.paths[zone][0], copy)
        lines[zone] += writer.lines[zone][0]
        malformed[zone] += writer.malformed[zone][0]
        written.append(copy)
    write_marker(root, written)
    return GenerationSummary(lines, malformed, len(written), sum(path.stat().st_size for path in written))


def _end_of_landing(config: GeneratorConfig) -> int:
    """A time after every reading generate_landing writes."""
    most_times = _reading_times(config.readings_per_customer, config.readings_per_customer // 10)
    last_clock = START_MS + config.customers * SLOT_MS + CLOCK_JITTER_MS
    return last_clock + (most_times + 1) * (MIN_GAP_MS + GAP_SPREAD_MS) + DAY_MS


def append_batch(root: Path, config: GeneratorConfig, batch: int) -> list[Path]:
    """Write batch number `batch` (1, 2, ...): new accelerometer and step-trainer readings of every
    customer who has readings, later than generate_landing's and earlier batches' readings."""
    _check(config)
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    rng = random.Random(f"{config.seed}:batch:{batch}")
    window = config.customers * BATCH_SLOT_MS + DAY_MS
    start = _end_of_landing(config) + (batch - 1) * window
    phone: list[str] = []
    device: list[str] = []
    for person in _people(config):
        clock = start + person.index * BATCH_SLOT_MS
        times = [clock + step * person.gap for step in range(BATCH_READING_TIMES)]
        if person.user is not None:
            phone += _phone_lines(person.user, times, rng, PHONE_TAILS)
        if person.serial is not None:
            device += _device_lines(person.serial, times, rng)
    written = []
    for zone, lines in (("accelerometer", phone), ("step_trainer", device)):
        path = _batch_path(root, zone, batch)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
        written.append(path)
    if is_marked(root):  # batches added to generated data are demo data too
        write_marker(root, written, keep_recorded=True)
    return written
