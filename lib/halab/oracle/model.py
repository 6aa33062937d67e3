"""The oracle's answer: immutable, JSON-ready, and comparable by the failover suite.

A prediction says what a *correct* cluster must do after a fault, and in which time window each
phase must happen. Several acceptable outcomes are carried as ``alternatives`` (each with its own
reasoning) so a judge can accept any of them instead of the oracle guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

# Phases in the order they happen; a prediction holds only those that apply.
PHASES: tuple[str, ...] = (
    "detect",
    "fence-requested",
    "fence-done",
    "service-started",
    "node-rejoined",
    "fail-back",
)

# Phases that follow the harness's restore (it restarts the cluster on a fenced node): their
# windows are seconds after the restore begins, judged apart from the cluster's own phases.
HARNESS_PHASES: tuple[str, ...] = ("node-rejoined", "fail-back")

FAILED = "failed"  # a service the stack gives up on (rgmanager stop failure without self_fence)
BLOCKED = "blocked"  # recovery cannot proceed (no fence path, qdiskd refusing): the service does not move

ServicePlace = str | tuple[str, ...]


def place_text(place: ServicePlace | None) -> str:
    """A place for people: 'node02', or 'node02 or node03' when the design allows either."""
    if place is None:
        return "unknown"
    return place if isinstance(place, str) else " or ".join(place) or "nowhere"


@dataclass(frozen=True)
class Window:
    """Seconds after t0 (the fault injection) in which a phase must be observed, slack included."""

    earliest: float
    latest: float

    def __post_init__(self) -> None:
        if not 0 <= self.earliest <= self.latest:
            raise ValueError(f"bad window [{self.earliest}, {self.latest}]")

    def contains(self, t: float) -> bool:
        return self.earliest <= t <= self.latest

    def to_json(self) -> list[float]:
        return [round(self.earliest, 3), round(self.latest, 3)]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Premise:
    """What must be seen for an outcome to be acceptable at all: a log event (an EventKind value)
    about a node. Why: an alternative that rests on something going wrong first (the app cannot
    start again) must not excuse the same outcome reached without it (migration-threshold=1).

    ``at_t0``: a state the cluster was in when the fault began, not something that happened in it:
    the latest such event before t0 must be about ``node``. Why: which node held the qdisk master
    role decides the side that keeps quorum on a heartbeat split; an outcome for the other master
    must not excuse a standby that fenced the owner (master-wins-off, measured live)."""

    event: str
    node: str
    says: str  # in ops' words: "the app failed to start again on node01"
    at_t0: bool = False


@dataclass(frozen=True)
class Prediction:
    """What a correct cluster must do after ``fault`` on ``target`` (names as the cluster config has them)."""

    stack: str
    fault: str
    target: str
    fenced: tuple[str, ...]
    fenced_by: str | None
    self_reboot: tuple[str, ...]
    services: Mapping[str, ServicePlace]  # where each runs once the fault settled (before any fail-back)
    quorate: bool
    members_after: tuple[str, ...]
    windows: Mapping[str, Window]
    reasoning: tuple[str, ...]
    alternatives: tuple[Prediction, ...] = field(default=())
    # the least the predicted victim's fence waits between its request and the agent's run (the
    # design's tie-break: pcmk_delay_base, priority-fencing-delay); 0 when nothing delays it
    fence_delay_s: float = 0.0
    premise: Premise | None = None  # evidence this outcome needs (alternatives that rest on a failure)
    # the totem token the design runs (corosync 3: with its per-node coefficient; cman: cluster.conf
    # under the timing profile); 0 when not known. The host-load sentinel's bound is a fifth of it.
    token_ms: int = 0

    def __post_init__(self) -> None:
        # Frozen all the way down: a judge must not be able to edit the expectation it checks.
        unknown = set(self.windows) - set(PHASES)
        if unknown:
            raise ValueError(f"unknown phases {sorted(unknown)}")
        object.__setattr__(self, "services", _frozen(self.services))
        ordered = {p: self.windows[p] for p in PHASES if p in self.windows}
        object.__setattr__(self, "windows", _frozen(ordered))

    def places(self, service: str) -> tuple[str, ...]:
        """The nodes ``service`` may end on in this outcome (one node, a choice, or none)."""
        expected = self.services.get(service)
        return (expected,) if isinstance(expected, str) else tuple(expected or ())

    def outcomes(self) -> tuple[Prediction, ...]:
        """This prediction and every acceptable alternative, primary first."""
        return (self, *self.alternatives)

    def without_harness_phases(self, why: str) -> Prediction:
        """This prediction (and its alternatives) with no harness-driven phase to judge, and why:
        a reset that never lets the cluster rejoin and fail back on its own cannot time them."""
        if not any(p in alt.windows for alt in self.outcomes() for p in HARNESS_PHASES):
            return self
        return replace(self, windows={p: w for p, w in self.windows.items() if p not in HARNESS_PHASES},
                       reasoning=(*self.reasoning, why),
                       alternatives=tuple(a.without_harness_phases(why) for a in self.alternatives))

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "fault": self.fault,
            "target": self.target,
            "fenced": list(self.fenced),
            "fenced_by": self.fenced_by,
            "self_reboot": list(self.self_reboot),
            "services": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.services.items()},
            "quorate": self.quorate,
            "members_after": list(self.members_after),
            "windows": {k: w.to_json() for k, w in self.windows.items()},
            "reasoning": list(self.reasoning),
            "alternatives": [a.to_json() for a in self.alternatives],
            **({"fence_delay_s": self.fence_delay_s} if self.fence_delay_s else {}),
            **({"premise": {"event": self.premise.event, "node": self.premise.node, "says": self.premise.says,
                            **({"at_t0": True} if self.premise.at_t0 else {})}}
               if self.premise else {}),
        }
