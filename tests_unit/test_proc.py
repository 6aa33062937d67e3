"""halab.proc: timeouts that end whole process groups, bounded library calls, bounded locks, budgets."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from halab.errors import LabError
from halab.lab.host import run as host_run
from halab.lab.remote import Remote, _no_host_ssh_config
from halab.proc import Deadline, bounded, file_lock, run


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def test_timeout_kills_the_grandchildren_too(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run(["sh", "-c", script], timeout=1)
    assert time.monotonic() - started < 8
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 3
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the grandchild outlived its command's timeout"


def test_host_run_timeout_is_one_line_lab_error() -> None:
    with pytest.raises(LabError, match="did not finish in 1 s"):
        host_run(["sleep", "30"], timeout=1)


def test_run_passes_input_and_output() -> None:
    done = run([sys.executable, "-c", "import sys; print(sys.stdin.read().upper())"], timeout=10, input="abc")
    assert done.returncode == 0
    assert done.stdout.strip() == "ABC"


def test_bounded_gives_up_on_a_hanging_call() -> None:
    hang = threading.Event()
    started = time.monotonic()
    with pytest.raises(LabError, match="libvirt connect: no answer within 1 s"):
        bounded(lambda: hang.wait(30), 1, "libvirt connect")
    assert time.monotonic() - started < 3
    hang.set()


def test_bounded_returns_and_raises_like_the_call() -> None:
    assert bounded(lambda: 42, 5, "x") == 42
    with pytest.raises(ZeroDivisionError):
        bounded(lambda: 1 / 0, 5, "x")


def test_file_lock_waits_at_most_its_bound_and_says_so(tmp_path: Path) -> None:
    said: list[str] = []
    lock = tmp_path / "lab.lock"
    with file_lock(lock, 5, "the lab lock", said.append):
        started = time.monotonic()
        # flock is per open file description: a second open in the same process conflicts
        with pytest.raises(LabError, match="still held by another run after 1 s"), \
                file_lock(lock, 1, "the lab lock", said.append, poll_s=0.1):
            pass
        assert time.monotonic() - started < 3
    assert said
    assert "at most 1 s" in said[0]
    with file_lock(lock, 1, "the lab lock", said.append):  # free again
        pass


def test_deadline_caps_each_step_and_ends() -> None:
    budget = Deadline(0.5, "restore")
    assert budget.cap(60) <= 0.5
    time.sleep(0.6)
    assert budget.expired()
    with pytest.raises(LabError, match=r"budget of [01] s spent"):
        budget.cap(10)


def test_fabric_reads_no_host_ssh_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ProxyCommand in ~/.ssh/config would take the harness's SSH out of the lab netns."""
    from fabric import Connection

    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Host *\n  ProxyCommand nc evil 22\n  HostName elsewhere\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert "proxycommand" in Connection("192.168.8.201").ssh_config  # what fabric does by default
    conn = Connection("192.168.8.201", config=_no_host_ssh_config())
    assert "proxycommand" not in conn.ssh_config
    assert conn.host == "192.168.8.201"


def test_remote_call_on_a_silent_node_ends_at_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A node frozen mid-handshake: the TCP connect succeeds, nothing else ever comes back."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    port = server.getsockname()[1]

    def connect(_netns: str, address: str, _port: int, timeout: float) -> socket.socket:
        return socket.create_connection((address, port), timeout=timeout)

    monkeypatch.setattr("halab.lab.remote.netns_socket", connect)
    monkeypatch.setattr("halab.lab.remote.WATCHDOG_MARGIN_S", 0.5)
    remote = Remote("node01", "127.0.0.1", "halab-unit", Path("/nonexistent-key"))
    started = time.monotonic()
    from halab.lab.remote import Unreachable

    with pytest.raises(Unreachable):
        remote.run("true", timeout=1, connect_timeout=1)
    assert time.monotonic() - started < 6
    server.close()


def test_remote_lock_wait_is_bounded() -> None:
    from halab.lab.remote import Unreachable

    remote = Remote("node01", "127.0.0.1", "halab-unit", Path("/nonexistent-key"))
    remote._lock.acquire(timeout=1)
    try:
        started = time.monotonic()
        with pytest.raises(Unreachable, match="another call to this node did not end"):
            remote.run("true", timeout=0.5, connect_timeout=0.2)
        assert time.monotonic() - started < 0.5 + 0.2 + 5 + 2  # connect + command + watchdog margin
    finally:
        remote._lock.release()


