"""Daily deliveries: one scenario walks several days of generated data through incremental
builds. After each build every table, partition by partition, equals the independent Python
computation (pytests/reference.py); a day without consent changes leaves the partitions it did
not touch as they were; revocations, an erasure request, a late consent, a new consent time and
a serial number that becomes shared reach every partition of the people concerned; the data
tests of an incremental build prove the rows it may have changed, and keep proving them until
they pass; a --full-refresh gives the same tables."""

from __future__ import annotations

import collections
import datetime
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reference import (
    COLUMNS, current_records, email_key, expected_zones, landing_records, serial_owners, subject_id,
)

from lakehouse import ERASURE_KEY, SCHEMA, SUBJECT_SALT, ZONE_TABLES, copy_project, read_table, run_dbt, table_path, write_erasure_requests
from stedi_lakehouse.checks.athena_incremental import Day, prove_day
from stedi_lakehouse.generate import GeneratorConfig, append_day, day_date, generate_landing

READING_TABLES = ("accelerometer_trusted", "step_trainer_trusted", "machine_learning_curated")
HISTORY = GeneratorConfig(customers=160, readings_per_customer=20, seed=13, days=4)
MAIN_JOB = ["build", "--exclude-resource-type", "unit_test"]
ATHENA_SETTINGS = {"STEDI_SUBJECT_SALT": SUBJECT_SALT, "STEDI_ERASURE_KEY": ERASURE_KEY}  # those of the walk's Spark builds
Partition = tuple[str, str]
Rows = collections.Counter[tuple[Any, ...]]


def bucket(person: str) -> str:
    return subject_id(person, SUBJECT_SALT)[0]


def utc_date(epoch_ms: int) -> str:
    return str(datetime.datetime.fromtimestamp(epoch_ms / 1000, datetime.timezone.utc).date())


class Expected:
    """What the oracle says the reading tables hold, partition by partition, for a landing folder."""

    def __init__(self, landing: Path, erasure_emails: Iterable[str] = ()) -> None:
        self.zones = expected_zones(landing, erasure_emails=erasure_emails, subject_salt=SUBJECT_SALT)
        self.owners = serial_owners(current_records(landing_records(landing, "customer")))
        self.trusted = {email_key(row[1]) for row in self.zones["customer_trusted"]}

    def partition(self, table: str, row: tuple[Any, ...]) -> Partition:
        if table == "accelerometer_trusted":
            return utc_date(row[1]), bucket(email_key(row[0]))
        if table == "step_trainer_trusted":
            return utc_date(row[0]), bucket(self.owners[row[1]])
        return utc_date(row[1]), row[0][0]

    def partitions(self, table: str) -> dict[Partition, Rows]:
        grouped: dict[Partition, Rows] = collections.defaultdict(collections.Counter)
        for row, count in self.zones[table].items():
            grouped[self.partition(table, row)][row] += count
        return dict(grouped)


def built_partitions(warehouse: Path, table: str) -> dict[Partition, Rows]:
    grouped: dict[Partition, Rows] = collections.defaultdict(collections.Counter)
    for (*row, reading_date, subject_bucket), count in read_table(
        warehouse, table, [*COLUMNS[table], "reading_date", "subject_bucket"]
    ).items():
        grouped[(str(reading_date), subject_bucket)][tuple(row)] += count
    return dict(grouped)


def assert_equals_oracle(warehouse: Path, expected: Expected) -> None:
    for table in ZONE_TABLES:
        assert read_table(warehouse, table, COLUMNS[table]) == expected.zones[table], table
    for table in READING_TABLES:
        assert built_partitions(warehouse, table) == expected.partitions(table), f"{table}: rows in the wrong partition"


def partition_files(warehouse: Path, table: str) -> dict[Partition, set[tuple[str, int]]]:
    """The Parquet files (name, modification time) of every partition folder."""
    return {
        (folder.parent.name.removeprefix("reading_date="), folder.name.removeprefix("subject_bucket=")): {
            (path.name, path.stat().st_mtime_ns) for path in folder.glob("*.parquet")
        }
        for folder in table_path(warehouse, table).glob("reading_date=*/subject_bucket=*")
    }


