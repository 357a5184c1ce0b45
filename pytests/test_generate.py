"""The demo data generator: deterministic, idempotent, scalable, and every hard case of the
rules is really in the files (checked by reading them, not by trusting the generator)."""

from __future__ import annotations

import collections
import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from reference import email_key, expected_zones, subject_id

from stedi_lakehouse.cli import main as stedi
from stedi_lakehouse.generate import MANIFEST, GeneratorConfig, append_day, day_date, generate_landing
from stedi_lakehouse.paths import LANDING_ZONES

DECLARED = {
    "customer": {
        "customerName", "email", "phone", "birthDay", "serialNumber", "registrationDate", "lastUpdateDate",
        "shareWithResearchAsOfDate", "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate",
    },
    "accelerometer": {"user", "timestamp", "x", "y", "z"},
    "step_trainer": {"sensorReadingTime", "serialNumber", "distanceFromObject"},
}
SMALL = GeneratorConfig(customers=50)
CONSENT = "shareWithResearchAsOfDate"
Record = dict[str, Any]


def day_ms(day: int) -> int:
    """Epoch ms of midnight UTC starting the generator's day `day`."""
    return int(datetime.datetime.combine(day_date(day), datetime.time(), datetime.timezone.utc).timestamp() * 1000)


class Landing:
    """The generated files read back raw: lines per zone and per file, and the parsed records."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = {
            zone: {
                path.name: path.read_text(encoding="utf-8") for path in sorted((root / zone / "landing").glob("*.json"))
            }
            for zone in LANDING_ZONES
        }
        self.valid: dict[str, list[str]] = {zone: [] for zone in LANDING_ZONES}
        self.malformed: dict[str, list[str]] = {zone: [] for zone in LANDING_ZONES}
        self.records: dict[str, list[Record]] = {zone: [] for zone in LANDING_ZONES}
        for zone, files in self.files.items():
            for text in files.values():
                for line in text.splitlines():
                    try:
                        record = json.loads(line)
                    except ValueError:
                        self.malformed[zone].append(line)
                        continue
                    assert isinstance(record, dict), f"valid JSON but not an object: {line}"
                    self.valid[zone].append(line)
                    self.records[zone].append(record)

    def customers_by_key(self) -> dict[str, list[Record]]:
        """Each person's customer records, oldest first."""
        people: dict[str, list[Record]] = collections.defaultdict(list)
        for record in self.records["customer"]:
            if "email" in record:
                people[email_key(record["email"])].append(record)
        return {key: sorted(records, key=lambda r: r["lastUpdateDate"]) for key, records in people.items()}

    def current(self) -> dict[str, Record]:
        return {key: records[-1] for key, records in self.customers_by_key().items()}

    def reading_times(self) -> dict[str, set[int]]:
        times: dict[str, set[int]] = collections.defaultdict(set)
        for reading in self.records["accelerometer"]:
            if "user" in reading and "timestamp" in reading:
                times[email_key(reading["user"])].add(reading["timestamp"])
        return times

    def step_times(self) -> dict[str, set[int]]:
        times: dict[str, set[int]] = collections.defaultdict(set)
        for reading in self.records["step_trainer"]:
            if "serialNumber" in reading and "sensorReadingTime" in reading:
                times[reading["serialNumber"]].add(reading["sensorReadingTime"])
        return times

    def consenting(self) -> dict[str, int]:
        return {key: record[CONSENT] for key, record in self.current().items() if CONSENT in record}


