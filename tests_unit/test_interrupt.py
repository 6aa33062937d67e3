"""Ctrl-C, SIGTERM and SIGHUP end a run within seconds, heal what was injected, and are never
swallowed; a second signal stops at once; heals never let an Exception abort a sweep."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from halab import interrupt, scenario
from halab.errors import LabError
from halab.faults import heal_quietly
from halab.faults.base import Fault
from halab.faults.restore import sweep
from halab.lab import domains
from halab.lab.domains import Accel
from halab.lab.lab import Lab
from halab.lab.paths import LabPaths
from halab.spec import load_spec

LIB = Path(__file__).resolve().parents[1] / "lib"

CHILD = """
import sys, time, types
from halab import interrupt
from halab.faults.base import Fault, injected

class Slow(Fault):
    id = "slow"
    description = "a fault whose heal takes HEAL_S s"
    def inject(self, lab, target):
        print("injected", flush=True)
    def heal(self, lab, target):
        print("healing", flush=True)
        time.sleep(HEAL_S)
        print("healed", flush=True)

interrupt.install(on_stop=interrupt.SESSION_ON_STOP)
try:
    with injected(Slow(), types.SimpleNamespace(spec=None), "node01"):
        time.sleep(60)
        print("hold ended", flush=True)
except KeyboardInterrupt as err:
    print(f"stopped by {err}", flush=True)
    sys.exit(130)
print("not interrupted", flush=True)
"""


@contextlib.contextmanager
def child(heal_s: float) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(LIB)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD.replace("HEAL_S", str(heal_s))], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


def _wait_line(proc: subprocess.Popen[str], want: str) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if want in line:
            return
    pytest.fail(f"child never printed {want!r}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_heals_and_stops_within_seconds(sig: signal.Signals) -> None:
    with child(heal_s=0.5) as proc:
        _wait_line(proc, "injected")
        started = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
        assert time.monotonic() - started < 5
    assert proc.returncode == 130
    assert "healed" in out
    assert f"stopped by {sig.name}" in out
    assert "hold ended" not in out
    assert "healing what was injected" in err


def test_a_first_signal_during_the_heal_lets_it_finish_then_stops() -> None:
    with child(heal_s=2) as proc:
        _wait_line(proc, "injected")
        proc.send_signal(signal.SIGTERM)
        _wait_line(proc, "healing")
        out, _err = proc.communicate(timeout=15)
    assert "healed" in out
    assert "stopped by SIGTERM" in out


def test_a_second_signal_stops_at_once() -> None:
    with child(heal_s=30) as proc:
        _wait_line(proc, "injected")
        proc.send_signal(signal.SIGINT)
        _wait_line(proc, "healing")
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 3
    assert proc.returncode == 128 + signal.SIGINT
    assert "healed" not in out
    assert "again: stopping now" in err
    assert "the lab is left as it is" in err


# --- heal_quietly and the sweep -----------------------------------------------------------------


class FakeLibvirtError(Exception):
    """What libvirt-python raises: an Exception, not a HalabError."""


class Raising(Fault):
    id = "raising"
    description = "heal raises"

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def inject(self, lab: Lab, target: str) -> None:
        """Nothing."""

    def heal(self, lab: Lab, target: str) -> None:
        raise self.error


def test_heal_quietly_never_lets_an_exception_escape() -> None:
    assert heal_quietly(Raising(FakeLibvirtError("domain is already running")), None, "node01") is False  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        heal_quietly(Raising(KeyboardInterrupt()), None, "node01")  # type: ignore[arg-type]


class Recording:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []

    def run(self, cmd: str, timeout: float = 30.0, check: bool = False, connect_timeout: float = 5.0) -> Any:
        self.calls.append(cmd)
        return SimpleNamespace(ok=True, stdout="", stderr="", exit_code=0)


def test_sweep_goes_on_after_a_libvirt_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = load_spec("seed")
    remotes: dict[str, Any] = {n.name: Recording(n.name) for n in spec.nodes}
    lab = Lab(spec, LabPaths(spec.name), Accel("tcg", "unit"), None, remotes)

    def state(_dom: str) -> str:
        raise FakeLibvirtError("libvirtd restarting")

    monkeypatch.setattr(domains, "state", state)
    monkeypatch.setattr("halab.faults.hostside.tap_of", lambda *_a: (_ for _ in ()).throw(FakeLibvirtError("x")))
    sweep(lab)  # no error: every in-guest heal still ran on every node
    for remote in remotes.values():
        assert any("iptables" in c for c in remote.calls)
        assert any("ip link set hb up" in c for c in remote.calls)


def test_the_in_guest_sweep_heals_the_nodes_at_once() -> None:
    """Each node's heals run in its own thread: a node's first heal waits here until the other
    node's has begun, which node after node could never happen (the barrier would time out)."""
    import threading

    spec = load_spec("seed")
    barrier = threading.Barrier(len(spec.nodes), timeout=10)

    class Meeting(Recording):
        def run(self, cmd: str, timeout: float = 30.0, check: bool = False, connect_timeout: float = 5.0) -> Any:
            if not self.calls:
                barrier.wait()
            return super().run(cmd, timeout, check, connect_timeout)

    remotes: dict[str, Any] = {n.name: Meeting(n.name) for n in spec.nodes}
    lab = Lab(spec, LabPaths(spec.name), Accel("tcg", "unit"), None, remotes)
    sweep(lab, from_host=False)
    assert not barrier.broken
    assert all(len(r.calls) > 1 for r in remotes.values())