class _FakeConn:
    """What Remote needs of a fabric Connection after _connect: run() and is_connected."""

    is_connected = True

    def run(self, cmd: str, **_kw: object) -> object:
        from types import SimpleNamespace

        return SimpleNamespace(exited=0, stdout="ok\n", stderr="")

    def close(self) -> None:
        pass


def _flaky_connect(errors: list[BaseException]) -> object:
    calls: list[int] = []

    def connect(self: Remote, _timeout: float) -> object:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return _FakeConn()

    connect.calls = calls  # type: ignore[attr-defined]
    return connect


def test_a_handshake_reset_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured in CI: the survivor closed a fresh connection between kex and auth."""
    import paramiko

    connect = _flaky_connect([paramiko.SSHException("No existing session")])
    monkeypatch.setattr(Remote, "_connect", connect)
    remote = Remote("node01", "127.0.0.1", "halab-unit", Path("/nonexistent-key"))
    assert remote.run("true", timeout=1, connect_timeout=2).stdout == "ok\n"
    assert len(connect.calls) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("error", ["timeout", "auth", "refused"])
def test_a_timeout_or_wrong_key_is_not_retried(monkeypatch: pytest.MonkeyPatch, error: str) -> None:
    import paramiko

    from halab.lab.remote import Unreachable

    err = {"timeout": TimeoutError("timed out"), "auth": paramiko.AuthenticationException("bad key"),
           "refused": ConnectionRefusedError("refused")}[error]
    connect = _flaky_connect([err, paramiko.SSHException("x")])
    monkeypatch.setattr(Remote, "_connect", connect)
    remote = Remote("node01", "127.0.0.1", "halab-unit", Path("/nonexistent-key"))
    with pytest.raises(Unreachable):
        remote.run("true", timeout=1, connect_timeout=2)
    assert len(connect.calls) == 1  # type: ignore[attr-defined]


def test_resets_are_retried_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    from halab.lab.remote import CONNECT_ATTEMPTS, Unreachable

    connect = _flaky_connect([EOFError()] * 10)
    monkeypatch.setattr(Remote, "_connect", connect)
    remote = Remote("node01", "127.0.0.1", "halab-unit", Path("/nonexistent-key"))
    with pytest.raises(Unreachable, match="EOFError"):
        remote.run("true", timeout=1, connect_timeout=2)
    assert len(connect.calls) == CONNECT_ATTEMPTS  # type: ignore[attr-defined]


def test_a_dead_cached_connection_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    connect = _flaky_connect([])
    monkeypatch.setattr(Remote, "_connect", connect)
    remote = Remote("node01", "127.0.0.1", "halab-unit", Path("/nonexistent-key"))
    dead = _FakeConn()
    dead.is_connected = False
    remote._conn = dead
    assert remote.run("true", timeout=1, connect_timeout=2).ok
    assert len(connect.calls) == 1  # type: ignore[attr-defined]


def test_a_remote_command_is_bounded_on_the_node_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The node kills what the harness stopped waiting for (measured live: hung clusvcadm piled up)."""
    ran: list[str] = []

    class Recording(_FakeConn):
        def run(self, cmd: str, **_kw: object) -> object:
            ran.append(cmd)
            return super().run(cmd)

    monkeypatch.setattr(Remote, "_connect", lambda _self, _t: Recording())
    remote = Remote("node01", "127.0.0.1", "halab-unit", Path("/nonexistent-key"))
    remote.run("clusvcadm -d 'service01'; echo $x", timeout=20.5)
    assert ran == ["timeout -k 5 23 bash -c 'clusvcadm -d '\"'\"'service01'\"'\"'; echo $x'"]


def test_wait_port_says_when_port_22_opened_and_none_when_it_never_did(monkeypatch: pytest.MonkeyPatch) -> None:
    import halab.lab.remote as remote_mod

    tries: list[float] = []

    class Sock:
        def close(self) -> None:
            pass

    def connect(netns: str, address: str, port: int, timeout: float) -> Sock:
        assert port == 22
        assert timeout > 0
        tries.append(timeout)
        if len(tries) < 3:
            raise ConnectionError("refused")
        return Sock()

    monkeypatch.setattr(remote_mod, "netns_socket", connect)
    remote = Remote("node01", "127.0.0.1", "halab-unit", Path("/nonexistent-key"))
    took = remote.wait_port(10.0, poll_s=0.01)
    assert took is not None
    assert len(tries) == 3

    def refuse(netns: str, address: str, port: int, timeout: float) -> Sock:
        raise ConnectionError("refused")

    monkeypatch.setattr(remote_mod, "netns_socket", refuse)
    assert remote.wait_port(0.1, poll_s=0.01) is None
