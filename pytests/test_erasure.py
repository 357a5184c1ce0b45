"""Erasure that leaves no trace, proven on one Spark build of generated data (with a second
day of readings and a gzip archive): three people are erased, one with case-variant emails, one
whose serial number was shared, one with readings in several files, on several days and in
malformed lines. Then no file under the landing zone, the warehouses (Parquet, the Derby
metastore, logs, dbt's target) or the project holds any of their emails in any case; every
other landing line is unchanged; erase runs killed at several points and rerun give the same
result; the next build is incremental and every table equals the oracle on the landing data
without them. The same erase on S3 and Glue (moto, versioned bucket) deletes old versions."""

from __future__ import annotations

import collections
import datetime
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from reference import COLUMNS, expected_zones

from lakehouse import BIN, ERASURE_KEY, SUBJECT_SALT, ZONE_TABLES, copy_project, read_table, run_dbt
from stedi_lakehouse.generate import CASE_VARIANT, SHARED_SERIAL_FIRST, append_day

# Kills erase at the N-th os.replace (argv[1]; 0: never, and prints how many there were): a
# file or the journal is then written to its temporary file but not renamed into place. The
# rest of argv is the `stedi` command line.
KILLED_AT = """
import os, signal, sys
from stedi_lakehouse.cli import main
calls, rename = 0, os.replace
def replace(source, destination):
    global calls
    calls += 1
    if calls == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    rename(source, destination)
os.replace = replace
status = main(sys.argv[2:])
print(f"renames: {calls}", file=sys.stderr)
sys.exit(status)
"""
# The next build after an erase: every table, and the tests that a delivery is missing from
# staging's manifest or a zone empty (the trusted and curated tables are compared with the oracle).
NEXT_BUILD = "resource_type:seed resource_type:model test_name:landing_files_are_staged test_name:landing_zones_have_records"
ERASED_PERSONAS = {"case-variant emails": CASE_VARIANT, "shared serial number": SHARED_SERIAL_FIRST}


@dataclass(frozen=True)
class Case:
    root: Path
    landing: Path
    warehouse: Path
    project: Path
    emails: dict[str, str]  # what each erased person is, their email (as first recorded)

    @property
    def seed(self) -> Path:
        return self.project / "seeds" / "erasure_requests.csv"

    @property
    def before(self) -> tuple[Path, Path]:
        return self.root / "landing-before", self.root / "warehouse-before"


def email_of(landing: Path, index: int) -> str:
    """The email of generated customer `index` (Ann.Lee13@test.com for 13), as its first record has it."""
    for path in sorted((landing / "customer" / "landing").glob("*.json")):
        for line in path.read_text().splitlines():
            try:
                email = json.loads(line).get("email", "")
            except ValueError:
                continue
            match = re.fullmatch(r"[A-Za-z]+\.[A-Za-z]+(\d+)@test\.com", email.strip(), re.IGNORECASE)
            if match and int(match[1]) == index:
                return email
    raise AssertionError(f"no customer {index} in {landing}")


def records_of(path: Path) -> list[dict[str, Any]]:
    """The well-formed JSON objects of a landing file."""
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def reader_on_most_days(landing: Path, first: Path, others: set[str]) -> str:
    """The email, as first recorded, of someone else with readings in `first` whose trusted
    readings (the oracle's) lie on the most days: erase must find them across days and files."""
    in_first = {email_key(str(record.get("user"))) for record in records_of(first)} - others
    days: dict[str, set[datetime.date]] = collections.defaultdict(set)
    for user, timestamp, *_ in expected_zones(landing, subject_salt=SUBJECT_SALT)["accelerometer_trusted"]:
        if email_key(user) in in_first:
            days[email_key(user)].add(datetime.datetime.fromtimestamp(timestamp / 1000, datetime.UTC).date())
    reader = max(sorted(days), key=lambda key: len(days[key]))
    for record in records(landing, "customer"):
        if isinstance(record.get("email"), str) and email_key(record["email"]) == reader:
            return record["email"]
    raise AssertionError(f"no customer record of {reader} in {landing}")