def file_bytes(root: Path) -> dict[str, bytes]:
    """The landing files' contents by path."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.glob("*/landing/*.json"))}


def row_counts(zones: dict[str, collections.Counter[tuple[Any, ...]]]) -> dict[str, int]:
    return {table: sum(rows.values()) for table, rows in zones.items()}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("small-landing")
    generate_landing(root, SMALL)
    return Landing(root)


# Determinism, idempotence, scale


def test_two_runs_write_the_same_bytes(tmp_path: Path) -> None:
    first = generate_landing(tmp_path / "a", SMALL)
    second = generate_landing(tmp_path / "b", SMALL)
    assert first == second
    assert file_bytes(tmp_path / "a") == file_bytes(tmp_path / "b")
    generate_landing(tmp_path / "c", GeneratorConfig(customers=50, seed=7))
    assert file_bytes(tmp_path / "a") != file_bytes(tmp_path / "c")


def test_regenerating_in_place_replaces_the_generators_files(tmp_path: Path) -> None:
    generate_landing(tmp_path, SMALL)
    before = file_bytes(tmp_path)
    append_day(tmp_path)
    generate_landing(tmp_path, GeneratorConfig(customers=50, days=9))
    generate_landing(tmp_path, SMALL)
    assert file_bytes(tmp_path) == before


def test_refuses_a_folder_holding_someone_elses_landing_files(tmp_path: Path) -> None:
    generate_landing(tmp_path, SMALL)
    real = tmp_path / "accelerometer/landing/accelerometer-1691348231445.json"
    real.write_text("{}\n")
    before = file_bytes(tmp_path)
    with pytest.raises(ValueError, match="holds landing files the generator did not write"):
        generate_landing(tmp_path, SMALL)
    assert file_bytes(tmp_path) == before


def test_summary_counts_what_is_in_the_files(tmp_path: Path) -> None:
    summary = generate_landing(tmp_path, SMALL)
    landing = Landing(tmp_path)
    assert summary.lines == {zone: len(landing.valid[zone]) + len(landing.malformed[zone]) for zone in LANDING_ZONES}
    assert summary.malformed_lines == {zone: len(landing.malformed[zone]) for zone in LANDING_ZONES}
    assert summary.files == sum(len(files) for files in landing.files.values())
    assert summary.bytes == sum(len(data) for data in file_bytes(tmp_path).values())
    assert "malformed" in str(summary)


def test_lines_scale_with_customers(tmp_path: Path) -> None:
    thousand = generate_landing(tmp_path / "1000", GeneratorConfig(customers=1000))
    two_thousand = generate_landing(tmp_path / "2000", GeneratorConfig(customers=2000))
    for zone in LANDING_ZONES:
        assert 1.9 <= two_thousand.lines[zone] / thousand.lines[zone] <= 2.1, zone


@pytest.mark.parametrize("readings_per_customer", [30, 85])
def test_readings_per_customer_is_the_mean(tmp_path: Path, readings_per_customer: int) -> None:
    generate_landing(tmp_path, GeneratorConfig(customers=400, readings_per_customer=readings_per_customer))
    landing = Landing(tmp_path)
    delivered_once = "".join(set(landing.files["accelerometer"].values())).splitlines()
    valid = set(landing.valid["accelerometer"])
    users = [json.loads(line).get("user") for line in delivered_once if line in valid]
    per_user = collections.Counter(email_key(user) for user in users if user)
    mean = sum(per_user.values()) / len(per_user)
    assert 0.9 * readings_per_customer <= mean <= 1.1 * readings_per_customer


@pytest.mark.parametrize(
    "config",
    [GeneratorConfig(customers=0), GeneratorConfig(readings_per_customer=3), GeneratorConfig(days=0)],
)
def test_impossible_configs_are_refused(tmp_path: Path, config: GeneratorConfig) -> None:
    with pytest.raises(ValueError):
        generate_landing(tmp_path, config)


# The hard cases, each read back from the files of 50 customers


def test_1_customers_who_never_consented_have_readings(small: Landing) -> None:
    never = [key for key, records in small.customers_by_key().items() if not any(CONSENT in r for r in records)]
    readings, steps = small.reading_times(), small.step_times()
    assert [key for key in never if readings[key] and steps[small.current()[key]["serialNumber"]]]


def test_2_identical_customer_records_in_two_files(small: Landing) -> None:
    files_of: dict[str, set[str]] = collections.defaultdict(set)
    for name, text in small.files["customer"].items():
        for line in text.splitlines():
            files_of[line].add(name)
    assert [line for line, names in files_of.items() if len(names) >= 2 and line in small.valid["customer"]]


def test_3_revocations(small: Landing) -> None:
    assert [
        key for key, records in small.customers_by_key().items()
        if CONSENT not in records[-1] and any(CONSENT in r for r in records[:-1])
    ]


def test_4_late_consent(small: Landing) -> None:
    assert [
        key for key, records in small.customers_by_key().items()
        if CONSENT in records[-1] and any(CONSENT not in r for r in records[:-1])
    ]


def test_5_case_variant_emails_and_users(small: Landing) -> None:
    assert [
        key for key, records in small.customers_by_key().items()
        if len({r["email"] for r in records}) > 1 and records[-1]["email"] != records[-1]["email"].strip()
    ]
    current_emails = {r["email"] for r in small.current().values()}
    other_case = {r["user"] for r in small.records["accelerometer"] if "user" in r and r["user"] not in current_emails}
    assert other_case and all(email_key(user) in small.current() for user in other_case)
    assert any(user != user.strip() or user.lower() != user for user in other_case)


def test_6_two_current_records_share_a_serial_and_both_have_readings(small: Landing) -> None:
    holders: dict[str, list[str]] = collections.defaultdict(list)
    for key, record in small.current().items():
        if "serialNumber" in record:
            holders[record["serialNumber"]].append(key)
    readings = small.reading_times()
    assert [keys for keys in holders.values() if len(keys) >= 2 and all(readings[key] for key in keys)]


def test_7_readings_before_and_after_consent(small: Landing) -> None:
    readings = small.reading_times()
    consenting = {key: consent for key, consent in small.consenting().items() if readings[key]}
    both = [key for key, consent in consenting.items() if min(readings[key]) < consent <= max(readings[key])]
    only_before = [key for key, consent in consenting.items() if max(readings[key]) < consent]
    assert both and only_before


@pytest.mark.parametrize("zone", ["accelerometer", "step_trainer"])
def test_8_a_file_delivered_twice(small: Landing, zone: str) -> None:
    contents = collections.Counter(small.files[zone].values())
    assert [text for text, copies in contents.items() if copies >= 2 and text]


@pytest.mark.parametrize("zone", LANDING_ZONES)
def test_9_malformed_lines(small: Landing, zone: str) -> None:
    valid_lines = small.valid[zone]
    cut_off = [line for line in small.malformed[zone] if any(valid.startswith(line) for valid in valid_lines)]
    garbage = [line for line in small.malformed[zone] if line not in cut_off]
    assert cut_off and garbage
    assert all(line.strip() for line in small.malformed[zone])


@pytest.mark.parametrize("zone", LANDING_ZONES)
def test_10_unknown_extra_fields(small: Landing, zone: str) -> None:
    assert [record for record in small.records[zone] if set(record) - DECLARED[zone]]


@pytest.mark.parametrize(
    ("zone", "key"),
    [
        ("customer", "email"),
        ("accelerometer", "user"),
        ("accelerometer", "timestamp"),
        ("step_trainer", "serialNumber"),
        ("step_trainer", "sensorReadingTime"),
    ],
)
def test_11_records_missing_a_key_field(small: Landing, zone: str, key: str) -> None:
    assert [record for record in small.records[zone] if key not in record]


def test_12_consenting_customers_without_readings(small: Landing) -> None:
    readings = small.reading_times()
    assert [key for key in small.consenting() if not readings[key]]


def test_13_step_readings_of_an_unknown_serial(small: Landing) -> None:
    known = {r["serialNumber"] for r in small.records["customer"] if "serialNumber" in r}
    assert set(small.step_times()) - known


def test_14_readings_at_the_same_millisecond(small: Landing) -> None:
    keyed = [r for r in small.records["accelerometer"] if "user" in r and "timestamp" in r]
    per_user_and_time = collections.Counter((email_key(r["user"]), r["timestamp"]) for r in keyed)
    assert max(per_user_and_time.values()) >= 2
    people_at = collections.defaultdict(set)
    for person, time in per_user_and_time:
        people_at[time].add(person)
    consenting = small.consenting()
    shared = [people for people in people_at.values() if len(people & consenting.keys()) >= 2]
    assert shared


def test_14_a_timestamp_only_join_would_pair_different_people(small: Landing) -> None:
    zones = expected_zones(small.root, include_pre_consent_readings=True)
    accelerometer_times = collections.Counter(timestamp for _, timestamp, *_ in zones["accelerometer_trusted"])
    naive_rows = sum(accelerometer_times[time] for time, _, _ in zones["step_trainer_trusted"])
    assert naive_rows > sum(zones["machine_learning_curated"].values())


def test_15_conflicting_step_readings(small: Landing) -> None:
    distances = collections.defaultdict(set)
    for r in small.records["step_trainer"]:
        if "serialNumber" in r and "sensorReadingTime" in r:
            distances[(r["serialNumber"], r["sensorReadingTime"])].add(r["distanceFromObject"])
    assert [key for key, values in distances.items() if len(values) >= 2]


# What the generator never writes


def test_values_have_their_json_types(small: Landing) -> None:
    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    for record in small.records["customer"]:
        assert all(is_int(record[k]) for k in DECLARED["customer"] if k.endswith("Date") and k in record), record
        texts = [record[k] for k in ("customerName", "email", "phone", "birthDay", "serialNumber") if k in record]
        assert all(isinstance(text, str) and text.strip() for text in texts), record
    for record in small.records["accelerometer"]:
        assert is_int(record.get("timestamp", 0)) and all(isinstance(record[k], float) for k in "xyz"), record
        assert record.get("user", "x").strip(), record
    for record in small.records["step_trainer"]:
        assert is_int(record.get("sensorReadingTime", 0)) and is_int(record["distanceFromObject"]), record
        assert isinstance(record.get("serialNumber", "x"), str) and record.get("serialNumber", "x").strip(), record


def test_no_two_records_of_a_person_share_a_last_update(small: Landing) -> None:
    for key, records in small.customers_by_key().items():
        distinct = {json.dumps(r, sort_keys=True): r["lastUpdateDate"] for r in records}
        assert len(set(distinct.values())) == len(distinct), key


def test_most_step_readings_match_readings_of_their_owner(small: Landing) -> None:
    readings = small.reading_times()
    owner = {r["serialNumber"]: key for key, r in small.current().items() if "serialNumber" in r}
    steps = [
        (r["serialNumber"], r["sensorReadingTime"])
        for r in small.records["step_trainer"]
        if "serialNumber" in r and "sensorReadingTime" in r
    ]
    matched = sum(time in readings.get(owner.get(serial, ""), ()) for serial, time in steps)
    assert matched / len(steps) > 0.8


# The reference on generated data


def test_every_table_is_non_empty_and_consent_filters(small: Landing) -> None:
    strict = row_counts(expected_zones(small.root))
    admitted = row_counts(expected_zones(small.root, include_pre_consent_readings=True))
    assert all(strict.values()), strict
    for table in ("accelerometer_trusted", "customer_curated", "step_trainer_trusted", "machine_learning_curated"):
        assert strict[table] < admitted[table], table


def test_erasure_removes_a_person_from_every_table(small: Landing) -> None:
    zones = expected_zones(small.root, subject_salt="salt")
    subjects = {row[0] for row in zones["machine_learning_curated"]}
    curated_emails = sorted(row[1] for row in zones["customer_curated"])
    person = next(email for email in curated_emails if subject_id(email_key(email), "salt") in subjects)
    key = email_key(person)
    serial, subject = small.current()[key]["serialNumber"], subject_id(key, "salt")

    def rows_of_person(zones: dict[str, collections.Counter[tuple[Any, ...]]]) -> dict[str, int]:
        return {
            "customer_trusted": sum(email_key(row[1]) == key for row in zones["customer_trusted"]),
            "customer_curated": sum(email_key(row[1]) == key for row in zones["customer_curated"]),
            "accelerometer_trusted": sum(email_key(row[0]) == key for row in zones["accelerometer_trusted"]),
            "step_trainer_trusted": sum(row[1] == serial for row in zones["step_trainer_trusted"]),
            "machine_learning_curated": sum(row[0] == subject for row in zones["machine_learning_curated"]),
        }

    assert all(rows_of_person(zones).values())
    erased = expected_zones(small.root, erasure_emails=[f" {person.upper()} "], subject_salt="salt")
    assert not any(rows_of_person(erased).values())
    assert all(erased[table] for table in erased)


# The calendar


def reading_dates(text: str) -> collections.Counter[str]:
    """UTC dates of the readings of a file's lines."""
    dates: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        time = record.get("timestamp", record.get("sensorReadingTime"))
        if isinstance(time, int):
            dates[str(datetime.datetime.fromtimestamp(time / 1000, datetime.timezone.utc).date())] += 1
    return dates


