"""Processes this tooling started, found again by their recorded pid and stopped with their children."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def recorded_pid(pid_file: Path, *marks: str) -> int | None:
    """The pid in `pid_file` if that process runs and its command line holds each of `marks`.

    A stale pid file may name a pid the system has since given to another process: the marks
    (a Java main class, a folder only this tooling passes) make sure it is the process recorded.
    """
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    arguments = command_line(pid)
    return pid if all(any(mark in argument for argument in arguments) for mark in marks) else None


def stop_group(pid: int, timeout_seconds: float = 60) -> None:
    """SIGTERM `pid` and the rest of its process group, SIGKILL what is left after the timeout.

    Every server this tooling starts leads a session of its own, so its group holds it and what it
    started (a worker's executors); a pid in our own group is stopped alone.
    """
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return
    alone = group == os.getpgrp()

    def send(signal_number: int) -> None:
        try:
            if alone:
                os.kill(pid, signal_number)
            else:
                os.killpg(group, signal_number)
        except ProcessLookupError:
            pass

    def running() -> bool:
        try:  # reap it if it is our own child, so it does not linger as a zombie
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return any(_has_live_thread(member) for member in ([pid] if alone else _group_members(group)))

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout_seconds
    while running() and time.monotonic() < deadline:
        time.sleep(0.5)
    if running():
        send(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while running() and time.monotonic() < deadline:
            time.sleep(0.2)


def _group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == group:
                    members.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return members


def _has_live_thread(pid: int) -> bool:
    """Whether a thread of `pid` still runs. A JVM's main thread turns zombie while its other threads
    shut down and hold its ports, so the process's own state alone says it ended too early."""
    try:
        threads = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for thread in threads:
        try:
            if (thread / "stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                return True
        except (OSError, IndexError):
            continue
    return False
