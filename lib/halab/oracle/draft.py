"""A mutable scratch pad a stack model fills in, then freezes into a ``Prediction``.

The models read like the cluster's own story: "token lost at ..., fence requested at ...". Each
step records its span and a sentence with the formula and the numbers, so the reasoning in the
report is the computation itself, not a separate text that could drift from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from halab.oracle.model import Prediction, Premise, ServicePlace, Window
from halab.oracle.timeline import Slack, Span

TIE_BREAK_RISK = "risk (not an accepted outcome): with a delay difference of"  # read by the judge's fenced check


@dataclass
class Draft:
    """One outcome under construction; ``finish`` applies the slack and freezes it."""

    slack: Slack
    members: tuple[str, ...]
    services: dict[str, ServicePlace] = field(default_factory=dict)
    fenced: tuple[str, ...] = ()
    fenced_by: str | None = None
    self_reboot: tuple[str, ...] = ()
    fence_delay_s: float = 0.0  # the least the victim's fence waits before its agent runs
    premise: Premise | None = None  # evidence the outcome needs (see Premise)
    quorate: bool = True
    members_after: tuple[str, ...] = ()
    spans: dict[str, Span] = field(default_factory=dict)
    reasoning: list[str] = field(default_factory=list)
    wide: dict[str, str] = field(default_factory=dict)  # phase -> why its window may be wide
    token_ms: int = 0  # the ring's token as the design runs it (the host-load sentinel's bound reads it)

    def say(self, line: str) -> None:
        self.reasoning.append(line)

    def say_tie_break_risk(self, gap_s: float, agent_hi_s: float) -> None:
        """A fence delay that decides the two_node race only if the winner's agent ends within the
        difference: name the outage the design does not exclude (never an accepted outcome).
        Measured live (pacemaker, heartbeat-down, 1 of 11 runs): both fence_virsh runs ended 18 ms
        apart under TCG."""
        self.say(f"{TIE_BREAK_RISK} {gap_s:g} s under fence_virsh's "
                 f"{agent_hi_s:g} s, both fences may run to the end and each node switch the other off (an "
                 "outage); a run where both are fenced fails as WRONG OUTCOME: the design's tie-break is "
                 "too short for this host, which is the design's finding, not the harness's")

    def phase(self, name: str, span: Span, why: str, wide: str = "") -> Span:
        """Record a phase: the span gets this phase's tolerance on its latest bound; ``wide`` says
        which range makes the window wide, should it exceed ``width_bound``."""
        tol = self.slack.tol(name)
        widened = span.widen(tol)
        self.spans[name] = widened
        if wide:
            self.wide[name] = wide
        self.say(f"{name}: {why} = {span.label()}" + (f" (+{tol:g} s tolerance)" if tol else ""))
        return widened

    def width_bound(self, window: Window) -> float:
        """The widest a window may be without a stated reason: two polls plus the clock bound, or
        half its nominal (mid) time, whichever is larger. Wider cannot catch a regression."""
        nominal = (window.earliest + window.latest) / 2
        return max(2 * self.slack.observe_s + self.slack.early_s, 0.5 * nominal)

    def copy(self) -> Draft:
        return replace(self, services=dict(self.services), spans=dict(self.spans),
                       reasoning=list(self.reasoning), wide=dict(self.wide))

    def width_notes(self, windows: Mapping[str, Window]) -> list[str]:
        """One line per window wider than ``width_bound``: why (or that the model gives no reason)."""
        out = []
        for name, w in windows.items():
            bound = self.width_bound(w)
            if w.latest - w.earliest > bound:
                why = self.wide.get(name) or "no reason given by the model (a window to narrow)"
                out.append(f"{name} window wide: {w.latest - w.earliest:.1f} s > {bound:.1f} s "
                           f"(max(2 × poll + clock bound, 0.5 × nominal)) because {why}")
        return out

    def finish(self, stack: str, fault: str, target: str,
               alternatives: tuple[Prediction, ...] = ()) -> Prediction:
        self.say(f"windows = ideal span widened by {self.slack.early_s:g} s before (clock residue) and "
                 f"{self.slack.observe_s:g} s after (poll interval)")
        windows = {k: self.slack.window(v) for k, v in self.spans.items()}
        return Prediction(
            stack=stack,
            fault=fault,
            target=target,
            fenced=self.fenced,
            fenced_by=self.fenced_by,
            self_reboot=self.self_reboot,
            services=dict(self.services),
            quorate=self.quorate,
            members_after=self.members_after or tuple(m for m in self.members if m not in self.fenced),
            windows=windows,
            reasoning=tuple(self.reasoning) + tuple(self.width_notes(windows)),
            alternatives=alternatives,
            fence_delay_s=self.fence_delay_s,
            premise=self.premise,
            token_ms=self.token_ms,
        )


def owners_at_t0(services: Mapping[str, str], given: Mapping[str, str] | None) -> dict[str, str]:
    """Each service's owner at t0: the caller's word, else its preferred node."""
    out = dict(services)
    out.update(given or {})
    return out
