"""Checks run before a build, each failing with one line that says what is wrong and where."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stedi_lakehouse.demo_marker import why_not_demo_data
from stedi_lakehouse.landing import (
    LandingRootError,
    holds_a_record,
    is_data_file,
    is_hidden,
    resolve_landing_root,
    walk_zone,
    zone_folder,
)
from stedi_lakehouse.paths import LANDING_ZONES, PROJECT_DIR

MINIMUM_JAVA = 17
EXPECTED = f"{', '.join(f'{zone}/landing/' for zone in LANDING_ZONES)} holding *.json or *.json.gz files (at any depth)"


class PreflightError(Exception):
    """A problem the user can fix; its message is the one line to show."""


def landing_root(value: str | None, cwd: Path | None = None) -> str:
    """The absolute landing root a build reads, from STEDI_LANDING_PATH (relative to `cwd`)."""
    if not value:
        raise PreflightError("STEDI_LANDING_PATH is not set: point it at a landing zone folder or s3:// prefix")
    try:
        return resolve_landing_root(value, cwd)
    except LandingRootError as error:
        raise PreflightError(str(error)) from None


def check_landing(root: str) -> str:
    """Fail unless every landing zone under `root` holds a record; else a one-line summary.

    A zone folder that is missing, empty, or holds only empty files (0 bytes, blank lines, an
    empty gzip) stops the build here, before Spark starts, naming the zone and its folder.
    """
    if root.startswith("s3://"):
        return _check_s3_landing(root)
    if "://" in root:
        return f"landing {root}: not checked here (read by the engine at that URI)"
    if not Path(root).is_dir():
        raise PreflightError(f"STEDI_LANDING_PATH={root}: no such folder; expected {EXPECTED}")
    summaries, problems, skipped = [], [], 0
    for zone in LANDING_ZONES:
        folder = Path(zone_folder(root, zone))
        files = list(walk_zone(Path(root), zone))
        data = [(path, file) for path, file in files if file.is_data]
        skipped += len(files) - len(data)
        if not folder.is_dir():
            problems.append(f"landing zone {zone} has no records ({folder}: no such folder)")
        elif not any(file.size and _holds_a_record(path, root) for path, file in data):
            found = f"{len(data)} .json/.json.gz files, all empty" if data else "no .json or .json.gz file"
            problems.append(f"landing zone {zone} has no records ({folder}: {found})")
        else:
            summaries.append(_count(zone, len(data), "file"))
    if problems:
        raise PreflightError(f"STEDI_LANDING_PATH={root}: {'; '.join(problems)}; expected {EXPECTED}")
    not_read = f"; {_count('not read as data:', skipped, 'other file')}" if skipped else ""
    return f"landing {root}: {', '.join(summaries)}{not_read}"


def _count(label: str, number: int, noun: str) -> str:
    return f"{label} {number:,} {noun}{'' if number == 1 else 's'}"


def _holds_a_record(path: Path, root: str) -> bool:
    try:
        return holds_a_record(path)
    except (OSError, EOFError) as error:
        raise PreflightError(f"{path}: not a readable gzip file ({error}); remove or replace it under {root}") from None


def _check_s3_landing(root: str) -> str:
    """List each zone's prefix: it must hold a non-empty data object (reading them is the engine's job)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, prefix = root.removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=os.environ.get("STEDI_S3_ENDPOINT_URL") or None)
    summaries, problems = [], []
    for zone in LANDING_ZONES:
        zone_prefix = f"{prefix.strip('/')}/{zone}/landing/".lstrip("/")
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=zone_prefix)
            keys = [item for page in pages for item in page.get("Contents", [])]
        except (BotoCoreError, ClientError) as error:
            raise PreflightError(f"STEDI_LANDING_PATH={root}: cannot list s3://{bucket}/{zone_prefix}: {error}") from None
        data = [
            item for item in keys
            if item["Size"] > 0
            and not any(is_hidden(part) for part in item["Key"][len(zone_prefix):].split("/"))
            and is_data_file(item["Key"])
        ]
        if data:
            summaries.append(_count(zone, len(data), "object"))
        else:
            problems.append(f"landing zone {zone} has no records (s3://{bucket}/{zone_prefix}: no non-empty .json or .json.gz object)")
    if problems:
        raise PreflightError(f"STEDI_LANDING_PATH={root}: {'; '.join(problems)}")
    return f"landing {root}: {', '.join(summaries)}"


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
