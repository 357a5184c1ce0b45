"""The landing data `stedi athena-check` proves the Athena target on, and its Spark build.

Generated demo data (every hard case of the rules) plus, in each zone, a file of lines that
probe how a JSON reader types values: wrong types, nested values, NaN, exponents, trailing text,
keys in another case, blank lines. They belong to a customer who is trusted and curated, at
times after every other reading, so a line one engine keeps and the other drops changes the
trusted and curated tables. Lines on which Spark's reader and Athena's SerDe are known to
disagree (docs/athena.md, "Where the engines read JSON differently") are not among them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stedi_lakehouse.dbt_env import isolated_dbt_env

if TYPE_CHECKING:
    from stedi_lakehouse.checks.athena_incremental import Day

EDGE_CASE_FILE = "zz-edge-cases.json"
MAIN_JOB = ["build", "--exclude-resource-type", "unit_test"]  # the Makefile's main job
# What a copy of the project leaves out: environments, builds, demo data, caches.
PROJECT_COPY_IGNORED = (".venv", ".git", "target", "logs", "warehouse", "demo_landing", ".dbt", "__pycache__", ".pytest_cache")


class ScenarioError(Exception):
    """The landing data or the Spark build could not be made; the message says why."""


def _records(landing_root: Path, zone: str) -> list[dict[str, Any]]:
    records = []
    for path in sorted((landing_root / zone / "landing").glob("*.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def _subject(customers: list[dict[str, Any]]) -> dict[str, Any]:
    """A customer certain to be trusted: one distinct record, with consent and a serial number
    nobody else holds."""
    by_email: dict[str, list[str]] = defaultdict(list)
    emails_of_serial: dict[str, set[str]] = defaultdict(set)
    for record in customers:
        email = str(record.get("email") or "").strip().lower()
        if email:
            by_email[email].append(json.dumps(record, sort_keys=True))
            emails_of_serial[str(record.get("serialNumber"))].add(email)
    for email in sorted(by_email):
        record = json.loads(by_email[email][0])
        if (
            len(set(by_email[email])) == 1
            and isinstance(record.get("shareWithResearchAsOfDate"), int)
            and isinstance(record.get("serialNumber"), str)
            and emails_of_serial[record["serialNumber"]] == {email}
        ):
            return record
    raise ScenarioError("no customer in the landing data has one record, consent and an unshared serial number")


def _latest_time(landing_root: Path) -> int:
    times = [record.get("timestamp") for record in _records(landing_root, "accelerometer")]
    times += [record.get("sensorReadingTime") for record in _records(landing_root, "step_trainer")]
    return max((value for value in times if isinstance(value, int)), default=0)


def edge_case_lines(subject: dict[str, Any], start: int) -> dict[str, list[str]]:
    """Lines per zone; `start` is a time after every other reading and the subject's consent."""
    user, serial = json.dumps(subject["email"]), json.dumps(subject["serialNumber"])

    def reading(offset: int | str, x: str = "0.5", y: str = "-0.25", z: str = "1.0", user_key: str = "user") -> str:
        timestamp = start + offset if isinstance(offset, int) else offset
        return f'{{"{user_key}":{user},"timestamp":{timestamp},"x":{x},"y":{y},"z":{z}}}'

    def device(offset: int | str, distance: str = "200", time_key: str = "sensorReadingTime") -> str:
        reading_time = start + offset if isinstance(offset, int) else offset
        return f'{{"{time_key}":{reading_time},"serialNumber":{serial},"distanceFromObject":{distance}}}'

    def person(number: int, **values: str) -> str:
        fields = {
            "customerName": '"Edge Case"', "email": f'"edge.case{number}@example.com"', "phone": '"8015550100"',
            "birthDay": '"1990-01-01"', "serialNumber": f'"edge-case-serial-{number}"', "registrationDate": str(start),
            "lastUpdateDate": str(start + 1), "shareWithResearchAsOfDate": str(start + 1),
        } | values
        return "{" + ",".join(f'"{key}":{value}' for key, value in fields.items()) + "}"

    return {
        "accelerometer": [
            reading(0, z="1e-3"),                                   # kept: an exponent
            reading(1, x="NaN", y='"Infinity"', z='"-Infinity"'),   # kept: non-finite doubles
            reading(2, x='"abc"'),                                  # malformed: a word for a double
            reading(f"{start + 3}.0"),                              # malformed: a fraction for a bigint
            reading(4, x='{"a":1}'),                                # malformed: an object for a double
            reading("true"),                                        # malformed: a boolean for a bigint
            reading("99999999999999999999"),                        # malformed: beyond bigint
            reading(7) + " trailing text",                          # kept: text after the record
            reading(8, user_key="USER"),                            # no user: keys match exactly
            reading(9)[:-1] + ',"User":"someone.else@example.com"}',  # kept: a key in another case is another key
            reading(10)[:-1] + ',"extra":{"a":[1,2,{"b":null}]}}',    # kept: an unknown nested field
            reading(11, x="null"),                                  # kept: a null value
            reading(15, x="[1]"),                                   # malformed: an array for a double
            reading(16, x="1", y="-0", z="0.0"),                    # kept: whole numbers and zeros as doubles
            "",                                                     # blank lines
            "   \t",
        ],
        "step_trainer": [
            device(0),                                              # kept, paired with reading 0
            device(1, "250"),                                       # kept, paired with the NaN reading
            device(2, '"far"'),                                     # malformed: a word for an int
            device(3, "1.5"),                                       # malformed: a fraction for an int
            device(4, "3000000000"),                                # malformed: beyond int
            device(5, "{}"),                                        # malformed: an object for an int
            device(7, "180") + " trailing text",                    # kept, paired with reading 7
            device(8, time_key="sensorreadingtime"),                # no reading time: keys match exactly
            device(9)[:-1] + ',"note":{"firmware":"1.2"}}',         # kept: an unknown nested field
            device(10, "300"),                                      # two distances in one millisecond:
            device(10, "290"),                                      # the smaller is kept
        ],
        "customer": [
            person(1, lastUpdateDate='"yesterday"'),                # malformed: a word for a bigint
            person(2, shareWithResearchAsOfDate='{"since":1}'),     # malformed: an object for a bigint
            person(3, registrationDate="1.5e12"),                   # malformed: an exponent for a bigint
            person(4, phone="8015550104"),                          # trusted: a number for a string
            person(5) + " trailing text",                           # trusted: text after the record
            person(6).replace('"email"', '"Email"'),                # no email: keys match exactly
            person(4, lastUpdateDate=str(start + 5), shareWithResearchAsOfDate='"no"'),  # malformed: not a revocation
        ],
    }