def delivered_partitions(files: Iterable[Path], expected: Expected) -> set[Partition]:
    """The partitions the readings in these landing files fall in (their person's bucket)."""
    partitions = set()
    for path in files:
        for line in path.read_text().splitlines():
            try:
                reading = json.loads(line)
            except ValueError:
                continue
            if isinstance(reading.get("user"), str) and isinstance(reading.get("timestamp"), int):
                partitions.add((utc_date(reading["timestamp"]), bucket(email_key(reading["user"]))))
            owner = expected.owners.get(reading.get("serialNumber"))
            if owner and isinstance(reading.get("sensorReadingTime"), int):
                partitions.add((utc_date(reading["sensorReadingTime"]), bucket(owner)))
    return partitions


def rows_of(warehouse: Path, people: set[str], serials: set[str]) -> dict[str, int]:
    """Rows of these people (by email key, or serial number for device readings) in each reading table."""
    subjects = {subject_id(person, SUBJECT_SALT) for person in people}
    return {
        "accelerometer_trusted": sum(
            email_key(user) in people for user, in read_table(warehouse, "accelerometer_trusted", ["user"]).elements()
        ),
        "step_trainer_trusted": sum(
            serial in serials for serial, in read_table(warehouse, "step_trainer_trusted", ["serialnumber"]).elements()
        ),
        "machine_learning_curated": sum(
            subject in subjects for subject, in read_table(warehouse, "machine_learning_curated", ["subject_id"]).elements()
        ),
    }


def new_day_files(landing: Path, before: set[Path]) -> list[Path]:
    return [path for path in sorted(landing.glob("*/landing/*.json")) if path not in before]


def compiled_scope(warehouse: Path) -> str:
    """The where a reading table's consent test ran with in the last build."""
    compiled = next((warehouse / "target" / "run").rglob("reading_has_consent_accelerome*.sql"))
    match = re.search(r"where (.*?)\) dbt_subquery", compiled.read_text(), re.DOTALL)
    return match[1] if match else ""


@dataclass
class Walk:
    """One landing folder, project copy and Spark warehouse that every day of the walk builds on."""

    landing: Path
    project: Path
    warehouse: Path

    def build(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_dbt([*MAIN_JOB, *args], landing=self.landing, warehouse=self.warehouse, project_dir=self.project, check=check)

    def keep(self, name: str) -> tuple[Path, Path, Path]:
        """Copies of the project, the landing folder and the Spark tables as they are now, for the
        offline Athena to build the same day from (the walk goes on changing them)."""
        copies = kept(self, name)
        for source, copy in zip((self.project, self.landing, self.warehouse / "tables" / f"{SCHEMA}.db"), copies):
            shutil.copytree(source, copy)
        return copies


def kept(walk: Walk, name: str) -> tuple[Path, Path, Path]:
    root = walk.warehouse.parent / "kept" / name
    return root / "project", root / "landing", root / "spark-tables"


def athena_day(name: str, before: tuple[Path, Path, Path], after: tuple[Path, Path, Path], walk: Walk) -> Day:
    """The day between two kept states of the walk, for the offline Athena."""
    project, landing, spark_after = after
    return Day(name, project, landing, walk.landing, before[2], spark_after)


@dataclass
class QuietDay:
    before: Expected
    after: Expected
    files_before: dict[str, dict[Partition, set[tuple[str, int]]]]
    delivered: set[Partition]
    athena: Day


@dataclass
class ConsentDay:
    before: Expected
    after: Expected
    erased: str
    moved: str
    later_consent: int
    day_start: datetime.datetime
    stdout: str
    athena: Day


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Walk, Expected]:
    """The history built fresh: the walk's first build."""
    root = tmp_path_factory.mktemp("daily")
    walk = Walk(root / "landing", copy_project(root / "project"), root / "warehouse")
    generate_landing(walk.landing, HISTORY)
    walk.build()
    walk.keep("history")
    return walk, Expected(walk.landing)


