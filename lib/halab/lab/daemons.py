"""Host daemons started by halab itself (no systemd on our hosts), always inside the lab netns.

Each runs in the foreground under Popen, so halab knows its PID; the PID file records the PID with
its start time, boot id and command line, survives a crashed run, and lets `halab down` stop what
an interrupted run left behind -- and only that: after a reboot or PID reuse the file names someone
else's process, which is never signalled.
"""

from __future__ import annotations

import contextlib
import json
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


BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class Identity:
    """Who a process is, beyond its PID: a PID is reused after the process ends or the host
    reboots, so halab signals a PID only while its start time (and boot) still match."""

    pid: int
    start: int  # /proc/PID/stat field 22: clock ticks after boot, fixed for the life of the process
    boot: str
    cmdline: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"pid": self.pid, "start": self.start, "boot": self.boot, "cmdline": list(self.cmdline)})

    @staticmethod
    def from_json(text: str) -> Identity | None:
        """None for a file halab cannot vouch for (a bare PID of an older run, garbage)."""
        try:
            raw = json.loads(text)
            return Identity(int(raw["pid"]), int(raw["start"]), str(raw["boot"]),
                            tuple(str(a) for a in raw.get("cmdline", ())))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def _boot_id() -> str:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[19]) if len(fields) > 19 and fields[0] != "Z" else None


def _cmdline(pid: int) -> tuple[str, ...]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ()
    return tuple(a.decode(errors="replace") for a in raw.split(b"\0") if a)


def identity_of(pid: int, with_cmdline: bool = True) -> Identity | None:
    """The identity of the running (non-zombie) process `pid`, or None."""
    start = _start_time(pid)
    if start is None:
        return None
    return Identity(pid, start, _boot_id(), _cmdline(pid) if with_cmdline else ())


def same(ident: Identity) -> bool:
    """True while `ident.pid` is still that very process: same boot and start time (a process keeps
    its start time across exec, so the command line is recorded for people, not compared)."""
    now = identity_of(ident.pid, with_cmdline=False)
    return now is not None and now.start == ident.start and now.boot == ident.boot


def pid_file(pids_dir: Path, name: str) -> Path:
    return pids_dir / f"{name}.pid"


def ours(pids_dir: Path, name: str) -> bool:
    """The PID file of `name` names a live process, and it is the one halab started (start time
    and boot id): an unreadable or absent file is not ours."""
    try:
        ident = Identity.from_json(pid_file(pids_dir, name).read_text(errors="replace"))
    except OSError:
        return False
    return ident is not None and same(ident)


def gone(pids_dir: Path) -> list[str]:
    """The lab daemons halab started (a PID file says so) that no longer run: what to name when a
    lab stops answering (measured in the chaos run: a killed tgtd surfaced as a deploy timeout)."""
    out = []
    for path in sorted(pids_dir.glob("*.pid")) if pids_dir.is_dir() else ():
        try:
            ident = Identity.from_json(path.read_text())
        except OSError:
            continue
        if ident is not None and not same(ident):
            out.append(path.stem)
    return out


def start(daemon: Daemon, netns: str, pids_dir: Path, logs_dir: Path) -> int:
    pids_dir.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    log = logs_dir / f"{daemon.name}.log"
    with log.open("ab") as out:  # the daemon keeps its own copy of the descriptor
        proc = subprocess.Popen(["ip", "netns", "exec", netns, *daemon.argv], stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    # start time first (it survives `ip netns exec`'s exec); the command line once it serves
    first = identity_of(proc.pid, with_cmdline=False)
    path = pid_file(pids_dir, daemon.name)
    if first is not None:
        path.write_text(first.to_json())
    deadline = time.monotonic() + daemon.ready_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"{daemon.name} exited at start (exit {proc.returncode}); see {log}", netns)
        if daemon.ready():
            ident = identity_of(proc.pid)
            if ident is not None and first is not None and ident.start == first.start:
                path.write_text(ident.to_json())
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


def _signal(ident: Identity, sig: int) -> bool:
    """Send `sig` to the process (through a pidfd when the kernel has them) and its group, only
    while it is still `ident`; False when it is not (gone, or the PID is someone else's now)."""
    try:
        fd = os.pidfd_open(ident.pid)
    except (OSError, AttributeError):
        fd = -1
    try:
        if not same(ident):  # checked after the pidfd is open: the pidfd cannot change process
            return False
        if os.getpgid(ident.pid) == ident.pid:  # it leads its own group (start_new_session)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(ident.pid, sig)
        with contextlib.suppress(ProcessLookupError):
            if fd >= 0:
                signal.pidfd_send_signal(fd, sig)
            else:
                os.kill(ident.pid, sig)
        return True
    except ProcessLookupError:
        return False
    finally:
        if fd >= 0:
            os.close(fd)


def stop(ident: Identity, grace_s: float = 5.0) -> bool:
    """SIGTERM the process and its group, then SIGKILL after the grace time; only while it is
    still `ident`. True once it is gone; False when it survived SIGKILL (D state, ...)."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        if not _signal(ident, sig):
            return True
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and same(ident):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(ident.pid, os.WNOHANG)
            time.sleep(0.1)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(ident.pid, os.WNOHANG)
        if not same(ident):
            return True
    return False


def stop_pid(pid: int, grace_s: float = 5.0) -> None:
    """Stop a process halab has just found (its identity is taken now); raises if it survives."""
    ident = identity_of(pid)
    if ident is not None and not stop(ident, grace_s):
        raise LabError(f"process {pid} survived SIGKILL")


@dataclass(frozen=True)
class Stopped:
    """What stop_named did: names stopped, and what it would not or could not stop."""

    stopped: tuple[str, ...]
    problems: tuple[str, ...]


def _legacy_pid_alive(path: Path) -> bool:
    """A bare-PID file (older halab): does its PID name a live process now?"""
    try:
        return alive(int(path.read_text().strip()))
    except (ValueError, OSError):
        return False


def stop_named(pids_dir: Path, names: Sequence[str], grace_s: float = 5.0) -> list[str]:
    """Stop daemons by their PID files; returns the names that were running (problems logged)."""
    return list(stop_named_report(pids_dir, names, grace_s).stopped)


def stop_named_report(pids_dir: Path, names: Sequence[str], grace_s: float = 5.0) -> Stopped:
    """Stop daemons by their PID files, each only if it is still the process halab started."""
    stopped: list[str] = []
    problems: list[str] = []
    for name in names:
        path = pid_file(pids_dir, name)
        if not path.exists():
            continue
        ident = Identity.from_json(path.read_text(errors="replace"))
        if ident is None:
            if _legacy_pid_alive(path):  # kept: maybe another halab's live daemon; never signalled
                problems.append(f"{name}: PID file without identity names a live process, not signalled ({path})")
                continue
        elif same(ident):
            if stop(ident, grace_s):
                stopped.append(name)
            else:
                problems.append(f"{name} (pid {ident.pid}) survived SIGKILL")
                continue  # keep the file: `halab down` tries again
        path.unlink(missing_ok=True)
    return Stopped(tuple(stopped), tuple(problems))
