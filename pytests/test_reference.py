"""The oracle itself: the contract's figures on the real starter data, and each rule on
small hand-written landing zones."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from reference import COLUMNS, expected_zones, malformed_line_counts

from lakehouse import STARTER_DATA


TABLES = (
    "customer_trusted", "accelerometer_trusted", "customer_curated", "step_trainer_trusted", "machine_learning_curated",
)
STRICT_COUNTS = (482, 32025, 464, 11297, 32025)
PRE_CONSENT_COUNTS = (482, 40981, 482, 14460, 40981)
SERIAL = "serial-ann"
CONSENT = 1_000


def row_counts(zones: dict[str, Any]) -> tuple[int, ...]:
    return tuple(sum(zones[table].values()) for table in TABLES)


def write_landing(root: Path, **zones: Iterable[dict[str, Any] | str]) -> Path:
    """A landing zone from records (written as JSON) and raw lines, one file per zone."""
    for zone in ("customer", "accelerometer", "step_trainer"):
        folder = root / zone / "landing"
        folder.mkdir(parents=True)
        lines = [line if isinstance(line, str) else json.dumps(line) for line in zones.get(zone, ())]
        (folder / f"{zone}-1.json").write_text("".join(line + "\n" for line in lines))
    return root


def customer(email: str = "Ann@Test.com", **fields: Any) -> dict[str, Any]:
    record = {
        "customerName": "Ann Lee", "email": email, "phone": "8015551212", "birthDay": "1990-01-01",
        "serialNumber": SERIAL, "registrationDate": 500, "lastUpdateDate": 500, "shareWithResearchAsOfDate": CONSENT,
    }
    record.update(fields)
    return {key: value for key, value in record.items() if value is not None}


def reading(user: str = "Ann@Test.com", timestamp: int = 2_000, x: float = 1.0) -> dict[str, Any]:
    return {"user": user, "timestamp": timestamp, "x": x, "y": 0.0, "z": -1.0}


def step(time: int = 2_000, distance: int = 250, serial: str = SERIAL) -> dict[str, Any]:
    return {"sensorReadingTime": time, "serialNumber": serial, "distanceFromObject": distance}


def trusted_emails(zones: dict[str, Any]) -> list[str]:
    return sorted(row[1] for row in zones["customer_trusted"])


# The real starter data


@pytest.fixture(scope="module")
def starter() -> Path:
    if not (STARTER_DATA / "customer" / "landing").is_dir():
        pytest.skip(f"the public STEDI starter data is not at {STARTER_DATA}")
    return STARTER_DATA


def test_starter_counts_with_strict_consent(starter: Path) -> None:
    assert row_counts(expected_zones(starter)) == STRICT_COUNTS


def test_starter_counts_with_pre_consent_readings(starter: Path) -> None:
    assert row_counts(expected_zones(starter, include_pre_consent_readings=True)) == PRE_CONSENT_COUNTS


def test_starter_has_no_malformed_lines(starter: Path) -> None:
    assert malformed_line_counts(starter) == {"customer": 0, "accelerometer": 0, "step_trainer": 0}


def test_rows_have_the_columns_of_their_table(starter: Path) -> None:
    for table, rows in expected_zones(starter).items():
        assert all(len(row) == len(COLUMNS[table]) for row in rows), table
    assert set(COLUMNS) == set(TABLES)


# R0 landing hygiene


def test_malformed_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    good = json.dumps(reading())
    landing = write_landing(
        tmp_path,
        customer=[customer(), "", "   ", '{"email": "cut@off'],
        accelerometer=[good, good[:20], "<html>503</html>", "[1, 2]", '"a string"', "null", "42"],
        step_trainer=[step(), "not json at all"],
    )
    assert malformed_line_counts(landing) == {"customer": 1, "accelerometer": 6, "step_trainer": 1}
    zones = expected_zones(landing)
    assert row_counts(zones) == (1, 1, 1, 1, 1)


def test_records_without_key_fields_are_dropped_and_extra_fields_ignored(tmp_path: Path) -> None:
    no_email = customer(email=None, serialNumber="serial-ben")
    landing = write_landing(
        tmp_path,
        customer=[dict(customer(), appVersion="2.3.1"), no_email],
        accelerometer=[
            dict(reading(), appVersion="2.3.1"),
            {"timestamp": 2_000, "x": 0.0, "y": 0.0, "z": 0.0},
            {"user": "Ann@Test.com", "x": 0.0, "y": 0.0, "z": 0.0},
        ],
        step_trainer=[
            step(),
            {"sensorReadingTime": 2_000, "distanceFromObject": 1},
            {"serialNumber": SERIAL, "distanceFromObject": 1},
        ],
    )
    zones = expected_zones(landing)
    assert row_counts(zones) == (1, 1, 1, 1, 1)
    assert zones["accelerometer_trusted"] == {("Ann@Test.com", 2_000, 1.0, 0.0, -1.0): 1}


def test_identical_records_count_once(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path, customer=[customer(), customer()], accelerometer=[reading(), reading()], step_trainer=[step(), step()]
    )
    assert row_counts(expected_zones(landing)) == (1, 1, 1, 1, 1)


def test_missing_optional_fields_are_none(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path, customer=[customer(phone=None)], accelerometer=[{"user": "Ann@Test.com", "timestamp": 2_000}]
    )
    zones = expected_zones(landing)
    (row,) = zones["customer_trusted"]
    assert row[COLUMNS["customer_trusted"].index("phone")] is None
    assert row[COLUMNS["customer_trusted"].index("sharewithpublicasofdate")] is None
    assert list(zones["accelerometer_trusted"]) == [("Ann@Test.com", 2_000, None, None, None)]


# R1 current record and consent


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        (customer(lastUpdateDate=None, phone="old"), customer(lastUpdateDate=1, phone="new")),
        (customer(lastUpdateDate=500, phone="old"), customer(lastUpdateDate=600, phone="new")),
        # equal lastUpdateDate: a record without consent (a revocation) wins
        (customer(shareWithResearchAsOfDate=900, phone="old"), customer(shareWithResearchAsOfDate=None, phone="new")),
        # then the latest consent
        (customer(shareWithResearchAsOfDate=900, phone="old"), customer(shareWithResearchAsOfDate=901, phone="new")),
        # then the latest registration, a missing one losing
        (customer(registrationDate=400, phone="old"), customer(registrationDate=450, phone="new")),
        (customer(registrationDate=None, phone="old"), customer(registrationDate=1, phone="new")),
        # then the smallest serial number, a missing one losing
        (customer(serialNumber="b", phone="old"), customer(serialNumber="a", phone="new")),
        (customer(serialNumber=None, phone="old"), customer(serialNumber="z", phone="new")),
        # then the smallest email
        (customer(email="ann@test.com", phone="old"), customer(email="Ann@test.com", phone="new")),
    ],
)
def test_current_record_and_its_tie_breaks(tmp_path: Path, older: dict[str, Any], newer: dict[str, Any]) -> None:
    for order, records in enumerate(([older, newer], [newer, older])):
        landing = write_landing(tmp_path / str(order), customer=records)
        current = expected_zones(landing, include_pre_consent_readings=True)["customer_trusted"]
        phones = [row[COLUMNS["customer_trusted"].index("phone")] for row in current]
        # a winning record without consent leaves the person untrusted
        assert phones == (["new"] if "shareWithResearchAsOfDate" in newer else []), records


def test_revocation_removes_the_person(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[customer(lastUpdateDate=500), customer(lastUpdateDate=3_000, shareWithResearchAsOfDate=None)],
        accelerometer=[reading()],
        step_trainer=[step()],
    )
    assert row_counts(expected_zones(landing, include_pre_consent_readings=True)) == (0, 0, 0, 0, 0)


def test_late_consent_counts_from_its_date(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[
            customer(shareWithResearchAsOfDate=None),
            customer(lastUpdateDate=3_000, shareWithResearchAsOfDate=2_500),
        ],
        accelerometer=[reading(timestamp=2_000), reading(timestamp=2_500), reading(timestamp=2_600)],
    )
    zones = expected_zones(landing)
    assert sorted(row[1] for row in zones["accelerometer_trusted"]) == [2_500, 2_600]


def test_case_variant_emails_are_one_person(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[
            customer(email="Ann@Test.com", shareWithResearchAsOfDate=None),
            customer(email=" ann@test.COM ", lastUpdateDate=900),
        ],
        accelerometer=[reading(user="ANN@TEST.COM"), reading(user="ann@test.com", x=0.0)],
        step_trainer=[step()],
    )
    zones = expected_zones(landing)
    assert trusted_emails(zones) == [" ann@test.COM "]
    assert row_counts(zones) == (1, 2, 1, 1, 2)


def test_erasure_matches_emails_like_the_key(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[customer(), customer(email="ben@test.com", serialNumber="serial-ben")],
        accelerometer=[reading()],
        step_trainer=[step()],
    )
    zones = expected_zones(landing, erasure_emails=["  ANN@test.com "])
    assert trusted_emails(zones) == ["ben@test.com"]
    assert row_counts(zones)[1:] == (0, 0, 0, 0)


# R2 and R3


def test_readings_before_consent_are_dropped_unless_admitted(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[customer()],
        accelerometer=[reading(timestamp=CONSENT - 1), reading(timestamp=CONSENT), reading(timestamp=CONSENT + 1)],
        step_trainer=[step(CONSENT - 1), step(CONSENT), step(CONSENT + 1)],
    )
    assert row_counts(expected_zones(landing)) == (1, 2, 1, 2, 2)
    assert row_counts(expected_zones(landing, include_pre_consent_readings=True)) == (1, 3, 1, 3, 3)


def test_curated_customers_have_trusted_readings(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[
            customer(),
            customer(email="ben@test.com", serialNumber="serial-ben"),
            customer(email="cy@test.com", serialNumber="serial-cy"),
        ],
        accelerometer=[reading(), reading(user="cy@test.com", timestamp=CONSENT - 5)],
    )
    zones = expected_zones(landing)
    assert sorted(row[1] for row in zones["customer_curated"]) == ["Ann@Test.com"]
    assert len(expected_zones(landing, include_pre_consent_readings=True)["customer_curated"]) == 2


# R4


def test_a_serial_shared_by_two_current_records_is_excluded(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[customer(), customer(email="ben@test.com", shareWithResearchAsOfDate=None)],
        accelerometer=[reading()],
        step_trainer=[step()],
    )
    assert row_counts(expected_zones(landing)) == (1, 1, 1, 0, 0)


def test_only_current_records_own_serials(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[
            customer(),
            customer(email="ben@test.com", serialNumber=SERIAL, lastUpdateDate=1),
            customer(email="ben@test.com", serialNumber="serial-ben", lastUpdateDate=2),
        ],
        accelerometer=[reading()],
        step_trainer=[step()],
    )
    assert row_counts(expected_zones(landing)) == (2, 1, 1, 1, 1)


def test_step_readings_need_a_curated_owner_and_consent(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[customer(), customer(email="ben@test.com", serialNumber="serial-ben")],
        accelerometer=[reading()],
        step_trainer=[step(), step(serial="serial-ben"), step(serial="serial-nobody"), step(time=CONSENT - 1)],
    )
    zones = expected_zones(landing)
    assert list(zones["step_trainer_trusted"]) == [(2_000, SERIAL, 250)]


def test_conflicting_step_readings_keep_the_smallest_distance(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[customer()],
        accelerometer=[reading()],
        step_trainer=[
            step(distance=250),
            step(distance=230),
            step(distance=270),
            {"sensorReadingTime": 2_000, "serialNumber": SERIAL},  # no distance
        ],
    )
    zones = expected_zones(landing)
    assert list(zones["step_trainer_trusted"]) == [(2_000, SERIAL, 230)]
    assert [row[2] for row in zones["machine_learning_curated"]] == [230]


# R5


def test_machine_learning_rows_join_the_same_person(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path,
        customer=[customer(), customer(email="ben@test.com", serialNumber="serial-ben")],
        # two readings of Ann and one of Ben at the same millisecond as Ann's step reading
        accelerometer=[reading(x=1.0), reading(x=0.0), reading(user="ben@test.com")],
        step_trainer=[step()],
    )
    zones = expected_zones(landing, subject_salt="salt")
    subject = hashlib.sha256(b"saltann@test.com").hexdigest()
    assert zones["machine_learning_curated"] == {
        (subject, 2_000, 250, 2_000, 1.0, 0.0, -1.0): 1,
        (subject, 2_000, 250, 2_000, 0.0, 0.0, -1.0): 1,
    }