@pytest.fixture(scope="module")
def quiet_day(history: tuple[Walk, Expected]) -> QuietDay:
    """A day without consent changes: new readings (some of earlier dates), new registrants,
    profile updates; built incrementally."""
    walk, before = history
    files_before = {table: partition_files(walk.warehouse, table) for table in READING_TABLES}
    landing_before = set(walk.landing.glob("*/landing/*.json"))
    append_day(walk.landing, consent_changes=False)
    walk.build()
    after = Expected(walk.landing)
    athena = athena_day("a day without consent changes", kept(walk, "history"), walk.keep("quiet"), walk)
    return QuietDay(before, after, files_before, delivered_partitions(new_day_files(walk.landing, landing_before), after), athena)


@pytest.fixture(scope="module")
def consent_day(history: tuple[Walk, Expected], quiet_day: QuietDay) -> ConsentDay:
    """A day with two revocations, a late consent and a serial number that becomes shared; and
    by hand, an erasure request and a consent moved later; built incrementally."""
    walk, before = history[0], quiet_day.after
    append_day(walk.landing, consent_changes=True)
    day_start = datetime.datetime.combine(day_date(HISTORY.days + 1), datetime.time(), datetime.timezone.utc)
    current = current_records(landing_records(walk.landing, "customer"))
    still_consenting = [
        email_key(row[1]) for row in sorted(before.zones["customer_curated"])
        if current[email_key(row[1])]["shareWithResearchAsOfDate"] is not None
    ]
    erased = still_consenting[0]
    moved = next(person for person in still_consenting[1:] if rows_of(walk.warehouse, {person}, set())["accelerometer_trusted"] > 3)
    later_consent = max(
        timestamp for user, timestamp in read_table(walk.warehouse, "accelerometer_trusted", ["user", "timestamp"])
        if email_key(user) == moved
    )
    latest_update = max(record["lastUpdateDate"] or 0 for record in current.values())
    (walk.landing / "customer" / "landing" / "customer-corrections.json").write_text(
        json.dumps({**current[moved], "lastUpdateDate": latest_update + 1, "shareWithResearchAsOfDate": later_consent}) + "\n"
    )
    write_erasure_requests(walk.project, [erased.upper()])
    result = walk.build()
    athena = athena_day("a day with consent changes and an erasure request", kept(walk, "quiet"), walk.keep("consent"), walk)
    return ConsentDay(
        before, Expected(walk.landing, erasure_emails=[erased]), erased, moved, later_consent, day_start, result.stdout, athena,
    )


def test_the_first_build_tests_whole_tables(history: tuple[Walk, Expected]) -> None:
    walk, expected = history
    assert_equals_oracle(walk.warehouse, expected)
    assert compiled_scope(walk.warehouse) == ""


def test_a_quiet_day_leaves_the_partitions_it_did_not_touch(history: tuple[Walk, Expected], quiet_day: QuietDay) -> None:
    walk = history[0]
    assert_equals_oracle(walk.warehouse, quiet_day.after)
    delivered = quiet_day.delivered
    assert {date for date, _ in delivered} > {max(date for date, _ in delivered)}, "no late readings delivered"
    after_files = {table: partition_files(walk.warehouse, table) for table in READING_TABLES}
    for table in READING_TABLES:
        untouched = {
            partition for partition in quiet_day.files_before[table]
            if partition not in delivered
            and quiet_day.before.partitions(table).get(partition) == quiet_day.after.partitions(table).get(partition)
        }
        assert len(untouched) > len(quiet_day.files_before[table]) / 2, table
        rewritten = {partition for partition in untouched if after_files[table].get(partition) != quiet_day.files_before[table][partition]}
        assert not rewritten, f"{table}: partitions rewritten on a day that did not touch them: {sorted(rewritten)}"
    scope = compiled_scope(walk.warehouse)
    assert scope not in ("", "false")
    assert f"date '{max(date for date, _ in delivered)}'" in scope, "the tests' scope is this build's, not a parsed one"


