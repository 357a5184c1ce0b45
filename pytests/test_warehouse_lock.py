"""One process at a time per warehouse, and a lock left by a killed process is taken over."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stedi_lakehouse.preflight import PreflightError
from stedi_lakehouse.warehouse_lock import LOCK_FILE, hold_warehouse

HOLD_UNTIL_KILLED = """
import sys, time
from pathlib import Path
from stedi_lakehouse.warehouse_lock import hold_warehouse
with hold_warehouse(Path(sys.argv[1]), "dbt build"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_UNTIL_KILLED, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(PreflightError, match=rf"warehouse {tmp_path} is in use by pid {holder.pid} \(dbt build\)"):
            with hold_warehouse(tmp_path, "make erase"):
                pass
    finally:
        holder.kill()
        holder.wait()
    # the kernel released the killed holder's lock: the next command takes the warehouse
    with hold_warehouse(tmp_path, "make erase"):
        assert (tmp_path / LOCK_FILE).read_text().startswith("pid ")
    assert (tmp_path / LOCK_FILE).read_text() == ""
