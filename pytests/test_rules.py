"""Every rule's result on generated data holding every hard case, checked against an
independent computation in Python (pytests/reference.py)."""

from __future__ import annotations

from pathlib import Path

from reference import COLUMNS, expected_zones, landing_outcomes, malformed_line_counts

from lakehouse import (
    SUBJECT_SALT, ZONE_TABLES, copy_project, dbt_vars, read_table, recorded_landing_outcomes, run_dbt, table_columns,
    write_erasure_requests,
)


def test_every_table_matches_the_reference(demo_build: Path, demo_landing: Path) -> None:
    expected = expected_zones(demo_landing, subject_salt=SUBJECT_SALT)
    for table in ZONE_TABLES:
        assert expected[table], f"the demo data leaves {table} empty: the comparison would prove nothing"
        assert read_table(demo_build, table, COLUMNS[table]) == expected[table], table


def test_erasure_and_pre_consent_readings(demo_build: Path, demo_landing: Path, tmp_path: Path) -> None:
    """Erasure requests (matched like emails) remove people from every zone; the var admits
    readings taken before consent."""
    curated_emails = sorted(email for (_, email, *_) in read_table(demo_build, "customer_curated", COLUMNS["customer_curated"]))
    erased = [f"  {curated_emails[0].upper()} ", curated_emails[1]]
    project = copy_project(tmp_path / "project")
    write_erasure_requests(project, erased)
    warehouse = tmp_path / "warehouse"
    run_dbt(
        ["build", *dbt_vars(include_pre_consent_readings=True)],
        landing=demo_landing,
        warehouse=warehouse,
        project_dir=project,
    )
    expected = expected_zones(
        demo_landing, erasure_emails=erased, include_pre_consent_readings=True, subject_salt=SUBJECT_SALT
    )
    for table in ZONE_TABLES:
        assert read_table(warehouse, table, COLUMNS[table]) == expected[table], table
    assert recorded_landing_outcomes(warehouse) == landing_outcomes(
        demo_landing, erasure_emails=erased, include_pre_consent_readings=True
    )
    trusted_emails = {row[1].strip().lower() for row in read_table(warehouse, "customer_trusted", ["customername", "email"])}
    assert not trusted_emails & {email.strip().lower() for email in erased}


def test_malformed_lines_are_counted_not_fatal(demo_build: Path, demo_landing: Path) -> None:
    expected = malformed_line_counts(demo_landing)
    assert sum(expected.values()) > 0, "the demo data must hold malformed lines"
    output = run_dbt(["run-operation", "record_counts"], landing=demo_landing, warehouse=demo_build).stdout
    printed = {
        fields[1]: int(fields[3])
        for fields in (line.split() for line in output.splitlines())
        if len(fields) == 4 and fields[0] == "landing"
    }
    assert printed == {f"{zone}_landing": count for zone, count in expected.items()}


def test_malformed_lines_warn_in_the_build(demo_build: Path, demo_landing: Path) -> None:
    result = run_dbt(
        ["test", "--select", "test_name:landing_lines_are_well_formed"], landing=demo_landing, warehouse=demo_build
    )
    assert "WARN" in result.stdout and "Got " in result.stdout


def test_ml_table_holds_no_direct_identifier(demo_build: Path) -> None:
    columns = table_columns(demo_build, "machine_learning_curated")
    for identifier in ("email", "user", "customername", "phone", "birthday", "serialnumber"):
        assert not [column for column in columns if identifier in column], identifier


def mutate(path: Path, old: str, new: str) -> None:
    """Break a model on purpose; the text to replace must be there, or the test would prove nothing."""
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name} no longer holds {old!r}"
    path.write_text(text.replace(old, new))


def test_the_rules_tests_catch_a_violation(demo_landing: Path, tmp_path: Path) -> None:
    """The privacy tests can fail: models that leak pre-consent readings and an
    identifier column make them fail."""
    project = copy_project(tmp_path / "project")
    mutate(project / "models" / "trusted" / "accelerometer_trusted.sql", "where\n        {{ within_research_consent(", "where\n        true or {{ within_research_consent(")
    mutate(
        project / "models" / "curated" / "machine_learning_curated.sql",
        "        device_owners.subject_id,\n", "        device_owners.subject_id,\n        device_owners.email_key as email,\n",
    )
    warehouse = tmp_path / "warehouse"
    models_only = ["build", "--exclude", "test_type:data", "test_type:unit"]
    run_dbt(models_only, landing=demo_landing, warehouse=warehouse, project_dir=project)
    result = run_dbt(
        ["test", "--exclude", "test_type:unit"], landing=demo_landing, warehouse=warehouse, project_dir=project, check=False
    )
    assert result.returncode != 0
    failed = [line for line in result.stdout.splitlines() if "FAIL" in line]
    assert any("reading_has_consent_accelerometer_trusted" in line for line in failed), result.stdout[-3000:]
    assert any("has_no_direct_identifiers_machine_learning_curated" in line for line in failed), result.stdout[-3000:]
