"""How long a fault is held: long enough for every outcome the oracle accepts (pure logic)."""

from __future__ import annotations

from dataclasses import replace

from halab.oracle import Prediction, Window
from halab.scenario import hold_deadline


def _pred(windows: dict[str, Window], **kw: object) -> Prediction:
    base = Prediction(stack="pacemaker", fault="heartbeat-down", target="node01", fenced=("node02",),
                      fenced_by="node01", self_reboot=(), services={"service01": "node01"}, quorate=True,
                      members_after=("node01",), windows=windows, reasoning=("test",))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_the_hold_covers_the_race_alternative_that_ends_later() -> None:
    """Measured live: the tie-break race went to node02; the heal came at the main prediction's end
    (fence-done latest 42 s), before the group started on node02 (~85 s), so the alternative the
    judge would have accepted could not be matched."""
    alt = _pred({"detect": Window(3.5, 14.2), "fence-done": Window(20.6, 50.2),
                 "service-started": Window(22.6, 105.2), "node-rejoined": Window(9.5, 221.0)},
                fenced=("node01",), fenced_by="node02", services={"service01": "node02"})
    main = _pred({"detect": Window(3.5, 14.2), "fence-done": Window(12.6, 42.2),
                  "node-rejoined": Window(9.5, 221.0)}, alternatives=(alt,))
    without = hold_deadline(replace(main, alternatives=()), None)  # type: ignore[arg-type]
    with_alt = hold_deadline(main, None)  # type: ignore[arg-type]
    assert with_alt - without == 105.2 - 42.2
    assert with_alt > 105.2  # harness-driven windows (node-rejoined) never extend the hold
