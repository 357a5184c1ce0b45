"""The user-facing errors of the tooling: one clear line, no stack trace."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lakehouse import BIN, PROJECT_DIR


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
    assert_one_clear_line(result, str(missing), "no such folder", "customer/landing/*.json")


def test_empty_landing_folder(tmp_path: Path) -> None:
    (tmp_path / "customer" / "landing").mkdir(parents=True)
    (tmp_path / "customer" / "landing" / "customer-1.json").write_text("{}\n")
    result = stedi("preflight", "--skip-java", "--landing", str(tmp_path))
    assert_one_clear_line(result, "accelerometer/landing/*.json", "step_trainer/landing/*.json")
    assert "customer/landing/*.json;" not in result.stderr.split("expected")[0]


def test_good_landing_folder_passes(tmp_path: Path) -> None:
    for zone in ("customer", "accelerometer", "step_trainer"):
        (tmp_path / zone / "landing").mkdir(parents=True)
        (tmp_path / zone / "landing" / f"{zone}-1.json").write_text("{}\n")
    env = {**os.environ, "STEDI_SUBJECT_SALT": "a-secret-salt-of-the-test"}  # not demo data: a salt is needed
    assert stedi("preflight", "--skip-java", "--landing", str(tmp_path), env=env).returncode == 0


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
