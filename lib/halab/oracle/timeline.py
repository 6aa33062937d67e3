"""Interval arithmetic for phase times, and the slack that turns ideal bounds into test windows.

Every phase time is a ``Span`` [lo, hi] of seconds after t0: the fastest and the slowest a correct
cluster may be. Chaining phases adds spans; the per-phase tolerance is added to ``hi`` at each step
(so jitter accumulates the way it does on a loaded machine), and the observation slack is applied
once, when a span becomes a ``Window``. Nothing here knows about a stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from halab.oracle.model import PHASES, Window
from halab.spec import TimingProfile


@dataclass(frozen=True)
class Span:
    """[lo, hi] seconds: the ideal earliest and latest time of something, before observation slack."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"span lo {self.lo} > hi {self.hi}")

    @classmethod
    def at(cls, t: float) -> Span:
        return cls(t, t)

    @classmethod
    def of(cls, pair: tuple[float, float]) -> Span:
        return cls(float(pair[0]), float(pair[1]))

    def __add__(self, other: Span | float) -> Span:
        if isinstance(other, Span):
            return Span(self.lo + other.lo, self.hi + other.hi)
        return Span(self.lo + other, self.hi + other)

    def widen(self, hi: float) -> Span:
        """Add ``hi`` seconds to the latest bound only (a tolerance: never makes anything earlier)."""
        return Span(self.lo, self.hi + hi)

    def upto(self, cap: float) -> Span:
        """Clamp both bounds to at most ``cap`` (a timer that fires at ``cap`` at the latest)."""
        return Span(min(self.lo, cap), min(self.hi, cap))

    def label(self) -> str:
        """To the hundredth: a reasoning line is read by people (3.35, not 3.34762)."""
        return f"[{round(self.lo, 2):g}, {round(self.hi, 2):g}] s"


def latest_of(a: Span, b: Span) -> Span:
    """When two things must both have happened."""
    return Span(max(a.lo, b.lo), max(a.hi, b.hi))


def earliest_of(a: Span, b: Span) -> Span:
    """When the first of two things happens."""
    return Span(min(a.lo, b.lo), min(a.hi, b.hi))


# Per-phase tolerance (s) added to the latest bound, for scheduling jitter on a loaded 2-core TCG
# host: timers firing late, a DC election and scheduler run, fenced/controller bookkeeping after
# the agent returns, DLM recovery, the poll that finds a rebooted node. Documented in
# docs/timing-model.md ("Slack"); a lab can pass its own Slack to predict().
DEFAULT_PHASE_TOLERANCE_S: Mapping[str, float] = MappingProxyType({
    "detect": 2.0,
    "fence-requested": 5.0,
    "fence-done": 3.0,
    "service-started": 5.0,
    "node-rejoined": 10.0,
    "fail-back": 10.0,
})


@dataclass(frozen=True)
class Slack:
    """Explicit slack between the ideal model and what the failover suite can observe.

    ``early_s``: residual error of a log timestamp after node-clock correction; the only amount a
    window opens *before* the ideal earliest bound (a fence before the token expired stays a bug).
    ``observe_s``: status polls see an event up to one poll interval late (timing.poll_interval_s).
    ``phase_s``: tolerance per phase, accumulated along the chain of phases.
    """

    early_s: float = 0.5
    observe_s: float = 1.0
    phase_s: Mapping[str, float] = field(default_factory=lambda: DEFAULT_PHASE_TOLERANCE_S)

    def __post_init__(self) -> None:
        if self.early_s < 0 or self.observe_s < 0 or any(v < 0 for v in self.phase_s.values()):
            raise ValueError("slack must not be negative")
        object.__setattr__(self, "phase_s", MappingProxyType(dict(self.phase_s)))

    @classmethod
    def from_timing(cls, timing: TimingProfile) -> Slack:
        return cls(observe_s=timing.poll_interval_s)

    @classmethod
    def none(cls) -> Slack:
        """No slack at all: the bare model (used by tests of the formulas)."""
        return cls(early_s=0.0, observe_s=0.0, phase_s=dict.fromkeys(PHASES, 0.0))

    def tol(self, phase: str) -> float:
        return float(self.phase_s.get(phase, 0.0))

    def window(self, span: Span) -> Window:
        return Window(max(0.0, span.lo - self.early_s), max(0.0, span.hi) + self.observe_s)
