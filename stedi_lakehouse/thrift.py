"""A local Spark Thrift (HiveServer2) server from the installed pyspark, for the `thrift` target.

It listens on 127.0.0.1 only, keeps its Parquet tables, Derby metastore and logs under its
own warehouse folder, and is stopped by the process id it records there. Its executors run in its
own JVM (local mode) or on the workers of a standalone master (see cluster.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stedi_lakehouse.paths import PROJECT_DIR
from stedi_lakehouse.preflight import PreflightError, check_java
from stedi_lakehouse.processes import command_line, recorded_pid, stop_group

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


class ThriftError(PreflightError):
    """The server cannot be started or stopped; the message says why and where."""


@dataclass(frozen=True)
class ThriftServer:
    warehouse: Path
    port: int = 10000
    host: str = "127.0.0.1"
    driver_memory: str = "4g"
    master: str = "local[*]"
    # Settings of a cluster's executors and of the driver's ports, over the local defaults below.
    spark_conf: Mapping[str, str] = field(default_factory=dict)

    @property
    def pid_file(self) -> Path:
        return self.warehouse / "thrift-server.pid"

    @property
    def log_file(self) -> Path:
        return self.warehouse / "thrift-server.log"

    @property
    def spark_home(self) -> Path:
        """The installed pyspark package: it carries bin/spark-submit and every jar the server needs."""
        import pyspark

        return Path(pyspark.__file__).resolve().parent

    @property
    def hive_folders(self) -> dict[str, Path]:
        """Hive's scratch, resource and operation-log folders (by default in /tmp), each made at start."""
        hive = self.warehouse / "hive"
        return {
            "hive.exec.scratchdir": hive / "scratch",
            "hive.exec.local.scratchdir": hive / "local-scratch",
            "hive.downloaded.resources.dir": hive / "resources",
            "hive.server2.logging.operation.log.location": hive / "operation_logs",
        }

    def hive_settings(self) -> dict[str, str]:
        settings = {
            "hive.server2.thrift.bind.host": self.host,
            "hive.server2.thrift.port": str(self.port),
            **{setting: str(folder) for setting, folder in self.hive_folders.items()},
        }
        # A session deletes its resources folder when it closes: one per session, as Hive's default
        # is, or a closing session removes it under one that opens alongside (dbt's threads).
        settings["hive.downloaded.resources.dir"] += "/${hive.session.id}_resources"
        return settings

    def command(self) -> list[str]:
        settings = {
            "spark.master": self.master,
            "spark.driver.memory": self.driver_memory,
            "spark.sql.warehouse.dir": str(self.warehouse / "tables"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={self.warehouse / 'metastore_db'};create=true"
            ),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={self.warehouse}",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": os.environ.get("STEDI_SHUFFLE_PARTITIONS", "4"),
            "spark.ui.enabled": "false",
            **self.spark_conf,
        }
        command = [str(self.spark_home / "bin" / "spark-submit"), "--class", THRIFT_SERVER_CLASS, "--name", "stedi-thrift"]
        for key, value in settings.items():
            command += ["--conf", f"{key}={value}"]
        command.append("spark-internal")
        # Hive's folders default to /tmp, where they outlive a killed server; keep them here.
        for key, value in self.hive_settings().items():
            command += ["--hiveconf", f"{key}={value}"]
        return command

    def running_pid(self) -> int | None:
        """The pid of the server this warehouse recorded, if that process is still a Thrift server."""
        return recorded_pid(self.pid_file, THRIFT_SERVER_CLASS)

    def running_port(self, pid: int) -> int:
        """The port the running server `pid` was started on (this server's port if unknown)."""
        prefix = "hive.server2.thrift.port="
        ports = [argument.removeprefix(prefix) for argument in command_line(pid) if argument.startswith(prefix)]
        return int(ports[-1]) if ports and ports[-1].isdigit() else self.port

    def port_answers(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(1)
            return probe.connect_ex((self.host, self.port)) == 0

    def port_taken(self) -> bool:
        return port_taken(self.host, self.port)

    def start(self, timeout_seconds: float = 240) -> int:
        """Start the server and wait until its port answers; return its pid."""
        pid = self.running_pid()
        if pid is not None:
            print(f"thrift server already running (pid {pid}) on {self.host}:{self.running_port(pid)}")
            return pid
        if self.port_taken():
            raise ThriftError(
                f"port {self.host}:{self.port} is already in use; stop what listens there or set STEDI_THRIFT_PORT"
            )
        check_java()
        process = self.launch()
        try:
            self.wait_until_answering(process, timeout_seconds)
        except KeyboardInterrupt:
            self.stop()
            raise
        return process.pid

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the server process and record its pid, without waiting for it to answer."""
        for folder in self.hive_folders.values():  # Hive logs an error per session when one is missing
            folder.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "SPARK_HOME": str(self.spark_home),  # not another Spark a user's SPARK_HOME may name
            "SPARK_CONF_DIR": str(PROJECT_DIR / "spark"),
            "SPARK_LOG_DIR": str(self.warehouse),
        }
        with self.log_file.open("w") as log:
            process = subprocess.Popen(
                self.command(), cwd=self.warehouse, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pid_file.write_text(f"{process.pid}\n")
        return process

    def wait_until_answering(self, process: subprocess.Popen[bytes], timeout_seconds: float) -> None:
        """Wait until the launched server's port answers; stop it if it exits or the time runs out."""
        started = time.monotonic()
        while not self.port_answers():
            exited = process.poll() is not None
            if exited or time.monotonic() - started > timeout_seconds:
                self.stop()
                what = "exited before answering" if exited else f"did not answer within {timeout_seconds:.0f} s"
                raise ThriftError(
                    f"thrift server {what} on {self.host}:{self.port}; log {self.log_file}: {self.log_tail()}"
                )
            time.sleep(1)
        print(
            f"thrift server running (pid {process.pid}) on {self.host}:{self.port} after "
            f"{time.monotonic() - started:.0f} s, master {self.master}, warehouse {self.warehouse}"
        )

    def stop(self, timeout_seconds: float = 60) -> None:
        """Stop the recorded server and its children; nothing to do when none runs."""
        pid = self.running_pid()
        if pid is not None:
            stop_group(pid, timeout_seconds)
            print(f"thrift server stopped (pid {pid})")
        self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 5) -> str:
        try:
            tail = self.log_file.read_text(errors="replace").strip().splitlines()[-lines:]
        except FileNotFoundError:
            return "(no log)"
        return " | ".join(line.strip() for line in tail)


def port_taken(host: str, port: int) -> bool:
    """Whether something listens on the port, or holds it so that a server could not bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the JVM binds
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False
