"""Checks run before a build, each failing with one line that says what is wrong and where."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from stedi_lakehouse.demo_marker import why_not_demo_data
from stedi_lakehouse.paths import LANDING_ZONES, PROJECT_DIR

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


# dbt_project.yml's default of the subject_id_salt var: public, for generated demo data only
DEMO_SUBJECT_SALT = "local-demo-salt"
MINIMUM_SECRET_LENGTH = 16
SECRET_PURPOSES = {
    "STEDI_SUBJECT_SALT": "salt for subject_id (else anyone with a list of emails can re-identify every subject)",
    "STEDI_ERASURE_KEY": "key for the hashed erasure requests",
}
ERASURE_REQUESTS = PROJECT_DIR / "seeds" / "erasure_requests.csv"


def why_secrets_are_needed(target: str, landing_path: str) -> str | None:
    """None when the build may use the public demo salt: an embedded (local) build of generated
    demo data; else what makes the secrets necessary, in a phrase."""
    if target != "local":
        return f"this is a build on the {target} target"
    if landing_path.startswith("s3://"):
        return f"STEDI_LANDING_PATH={landing_path} is not generated demo data"
    reason = why_not_demo_data(Path(landing_path))
    return None if reason is None else f"STEDI_LANDING_PATH={landing_path} is not generated demo data ({reason})"


def erasure_request_count(seed: Path = ERASURE_REQUESTS) -> int:
    """Rows of the erasure-request seed (blank lines and the header left out)."""
    if not seed.is_file():
        return 0
    return max(0, sum(1 for line in seed.read_text(encoding="utf-8").splitlines() if line.strip()) - 1)


def check_secret(variable: str, value: str | None, why: str) -> None:
    """Fail unless `value` is fit to be the secret `variable` of a build that needs it (`why`)."""
    if not value:
        problem = "is not set"
    elif value == DEMO_SUBJECT_SALT:
        problem = "is the public demo salt"
    elif len(value) < MINIMUM_SECRET_LENGTH:
        problem = f"has {len(value)} characters (a short secret can be guessed; {MINIMUM_SECRET_LENGTH} at least)"
    else:
        return
    raise PreflightError(
        f"{variable} {problem}, and {why}: the build needs a secret {SECRET_PURPOSES[variable]}; "
        f"set it and keep it: export {variable}=\"$(openssl rand -hex 32)\", "
        f"or on AWS {variable}_SECRET_ID=<secret name> (see docs/aws.md)"
    )


def check_secrets(
    target: str,
    landing_path: str,
    secrets: dict[str, str],
    require_erasure_key: bool = False,
    erasure_seed: Path = ERASURE_REQUESTS,
) -> str | None:
    """Fail unless the build has the secrets it needs; return a note when it may do without.

    The erasure key is needed as the salt is, once the erasure seed holds requests; with
    require_erasure_key, always."""
    why = why_secrets_are_needed(target, landing_path)
    if why is not None:
        check_secret("STEDI_SUBJECT_SALT", secrets.get("STEDI_SUBJECT_SALT"), why)
    requests = erasure_request_count(erasure_seed)
    if require_erasure_key or (why is not None and requests):
        reasons = [why] if why else ["--require-erasure-key is given"]
        if requests:
            reasons.append(f"{erasure_seed.name} holds {requests} erasure request(s)")
        check_secret("STEDI_ERASURE_KEY", secrets.get("STEDI_ERASURE_KEY"), " and ".join(reasons))
        if secrets["STEDI_ERASURE_KEY"] == secrets.get("STEDI_SUBJECT_SALT"):
            raise PreflightError("STEDI_ERASURE_KEY equals STEDI_SUBJECT_SALT: give each purpose its own secret")
    if why is None and not secrets.get("STEDI_SUBJECT_SALT"):
        return "generated demo data: subject_id uses the public demo salt (never do this with real data)"
    return None
