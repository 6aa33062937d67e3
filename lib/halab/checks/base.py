"""What a rule is, what it sees and what it reports.

A rule is a small function with an id: it looks at one cluster design (the cluster.conf model and,
when it needs one, the lab spec) and yields issues. The framework stamps each issue with the rule
id into a Finding, so a finding always says which rule, how bad, which element and line, and why,
in one line a user can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from halab.clusterconf import DEFAULT_FLAVOR, ClusterConf, Flavor
from halab.spec import LabSpec


class Severity(StrEnum):
    ERROR = "error"  # the design will not fail over as intended: check-config exits 1
    WARNING = "warning"  # works, but against guidance or fragile


class Located(Protocol):
    """Anything a finding can point at: a model element or an ``At``."""

    @property
    def locator(self) -> str: ...

    @property
    def line(self) -> int | None: ...


@dataclass(frozen=True)
class At:
    """A place that is not a model element (e.g. a schema error's node)."""

    locator: str
    line: int | None = None


@dataclass(frozen=True)
class Issue:
    """What a rule function yields; the rule adds its id."""

    severity: Severity
    where: Located
    reason: str


def error(where: Located, reason: str) -> Issue:
    return Issue(Severity.ERROR, where, reason)


def warning(where: Located, reason: str) -> Issue:
    return Issue(Severity.WARNING, where, reason)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    element: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        line = self.line if self.line is not None else "?"
        return f"{self.severity} {self.rule} {self.element}({line}): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": str(self.severity), "element": self.element,
                "line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at. ``spec`` and ``schema`` are None when not given."""

    conf: ClusterConf
    spec: LabSpec | None = None
    schema: Path | None = None
    flavor: Flavor = DEFAULT_FLAVOR


CheckFn = Callable[[Context], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str  # one line: what the rule protects against
    check: CheckFn
    needs_lab: bool = False
    needs_schema: bool = False

    @property
    def group(self) -> str:
        return self.id.split(".", 1)[0]

    def applies(self, ctx: Context) -> bool:
        """False when the rule needs a lab spec or a schema the context does not have."""
        return not ((self.needs_lab and ctx.spec is None) or (self.needs_schema and ctx.schema is None))

    def run(self, ctx: Context) -> list[Finding]:
        if not self.applies(ctx):
            return []
        return [Finding(self.id, i.severity, i.where.locator, i.where.line, i.reason)
                for i in self.check(ctx)]


def rule(rule_id: str, summary: str, *, needs_lab: bool = False,
         needs_schema: bool = False) -> Callable[[CheckFn], Rule]:
    """Turn a check function into a named Rule (the module lists its rules in ``RULES``)."""

    def wrap(fn: CheckFn) -> Rule:
        return Rule(rule_id, summary, fn, needs_lab, needs_schema)

    return wrap

