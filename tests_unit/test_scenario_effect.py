"""When an in-guest fault took effect, on host time: the node's clock after the command, shifted by
its measured offset, never before t0 nor after the command returned (pure logic)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from halab import scenario
from halab.observe.judge import EFFECT, HARNESS, History
from halab.observe.logs import NodeLog
from halab.observe.timeline import Timeline


def _timeline(returned_at: float, node_clock: float | None) -> Timeline:
    tl = Timeline(wall_start=1000.0, mono_start=50.0)
    tl.t0_mono, tl.t0_wall = 50.0, 1000.0  # t on the timeline clock == seconds after t0
    tl._items.clear()
    scenario._mark_effect(tl, "node01", lambda _line: None, node_clock)
    tl._items[0] = replace(tl._items[0], t=returned_at)  # the command returned then
    return tl


def _effect(tl: Timeline) -> tuple[float, float] | None:
    found = [o for o in tl.items() if o.source == HARNESS and o.kind == EFFECT]
    return (round(found[0].t, 3), found[0].uncertainty) if found else None


def test_the_effect_is_the_node_s_clock_minus_its_offset() -> None:
    tl = _timeline(4.8, node_clock=1006.6)  # node clock 2 s ahead: the effect was at host 1004.6
    scenario._record_effect(tl, "node01", [NodeLog("node01", 2.0, "", (), offset_err_s=0.3)])
    assert _effect(tl) == (4.6, 0.3)
    assert History.of(tl).effect == pytest.approx((4.3, 4.8))  # +- 0.3, never past the return


def test_the_effect_is_clamped_between_t0_and_the_return() -> None:
    late = _timeline(4.8, node_clock=1010.0)
    scenario._record_effect(late, "node01", [NodeLog("node01", 0.0, "", ())])
    assert _effect(late) == (4.8, 0.0)
    early = _timeline(4.8, node_clock=990.0)
    scenario._record_effect(early, "node01", [NodeLog("node01", 0.0, "", ())])
    assert _effect(early) == (0.0, 0.0)


def test_no_offset_or_no_node_clock_leaves_t0_to_the_return() -> None:
    unread = _timeline(4.8, node_clock=1004.6)
    scenario._record_effect(unread, "node01", [NodeLog("node01", None, "", (), error="ssh")])
    assert _effect(unread) is None
    assert History.of(unread).effect == (0.0, 4.8)
    host_side = _timeline(0.05, node_clock=None)
    scenario._record_effect(host_side, "node01", [NodeLog("node01", 0.0, "", ())])
    assert _effect(host_side) is None
    assert History.of(host_side).effect == (0.0, 0.05)