def test_consent_changes_reach_every_partition_of_the_people_concerned(
    history: tuple[Walk, Expected], consent_day: ConsentDay,
) -> None:
    walk, day = history[0], consent_day
    assert "subject states changed" in day.stdout
    assert_equals_oracle(walk.warehouse, day.after)
    gone = day.before.trusted - day.after.trusted
    assert day.erased in gone and len(gone) == 3, "two revocations and an erasure"
    gone_serials = {serial for serial, owner in day.before.owners.items() if owner in gone}
    assert not any(rows_of(walk.warehouse, gone, gone_serials).values()), "rows of people who left"
    holders = collections.Counter(
        record["serialNumber"] for record in current_records(landing_records(walk.landing, "customer")).values() if record["serialNumber"]
    )
    shared = {serial for serial in day.before.owners if holders[serial] > 1}
    assert len(shared) == 1
    assert not rows_of(walk.warehouse, {day.before.owners[serial] for serial in shared}, shared)["machine_learning_curated"]
    registered_today = {
        email_key(record["email"]) for record in landing_records(walk.landing, "customer")
        if record["registrationDate"] >= day.day_start.timestamp() * 1000
    }
    late = day.after.trusted - day.before.trusted - registered_today
    assert len(late) == 1
    late_readings = read_table(walk.warehouse, "accelerometer_trusted", ["user", "timestamp"])
    assert min(time for user, time in late_readings if email_key(user) in late) < day.day_start.timestamp() * 1000
    assert {time for user, time in late_readings if email_key(user) == day.moved} == {day.later_consent}


def test_athena_builds_the_same_days_offline(quiet_day: QuietDay, consent_day: ConsentDay, tmp_path: Path) -> None:
    """dbt-athena's incremental build of each day, on the stand-in for AWS from the Spark state
    before the day, gives every staging, trusted and curated table Spark gave."""
    for number, day in enumerate((quiet_day.athena, consent_day.athena)):
        result = prove_day(day, tmp_path / str(number), ATHENA_SETTINGS)
        print(result.line())
        assert not result.failures, result.line()
        assert {"accelerometer_trusted", "step_trainer_trusted", "machine_learning_curated"} <= set(result.incremental)
        assert {"customer_curated", "machine_learning_curated", "stg_landing__files"} <= set(result.tables)


def test_the_offline_athena_check_fails_a_broken_incremental_branch(consent_day: ConsentDay, tmp_path: Path) -> None:
    """A plan that forgets the subjects who left (revoked, erased) changes no full build, only
    the incremental one: the offline Athena build of the consent day keeps their rows, and the
    check names the tables that differ from Spark's."""
    day = consent_day.athena
    project = shutil.copytree(day.project, tmp_path / "project")
    plan = project / "macros" / "incremental" / "partitions_to_rewrite.sql"
    both_ways = "    union all\n    (\n        {{ built_subject_states() }}\n        except"
    assert both_ways in plan.read_text(), "the mutation no longer matches the macro"
    plan.write_text(plan.read_text().replace(both_ways, "    except (\n        {{ built_subject_states() }}\n        except", 1))
    result = prove_day(Day(day.name, project, day.landing, day.spark_landing, day.before, day.after), tmp_path / "athena", ATHENA_SETTINGS)
    assert any(failure.startswith("accelerometer_trusted: rows differ from Spark: 0 missing") for failure in result.failures), result.line()
    assert "machine_learning_curated" not in result.tables