def test_the_restores_sweep_stops_at_the_restores_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A spent restore budget ends the sweep before its next heal (each heal has its own timeout,
    a dozen of them on a slow node would not)."""
    from halab.errors import LabError
    from halab.proc import Deadline

    spec = load_spec("seed")
    remotes: dict[str, Any] = {n.name: Recording(n.name) for n in spec.nodes}
    lab = Lab(spec, LabPaths(spec.name), Accel("tcg", "unit"), None, remotes)
    with pytest.raises(LabError, match="budget of 0 s spent"):
        sweep(lab, from_host=False, budget=Deadline(0.0, "cluster restore", "restore"))
    assert all(not r.calls for r in remotes.values())


# --- run_fault's error path -----------------------------------------------------------------------


class Observer:
    def start(self) -> None:
        """Nothing."""

    def stop(self) -> None:
        """Nothing."""


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str]]:
    """run_fault on doubles: every restore call is recorded."""
    restores: list[str] = []
    monkeypatch.setattr(scenario, "ensure_healthy", lambda *_a, **_k: SimpleNamespace(
        service=lambda _s: SimpleNamespace(owner="node01"), dc=None))
    monkeypatch.setattr(scenario, "target_for", lambda *_a: "node01")
    monkeypatch.setattr(scenario, "predict", lambda *_a, **_k: SimpleNamespace(
        fenced=(), services={}, windows={}, token_ms=5000))
    monkeypatch.setattr(scenario, "prediction_in_lab_names", lambda pred, _spec: pred)
    monkeypatch.setattr(scenario, "_text_status", lambda _c: "")
    monkeypatch.setattr(scenario, "http", lambda *_a, **_k: (200, ""))
    monkeypatch.setattr(scenario.nodelogs, "offsets", lambda *_a, **_k: {})  # no node clocks here
    for name in ("StatusPoller", "LifecycleWatcher", "ServiceProbe", "HostSampler"):
        monkeypatch.setattr(scenario, name, lambda *_a, **_k: Observer())
    monkeypatch.setattr(scenario, "injected", lambda *_a, **_k: contextlib.nullcontext())
    monkeypatch.setattr(scenario, "hold_deadline", lambda *_a: 0.0)
    monkeypatch.setattr(scenario, "_wait", lambda *_a, **_k: None)
    monkeypatch.setattr(scenario, "_wait_at_rest", lambda *_a, **_k: None)  # no host samples here
    monkeypatch.setattr(scenario, "restore", lambda *_a, **_k: restores.append("restore"))
    spec = load_spec("seed")
    lab = SimpleNamespace(spec=spec, paths=LabPaths(spec.name))
    design = SimpleNamespace(service="service01", preferred_node="node01", service_ip="192.168.7.99",
                             app_port=8080, mountpoint="/data01", restart_chain=("service01",))
    cluster = SimpleNamespace(lab=lab, design=design, adapter=None, saved=None)
    return cluster, restores


@pytest.mark.parametrize("error", [KeyboardInterrupt("SIGTERM"), LabError("cluster not healthy", "restore")])
def test_no_second_restore_on_the_error_path(fake_run: tuple[Any, list[str]], monkeypatch: pytest.MonkeyPatch,
                                             error: BaseException) -> None:
    cluster, restores = fake_run

    def failing(*_a: Any, **_k: Any) -> Any:
        restores.append("restore")
        raise error

    monkeypatch.setattr(scenario, "_collect_and_restore", failing)
    started = time.monotonic()
    with pytest.raises(type(error)):  # the interrupt / first error goes up as it is
        scenario.run_fault(cluster, "suspend", "owner", progress=lambda _m: None)
    assert restores == ["restore"], "the error path ran another restore"
    assert time.monotonic() - started < 5



def test_a_node_reset_by_the_fence_boots_at_full_speed_again_before_the_restore(
        fake_run: tuple[Any, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The host sampler idles a reset node's boot while the fault holds (survivors first); the
    restore waits for that boot, so the release comes at the heal, before the restore starts."""
    cluster, _restores = fake_run
    order: list[str] = []

    class Sampler(Observer):
        def release(self) -> None:
            order.append("release")

    monkeypatch.setattr(scenario, "HostSampler", lambda *_a, **_k: Sampler())

    def restoring(*_a: Any, **_k: Any) -> Any:
        order.append("restore")
        raise LabError("stop here", "restore")

    monkeypatch.setattr(scenario, "_collect_and_restore", restoring)
    with pytest.raises(LabError):
        scenario.run_fault(cluster, "suspend", "owner", progress=lambda _m: None)
    assert order == ["release", "restore"]

