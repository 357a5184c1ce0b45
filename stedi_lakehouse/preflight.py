"""Checks run before a build, each failing with one line that says what is wrong and where."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from stedi_lakehouse.paths import LANDING_ZONES

MINIMUM_JAVA = 17


class PreflightError(Exception):
    """A problem the user can fix; its message is the one line to show."""


def check_landing(landing_path: str) -> None:
    """Fail unless every landing zone folder under landing_path holds at least one .json file."""
    if landing_path.startswith("s3://"):
        return  # checked by Athena itself; there is no local folder to look at
    root = Path(landing_path)
    expected = ", ".join(f"{zone}/landing/*.json" for zone in LANDING_ZONES)
    if not root.is_dir():
        raise PreflightError(
            f"STEDI_LANDING_PATH={landing_path}: no such folder; expected a landing zone with {expected}"
        )
    empty = [zone for zone in LANDING_ZONES if not any((root / zone / "landing").glob("*.json"))]
    if empty:
        missing = ", ".join(f"{root / zone / 'landing'}/*.json" for zone in empty)
        raise PreflightError(
            f"STEDI_LANDING_PATH={landing_path}: no landing files at {missing}; expected {expected}"
        )


def java_major_version(java: str) -> int:
    """The major version of a java executable (8 for 1.8, 17 for 17.0.15)."""
    output = subprocess.run([java, "-version"], capture_output=True, text=True, check=True).stderr
    version = output.split('"')[1] if '"' in output else output.split()[2]
    major, _, rest = version.partition(".")
    return int(rest.partition(".")[0]) if major == "1" else int(major)


def check_java() -> None:
    """Fail unless a Java 17 or newer runtime is on the PATH (Spark runs on it)."""
    java = shutil.which("java")
    install = f"install Java {MINIMUM_JAVA} (e.g. 'apt-get install openjdk-{MINIMUM_JAVA}-jre-headless') and retry"
    if java is None:
        raise PreflightError(f"no 'java' on PATH: Spark needs Java {MINIMUM_JAVA}; {install}")
    try:
        major = java_major_version(java)
    except (OSError, subprocess.CalledProcessError, IndexError, ValueError):
        raise PreflightError(f"{java} does not run as a Java runtime; {install}") from None
    if major < MINIMUM_JAVA:
        raise PreflightError(f"{java} is Java {major}, Spark needs Java {MINIMUM_JAVA} or newer; {install}")