def test_failed_data_tests_keep_their_rows_in_scope_until_a_full_refresh(
    history: tuple[Walk, Expected], consent_day: ConsentDay,
) -> None:
    """A day whose accelerometer model leaks readings taken before consent: the incremental
    build's data tests fail; with the model mended, the tests still cover that build's
    partitions (they have not passed since), so they fail until a full refresh rebuilds them,
    which equals the oracle."""
    walk = history[0]
    append_day(walk.landing, consent_changes=True)
    model = walk.project / "models" / "trusted" / "accelerometer_trusted.sql"
    mended = model.read_text()
    model.write_text(mended.replace("where\n        {{ within_research_consent(", "where\n        true or {{ within_research_consent("))
    result = walk.build("--select", "+accelerometer_trusted", check=False)
    assert result.returncode != 0 and "FAIL" in result.stdout and "reading_has_consent_accelerometer_trusted" in result.stdout
    model.write_text(mended)
    consent_test = ["test", "--select", "reading_has_consent_accelerometer_trusted_timestamp__ref_customer_trusted___user"]
    result = run_dbt(consent_test, landing=walk.landing, warehouse=walk.warehouse, project_dir=walk.project, check=False)
    assert result.returncode != 0 and "FAIL" in result.stdout

    walk.build("--full-refresh")
    assert_equals_oracle(walk.warehouse, Expected(walk.landing, erasure_emails=[consent_day.erased]))
    assert compiled_scope(walk.warehouse) == "", "a full refresh tests whole tables"


def test_a_table_from_before_subject_buckets_asks_for_a_full_refresh(
    history: tuple[Walk, Expected], consent_day: ConsentDay,
) -> None:
    """A reading table partitioned by date only (an earlier version of the project) stops the
    build with one line saying what to run, and is left as it was; --full-refresh rebuilds it."""
    walk = history[0]
    (walk.project / "macros" / "downgrade.sql").write_text(
        "{% macro downgrade() %}"
        "{% do run_query('drop table stedi.accelerometer_trusted') %}"
        "{% do run_query('create table stedi.accelerometer_trusted using parquet partitioned by (reading_date) as"
        " select `user`, `timestamp`, x, y, z, recorded_at, loaded_at, cast(recorded_at as date) as reading_date"
        " from stedi.stg_landing__accelerometer_readings where not is_malformed') %}"
        "{% endmacro %}"
    )
    run_dbt(["run-operation", "downgrade"], landing=walk.landing, warehouse=walk.warehouse, project_dir=walk.project)
    old_rows = read_table(walk.warehouse, "accelerometer_trusted", ["user", "timestamp"])
    only_it = ["run", "--select", "accelerometer_trusted"]
    result = run_dbt(only_it, landing=walk.landing, warehouse=walk.warehouse, project_dir=walk.project, check=False)
    assert result.returncode == 1
    assert "stedi.accelerometer_trusted was built by an earlier version of this project (it has no subject_bucket column)" in result.stdout
    assert "make build DBT_ARGS=--full-refresh" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert read_table(walk.warehouse, "accelerometer_trusted", ["user", "timestamp"]) == old_rows

    run_dbt([*only_it, "--full-refresh"], landing=walk.landing, warehouse=walk.warehouse, project_dir=walk.project)
    expected = Expected(walk.landing, erasure_emails=[consent_day.erased])
    assert read_table(walk.warehouse, "accelerometer_trusted", COLUMNS["accelerometer_trusted"]) == expected.zones["accelerometer_trusted"]


def test_a_rerun_with_nothing_new_changes_nothing(demo_build: Path, demo_landing: Path) -> None:
    """A build with no new landing file gives the same tables, rewrites no partition and stages
    nothing again."""
    tables = {table: read_table(demo_build, table, COLUMNS[table]) for table in ZONE_TABLES}
    before = {table: partition_files(demo_build, table) for table in READING_TABLES}
    staged = read_table(demo_build, "stg_landing__accelerometer_readings", ["landing_file", "loaded_at"])
    result = run_dbt(["build"], landing=demo_landing, warehouse=demo_build)
    assert "partitions to rewrite" not in result.stdout
    assert {table: read_table(demo_build, table, COLUMNS[table]) for table in ZONE_TABLES} == tables
    assert {table: partition_files(demo_build, table) for table in READING_TABLES} == before
    assert read_table(demo_build, "stg_landing__accelerometer_readings", ["landing_file", "loaded_at"]) == staged
