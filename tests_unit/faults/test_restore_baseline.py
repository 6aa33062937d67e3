"""The restore goes back to the design's baseline: a fail-back design gets there by itself, one that
does not is moved there once, and the move constraint is cleared (pure logic, a recording remote)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from halab import proc
from halab.faults import restore as rs
from halab.lab.host import Result
from halab.stacks.pacemaker import PacemakerAdapter
from halab.stacks.types import ClusterStatus, Member, Service


@dataclass
class Remote:
    ran: list[str]
    busy: list[bool]

    def run(self, cmd: str, **_: Any) -> Result:
        self.ran.append(cmd)
        return Result(cmd, 124 if "crm_resource --wait" in cmd and self.busy[0] else 0, "", "", 0.0)


@dataclass
class Lab:
    ran: list[str] = field(default_factory=list)
    busy: list[bool] = field(default_factory=lambda: [False])  # the scheduler still has actions pending

    @property
    def spec(self) -> Any:
        return type("Spec", (), {"stack": "pacemaker", "nodes": ()})()

    def remote(self, node: str) -> Remote:
        del node
        return Remote(self.ran, self.busy)


def status(owner: str, online: tuple[str, ...] = ("node01", "node02", "node03")) -> ClusterStatus:
    members = tuple(Member(n, True, i + 1) for i, n in enumerate(online))
    return ClusterStatus(True, members, (Service("service01", "started", owner),))


@pytest.fixture
def healer(monkeypatch: pytest.MonkeyPatch) -> tuple[rs._Healer, Lab, list[float]]:
    clock = [100.0]
    monkeypatch.setattr(rs.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(proc.time, "monotonic", lambda: clock[0])
    lab = Lab()
    h = rs._Healer(lab, "service01", "node02", ["node01", "node02", "node03"],  # type: ignore[arg-type]
                   budget=proc.Deadline(1000.0, "restore"), progress=lambda _: None)
    return h, lab, clock


def test_a_design_that_fails_back_is_left_alone(healer: tuple[rs._Healer, Lab, list[float]]) -> None:
    h, lab, _ = healer
    assert not h.step(status("node03"))  # first look with all nodes in: clear failures
    assert lab.ran == ["crm_resource --cleanup >/dev/null 2>&1"]
    assert not h.step(status("node03"))  # within the settle time: no move yet
    assert h.step(status("node02"))  # the cluster moved it back itself, and has nothing left to do
    assert lab.ran[1:] == ["timeout 10 crm_resource --wait"]
    assert not any("--move" in c for c in lab.ran)


def test_a_design_that_stays_is_moved_back_and_the_move_cleared(
        healer: tuple[rs._Healer, Lab, list[float]]) -> None:
    h, lab, clock = healer
    h.step(status("node03"))
    clock[0] += rs.SETTLE_S
    assert not h.step(status("node03"))
    assert lab.ran[-2:] == ["timeout 10 crm_resource --wait",
                            "crm_resource --move --resource service01 --node node02 >/dev/null 2>&1"]
    assert not h.step(status("node03"))  # moving: not moved twice
    assert sum("--move" in c for c in lab.ran) == 1
    assert not h.step(status("node02"))  # there: clear the constraint, look once more
    assert lab.ran[-1] == "crm_resource --clear --resource service01 >/dev/null 2>&1"
    assert h.step(status("node02"))


def test_nothing_happens_until_every_node_is_back(healer: tuple[rs._Healer, Lab, list[float]]) -> None:
    h, lab, clock = healer
    clock[0] += 500
    assert not h.step(status("node02", online=("node02", "node03")))
    assert lab.ran == []


def test_a_cluster_still_failing_back_is_not_moved(healer: tuple[rs._Healer, Lab, list[float]]) -> None:
    """Measured under TCG: a group start outlasts SETTLE_S; a move then hid the fail-back. While the
    scheduler has actions pending the healer waits, up to the stack's settle_limit_s, then moves anyway."""
    h, lab, clock = healer
    lab.busy[0] = True
    h.step(status("node03"))
    clock[0] += rs.SETTLE_S
    assert not h.step(status("node03"))
    assert not any("--move" in c for c in lab.ran)
    assert not h.step(status("node02"))  # home, but the scheduler still has actions pending
    lab.busy[0] = False
    assert h.step(status("node02"))  # the cluster finished its own fail-back and is at rest
    lab.busy[0] = True
    h2 = rs._Healer(lab, "service01", "node02", ["node01", "node02", "node03"],  # type: ignore[arg-type]
                    budget=proc.Deadline(1000.0, "restore"), progress=lambda _: None)
    h2.step(status("node03"))
    clock[0] += PacemakerAdapter().commands.settle_limit_s
    h2.step(status("node03"))
    assert "--move" in lab.ran[-1]


