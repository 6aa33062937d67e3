"""One test's timeline, all on host time: seconds after t0 (the fault injection).

Why host time: guest clocks drift by seconds under TCG, so every observation is stamped by the
host when it is made (libvirt events, status polls, client probes); log lines from a node are
shifted by that node's measured clock offset before they enter the timeline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from halab.stacks.types import ClusterStatus


@dataclass(frozen=True)
class Observation:
    t: float  # stored on the timeline's clock; Timeline.items() gives it in seconds after t0
    source: str  # "poll" | "libvirt" | "probe" | "log" | "harness"
    node: str | None  # node the observation was made on / is about
    kind: str  # e.g. "status", "unreachable", "lifecycle", "probe-ok", "probe-fail", an EventKind value
    detail: str = ""
    status: ClusterStatus | None = None
    mounted: bool | None = None  # data LUN mounted on `node` (status polls)
    uncertainty: float = 0.0  # +- seconds of `t` (log lines: the node clock offset's error)
    holds_ip: bool | None = None  # the service IP is on one of `node`'s interfaces (status polls)


@dataclass(frozen=True)
class PhaseResult:
    """A phase as measured, against its predicted window."""

    phase: str
    measured: float | None  # seconds after t0; None when it was never observed
    earliest: float
    latest: float
    evidence: str = ""
    uncertainty: float = 0.0  # +- seconds of `measured` (clock-corrected log evidence)
    driven: str = "cluster"  # "harness": the phase follows the harness's restore, not the cluster alone
    blind: str = ""  # when not measured: the evidence that was missing ("" = it was there, nothing seen)

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    @property
    def verdict(self) -> str:
        """Inside the window unless outside it by more than the measurement's own uncertainty;
        "no evidence" when it could not be measured because its source was missing."""
        if self.measured is None:
            return "no evidence" if self.blind else "missing"
        if self.measured + self.uncertainty < self.earliest:
            return "too early"
        if self.measured - self.uncertainty > self.latest:
            return "too late"
        return "ok"

    @property
    def margin(self) -> float | None:
        """Seconds to the nearer window edge (negative when outside)."""
        if self.measured is None:
            return None
        return min(self.measured - self.earliest, self.latest - self.measured)


@dataclass
class Timeline:
    """Thread-safe, append-only record of one test; t0 is set when the fault is injected."""

    wall_start: float = field(default_factory=time.time)
    mono_start: float = field(default_factory=time.monotonic)
    t0_mono: float | None = None
    t0_wall: float | None = None
    t_healed: float | None = None
    _items: list[Observation] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark_t0(self) -> None:
        self.t0_mono = time.monotonic()
        self.t0_wall = time.time()

    def clock(self) -> float:
        """The timeline's own clock (seconds since it was made): what observers stamp with."""
        return time.monotonic() - self.mono_start

    def _t0_offset(self) -> float:
        return 0.0 if self.t0_mono is None else self.t0_mono - self.mono_start

    def now(self) -> float:
        """Seconds after t0 (after the timeline's start while t0 is not set)."""
        return self.clock() - self._t0_offset()

    def at_wall(self, wall: float) -> float:
        """Host wall-clock time -> the timeline's clock (for log lines)."""
        return wall - self.wall_start

    def add(self, obs: Observation) -> None:
        with self._lock:
            self._items.append(obs)

    def record(self, source: str, node: str | None, kind: str, detail: str = "", *,
               status: ClusterStatus | None = None, mounted: bool | None = None, t: float | None = None,
               uncertainty: float = 0.0, holds_ip: bool | None = None) -> None:
        """Add an observation stamped `t` on the timeline's clock (now when not given)."""
        self.add(Observation(self.clock() if t is None else t, source, node, kind, detail, status, mounted,
                             uncertainty, holds_ip))

    def items(self) -> list[Observation]:
        """Every observation, oldest first, with `t` in seconds after t0 (negative: before the fault)."""
        shift = self._t0_offset()
        with self._lock:
            raw = sorted(self._items, key=lambda o: o.t)
        return [replace(o, t=o.t - shift) for o in raw]

    def after(self, t: float = 0.0) -> list[Observation]:
        return [o for o in self.items() if o.t >= t]

    def first(self, items: Iterable[Observation], pred: Callable[[Observation], bool]) -> Observation | None:
        return next((o for o in items if pred(o)), None)