def stedi(*args: str, env: dict[str, str] | None = None, killed_at: int | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "python"), "-c", KILLED_AT, str(killed_at), *args] if killed_at is not None else [str(BIN / "stedi"), *args]
    environment = {**os.environ, "STEDI_ERASURE_KEY": ERASURE_KEY, "STEDI_SUBJECT_SALT": SUBJECT_SALT, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, check=False, env=environment)


@pytest.fixture(scope="module")
def case(demo_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Case:
    """The one Spark build of this module, with erasure requests recorded, and a copy of its
    landing zone and warehouse to start every erase from."""
    root = tmp_path_factory.mktemp("erasure")
    landing, warehouse = root / "landing", root / "warehouse"
    shutil.copytree(demo_landing, landing)
    append_day(landing, consent_changes=False)
    # a delivery in subfolders, gzip
    first = sorted((landing / "accelerometer" / "landing").glob("*.json"))[0]
    archive = landing / "accelerometer" / "landing" / "2022" / "06" / "accelerometer-old.json.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(gzip.compress(first.read_bytes()))
    emails = {what: email_of(landing, index) for what, index in ERASED_PERSONAS.items()}
    emails["readings in many files"] = reader_on_most_days(landing, first, {email_key(email) for email in emails.values()})
    # a delivery of one person's readings only, delivered before: erase deletes the whole file
    theirs = email_key(emails["readings in many files"])
    readings = first.read_text().splitlines(keepends=True)
    (landing / "accelerometer" / "landing" / "accelerometer-again.json").write_text("".join(line for line in readings if theirs in line.lower()))
    # others' readings, then a line of theirs cut off after their email: Spark stages it as a
    # malformed record that holds nothing of them, which must go as well
    [their_line, *_] = [line for line in readings if theirs in line.lower()]
    cut_off = their_line[: their_line.lower().index(theirs) + len(theirs) + 12] + "\n"
    others = [line for line in readings if theirs not in line.lower()][:5]
    (landing / "accelerometer" / "landing" / "batch-7" / "mixed.json").parent.mkdir()
    (landing / "accelerometer" / "landing" / "batch-7" / "mixed.json").write_text("".join([*others[:3], cut_off, *others[3:]]))
    project = copy_project(root / "project")
    # the tables only: the data tests prove nothing about erasure (they run on this data elsewhere)
    run_dbt(["build", "--indirect-selection", "empty", "--select", "resource_type:seed resource_type:model"], landing=landing, warehouse=warehouse, project_dir=project)
    # the local Thrift server's warehouse has the same layout: erase must clean it as well
    shutil.copytree(warehouse / "tables", warehouse / "thrift" / "tables")
    requested = stedi(
        "erasure-request", f"  {emails['case-variant emails'].upper()} ", emails["shared serial number"],
        emails["readings in many files"].lower(), "--requested-at", "2024-05-01 09:30:00", "--seed", str(project / "seeds" / "erasure_requests.csv"),
    )
    assert requested.returncode == 0, requested.stderr
    built = Case(root, landing, warehouse, project, emails)
    for source, copy in zip((landing, warehouse), built.before):
        shutil.copytree(source, copy)
    return built


def restore(case: Case) -> None:
    for target, copy in zip((case.landing, case.warehouse), case.before):
        shutil.rmtree(target)
        shutil.copytree(copy, target)


def erase(case: Case, killed_at: int | None = None) -> subprocess.CompletedProcess[str]:
    return stedi("erase", "--landing", str(case.landing), "--warehouse", str(case.warehouse), "--seed", str(case.seed), killed_at=killed_at)


# --- what the test expects, worked out on its own ---------------------------------------------

def email_key(value: str) -> str:
    return value.strip().lower()


def records(landing: Path, zone: str) -> list[dict[str, Any]]:
    return [record for path in sorted((landing / zone / "landing").rglob("*.json")) for record in records_of(path)]


def serials_only_they_held(landing: Path, erased: set[str]) -> set[str]:
    theirs, others = set(), set()
    for record in records(landing, "customer"):
        email, serial = record.get("email"), record.get("serialNumber")
        if isinstance(email, str) and email.strip() and serial:
            (theirs if email_key(email) in erased else others).add(serial)
    return theirs - others


def is_theirs(line: bytes, erased: set[str], serials: set[str]) -> bool:
    text = line.decode()
    try:
        record = json.loads(text)
    except ValueError:  # a malformed line is theirs when it quotes an email of theirs whole
        quoted = {email_key(value) for value in re.findall(r'"([^"]*)"', text)}
        return bool(quoted & erased) or bool(quoted & serials)
    values = record.values() if isinstance(record, dict) else []
    strings = {value for value in values if isinstance(value, str)}
    return bool({email_key(value) for value in strings} & erased) or bool(strings & serials)


def landing_without(before: Path, erased: set[str], serials: set[str]) -> dict[str, bytes]:
    """Every landing file, as bytes, less the erased people's lines; files left empty gone."""
    files = {}
    for path in sorted(before.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        lines = (gzip.decompress(data) if data.startswith(b"\x1f\x8b") else data).splitlines(keepends=True)
        kept = b"".join(line for line in lines if not is_theirs(line, erased, serials))
        if kept.strip():
            files[path.relative_to(before).as_posix()] = kept  # uncompressed, as landing_files reads it
    return files


def landing_files(landing: Path) -> dict[str, bytes]:
    return {
        path.relative_to(landing).as_posix(): gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        for path in sorted(landing.rglob("*"))
        if path.is_file()
    }


def table_rows(warehouse: Path) -> dict[str, collections.Counter[tuple[Any, ...]]]:
    """Every table of a warehouse folder (tables/<schema>.db/<table>) as a multiset of rows."""
    tables = {}
    for folder in sorted((warehouse / "tables").glob("*.db/*")):
        rows: collections.Counter[tuple[Any, ...]] = collections.Counter()
        for path in folder.rglob("*.parquet"):
            if not path.name.startswith((".", "_")):
                rows.update(tuple(sorted(row.items())) for row in pq.read_table(path, partitioning=None).to_pylist())
        tables[folder.name] = rows
    return tables


STAGING_TABLES = ("stg_landing__customers", "stg_landing__accelerometer_readings", "stg_landing__step_trainer_readings")


def is_delivery(name: str) -> bool:
    """A file the build reads: *.json, *.json.gz at any depth of <zone>/landing/, no hidden name
    under it (the generator's stedi-generator.json at the root is none)."""
    parts = name.split("/")
    return (
        len(parts) > 2 and parts[1] == "landing" and name.endswith((".json", ".json.gz"))
        and not any(part.startswith(("_", ".")) for part in parts[2:])
    )


def assert_staging_holds(deliveries: dict[str, bytes], staged: collections.Counter[str], manifest: collections.Counter[tuple[Any, ...]]) -> None:
    """Staging holds one record per line that is not blank of each delivery (malformed lines too),
    and its manifest one row per delivery that is not empty, with its size and those records.
    deliveries: path relative to the landing root -> content as stored; staged: records per path;
    manifest: (landing_file, file_size, staged_records) rows."""
    records_of = {
        name: sum(1 for line in (gzip.decompress(data) if name.endswith(".gz") else data).splitlines() if line.strip())
        for name, data in deliveries.items()
    }
    assert staged == collections.Counter({name: count for name, count in records_of.items() if count})
    assert manifest == collections.Counter((name, len(deliveries[name]), count) for name, count in records_of.items() if deliveries[name])


def assert_staging_holds_the_landing_zone(warehouse: Path, landing: Path) -> None:
    deliveries = {
        path.relative_to(landing).as_posix(): path.read_bytes()
        for path in sorted(landing.rglob("*"))
        if path.is_file() and is_delivery(path.relative_to(landing).as_posix())
    }
    staged: collections.Counter[str] = collections.Counter()
    for table in STAGING_TABLES:
        for (name,), count in read_table(warehouse, table, ["landing_file"]).items():
            staged[name] += count
    assert_staging_holds(deliveries, staged, read_table(warehouse, "stg_landing__files", ["landing_file", "file_size", "staged_records"]))


def staged_rows(warehouse: Path) -> dict[str, collections.Counter[tuple[Any, ...]]]:
    """What staging and its manifest say of each file, with when it was staged."""
    rows = {table: read_table(warehouse, table, ["landing_file", "loaded_at"]) for table in STAGING_TABLES}
    rows["stg_landing__files"] = read_table(warehouse, "stg_landing__files", ["landing_file", "file_size", "file_modified_at", "staged_records", "loaded_at"])
    return rows


def traces(roots: list[Path], emails: list[str]) -> list[str]:
    """Every file under the roots holding one of the emails in any case: in its bytes (UTF-8 or
    UTF-16, as Derby may store text), uncompressed if gzip, and in the values of a Parquet file."""
    needles = {email_key(email) for email in emails}
    patterns = [encoded for needle in needles for encoded in (needle.encode(), needle.encode("utf-16-le"), needle.encode("utf-16-be"))]
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            texts = [data]
            if data.startswith(b"\x1f\x8b"):
                texts.append(gzip.decompress(data))
            if data.startswith(b"PAR1") and data.endswith(b"PAR1"):
                values = pq.ParquetFile(pa.BufferReader(data)).read().to_pylist()
                texts.append(json.dumps(values, default=str).encode())
            if any(pattern in text.lower() for text in texts for pattern in patterns):
                found.append(str(path))
    return found


# --- the proof ---------------------------------------------------------------------------------

def test_erased_people_leave_no_trace(case: Case) -> None:
    landing_before, warehouse_before = case.before
    erased_keys = {email_key(email) for email in case.emails.values()}
    serials = serials_only_they_held(landing_before, erased_keys)

    # the people chosen hold what the test is about
    many_files = email_key(case.emails["readings in many files"])
    files_of = {path for path in (landing_before / "accelerometer" / "landing").glob("*.json") if many_files in path.read_text().lower()}
    assert len(files_of) >= 3, "the person's readings lie in one file only"
    dates = {row[0].date() for row in read_table(warehouse_before, "accelerometer_trusted", ["recorded_at", "user"]) if email_key(row[1]) == many_files}
    assert len(dates) >= 2, "the person's trusted readings lie on one day only"
    shared = {record["serialNumber"] for record in records(landing_before, "customer") if email_key(record.get("email") or "") == email_key(case.emails["shared serial number"])}
    assert shared and not shared & serials, "the shared serial number is taken for the person's own"
    curated = {email_key(row[0]) for row in read_table(warehouse_before, "customer_curated", ["email"])}
    assert erased_keys <= curated, "every erased person must be in the curated zone to prove anything"
    assert traces([landing_before, warehouse_before], list(erased_keys)), "the scan must find the emails before the erase"
    assert_staging_holds_the_landing_zone(warehouse_before, landing_before)

    # 1. an erase never interrupted, then erases killed at several points (in the plan, the
    # landing zone, the tables, before the audit record), each rerun: all end with the same files
    def erased(killed_at: int) -> tuple[tuple[Any, ...], list[dict[str, Any]], subprocess.CompletedProcess[str]]:
        """The files and audit counts after an erase killed at rename `killed_at` (0: never) and rerun."""
        restore(case)
        if killed_at:
            killed = erase(case, killed_at)
            assert killed.returncode == -signal.SIGKILL, killed.stderr
            assert (case.warehouse / "erasure" / "journal.json").exists() == (killed_at > 1)
        result = erase(case, killed_at=0)
        assert result.returncode == 0, result.stderr
        assert ("resuming run" in result.stdout) == (killed_at > 1), result.stdout
        assert not (case.warehouse / "erasure" / "journal.json").exists()
        audit = [json.loads(line) for path in sorted((case.warehouse / "erasure" / "log").glob("*.jsonl")) for line in path.read_text().splitlines()]
        counts = [(record["email_hmac"], record["records_removed"], record["files_rewritten"]) for record in audit]
        return (landing_files(case.landing), table_rows(case.warehouse), table_rows(case.warehouse / "thrift"), counts), audit, result

    final, audit, result = erased(0)
    renames = int(result.stderr.rpartition("renames: ")[2])
    # renames: 1 the plan's journal, then per file a journal record and the file, per table a step
    # done, the manifest of each warehouse, the run's time, the audit file. Killed at the landing
    # zone's first file, amid it, amid the tables, at the manifest, at the audit file:
    for killed_at in (2, renames // 8, renames // 2, renames - 2, renames):
        assert erased(killed_at)[0] == final, f"erase killed at rename {killed_at} of {renames} and rerun: another result"
    landing, tables, thrift_tables, _ = final
    printed = result.stdout
    # staging and its manifest hold what the landing zone holds now, in both warehouses
    for warehouse in (case.warehouse, case.warehouse / "thrift"):
        assert_staging_holds_the_landing_zone(warehouse, case.landing)

    # 2. every other person's landing lines are there, byte for byte, and nothing else; erase
    # changed exactly the files its audit log names (and the Thrift warehouse's like the other's)
    expected_landing = landing_without(landing_before, erased_keys, serials)
    assert landing == expected_landing
    assert thrift_tables == tables
    named = {path.split(" (")[0] for record in audit for paths in record["files_rewritten"].values() for path in paths}
    changed = set()
    for before, after in ((landing_before, case.landing), (warehouse_before, case.warehouse)):
        for path in before.rglob("*"):
            if path.is_file() and not path.name.startswith(".") and "erasure" not in path.parts:
                now = after / path.relative_to(before)
                if not now.exists() or now.read_bytes() != path.read_bytes():
                    changed.add(str(now))
    assert changed == named

    # 3. the audit log: one record per request, printed, with counts in every zone, no email
    assert len(audit) == 3 and {record["requested_at"] for record in audit} == {"2024-05-01 09:30:00"}
    for record in audit:
        # every erased person was a research subject: in the subjects of the reading tables and their bookkeeping too
        assert record["records_removed"].keys() == {"landing", "staging", "intermediate", "trusted", "curated", "bookkeeping"}, record
        assert all(count > 0 for count in record["records_removed"].values()), record
        assert record["carried_out_at"] and f"erased {record['email_hmac']}" in printed
    assert "@" not in json.dumps(audit) + printed

    # 4. the next build is incremental (nothing staged again, no file missing from the manifest:
    # its landing_files_are_staged test passes) and gives what the landing data without them gives
    staged_before = staged_rows(case.warehouse)
    run_dbt(["build", "--indirect-selection", "empty", "--select", NEXT_BUILD], landing=case.landing, warehouse=case.warehouse, project_dir=case.project)
    assert staged_rows(case.warehouse) == staged_before
    oracle_landing = case.root / "landing-without-them"
    for name, content in expected_landing.items():
        (oracle_landing / name).parent.mkdir(parents=True, exist_ok=True)
        (oracle_landing / name).write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    expected = expected_zones(oracle_landing, subject_salt=SUBJECT_SALT)
    for table in ZONE_TABLES:
        assert read_table(case.warehouse, table, COLUMNS[table]) == expected[table], table

    # 5. not a trace of them anywhere: landing, warehouse (tables, metastore, logs, target), project
    assert traces([case.landing, case.warehouse, case.project], list(case.emails.values())) == []


# --- the same on S3 and Glue, as Athena keeps them ------------------------------------------------

def person_rows(rows: collections.Counter[tuple[Any, ...]], erased: set[str], serials: set[str]) -> int:
    subjects = {hashlib.sha256((SUBJECT_SALT + email).encode()).hexdigest() for email in erased}
    count = 0
    for row, times in rows.items():
        values = dict(row)
        emails = {email_key(values[column]) for column in ("email", "email_key", "user") if isinstance(values.get(column), str)}
        if emails & erased or values.get("serialnumber") in serials or values.get("subject_id") in subjects:
            count += times
    return count


def upload(s3: Any, folder: Path, bucket: str, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{path.relative_to(folder).as_posix()}", Body=path.read_bytes())


def glue_tables_like(glue: Any, warehouse: Path, data_uri: str) -> None:
    """The Glue catalog of the Athena build of these tables: Parquet tables, with a Glue partition
    per partition folder (the reading tables' reading_date/subject_bucket, the bookkeeping's
    table_name); plus a landing table and a view, which erase leaves alone."""
    glue.create_database(DatabaseInput={"Name": "stedi"})
    for folder in sorted((warehouse / "tables" / "stedi.db").iterdir()):
        location = f"{data_uri}stedi/{folder.name}/"
        partitions = sorted({path.parent.relative_to(folder).parts for path in folder.rglob("*.parquet") if path.parent != folder})
        keys = [part.partition("=")[0] for part in partitions[0]] if partitions else []
        glue.create_table(DatabaseName="stedi", TableInput={
            "Name": folder.name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": {"Location": location, "Columns": []},
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in keys],
        })
        for parts in partitions:
            glue.create_partition(DatabaseName="stedi", TableName=folder.name, PartitionInput={
                "Values": [part.partition("=")[2] for part in parts], "StorageDescriptor": {"Location": f"{location}{'/'.join(parts)}/", "Columns": []},
            })
    glue.create_table(DatabaseName="stedi", TableInput={
        "Name": "customer_landing_json", "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {"Location": "s3://lake/landing/customer/landing/", "Columns": []},
    })
    glue.create_table(DatabaseName="stedi", TableInput={"Name": "customer_landing", "TableType": "VIRTUAL_VIEW", "StorageDescriptor": {"Columns": []}})


def test_the_same_erase_on_s3_and_glue(case: Case, tmp_path: Path) -> None:
    from stedi_lakehouse.checks.athena_check import empty_aws

    landing_before, warehouse_before = case.before
    erased_keys = {email_key(email) for email in case.emails.values()}
    serials = serials_only_they_held(landing_before, erased_keys)
    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with empty_aws() as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, **{"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"})
        glue = boto3.client("glue", endpoint_url=endpoint, **{"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"})
        s3.create_bucket(Bucket="lake")
        s3.put_bucket_versioning(Bucket="lake", VersioningConfiguration={"Status": "Enabled"})
        # older versions: one of a file holding them (it must go), one of a file of others only (it stays)
        theirs = next(path for path in sorted((landing_before / "customer" / "landing").glob("*.json")) if any(email in path.read_text().lower() for email in erased_keys))
        others = next(path for path in sorted((landing_before / "customer" / "landing").glob("*.json")) if not any(email in path.read_text().lower() for email in erased_keys))
        for path in (theirs, others):
            s3.put_object(Bucket="lake", Key=f"landing/{path.relative_to(landing_before).as_posix()}", Body=path.read_bytes() + b"\n")
        upload(s3, landing_before, "lake", "landing")
        upload(s3, warehouse_before / "tables" / "stedi.db", "lake", "tables/stedi")
        glue_tables_like(glue, warehouse_before, "s3://lake/tables/")

        result = stedi(
            "erase", "--warehouse", str(tmp_path / "warehouse"), "--seed", str(case.seed),
            env={**aws, "AWS_ENDPOINT_URL": endpoint, "STEDI_LANDING_PATH": "s3://lake/landing", "STEDI_ATHENA_S3_DATA_DIR": "s3://lake/tables/", "STEDI_ATHENA_SCHEMA": "stedi"},
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("erased ") == 3 and "s3://lake/tables/stedi/_erasure/log/" in result.stdout

        versions: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for page in s3.get_paginator("list_object_versions").paginate(Bucket="lake"):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                versions[item["Key"]].append(item)
        objects = {key: s3.get_object(Bucket="lake", Key=key)["Body"].read() for key, items in versions.items() if any(item.get("IsLatest") and "Size" in item for item in items)}
        every_version = {
            f"{key}@{item['VersionId']}": s3.get_object(Bucket="lake", Key=key, VersionId=item["VersionId"])["Body"].read()
            for key, items in versions.items() for item in items if "Size" in item
        }

    # the landing objects are the landing files less their lines; files left empty are gone with every version
    landing = {key.removeprefix("landing/"): gzip.decompress(data) if key.endswith(".gz") else data for key, data in objects.items() if key.startswith("landing/")}
    assert landing == landing_without(landing_before, erased_keys, serials)
    rewritten = {key for key in landing if landing[key] != landing_files(landing_before)[key]}
    assert rewritten and all(len(versions[f"landing/{key}"]) == 1 for key in rewritten), "an old version of a rewritten object is left"
    assert len(versions[f"landing/{others.relative_to(landing_before).as_posix()}"]) == 2, "an old version of others' lines only was deleted"
    gone = set(landing_files(landing_before)) - set(landing)
    assert gone and not any(versions.get(f"landing/{key}") for key in gone)

    # every table object holds the rows it held less theirs; staging and its manifest hold what the
    # landing objects hold now
    staged: collections.Counter[str] = collections.Counter()
    for folder in sorted((warehouse_before / "tables" / "stedi.db").iterdir()):
        before = table_rows(warehouse_before)[folder.name]
        after: collections.Counter[tuple[Any, ...]] = collections.Counter()
        for key, data in objects.items():
            if key.startswith(f"tables/stedi/{folder.name}/") and data.startswith(b"PAR1"):
                after.update(tuple(sorted(row.items())) for row in pq.ParquetFile(pa.BufferReader(data)).read().to_pylist())
        if folder.name == "stg_landing__files":
            manifest = collections.Counter({(values["landing_file"], values["file_size"], values["staged_records"]): count for row, count in after.items() for values in [dict(row)]})
        elif folder.name in STAGING_TABLES:
            assert after <= before and person_rows(after, erased_keys, serials) == 0, folder.name
            for row, count in after.items():
                staged[dict(row)["landing_file"]] += count
        else:
            assert sum(after.values()) == sum(before.values()) - person_rows(before, erased_keys, serials) and after <= before, folder.name
            assert person_rows(after, erased_keys, serials) == 0, folder.name
    assert_staging_holds({key.removeprefix("landing/"): data for key, data in objects.items() if key.startswith("landing/") and is_delivery(key.removeprefix("landing/"))}, staged, manifest)
    audit = [json.loads(line) for key, data in objects.items() if key.startswith("tables/stedi/_erasure/log/") for line in data.decode().splitlines()]
    assert len(audit) == 3 and all(record["records_removed"]["landing"] > 0 for record in audit)
    assert not any(key.endswith("journal.json") for key in objects)
    # not a trace of them in any version of any object
    scanned = tmp_path / "scanned"
    for key, data in every_version.items():
        (scanned / key).parent.mkdir(parents=True, exist_ok=True)
        (scanned / key).write_bytes(data)
    assert traces([scanned], list(case.emails.values())) == []
