"""Every rule fires on a config that breaks it and stays quiet on the seed.

The broken variants are files under tests_unit/data/clusterconf/, each a copy of the seed with one
design mistake; its header says which rule must fire and how hard (``breaks: RULE SEVERITY``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from halab.checks import RULES, Context, Finding, Rule, Severity, has_errors, rule_by_id, run_checks
from halab.clusterconf import ClusterConf, load_cluster_conf, parse_cluster_conf
from halab.spec import LabSpec, load_spec

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "labs" / "seed" / "cluster.conf"
DATA = REPO / "tests_unit" / "data" / "clusterconf"
TINY_SCHEMA = DATA / "tiny-cluster.rng"
BREAKS = re.compile(r"breaks: (\S+) (error|warning)")


def _variants() -> list[tuple[Path, str, Severity]]:
    out = []
    for path in sorted(DATA.glob("*.conf")):
        match = BREAKS.search(path.read_text(encoding="utf-8"))
        assert match, f"{path.name} does not say which rule it breaks"
        out.append((path, match.group(1), Severity(match.group(2))))
    return out


VARIANTS = _variants()


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_spec("seed")


@pytest.fixture(scope="module")
def seed() -> ClusterConf:
    return load_cluster_conf(SEED)


def test_every_rule_has_a_broken_variant() -> None:
    covered = {rule_id for _, rule_id, _ in VARIANTS}
    assert {r.id for r in RULES} <= covered, "rules without a broken variant"
    assert covered <= {r.id for r in RULES}, "variants naming an unknown rule"


def test_rule_ids_are_unique_and_grouped() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    groups = {"config", "timing", "votes", "fencing", "identity", "resources", "schema"}
    assert {r.group for r in RULES} == groups
    assert all(r.summary and "\n" not in r.summary for r in RULES)


@pytest.mark.parametrize(("path", "rule_id", "severity"), VARIANTS, ids=[p.stem for p, _, _ in VARIANTS])
def test_rule_fires_on_its_broken_variant(path: Path, rule_id: str, severity: Severity,
                                          spec: LabSpec) -> None:
    conf = load_cluster_conf(path)
    findings = rule_by_id(rule_id).run(Context(conf, spec, TINY_SCHEMA))
    assert any(f.severity is severity for f in findings), f"{rule_id} did not report a {severity}: {findings}"
    assert all(f.rule == rule_id and f.reason for f in findings)
    if rule_id != "schema.relaxng":  # libxml2 gives some schema errors no line
        assert all(f.line is not None for f in findings)
    if severity is Severity.WARNING:  # a warning-only variant must not turn into an error elsewhere
        assert not has_errors(run_checks(conf, spec, TINY_SCHEMA))


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_is_quiet_on_the_seed(rule: Rule, seed: ClusterConf, spec: LabSpec) -> None:
    assert rule.run(Context(seed, spec, TINY_SCHEMA)) == []


def test_seed_has_no_finding_at_all(seed: ClusterConf, spec: LabSpec) -> None:
    assert run_checks(seed, spec, TINY_SCHEMA) == []


def test_lab_and_schema_rules_wait_for_their_input(seed: ClusterConf) -> None:
    ctx = Context(seed)
    needing = {r.id for r in RULES if not r.applies(ctx)}
    assert needing == {"fencing.heartbeat-path", "fencing.port", "identity.heartbeat-names",
                       "resources.ip-network", "schema.relaxng"}
    broken = load_cluster_conf(DATA / "fencing-over-heartbeat.conf")
    assert run_checks(broken) == []  # without a lab spec the network is unknown: no guess


def test_findings_are_one_line_errors_first() -> None:
    conf = load_cluster_conf(DATA / "timing-token-too-small-for-qdisk.conf")
    findings = run_checks(conf, load_spec("seed"))
    assert [f.severity for f in findings] == [Severity.ERROR, Severity.WARNING]
    assert str(findings[0]).startswith("error timing.qdisk-startup totem(25): token 17000 ms < ")
    assert findings[0].to_dict()["severity"] == "error"
    assert str(Finding("r.x", Severity.WARNING, "cluster", None, "why")) == "warning r.x cluster(?): why"


def test_fence_device_options_on_the_node_count() -> None:
    """Per-node device options (ipaddr, passwd on <device>) complete the fencedevice."""
    conf = parse_cluster_conf("""<cluster name="c" config_version="1"><cman two_node="1" expected_votes="1"/>
      <clusternodes>
        <clusternode name="node01h" nodeid="1"><fence><method name="1">
          <device name="ipmi" ipaddr="192.168.8.11" passwd="x" delay="10"/></method></fence></clusternode>
        <clusternode name="node02h" nodeid="2"><fence><method name="1">
          <device name="ipmi" ipaddr="192.168.9.12"/></method></fence></clusternode>
      </clusternodes>
      <fencedevices><fencedevice name="ipmi" agent="fence_ipmilan" login="admin"/></fencedevices>
      </cluster>""")
    findings = run_checks(conf, load_spec("seed"))
    got = {(f.rule, f.severity) for f in findings}
    assert ("fencing.agent-essentials", Severity.ERROR) in got  # node02h's use has no credential
    assert ("fencing.heartbeat-path", Severity.ERROR) in got  # node02h's BMC sits on the heartbeat net
    assert "votes.two-node" not in {f.rule for f in findings}  # a delay breaks the fence race
    assert sum(f.rule == "fencing.agent-essentials" for f in findings) == 1


def test_local_agents_need_no_address_or_login() -> None:
    conf = parse_cluster_conf("""<cluster name="c" config_version="1"><clusternodes>
      <clusternode name="a" nodeid="1"><fence><method name="1"><device name="x" port="a"/></method></fence>
      </clusternode></clusternodes><fencedevices><fencedevice name="x" agent="fence_xvm"/></fencedevices>
      </cluster>""")
    assert rule_by_id("fencing.agent-essentials").run(Context(conf)) == []
