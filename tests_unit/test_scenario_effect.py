"""When an in-guest fault took effect, on host time: between the node's clock before and after the
command, shifted by its measured offset, never before t0 nor after the command returned (pure logic)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from halab import scenario
from halab.observe.judge import EFFECT, HARNESS, History
from halab.observe.logs import NodeLog, add_to_timeline
from halab.observe.timeline import Timeline
from halab.stacks.types import Event, EventKind


def _timeline(returned_at: float, node_clock: tuple[float, float] | None) -> Timeline:
    tl = Timeline(wall_start=1000.0, mono_start=50.0)
    tl.t0_mono, tl.t0_wall = 50.0, 1000.0  # t on the timeline clock == seconds after t0
    tl._items.clear()
    scenario._mark_effect(tl, "node01", lambda _line: None, node_clock)
    tl._items[0] = replace(tl._items[0], t=returned_at)  # the command returned then
    return tl


def _effect(tl: Timeline) -> tuple[float, float] | None:
    """(earliest, latest) of the recorded effect, seconds after t0."""
    found = [o for o in tl.items() if o.source == HARNESS and o.kind == EFFECT]
    return (round(found[0].t - found[0].uncertainty, 3), round(found[0].t + found[0].uncertainty, 3)) \
        if found else None


def test_the_effect_lies_between_the_node_s_clock_before_and_after_minus_its_offset() -> None:
    # node clock 2 s ahead: the command ran from host 1003.0 to 1004.2; +- 0.3 s offset error
    tl = _timeline(4.8, node_clock=(1005.0, 1006.2))
    scenario._record_effect(tl, "node01", [NodeLog("node01", 2.0, "", (), offset_err_s=0.3)])
    assert _effect(tl) == (2.7, 4.5)
    assert History.of(tl).effect == pytest.approx((2.7, 4.5))


def test_the_effect_is_clamped_between_t0_and_the_return() -> None:
    late = _timeline(4.8, node_clock=(1009.0, 1010.0))
    scenario._record_effect(late, "node01", [NodeLog("node01", 0.0, "", ())])
    assert _effect(late) == (4.8, 4.8)
    early = _timeline(4.8, node_clock=(989.0, 990.0))
    scenario._record_effect(early, "node01", [NodeLog("node01", 0.0, "", ())])
    assert _effect(early) == (0.0, 0.0)
    around = _timeline(4.8, node_clock=(999.0, 1006.0))
    scenario._record_effect(around, "node01", [NodeLog("node01", 0.0, "", ())])
    assert _effect(around) == (0.0, 4.8)


def test_no_offset_or_no_node_clock_leaves_t0_to_the_return() -> None:
    unread = _timeline(4.8, node_clock=(1003.0, 1004.6))
    scenario._record_effect(unread, "node01", [NodeLog("node01", None, "", (), error="ssh")])
    assert _effect(unread) is None
    assert History.of(unread).effect == (0.0, 4.8)
    host_side = _timeline(0.05, node_clock=None)
    scenario._record_effect(host_side, "node01", [NodeLog("node01", 0.0, "", ())])
    assert _effect(host_side) is None
    assert History.of(host_side).effect == (0.0, 0.05)


def test_the_effect_uses_the_offset_measured_before_the_fault() -> None:
    """The command ran on the clock the node had before the fault; a fenced target comes back with
    another (measured live after a snapshot reset: 5.8 s apart)."""
    tl = _timeline(4.8, node_clock=(1005.0, 1006.2))
    scenario._record_effect(tl, "node01", [NodeLog("node01", -3.8, "", ())], offset_before=(2.0, 0.3))
    assert _effect(tl) == (2.7, 4.5)


def _logged(t_node: float) -> Event:
    return Event(EventKind.TOKEN_LOST, datetime.fromtimestamp(t_node, UTC), reporter="node01")


def test_lines_before_the_node_s_clock_break_are_read_with_the_offset_from_before_the_fault() -> None:
    """Measured live (pacemaker, snapshot reset, heartbeat-down on the standby): node01, fenced at
    40.6 s, had its clock 5.8 s behind before (the reset had set it) and right after (the RTC); its
    token loss at 6.3 s landed at 0.48 s, and the detect was judged TOO EARLY."""
    tl = Timeline(wall_start=1000.0, mono_start=50.0)
    tl.t0_mono, tl.t0_wall = 50.0, 1000.0
    tl._items.clear()
    tl.record("libvirt", "node01", "lifecycle", "stopped:1", t=40.6)
    log = NodeLog("node01", 0.0, "", (_logged(1000.0 + 6.3 - 5.8), _logged(1000.0 + 60.0)), offset_err_s=0.1)
    add_to_timeline(tl, log, before=(-5.8, 0.2))
    got = sorted((round(o.t, 2), o.uncertainty) for o in tl.items() if o.source == "log")
    assert got == [(6.3, 0.2), (60.0, 0.1)]  # before the break: the old clock; after: the new one
    plain = Timeline(wall_start=1000.0, mono_start=50.0)
    plain.t0_mono, plain.t0_wall = 50.0, 1000.0
    plain._items.clear()
    add_to_timeline(plain, log)  # no offset from before the fault: the one measured after, as before
    assert sorted(round(o.t, 2) for o in plain.items() if o.source == "log") == [0.5, 60.0]
    unbroken = Timeline(wall_start=1000.0, mono_start=50.0)
    unbroken.t0_mono, unbroken.t0_wall = 50.0, 1000.0
    unbroken._items.clear()
    add_to_timeline(unbroken, log, before=(-5.8, 0.2))  # no clock break: the offset after holds for all
    assert sorted(round(o.t, 2) for o in unbroken.items() if o.source == "log") == [0.5, 60.0]
