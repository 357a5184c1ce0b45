"""The same project on a real Spark Thrift server gives the same tables as the embedded build."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse import BIN, ZONE_TABLES, read_table, run_dbt, table_columns
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


def test_thrift_build_equals_embedded_build(thrift_server: ThriftServer, demo_build: Path, demo_landing: Path) -> None:
    run_dbt(
        ["build", "--target", "thrift"],
        landing=demo_landing,
        warehouse=thrift_server.warehouse,
        env={"STEDI_THRIFT_PORT": str(thrift_server.port)},
    )
    for table in ZONE_TABLES:
        columns = table_columns(demo_build, table)
        assert table_columns(thrift_server.warehouse, table) == columns, table
        thrift_rows = read_table(thrift_server.warehouse, table, columns)
        assert thrift_rows, f"thrift build left {table} empty"
        assert thrift_rows == read_table(demo_build, table, columns), table


def test_server_listens_on_loopback_only(thrift_server: ThriftServer) -> None:
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{thrift_server.port}"], capture_output=True, text=True)
    if listening.returncode != 0:
        pytest.skip("ss is not available")
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening.stdout.splitlines() if line.strip()}
    assert addresses and addresses <= {"127.0.0.1", "[::ffff:127.0.0.1]"}, addresses


def test_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
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


def test_stop_without_a_server_is_harmless(tmp_path: Path) -> None:
    ThriftServer(warehouse=tmp_path, port=free_port()).stop()
