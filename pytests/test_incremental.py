"""Incremental builds: new landing files are read alone, consent changes that arrive later
(a revocation, a new consent, an erasure request) reach every reading table on the next
incremental build, and --full-refresh gives the same tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import DEMO_CUSTOMERS, DEMO_READINGS_PER_CUSTOMER, DEMO_SEED
from reference import COLUMNS, email_key, expected_zones, landing_records

from lakehouse import SUBJECT_SALT, ZONE_TABLES, copy_project, read_table, run_dbt, table_path, write_erasure_requests
from stedi_lakehouse.generate import GeneratorConfig, append_batch

READING_TABLES = ("accelerometer_trusted", "step_trainer_trusted", "machine_learning_curated")
START_OVER = "consent changed since the last build"


def zone_tables(warehouse: Path) -> dict[str, object]:
    return {table: read_table(warehouse, table, COLUMNS[table]) for table in ZONE_TABLES}


def partition_files(warehouse: Path, table: str) -> dict[str, set[tuple[str, int]]]:
    """The Parquet files (name, modification time) of every reading_date partition."""
    return {
        folder.name: {(path.name, path.stat().st_mtime_ns) for path in folder.glob("*.parquet")}
        for folder in table_path(warehouse, table).glob("reading_date=*")
    }


def dates_admitted_by_r3(warehouse: Path) -> set[str]:
    """The reading dates of the staged device readings of customers whose first trusted
    accelerometer reading arrived in the latest build: R3 may admit their earlier readings."""
    loads: dict[str, list[object]] = {}
    for user, loaded_at in read_table(warehouse, "accelerometer_trusted", ["user", "loaded_at"]):
        loads.setdefault(email_key(user), []).append(loaded_at)
    latest = max(max(times) for times in loads.values())
    newcomers = {person for person, times in loads.items() if min(times) == latest}
    serials = {serial for email, serial in read_table(warehouse, "customer_curated", ["email", "serialnumber"]) if email_key(email) in newcomers}
    staged = read_table(warehouse, "stg_landing__step_trainer_readings", ["serialnumber", "sensor_reading_at", "is_malformed"])
    return {f"reading_date={at.date()}" for serial, at, is_malformed in staged if serial in serials and at and not is_malformed}


def later_record(record: dict[str, object], latest_update: int, consent: int | None) -> dict[str, object]:
    """The customer's next record: updated after every record so far, with a new research consent."""
    return {**record, "lastUpdateDate": latest_update + 1000, "shareWithResearchAsOfDate": consent}


