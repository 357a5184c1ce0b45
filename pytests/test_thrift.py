"""The same project on a real Spark Thrift server gives the same tables as the embedded build."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse import BIN, assert_same_tables, run_dbt
from stedi_lakehouse.thrift import ThriftServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def thrift_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThriftServer]:
    server = ThriftServer(warehouse=tmp_path_factory.mktemp("thrift-warehouse"), port=free_port(), driver_memory="2g")
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.port_answers(), f"the server still answers on port {server.port} after stop"
    assert not server.pid_file.exists()


def test_thrift_build_equals_embedded_build(thrift_server: ThriftServer, demo_build: Path, demo_landing: Path) -> None:
    run_dbt(
        ["build", "--target", "thrift"],
        landing=demo_landing,
        warehouse=thrift_server.warehouse,
        env={"STEDI_THRIFT_PORT": str(thrift_server.port)},
    )
    assert_same_tables(thrift_server.warehouse, demo_build)


def test_server_keeps_its_files_under_its_warehouse(thrift_server: ThriftServer) -> None:
    for name in ("derby.log", "metastore_db", "thrift-server.log", "thrift-server.pid", "hive/operation_logs"):
        assert (thrift_server.warehouse / name).exists(), name


def test_second_start_reports_the_running_server(thrift_server: ThriftServer, capsys: pytest.CaptureFixture[str]) -> None:
    pid = thrift_server.running_pid()
    assert pid is not None
    assert ThriftServer(warehouse=thrift_server.warehouse, port=free_port()).start() == pid
    assert capsys.readouterr().out.strip() == f"thrift server already running (pid {pid}) on 127.0.0.1:{thrift_server.port}"


def test_server_listens_on_loopback_only(thrift_server: ThriftServer) -> None:
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{thrift_server.port}"], capture_output=True, text=True)
    if listening.returncode != 0:
        pytest.skip("ss is not available")
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening.stdout.splitlines() if line.strip()}
    assert addresses and addresses <= {"127.0.0.1", "[::ffff:127.0.0.1]"}, addresses


@pytest.mark.parametrize("listening", [True, False], ids=["listening", "bound-only"])
def test_taken_port_is_one_clear_line(tmp_path: Path, listening: bool) -> None:
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
        if listening:
            occupant.listen()
        port = occupant.getsockname()[1]
        result = subprocess.run(
            [str(BIN / "stedi"), "thrift", "start", "--warehouse", str(tmp_path), "--port", str(port)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"stedi thrift: port 127.0.0.1:{port} is already in use; stop what listens there or set STEDI_THRIFT_PORT"
    )
    assert not (tmp_path / "thrift-server.pid").exists()


def test_missing_java_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "stedi"), "thrift", "start", "--warehouse", str(tmp_path), "--port", str(free_port())],
        env={**os.environ, "PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("stedi thrift: no 'java' on PATH: Spark needs Java 17;"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "thrift-server.pid").exists()


def test_stop_without_a_server_is_harmless(tmp_path: Path) -> None:
    ThriftServer(warehouse=tmp_path, port=free_port()).stop()


def test_stale_pid_file_naming_another_process_is_left_alone(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        server = ThriftServer(warehouse=tmp_path, port=free_port())
        server.pid_file.write_text(f"{other.pid}\n")
        assert server.running_pid() is None
        server.stop()
        assert other.poll() is None, "stop killed a process that is not a Thrift server"
        assert not server.pid_file.exists()
    finally:
        other.kill()
        other.wait()
