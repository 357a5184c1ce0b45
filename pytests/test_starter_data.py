"""The contract's figures on the real public STEDI starter data."""

from __future__ import annotations

from pathlib import Path

import pytest
from reference import COLUMNS, expected_zones

from lakehouse import SUBJECT_SALT, ZONE_TABLES, dbt_vars, read_table, run_dbt

STRICT_COUNTS = {
    "customer_trusted": 482,
    "accelerometer_trusted": 32025,
    "customer_curated": 464,
    "step_trainer_trusted": 11297,
    "machine_learning_curated": 32025,
}
# The seed's graded counts, except its timestamp-only join that gave 43,681.
PRE_CONSENT_COUNTS = {
    "customer_trusted": 482,
    "accelerometer_trusted": 40981,
    "customer_curated": 482,
    "step_trainer_trusted": 14460,
    "machine_learning_curated": 40981,
}


def table_counts(warehouse: Path) -> dict[str, int]:
    return {table: sum(read_table(warehouse, table, COLUMNS[table]).values()) for table in ZONE_TABLES}


def test_strict_consent_counts(starter_build: Path) -> None:
    assert table_counts(starter_build) == STRICT_COUNTS


def test_strict_consent_rows_match_the_reference(starter_build: Path, starter_data: Path) -> None:
    expected = expected_zones(starter_data, subject_salt=SUBJECT_SALT)
    for table in ZONE_TABLES:
        assert read_table(starter_build, table, COLUMNS[table]) == expected[table], table


def test_pre_consent_counts_reproduce_the_seed(starter_data: Path, tmp_path: Path) -> None:
    run_dbt(["build", *dbt_vars(include_pre_consent_readings=True)], landing=starter_data, warehouse=tmp_path)
    assert table_counts(tmp_path) == PRE_CONSENT_COUNTS


def test_record_counts_operation_prints_every_zone(starter_build: Path, starter_data: Path) -> None:
    output = run_dbt(["run-operation", "record_counts"], landing=starter_data, warehouse=starter_build).stdout
    printed = {
        fields[1]: int(fields[2])
        for fields in (line.split() for line in output.splitlines())
        if len(fields) >= 3 and fields[0] in {"landing", "trusted", "curated"}
    }
    assert printed == {
        "customer_landing": 956,
        "accelerometer_landing": 81273,
        "step_trainer_landing": 28680,
        **STRICT_COUNTS,
    }


@pytest.mark.parametrize("table", ZONE_TABLES)
def test_tables_have_contract_columns(starter_build: Path, table: str) -> None:
    from lakehouse import table_columns

    columns = table_columns(starter_build, table)
    assert all(column == column.lower() for column in columns)
    assert set(COLUMNS[table]) <= set(columns)
