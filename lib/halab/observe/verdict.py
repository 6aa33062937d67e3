"""The verdict of one failover run: what the judge produces and the report only renders.

Why one immutable model: the report used to recompute phase verdicts on its own (without the
clock-offset uncertainty) and could contradict the judge. Every category a failure can fall in is
defined here once; the judge's messages, the Allure categories.json and the fixture's harness
errors all take their prefix from ``Category``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from halab.observe.timeline import PhaseResult
from halab.oracle.model import Prediction


class Category(Enum):
    """A kind of failure ops act on differently; the order is the headline's precedence."""

    UNSAFE = ("UNSAFE", "unsafe (split brain)",
              "Safety broken: two owners, the data LUN mounted twice, the service started elsewhere "
              "before its last owner was fenced or seen stopped, or data written before the fault lost.")
    WRONG_OUTCOME = ("WRONG OUTCOME", "wrong outcome",
                     "The cluster ended in a state the design does not predict: wrong node fenced (or by "
                     "the wrong node), service on the wrong node or down, quorum wrong, a fence claimed "
                     "that did not happen.")
    NO_EVIDENCE = ("NO EVIDENCE", "no evidence",
                   "A check could not see what it needs (polls blind, logs or fence history unreadable, "
                   "no lifecycle events): missing evidence is never a pass; the message says what was missing.")
    TOO_SLOW = ("TOO SLOW", "too slow", "A phase happened after its window, or not before the test stopped waiting.")
    TOO_EARLY = ("TOO EARLY", "too early",
                 "A phase happened before its window: the cluster reacted faster than its configuration "
                 "allows (a timeout not applied, or evidence from before the fault).")
    INCONCLUSIVE = ("INCONCLUSIVE", "inconclusive (host starved)",
                    "The lab did not get its CPU during the fault (qemu vCPU threads waited to run longer "
                    "than the timing allows): timing and outcome cannot be judged; safety still is.")
    HARNESS_ERROR = ("HARNESS ERROR", "lab or harness error",
                     "The test could not judge: the lab or the harness failed (precondition, healing, "
                     "timeouts, bugs).")

    def __init__(self, label: str, title: str, description: str) -> None:
        self.label = label
        self.title = title
        self.description = description

    @property
    def prefix(self) -> str:
        """What a failure message starts with, e.g. "TOO SLOW:"."""
        return f"{self.label}:"

    def line(self, text: str) -> str:
        return f"{self.prefix} {text}"


@dataclass(frozen=True)
class Check:
    """One named check with its evidence; ``category`` is None when it holds."""

    name: str
    group: str  # "outcome" | "safety" | "phase" | "harness phase" | "host" | "history"
    category: Category | None
    message: str  # starts with the category's prefix when the check failed
    evidence: str = ""

    @property
    def ok(self) -> bool:
        return self.category is None

    def __str__(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.message}"


def passed(name: str, group: str, message: str, evidence: str = "") -> Check:
    return Check(name, group, None, message, evidence)


def failed(name: str, group: str, category: Category, message: str, evidence: str = "") -> Check:
    return Check(name, group, category, category.line(message), evidence)


@dataclass(frozen=True)
class HostLag:
    """How long the lab's vCPUs waited for a host CPU during the fault, against the bound."""

    lag_s: float  # worst per-vCPU run-queue wait over any token-long stretch of the fault
    bound_s: float
    node: str
    samples: int

    @property
    def starved(self) -> bool:
        return self.lag_s > self.bound_s


@dataclass(frozen=True)
class Verdict:
    """The judge's answer for one run: rendered by the report as is, never recomputed."""

    prediction: Prediction  # the candidate (main or alternative) the checks were made against
    checks: tuple[Check, ...]
    phases: tuple[PhaseResult, ...]
    fenced: tuple[str, ...]
    final_owner: str | None
    host: HostLag | None = None
    against: int = 0  # 0: the design's main prediction; k: its k-th acceptable alternative
    effect_s: tuple[float, float] = (0.0, 0.0)  # when the fault took effect after t0 (windows count from it)

    def candidate(self) -> str:
        """Which of the design's predictions the checks were made against, in words."""
        return "the design's main prediction" if self.against == 0 else f"acceptable alternative {self.against}"

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def category(self) -> Category | None:
        """The headline category: the first in ``Category`` order among the failures."""
        cats = {c.category for c in self.failures()}
        return next((c for c in Category if c in cats), None)

    def headline(self) -> str:
        """One line: PASS, or the category and the first failure of that category."""
        cat = self.category
        if cat is None:
            return f"PASS: {len(self.checks)} checks hold"
        first = next(c for c in self.failures() if c.category == cat)
        return first.message

    def message(self) -> str:
        """The assertion message: the headline first (Allure's categories match on it), then all failures."""
        rest = [c.message for c in self.failures()]
        return "\n".join([self.headline(), *(m for m in rest if m != self.headline())])

    def of_group(self, *groups: str) -> list[Check]:
        return [c for c in self.checks if c.group in groups]
