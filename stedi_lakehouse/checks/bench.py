"""`make bench`: the build's speed and memory, from one run on this machine.

Prints the full dbt build on the starter data beside the seed-style five-job run on the same
data and their ratio, then builds at 10x and 100x generated scale with rows per second and peak
memory, and at each scale an incremental build after one new batch of landing files beside a
full refresh of the same data. Figures, not pass/fail: docs/performance.md's table comes from this output.
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

from stedi_lakehouse.dbt_env import isolated_dbt_env
from stedi_lakehouse.generate import GeneratorConfig, append_batch, generate_landing
from stedi_lakehouse.paths import PROJECT_DIR

STARTER_CUSTOMERS = 956  # the public starter data; the generator's scale 1x


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float


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
    return Run(seconds, peak / 1024)


def dbt_build(landing: Path, warehouse: Path, *args: str) -> Run:
    dbt = str(Path(sys.executable).parent / "dbt")
    # as `make build`: the main job, without dbt's unit tests
    return timed([dbt, "build", "--exclude-resource-type", "unit_test", "--target", "local", *args], isolated_dbt_env(landing, warehouse))


def where_the_time_went(warehouse: Path, run: Run) -> str:
    """The phases of the last dbt build into `warehouse`, from its run_results.json: dbt start-up
    and parsing, opening the Spark session (JVM and metastore), then node time per kind, summed
    over dbt's threads (which is why the sums exceed the wall time they share)."""
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
    phases = [
        f"dbt start-up {run.seconds - results['elapsed_time']:.1f} s",
        f"Spark session {(first_node - run_started).total_seconds():.1f} s",
        *(f"{kind}s {seconds:.1f} s" for kind, seconds in sorted(kinds.items(), key=lambda item: -item[1])),
    ]
    return ", ".join(phases)


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
    return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GB RAM, Python {platform.python_version()}, driver memory {os.environ.get('STEDI_DRIVER_MEMORY', '4g')}"


def incremental_versus_full_refresh(landing: Path, config: GeneratorConfig, warehouse: Path) -> None:
    """After a build: add one batch (a new accelerometer and step-trainer landing file), build
    incrementally, then rebuild the same data with --full-refresh."""
    new_files = append_batch(landing, config, batch=1)
    new_rows = line_count(new_files)
    incremental = dbt_build(landing, warehouse)
    incremental_phases = where_the_time_went(warehouse, incremental)
    full_refresh = dbt_build(landing, warehouse, "--full-refresh")
    full_refresh_phases = where_the_time_went(warehouse, full_refresh)
    print(f"  + {len(new_files)} new landing files ({new_rows:,} rows):")
    print(f"    incremental dbt build   {incremental.seconds:7.1f} s   peak {incremental.peak_rss_mb:7.0f} MB")
    print(f"    dbt build --full-refresh {full_refresh.seconds:6.1f} s   peak {full_refresh.peak_rss_mb:7.0f} MB")
    print(f"    ratio                   {incremental.seconds / full_refresh.seconds:7.2f}x (target <= 0.3x)")
    print(f"    incremental:  {incremental_phases}")
    print(f"    full refresh: {full_refresh_phases}")


def main(starter: Path, seed_style: Path, scales: tuple[int, ...] = (10, 100)) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="stedi-bench-") as scratch:
        work = Path(scratch)
        seed = timed(["bash", str(seed_style / "run.sh"), sys.executable, str(starter)], dict(os.environ))
        ours = dbt_build(starter, work / "starter")
        ours_phases = where_the_time_went(work / "starter", ours)
        rebuild = dbt_build(starter, work / "starter")
        rows = landing_rows(starter)
        print(f"starter data ({rows:,} landing rows):")
        print(f"  seed-style five jobs  {seed.seconds:7.1f} s   peak {seed.peak_rss_mb:7.0f} MB")
        print(f"  dbt build             {ours.seconds:7.1f} s   peak {ours.peak_rss_mb:7.0f} MB")
        print(f"  ratio                 {ours.seconds / seed.seconds:7.2f}x (target <= 0.4x)")
        print(f"  where the time went: {ours_phases}")
        print(f"  dbt build again       {rebuild.seconds:7.1f} s   peak {rebuild.peak_rss_mb:7.0f} MB   (incremental, nothing new)")
        print(f"  where the time went (again): {where_the_time_went(work / 'starter', rebuild)}")
        for scale in scales:
            landing = work / f"landing-{scale}x"
            config = GeneratorConfig(customers=STARTER_CUSTOMERS * scale, files_per_zone=max(4, scale // 2))
            generate_landing(landing, config)
            rows = landing_rows(landing)
            run = dbt_build(landing, work / f"build-{scale}x")
            print(
                f"{scale}x generated ({rows:,} landing rows): dbt build {run.seconds:7.1f} s, "
                f"{rows / run.seconds:,.0f} rows/s, peak {run.peak_rss_mb:,.0f} MB, "
                f"{run.seconds / ours.seconds:.2f}x the 1x time"
            )
            incremental_versus_full_refresh(landing, config, work / f"build-{scale}x")
            shutil.rmtree(landing)
            shutil.rmtree(work / f"build-{scale}x")
