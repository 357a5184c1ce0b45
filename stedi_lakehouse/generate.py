"""Deterministic, scalable STEDI-shaped landing data on a calendar, holding every hard case of the rules.

`generate_landing` writes `days` days of history, one delivery file per zone per UTC day
(`<zone>/landing/<zone>-YYYY-MM-DD.json`). Customer i plays persona i % 20 (see the persona
constants), so every hard case recurs in each block of 20 customers; malformed lines recur every
100 customers, starting with the first block. The first block registers on the first day, the
others on days spread over the rest of the history. A customer uses the phone and the step trainer
in sessions: on the day of registration and on each later day with SESSION_CHANCE; a few sessions
are delivered two or three days late. A customer record is delivered on the day it was made. The
first day's reading files are delivered twice.

`append_day` adds the next day to such a folder: new readings (and late ones), about 1% new
registrants, about 1% profile updates that change nothing about consent or serial numbers, and,
unless told otherwise, two revocations, one late consent that admits earlier readings and one serial
number that becomes shared. The settings and the days written are kept in MANIFEST at the folder's
root, so each appended day is a pure function of the seed and the days before it.
"""

from __future__ import annotations

import datetime
import json
import math
import random
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from stedi_lakehouse.demo_marker import is_marked, write_marker
from stedi_lakehouse.paths import LANDING_ZONES

MANIFEST = "stedi-generator.json"
FIRST_DAY = datetime.date(2022, 6, 12)  # mid-June 2022, like the real data
EPOCH = datetime.date(1970, 1, 1)
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
EARLIEST_SESSION_MS, SESSION_WINDOW_MS = 2 * HOUR_MS, 20 * HOUR_MS  # sessions start between 02:00 and 22:00 UTC
MIN_GAP_MS, GAP_SPREAD_MS = 2_000, 2_000  # a person's reading times are 2-4 s apart, as in the real data
SESSION_CHANCE = 0.3  # a registered customer trains on a later day with this chance
LATE_CHANCE = 0.03  # a later session reaches the landing zone two or three days late
GROUP_SIZES = (3, 3, 3, 3, 3, 3, 3, 2, 2, 1)  # readings sharing one millisecond
MEAN_GROUP = sum(GROUP_SIZES) / len(GROUP_SIZES)
MIN_READINGS_PER_CUSTOMER = 10
MIN_READING_TIMES = 4
UNMATCHED_EVERY = 10  # every 10th reading time of a phone has no device reading
BLOCK = 20
MALFORMED_EVERY_BLOCKS = 5
FLUSH_LINES = 50_000
MAX_DAYS = 3_650
NEW_REGISTRANTS_SHARE = 0.01
PROFILE_UPDATE_CHANCE = 0.01
REVOCATIONS_PER_DAY = 2

# Personas: the hard case customer i plays is i % BLOCK.
PAIR_FIRST = 0  # reads at the same milliseconds as the next customer
PAIR_SECOND = 1
CONSENT_AT_READING = 2  # consent equals a reading time; one conflicting step-trainer reading
EXTRA_FIELDS = 3  # accelerometer readings with an unknown field
UNMATCHED_STEP = 4  # a device reading at a millisecond without phone readings; unknown fields
PLAIN = 5  # its first session after the registration day is delivered two days late
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
PLAIN_LAST = 19  # and a profile update later in the history

# Who the events of an appended day pick: curated customers whose consent predates every reading
# lose their consent or their device; someone who never consented consents late; someone who
# shares only with the public takes over a device.
LOSES_CONSENT_OR_DEVICE = (UNMATCHED_STEP, DUPLICATED, PLAIN_LAST)
CONSENTS_LATE = (NEVER_CONSENTED,)
TAKES_OVER_A_DEVICE = (PUBLIC_ONLY,)

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

Record = dict[str, object]


@dataclass(frozen=True)
class GeneratorConfig:
    """readings_per_customer is the mean number of accelerometer readings a customer with a phone
    makes over the history; days is the length of the history."""

    customers: int = 1000
    readings_per_customer: int = 85
    seed: int = 42
    days: int = 7