# --- a pytest session with halab's plugins: SIGTERM ends it, no next test ---------------------------

SESSION_TESTS = """
import os
import time

def test_first():
    open(os.environ["HALAB_TEST_MARK"], "w").close()
    time.sleep(60)

def test_second():
    print("started second", flush=True)
"""


def _wait_file(path: Path) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        assert time.monotonic() < deadline, "the first test never started"
        time.sleep(0.05)


@pytest.mark.parametrize("capture", ["-s", "--capture=fd"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_pytest_session_stops_at_the_signal_and_runs_no_next_test(sig: signal.Signals, capture: str,
                                                                    tmp_path: Path) -> None:
    """With pytest's capture on too: the line saying what halab does next reaches the terminal
    (measured: it went into the interrupted test's captured output)."""
    root = LIB.parent
    (tmp_path / "test_session.py").write_text(SESSION_TESTS)
    mark = tmp_path / "started-first"
    env = {**os.environ, "PYTHONPATH": f"{root}:{LIB}", "HALAB_TEST_MARK": str(mark)}
    args = [sys.executable, "-m", "pytest", capture, "-q", "-p", "no:cacheprovider", "-p", "fixtures.options",
            "-p", "fixtures.lab", "--rootdir", str(tmp_path), str(tmp_path / "test_session.py")]
    proc = subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        _wait_file(mark)
        started = time.monotonic()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=20)
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    assert "started second" not in out
    assert "KeyboardInterrupt" in out
    assert f"[halab] {sig.name}: {interrupt.SESSION_ON_STOP}" in out
    assert proc.returncode == 2  # pytest's "interrupted"


SWALLOWING_TESTS = """
import os
import time

from halab import interrupt

def test_first():
    open(os.environ["HALAB_TEST_MARK"], "w").close()
    try:
        time.sleep(60)
    finally:  # a heal's wait in a finally block, raising over the KeyboardInterrupt
        interrupt.check("waiting for SSH")

def test_second():
    print("started second", flush=True)
"""


def test_no_next_test_starts_after_a_signal_even_when_a_test_swallowed_it(tmp_path: Path) -> None:
    """Found by reading the code: a wait in a `finally` raised Interrupted (an ordinary error to
    pytest) over the KeyboardInterrupt, and pytest went on to the next test, which injected a fault."""
    root = LIB.parent
    (tmp_path / "test_session.py").write_text(SWALLOWING_TESTS)
    mark = tmp_path / "started-first"
    env = {**os.environ, "PYTHONPATH": f"{root}:{LIB}", "HALAB_TEST_MARK": str(mark)}
    args = [sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", "-p", "fixtures.options",
            "-p", "fixtures.lab", "--rootdir", str(tmp_path), str(tmp_path / "test_session.py")]
    proc = subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        _wait_file(mark)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    assert "started second" not in out, out
    assert "no further test starts" in out, out
    assert proc.returncode != 0


# --- the session-start sweep of a reused lab -------------------------------------------------------


class SweepRemote(Recording):
    def __init__(self, name: str, answers: bool = True) -> None:
        super().__init__(name)
        self.answers = answers
        self.files: dict[str, tuple[str, int]] = {}

    def wait_ssh(self, within_s: float, poll_s: float = 2.0) -> float:
        if not self.answers:
            raise LabError(f"no SSH answer within {within_s:.0f} s", self.name)
        return 0.1

    def put_text(self, text: str, path: str, mode: int = 0o644, timeout: float = 30.0) -> None:
        self.files[path] = (text, mode)


def test_the_session_sweep_restores_the_fence_key_and_heals(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    """The broken-fence test pushes a wrong key; an interrupted run leaves it: the sweep puts the
    lab's own key back (0600) on every node that answers, and heals every fault there."""
    from halab.faults.restore import sweep_session
    from halab.lab import paths as lab_paths
    from halab.lab.lab import FENCE_KEY_ON_NODE

    monkeypatch.setattr(lab_paths, "STATE_ROOT", tmp_path)
    spec = load_spec("seed")
    lab_p = LabPaths(spec.name)
    lab_p.fence_key.parent.mkdir(parents=True)
    lab_p.fence_key.write_text("THE-LAB-FENCE-KEY")
    remotes: dict[str, Any] = {"node01": SweepRemote("node01"), "node02": SweepRemote("node02", answers=False)}
    lab = Lab(spec, lab_p, Accel("tcg", "unit"), None, remotes)
    monkeypatch.setattr(domains, "state", lambda _d: "running")
    monkeypatch.setattr("halab.faults.hostside.tap_of", lambda *_a: "vnet0")
    monkeypatch.setattr("halab.faults.hostside.run", lambda *_a, **_k: None)
    said: list[str] = []
    missing = sweep_session(lab, progress=said.append)
    assert remotes["node01"].files[FENCE_KEY_ON_NODE] == ("THE-LAB-FENCE-KEY", 0o600)
    assert any("halab-fault" in c for c in remotes["node01"].calls)  # firewall rules removed
    assert missing == ["node02"]
    assert any("at most" in s for s in said)


def test_a_failed_restore_still_judges_the_fault_and_carries_the_run(
        fake_run: tuple[Any, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured live: a restore that never got home used to drop the fault's verdict from the report."""
    cluster, _ = fake_run
    judged: list[str] = []
    not_back = LabError("cluster not back on its baseline", "restore")
    monkeypatch.setattr(scenario, "_collect_and_restore", lambda *_a, **_k: (scenario.FenceRecords(None), not_back))
    monkeypatch.setattr(scenario, "judge", lambda *_a, **_k: judged.append("judge") or "verdict")
    with pytest.raises(scenario.RestoreFailed, match="not back on its baseline") as caught:
        scenario.run_fault(cluster, "suspend", "owner", progress=lambda _m: None)
    assert judged == ["judge"]
    assert caught.value.run.judgement == "verdict"


def test_an_interrupted_test_is_broken_in_allure_not_passed(tmp_path: Path) -> None:
    """Measured live: a test interrupted by SIGINT 2 s into its call came out PASSED in Allure."""
    import json

    root = LIB.parent
    (tmp_path / "test_session.py").write_text(SESSION_TESTS)
    results = tmp_path / "allure-results"
    mark = tmp_path / "started-first"
    env = {**os.environ, "PYTHONPATH": f"{root}:{LIB}", "HALAB_TEST_MARK": str(mark)}
    args = [sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", "-p", "fixtures.options",
            "-p", "fixtures.lab", "-p", "fixtures.failover", "--alluredir", str(results),
            "--rootdir", str(tmp_path), str(tmp_path / "test_session.py")]
    proc = subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        _wait_file(mark)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    written = [json.loads(f.read_text()) for f in results.glob("*-result.json")]
    assert [(r["name"], r["status"]) for r in written] == [("test_first", "broken")]
    assert "interrupted" in written[0]["statusDetails"]["message"]


def test_the_first_signal_says_what_this_process_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured: `halab ssh` on SIGTERM said the lab would be torn down; only a test session does that."""
    from halab.cli import ON_STOP

    said: list[str] = []
    monkeypatch.setattr(interrupt, "_say", said.append)
    old = dict(interrupt._state)
    try:
        for on_stop in (ON_STOP.get("ssh", "stopping"), ON_STOP["up"]):
            interrupt.reset()
            interrupt._state["on_stop"] = on_stop
            with pytest.raises(KeyboardInterrupt):
                interrupt._handler(signal.SIGTERM, None)
    finally:
        interrupt.reset()
        interrupt._state.update(old)
    assert said == ["SIGTERM: stopping; press Ctrl-C again to stop at once",
                    "SIGTERM: stopping; what was half-built is removed; press Ctrl-C again to stop at once"]
    assert not any("torn down" in line for line in said[:1])


def test_a_service_that_does_not_answer_after_the_restore_still_judges_the_fault(
        fake_run: tuple[Any, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured live (web3, heartbeat-down on the owner): the restore ended, the service did not
    answer within 30 s, and the LabError went up before the judge ran: the verdict was lost."""
    cluster, _ = fake_run
    calls: list[str] = []

    def wait(_cond: Any, _within: float, what: str, *_a: Any) -> None:
        calls.append(what)
        if what == "the service answering again":
            raise LabError("the service answering again not seen within 30 s", "observe")

    monkeypatch.setattr(scenario, "_wait", wait)
    monkeypatch.setattr(scenario, "_collect_and_restore", lambda *_a, **_k: (scenario.FenceRecords(()), None))
    monkeypatch.setattr(scenario, "judge", lambda *_a, **_k: "verdict")
    with pytest.raises(scenario.RestoreFailed, match="answering again") as caught:
        scenario.run_fault(cluster, "suspend", "owner", progress=lambda _m: None)
    assert caught.value.run.judgement == "verdict"


def test_the_second_signals_way_out_does_not_wait_for_the_lock_its_own_thread_holds() -> None:
    """The handler runs on the main thread, which may hold the groups lock at that instant (it was
    adding a command's group): kill_groups must not wait for it, or the way out hangs."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        interrupt.track_group(child.pid)
        with interrupt._groups_lock:  # as if the signal landed inside track_group
            interrupt.kill_groups()
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        interrupt.untrack_group(child.pid)
        if child.poll() is None:
            child.kill()


def test_the_last_line_says_which_heal_failed_never_healed_for_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by reading: the session's last line said "the injected fault was healed" even when the
    heal had failed or nothing was injected."""
    from halab.faults import base

    monkeypatch.setattr(base, "STOP_HEALS", [])
    assert base.stop_heals_text() == "no fault was in place"
    base.STOP_HEALS.extend([("heartbeat-down", "node02", ""), ("suspend", "node01", "libvirt: no domain")])
    assert base.stop_heals_text() == ("heartbeat-down on node02 healed; suspend on node01 NOT healed "
                                      "(libvirt: no domain); the next session's sweep heals it")


def test_a_first_signal_cuts_the_main_threads_remote_call_and_the_call_ends_in_the_interrupt(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """invoke catches a KeyboardInterrupt inside its wait, forwards it to the remote command and
    waits on (up to the command's timeout): the first signal cuts the main thread's SSH call, and
    the call ends in the interrupt even when invoke swallowed it. A heal (deferred) is not cut."""
    from halab.lab import remote as remote_mod

    cuts: list[str] = []
    r = remote_mod.Remote("node01", "192.168.8.201", "halab-x", Path("/nonexistent"))
    monkeypatch.setattr(r, "_cut", lambda: cuts.append("cut"))
    seen: dict[str, bool] = {}

    def a_call_invoke_lets_return() -> None:
        with r._session("cmd", 10) as fired:
            interrupt.reset()
            with contextlib.suppress(KeyboardInterrupt):  # invoke swallows the handler's own
                interrupt._handler(signal.SIGINT, None)
            seen.update(fired)

    try:
        with pytest.raises(KeyboardInterrupt, match="interrupted during a remote call"):
            a_call_invoke_lets_return()
        assert seen["interrupted"]
        assert cuts == ["cut"]
        assert not remote_mod._MAIN_IN_FLIGHT
        interrupt.reset()
        with interrupt.deferred(), r._session("heal", 10) as fired:  # a heal in progress
            interrupt._handler(signal.SIGINT, None)
            assert not fired["interrupted"]
        pytest.fail("the deferred interrupt must be raised at the end of the block")
    except KeyboardInterrupt:
        assert cuts == ["cut"], "a heal's remote call was cut"
    finally:
        interrupt.reset()
