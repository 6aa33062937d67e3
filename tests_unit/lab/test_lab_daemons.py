"""Host daemons by PID: start, readiness, stop of a whole process group, stop by PID file.

Real but harmless processes (sleep, a Python that ignores SIGTERM), all spawned by the test in a
session of their own, never inside a network namespace: `ip netns exec NS` is stripped from what
daemons.start runs. Only PIDs the test itself spawned are ever signalled.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from halab.errors import LabError
from halab.lab import daemons
from halab.lab.daemons import Daemon, alive, pid_file, stop_named, stop_pid

IGNORES_TERM = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(300)")


def wait_for(pred: Any, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return bool(pred())


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test spawns; what a failing test left is killed (by its own PID) at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


Procs = list[subprocess.Popen[bytes]]


def group(tmp_path: Path, spawned: Procs) -> tuple[subprocess.Popen[bytes], list[int]]:
    """A shell leading its own process group with two `sleep 300` children; returns it and them."""
    pids = tmp_path / "children"
    script = f"sleep 300 & echo $! >> {pids}; sleep 300 & echo $! >> {pids}; wait"
    proc = subprocess.Popen(["sh", "-c", script], start_new_session=True, stdin=subprocess.DEVNULL)
    spawned.append(proc)
    assert wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2)
    children = [int(p) for p in pids.read_text().split()]
    assert all(alive(p) for p in [proc.pid, *children])
    return proc, children


def test_alive_running_zombie_and_reaped(spawned: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    spawned.append(proc)
    assert alive(proc.pid)
    quick = subprocess.Popen(["true"])
    spawned.append(quick)
    # exited but not reaped: a zombie is not alive
    assert wait_for(lambda: Path(f"/proc/{quick.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z")
    assert not alive(quick.pid)
    quick.wait()
    assert not alive(quick.pid)


def test_stop_pid_ends_the_whole_process_group(tmp_path: Path,
                                               spawned: list[subprocess.Popen[bytes]]) -> None:
    proc, children = group(tmp_path, spawned)
    started = time.monotonic()
    stop_pid(proc.pid, grace_s=5)
    assert time.monotonic() - started < 5, "SIGTERM was enough: no wait for the grace time"
    assert not alive(proc.pid)
    assert wait_for(lambda: not any(alive(c) for c in children)), "the group's children survived"


def test_stop_pid_escalates_to_sigkill(spawned: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_TERM], start_new_session=True,
                            stdout=subprocess.PIPE)
    spawned.append(proc)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    started = time.monotonic()
    stop_pid(proc.pid, grace_s=0.5)
    assert not alive(proc.pid)
    assert 0.5 <= time.monotonic() - started < 5


def test_stop_pid_of_a_gone_process_is_quiet(spawned: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen(["true"], start_new_session=True)
    spawned.append(proc)
    proc.wait()
    stop_pid(proc.pid, grace_s=0.1)  # no error: stopping is idempotent


def test_stop_named_by_pid_file(tmp_path: Path, spawned: list[subprocess.Popen[bytes]]) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    proc, children = group(tmp_path, spawned)
    pid_file(pids, "tgtd").write_text(f"{proc.pid}\n")
    gone = subprocess.Popen(["true"], start_new_session=True)
    spawned.append(gone)
    gone.wait()
    pid_file(pids, "virtlogd").write_text(str(gone.pid))  # stale: the process is gone
    pid_file(pids, "libvirtd").write_text("not a pid")

    assert stop_named(pids, ["libvirtd", "virtlogd", "tgtd", "fence-sshd"], grace_s=2) == ["tgtd"]
    assert not alive(proc.pid)
    assert wait_for(lambda: not any(alive(c) for c in children))
    assert list(pids.iterdir()) == [], "every pid file is removed, stale or not"
    assert stop_named(pids, ["tgtd"]) == []  # idempotent


# --- start(): the real code path, minus the network namespace -----------------------------


@pytest.fixture
def no_netns(monkeypatch: pytest.MonkeyPatch, spawned: list[subprocess.Popen[bytes]]) -> list[list[str]]:
    """daemons.start runs `ip netns exec NS ARGV...`: run ARGV itself, and record what was asked."""
    asked: list[list[str]] = []
    real = subprocess.Popen

    def popen(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        asked.append(list(argv))
        assert argv[:3] == ["ip", "netns", "exec"]
        proc = real(argv[4:], **kwargs)
        spawned.append(proc)  # reaped (and killed, if a test failed) by the spawned fixture
        return proc

    monkeypatch.setattr(daemons.subprocess, "Popen", popen)
    return asked


def test_start_waits_for_ready_and_writes_the_pid_file(tmp_path: Path, no_netns: list[list[str]]) -> None:
    flag = tmp_path / "ready"
    daemon = Daemon("sleeper", ("sh", "-c", f"echo started; touch {flag}; exec sleep 300"), flag.exists,
                    ready_timeout_s=10)
    pids, logs = tmp_path / "pids", tmp_path / "logs"
    try:
        pid = daemons.start(daemon, "halab-unit", pids, logs)
        assert no_netns == [["ip", "netns", "exec", "halab-unit", *daemon.argv]]
        assert alive(pid)
        assert pid_file(pids, "sleeper").read_text() == str(pid)
        assert wait_for(lambda: (logs / "sleeper.log").read_text() == "started\n")
    finally:
        assert stop_named(pids, ["sleeper"], grace_s=2) == ["sleeper"]
    assert not alive(pid)


def test_start_reports_a_daemon_that_exits(tmp_path: Path, no_netns: list[list[str]]) -> None:
    daemon = Daemon("broken", ("sh", "-c", "echo no config >&2; exit 3"), lambda: False, ready_timeout_s=10)
    with pytest.raises(LabError) as info:
        daemons.start(daemon, "halab-unit", tmp_path / "pids", tmp_path / "logs")
    msg = str(info.value)
    assert "\n" not in msg
    assert "broken exited at start (exit 3)" in msg
    assert str(tmp_path / "logs" / "broken.log") in msg
    assert (tmp_path / "logs" / "broken.log").read_text() == "no config\n"


def test_start_reports_a_daemon_never_ready(tmp_path: Path, no_netns: list[list[str]]) -> None:
    daemon = Daemon("mute", ("sleep", "300"), lambda: False, ready_timeout_s=0.5)
    pids = tmp_path / "pids"
    try:
        with pytest.raises(LabError, match=r"mute not ready after 0 s"):
            daemons.start(daemon, "halab-unit", pids, tmp_path / "logs")
        # the PID file stays, so `halab down` can still stop what was started
        pid = int(pid_file(pids, "mute").read_text())
        assert alive(pid)
    finally:
        assert stop_named(pids, ["mute"], grace_s=2) == ["mute"]