@dataclass
class GenerationSummary:
    """Lines per zone (malformed ones and re-delivered copies included) and files written."""

    days: range
    lines: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LANDING_ZONES, 0))
    malformed_lines: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LANDING_ZONES, 0))
    files: int = 0
    bytes: int = 0

    def __str__(self) -> str:
        zones = ", ".join(
            f"{zone} {self.lines[zone]:,} lines ({self.malformed_lines[zone]} malformed)" for zone in LANDING_ZONES
        )
        first, last = day_date(self.days[0]), day_date(self.days[-1])
        dates = f"{first}" if first == last else f"{first} to {last}"
        return f"{dates}, {self.files} files, {self.bytes:,} bytes: {zones}"


@dataclass(frozen=True)
class _Session:
    day: int  # the day of its readings
    delivered: int  # the day its lines reach the landing zone
    times: tuple[int, ...]


@dataclass
class _Person:
    index: int
    persona: int | None  # None: registered on an appended day
    registered_day: int
    records: list[tuple[int, Record]]  # (day delivered, customer record), oldest first; the last is current
    user: str | None  # accelerometer user; None: no phone readings
    serial: str | None  # serial number of the device readings; None: no device readings
    shape: _Shape

    @property
    def current(self) -> Record:
        return self.records[-1][1]


@dataclass
class _Shape:
    """When and how much a person trains: a pure function of the seed and the session slot, so
    that the two customers of a pair read at the same milliseconds."""

    registered_day: int
    offset: int  # time of day of every session
    gap: int
    reading_times: int  # over the history
    draws: random.Random  # continues with three draws per later day, whichever day is asked first
    first_later_session_late: bool = False
    days: list[tuple[bool, int]] = field(default_factory=list)  # per later day: (trains, days late)

    def plan(self, until: int) -> None:
        while self.registered_day + 1 + len(self.days) < until:
            trains, late, lag = self.draws.random(), self.draws.random(), self.draws.random()
            self.days.append((trains < SESSION_CHANCE, (2 if lag < 0.5 else 3) if late < LATE_CHANCE else 0))

    def sessions(self, history_days: int, until: int) -> list[_Session]:
        """The sessions of the days before `until`: history sessions share the history's reading
        times, each later one has as many as a history session at most."""
        self.plan(until)
        later = [(self.registered_day + 1 + number, lag) for number, (trains, lag) in enumerate(self.days) if trains]
        if self.first_later_session_late and later:
            later[0] = (later[0][0], max(2, later[0][1]))
        days = [(day, lag) for day, lag in [(self.registered_day, 0), *later] if day < until]
        in_history = sum(day < history_days for day, _ in days)
        per_later_session = math.ceil(self.reading_times / max(1, in_history))
        sessions = []
        for number, (day, lag) in enumerate(days):
            if number < in_history:
                count = self.reading_times // in_history + (number < self.reading_times % in_history)
            else:
                count = per_later_session
            start = _day_ms(day) + self.offset
            times = tuple(start + step * self.gap for step in range(count))
            if times:
                sessions.append(_Session(day, day + lag, times))
        return sessions


def _day_ms(day: int) -> int:
    """Epoch milliseconds of midnight UTC starting the history's day `day`."""
    return (FIRST_DAY - EPOCH).days * DAY_MS + day * DAY_MS


def day_date(day: int) -> datetime.date:
    return FIRST_DAY + datetime.timedelta(days=day)


def _check(config: GeneratorConfig) -> None:
    if config.customers < 1:
        raise ValueError(f"customers must be at least 1, not {config.customers}")
    if config.readings_per_customer < MIN_READINGS_PER_CUSTOMER:
        raise ValueError(
            f"readings_per_customer must be at least {MIN_READINGS_PER_CUSTOMER}, not {config.readings_per_customer}"
        )
    if not 1 <= config.days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, not {config.days}")


