"""One process at a time per warehouse: a build, an erasure, anything that opens its metastore.

The embedded Spark keeps its Hive metastore in a Derby database that only one JVM may open; a
second build used to print thousands of lines of Derby stack traces. The lock is an OS file lock
(fcntl), so the kernel releases it when its holder dies: a lock left by a killed process is simply
taken by the next command.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stedi_lakehouse.preflight import PreflightError

LOCK_FILE = ".stedi.lock"


@contextmanager
def hold_warehouse(warehouse: Path, command: str) -> Iterator[None]:
    """Hold the warehouse for `command`, or fail at once naming the process that holds it."""
    warehouse.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse / LOCK_FILE
    with lock_path.open("a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise PreflightError(
                f"warehouse {warehouse} is in use by {holder}: wait for it to finish, then run again"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()} ({command})")
        lock.flush()
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock, fcntl.LOCK_UN)
