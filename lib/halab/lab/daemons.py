"""Host daemons started by halab itself (no systemd on our hosts), always inside the lab netns.

Each runs in the foreground under Popen, so halab knows its PID and stops it by PID; the PID file
survives a crashed run, so `halab down` can still stop what an interrupted run left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from halab.errors import LabError


@dataclass(frozen=True)
class Daemon:
    name: str
    argv: tuple[str, ...]
    ready: Callable[[], bool]  # True once it serves (socket present, port open ...)
    ready_timeout_s: float = 30.0
    stop_grace_s: float = 5.0


def pid_file(pids_dir: Path, name: str) -> Path:
    return pids_dir / f"{name}.pid"


def start(daemon: Daemon, netns: str, pids_dir: Path, logs_dir: Path) -> int:
    pids_dir.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    log = logs_dir / f"{daemon.name}.log"
    with log.open("ab") as out:  # the daemon keeps its own copy of the descriptor
        proc = subprocess.Popen(["ip", "netns", "exec", netns, *daemon.argv], stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file(pids_dir, daemon.name).write_text(str(proc.pid))
    deadline = time.monotonic() + daemon.ready_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"{daemon.name} exited at start (exit {proc.returncode}); see {log}", netns)
        if daemon.ready():
            return proc.pid
        time.sleep(0.2)
    raise LabError(f"{daemon.name} not ready after {daemon.ready_timeout_s:.0f} s; see {log}", netns)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop_pid(pid: int, grace_s: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after the grace time."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + (grace_s if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.1)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        if not alive(pid):
            return
    raise LabError(f"process {pid} survived SIGKILL")


def stop_named(pids_dir: Path, names: Sequence[str], grace_s: float = 5.0) -> list[str]:
    """Stop daemons by their PID files; returns the names that were running."""
    stopped = []
    for name in names:
        path = pid_file(pids_dir, name)
        if not path.exists():
            continue
        try:
            pid = int(path.read_text().strip())
        except ValueError:
            pid = 0
        if pid and alive(pid):
            stop_pid(pid, grace_s)
            stopped.append(name)
        path.unlink(missing_ok=True)
    return stopped