def _uuid(rng: random.Random) -> str:
    digits = f"{rng.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


def _registration_day(slot: int, config: GeneratorConfig) -> int:
    """The first block registers on the first day, the other blocks spread over the later days."""
    block, blocks = slot // BLOCK, math.ceil(config.customers / BLOCK)
    if block == 0 or config.days == 1:
        return 0
    return 1 + (block - 1) * (config.days - 1) // max(1, blocks - 1)


def _shape(slot: int, config: GeneratorConfig, registered_day: int | None = None) -> _Shape:
    draws = random.Random(f"{config.seed}:slot:{slot}")
    spread = config.readings_per_customer // 10
    jitter = draws.randint(-spread, spread)
    reading_times = max(MIN_READING_TIMES, round((config.readings_per_customer + jitter) / MEAN_GROUP))
    offset = EARLIEST_SESSION_MS + draws.randrange(SESSION_WINDOW_MS)
    gap = MIN_GAP_MS + draws.randrange(GAP_SPREAD_MS)
    day = _registration_day(slot, config) if registered_day is None else registered_day
    return _Shape(day, offset, gap, reading_times, draws)


def _consent(mode: str | None, rng: random.Random, registered_at: int, times: list[int], gap: int, end: int) -> int | None:
    """The research consent time of a mode, relative to the history's reading times."""
    if mode is None:
        return None
    if mode == BEFORE:
        return registered_at + 1 + rng.randrange(times[0] - registered_at - 1)
    if mode == AFTER:
        return times[-1] + 1 + rng.randrange(end - times[-1])
    step = 1 + rng.randrange(max(1, len(times) // 3))
    return times[step] - (0 if mode == AT_READING else 1 + rng.randrange(gap - 1))


def _customer(**values: object) -> Record:
    """A customer record in the real field order; a None value leaves its key out."""
    return {key: values[key] for key in CUSTOMER_FIELDS if values.get(key) is not None}


def _name(person_index: int) -> tuple[str, str]:
    return FIRST_NAMES[person_index % len(FIRST_NAMES)], LAST_NAMES[person_index // len(FIRST_NAMES) % len(LAST_NAMES)]


def _email(person_index: int) -> str:
    first, last = _name(person_index)
    return f"{first}.{last}{person_index}@test.com"


def _day_of(epoch_ms: int) -> int:
    return (epoch_ms - _day_ms(0)) // DAY_MS


def _identity(index: int, rng: random.Random, serial: str | None, registered_at: int, persona: int | None) -> Record:
    first, last = _name(index)
    shares_publicly = persona == PUBLIC_ONLY or (persona != NEVER_CONSENTED and rng.random() < 0.5)
    shares_with_friends = persona == PUBLIC_ONLY or (persona != NEVER_CONSENTED and rng.random() < 0.5)
    return {
        "customerName": f"{first} {last}",
        "email": _email(index),
        "phone": f"801555{rng.randrange(10_000):04d}",
        "birthDay": f"{rng.randrange(1930, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "serialNumber": serial,
        "registrationDate": registered_at,
        "shareWithPublicAsOfDate": registered_at if shares_publicly else None,
        "shareWithFriendsAsOfDate": registered_at if shares_with_friends else None,
        "appVersion": "2.3.1" if index % 7 == 3 else None,
    }


def _history_records(
    index: int, rng: random.Random, serial: str | None, shape: _Shape, history_days: int
) -> list[tuple[int, Record]]:
    """The person's customer records of the history with the day each is delivered, oldest first."""
    persona = index % BLOCK
    times = [time for session in shape.sessions(history_days, history_days) for time in session.times]
    end = _day_ms(history_days) - 1
    registered_at = _day_ms(shape.registered_day) + rng.randrange(shape.offset - HOUR_MS)
    consent = _consent(CONSENT_MODE.get(persona), rng, registered_at, times, shape.gap, end)
    identity = _identity(index, rng, serial, registered_at, persona)
    last_update = registered_at if consent is None else consent
    current = _customer(**identity, lastUpdateDate=last_update, shareWithResearchAsOfDate=consent)
    not_consenting = _customer(**identity, lastUpdateDate=registered_at)
    current_day, registered_day = _day_of(last_update), shape.registered_day
    if persona == REVOKED:
        revoked_at = times[-1] + 1 + rng.randrange(end - times[-1])
        return [(current_day, current), (_day_of(revoked_at), _customer(**identity, lastUpdateDate=revoked_at))]
    if persona == LATE_CONSENT:
        return [(registered_day, not_consenting), (current_day, current)]
    if persona == CASE_VARIANT:
        local, domain = str(identity["email"]).split("@")
        return [(registered_day, not_consenting), (current_day, dict(current, email=f" {local.lower()}@{domain.capitalize()} "))]
    if persona == DUPLICATED:
        return [(current_day, current), (min(current_day + 1, history_days - 1), dict(current))]
    if persona == NOISE:
        # a copy without its email, which identifies nobody: the person's current record stays last
        return [(current_day, {key: value for key, value in current.items() if key != "email"}), (current_day, current)]
    if persona == PLAIN_LAST:
        updated_at = max(times[-1], last_update) + 1 + rng.randrange(end - max(times[-1], last_update))
        update = dict(current, phone=f"801556{rng.randrange(10_000):04d}", lastUpdateDate=updated_at)
        return [(current_day, current), (_day_of(updated_at), update)]
    return [(current_day, current)]


def _people(config: GeneratorConfig) -> Iterator[_Person]:
    """The customers of the history, their records and training shapes; cheap (no readings), so
    append_day replays it."""
    rng = random.Random(config.seed)
    serial = ""
    for index in range(config.customers):
        persona = index % BLOCK
        shape = _shape(index - 1 if persona == PAIR_SECOND else index, config)
        shape.first_later_session_late = persona == PLAIN
        serial = serial if persona == SHARED_SERIAL_SECOND else _uuid(rng)
        own_serial = None if persona == NO_SERIAL else serial
        email = _email(index)
        user = {NO_READINGS: None, CASE_VARIANT: email.upper(), LOWER_CASE_USER: email.lower()}.get(persona, email)
        records = _history_records(index, rng, own_serial, shape, config.days)
        yield _Person(index, persona, shape.registered_day, records, user, own_serial, shape)


def _phone_lines(user: str, times: tuple[int, ...], rng: random.Random, tails: tuple[str, ...]) -> list[str]:
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


def _cut_off(line: str, rng: random.Random) -> str:
    """A valid line cut mid-way: no prefix of a JSON object is valid JSON."""
    return line[: len(line) // 3 + rng.randrange(len(line) // 3)]


def day_file(root: Path, zone: str, day: int, suffix: str = "") -> Path:
    return root / zone / "landing" / f"{zone}-{day_date(day).isoformat()}{suffix}.json"


class _LandingWriter:
    """One file per zone and delivery day, written in big chunks; counts what it writes."""

    def __init__(self, root: Path, days: range) -> None:
        self.root, self.days = root, days
        self.handles: dict[tuple[str, int], TextIO] = {}
        self.buffers: dict[tuple[str, int], list[str]] = {}
        self.lines: dict[tuple[str, int], list[int]] = {}  # (lines, malformed lines) per file

    def add(self, zone: str, day: int, lines: list[str], malformed: bool = False) -> None:
        if day not in self.days or not lines:
            return  # delivered on a day not written now
        key = (zone, day)
        if key not in self.handles:
            self.handles[key] = day_file(self.root, zone, day).open("w", encoding="utf-8", newline="\n")
            self.buffers[key], self.lines[key] = [], [0, 0]
        buffer = self.buffers[key]
        buffer.extend(lines)
        self.lines[key][0] += len(lines)
        self.lines[key][1] += len(lines) if malformed else 0
        if len(buffer) >= FLUSH_LINES:
            self._flush(key)

    def _flush(self, key: tuple[str, int]) -> None:
        if self.buffers[key]:
            self.handles[key].write("\n".join(self.buffers[key]) + "\n")
            self.buffers[key].clear()

    def close(self) -> None:
        for key, handle in self.handles.items():
            self._flush(key)
            handle.close()

    def written(self) -> list[Path]:
        return [day_file(self.root, *key) for key in self.lines]

    def summary(self, copies: dict[tuple[str, int], Path] | None = None) -> GenerationSummary:
        """What was written, counting each copy of a file like the file."""
        summary = GenerationSummary(self.days)
        files = [(key, day_file(self.root, *key)) for key in self.lines]
        files += [(key, path) for key, path in (copies or {}).items()]
        for key, path in files:
            zone, lines, malformed = key[0], *self.lines[key]
            summary.lines[zone] += lines
            summary.malformed_lines[zone] += malformed
            summary.files += 1
            summary.bytes += path.stat().st_size
        return summary


def _write_sessions(writer: _LandingWriter, person: _Person, sessions: list[_Session], rng: random.Random) -> dict[str, tuple[int, str]]:
    """Write the person's reading lines of these sessions, each to the file of the day it is
    delivered; returns the first line written per zone with its day."""
    first_lines: dict[str, tuple[int, str]] = {}
    tails = EXTRA_PHONE_TAILS if person.persona == EXTRA_FIELDS else PHONE_TAILS
    device_tail = EXTRA_DEVICE_TAIL if person.persona == UNMATCHED_STEP else DEVICE_TAIL
    for session in sessions:
        if person.user is not None:
            lines = _phone_lines(person.user, session.times, rng, tails)
            writer.add("accelerometer", session.delivered, lines)
            first_lines.setdefault("accelerometer", (session.delivered, lines[0]))
        if person.serial is not None:
            last = session.times[-1]
            device_times = [
                time for step, time in enumerate(session.times) if step % UNMATCHED_EVERY != UNMATCHED_EVERY - 1 or time == last
            ]
            lines = _device_lines(person.serial, device_times, rng, device_tail)
            writer.add("step_trainer", session.delivered, lines)
            first_lines.setdefault("step_trainer", (session.delivered, lines[0]))
    return first_lines


def _write_history_person(writer: _LandingWriter, person: _Person, history_days: int, rng: random.Random) -> None:
    first_lines: dict[str, tuple[int, str]] = {}
    for day, record in person.records:
        line = json.dumps(record)
        writer.add("customer", day, [line])
        first_lines.setdefault("customer", (day, line))
    sessions = person.shape.sessions(history_days, history_days)
    first_lines |= _write_sessions(writer, person, sessions, rng)
    delivered = [session for session in sessions if session.delivered < history_days]
    if person.serial is not None and delivered:
        last_session = delivered[-1]
        last = last_session.times[-1]
        if person.persona == CONSENT_AT_READING:
            # distances 100-199 never equal the 201-300 of the first reading
            writer.add("step_trainer", last_session.delivered, [_device_line(person.serial, last, 100 + rng.randrange(100))])
        if person.persona == UNMATCHED_STEP:
            unmatched = _device_line(person.serial, last + person.shape.gap // 2, 201 + rng.randrange(100), EXTRA_DEVICE_TAIL)
            writer.add("step_trainer", last_session.delivered, [unmatched])
    if person.persona == NOISE:
        _write_noise(writer, person, sessions[0], rng, first_lines)


def _write_noise(
    writer: _LandingWriter, person: _Person, session: _Session, rng: random.Random, first_lines: dict[str, tuple[int, str]]
) -> None:
    """Lines without their key fields, readings of an unknown device and, every few blocks, malformed
    lines: a cut-off copy of a line written before and a garbage line in every zone."""
    assert person.user is not None and person.serial is not None
    times, day = session.times, session.delivered
    writer.add("accelerometer", day, [
        f'{{"timestamp":{times[0]},"x":0.0,"y":0.0,"z":-1.0}}',
        f'{{"user":{json.dumps(person.user)},"x":1.0,"y":0.0,"z":0.0}}',
    ])
    unknown_serial = _uuid(rng)
    writer.add("step_trainer", day, [
        f'{{"sensorReadingTime":{times[0]},"distanceFromObject":250}}',
        f'{{"serialNumber":{json.dumps(person.serial)},"distanceFromObject":250}}',
        *(_device_line(unknown_serial, t, 201 + rng.randrange(100)) for t in times[:3]),
    ])
    block = person.index // BLOCK
    if block % MALFORMED_EVERY_BLOCKS:
        return
    garbage = GARBAGE[block // MALFORMED_EVERY_BLOCKS % len(GARBAGE)]
    for zone in LANDING_ZONES:
        line_day, line = first_lines[zone]
        writer.add(zone, line_day, [_cut_off(line, rng), garbage], malformed=True)


# Which files are the generator's: its day files and re-deliveries, and the names earlier
# versions of it wrote (numbered and batch files), so that regenerating replaces those too.
_GENERATED = re.compile(r"(?P<zone>[a-z_]+)-(?:\d{4}-\d{2}-\d{2}(?:-redelivered)?|17\d{11}|batch-\d{4,})\.json")


def _is_generated(zone: str, name: str) -> bool:
    match = _GENERATED.fullmatch(name)
    return match is not None and match["zone"] == zone


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


@dataclass
class _Manifest:
    config: GeneratorConfig
    appended: list[bool]  # per appended day: whether it brought the consent changes

    def write(self, root: Path) -> None:
        (root / MANIFEST).write_text(json.dumps({**asdict(self.config), "appended": self.appended}, indent=2) + "\n")

    @classmethod
    def read(cls, root: Path) -> _Manifest:
        path = root / MANIFEST
        if not path.is_file():
            raise ValueError(f"{path}: no such file; generate the folder first (stedi generate {root} --days D)")
        values = json.loads(path.read_text())
        appended = values.pop("appended")
        return cls(GeneratorConfig(**values), appended)


def generate_landing(root: Path, config: GeneratorConfig) -> GenerationSummary:
    """Write the history's day files under <root>/<zone>/landing/ and the demo-data marker
    (demo_marker); the generator's own earlier files are replaced, others kept."""
    _check(config)
    _prepare(root)
    rng = random.Random(f"{config.seed}:readings")
    writer = _LandingWriter(root, range(config.days))
    try:
        for person in _people(config):
            _write_history_person(writer, person, config.days, rng)
    finally:
        writer.close()
    copies = {}
    for zone in ("accelerometer", "step_trainer"):
        # the first day's file delivered twice, under a second name
        copies[(zone, 0)] = shutil.copyfile(day_file(root, zone, 0), day_file(root, zone, 0, "-redelivered"))
    _Manifest(config, []).write(root)
    write_marker(root, writer.written() + list(copies.values()))
    return writer.summary(copies)


@dataclass
class _Calendar:
    """Everyone's customer records as they stand after the history and the appended days so far."""

    config: GeneratorConfig
    people: list[_Person]
    appended: list[bool] = field(default_factory=list)  # per appended day: whether it brought consent changes
    picked: set[int] = field(default_factory=set)  # people an appended day's consent change picked

    @property
    def next_day(self) -> int:
        return self.config.days + len(self.appended)

    def day(self, consent_changes: bool) -> list[Record]:
        """Apply the next day's events; returns the customer records delivered that day."""
        day = self.next_day
        rng = random.Random(f"{self.config.seed}:day:{day}")
        clock = iter(range(_day_ms(day) + HOUR_MS, _day_ms(day) + EARLIEST_SESSION_MS))  # before any session
        delivered: list[Record] = []

        def update(person: _Person, **changes: object) -> None:
            record = {key: value for key, value in {**person.current, **changes}.items() if value is not None}
            record["lastUpdateDate"] = next(clock)
            person.records.append((day, _customer(**record)))
            delivered.append(person.records[-1][1])

        if consent_changes:
            self._consent_changes(day, rng, update)
        for person in self.people:
            if person.index not in self.picked and rng.random() < PROFILE_UPDATE_CHANCE:
                update(person, phone=f"801557{rng.randrange(10_000):04d}")
        for _ in range(max(1, round(self.config.customers * NEW_REGISTRANTS_SHARE))):
            person = self._register(day, rng, next(clock))
            self.people.append(person)
            delivered.append(person.current)
        self.appended.append(consent_changes)
        return delivered

    def _candidates(self, personas: tuple[int, ...], day: int, rng: random.Random, count: int) -> list[_Person]:
        """`count` people playing these personas, with readings before `day`, not picked before."""
        pool = [
            person for person in self.people
            if person.persona in personas and person.index not in self.picked and person.registered_day < day - 1
            and len(person.shape.sessions(self.config.days, day)) >= 2
        ]
        chosen = rng.sample(pool, min(count, len(pool)))
        self.picked.update(person.index for person in chosen)
        return chosen

    def _consent_changes(self, day: int, rng: random.Random, update: Callable[..., None]) -> None:
        for person in self._candidates(LOSES_CONSENT_OR_DEVICE, day, rng, REVOCATIONS_PER_DAY):
            update(person, shareWithResearchAsOfDate=None)
        for person in self._candidates(CONSENTS_LATE, day, rng, 1):
            # consent dated to the start of their second session's day: it admits the earlier
            # readings of that session on, delivered days ago
            second = person.shape.sessions(self.config.days, day)[1]
            update(person, shareWithResearchAsOfDate=_day_ms(second.day))
        losing = self._candidates(LOSES_CONSENT_OR_DEVICE, day, rng, 1)
        taking = self._candidates(TAKES_OVER_A_DEVICE, day, rng, 1)
        for owner, newcomer in zip(losing, taking):
            update(newcomer, serialNumber=owner.current.get("serialNumber"))

    def _register(self, day: int, rng: random.Random, registered_at: int) -> _Person:
        index = len(self.people)
        shape = _shape(index, self.config, registered_day=day)
        serial = _uuid(rng)
        identity = _identity(index, rng, serial, registered_at, None)
        consent = registered_at + 1 if rng.random() < 0.5 else None
        record = _customer(**identity, lastUpdateDate=consent or registered_at, shareWithResearchAsOfDate=consent)
        return _Person(index, None, day, [(day, record)], _email(index), serial, shape)


def _calendar(root: Path) -> _Calendar:
    """The folder's calendar, its appended days replayed."""
    manifest = _Manifest.read(root)
    calendar = _Calendar(manifest.config, list(_people(manifest.config)))
    for consent_changes in manifest.appended:
        calendar.day(consent_changes)
    return calendar


def append_day(root: Path, consent_changes: bool = True) -> GenerationSummary:
    """Write the next day's files into a folder generate_landing wrote (and earlier append_day
    calls extended)."""
    calendar = _calendar(root)
    day = calendar.next_day
    if day >= MAX_DAYS:
        raise ValueError(f"{root}: already {day} days; the generator writes at most {MAX_DAYS}")
    records = calendar.day(consent_changes)
    rng = random.Random(f"{calendar.config.seed}:readings:{day}")
    writer = _LandingWriter(root, range(day, day + 1))
    try:
        writer.add("customer", day, [json.dumps(record) for record in records])
        for person in calendar.people:
            sessions = [session for session in person.shape.sessions(calendar.config.days, day + 1) if session.delivered == day]
            _write_sessions(writer, person, sessions, rng)
    finally:
        writer.close()
    _Manifest(calendar.config, calendar.appended).write(root)
    if is_marked(root):  # days added to generated data are demo data too
        write_marker(root, writer.written(), keep_recorded=True)
    return writer.summary()
