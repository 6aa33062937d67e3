"""A mutable scratch pad a stack model fills in, then freezes into a ``Prediction``.

The models read like the cluster's own story: "token lost at ..., fence requested at ...". Each
step records its span and a sentence with the formula and the numbers, so the reasoning in the
report is the computation itself, not a separate text that could drift from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from halab.oracle.model import Prediction, ServicePlace
from halab.oracle.timeline import Slack, Span


@dataclass
class Draft:
    """One outcome under construction; ``finish`` applies the slack and freezes it."""

    slack: Slack
    members: tuple[str, ...]
    services: dict[str, ServicePlace] = field(default_factory=dict)
    fenced: tuple[str, ...] = ()
    fenced_by: str | None = None
    self_reboot: tuple[str, ...] = ()
    quorate: bool = True
    members_after: tuple[str, ...] = ()
    spans: dict[str, Span] = field(default_factory=dict)
    reasoning: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.reasoning.append(line)

    def phase(self, name: str, span: Span, why: str) -> Span:
        """Record a phase: the span gets this phase's tolerance on its latest bound."""
        tol = self.slack.tol(name)
        widened = span.widen(tol)
        self.spans[name] = widened
        self.say(f"{name}: {why} = {span.label()}" + (f" (+{tol:g} s tolerance)" if tol else ""))
        return widened

    def copy(self) -> Draft:
        return replace(self, services=dict(self.services), spans=dict(self.spans),
                       reasoning=list(self.reasoning))

    def finish(self, stack: str, fault: str, target: str,
               alternatives: tuple[Prediction, ...] = ()) -> Prediction:
        self.say(f"windows = ideal span widened by {self.slack.early_s:g} s before (clock residue) and "
                 f"{self.slack.observe_s:g} s after (poll interval)")
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
            windows={k: self.slack.window(v) for k, v in self.spans.items()},
            reasoning=tuple(self.reasoning),
            alternatives=alternatives,
        )


def owners_at_t0(services: Mapping[str, str], given: Mapping[str, str] | None) -> dict[str, str]:
    """Each service's owner at t0: the caller's word, else its preferred node."""
    out = dict(services)
    out.update(given or {})
    return out
