"""Erasure without Spark: requests hold keyed hashes only, and erase removes a person's landing
lines (every variant of the email, malformed lines, serials only they held) leaving every other
line byte for byte, gzip as gzip, and Parquet files as Spark wrote them."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import hmac
import json
import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakehouse import BIN, ERASURE_KEY
from stedi_lakehouse.erasure.keys import DEMO_ERASURE_KEY
from stedi_lakehouse.erasure.matching import Matcher
from stedi_lakehouse.erasure.parquet import filter_rows

ERASED = "Ann.Lee@Test.com"


def stedi(*args: str, key: str | None = ERASURE_KEY, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name != "STEDI_ERASURE_KEY"} | (env or {})
    if key is not None:
        environment["STEDI_ERASURE_KEY"] = key
    return subprocess.run([str(BIN / "stedi"), *args], capture_output=True, text=True, check=False, env=environment)


def expected_hash(email: str) -> str:
    return hmac.new(ERASURE_KEY.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


@pytest.fixture()
def seed(tmp_path: Path) -> Path:
    path = tmp_path / "erasure_requests.csv"
    path.write_text("email_hmac,requested_at\n")
    return path


def test_requests_hold_keyed_hashes_never_emails(seed: Path, tmp_path: Path) -> None:
    emails = tmp_path / "emails.txt"
    emails.write_text("bob.ray@test.com\r\n\n\tCY.FOX@test.com \n")
    result = stedi("erasure-request", f"  {ERASED.upper()} ", "--file", str(emails), "--requested-at", "2024-05-01", "--seed", str(seed))
    assert result.returncode == 0, result.stderr
    again = stedi("erasure-request", "ann.lee@test.com", "--seed", str(seed))
    assert again.returncode == 0 and f"already requested: {expected_hash(ERASED)}" in again.stdout
    lines = seed.read_text().splitlines()
    assert lines == [
        "email_hmac,requested_at",
        f"{expected_hash(ERASED)},2024-05-01 00:00:00",
        f"{expected_hash('bob.ray@test.com')},2024-05-01 00:00:00",
        f"{expected_hash('cy.fox@test.com')},2024-05-01 00:00:00",
    ]
    assert "@" not in seed.read_text() and "@" not in result.stdout + again.stdout


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "stedi erasure-request: STEDI_ERASURE_KEY is not set"),
        ("short", "stedi erasure-request: STEDI_ERASURE_KEY must be at least 16 characters"),
        ("a'quote-breaks-the-sql-literal-0123456789", "stedi erasure-request: STEDI_ERASURE_KEY must be at least 16 characters"),
        (DEMO_ERASURE_KEY, "stedi erasure-request: STEDI_ERASURE_KEY is the public demo key"),
    ],
)
def test_a_request_needs_a_secret_key(seed: Path, key: str | None, message: str) -> None:
    result = stedi("erasure-request", ERASED, "--seed", str(seed), key=key)
    assert result.returncode == 2 and result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1
    assert seed.read_text() == "email_hmac,requested_at\n"


def test_an_old_request_file_of_emails_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "erasure_requests.csv"
    seed.write_text("email,requested_at\nann.lee@test.com,2024-05-01 00:00:00\n")
    result = stedi("erasure-request", ERASED, "--seed", str(seed))
    assert result.returncode == 2 and "expected the header email_hmac,requested_at, found email,requested_at" in result.stderr


def landing_zone(root: Path) -> dict[str, bytes]:
    """A small landing zone with every kind of line erase must tell apart; file -> content."""
    customer = (
        b'{"customerName":"Ann Lee","email":"Ann.Lee@Test.com","serialNumber":"s-ann","shareWithResearchAsOfDate":1}\r\n'
        b'{"customerName":"Ann Lee","email":" ann.lee@test.COM ","serialNumber":"s-ann","lastUpdateDate":2}\r\n'
        b'{"customerName":"Ann Lee","serialNumber":"s-ann","phone":"555"}\r\n'  # no email: tied by the serial only she held
        b'{"customerName":"Jo Ann","email":"jo.ann.lee@test.com","serialNumber":"s-shared"}\r\n'  # another person
        b'{"customerName":"Ann Lee","email":"ANN.LEE@TEST.COM","serialNumber":"s-shared"}\r\n'
        b'{"customerName":"Bo Ray","email":"bo.ray@test.com","serialNumber":"s-bo"}\n'
        b'{"customerName":"Ann Lee","email":"ann.lee@test.com","pho\n'  # cut off, still her email
        b"<html>503</html>\n"
    )
    accelerometer = b"".join(
        f'{{"user":{json.dumps(user)},"timestamp":{time},"x":1.0,"y":0.0,"z":-1.0}}\n'.encode()
        for user, time in [("ANN.LEE@test.com", 1), ("bo.ray@test.com", 1), ("\tann.lee@test.com", 2), ("nn.lee@test.com", 3)]
    )
    step_trainer = b"".join(
        f'{{"sensorReadingTime":{time},"serialNumber":"{serial}","distanceFromObject":200}}\n'.encode()
        for serial, time in [("s-ann", 1), ("s-shared", 1), ("s-bo", 1), ("s-ann-2", 1)]
    )
    files = {
        "customer/landing/customers.json": customer,
        "customer/landing/2024/05/only-ann.json": b'{"email":"ann.lee@test.com","serialNumber":"s-ann"}\n',
        "accelerometer/landing/2024/05/18/readings.json.gz": gzip.compress(accelerometer),
        "accelerometer/landing/_temporary/readings.json": accelerometer,  # a writer's, not delivered yet
        "step_trainer/landing/devices.json": step_trainer,
        "step_trainer/landing/notes.txt": b"ann.lee@test.com is not a delivery\n",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return files


def test_erase_removes_every_variant_and_keeps_every_other_line(seed: Path, tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    before = landing_zone(landing)
    assert stedi("erasure-request", "ann.lee@test.com", "--seed", str(seed)).returncode == 0

    result = stedi("erase", "--landing", str(landing), "--warehouse", str(warehouse), "--seed", str(seed))

    assert result.returncode == 0, result.stderr
    customer = before["customer/landing/customers.json"].splitlines(keepends=True)
    assert (landing / "customer/landing/customers.json").read_bytes() == customer[3] + customer[5] + customer[7]
    assert not (landing / "customer/landing/2024/05/only-ann.json").exists(), "a file of her lines only is deleted"
    accelerometer = gzip.decompress(before["accelerometer/landing/2024/05/18/readings.json.gz"]).splitlines(keepends=True)
    # a tab is a space variant; another email that ends like hers is another person
    assert gzip.decompress((landing / "accelerometer/landing/2024/05/18/readings.json.gz").read_bytes()) == accelerometer[1] + accelerometer[3]
    # a hidden name is no delivery (the build skips it too): a writer's file is left to the writer
    assert (landing / "accelerometer/landing/_temporary/readings.json").read_bytes() == before["accelerometer/landing/_temporary/readings.json"]
    devices = before["step_trainer/landing/devices.json"].splitlines(keepends=True)
    assert (landing / "step_trainer/landing/devices.json").read_bytes() == devices[1] + devices[2] + devices[3]
    assert (landing / "step_trainer/landing/notes.txt").read_bytes() == before["step_trainer/landing/notes.txt"]
    assert not list(landing.rglob("*.stedi-erasing")) and not (warehouse / "erasure" / "journal.json").exists()

    [audit] = [json.loads(line) for path in (warehouse / "erasure" / "log").glob("*.jsonl") for line in path.read_text().splitlines()]
    assert audit["email_hmac"] == expected_hash(ERASED) and audit["records_removed"] == {"landing": 9}
    assert len(audit["files_rewritten"]["landing"]) == 4
    assert datetime.datetime.fromisoformat(audit["carried_out_at"]) >= datetime.datetime.fromisoformat(audit["requested_at"])
    assert f"erased {expected_hash(ERASED)}" in result.stdout and "@" not in result.stdout + json.dumps(audit)

    rerun = stedi("erase", "--landing", str(landing), "--warehouse", str(warehouse), "--seed", str(seed))
    assert rerun.returncode == 0 and "erase: 0 requests carried out" in rerun.stdout


def test_erase_needs_the_key_only_when_a_request_is_pending(seed: Path, tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    landing_zone(landing)
    assert stedi("erase", "--landing", str(landing), "--warehouse", str(warehouse), "--seed", str(seed), key=None).returncode == 0
    assert stedi("erasure-request", ERASED, "--seed", str(seed)).returncode == 0
    result = stedi("erase", "--landing", str(landing), "--warehouse", str(warehouse), "--seed", str(seed), key=None)
    assert result.returncode == 2 and result.stderr.startswith("stedi erase: STEDI_ERASURE_KEY is not set")


def test_parquet_rows_are_filtered_keeping_the_file_as_spark_wrote_it() -> None:
    moment = datetime.datetime(2022, 6, 12, 3, 4, 5, 678000)
    table = pa.table({"user": ["ANN.LEE@test.com ", "bo.ray@test.com", None], "x": [1.0, 2.0, 3.0], "loaded_at": [moment] * 3})
    sink = pa.BufferOutputStream()
    # as Spark writes: INT96 timestamps, Parquet 1.0, snappy, its own key-value metadata
    with pq.ParquetWriter(sink, table.schema, compression="snappy", use_deprecated_int96_timestamps=True, version="1.0", store_schema=False) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata({"org.apache.spark.version": "4.3.0"})
    request = expected_hash(ERASED)
    filtered = filter_rows(sink.getvalue().to_pybytes(), Matcher(ERASURE_KEY.encode(), frozenset({request}), {}, {}))
    assert filtered.removed == {request: 1} and filtered.content is not None
    written = pq.ParquetFile(pa.BufferReader(filtered.content))
    assert written.read().to_pylist() == [{"user": "bo.ray@test.com", "x": 2.0, "loaded_at": moment}, {"user": None, "x": 3.0, "loaded_at": moment}]
    assert written.schema.column(2).physical_type == "INT96" and written.metadata.format_version == "1.0"
    assert written.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert written.metadata.metadata == {b"org.apache.spark.version": b"4.3.0"}


HOLD_AS_A_BUILD = """
import sys, time
from pathlib import Path
from stedi_lakehouse.warehouse_lock import hold_warehouse
with hold_warehouse(Path(sys.argv[1]), "dbt build"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_erase_refuses_while_a_build_holds_the_warehouse(seed: Path, tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    before = landing_zone(landing)
    assert stedi("erasure-request", ERASED, "--seed", str(seed)).returncode == 0
    build = subprocess.Popen([str(BIN / "python"), "-c", HOLD_AS_A_BUILD, str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert build.stdout is not None and build.stdout.readline().strip() == "held"
        result = stedi("erase", "--landing", str(landing), "--warehouse", str(warehouse), "--seed", str(seed))
    finally:
        build.kill()
        build.wait()
    assert result.returncode == 2
    assert result.stderr == f"stedi erase: warehouse {warehouse} is in use by pid {build.pid} (dbt build): wait for it to finish, then run again\n"
    assert all((landing / name).read_bytes() == content for name, content in before.items())


def test_erase_refuses_while_a_thrift_server_serves_the_warehouse(seed: Path, tmp_path: Path) -> None:
    from stedi_lakehouse.thrift import THRIFT_SERVER_CLASS

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    landing_zone(landing)
    (warehouse / "thrift" / "tables").mkdir(parents=True)
    # a process whose command line names the server class stands for a running server
    server = subprocess.Popen([str(BIN / "python"), "-c", "import time; time.sleep(600)", THRIFT_SERVER_CLASS])
    try:
        (warehouse / "thrift" / "thrift-server.pid").write_text(f"{server.pid}\n")
        assert stedi("erasure-request", ERASED, "--seed", str(seed)).returncode == 0
        result = stedi("erase", "--landing", str(landing), "--warehouse", str(warehouse), "--seed", str(seed))
    finally:
        server.kill()
        server.wait()
    assert result.returncode == 2
    assert result.stderr.startswith(f"stedi erase: a Thrift server (pid {server.pid}) serves {warehouse / 'thrift'}: stop it")


def test_the_build_preflight_refuses_a_key_that_would_break_out_of_its_sql_literal(tmp_path: Path) -> None:
    """Spark would print the statement, key included, in its parse error."""
    landing = tmp_path / "landing"
    for zone in ("customer", "accelerometer", "step_trainer"):
        (landing / zone / "landing").mkdir(parents=True)
        (landing / zone / "landing" / f"{zone}.json").write_text("{}\n")
    salt = {"STEDI_SUBJECT_SALT": "a-salt-of-this-test-0123456789ab"}  # not demo data: the preflight wants one
    broken = stedi("preflight", "--skip-java", "--landing", str(landing), key="it's-a-key-with-a-quote-0123456789abcdef", env=salt)
    assert broken.returncode == 2 and "STEDI_ERASURE_KEY must be at least 16 characters" in broken.stderr
    assert "it's" not in broken.stderr
    assert stedi("preflight", "--skip-java", "--landing", str(landing), env=salt).returncode == 0
