"""The project built on a Spark standalone cluster (a master, two workers, executors in JVMs of their
own, a Thrift server submitted to the master) gives the same tables as the embedded build."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lakehouse import BIN, assert_same_tables, run_dbt
from stedi_lakehouse.cluster import MASTER_CLASS, WORKER_CLASS, ClusterError, LocalCluster
from stedi_lakehouse.thrift import port_taken

PORTS = 11  # the cluster's ten (two workers) and the Thrift server's


def free_ports(count: int = PORTS) -> int:
    """The first of `count` consecutive free ports in 17000-17999, the range kept for this test.

    It lies below the system's ephemeral ports, so no outgoing connection takes one of them between
    this check and the bind; the pid spreads concurrent runs over the range.
    """
    blocks = range(17000, 18000 - count, count)
    start = os.getpid() % len(blocks)
    for first in [*blocks[start:], *blocks[:start]]:
        if not any(port_taken("127.0.0.1", port) for port in range(first, first + count)):
            return first
    raise AssertionError("no free block of ports in 17000-17999")


@dataclass(frozen=True)
class ClusterRun:
    cluster: LocalCluster
    seconds: dict[str, float]
    master_state: dict[str, Any]
    tasks: Counter[str]
    status: list[str]
    listening: str
    processes: dict[int, tuple[int, list[str]]]
    processes_after_stop: dict[int, tuple[int, list[str]]]
    answering_after_stop: list[int]


def cluster_processes(folder: Path) -> dict[int, tuple[int, list[str]]]:
    """The parent pid and command line of each process of the cluster in `folder`: those whose command
    line names the folder (master, workers, Thrift server) or that work in it (executors)."""
    processes = {}
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            working = os.readlink(entry / "cwd")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        names_folder = any(str(folder) in argument for argument in arguments)
        if entry.name.isdigit() and (names_folder or working.startswith(str(folder))):
            processes[int(entry.name)] = (parent, arguments)
    return processes


def cpu_seconds(processes: dict[int, tuple[int, list[str]]]) -> float:
    """User and system CPU time the processes have used so far."""
    ticks = 0
    for pid in processes:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def cluster_run(demo_landing: Path, demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterRun]:
    """Start the cluster, build the demo data through it, read what it did, stop it."""
    first = free_ports()
    cluster = LocalCluster(
        folder=tmp_path_factory.mktemp("cluster"),
        port=first,
        thrift_port=first + PORTS - 1,
        executor_memory="512m",
        driver_memory="1g",
    )
    seconds = {}
    try:
        started = time.monotonic()
        cluster.start()
        seconds["start"] = time.monotonic() - started
        run_dbt(
            ["build", "--target", "thrift"],
            landing=demo_landing,
            warehouse=tmp_path_factory.mktemp("cluster-dbt"),  # dbt's own logs and target
            env={"STEDI_THRIFT_PORT": str(cluster.thrift_port)},
        )
        seconds["build"] = time.monotonic() - started - seconds["start"]
        master_state, tasks, status = cluster.master_state() or {}, cluster.tasks_per_worker(), cluster.status()
        listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=False).stdout if shutil.which("ss") else ""
        processes = cluster_processes(cluster.folder)
        cpu = cpu_seconds(processes)
    finally:
        stopping = time.monotonic()
        cluster.stop()
        seconds["stop"] = time.monotonic() - stopping
    # CPU time says what the test costs on a quiet machine, whatever else shares this one.
    print(f"\ncluster test: {', '.join(f'{step} {value:.0f} s' for step, value in seconds.items())}; cluster CPU {cpu:.0f} s")
    yield ClusterRun(
        cluster=cluster,
        seconds=seconds,
        master_state=master_state,
        tasks=tasks,
        status=status,
        listening=listening,
        processes=processes,
        processes_after_stop=cluster_processes(cluster.folder),
        answering_after_stop=[port for port in cluster.ports().values() if port_taken("127.0.0.1", port)],
    )


def test_cluster_build_equals_embedded_build(cluster_run: ClusterRun, demo_build: Path) -> None:
    assert_same_tables(cluster_run.cluster.folder, demo_build)


def test_tasks_ran_on_executors_of_both_workers(cluster_run: ClusterRun) -> None:
    cluster = cluster_run.cluster
    workers = {worker["port"]: worker for worker in cluster_run.master_state["workers"]}
    [application] = [app["id"] for app in cluster_run.master_state["activeapps"]]
    for number in (1, 2):
        worker = workers[cluster.ports()[f"worker {number}"]]
        # Each worker offers one core; the Thrift server's executor holds it.
        assert (worker["state"], worker["cores"], worker["coresused"]) == ("ALIVE", 1, 1), worker
        # The worker launched that executor in a JVM of its own, working in the worker's folder.
        executor_folders = list((cluster.folder / "work" / f"worker-{number}" / application).iterdir())
        assert executor_folders, f"no executor of worker {number}"
        assert cluster_run.tasks[f"worker {number}"] > 0, cluster_run.tasks
    assert f"worker 1 127.0.0.1:{cluster.port + 2}: pid " in cluster_run.status[1]
    assert f"1/1 cores used, {cluster_run.tasks['worker 1']} tasks run" in cluster_run.status[1]


def test_every_process_binds_loopback_only(cluster_run: ClusterRun) -> None:
    if not cluster_run.listening:
        pytest.skip("ss is not available")
    ports = {str(port) for port in cluster_run.cluster.ports().values()}
    addresses = {}
    for line in cluster_run.listening.splitlines():
        address, port = line.split()[3].rsplit(":", 1)
        if port in ports:
            addresses[port] = address
    # The executors' block managers are the only ports that depend on which executor binds first.
    assert set(addresses) >= ports - {str(cluster_run.cluster.ports()["executor 2 block manager"])}
    assert set(addresses.values()) <= {"127.0.0.1", "[::ffff:127.0.0.1]"}, addresses


def test_executors_run_in_jvms_the_workers_launched(cluster_run: ClusterRun) -> None:
    def started(spark_class: str) -> dict[int, int]:
        return {pid: parent for pid, (parent, arguments) in cluster_run.processes.items() if spark_class in arguments}

    executors, workers = started("org.apache.spark.executor.CoarseGrainedExecutorBackend"), started(WORKER_CLASS)
    assert len(executors) == 2 and len(workers) == 2, cluster_run.processes
    assert set(executors.values()) == set(workers), "each executor is a child of one worker"


def test_stop_leaves_nothing_running(cluster_run: ClusterRun) -> None:
    # master, two workers, two executors, the Thrift server
    assert len(cluster_run.processes) >= 6, cluster_run.processes
    assert cluster_run.processes_after_stop == {}
    assert cluster_run.answering_after_stop == []
    assert not list((cluster_run.cluster.folder / "pids").iterdir())
    assert not (cluster_run.cluster.folder / "thrift-server.pid").exists()


def test_cluster_files_stay_in_its_folder(cluster_run: ClusterRun) -> None:
    folder = cluster_run.cluster.folder
    for name in ("logs", "work/worker-1", "work/worker-2", "events", "metastore_db", "tables/stedi.db", "thrift-server.log"):
        assert (folder / name).exists(), name


def test_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    first = free_ports()
    with socket.socket() as occupant:
        # As a server binds: a port that a stopped cluster's connections leave in TIME_WAIT is free.
        occupant.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        occupant.bind(("127.0.0.1", first + 1))
        occupant.listen()
        result = subprocess.run(
            [str(BIN / "stedi"), "cluster", "start", "--dir", str(tmp_path)]
            + ["--port", str(first), "--thrift-port", str(first + PORTS - 1)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"stedi cluster: port 127.0.0.1:{first + 1} (master web UI) is already in use; "
        "stop what listens there or set STEDI_CLUSTER_PORT"
    )
    assert not (tmp_path / "pids").exists()


def test_worker_that_does_not_register_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = LocalCluster(folder=tmp_path, port=17300, timeout_seconds=1)
    only_worker_1 = {"workers": [{"port": 17302, "state": "ALIVE"}]}
    monkeypatch.setattr(LocalCluster, "master_state", lambda self: only_worker_1)
    monkeypatch.setattr(LocalCluster, "running_pid", lambda self, daemon: 4242)
    _, *workers = cluster.daemons()
    with pytest.raises(ClusterError) as error:
        cluster._wait_for_workers(workers)
    assert str(error.value) == (
        "spark worker 2 did not register with spark://127.0.0.1:17300 within 1 s "
        f"(http://127.0.0.1:17301/json/ lists 1 of 2 workers alive); log {cluster.log_file(workers[1])}"
    )


def test_stop_leaves_another_clusters_daemon_alone(tmp_path: Path) -> None:
    other = LocalCluster(folder=tmp_path / "other")
    # A process whose command line names the master class and the other cluster's folder.
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", MASTER_CLASS, other.mark], start_new_session=True
    )
    try:
        cluster = LocalCluster(folder=tmp_path / "this")
        master = cluster.daemons()[0]
        cluster.pid_file(master).parent.mkdir(parents=True)
        cluster.pid_file(master).write_text(f"{process.pid}\n")
        assert cluster.running()["master"] is None
        cluster.stop()
        assert process.poll() is None, "stop killed a process of another cluster"
        assert not cluster.pid_file(master).exists()
        other.pid_file(master).parent.mkdir(parents=True)
        other.pid_file(master).write_text(f"{process.pid}\n")
        assert other.running()["master"] == process.pid
        other.stop()
        assert process.poll() is not None, "stop left the other cluster's master running"
    finally:
        process.kill()
        process.wait()
