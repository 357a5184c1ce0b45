"""Real landing feeds: every delivery read, nothing lost, and the build says so.

One Spark build of the starter data reshaped the way S3 feeds look (5,000 small files at any
depth, gzip, `_SUCCESS` markers, hidden files and folders, a README.txt, empty files, malformed
lines), then one incremental build of the same landing folder moved elsewhere, with a late file,
a new file and a file of the first build corrupted in place (which only an unopened file survives).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from reference import COLUMNS, landing_outcomes

from lakehouse import (
    BIN, PROJECT_DIR, SUBJECT_SALT, ZONE_TABLES, dbt_env, read_table, recorded_landing_outcomes, recorded_malformed_lines,
)
from stedi_lakehouse.checks.statements import STATEMENT_LIMIT, statement_sizes

STRICT_COUNTS = {
    "customer_trusted": 482,
    "accelerometer_trusted": 32025,
    "customer_curated": 464,
    "step_trainer_trusted": 11297,
    "machine_learning_curated": 32025,
}
OLD_TIME = 1_577_836_800  # 2020-01-01: a file copied with its old modification time
# A consenting customer with a serial nobody else holds: customer_trusted counts 483 if any
# file holding it is read.
INTRUDER = {
    "customerName": "Not A Delivery", "email": "not.a.delivery@test.com", "phone": "0", "birthDay": "1900-01-01",
    "serialNumber": "not-a-delivery", "registrationDate": 1655564376361, "lastUpdateDate": 1655564376361,
    "shareWithResearchAsOfDate": 1655564376361, "shareWithPublicAsOfDate": None, "shareWithFriendsAsOfDate": None,
}
JVM_BOILERPLATE = ("Using incubator modules", "Setting default log level", "setLogLevel")


@dataclass
class Feed:
    root: Path
    data_files: dict[str, int] = field(default_factory=dict)  # relative path -> non-blank lines
    malformed: dict[str, int] = field(default_factory=dict)  # relative path -> malformed lines

    def lines(self, zone: str) -> int:
        return sum(count for path, count in self.data_files.items() if path.startswith(f"{zone}/"))


def write_lines(feed: Feed, relative: str, lines: list[str], malformed: int = 0) -> Path:
    path = feed.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{line}\n" for line in lines).encode()
    path.write_bytes(gzip.compress(text) if relative.endswith(".gz") else text)
    feed.data_files[relative] = sum(1 for line in lines if line.strip())
    if malformed:
        feed.malformed[relative] = malformed
    return path


def chunks(lines: list[str], count: int) -> Iterator[list[str]]:
    """`lines` in `count` consecutive parts of (nearly) equal size."""
    for index in range(count):
        yield lines[index * len(lines) // count:(index + 1) * len(lines) // count]


def starter_lines(starter: Path, zone: str) -> list[str]:
    return [line.rstrip("\n") for path in sorted((starter / zone / "landing").glob("*.json")) for line in path.open() if line.strip()]


def reshape(starter: Path, root: Path) -> Feed:
    """The starter data as a feed delivers it: 5,000 data files and the usual debris."""
    feed = Feed(root)
    for index, part in enumerate(chunks(starter_lines(starter, "customer"), 100)):
        # half the customers in a subfolder
        folder = "customer/landing" if index < 50 else "customer/landing/2022/06/18"
        write_lines(feed, f"{folder}/customer-{index:03}.json", part)
    for index, part in enumerate(chunks(starter_lines(starter, "accelerometer"), 4020)):
        suffix = ".json.gz" if index % 10 == 0 else ".json"
        write_lines(feed, f"accelerometer/landing/2022/06/{index % 40 + 1:02}/part-{index:04}{suffix}", part)
    for index, part in enumerate(chunks(starter_lines(starter, "step_trainer"), 880)):
        write_lines(feed, f"step_trainer/landing/hour={index % 24:02}/part-{index:04}.json", part)
    # the debris of real feeds: nothing in it may be read as data
    intruder = json.dumps(INTRUDER)
    for zone in ("customer", "accelerometer", "step_trainer"):
        (root / zone / "landing" / "_SUCCESS").touch()
    for hidden in ("customer/landing/.extra.json", "customer/landing/_temporary/0/part.json", "customer/landing/.staging/part.json"):
        (root / hidden).parent.mkdir(parents=True, exist_ok=True)
        (root / hidden).write_text(intruder + "\n")
    (root / "customer/landing/README.txt").write_text(intruder + "\n")
    (root / "customer/landing/empty.json").touch()
    feed.data_files["step_trainer/landing/blank.json"] = 0
    (root / "step_trainer/landing/blank.json").write_text("\n\n")
    feed.data_files["accelerometer/landing/empty.json.gz"] = 0
    (root / "accelerometer/landing/empty.json.gz").write_bytes(gzip.compress(b""))
    write_lines(feed, "customer/landing/bad/malformed.json", ['{"email": "cut.off@test.com", "lastUpd', "not json", "[1, 2"], malformed=3)
    good = starter_lines(starter, "accelerometer")[0]
    write_lines(feed, "accelerometer/landing/2022/06/01/bad.json.gz", [good, '{"user": "x@test.com", "timestamp": "soon"}'], malformed=1)
    return feed


def stedi_dbt(args: list[str], landing: Path | str, warehouse: Path, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "stedi"), "dbt", *args, "--project-dir", str(PROJECT_DIR)],
        cwd=cwd, env=dbt_env(landing, warehouse), capture_output=True, text=True, check=False,
    )


def staged(warehouse: Path) -> dict[str, int]:
    """Records staged per delivery, from the three staging tables."""
    counts: dict[str, int] = {}
    for table in ("stg_landing__customers", "stg_landing__accelerometer_readings", "stg_landing__step_trainer_readings"):
        for (landing_file,), count in read_table(warehouse, table, ["landing_file"]).items():
            counts[landing_file] = counts.get(landing_file, 0) + count
    return counts


def manifest(warehouse: Path) -> dict[str, int]:
    return {row[0]: row[1] for row in read_table(warehouse, "stg_landing__files", ["landing_file", "staged_records"])}


def zone_counts(warehouse: Path) -> dict[str, int]:
    return {table: sum(read_table(warehouse, table, COLUMNS[table]).values()) for table in ZONE_TABLES}


@pytest.fixture(scope="module")
def feed(starter_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Feed:
    return reshape(starter_data, tmp_path_factory.mktemp("feed") / "landing")


@pytest.fixture(scope="module")
def feed_build(feed: Feed, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    warehouse = tmp_path_factory.mktemp("feed-warehouse")
    result = stedi_dbt(["build", "--exclude-resource-type", "unit_test"], feed.root, warehouse)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return warehouse, result


def test_feed_shaped_landing_gives_the_contract_counts(feed: Feed, feed_build: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    warehouse, _ = feed_build
    assert len([path for path, lines in feed.data_files.items() if lines]) >= 5000
    # subfolders, gzip and half the customers in a subfolder: nothing lost; markers, hidden
    # files and the README.txt (each holding a consenting customer) not read
    assert zone_counts(warehouse) == STRICT_COUNTS


def test_every_delivery_is_staged_once_by_its_relative_path(feed: Feed, feed_build: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    warehouse, _ = feed_build
    with_records = {path: lines for path, lines in feed.data_files.items() if lines}
    assert staged(warehouse) == with_records
    # the manifest holds every non-empty delivery, those without records (blank lines, an
    # empty gzip) with 0; the 0-byte file, the README.txt and hidden files are not deliveries
    assert manifest(warehouse) == {path: lines for path, lines in feed.data_files.items() if (feed.root / path).stat().st_size}


def test_the_build_names_what_it_skipped_in_one_line_each(feed: Feed, feed_build: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, result = feed_build
    lines = result.stdout.splitlines()
    for path, count in feed.malformed.items():
        assert f"WARN malformed lines skipped (rule R0) in {path}: {count}" in lines
    assert "WARN not read as data (only *.json and *.json.gz are): customer/landing/README.txt" in lines
    # dbt's own warning counts malformed lines, not files
    assert "Got 3 results, configured to warn if != 0" in result.stdout
    assert "not staged" not in result.stdout
    assert lines[0].startswith("stedi dbt build: starting dbt and the embedded Spark")
    assert not [line for line in result.stdout.splitlines() + result.stderr.splitlines() if any(noise in line for noise in JVM_BOILERPLATE)]


def test_recorded_counts_add_up_at_any_depth(feed: Feed, feed_build: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """build_record_counts of the feed (its landing_records_add_up test passed in the build): every
    line of the 5,000 files by outcome as the oracle finds it, malformed lines per nested file."""
    warehouse, _ = feed_build
    assert recorded_landing_outcomes(warehouse) == landing_outcomes(feed.root)
    assert recorded_malformed_lines(warehouse) == feed.malformed


def test_statements_do_not_grow_with_the_files_delivered(feed_build: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    warehouse, _ = feed_build
    sizes = statement_sizes(warehouse)
    assert len(sizes) > 50 and max(sizes) < STATEMENT_LIMIT, max(sizes)


@pytest.fixture(scope="module")
def late_file(feed: Feed, feed_build: tuple[Path, subprocess.CompletedProcess[str]]) -> str:
    """A delivery that arrives after the first build with an old modification time, as a file
    moved into place or copied with `cp -p` does: older than everything staged."""
    relative = "accelerometer/landing/late/part-late.json"
    source = feed.root / "accelerometer/landing/2022/06/02/part-0001.json"
    path = write_lines(feed, relative, source.read_text().splitlines())
    os.utime(path, (OLD_TIME, OLD_TIME))
    return relative


def test_a_check_names_the_late_delivery_and_the_zone_without_records(
    feed: Feed, feed_build: tuple[Path, subprocess.CompletedProcess[str]], late_file: str, tmp_path: Path
) -> None:
    """The manifest's tests on the feed copied elsewhere (staged files keep their relative paths),
    with the late file and a step_trainer zone left with empty files only."""
    warehouse, _ = feed_build
    copy = tmp_path / "copy"
    shutil.copytree(feed.root, copy)
    shutil.rmtree(copy / "step_trainer/landing")
    (copy / "step_trainer/landing").mkdir()
    (copy / "step_trainer/landing/empty.json").touch()
    (copy / "step_trainer/landing/blank.json").write_text("\n")
    result = stedi_dbt(["test", "--select", "stg_landing__files"], copy, warehouse)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line for line in lines if "not staged" in line] == [
        f"FAIL not staged: {late_file} (modified before this build started; the next build stages it)"
    ]
    assert f"FAIL landing zone step_trainer has no records under {copy}/step_trainer/landing" in lines
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def feed_rebuild(
    feed: Feed, feed_build: tuple[Path, subprocess.CompletedProcess[str]], late_file: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, subprocess.CompletedProcess[str]]]:
    """The incremental build after the landing folder moved, a new file and the late file came,
    and a staged file older than the late file was corrupted in place: the build passes only if
    Spark never opens that file (the watermark, lowered to the late file, prunes it from the listing)."""
    warehouse, _ = feed_build
    moved = tmp_path_factory.mktemp("moved") / "landing"
    shutil.move(feed.root, moved)
    feed.root = moved
    write_lines(feed, "accelerometer/landing/2022/07/01/new.json", (moved / "accelerometer/landing/2022/06/03/part-0002.json").read_text().splitlines())
    feed.data_files["step_trainer/landing/2022-07-01.json.gz"] = 0
    (moved / "step_trainer/landing/2022-07-01.json.gz").write_bytes(gzip.compress(b""))
    staged_file = moved / "accelerometer/landing/2022/06/01/part-0000.json.gz"
    original, status = staged_file.read_bytes(), staged_file.stat()
    staged_file.write_bytes(b"not gzip at all")
    os.utime(staged_file, (OLD_TIME - 86_400, OLD_TIME - 86_400))
    try:
        result = stedi_dbt(["build", "--exclude-resource-type", "unit_test"], moved, warehouse)
    finally:
        staged_file.write_bytes(original)
        os.utime(staged_file, ns=(status.st_atime_ns, status.st_mtime_ns))
    yield warehouse, result


def test_an_incremental_build_stages_only_what_is_new(feed: Feed, feed_rebuild: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    warehouse, result = feed_rebuild
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    # moved root: nothing staged again; the late and the new file staged once; the corrupted
    # file never opened
    assert staged(warehouse) == {path: lines for path, lines in feed.data_files.items() if lines}
    assert manifest(warehouse) == {path: lines for path, lines in feed.data_files.items() if (feed.root / path).stat().st_size}
    assert zone_counts(warehouse) == STRICT_COUNTS
    assert "not staged" not in result.stdout
    sizes = statement_sizes(warehouse)
    assert max(sizes) < STATEMENT_LIMIT, max(sizes)


def record_counts(landing: str, warehouse: Path, tmp_path: Path) -> list[str]:
    """`make record-counts` for a landing path as the user gives it; its printed lines."""
    env = {
        **os.environ,
        "STEDI_WAREHOUSE_DIR": str(warehouse),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "STEDI_SUBJECT_SALT": "pytest-salt",
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "record-counts", f"STEDI_LANDING_PATH={landing}"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "demo landing data" not in result.stdout
    return [line for line in result.stdout.splitlines() if not line.startswith(("\x1b", "stedi ", str(BIN)))]


def test_record_counts_read_the_given_landing_path(feed: Feed, feed_rebuild: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    warehouse, _ = feed_rebuild
    # a path as typed by hand, relative to the folder make runs in (a file:// URI: test_cli)
    relative = record_counts(os.path.relpath(feed.root, PROJECT_DIR), warehouse, tmp_path)
    printed = {fields[1]: [int(value) for value in fields[2:]] for fields in (line.split() for line in relative) if fields and fields[0] in {"landing", "staging", "trusted", "curated"}}
    malformed = {zone: sum(count for path, count in feed.malformed.items() if path.startswith(f"{zone}/")) for zone in ("customer", "accelerometer", "step_trainer")}
    for zone, staging in (("customer", "stg_landing__customers"), ("accelerometer", "stg_landing__accelerometer_readings"), ("step_trainer", "stg_landing__step_trainer_readings")):
        assert printed[f"{zone}_landing"] == [feed.lines(zone), malformed[zone]]
        assert printed[staging] == [feed.lines(zone), malformed[zone]]
    assert printed["stg_landing__files"] == [len(manifest(warehouse))]
    assert {table: printed[table] for table in ZONE_TABLES} == {table: [count] for table, count in STRICT_COUNTS.items()}
    per_file = relative[relative.index("malformed lines per landing file: ") + 1:]
    assert per_file == [f"  {path}: {count}" for path, count in sorted(feed.malformed.items())]


def test_the_offline_athena_check_reads_the_feed_as_spark_does(
    feed: Feed, feed_rebuild: tuple[Path, subprocess.CompletedProcess[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stedi_lakehouse.checks.athena_check import run_check

    warehouse, _ = feed_rebuild
    monkeypatch.setenv("STEDI_SUBJECT_SALT", SUBJECT_SALT)  # the Spark build's, so subject ids compare
    report = run_check(feed.root, warehouse / "tables" / "stedi.db")
    assert not report.failures, report
    assert set(report.matched) >= set(ZONE_TABLES)
    assert report.landing_rows["customer_landing_json"] == feed.lines("customer") + 1  # the README.txt, read, then left out by the view


def processes_using(folder: Path) -> list[str]:
    """Command lines of running processes that name `folder` (dbt's env, the JVM's options)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if proc.name.isdigit() and str(folder) in cmdline:
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def test_one_build_at_a_time_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    """`make build` twice on one warehouse: the second stops at once naming the first; Ctrl+C on
    the first (SIGINT to make's process group, as a terminal sends it) stops dbt and Spark with
    one line, leaves nothing running, and the next build on the warehouse succeeds."""
    from stedi_lakehouse.generate import GeneratorConfig, generate_landing

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    generate_landing(landing, GeneratorConfig(customers=30, readings_per_customer=10, seed=5))
    env = dbt_env(landing, warehouse)
    make = ["make", "--no-print-directory", "build"]
    first = subprocess.Popen(make, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert first.stdout is not None
        output = []
        for line in first.stdout:
            output.append(line)
            if " START sql " in line:
                break
        assert any(line.startswith("stedi dbt build: starting dbt and the embedded Spark") for line in output), "".join(output)

        second = subprocess.run(make, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False, timeout=300)
        assert second.returncode != 0
        ours = [line for line in second.stderr.splitlines() if not line.startswith("make")]
        assert ours == [f"stedi dbt: warehouse {warehouse} is in use by pid {first_dbt_holder(warehouse)} (dbt build): wait for it to finish, then run again"]
        assert "Derby" not in second.stdout + second.stderr

        os.killpg(first.pid, 2)  # SIGINT, as Ctrl+C in a terminal
        rest, errors = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, 9)
    stopped = [line for line in errors.splitlines() if not line.startswith("make")]
    assert stopped == [f"stedi dbt build: interrupted; dbt and Spark stopped, nothing left running, warehouse {warehouse} free for the next build"]
    assert "Traceback" not in "".join(output) + rest + errors
    assert processes_using(warehouse) == []

    again = stedi_dbt(["build", "--exclude-resource-type", "unit_test"], landing, warehouse)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]


def first_dbt_holder(warehouse: Path) -> str:
    return (warehouse / ".stedi.lock").read_text().split()[1]


def test_upload_landing_sends_every_delivery_at_any_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`stedi upload-landing` puts on S3 what the build would read, under the same relative paths."""
    import boto3

    from stedi_lakehouse.checks.athena_check import DUMMY_AWS, empty_aws
    from stedi_lakehouse.s3_upload import upload_landing

    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    files = {
        "customer/landing/2022/06/18/part.json": b"{}\n",
        "accelerometer/landing/hour=01/part.json.gz": gzip.compress(b"{}\n"),
        "step_trainer/landing/part.json": b"{}\n",
        "step_trainer/landing/_SUCCESS": b"",
        "step_trainer/landing/_temporary/part.json": b"{}\n",
        "step_trainer/landing/.part.json.crc": b"x",
        "step_trainer/landing/README.txt": b"read me\n",
    }
    for relative, content in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(content)
    with empty_aws() as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="lake")
        upload_landing(tmp_path, "s3://lake/feed", endpoint_url=endpoint)
        keys = {item["Key"] for item in s3.list_objects_v2(Bucket="lake")["Contents"]}
    assert keys == {f"feed/{relative}" for relative in list(files)[:3]}
