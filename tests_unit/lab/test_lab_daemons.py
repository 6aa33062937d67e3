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
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from halab.errors import LabError
from halab.lab import daemons
from halab.lab.daemons import (
    Daemon,
    Identity,
    alive,
    identity_of,
    pid_file,
    same,
    stop_named,
    stop_named_report,
    stop_pid,
)

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
    ident = identity_of(proc.pid)
    assert ident is not None
    pid_file(pids, "tgtd").write_text(ident.to_json())
    gone = subprocess.Popen(["true"], start_new_session=True)
    spawned.append(gone)
    gone.wait()
    pid_file(pids, "virtlogd").write_text(replace(ident, pid=gone.pid).to_json())  # stale: the process is gone
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
        recorded = Identity.from_json(pid_file(pids, "sleeper").read_text())
        assert recorded is not None
        assert recorded.pid == pid
        assert same(recorded)
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
        recorded = Identity.from_json(pid_file(pids, "mute").read_text())
        assert recorded is not None
        pid = recorded.pid
        assert alive(pid)
    finally:
        assert stop_named(pids, ["mute"], grace_s=2) == ["mute"]


# --- identity: only what halab started, only while it is still that process ---------------------


def test_a_reused_pid_is_never_signalled(tmp_path: Path, spawned: Procs) -> None:
    """After a reboot or PID reuse the PID file names someone else's process: left alone."""
    pids = tmp_path / "pids"
    pids.mkdir()
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    spawned.append(stranger)
    ident = identity_of(stranger.pid)
    assert ident is not None
    pid_file(pids, "tgtd").write_text(replace(ident, start=ident.start - 1).to_json())  # another start time
    pid_file(pids, "libvirtd").write_text(replace(ident, boot="another-boot").to_json())
    pid_file(pids, "virtlogd").write_text(f"{stranger.pid}\n")  # an older run's bare PID: no identity
    report = stop_named_report(pids, ["tgtd", "libvirtd", "virtlogd"], grace_s=1)
    assert report.stopped == ()
    assert alive(stranger.pid), "a process halab cannot vouch for was signalled"
    assert any("without identity" in p for p in report.problems)


