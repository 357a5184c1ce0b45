"""A Spark standalone cluster on this machine: a master, two workers and a Thrift server submitted to it.

The master and the workers start as Spark's start-master.sh and start-worker.sh start them, through
sbin/spark-daemon.sh of the installed pyspark (the package ships that script, not the two wrappers).
Each process binds 127.0.0.1, keeps its work, logs and pid file under the cluster folder, and is
stopped by its recorded pid once its command line shows it is this cluster's. The Thrift server's
executors run in their own JVMs on the workers, so every query shuffles between processes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stedi_lakehouse.paths import PROJECT_DIR
from stedi_lakehouse.preflight import PreflightError, check_java
from stedi_lakehouse.processes import recorded_pid, stop_group
from stedi_lakehouse.thrift import ThriftServer, port_taken

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
HOST = "127.0.0.1"
IDENT = "stedi"  # SPARK_IDENT_STRING: part of the daemons' pid and log file names


class ClusterError(PreflightError):
    """The cluster cannot be started, stopped or read; the message says why and where."""


@dataclass(frozen=True)
class Daemon:
    """The master or one worker, named as spark-daemon.sh names its pid and log files."""

    name: str
    spark_class: str
    instance: int
    arguments: tuple[str, ...]


@dataclass(frozen=True)
class LocalCluster:
    folder: Path
    port: int = 7077  # the master's; the cluster takes the ports after it too (see ports())
    thrift_port: int = 10000
    workers: int = 2
    executor_memory: str = "1g"  # each worker offers one core and this much: one executor
    driver_memory: str = "2g"
    timeout_seconds: float = 120

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.port}"

    @property
    def web_ui(self) -> str:
        return f"http://{HOST}:{self.port + 1}"

    @property
    def mark(self) -> str:
        """A Java option naming this cluster's folder, so that stop finds only this cluster's daemons."""
        return f"-Dstedi.cluster.dir={self.folder}"

    @property
    def event_log_dir(self) -> Path:
        return self.folder / "events"

    def ports(self) -> dict[str, int]:
        """Every port the cluster binds on 127.0.0.1, by what binds it."""
        ports = {"master": self.port, "master web UI": self.port + 1}
        for number in range(1, self.workers + 1):
            ports[f"worker {number}"] = self.port + 2 * number
            ports[f"worker {number} web UI"] = self.port + 2 * number + 1
        after_workers = self.port + 2 * self.workers + 2
        ports["driver"] = after_workers
        ports["driver block manager"] = after_workers + 1
        # Executors share spark.blockManager.port; the second on this host takes the next one.
        for number in range(1, self.workers + 1):
            ports[f"executor {number} block manager"] = after_workers + 1 + number
        ports["thrift server"] = self.thrift_port
        return ports

    def daemons(self) -> list[Daemon]:
        ports = self.ports()
        master_arguments = ("--host", HOST, "--port", str(self.port), "--webui-port", str(ports["master web UI"]))
        master = Daemon("master", MASTER_CLASS, 1, master_arguments)
        workers = [
            Daemon(
                f"worker {number}",
                WORKER_CLASS,
                number,
                (
                    "--host", HOST,
                    "--port", str(ports[f"worker {number}"]),
                    "--webui-port", str(ports[f"worker {number} web UI"]),
                    "--cores", "1",
                    "--memory", self.executor_memory,
                    "--work-dir", str(self.folder / "work" / f"worker-{number}"),
                    self.master_url,
                ),
            )
            for number in range(1, self.workers + 1)
        ]
        return [master, *workers]

    def thrift_server(self) -> ThriftServer:
        ports = self.ports()
        return ThriftServer(
            warehouse=self.folder,
            port=self.thrift_port,
            driver_memory=self.driver_memory,
            master=self.master_url,
            spark_conf={
                "spark.driver.host": HOST,
                "spark.driver.bindAddress": HOST,
                "spark.driver.port": str(ports["driver"]),
                "spark.driver.blockManager.port": str(ports["driver block manager"]),
                "spark.blockManager.port": str(ports["executor 1 block manager"]),
                "spark.executor.cores": "1",
                "spark.executor.memory": self.executor_memory,
                "spark.cores.max": str(self.workers),
                # The server answers once an executor runs on every worker, not on the first alone.
                "spark.scheduler.minRegisteredResourcesRatio": "1.0",
                "spark.scheduler.maxRegisteredResourcesWaitingTime": f"{self.timeout_seconds:.0f}s",
                "spark.local.dir": str(self.folder / "local"),
                "spark.eventLog.enabled": "true",
                "spark.eventLog.dir": self.event_log_dir.as_uri(),
                "spark.eventLog.compress": "false",
                "spark.eventLog.rolling.enabled": "false",  # one file per application
            },
        )

    @property
    def spark_home(self) -> Path:
        return self.thrift_server().spark_home

    def daemon_script(self) -> Path:
        script = self.spark_home / "sbin" / "spark-daemon.sh"
        if not (script.is_file() and os.access(script, os.X_OK)):
            raise ClusterError(
                f"{script}: missing or not executable; the pyspark package ships Spark's daemon script there "
                "(reinstall it: rm -rf .venv && make build)"
            )
        return script

    def pid_file(self, daemon: Daemon) -> Path:
        return self.folder / "pids" / f"spark-{IDENT}-{daemon.spark_class}-{daemon.instance}.pid"

    def log_file(self, daemon: Daemon) -> Path:
        return self.folder / "logs" / f"spark-{IDENT}-{daemon.spark_class}-{daemon.instance}-{socket.gethostname()}.out"

    def log_tail(self, daemon: Daemon, lines: int = 3) -> str:
        try:
            tail = self.log_file(daemon).read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return "(no log)"
        return " | ".join(line.strip() for line in tail)

    def running_pid(self, daemon: Daemon) -> int | None:
        return recorded_pid(self.pid_file(daemon), daemon.spark_class, self.mark)

    def running(self) -> dict[str, int | None]:
        """The pid of each of the cluster's processes that runs, by name (None: not running)."""
        pids: dict[str, int | None] = {daemon.name: self.running_pid(daemon) for daemon in self.daemons()}
        pids["thrift server"] = self.thrift_server().running_pid()
        return pids

    def start(self) -> None:
        """Start the master, the workers and the Thrift server; stop them all if any step fails."""
        started = time.monotonic()
        running = self.running()
        if all(running.values()):
            print(f"cluster already running in {self.folder}: {_pids(running)}")
            return
        if any(running.values()):
            raise ClusterError(
                f"the cluster in {self.folder} is partly running ({_pids(running)}); "
                f"stop it first: stedi cluster stop --dir {self.folder}"
            )
        script = self.daemon_script()
        if any(character.isspace() for character in str(self.folder)):
            raise ClusterError(f"{self.folder}: Spark's daemon script cannot use a folder whose path has a space")
        check_java()
        for role, port in self.ports().items():
            if port_taken(HOST, port):
                setting = "STEDI_THRIFT_PORT" if role == "thrift server" else "STEDI_CLUSTER_PORT"
                raise ClusterError(
                    f"port {HOST}:{port} ({role}) is already in use; stop what listens there or set {setting}"
                )
        for folder in ("logs", "pids", "work", "local", "events"):
            (self.folder / folder).mkdir(parents=True, exist_ok=True)
        try:
            master, *workers = self.daemons()
            self._launch(script, [master])
            self._wait_for_master(master)
            server = self.thrift_server()
            # The server's JVM and metastore start while the workers register; it answers once
            # an executor runs on each of them.
            process = server.launch()
            self._launch(script, workers)
            self._wait_for_workers(workers)
            server.wait_until_answering(process, self.timeout_seconds + 120)
            self._wait_for_executors()
        except BaseException:  # a failure or Ctrl+C: leave nothing running
            self.stop()
            raise
        print(f"cluster ready after {time.monotonic() - started:.0f} s: {self.master_url}, web UI {self.web_ui}")

    def stop(self) -> None:
        """Stop the Thrift server, the workers and the master by their recorded pids; harmless if none runs."""
        self.thrift_server().stop()
        for daemon in reversed(self.daemons()):
            pid = self.running_pid(daemon)
            if pid is not None:
                stop_group(pid)
                print(f"spark {daemon.name} stopped (pid {pid})")
            self.pid_file(daemon).unlink(missing_ok=True)

    def status(self) -> list[str]:
        """One line per process of the cluster, as the master sees it, and the tasks each worker ran."""
        running = self.running()
        if not any(running.values()):
            raise ClusterError(f"no cluster running in {self.folder}; start one with 'stedi cluster start'")
        state = self.master_state() or {}
        registered = {worker["port"]: worker for worker in state.get("workers", []) if worker.get("state") == "ALIVE"}
        master, *workers = self.daemons()
        answer = state.get("status", "not answering")
        lines = [f"master {self.master_url}: {_pid(running[master.name])}, {answer}, web UI {self.web_ui}"]
        tasks = self.tasks_per_worker()
        for daemon in workers:
            worker = registered.get(self.ports()[daemon.name])
            seen = (
                f"{worker['coresused']}/{worker['cores']} cores used, {tasks.get(daemon.name, 0)} tasks run"
                if worker
                else "not registered"
            )
            lines.append(f"{daemon.name} {HOST}:{self.ports()[daemon.name]}: {_pid(running[daemon.name])}, {seen}")
        lines.append(f"thrift server {HOST}:{self.thrift_port}: {_pid(running['thrift server'])}, master {self.master_url}")
        return lines

    def master_state(self) -> dict[str, Any] | None:
        """The master's JSON status (workers, their cores in use, applications), None if it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.web_ui}/json/", timeout=5) as response:
                return dict(json.load(response))
        except (OSError, ValueError):
            return None

    def tasks_per_worker(self) -> Counter[str]:
        """Tasks the running Thrift server's executors finished, by worker, from Spark's event log.

        An executor's log addresses name the web UI of the worker it runs on.
        """
        state = self.master_state() or {}
        applications = [app["id"] for app in state.get("activeapps", [])]
        _, *workers = self.daemons()
        worker_of_ui = {str(self.ports()[f"{worker.name} web UI"]): worker.name for worker in workers}
        executors: dict[str, str] = {}
        tasks: Counter[str] = Counter()
        for application in applications:
            for log in self.event_log_dir.glob(f"{application}*"):
                for line in log.read_text(errors="replace").splitlines():
                    event = json.loads(line)
                    if event.get("Event") == "SparkListenerExecutorAdded":
                        address = event["Executor Info"].get("Log Urls", {}).get("stdout", "")
                        port = address.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[-1]
                        if port in worker_of_ui:
                            executors[event["Executor ID"]] = worker_of_ui[port]
                    elif event.get("Event") == "SparkListenerTaskEnd":
                        executor = event["Task Info"]["Executor ID"]
                        if executor in executors:
                            tasks[executors[executor]] += 1
        return tasks

    def _launch(self, script: Path, daemons: list[Daemon]) -> None:
        """Start daemons side by side (spark-daemon.sh waits a few seconds for each) and check each runs."""
        launches = []
        for daemon in daemons:
            if self.running_pid(daemon) is None:  # spark-daemon.sh refuses a pid file naming any java
                self.pid_file(daemon).unlink(missing_ok=True)
            env = {**os.environ, **self._daemon_env(daemon)}
            env.pop("SPARK_NO_DAEMONIZE", None)
            launches.append(
                subprocess.Popen(
                    [str(script), "start", daemon.spark_class, str(daemon.instance), *daemon.arguments],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,  # Ctrl+C in the terminal reaches the build, not the daemons
                )
            )
        for launch in launches:
            launch.wait()
        for daemon in daemons:
            if self.running_pid(daemon) is None:
                raise ClusterError(
                    f"spark {daemon.name} did not start; log {self.log_file(daemon)}: {self.log_tail(daemon)}"
                )

    def _daemon_env(self, daemon: Daemon) -> dict[str, str]:
        return {
            "SPARK_HOME": str(self.spark_home),
            "SPARK_CONF_DIR": str(PROJECT_DIR / "spark"),
            "SPARK_LOG_DIR": str(self.folder / "logs"),
            "SPARK_PID_DIR": str(self.folder / "pids"),
            "SPARK_WORKER_DIR": str(self.folder / "work" / f"worker-{daemon.instance}"),
            "SPARK_LOCAL_DIRS": str(self.folder / "local"),  # executors' shuffle files, not /tmp
            "SPARK_LOCAL_IP": HOST,  # the web UIs bind it too
            "SPARK_IDENT_STRING": IDENT,
            "SPARK_DAEMON_MEMORY": "256m",
            "SPARK_DAEMON_JAVA_OPTS": self.mark,
            # Nothing here submits through the master's REST server; it would bind port 6066.
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        }

    def _wait_for_master(self, master: Daemon) -> None:
        started = time.monotonic()
        while (self.master_state() or {}).get("status") != "ALIVE":
            if self.running_pid(master) is None:
                raise ClusterError(
                    f"spark master exited before answering on {self.web_ui}/json/; "
                    f"log {self.log_file(master)}: {self.log_tail(master)}"
                )
            if time.monotonic() - started > self.timeout_seconds:
                raise ClusterError(
                    f"spark master did not answer on {self.web_ui}/json/ within {self.timeout_seconds:.0f} s; "
                    f"log {self.log_file(master)}"
                )
            time.sleep(0.5)
        print(f"spark master running (pid {self.running_pid(master)}) at {self.master_url}, web UI {self.web_ui}")

    def _wait_for_workers(self, workers: list[Daemon]) -> None:
        started = time.monotonic()
        ports = self.ports()
        while True:
            state = self.master_state() or {}
            alive = {worker["port"] for worker in state.get("workers", []) if worker.get("state") == "ALIVE"}
            waiting = [daemon for daemon in workers if ports[daemon.name] not in alive]
            if not waiting:
                break
            for daemon in waiting:
                if self.running_pid(daemon) is None:
                    raise ClusterError(
                        f"spark {daemon.name} exited before registering with {self.master_url}; "
                        f"log {self.log_file(daemon)}: {self.log_tail(daemon)}"
                    )
            if time.monotonic() - started > self.timeout_seconds:
                late = waiting[0]
                raise ClusterError(
                    f"spark {late.name} did not register with {self.master_url} within {self.timeout_seconds:.0f} s "
                    f"({self.web_ui}/json/ lists {len(alive)} of {len(workers)} workers alive); log {self.log_file(late)}"
                )
            time.sleep(0.5)
        pids = ", ".join(f"{daemon.name} pid {self.running_pid(daemon)}" for daemon in workers)
        print(f"spark workers registered with {self.master_url} after {time.monotonic() - started:.0f} s ({pids})")

    def _wait_for_executors(self) -> None:
        """Every worker runs an executor of the Thrift server (each offers one core: exactly one)."""
        started = time.monotonic()
        worker_ports = {port for name, port in self.ports().items() if name.startswith("worker") and not name.endswith("UI")}
        while True:
            busy = {w["port"] for w in (self.master_state() or {}).get("workers", []) if w.get("coresused", 0) > 0}
            if worker_ports <= busy:
                return
            if time.monotonic() - started > self.timeout_seconds:
                server = self.thrift_server()
                raise ClusterError(
                    f"the thrift server's executors run on {len(busy & worker_ports)} of {self.workers} workers "
                    f"after {self.timeout_seconds:.0f} s ({self.web_ui}/json/); log {server.log_file}"
                )
            time.sleep(0.5)


def _pid(pid: int | None) -> str:
    return f"pid {pid}" if pid is not None else "not running"


def _pids(running: dict[str, int | None]) -> str:
    return ", ".join(f"{name} {_pid(pid)}" for name, pid in running.items())