def test_a_cluster_busy_at_home_is_taken_as_it_is_at_the_settle_limit(
        healer: tuple[rs._Healer, Lab, list[float]]) -> None:
    """Chaos run: a fault injected while pacemaker was still busy after a rejoin had a 50 s fence.
    The restore waits for the cluster at rest, up to the stack's settle limit, then says so."""
    h, lab, clock = healer
    notes: list[str] = []
    h.progress = notes.append
    lab.busy[0] = True
    h.step(status("node02"))
    assert not h.step(status("node02"))
    clock[0] += PacemakerAdapter().commands.settle_limit_s
    assert h.step(status("node02"))
    assert "still reports work pending" in notes[-1]


# --- the cold restart: once, announced, after the gentle way did not get home ----------------------


@pytest.fixture
def gentle_fails(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def gentle(*_a: Any) -> ClusterStatus:
        calls.append("gentle")
        raise rs.LabError("cluster not back on its baseline (service01 on node01) within 671 s", "restore")

    def cold(_lab: Any, _svc: str, _base: str, within_s: float, *_a: Any) -> ClusterStatus:
        calls.append(f"cold {within_s:.0f}")
        return ClusterStatus(True, (), ())

    monkeypatch.setattr(rs, "_gentle", gentle)
    monkeypatch.setattr(rs, "_cold", cold)
    monkeypatch.setattr(rs, "cold_restart_s", lambda _lab: 700.0)
    return calls


def test_a_restore_that_does_not_get_home_restarts_the_cluster_cold_once(gentle_fails: list[str]) -> None:
    said: list[str] = []
    marked: list[str] = []
    rs.restore(Lab(), "service01", "node01", 671, progress=said.append, on_cold=marked.append)
    assert gentle_fails == ["gentle", "cold 700"]
    assert marked
    assert "within 671 s" in marked[0]
    assert "at most 700 s" in marked[0]
    assert any("restarting every node cold" in line for line in said)


def test_without_cold_the_first_error_goes_up(gentle_fails: list[str]) -> None:
    with pytest.raises(rs.LabError, match="within 671 s"):
        rs.restore(Lab(), "service01", "node01", 671, progress=lambda _m: None, cold=False)
    assert gentle_fails == ["gentle"]


@dataclass
class RgLab(Lab):
    """The seed lab on rgmanager; `busy` = the stack's settled question says not yet."""

    @property
    def spec(self) -> Any:
        from dataclasses import replace

        from halab.spec import load_spec

        return replace(load_spec("seed"), stack="rgmanager")

    def remote(self, node: str) -> Remote:
        del node
        busy = self.busy

        class Rg(Remote):
            def run(self, cmd: str, **_: Any) -> Result:
                self.ran.append(cmd)
                return Result(cmd, 1 if "clustat -x" in cmd and busy[0] else 0, "", "", 0.0)

        return Rg(self.ran, self.busy)


def disabled(online: tuple[str, ...] = ("node01", "node02")) -> ClusterStatus:
    members = tuple(Member(n, True, i + 1) for i, n in enumerate(online))
    return ClusterStatus(True, members, (Service("service01", "disabled", None),))


def test_a_disabled_service_is_enabled_only_once_rgmanager_listens_and_again_if_it_did_not_take(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured live after a cold restart: cman showed both members online 2 min before rgmanager
    listened; the one enable issued then went nowhere and the restore ran out its bound."""
    clock = [100.0]
    monkeypatch.setattr(rs.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(proc.time, "monotonic", lambda: clock[0])
    lab = RgLab()
    lab.busy[0] = True  # rgmanager not listening yet
    h = rs._Healer(lab, "service01", "node01", ["node01", "node02"],  # type: ignore[arg-type]
                   budget=proc.Deadline(1000.0, "restore"), progress=lambda _: None)
    h.step(disabled())
    h.step(disabled())
    assert not any("clusvcadm -e" in c for c in lab.ran)
    lab.busy[0] = False
    h.step(disabled())
    assert sum("clusvcadm -e" in c for c in lab.ran) == 1
    h.step(disabled())  # did not take yet: not again at once
    assert sum("clusvcadm -e" in c for c in lab.ran) == 1
    clock[0] += rs.NUDGE_AGAIN_S
    h.step(disabled())
    assert sum("clusvcadm -e" in c for c in lab.ran) == 2


def test_an_enable_by_the_harness_is_marked_and_a_service_the_status_lacks_is_not_touched(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The enable starts the service on the baseline: a fail-back after it is the harness's, not the
    cluster's (domain-unordered, live: the service came back to node01 with no mark on the history,
    and the judge took it for the design's fail-back). A status that does not list the service (the
    baseline's rgmanager still starting) is no reason to disable a service running elsewhere."""
    clock = [100.0]
    monkeypatch.setattr(rs.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(proc.time, "monotonic", lambda: clock[0])
    lab, moves = RgLab(), []
    h = rs._Healer(lab, "service01", "node01", ["node01", "node02"],  # type: ignore[arg-type]
                   budget=proc.Deadline(1000.0, "restore"), progress=lambda _: None, on_move=moves.append)
    members = tuple(Member(n, True, i + 1) for i, n in enumerate(("node01", "node02")))
    absent = ClusterStatus(True, members, ())
    h.step(absent)
    h.step(absent)
    assert not any("clusvcadm" in c for c in lab.ran)
    assert moves == []
    h.step(disabled())
    assert sum("clusvcadm -e" in c for c in lab.ran) == 1
    assert moves == ["service01 disabled; the harness enables it on its baseline node01"]


# --- the design's own fail-back first: no move of ours before its window ends, and the move is marked


def test_no_move_before_the_designs_fail_back_window_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured live on rgmanager: the move went out the moment every rgmanager listened, racing
    rgmanager's own "Relocating ... to better node"; and a design that does not fail back would have
    had its fail-back judged on the harness's move. The move waits for the fail-back window's end
    and is handed to on_move (the timeline's restore-move mark)."""
    clock = [100.0]
    monkeypatch.setattr(rs.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(proc.time, "monotonic", lambda: clock[0])
    lab, moves = Lab(), []
    h = rs._Healer(lab, "service01", "node02", ["node01", "node02", "node03"],  # type: ignore[arg-type]
                   budget=proc.Deadline(1000.0, "restore"), progress=lambda _: None,
                   hands_off_until=100.0 + 300.0, on_move=moves.append)
    h.step(status("node03"))
    clock[0] += rs.SETTLE_S + 100
    assert not h.step(status("node03"))
    assert not any("--move" in c for c in lab.ran)
    assert moves == []
    clock[0] = 400.0
    assert not h.step(status("node03"))
    assert "--move" in lab.ran[-1]
    assert moves == ["service01 stays on node03; the harness moves it to its baseline node02"]


def test_a_cluster_busy_without_a_break_and_not_home_is_stuck(healer: tuple[rs._Healer, Lab, list[float]]) -> None:
    """Measured live twice (rgmanager, the ifdown phantom branch): the rejoined node's rgmanager
    never listened; the restore waited out its 11 min bound before the cold restart. A cluster
    not at rest for the stack's stuck_after_s without a break, service not home, is given up on."""
    from dataclasses import replace as dc_replace
    from types import SimpleNamespace

    h, lab, clock = healer
    h.adapter = SimpleNamespace(commands=dc_replace(PacemakerAdapter.commands, stuck_after_s=100.0))  # type: ignore[assignment]
    lab.busy[0] = True
    h.step(status("node03"))  # all in: clean-up
    assert not h.step(status("node03"))
    clock[0] += 60
    assert not h.step(status("node03"))
    lab.busy[0] = False  # a break: the count starts again
    assert not h.step(status("node03"))
    lab.busy[0] = True
    clock[0] += 1
    assert not h.step(status("node03"))
    clock[0] += 99
    assert not h.step(status("node03"))
    clock[0] += 1
    with pytest.raises(rs.Stuck, match=r"not at rest for 100 s \(service01 started on node03\)"):
        h.step(status("node03"))


def test_a_busy_cluster_at_home_is_never_stuck(healer: tuple[rs._Healer, Lab, list[float]]) -> None:
    from dataclasses import replace as dc_replace
    from types import SimpleNamespace

    h, lab, clock = healer
    h.adapter = SimpleNamespace(commands=dc_replace(PacemakerAdapter.commands, stuck_after_s=100.0))  # type: ignore[assignment]
    lab.busy[0] = True
    h.step(status("node02"))
    h.step(status("node02"))
    clock[0] += 500
    assert h.step(status("node02"))  # the settle limit passed: taken as it is, not stuck


def test_the_stack_start_may_take_its_measured_cluster_start() -> None:
    """Live (rgmanager, fast): cman + rgmanager on the fenced node ran past a flat 120 s."""
    from halab.spec import load_spec

    seed = load_spec("seed")
    assert rs.start_bound_s(seed.with_stack("rgmanager").with_timing("fast")) == 420.0
    assert rs.start_bound_s(seed.with_timing("fast")) == 120.0  # pacemaker's 90 s: never under 120


def test_a_stack_that_does_not_start_shows_its_last_log_lines_then_fails() -> None:
    """Live (rgmanager, session 10): the only account was "Job for cman.service failed"."""
    from types import SimpleNamespace

    from halab.errors import LabError
    from halab.stacks.base import get_adapter

    commands = get_adapter("rgmanager").commands
    ran: list[str] = []

    def run(cmd: str, **_kw: object) -> SimpleNamespace:
        ran.append(cmd)
        if cmd == commands.start_local:
            raise LabError("service cman start failed (exit 1): Job for cman.service failed", "node01")
        return SimpleNamespace(stdout="cman[612]: Starting cman... Timed-out waiting for cluster\n")

    lab = SimpleNamespace(remote=lambda _n: SimpleNamespace(run=run))
    said: list[str] = []
    with pytest.raises(LabError, match=r"Job for cman\.service failed"):
        rs._start_stack(lab, "node01", commands, 420.0, said.append)  # type: ignore[arg-type]
    assert ran == [commands.start_local, commands.start_failed_log]
    assert said == ["restore: the stack did not start on node01; its last log lines:\n"
                    "cman[612]: Starting cman... Timed-out waiting for cluster"]