def test_incremental_builds_follow_new_files_and_consent_changes(demo_landing: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(demo_landing, landing)
    project = copy_project(tmp_path / "project")
    warehouse = tmp_path / "warehouse"
    run_dbt(["build"], landing=landing, warehouse=warehouse, project_dir=project)

    # 1. a new batch of readings: only the dates of the new readings are rewritten (and, in
    # step_trainer_trusted, those of device readings R3 may newly admit)
    before = {table: partition_files(warehouse, table) for table in READING_TABLES}
    config = GeneratorConfig(customers=DEMO_CUSTOMERS, readings_per_customer=DEMO_READINGS_PER_CUSTOMER, seed=DEMO_SEED)
    append_batch(landing, config, batch=1)
    result = run_dbt(["build"], landing=landing, warehouse=warehouse, project_dir=project)
    assert START_OVER not in result.stdout
    expected = expected_zones(landing, subject_salt=SUBJECT_SALT)
    assert zone_tables(warehouse) == {table: expected[table] for table in ZONE_TABLES}
    for table in READING_TABLES:
        after = partition_files(warehouse, table)
        assert after.keys() - before[table].keys(), f"{table}: the batch added no reading date"
        rewritten = {date for date in before[table] if after[date] != before[table][date]}
        explained = dates_admitted_by_r3(warehouse) if table == "step_trainer_trusted" else set()
        assert rewritten <= explained, f"{table}: old dates rewritten without a reason"

    # 2. later: a curated customer revokes consent, someone who never consented consents,
    # and another curated customer asks for erasure
    curated = sorted({row[1] for row in read_table(warehouse, "customer_curated", ["customername", "email"])})
    trusted_keys = {email_key(row[0]) for row in read_table(warehouse, "customer_trusted", ["email"])}
    # in a fixed order, so that every run picks the same people
    records = sorted(landing_records(landing, "customer"), key=lambda record: json.dumps(record, sort_keys=True))
    latest_update = max(int(record["lastUpdateDate"] or 0) for record in records)
    revoking = next(record for record in records if record["email"] == curated[0])
    readers = {email_key(user) for (user,) in read_table(warehouse, "stg_landing__accelerometer_readings", ["user"]) if user}
    consenting = next(
        record for record in records if email_key(record["email"]) in readers - trusted_keys and record.get("serialNumber")
    )
    erased = curated[1]
    (landing / "customer" / "landing" / "customer-consent-changes.json").write_text(
        json.dumps(later_record(revoking, latest_update, None)) + "\n" + json.dumps(later_record(consenting, latest_update, 0)) + "\n"
    )
    write_erasure_requests(project, [erased])
    result = run_dbt(["build"], landing=landing, warehouse=warehouse, project_dir=project)
    assert START_OVER in result.stdout
    expected = expected_zones(landing, erasure_emails=[erased], subject_salt=SUBJECT_SALT)
    incremental = zone_tables(warehouse)
    assert incremental == {table: expected[table] for table in ZONE_TABLES}
    users = {email_key(row[0]) for row in incremental["accelerometer_trusted"]}
    assert email_key(revoking["email"]) not in users
    assert email_key(erased) not in users
    assert email_key(consenting["email"]) in users, "the new consent admitted none of that person's earlier readings"

    # 3. a full refresh of the same landing gives the same tables
    run_dbt(["build", "--full-refresh"], landing=landing, warehouse=warehouse, project_dir=project)
    assert zone_tables(warehouse) == incremental


def test_a_rerun_with_nothing_new_changes_nothing(demo_build: Path, demo_landing: Path) -> None:
    """A build with no new landing file rewrites no partition and stages nothing again."""
    before = {table: partition_files(demo_build, table) for table in READING_TABLES}
    staged = read_table(demo_build, "stg_landing__accelerometer_readings", ["landing_file", "loaded_at"])
    result = run_dbt(["build"], landing=demo_landing, warehouse=demo_build)
    assert START_OVER not in result.stdout
    assert {table: partition_files(demo_build, table) for table in READING_TABLES} == before
    assert read_table(demo_build, "stg_landing__accelerometer_readings", ["landing_file", "loaded_at"]) == staged


def test_a_table_from_before_incremental_builds_asks_for_a_full_refresh(tmp_path: Path) -> None:
    """A reading table built without loaded_at (an earlier version of the project) stops the build
    with one line saying what to run, and is left as it was; --full-refresh then rebuilds it."""
    from stedi_lakehouse.generate import generate_landing

    landing = tmp_path / "landing"
    generate_landing(landing, GeneratorConfig(customers=40, readings_per_customer=10, seed=3))
    project = copy_project(tmp_path / "project")
    (project / "macros" / "downgrade.sql").write_text(
        "{% macro downgrade() %}"
        "{% do run_query('drop table stedi.accelerometer_trusted') %}"
        "{% do run_query('create table stedi.accelerometer_trusted using parquet as select `user`, `timestamp`, x, y, z, recorded_at"
        " from stedi.stg_landing__accelerometer_readings where not is_malformed') %}"
        "{% endmacro %}"
    )
    warehouse = tmp_path / "warehouse"
    run_dbt(["build", "--exclude-resource-type", "unit_test"], landing=landing, warehouse=warehouse, project_dir=project)
    run_dbt(["run-operation", "downgrade"], landing=landing, warehouse=warehouse, project_dir=project)
    old_rows = read_table(warehouse, "accelerometer_trusted", ["user", "timestamp"])

    result = run_dbt(["build", "--exclude-resource-type", "unit_test"], landing=landing, warehouse=warehouse, project_dir=project, check=False)
    assert result.returncode == 1
    assert "stedi.accelerometer_trusted was built by a version of this project without incremental builds" in result.stdout
    assert "make build DBT_ARGS=--full-refresh" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert read_table(warehouse, "accelerometer_trusted", ["user", "timestamp"]) == old_rows

    run_dbt(["build", "--full-refresh", "--exclude-resource-type", "unit_test"], landing=landing, warehouse=warehouse, project_dir=project)
    expected = expected_zones(landing, subject_salt=SUBJECT_SALT)
    assert zone_tables(warehouse) == {table: expected[table] for table in ZONE_TABLES}