def write_edge_cases(landing_root: Path) -> dict[str, int]:
    """Add the edge-case file to each zone of a landing folder; lines written per zone."""
    subject = _subject(_records(landing_root, "customer"))
    start = max(_latest_time(landing_root), subject["shareWithResearchAsOfDate"]) + 60_000
    written = {}
    for zone, lines in edge_case_lines(subject, start).items():
        (landing_root / zone / "landing" / EDGE_CASE_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[zone] = len(lines)
    return written


def spark_build(project_dir: Path, landing: Path, warehouse: Path) -> float:
    """The Makefile's main job (`dbt build` without unit tests: they prove nothing about the
    tables compared) on the embedded Spark into its own warehouse; seconds it took."""
    env = isolated_dbt_env(landing, warehouse, project_dir)
    dbt = Path(sys.executable).parent / "dbt"
    started = time.monotonic()
    result = subprocess.run(
        [str(dbt), *MAIN_JOB, "--target", "local", "--project-dir", str(project_dir)],
        cwd=project_dir, env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise ScenarioError(f"the Spark build to compare with failed:\n{result.stdout[-3000:]}")
    return time.monotonic() - started


def project_requesting_erasure(project_dir: Path, destination: Path, landing_root: Path) -> Path:
    """A copy of the project whose request file asks to erase a customer whose email is padded
    and mixed-case (the generator's case-variant persona): each engine must find them by the
    request's keyed hash of lower(trim(email)) (macro email_hmac)."""
    from stedi_lakehouse.erasure.keys import DEMO_ERASURE_KEY, ERASURE_KEY_ENV
    from stedi_lakehouse.erasure.requests import record_requests

    shutil.copytree(project_dir, destination, ignore=shutil.ignore_patterns(*PROJECT_COPY_IGNORED))
    padded = (record.get("email") for record in _records(landing_root, "customer"))
    email = next((email for email in padded if isinstance(email, str) and email != email.strip()), None)
    if email is None:
        raise ScenarioError("no customer in the landing data has an email padded with spaces")
    seed = destination / "seeds" / "erasure_requests.csv"
    seed.write_text("email_hmac,requested_at\n", encoding="utf-8")
    key = os.environ.get(ERASURE_KEY_ENV) or DEMO_ERASURE_KEY  # the key the build and the compile use
    record_requests([email], key.encode(), "2024-05-01 00:00:00", seed)
    return destination


def prepare(work_dir: Path, customers: int, project_dir: Path) -> tuple[Path, Path, Path]:
    """Fresh landing data with the edge cases and a copy of the project with an erasure request
    under work_dir, built on Spark; returns the landing folder, the Spark build's table folder
    and the project."""
    from stedi_lakehouse.generate import GeneratorConfig, generate_landing

    landing, warehouse = work_dir / "landing", work_dir / "spark"
    shutil.rmtree(work_dir, ignore_errors=True)
    generate_landing(landing, GeneratorConfig(customers=customers, readings_per_customer=20, seed=11, days=3))
    write_edge_cases(landing)
    project = project_requesting_erasure(project_dir, work_dir / "project", landing)
    spark_build(project, landing, warehouse)
    return landing, warehouse / "tables" / f"{os.environ.get('STEDI_SCHEMA', 'stedi')}.db", project


def _curated_email(tables: Path) -> str:
    """A customer of the Spark build's customer_curated (the first by email)."""
    import duckdb

    rows = duckdb.sql(f"select min(email) from read_parquet('{tables / 'customer_curated'}/**/*.parquet')").fetchall()
    if not rows or rows[0][0] is None:
        raise ScenarioError(f"{tables}: customer_curated is empty, nobody to erase")
    return str(rows[0][0])


def delivered_days(work_dir: Path, landing: Path, tables: Path, project: Path) -> list[Day]:
    """Two days delivered to the landing folder `prepare` built (its Spark tables `tables`),
    each built incrementally on Spark: a day without consent changes, then a day with them (two
    revocations, a late consent, a serial number that becomes shared) and an erasure request
    for a curated customer. Each day's Spark tables before and after, and its landing files,
    are copied aside for the offline Athena to start from and compare with."""
    from stedi_lakehouse.checks.athena_incremental import Day
    from stedi_lakehouse.erasure.keys import DEMO_ERASURE_KEY, ERASURE_KEY_ENV
    from stedi_lakehouse.erasure.requests import record_requests
    from stedi_lakehouse.generate import append_day

    warehouse = tables.parent.parent
    days = []
    before = work_dir / "spark-tables-0"
    shutil.rmtree(before, ignore_errors=True)
    shutil.copytree(tables, before)
    for number, consent_changes in enumerate((False, True), start=1):
        append_day(landing, consent_changes=consent_changes)
        name = "a day with consent changes and an erasure request" if consent_changes else "a day without consent changes"
        if consent_changes:
            key = os.environ.get(ERASURE_KEY_ENV) or DEMO_ERASURE_KEY
            record_requests([_curated_email(tables)], key.encode(), "2024-05-02 00:00:00", project / "seeds" / "erasure_requests.csv")
        spark_build(project, landing, warehouse)
        day_project, day_landing, after = (work_dir / f"{kind}-{number}" for kind in ("project", "landing", "spark-tables"))
        for source, copy in ((project, day_project), (landing, day_landing), (tables, after)):
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns(*PROJECT_COPY_IGNORED))
        days.append(Day(name, day_project, day_landing, landing, before, after))
        before = after
    return days
