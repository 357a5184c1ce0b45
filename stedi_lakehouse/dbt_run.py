"""`stedi dbt ARGS`: dbt as every local build runs it.

- one command at a time per warehouse (`hold_warehouse`): a second build stops at once with one
  line naming the warehouse and the process holding it, instead of thousands of lines of Derby
  stack traces;
- the landing root resolved to the absolute path the preflight checked;
- a line before the slow start of dbt and Spark, and the JVM's start-up boilerplate left out;
- Ctrl+C stops dbt and its Spark JVM (both run in their own process group, so the terminal's
  signal reaches this process only), waits until nothing is left running, and says so in one line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from stedi_lakehouse.preflight import landing_root
from stedi_lakehouse.warehouse_lock import hold_warehouse

# Lines the JVM prints on every start, which say nothing about the build.
JVM_BOILERPLATE = (
    "Using incubator modules",
    "Setting default log level to",
    "setLogLevel(newLevel)",
    "Using Spark's default log4j profile",
)
INTERRUPTED = 130
# How long dbt gets to stop on its own, then Spark's JVM to run its shutdown hooks.
STOP_GRACE_SECONDS = 10.0


def dbt_command(args: Sequence[str]) -> list[str]:
    return [str(Path(sys.executable).parent / "dbt"), *args]


def _target(args: Sequence[str], env: dict[str, str]) -> str:
    for index, arg in enumerate(args):
        if arg == "--target" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return env.get("STEDI_TARGET", "local")


def _engine(target: str, env: dict[str, str]) -> str:
    if target == "athena":
        return "Athena"
    if target == "thrift":
        return f"the Spark Thrift server at {env.get('STEDI_THRIFT_HOST', '127.0.0.1')}:{env.get('STEDI_THRIFT_PORT', '10000')}"
    return "the embedded Spark (about 20 s before the first model on an idle laptop)"


def _forward(stream: TextIO, out: TextIO, stopped: threading.Event) -> None:
    for line in stream:
        if not stopped.is_set() and not any(noise in line for noise in JVM_BOILERPLATE):
            out.write(line)
            out.flush()


def _group_gone(process: subprocess.Popen[str], seconds: float) -> bool:
    """Wait until no process of dbt's group is left (dbt itself reaped), at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop dbt (SIGINT, as Ctrl+C would), then whatever it started, Spark's JVM among them
    (pyspark makes the JVM ignore SIGINT; SIGTERM runs its shutdown hooks), until none is left."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        if _group_gone(process, STOP_GRACE_SECONDS):
            break
    process.wait()


def run(args: Sequence[str]) -> int:
    """Run dbt with `args` under the warehouse lock; dbt's exit status, or 130 when interrupted."""
    env = dict(os.environ)
    if env.get("STEDI_LANDING_PATH"):
        env["STEDI_LANDING_PATH"] = landing_root(env["STEDI_LANDING_PATH"])
    warehouse = Path(env.get("STEDI_WAREHOUSE_DIR") or "warehouse").absolute()
    env["STEDI_WAREHOUSE_DIR"] = str(warehouse)
    command = f"dbt {args[0]}" if args else "dbt"
    interrupted = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: interrupted.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with hold_warehouse(warehouse, command):
            landing = env.get("STEDI_LANDING_PATH", "unset")
            print(f"stedi {command}: starting dbt and {_engine(_target(args, env), env)}; warehouse {warehouse}, landing {landing}", flush=True)
            process = subprocess.Popen(
                dbt_command(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
            )
            assert process.stdout is not None and process.stderr is not None
            readers = [
                threading.Thread(target=_forward, args=(stream, out, interrupted), daemon=True)
                for stream, out in ((process.stdout, sys.stdout), (process.stderr, sys.stderr))
            ]
            for reader in readers:
                reader.start()
            while process.poll() is None and not interrupted.wait(0.2):
                pass
            if interrupted.is_set():
                _stop(process)
                print(f"stedi {command}: interrupted; dbt and Spark stopped, nothing left running, warehouse {warehouse} free for the next build", file=sys.stderr, flush=True)
                return INTERRUPTED
            for reader in readers:
                reader.join()
            return process.returncode
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
