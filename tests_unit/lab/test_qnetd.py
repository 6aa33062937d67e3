"""The lab's corosync-qnetd: its command line, per-lab socket and lock, address, and one real start.

The real start runs corosync-qnetd in a throwaway network namespace of the test's own
(``hqtest-<pid>``, loopback only, deleted at the end), never in the root namespace or a lab's;
it is skipped without root or without corosync-qnetd. Only processes it started are stopped.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from halab.errors import ConfigError, LabError
from halab.lab import daemons, qnetd
from halab.lab.host import Result, pids_in_netns, run
from halab.lab.paths import LabPaths
from halab.spec import LabSpec, load_spec

SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes with its NUL


@pytest.fixture(scope="module")
def seed() -> LabSpec:
    return load_spec("seed")


def with_pacemaker(spec: LabSpec, **keys: str) -> LabSpec:
    return replace(spec, stacks={**spec.stacks, "pacemaker": {**spec.stacks["pacemaker"], **keys}})


def test_argv_runs_in_the_foreground_without_tls_on_the_lab_address(seed: LabSpec) -> None:
    argv = qnetd.argv(seed, LabPaths("seed"))
    assert argv == ("/usr/bin/corosync-qnetd", "-f", "-s", "off", "-l", "192.168.8.1", "-p", "5403", "-S",
                    "local_socket_file=/var/lib/halab/labs/seed/qnetd/qnetd.sock,"
                    "lock_file=/var/lib/halab/labs/seed/qnetd/qnetd.lock")


def test_each_lab_has_its_own_socket_and_lock_under_its_state() -> None:
    """Two labs at once (one per pytest-xdist worker) must not share qnetd's host-wide defaults."""
    one, two = LabPaths("seed-gw0"), LabPaths("seed-gw1")
    assert qnetd.socket_path(one) != qnetd.socket_path(two)
    assert qnetd.lock_path(one) != qnetd.lock_path(two)
    for paths in (one, two):
        assert qnetd.socket_path(paths).is_relative_to(paths.state)
        assert qnetd.lock_path(paths).is_relative_to(paths.state)
    longest = LabPaths("x" * 63)  # spec.SAFE_NAME: a lab name has at most 63 characters
    assert len(str(qnetd.socket_path(longest)).encode()) <= SUN_PATH_MAX


def test_the_address_is_the_hosts_on_the_qnetd_network(seed: LabSpec) -> None:
    assert (qnetd.network_name(seed), qnetd.address(seed)) == ("management", "192.168.8.1")
    service = with_pacemaker(seed, qnetd_network="service")
    assert qnetd.address(service) == "192.168.7.1"
    assert "-l 192.168.7.1" in " ".join(qnetd.argv(service, LabPaths("seed")))


def test_a_network_without_a_host_address_is_one_line(seed: LabSpec) -> None:
    with pytest.raises(ConfigError, match=r"qnetd_network = 'heartbeat' has no host address") as err:
        qnetd.address(with_pacemaker(seed, qnetd_network="heartbeat"))
    assert "\n" not in str(err.value)