def test_one_file_per_zone_and_day(small: Landing) -> None:
    """A zone's delivery of a day is one file named by its UTC date; a day with nothing to
    deliver has no file (an empty file would be a delivery that never reaches staging)."""
    dates = [str(day_date(day)) for day in range(SMALL.days)]
    assert dates[0] == "2022-06-12"
    for zone in LANDING_ZONES:
        daily = {f"{zone}-{date}.json" for date in dates}
        redelivered = {f"{zone}-{dates[0]}-redelivered.json"} if zone != "customer" else set()
        expected = daily | redelivered if zone != "customer" else daily
        assert set(small.files[zone]) <= expected and all(small.files[zone].values()), zone
        assert len(small.files[zone]) == len(expected) or zone == "customer", zone


def test_registrations_consents_revocations_and_readings_spread_over_the_days(small: Landing) -> None:
    customer_days = {name: text.splitlines() for name, text in small.files["customer"].items()}
    assert len(customer_days) >= SMALL.days // 2
    valid = set(small.valid["customer"])
    consents = {name for name, lines in customer_days.items() for line in lines if line in valid and CONSENT in json.loads(line)}
    assert len(consents) >= SMALL.days // 2
    revoked = [records for records in small.customers_by_key().values() if CONSENT in records[0] and CONSENT not in records[-1]]
    assert revoked
    for zone in ("accelerometer", "step_trainer"):
        for name, text in small.files[zone].items():
            file_date = name.removeprefix(f"{zone}-")[:10]
            assert max(reading_dates(text)) == file_date, name