def test_a_survivor_of_sigkill_is_reported_not_raised(tmp_path: Path, spawned: Procs,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    spawned.append(proc)
    ident = identity_of(proc.pid)
    assert ident is not None
    pid_file(pids, "tgtd").write_text(ident.to_json())
    monkeypatch.setattr(daemons, "_signal", lambda _i, _s: True)  # a D-state process: signals do nothing
    monkeypatch.setattr(daemons.time, "sleep", lambda _s: None)
    report = stop_named_report(pids, ["tgtd"], grace_s=0.01)
    assert report.problems == (f"tgtd (pid {proc.pid}) survived SIGKILL",)
    assert pid_file(pids, "tgtd").exists(), "kept, so the next `halab down` tries again"


def test_qemu_of_this_lab_only(tmp_path: Path, spawned: Procs) -> None:
    """Same domain name, other lab's overlay: not matched (qemu is found by name AND disk)."""
    mine, other = tmp_path / "mine" / "nodes", tmp_path / "other" / "nodes"
    code = "import time; time.sleep(300)"

    def fake_qemu(nodes: Path) -> subprocess.Popen[bytes]:
        argv = f"exec -a qemu-system-x86_64 {sys.executable} -c '{code}' -name guest=RHCSvm01,debug-threads=on " \
               f"-blockdev file={nodes}/RHCSvm01.qcow2"
        proc = subprocess.Popen(["bash", "-c", argv], start_new_session=True)
        spawned.append(proc)
        return proc

    a, b = fake_qemu(mine), fake_qemu(other)
    from halab.lab.domains import qemu_pids

    assert wait_for(lambda: qemu_pids(["RHCSvm01"], mine) == {"RHCSvm01": a.pid})
    assert wait_for(lambda: qemu_pids(["RHCSvm01"], other) == {"RHCSvm01": b.pid}), \
        "the other lab's qemu (its exec may land after ours)"
    assert qemu_pids(["RHCSvm01"], tmp_path / "third" / "nodes") == {}


def test_down_goes_on_past_a_survivor_and_reports_a_stuck_netns(tmp_path: Path, spawned: Procs,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from halab.lab import lab as labmod
    from halab.lab import network, paths
    from halab.spec import load_spec

    spec = load_spec("seed")
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path)
    lab_paths = paths.LabPaths(spec.name)
    lab_paths.nodes.mkdir(parents=True)
    lab_paths.pids.mkdir(parents=True)
    (lab_paths.nodes / "RHCSvm01.qcow2").write_text("overlay")
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    spawned.append(proc)
    ident = identity_of(proc.pid)
    assert ident is not None
    pid_file(lab_paths.pids, "fence-sshd").write_text(ident.to_json())
    monkeypatch.setattr(daemons, "stop", lambda _i, grace_s=5.0: False)  # survives SIGKILL
    monkeypatch.setattr(labmod, "pids_in_netns", lambda _ns: [])
    monkeypatch.setattr(labmod.domains, "qemu_pids", lambda _d, _n: {})
    monkeypatch.setattr(network, "netns_exists", lambda _ns: True)
    monkeypatch.setattr(network, "delete", lambda _p: "Device or resource busy")
    said: list[str] = []
    with pytest.raises(LabError) as info:
        labmod.down(spec, progress=said.append)
    msg = str(info.value)
    assert "\n" not in msg
    assert "fence-sshd (pid" in msg
    assert "survived SIGKILL" in msg
    assert "netns halab-seed not removed: Device or resource busy" in msg
    assert not (lab_paths.nodes / "RHCSvm01.qcow2").exists(), "overlays removed despite the survivor"
    assert "removed overlay RHCSvm01.qcow2" in said
    assert not any(s == "removed netns halab-seed" for s in said)


def test_down_leaves_only_logs_and_the_reports_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys, the fence sshd's host key, LUN files and libvirt's state go with the lab; the
    evidence (qemu's logs moved into logs/) and what the report reads stay; twice is the same."""
    from halab.lab import lab as labmod
    from halab.lab import network, paths
    from halab.spec import load_spec

    spec = load_spec("seed")
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path)
    state = paths.LabPaths(spec.name).state
    for rel in ("keys/fence_ed25519", "sshd/ssh_host_ed25519_key", "luns/quorum.img", "pids/tgtd.pid",
                "libvirt/etc/qemu.conf", "libvirt/log/qemu/RHCSvm01.log", "logs/tgtd.log", "tgtd.port",
                "built-by-session", "last-lab.json", "stack-versions.json", "poll-pace.txt", "lab.json",
                "deployed-fast"):
        (state / rel).parent.mkdir(parents=True, exist_ok=True)
        (state / rel).write_text("x")
    monkeypatch.setattr(labmod, "pids_in_netns", lambda _ns: [])
    monkeypatch.setattr(labmod.domains, "qemu_pids", lambda _d, _n: {})
    monkeypatch.setattr(network, "netns_exists", lambda _ns: False)
    monkeypatch.setattr(labmod.target, "offline", lambda _p: None)
    assert {"state keys", "state luns", "state sshd", "state libvirt"} <= set(labmod.leftovers(spec))
    said: list[str] = []
    labmod.down(spec, progress=said.append)
    assert labmod.leftovers(spec) == []
    left = sorted(str(p.relative_to(state)) for p in state.rglob("*") if p.is_file())
    assert left == ["last-lab.json", "logs/libvirt/qemu/RHCSvm01.log", "logs/tgtd.log", "poll-pace.txt",
                    "stack-versions.json"]
    assert any(s.startswith("removed state ") and "keys" in s and "luns" in s for s in said), said
    assert labmod.lab_names(tmp_path, tmp_path / "netns") == []
    said.clear()
    labmod.down(spec, progress=said.append)
    assert sorted(str(p.relative_to(state)) for p in state.rglob("*") if p.is_file()) == left
    assert said == []


def test_down_keeps_the_pid_files_while_a_process_lives(tmp_path: Path, spawned: Procs,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from halab.lab import lab as labmod
    from halab.lab import network, paths
    from halab.spec import load_spec

    spec = load_spec("seed")
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path)
    lab_paths = paths.LabPaths(spec.name)
    lab_paths.pids.mkdir(parents=True)
    (lab_paths.state / "keys").mkdir()
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    spawned.append(proc)
    ident = identity_of(proc.pid)
    assert ident is not None
    pid_file(lab_paths.pids, "fence-sshd").write_text(ident.to_json())
    monkeypatch.setattr(daemons, "stop", lambda _i, grace_s=5.0: False)  # survives SIGKILL
    monkeypatch.setattr(labmod, "pids_in_netns", lambda _ns: [])
    monkeypatch.setattr(labmod.domains, "qemu_pids", lambda _d, _n: {})
    monkeypatch.setattr(network, "netns_exists", lambda _ns: False)
    with pytest.raises(LabError):
        labmod.down(spec, progress=lambda _m: None)
    assert pid_file(lab_paths.pids, "fence-sshd").exists(), "the next down must still find the survivor"
