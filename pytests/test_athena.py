"""The Athena target, proven offline: S3 upload against a local moto server, and the compiled
Athena SQL run on DuckDB against the Spark build."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lakehouse import BIN, PROJECT_DIR, SUBJECT_SALT, ZONE_TABLES, copy_project
from stedi_lakehouse.athena_check import run_check
from stedi_lakehouse.s3_upload import UploadError, upload_landing


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
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


@pytest.fixture()
def salted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEDI_SUBJECT_SALT", SUBJECT_SALT)  # the salt of the Spark build it compares with


def test_athena_sql_gives_the_spark_rows(salted: None, demo_build: Path, demo_landing: Path) -> None:
    report = run_check(demo_landing, demo_build / "tables" / "stedi.db")
    assert not report.failures, str(report)
    assert sorted(report.matched) == sorted(ZONE_TABLES)
    assert len(report.compiled) == 8  # every model but the ephemeral one


def test_athena_check_fails_a_model_that_differs(salted: None, demo_build: Path, demo_landing: Path, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    macro = project / "macros" / "dialect" / "sha256_hex.sql"
    macro.write_text(macro.read_text().replace("lower(to_hex(", "upper(to_hex("))
    report = run_check(demo_landing, demo_build / "tables" / "stedi.db", project_dir=project)
    assert [failure.split(":")[0] for failure in report.failures] == ["machine_learning_curated"]


def test_tables_are_never_written_in_the_landing_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stedi_lakehouse.athena_check import AthenaCheckError, _dbt

    check = ["compile", "--inline", "{{ assert_tables_outside_landing() }}"]
    _dbt(check, tmp_path, "s3://lake/landing", PROJECT_DIR)
    monkeypatch.setenv("STEDI_ATHENA_S3_DATA_DIR", "s3://lake/landing/tables/")
    with pytest.raises(AthenaCheckError, match="overlaps STEDI_LANDING_PATH"):
        _dbt(check, tmp_path, "s3://lake/landing", PROJECT_DIR)
