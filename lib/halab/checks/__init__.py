"""Static checks of a cluster design: named rules over the cluster.conf model and the lab spec.

    findings = run_checks(load_cluster_conf(path), spec=load_spec("seed"), schema=None)
    for f in findings: print(f)   # "error timing.qdisk-startup totem(26): token ..."

``RULES`` is the registry (one entry per rule id, in report order); ``rule_by_id`` finds one.
The CLI (halab check-config) and the pytest suite (tests_config, one test per rule) both run
exactly these rules.
"""

from __future__ import annotations

from pathlib import Path

from halab.checks import fencing, identity, resources, schema, timing, values, votes
from halab.checks.base import At, Context, Finding, Issue, Rule, Severity, error, rule, warning
from halab.clusterconf import DEFAULT_FLAVOR, ClusterConf, Flavor
from halab.spec import LabSpec

RULES: tuple[Rule, ...] = (
    *values.RULES,
    *timing.RULES,
    *votes.RULES,
    *fencing.RULES,
    *identity.RULES,
    *resources.RULES,
    *schema.RULES,
)


def rule_by_id(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def run_checks(conf: ClusterConf, spec: LabSpec | None = None, schema: Path | str | None = None,
               flavor: Flavor | str = DEFAULT_FLAVOR) -> list[Finding]:
    """Every applicable rule's findings, errors first, then in rule and line order."""
    ctx = Context(conf, spec, Path(schema) if schema else None, Flavor(flavor))
    findings = [f for r in RULES for f in r.run(ctx)]
    order = {r.id: i for i, r in enumerate(RULES)}
    return sorted(findings, key=lambda f: (f.severity != Severity.ERROR, order[f.rule], f.line or 0))


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


__all__ = [
    "RULES",
    "At",
    "Context",
    "Finding",
    "Issue",
    "Rule",
    "Severity",
    "error",
    "has_errors",
    "rule",
    "rule_by_id",
    "run_checks",
    "warning",
]
