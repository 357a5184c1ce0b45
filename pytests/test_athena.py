"""The Athena target, proven offline: S3 upload against a local moto server, and the compiled
Athena SQL run on DuckDB against the Spark build."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
import sqlglot

from lakehouse import BIN, PROJECT_DIR, ZONE_TABLES, copy_project, read_table
from stedi_lakehouse.checks.athena_check import HMAC_SHA256_MACROS, LANDING_URI, AthenaCheckError, empty_aws, offline_dbt, run_check
from stedi_lakehouse.checks.athena_scenario import EDGE_CASE_FILE, prepare
from stedi_lakehouse.checks.openx_json import MalformedJson, SerdeOptions, read_line, read_lines
from stedi_lakehouse.erasure.keys import DEMO_ERASURE_KEY, email_hmac
from stedi_lakehouse.s3_upload import UploadError, upload_landing


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    saved = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    try:
        with empty_aws() as endpoint:
            yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture()
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> str:
    name = f"landing-{request.node.name.replace('_', '-')[:40]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


def keys(s3_endpoint: str, bucket: str) -> dict[str, int]:
    listing = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=bucket)
    return {item["Key"]: item["Size"] for item in listing.get("Contents", [])}


def test_upload_keeps_the_layout_and_skips_what_is_there(demo_landing: Path, s3_endpoint: str, bucket: str) -> None:
    first = upload_landing(demo_landing, f"s3://{bucket}/lake", endpoint_url=s3_endpoint)
    local = {
        f"lake/{path.relative_to(demo_landing).as_posix()}": path.stat().st_size
        for path in demo_landing.glob("*/landing/*.json")
    }
    assert keys(s3_endpoint, bucket) == local
    assert len(first.uploaded) == len(local) and not first.skipped
    again = upload_landing(demo_landing, f"s3://{bucket}/lake", endpoint_url=s3_endpoint)
    assert not again.uploaded and len(again.skipped) == len(local)


def test_changed_file_is_uploaded_again_in_parts(tmp_path: Path, s3_endpoint: str, bucket: str) -> None:
    for zone in ("customer", "accelerometer", "step_trainer"):
        (tmp_path / zone / "landing").mkdir(parents=True)
        (tmp_path / zone / "landing" / f"{zone}-1.json").write_text('{"a": 1}\n')
    big = tmp_path / "accelerometer" / "landing" / "accelerometer-1.json"
    big.write_text('{"user": "a@b.c", "timestamp": 1, "x": 0.0, "y": 0.0, "z": 0.0}\n' * 200_000)  # ~13 MB
    upload_landing(tmp_path, f"s3://{bucket}", endpoint_url=s3_endpoint, multipart_threshold=5 * 1024 * 1024)
    head = boto3.client("s3", endpoint_url=s3_endpoint).head_object(Bucket=bucket, Key="accelerometer/landing/accelerometer-1.json")
    assert "-" in head["ETag"], "a file over the threshold goes up in parts"
    with big.open("a") as grown:
        grown.write('{"user": "a@b.c", "timestamp": 2, "x": 0.0, "y": 0.0, "z": 0.0}\n')
    changed = upload_landing(tmp_path, f"s3://{bucket}", endpoint_url=s3_endpoint, multipart_threshold=5 * 1024 * 1024)
    assert changed.uploaded == ["accelerometer/landing/accelerometer-1.json"]
    assert keys(s3_endpoint, bucket)["accelerometer/landing/accelerometer-1.json"] == big.stat().st_size


def test_missing_bucket_is_one_clear_line(demo_landing: Path, s3_endpoint: str) -> None:
    result = subprocess.run(
        [str(BIN / "stedi"), "upload-landing", str(demo_landing), "s3://no-such-bucket/lake", "--endpoint-url", s3_endpoint],
        capture_output=True, text=True, check=False, env={**os.environ},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "stedi upload-landing: s3://no-such-bucket: no such bucket; create it or fix the destination s3://no-such-bucket/lake"
    )


def test_missing_credentials_is_clear(demo_landing: Path, s3_endpoint: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run(
        [str(BIN / "stedi"), "upload-landing", str(demo_landing), "s3://any/lake", "--endpoint-url", s3_endpoint],
        capture_output=True, text=True, check=False, env=env,
    )
    assert result.returncode == 2 and "no AWS credentials found" in result.stderr and "Traceback" not in result.stderr


def test_bad_destination(demo_landing: Path) -> None:
    with pytest.raises(UploadError, match="expected an s3://bucket/prefix"):
        upload_landing(demo_landing, "/local/path")


# --- the OpenX JSON SerDe as the offline check reads landing lines ---------------------------

EXACT_KEYS = SerdeOptions.from_properties({"ignore.malformed.json": "true", "case.insensitive": "false", "mapping.ts": "timeStamp"})
COLUMNS = ["user", "ts", "x"]


@pytest.mark.parametrize(("line", "row"), [
    ('{"user":"a@b.c","timeStamp":1,"x":1.50}', ("a@b.c", "1", "1.50")),
    ('{"user":"a@b.c","timeStamp":1e2,"x":-0.0}', ("a@b.c", "1E+2", "0.0")),          # numbers as Java's BigDecimal prints them
    ('{"user":12,"timeStamp":"12","x":TRUE}', ("12", "12", "true")),                 # a quoted number reads as the number
    ('{"user":{"a":[1,null,"x"]},"timeStamp":012,"x":0x1F}', ('{"a":[1,null,"x"]}', "10", "31")),  # octal and hex
    ('{"User":"a@b.c","timestamp":1,"x":NaN}', (None, None, "NaN")),               # keys match exactly here
    ('{"user":"a","user":"b","x":"y"} trailing', ("b", None, "y")),                # the last key wins; the rest is ignored
    ("{user: 'a@b.c', timeStamp = 3; x => 4}", ("a@b.c", "3", "4")),               # the lenient syntax of the SerDe
    ('["a@b.c", 5]', ("a@b.c", "5", None)),                                        # an array fills columns by position
    ('{"user":"a@b.c","timeStamp":1', (None, None, None)),                         # cut off: malformed, ignored
    ("<html>503</html>", (None, None, None)),
    ("", (None, None, None)),
])
def test_openx_reader(line: str, row: tuple[str | None, ...]) -> None:
    assert read_line(line, COLUMNS, EXACT_KEYS) == row


def test_openx_reader_is_case_insensitive_by_default_and_can_fail_on_malformed_lines() -> None:
    assert read_line('{"USER":"a","User":"b"}', ["user"], SerdeOptions(ignore_malformed_json=True)) == ("b",)
    with pytest.raises(MalformedJson):
        read_line('{"user":', ["user"], SerdeOptions())


def test_openx_lines_split_as_hadoop_splits_them(tmp_path: Path) -> None:
    landing_file = tmp_path / "f.json"
    landing_file.write_bytes(b'{"a":1}\r\n\n{"a":"\xe2\x80\xa8"}\r{"a":3}\n')
    assert list(read_lines(landing_file)) == ['{"a":1}', "", '{"a":"\u2028"}', '{"a":3}']


# --- the offline check against a Spark build ---------------------------------------------------

@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Generated landing data plus the edge-case lines, and the project with an erasure request,
    built on the embedded Spark."""
    return prepare(tmp_path_factory.mktemp("athena-check"), 100, PROJECT_DIR)


