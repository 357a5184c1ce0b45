"""`make bench`: the build's speed and memory, from one run on this machine.

Prints the full dbt build on the starter data beside the seed-style five-job run on the same
data and their ratio; then, at 10x and 100x generated scale, 30 days of history built fresh
(rows per second, peak memory), the same build again with nothing new, and day 31 delivered
twice from that state: once without and once with the consent changes of an appended day (two
revocations, a late consent, a serial number that becomes shared), each built incrementally
beside a --full-refresh of the same data. Every build's time is split into its fixed cost (dbt
start-up and parsing, opening the Spark session) and the rest; the machine's load average is
printed beside each figure, since the machine may be shared. Figures, not pass/fail:
docs/performance.md's table comes from this output.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stedi_lakehouse.checks.statements import log_size, statement_sizes
from stedi_lakehouse.dbt_env import isolated_dbt_env
from stedi_lakehouse.generate import MANIFEST, GeneratorConfig, append_day, generate_landing
from stedi_lakehouse.paths import PROJECT_DIR

STARTER_CUSTOMERS = 956  # the public starter data; the generator's scale 1x
HISTORY_DAYS = 30
# targets of an incremental build against a full refresh of the same data, per scale
QUIET_DAY_TARGET = {10: 0.5, 100: 0.25}
CONSENT_DAY_TARGET = {100: 0.5}
NOTHING_NEW_MARGIN_S = 5.0


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    load: tuple[float, float]  # 1-minute load average at the start and the end


def _tree_rss_kb(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in kB."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(status.parent.name))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def timed(command: list[str], env: dict[str, str], cwd: Path = PROJECT_DIR) -> Run:
    """Run a command to completion, sampling the peak memory of its process tree."""
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(process.pid))
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    seconds = time.monotonic() - start
    if process.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command[:3])} failed:\n{output[-3000:]}")
    return Run(seconds, peak / 1024, (load_before, os.getloadavg()[0]))


def dbt_build(landing: Path, warehouse: Path, *args: str) -> Run:
    dbt = str(Path(sys.executable).parent / "dbt")
    # as `make build`: the main job, without dbt's unit tests
    return timed([dbt, "build", "--exclude-resource-type", "unit_test", "--target", "local", *args], isolated_dbt_env(landing, warehouse))


@dataclass(frozen=True)
class Build:
    """A timed dbt build and where its time went, from its run_results.json."""

    run: Run
    startup: float  # dbt start-up and parsing
    session: float  # opening the Spark session (JVM, metastore) and the on-run-start hooks
    kinds: dict[str, float]  # node time per kind, summed over dbt's threads
    largest_statement: int  # bytes of the largest statement the build sent
    slowest: list[tuple[str, float]]  # the nodes that took longest, and their seconds

    @property
    def fixed(self) -> float:
        return self.startup + self.session

    def line(self, label: str) -> str:
        load = f"load {self.run.load[0]:.1f}-{self.run.load[1]:.1f}"
        return (
            f"  {label:<34} {self.run.seconds:7.1f} s = fixed {self.fixed:5.1f} s + {self.run.seconds - self.fixed:6.1f} s"
            f"   peak {self.run.peak_rss_mb:6,.0f} MB   largest statement {self.largest_statement / 1024:5.1f} KB   {load}"
        )

    def split(self) -> str:
        kinds = ", ".join(f"{kind}s {seconds:.1f} s" for kind, seconds in sorted(self.kinds.items(), key=lambda item: -item[1]))
        slowest = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.slowest)
        return f"dbt start-up {self.startup:.1f} s, Spark session {self.session:.1f} s, {kinds}; slowest: {slowest}"


def timed_build(landing: Path, warehouse: Path, *args: str) -> Build:
    """`dbt build` as `make build` runs it, and where its time went: dbt start-up and parsing,
    opening the Spark session (JVM and metastore, the on-run-start hooks), then node time per
    kind summed over dbt's threads (which is why the sums exceed the wall time they share)."""
    log_from = log_size(warehouse)
    run = dbt_build(landing, warehouse, *args)
    results = json.loads((warehouse / "target" / "run_results.json").read_text())
    finished = datetime.datetime.fromisoformat(results["metadata"]["generated_at"].replace("Z", "+00:00"))
    run_started = finished - datetime.timedelta(seconds=results["elapsed_time"])
    first_node = min(
        datetime.datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
        for result in results["results"] for timing in result["timing"]
    )
    kinds: dict[str, float] = {}
    for result in results["results"]:
        kind = result["unique_id"].split(".")[0]
        kinds[kind] = kinds.get(kind, 0.0) + result["execution_time"]
    largest = max(statement_sizes(warehouse, log_from))
    # where a build with little to do still spends its time
    slowest = sorted(((result["unique_id"].split(".")[2][:40], result["execution_time"]) for result in results["results"]), key=lambda item: -item[1])[:5]
    return Build(run, run.seconds - results["elapsed_time"], (first_node - run_started).total_seconds(), kinds, largest, slowest)


