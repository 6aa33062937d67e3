"""`halab check-config CLUSTER_CONF|CIB [--lab SPEC] [--schema RNG] [--corosync FILE] [--json]`.

A pacemaker CIB (root <cib>) is checked against the pacemaker rules (halab.checks.pacemaker), with
its corosync.conf from --corosync or, when there is one, the corosync.conf beside it.

Judges a cluster design before anything boots: one line per finding on stdout
(``severity rule-id element(line): reason``), exit 0 when no finding is an error, 1 when one is,
2 when the input is unusable (raised as a HalabError; halab.cli prints its one line).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from halab.checks import RULES, has_errors, run_checks
from halab.checks.base import Finding, Severity
from halab.clusterconf import Flavor, load_cluster_conf
from halab.clusterconf.jsonify import derived_summary
from halab.spec import load_spec

HELP = {"check-config": "check a cluster.conf design against the timing, vote, fencing, identity, "
                        "resource (and schema) rules"}


def register(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cluster_conf", metavar="CLUSTER_CONF", type=Path,
                        help="the cluster.conf, or a pacemaker CIB (cibadmin -Q), to check")
    parser.add_argument("--corosync", default=None, type=Path, metavar="FILE",
                        help="a CIB's corosync.conf (default: corosync.conf beside the CIB, if any)")
    parser.add_argument("--lab", default=None, metavar="SPEC",
                        help="lab spec (networks, nodes): a name under labs/ or a lab.toml (default: seed)")
    parser.add_argument("--schema", default=None, type=Path, metavar="RNG",
                        help="also validate against this RelaxNG schema (as ccs_config_validate does)")
    parser.add_argument("--flavor", default=str(Flavor.RHEL6), choices=[str(f) for f in Flavor],
                        help="cman build whose defaults apply (default: rhel6)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of lines")


def _is_cib(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b"<cib" in head


def run_cib(args: argparse.Namespace) -> int:
    from halab.checks.pacemaker import RULES as PCMK_RULES
    from halab.checks.pacemaker import run_pcmk_checks
    from halab.cib.design import load_design

    coro = args.corosync or (args.cluster_conf.parent / "corosync.conf")
    design = load_design(args.cluster_conf, coro if coro.is_file() else None)
    findings = run_pcmk_checks(design)
    if args.json:
        doc = _document(args, "-", findings)
        doc["corosync"] = str(coro) if coro.is_file() else None
        print(json.dumps(doc, indent=2))
    else:
        for finding in findings:
            print(finding)
        errors, warnings = _count(findings, Severity.ERROR), _count(findings, Severity.WARNING)
        with_coro = f"with {coro}" if coro.is_file() else "without a corosync.conf (two_node rules quiet)"
        print(f"{args.cluster_conf}: {errors} error(s), {warnings} warning(s) from {len(PCMK_RULES)} pacemaker "
              f"rules ({with_coro})", file=sys.stderr)
    return 1 if has_errors(findings) else 0


def run(args: argparse.Namespace) -> int:
    if _is_cib(args.cluster_conf):
        return run_cib(args)
    spec = load_spec(args.lab)
    conf = load_cluster_conf(args.cluster_conf)
    findings = run_checks(conf, spec, args.schema, args.flavor)
    if args.json:
        doc = _document(args, spec.name, findings)
        doc["derived"] = derived_summary(conf)  # the timings the oracle will use, for the reader
        print(json.dumps(doc, indent=2))
    else:
        for finding in findings:
            print(finding)
        print(_summary(args.cluster_conf, spec.name, findings), file=sys.stderr)
    return 1 if has_errors(findings) else 0


def _count(findings: list[Finding], severity: Severity) -> int:
    return sum(1 for f in findings if f.severity is severity)


def _summary(path: Path, lab: str, findings: list[Finding]) -> str:
    errors, warnings = _count(findings, Severity.ERROR), _count(findings, Severity.WARNING)
    return f"{path}: {errors} error(s), {warnings} warning(s) from {len(RULES)} rules (lab {lab})"


def _document(args: argparse.Namespace, lab: str, findings: list[Finding]) -> dict[str, object]:
    return {
        "cluster_conf": str(args.cluster_conf),
        "lab": lab,
        "schema": str(args.schema) if args.schema else None,
        "flavor": args.flavor,
        "errors": _count(findings, Severity.ERROR),
        "warnings": _count(findings, Severity.WARNING),
        "findings": [f.to_dict() for f in findings],
    }
