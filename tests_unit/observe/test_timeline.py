"""The timeline: host-time stamps, shifted to seconds after t0; a phase against its window.

Pure logic: the module's clock is a fake the test moves by hand.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from halab.observe import timeline as timeline_mod
from halab.observe.timeline import Observation, PhaseResult, Timeline


@dataclass
class FakeTime:
    """monotonic() and time() of a host whose clocks only move when the test says so."""

    mono: float = 100.0
    wall: float = 1_700_000_000.0

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(timeline_mod, "time", fake)
    return fake


def on(clock: FakeTime) -> Timeline:
    """A timeline started now on the fake clock (its field defaults hold the real clock functions)."""
    return Timeline(wall_start=clock.wall, mono_start=clock.mono)


def test_before_t0_times_are_since_the_start(clock: FakeTime) -> None:
    tl = on(clock)
    clock.advance(2.5)
    assert tl.clock() == tl.now() == 2.5
    tl.record("poll", "node01", "status")
    assert [o.t for o in tl.items()] == [2.5]


def test_observations_before_t0_come_out_negative(clock: FakeTime) -> None:
    tl = on(clock)
    clock.advance(1.0)
    tl.record("poll", "node01", "status", "before 1")
    clock.advance(2.0)
    tl.record("probe", None, "probe-ok", "before 2")
    clock.advance(2.0)
    tl.mark_t0()  # the fault, 5 s after the timeline began
    assert tl.now() == 0.0
    clock.advance(2.0)
    tl.record("libvirt", "node02", "lifecycle", "after")
    assert tl.now() == 2.0
    assert [(o.t, o.detail) for o in tl.items()] == [(-4.0, "before 1"), (-2.0, "before 2"), (2.0, "after")]
    assert [o.detail for o in tl.after()] == ["after"]
    assert [o.detail for o in tl.after(-3.0)] == ["before 2", "after"]
    assert tl.t0_wall == clock.wall - 2.0


def test_items_are_sorted_whatever_the_order_of_adds(clock: FakeTime) -> None:
    tl = on(clock)
    clock.advance(10.0)
    tl.mark_t0()
    for t in (14.0, 11.0, 12.5):  # log lines arrive late, after polls made later
        tl.record("log", "node02", "event", t=t)
    tl.record("poll", "node01", "status", t=9.0)
    assert [o.t for o in tl.items()] == [-1.0, 1.0, 2.5, 4.0]


def test_items_keep_what_was_observed_and_shift_only_copies(clock: FakeTime) -> None:
    tl = on(clock)
    clock.advance(2.0)
    tl.mark_t0()
    tl.record("poll", "node01", "status", "crm_mon", mounted=True, t=3.0)
    (obs,) = tl.items()
    assert obs == Observation(1.0, "poll", "node01", "status", "crm_mon", None, True)
    assert tl.items()[0].t == 1.0, "asking twice does not shift twice"


def test_log_lines_by_host_wall_time(clock: FakeTime) -> None:
    tl = on(clock)
    start_wall = clock.wall
    clock.advance(5.0)
    tl.mark_t0()
    # a node's log line, its time already corrected for that node's clock offset
    tl.record("log", "node02", "fence-done", t=tl.at_wall(start_wall + 12.5))
    tl.record("log", "node02", "detect", t=tl.at_wall(start_wall + 3.0))
    assert [(o.kind, o.t) for o in tl.items()] == [("detect", -2.0), ("fence-done", 7.5)]


def test_first(clock: FakeTime) -> None:
    tl = on(clock)
    tl.mark_t0()
    for t, kind in ((1.0, "status"), (2.0, "unreachable"), (3.0, "unreachable")):
        tl.record("poll", "node02", kind, t=t)
    found = tl.first(tl.items(), lambda o: o.kind == "unreachable")
    assert found is not None
    assert found.t == 2.0
    assert tl.first(tl.items(), lambda o: o.kind == "fenced") is None


def test_concurrent_records_are_all_kept() -> None:
    tl = Timeline()
    tl.mark_t0()

    def poll(node: str) -> None:
        for i in range(500):
            tl.record("poll", node, "status", str(i))

    threads = [threading.Thread(target=poll, args=(f"node0{i}",)) for i in range(1, 5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    items = tl.items()
    assert len(items) == 2000
    assert [o.t for o in items] == sorted(o.t for o in items)


# --- a phase against its window ------------------------------------------------------------------


@pytest.mark.parametrize(("measured", "verdict", "ok", "margin"), [
    (20.0, "ok", True, 7.0),
    (13.0, "ok", True, 0.0),  # on the edges: inside
    (42.0, "ok", True, 0.0),
    (12.0, "too early", False, -1.0),
    (45.5, "too late", False, -3.5),
    (None, "missing", False, None),
])
def test_phase_result(measured: float | None, verdict: str, ok: bool, margin: float | None) -> None:
    phase = PhaseResult("fence-done", measured, 13.0, 42.0, evidence="stonith history")
    assert phase.verdict == verdict
    assert phase.ok is ok
    assert phase.margin == margin


def test_margin_is_to_the_nearer_edge() -> None:
    assert PhaseResult("detect", 6.0, 4.5, 14.0).margin == 1.5
    assert PhaseResult("detect", 12.0, 4.5, 14.0).margin == 2.0


@pytest.mark.parametrize(("measured", "uncertainty", "verdict"), [
    (12.5, 1.0, "ok"),  # outside by less than the clock-offset error: not a failure
    (11.5, 1.0, "too early"),
    (42.9, 1.0, "ok"),
    (43.5, 1.0, "too late"),
    (12.5, 0.0, "too early"),
])
def test_phase_verdict_allows_for_measurement_uncertainty(measured: float, uncertainty: float,
                                                          verdict: str) -> None:
    phase = PhaseResult("fence-done", measured, 13.0, 42.0, uncertainty=uncertainty)
    assert phase.verdict == verdict
    assert phase.ok is (verdict == "ok")