def test_16_late_readings(small: Landing) -> None:
    """Some readings reach the landing zone two or three days after they were taken."""
    late = [
        (name, date) for name, text in small.files["accelerometer"].items() for date in reading_dates(text)
        if date < name.removeprefix("accelerometer-")[:10]
    ]
    assert late
    assert all(
        2 <= (datetime.date.fromisoformat(name.removeprefix("accelerometer-")[:10]) - datetime.date.fromisoformat(date)).days <= 3
        for name, date in late
    )


# Appended days

APPENDED = GeneratorConfig(customers=200, readings_per_customer=20, seed=5, days=5)


@dataclass
class Day:
    landing: Landing
    zones: dict[str, collections.Counter[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def calendar(tmp_path_factory: pytest.TempPathFactory) -> list[Day]:
    """The history, then a day with the consent changes, then a day without."""
    root = tmp_path_factory.mktemp("calendar")
    generate_landing(root, APPENDED)
    days = [Day(Landing(root), expected_zones(root))]
    for consent_changes in (True, False):
        append_day(root, consent_changes=consent_changes)
        days.append(Day(Landing(root), expected_zones(root)))
    return days


def people(zones: dict[str, collections.Counter[tuple[Any, ...]]], table: str, column: int = 0) -> set[str]:
    return {email_key(row[column]) for row in zones[table]}


def day_records(day: Day, number: int) -> list[Record]:
    text = day.landing.files["customer"][f"customer-{day_date(APPENDED.days + number)}.json"]
    return [json.loads(line) for line in text.splitlines()]


def test_appended_days_are_the_next_dates_and_deterministic(calendar: list[Day], tmp_path: Path) -> None:
    last = calendar[-1].landing
    for zone in LANDING_ZONES:
        for number in (0, 1):
            date = str(day_date(APPENDED.days + number))
            dates = reading_dates(last.files[zone][f"{zone}-{date}.json"])
            assert zone == "customer" or (max(dates) == date and min(dates) >= str(day_date(APPENDED.days + number - 3)))
    generate_landing(tmp_path, APPENDED)
    append_day(tmp_path, consent_changes=True)
    append_day(tmp_path, consent_changes=False)
    assert file_bytes(tmp_path) == file_bytes(last.root)
    assert json.loads((tmp_path / MANIFEST).read_text())["appended"] == [True, False]


def test_an_appended_day_brings_new_readings_and_registrants(calendar: list[Day]) -> None:
    for before, after, number in ((calendar[0], calendar[1], 0), (calendar[1], calendar[2], 1)):
        new = [record for record in day_records(after, number) if email_key(record["email"]) not in before.landing.customers_by_key()]
        assert len(new) == round(APPENDED.customers / 100)
        assert sum(after.zones["accelerometer_trusted"].values()) > sum(before.zones["accelerometer_trusted"].values())


def test_profile_updates_change_nothing_about_consent_or_serials(calendar: list[Day]) -> None:
    before, after = calendar[1], calendar[2]
    updates = [record for record in day_records(after, 1) if email_key(record["email"]) in before.landing.current()]
    assert updates
    for record in updates:
        earlier = before.landing.current()[email_key(record["email"])]
        assert (record.get(CONSENT), record.get("serialNumber")) == (earlier.get(CONSENT), earlier.get("serialNumber"))
        assert record != earlier
    assert people(after.zones, "customer_trusted", 1) >= people(before.zones, "customer_trusted", 1)


def test_the_consent_changes_of_an_appended_day(calendar: list[Day]) -> None:
    before, after = calendar[0], calendar[1]
    trusted_before, trusted_after = people(before.zones, "customer_trusted", 1), people(after.zones, "customer_trusted", 1)
    # two revocations of people whose readings were in every reading table
    revoked = trusted_before - trusted_after
    assert len(revoked) == 2
    subjects = {row[0] for row in before.zones["machine_learning_curated"]}
    assert all(subject_id(person, "local-demo-salt") in subjects for person in revoked)
    assert not revoked & people(after.zones, "accelerometer_trusted")
    # one late consent that admits readings taken before the day
    consented = trusted_after - trusted_before - {email_key(r["email"]) for r in day_records(after, 0) if r["registrationDate"] >= day_ms(APPENDED.days)}
    assert len(consented) == 1
    readings = [row for row in after.zones["accelerometer_trusted"] if email_key(row[0]) in consented]
    assert readings and min(row[1] for row in readings) < day_ms(APPENDED.days)
    # one serial number that becomes shared: its owner's device readings leave
    holders: dict[str, set[str]] = collections.defaultdict(set)
    for person, record in after.landing.current().items():
        if "serialNumber" in record:
            holders[record["serialNumber"]].add(person)
    serials_before = {row[1] for row in before.zones["step_trainer_trusted"]}
    newly_shared = {serial for serial, owners in holders.items() if len(owners) > 1 and serial in serials_before}
    assert len(newly_shared) == 1
    assert not newly_shared & {row[1] for row in after.zones["step_trainer_trusted"]}


def test_a_day_without_consent_changes(calendar: list[Day]) -> None:
    before, after = calendar[1], calendar[2]
    assert people(before.zones, "customer_trusted", 1) <= people(after.zones, "customer_trusted", 1)
    assert people(before.zones, "customer_curated", 1) <= people(after.zones, "customer_curated", 1)


def test_appending_needs_a_generated_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=MANIFEST):
        append_day(tmp_path)


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert stedi(["generate", str(tmp_path), "--customers", "40", "--days", "2"]) == 0
    assert stedi(["generate", str(tmp_path), "--append-day", "--no-consent-changes"]) == 0
    assert "2022-06-14, 3 files" in capsys.readouterr().out
    assert stedi(["generate", str(tmp_path), "--append-day", "--days", "3"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"stedi generate: --append-day continues with the settings in {tmp_path / MANIFEST}; leave out --days"
    ]