def test_a_missing_qnetd_is_one_line_naming_the_lab(seed: LabSpec, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qnetd, "QNETD", tmp_path / "corosync-qnetd")
    monkeypatch.setattr(qnetd, "run", lambda *a, **k: pytest.fail("nothing runs without the binary"))
    with pytest.raises(LabError) as err:
        qnetd.start(seed, LabPaths("seed"))
    assert (err.value.what, err.value.where) == ("corosync-qnetd is not installed: run scripts/setup.sh", "seed")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every LabPaths under tmp_path (the real /var/lib/halab is never touched)."""
    monkeypatch.setattr(LabPaths, "state", property(lambda self: tmp_path / self.lab))
    return tmp_path


@pytest.mark.usefixtures("in_tmp")
def test_ensure_starts_only_when_no_qnetd_of_ours_runs(seed: LabSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []

    def start(spec: LabSpec, paths: LabPaths) -> int:
        started.append(paths.lab)
        return 1

    monkeypatch.setattr(qnetd, "start", start)
    paths = LabPaths("seed")
    assert qnetd.ensure(seed, paths)  # no PID file
    paths.pids.mkdir(parents=True)
    pid_file = daemons.pid_file(paths.pids, qnetd.NAME)
    me = daemons.identity_of(os.getpid())
    assert me is not None
    pid_file.write_text(replace(me, start=me.start + 1).to_json())  # the PID is someone else's now
    assert qnetd.ensure(seed, paths)
    pid_file.write_text(me.to_json())  # a live process, the very one the file names
    assert not qnetd.ensure(seed, paths)
    assert started == ["seed", "seed"]


def test_status_asks_the_labs_own_socket_inside_its_netns(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], str | None, float]] = []

    def fake_run(cmd: list[str], timeout: float = 60.0, check: bool = True, netns: str | None = None) -> Result:
        calls.append((cmd, netns, timeout))
        return Result(" ".join(cmd), 0, "QNetd address:\t\t\t192.168.8.1:5403\n", "")

    monkeypatch.setattr(qnetd, "run", fake_run)
    paths = LabPaths("seed")
    assert qnetd.status(paths).startswith("QNetd address:")
    assert calls == [(["corosync-qnetd-tool", "-s", "-v", "-p", str(qnetd.socket_path(paths))], "halab-seed",
                      qnetd.TOOL_TIMEOUT_S)]
    monkeypatch.setattr(qnetd, "run", lambda cmd, **_k: Result(" ".join(cmd), 3, "", "Can't connect to qnetd "
                                                                                    "socket (is QNetd running?)\n"))
    assert qnetd.clients(paths).endswith("exit 3: Can't connect to qnetd socket (is QNetd running?)")


def test_halab_down_stops_qnetd_by_its_pid_file() -> None:
    from halab.lab.lab import _Teardown

    steps = [name for name, _ in _Teardown(None, LabPaths("seed"), print).common_steps()]
    assert steps.index("qnetd") < steps.index("netns processes")


# --- one real corosync-qnetd, in a throwaway netns ------------------------------------------------

live = pytest.mark.skipif(os.geteuid() != 0 or not qnetd.QNETD.exists() or shutil.which("ip") is None,
                          reason="needs root and corosync-qnetd (scripts/setup.sh)")


def loopback(spec: LabSpec) -> LabSpec:
    """The spec with its management network's host address on the test netns' loopback."""
    lo = ipaddress.IPv4Network("127.0.0.0/8")
    nets = tuple(replace(n, subnet=lo, host=ipaddress.IPv4Address("127.0.0.1")) if n.name == "management" else n
                 for n in spec.networks)
    return replace(spec, networks=nets)


@pytest.fixture
def own_netns(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A netns of the test's own with loopback up; what runs in it at the end is stopped, then it goes."""
    ns = f"hqtest-{os.getpid()}"
    monkeypatch.setattr(LabPaths, "netns", property(lambda self: ns))
    run(["ip", "netns", "add", ns], timeout=10)
    try:
        run(["ip", "-n", ns, "link", "set", "lo", "up"], timeout=10)
        yield ns
    finally:
        for pid in pids_in_netns(ns):  # only what this test started: the netns is its own
            daemons.stop_pid(pid, grace_s=2)
        run(["ip", "netns", "delete", ns], timeout=10, check=False)


@live
def test_a_real_qnetd_answers_on_the_labs_own_socket(seed: LabSpec, own_netns: str) -> None:
    spec, paths = loopback(seed), LabPaths("q1")
    try:
        assert qnetd.ensure(spec, paths)
        assert qnetd.running(paths)
        assert not qnetd.ensure(spec, paths), "a running qnetd of ours is kept"
        assert qnetd.socket_path(paths).is_socket()
        status = qnetd.status(paths)
        assert "QNetd address:" in status
        assert "127.0.0.1:5403" in status
        assert (paths.logs / "qnetd.log").exists()
    finally:
        stopped = qnetd.stop(paths)
    assert stopped == ["qnetd"]
    assert not qnetd.socket_path(paths).exists(), "SIGTERM ends it cleanly (it removes its socket)"
    assert not daemons.pid_file(paths.pids, qnetd.NAME).exists()
    assert pids_in_netns(own_netns) == []
