"""The user-facing errors of the tooling: one clear line, no stack trace."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

from lakehouse import BIN, PROJECT_DIR, run_dbt

SALT = "a-secret-salt-of-the-test"


def stedi(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "stedi"), *args], capture_output=True, text=True, env=env, check=False)


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_landing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = stedi("preflight", "--skip-java", "--landing", str(missing))
    assert_one_clear_line(result, str(missing), "no such folder", "customer/landing/", "*.json.gz")


def test_missing_zone_folders(tmp_path: Path) -> None:
    (tmp_path / "customer" / "landing").mkdir(parents=True)
    (tmp_path / "customer" / "landing" / "customer-1.json").write_text("{}\n")
    result = stedi("preflight", "--skip-java", "--landing", str(tmp_path))
    assert_one_clear_line(
        result,
        f"landing zone accelerometer has no records ({tmp_path}/accelerometer/landing: no such folder)",
        f"landing zone step_trainer has no records ({tmp_path}/step_trainer/landing: no such folder)",
    )
    assert "zone customer" not in result.stderr


def good_landing(root: Path) -> Path:
    for zone in ("customer", "accelerometer", "step_trainer"):
        (root / zone / "landing" / "2022" / "06").mkdir(parents=True)
        (root / zone / "landing" / "2022" / "06" / f"{zone}-1.json").write_text("{}\n")
    return root


def test_a_zone_of_empty_files_has_no_records(tmp_path: Path) -> None:
    """0 bytes, blank lines, an empty gzip: no record. Markers, hidden files and other names
    are not deliveries, whatever they hold."""
    zone = good_landing(tmp_path) / "customer" / "landing"
    shutil.rmtree(zone)
    (zone / "_temporary").mkdir(parents=True)
    (zone / "empty.json").touch()
    (zone / "blank.json").write_text("\n  \n")
    (zone / "empty.json.gz").write_bytes(gzip.compress(b""))
    for name in ("_SUCCESS", ".hidden.json", "_temporary/part.json", "README.txt"):
        (zone / name).write_text('{"email": "a@b.c"}\n')
    result = stedi("preflight", "--skip-java", "--landing", str(tmp_path))
    assert_one_clear_line(result, f"landing zone customer has no records ({zone}: 3 .json/.json.gz files, all empty)")


def test_a_broken_gzip_is_named(tmp_path: Path) -> None:
    broken = good_landing(tmp_path) / "step_trainer" / "landing" / "2022" / "06" / "step_trainer-1.json.gz"
    broken.write_bytes(b"not gzip")
    (broken.parent / "step_trainer-1.json").unlink()
    result = stedi("preflight", "--skip-java", "--landing", str(tmp_path))
    assert_one_clear_line(result, f"{broken}: not a readable gzip file")


def test_relative_and_file_uri_roots_are_the_same_folder(tmp_path: Path) -> None:
    root = good_landing(tmp_path / "data")
    expected = f"stedi preflight: landing {root}: customer 1 file, accelerometer 1 file, step_trainer 1 file\n"
    env = {**os.environ, "STEDI_SUBJECT_SALT": SALT}  # not demo data: a salt is needed
    for given in ("data", "./data/", f"file://{root}"):
        result = subprocess.run(
            [str(BIN / "stedi"), "preflight", "--skip-java", "--landing", given], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert result.stdout == expected, (given, result.stderr)
    # make resolves a relative path against the folder it runs in, and a file:// URI to its
    # folder, and exports the absolute one
    for given in (os.path.relpath(root, PROJECT_DIR), f"file://{root}"):
        result = subprocess.run(
            ["make", "--no-print-directory", "-s", "preflight", f"STEDI_LANDING_PATH={given}"],
            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
        )
        assert result.stdout.endswith(expected), (given, result.stdout + result.stderr)


def test_s3_zones_are_listed(tmp_path: Path) -> None:
    import boto3

    from stedi_lakehouse.checks.athena_check import DUMMY_AWS, empty_aws

    with empty_aws() as endpoint:
        env = {**os.environ, **DUMMY_AWS, "STEDI_S3_ENDPOINT_URL": endpoint, "STEDI_SUBJECT_SALT": SALT}
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
        s3.create_bucket(Bucket="lake")
        s3.put_object(Bucket="lake", Key="feed/customer/landing/2022/06/18/part.json", Body=b"{}\n")
        s3.put_object(Bucket="lake", Key="feed/accelerometer/landing/_SUCCESS", Body=b"")
        s3.put_object(Bucket="lake", Key="feed/accelerometer/landing/_temporary/part.json", Body=b"{}\n")
        s3.put_object(Bucket="lake", Key="feed/step_trainer/landing/part.json.gz", Body=gzip.compress(b"{}\n"))
        result = stedi("preflight", "--skip-java", "--landing", "s3://lake/feed/", env=env)
        assert_one_clear_line(result, "landing zone accelerometer has no records (s3://lake/feed/accelerometer/landing/: no non-empty .json or .json.gz object)")
        s3.put_object(Bucket="lake", Key="feed/accelerometer/landing/2022/part.json", Body=b"{}\n")
        result = stedi("preflight", "--skip-java", "--landing", "s3://lake/feed/", env=env)
        assert result.stdout == "stedi preflight: landing s3://lake/feed: customer 1 object, accelerometer 1 object, step_trainer 1 object\n"
        missing = stedi("preflight", "--skip-java", "--landing", "s3://no-such-bucket/feed", env=env)
        assert_one_clear_line(missing, "cannot list s3://no-such-bucket/feed/customer/landing/")


def test_dbt_refuses_a_relative_landing_path(tmp_path: Path) -> None:
    """dbt run directly (not through make or `stedi dbt`) with a relative path: one line, instead
    of Spark reading a folder relative to the warehouse."""
    result = run_dbt(["parse"], landing="relative/landing", warehouse=tmp_path, check=False)
    assert result.returncode != 0
    assert "STEDI_LANDING_PATH=relative/landing is a relative path: give an absolute path or URI" in result.stdout


def test_good_landing_folder_passes(tmp_path: Path) -> None:
    env = {**os.environ, "STEDI_SUBJECT_SALT": SALT}  # not demo data: a salt is needed
    assert stedi("preflight", "--skip-java", "--landing", str(good_landing(tmp_path)), env=env).returncode == 0


def test_no_java_says_to_install_java_17(tmp_path: Path) -> None:
    python_only = tmp_path / "bin"
    python_only.mkdir()
    env = {**os.environ, "PATH": str(python_only)}
    result = stedi("preflight", "--landing", str(tmp_path), env=env)
    assert_one_clear_line(result, "install Java 17")


def test_old_java_is_refused(tmp_path: Path) -> None:
    fake_java = tmp_path / "java"
    fake_java.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_392"\' >&2\n')
    fake_java.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    result = stedi("preflight", "--landing", str(tmp_path), env=env)
    assert_one_clear_line(result, "Java 8", "install Java 17")


def test_make_build_stops_on_a_missing_landing_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = subprocess.run(
        ["make", "--no-print-directory", "preflight", f"STEDI_LANDING_PATH={missing}"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"STEDI_LANDING_PATH={missing}: no such folder" in result.stderr
    assert "Traceback" not in result.stderr