def line_count(paths: Iterable[Path]) -> int:
    """Lines in the files, the landing records they hold."""
    total = 0
    for path in paths:
        with path.open("rb") as lines:
            total += sum(1 for _ in lines)
    return total


def landing_rows(landing: Path) -> int:
    return line_count(landing.glob("*/landing/*.json"))


def machine() -> str:
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GB RAM, Python {platform.python_version()}, "
        f"driver memory {os.environ.get('STEDI_DRIVER_MEMORY', '4g')}, load average {load} (1, 5, 15 min)"
    )


def day_31(landing: Path, warehouse: Path, consent_changes: bool, scale: int) -> None:
    """Deliver day 31 and build it incrementally, then rebuild the same data with --full-refresh."""
    summary = append_day(landing, consent_changes=consent_changes)
    incremental = timed_build(landing, warehouse)
    full_refresh = timed_build(landing, warehouse, "--full-refresh")
    kind = "with" if consent_changes else "without"
    target = (CONSENT_DAY_TARGET if consent_changes else QUIET_DAY_TARGET).get(scale)
    ratio = incremental.run.seconds / full_refresh.run.seconds
    print(f"  day 31 {kind} consent changes ({sum(summary.lines.values()):,} lines):")
    print(incremental.line("incremental dbt build"))
    print(full_refresh.line("dbt build --full-refresh"))
    print(f"    ratio {ratio:.2f}x" + (f" (target <= {target}x: {'met' if ratio <= target else 'NOT met'})" if target else ""))
    print(f"    incremental:  {incremental.split()}")
    print(f"    full refresh: {full_refresh.split()}")


def scale_run(work: Path, scale: int, one_x: float) -> None:
    """30 days at `scale`: a fresh build, a rebuild with nothing new, then day 31 without and
    with consent changes, each from the same 30-day state (the warehouse is copied aside and
    back, in place, since the metastore holds absolute paths)."""
    landing, warehouse = work / f"landing-{scale}x", work / f"build-{scale}x"
    config = GeneratorConfig(customers=STARTER_CUSTOMERS * scale, days=HISTORY_DAYS)
    generate_landing(landing, config)
    rows = landing_rows(landing)
    fresh = timed_build(landing, warehouse)
    print(
        f"{scale}x generated, {HISTORY_DAYS} days ({rows:,} landing rows): {rows / fresh.run.seconds:,.0f} rows/s, "
        f"{fresh.run.seconds / one_x:.2f}x the 1x time"
    )
    print(fresh.line("dbt build, fresh"))
    print(f"    {fresh.split()}")
    again = timed_build(landing, warehouse)
    margin = again.run.seconds - again.fixed
    print(again.line("dbt build again, nothing new"))
    print(f"    {margin:.1f} s beyond the fixed cost (target <= {NOTHING_NEW_MARGIN_S:.0f} s: {'met' if margin <= NOTHING_NEW_MARGIN_S else 'NOT met'})")
    print(f"    {again.split()}")
    snapshot, manifest = work / "snapshot", (landing / MANIFEST).read_text()
    history = set(landing.glob("*/landing/*.json"))
    shutil.copytree(warehouse, snapshot)
    day_31(landing, warehouse, consent_changes=False, scale=scale)
    shutil.rmtree(warehouse)
    shutil.move(snapshot, warehouse)
    for path in set(landing.glob("*/landing/*.json")) - history:
        path.unlink()
    (landing / MANIFEST).write_text(manifest)
    day_31(landing, warehouse, consent_changes=True, scale=scale)
    shutil.rmtree(landing)
    shutil.rmtree(warehouse)


def main(starter: Path, seed_style: Path, scales: tuple[int, ...] = (10, 100)) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="stedi-bench-") as scratch:
        work = Path(scratch)
        seed = timed(["bash", str(seed_style / "run.sh"), sys.executable, str(starter)], dict(os.environ))
        ours = timed_build(starter, work / "starter")
        rebuild = timed_build(starter, work / "starter")
        rows = landing_rows(starter)
        print(f"starter data ({rows:,} landing rows):")
        print(f"  {'seed-style five jobs':<34} {seed.seconds:7.1f} s   peak {seed.peak_rss_mb:6,.0f} MB   load {seed.load[0]:.1f}-{seed.load[1]:.1f}")
        print(ours.line("dbt build"))
        print(f"    ratio {ours.run.seconds / seed.seconds:.2f}x (target <= 0.4x); {ours.split()}")
        print(rebuild.line("dbt build again, nothing new"))
        print(f"    {rebuild.split()}")
        for scale in scales:
            scale_run(work, scale, ours.run.seconds)