def test_athena_sql_gives_the_spark_rows(scenario: tuple[Path, Path, Path]) -> None:
    landing, tables, project = scenario
    report = run_check(landing, tables, project)
    assert not report.failures, str(report)
    # the zones' tables and the subjects the reading tables are built from (issue 13)
    assert sorted(report.matched) == sorted([*ZONE_TABLES, "int_research_subjects", "int_curated_subjects"])
    assert len(report.compiled) == 12  # every model but the ephemeral ones
    assert "build_record_counts" in report.compiled  # run on DuckDB; its line counts are each engine's own


def test_the_erasure_request_removes_a_consenting_customer(scenario: tuple[Path, Path, Path]) -> None:
    """Not vacuous: the requested person (their current record's email padded and mixed-case)
    consents and has readings, and Spark left them out; the check's equal customer tables show
    that Athena's SQL did too."""
    landing, tables, project = scenario
    key = (os.environ.get("STEDI_ERASURE_KEY") or DEMO_ERASURE_KEY).encode()
    [request] = [line.split(",")[0] for line in (project / "seeds" / "erasure_requests.csv").read_text().splitlines()[1:]]
    customers = landing_records(landing, "customer")
    [erased] = [record for record in customers if email_hmac(key, record.get("email") or "") == request and record["email"] != record["email"].strip()]
    readers = {str(record.get("user")).strip().lower() for record in landing_records(landing, "accelerometer")}
    assert erased["shareWithResearchAsOfDate"] and erased["email"].strip().lower() in readers
    trusted = {email.strip().lower() for (email,) in read_table(tables.parents[1], "customer_trusted", ["email"])}
    assert erased["email"].strip().lower() not in trusted


def landing_records(landing: Path, zone: str) -> list[dict[str, Any]]:
    records = []
    for path in sorted((landing / zone / "landing").glob("*.json")):
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return [record for record in records if isinstance(record, dict)]


def test_hmac_of_the_check_is_rfc_2104() -> None:
    """The DuckDB stand-in for Trino's hmac_sha256 gives Python's HMAC, keys over a block included."""
    db = duckdb.connect()
    for macro in HMAC_SHA256_MACROS:
        db.execute(macro)
    for key in ("k" * 32, "k" * 64, "k" * 65, "local-demo-erasure-key-not-for-real-data"):
        for message in ("", "ann.lee@test.com", "é" * 100):
            sql = sqlglot.transpile(f"select lower(to_hex(hmac_sha256(to_utf8('{message}'), to_utf8('{key}'))))", read="athena", write="duckdb")[0]
            assert db.sql(sql).fetchall() == [(hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest(),)]


def test_edge_cases_reach_the_trusted_zone(scenario: tuple[Path, Path, Path]) -> None:
    """The edge-case lines are not vacuous: Spark keeps exactly the well-typed ones."""
    landing, tables, _ = scenario
    first = json.loads((landing / "accelerometer" / "landing" / EDGE_CASE_FILE).read_text().splitlines()[0])
    readings = read_table(tables.parents[1], "accelerometer_trusted", ["user", "timestamp"])
    kept = sorted(timestamp - first["timestamp"] for user, timestamp in readings if user == first["user"] and timestamp >= first["timestamp"])
    assert kept == [0, 1, 7, 9, 10, 11, 16]
    devices = read_table(tables.parents[1], "step_trainer_trusted", ["sensorreadingtime", "distancefromobject"])
    assert {(time - first["timestamp"], distance) for time, distance in devices if time >= first["timestamp"]} == {
        (0, 200), (1, 250), (7, 180), (9, 200), (10, 290),
    }


def mutated_project(scenario_project: Path, tmp_path: Path, relative: str, old: str, new: str) -> Path:
    project = shutil.copytree(scenario_project, tmp_path / "project")
    macro = project / relative
    assert old in macro.read_text()
    macro.write_text(macro.read_text().replace(old, new))
    return project


def test_athena_check_fails_a_model_that_differs(scenario: tuple[Path, Path, Path], tmp_path: Path) -> None:
    landing, tables, scenario_project = scenario
    project = mutated_project(scenario_project, tmp_path, "macros/dialect/sha256_hex.sql", "lower(to_hex(", "upper(to_hex(")
    report = run_check(landing, tables, project_dir=project)
    failed = {failure.split(":")[0] for failure in report.failures}
    # the pseudonym is computed in int_research_subjects; the customer tables do not use it
    assert "int_research_subjects" in failed and not failed & {"customer_trusted", "customer_curated"}, failed


def test_athena_check_fails_an_erasure_hash_that_differs(scenario: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """An Athena HMAC of the untrimmed email would keep the erased person in every table."""
    landing, tables, scenario_project = scenario
    project = mutated_project(scenario_project, tmp_path, "models/trusted/customer_trusted.sql", "email_hmac('current_records.email_key')", "email_hmac('current_records.email')")
    report = run_check(landing, tables, project_dir=project)
    assert "customer_trusted" in {failure.split(":")[0] for failure in report.failures}


def test_athena_check_fails_a_landing_view_that_keeps_a_wrong_value(scenario: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """A bigint that accepts '1655052470971.0' keeps an edge-case reading Spark rejects."""
    landing, tables, scenario_project = scenario
    project = mutated_project(
        scenario_project, tmp_path, "macros/landing/create_landing_tables.sql", "'^-?(0|[1-9][0-9]*)$'", "'^-?[0-9.]+$'"
    )
    report = run_check(landing, tables, project_dir=project)
    failed = {failure.split(":")[0] for failure in report.failures}
    assert "accelerometer_trusted" in failed and "extra" in str(report)


def test_a_connection_beyond_the_local_aws_fails_the_check(tmp_path: Path) -> None:
    """AWS calls go to the local moto server; anything else dbt tries to reach (here the package
    hub, for `dbt deps`) goes through the tripwire proxy and fails the check."""
    project = copy_project(tmp_path / "project")
    (project / "packages.yml").write_text("packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n")
    with pytest.raises(AthenaCheckError, match="tried to reach the network"):
        offline_dbt(["deps"], tmp_path / "work", LANDING_URI, project)


def test_athena_check_cli_needs_a_build_to_compare_with(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "stedi"), "athena-check", "--warehouse", str(tmp_path / "none"), "--landing", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"stedi athena-check: {tmp_path / 'none' / 'tables' / 'stedi.db'}: no Spark build (--warehouse) to check against"


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("STEDI_ATHENA_S3_DATA_DIR", "s3://lake/landing/tables/", "s3_data_dir s3://lake/landing/tables/ overlaps STEDI_LANDING_PATH"),
    ("STEDI_ATHENA_S3_STAGING_DIR", "s3://lake/landing/customer/landing/results/", "would be read as landing lines"),
])
def test_tables_and_results_are_never_written_in_the_landing_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, message: str
) -> None:
    check = ["compile", "--inline", "{{ assert_tables_outside_landing() }}"]
    offline_dbt(check, tmp_path, "s3://lake/landing", PROJECT_DIR)
    monkeypatch.setenv(setting, value)
    with pytest.raises(AthenaCheckError, match=message):
        offline_dbt(check, tmp_path, "s3://lake/landing", PROJECT_DIR)


def test_athena_needs_an_s3_landing_zone(tmp_path: Path) -> None:
    with pytest.raises(AthenaCheckError, match="is not an s3:// prefix"):
        offline_dbt(["compile", "--inline", "select 1"], tmp_path, str(tmp_path), PROJECT_DIR)
