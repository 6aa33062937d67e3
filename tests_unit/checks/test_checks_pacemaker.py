"""Every pacemaker design rule fires on a CIB that breaks it and stays quiet on the seed's CIB.

Each broken design is the seed's cib.xml / corosync.conf with one mistake, written as a user would
(an nvpair changed, a constraint added); the corpus run shows the rules on designs nobody here wrote.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from halab.checks.pacemaker import RULES, run_pcmk_checks
from halab.cib import read_cib, read_corosync
from halab.cib.design import Design, load_design
from halab.cli import main
from halab.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SEED_CIB = REPO / "labs" / "seed" / "cib.xml"
SEED_COROSYNC = REPO / "labs" / "seed" / "corosync.conf"
CORPUS = REPO.parent / "shared" / "pacemaker-scheduler" / "xml"
Edit = Callable[[etree._Element], None]


def _set(xpath: str, attr: str, value: str) -> Edit:
    def edit(root: etree._Element) -> None:
        for el in root.iterfind(xpath):
            el.set(attr, value)
    return edit


def _drop(xpath: str) -> Edit:
    def edit(root: etree._Element) -> None:
        for el in root.iterfind(xpath):
            parent = el.getparent()
            assert parent is not None
            parent.remove(el)
    return edit


def _add(xpath: str, xml: str) -> Edit:
    def edit(root: etree._Element) -> None:
        parent = root.find(xpath)
        assert parent is not None
        parent.append(etree.fromstring(xml))
    return edit


def design(*edits: Edit, corosync: str | None = None) -> Design:
    root = etree.parse(str(SEED_CIB)).getroot()
    for edit in edits:
        edit(root)
    coro = read_corosync(corosync if corosync is not None else SEED_COROSYNC.read_text())
    return Design(read_cib(etree.tostring(root)), coro, SEED_CIB)


OPTS = "configuration/crm_config/cluster_property_set"
# the seed's pair with a quorum device instead of two_node (the qdevice lab's corosync.conf)
QDEVICE_COROSYNC = SEED_COROSYNC.read_text().replace(
    "    two_node: 1\n", "    device {\n        model: net\n        votes: 1\n        net {\n"
                        "            host: 192.168.9.250\n            algorithm: ffsplit\n        }\n    }\n")
BROKEN: dict[str, Design | Callable[[], Design]] = {
    "pcmk.fencing-disabled": lambda: design(_set(f"{OPTS}/nvpair[@name='stonith-enabled']", "value", "false")),
    "pcmk.node-without-fence": lambda: design(_drop(".//primitive[@id='fence_node02']"),
                                              _drop(".//rsc_location[@rsc='fence_node02']")),
    "pcmk.two-node-quorum": lambda: design(corosync=SEED_COROSYNC.read_text().replace("    two_node: 1\n", "")),
    "pcmk.two-node-delay": lambda: design(_drop(".//nvpair[@name='pcmk_delay_base']")),
    "pcmk.colocation-without-order": lambda: design(
        _add("configuration/resources", "<primitive id='extra' class='ocf' provider='heartbeat' type='Dummy'/>"),
        _add("configuration/constraints", "<rsc_colocation id='c' rsc='extra' with-rsc='service01' "
                                          "score='INFINITY'/>")),
    "pcmk.filesystem-deep-monitor": lambda: design(_drop(".//op[@name='monitor']/instance_attributes")),
    "pcmk.stop-beyond-fence": lambda: design(_set(".//op[@id='service01-fs-stop-0']", "timeout", "120s")),
    "pcmk.qdevice": lambda: design(corosync=QDEVICE_COROSYNC.replace(
        "provider: corosync_votequorum", "provider: corosync_votequorum\n    two_node: 1")),
    "pcmk.no-quorum-ignore": lambda: design(
        _set(f"{OPTS}/nvpair[@name='no-quorum-policy']", "value", "ignore"),
        corosync=SEED_COROSYNC.read_text().replace("    two_node: 1\n", "")),
}


def test_every_rule_has_a_broken_design() -> None:
    assert set(BROKEN) == {r.id for r in RULES}


def test_the_seed_cib_is_clean() -> None:
    assert run_pcmk_checks(load_design(SEED_CIB, SEED_COROSYNC)) == []


@pytest.mark.parametrize("rule_id", sorted(BROKEN))
def test_rule_fires_on_its_broken_design(rule_id: str) -> None:
    made = BROKEN[rule_id]
    d = made() if callable(made) else made
    fired = {f.rule for f in run_pcmk_checks(d)}
    assert rule_id in fired
    # one mistake, one rule (but for a consequence the design also shows: no two_node, no delay)
    assert fired - {rule_id} <= {"pcmk.two-node-delay", "pcmk.node-without-fence", "pcmk.two-node-quorum"}


def test_an_order_quiets_the_colocation_rule() -> None:
    d = design(_add("configuration/resources", "<primitive id='extra' class='ocf' provider='heartbeat' "
                                               "type='Dummy'/>"),
               _add("configuration/constraints", "<rsc_colocation id='c' rsc='extra' with-rsc='service01' "
                                                 "score='INFINITY'/>"),
               _add("configuration/constraints", "<rsc_order id='o' first='service01' then='extra'/>"))
    assert run_pcmk_checks(d) == []


def test_priority_fencing_delay_quiets_the_race_rule() -> None:
    d = design(_drop(".//nvpair[@name='pcmk_delay_base']"),
               _add(OPTS, "<nvpair id='p' name='priority-fencing-delay' value='10s'/>"))
    assert run_pcmk_checks(d) == []


def test_cli_checks_a_cib_with_its_corosync(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check-config", str(SEED_CIB)]) == 0
    assert "with " in capsys.readouterr().err
    broken = tmp_path / "cib.xml"
    broken.write_text(SEED_CIB.read_text().replace('name="stonith-enabled" value="true"',
                                                   'name="stonith-enabled" value="false"'))
    assert main(["check-config", str(broken)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("error pcmk.fencing-disabled cib(?)")
    assert "without a corosync.conf" in err


def test_the_corpus_gets_findings_only_from_rules_that_apply() -> None:
    """On the accepted corpus CIBs (no corosync.conf: the two_node rules stay quiet)."""
    if not CORPUS.is_dir():
        pytest.skip(f"the pacemaker scheduler corpus is absent ({CORPUS}); it lives in ../shared")
    counts: collections.Counter[str] = collections.Counter()
    checked = 0
    for path in sorted(CORPUS.glob("*.xml")):
        try:
            d = load_design(path)
        except ConfigError:
            continue
        checked += 1
        counts.update({f.rule for f in run_pcmk_checks(d)})
    assert checked >= 450
    assert "pcmk.two-node-quorum" not in counts  # needs corosync.conf
    # 453 checked: fencing-disabled 296, two-node-delay 72, filesystem-deep-monitor 57, no-quorum-ignore 39,
    # colocation-without-order 32, stop-beyond-fence 12, node-without-fence 4 (files with a finding)
    assert counts["pcmk.fencing-disabled"] >= 250


def test_a_quorum_device_replaces_two_node_and_the_race() -> None:
    """The seed with qdevice instead of two_node, and no fence delay: clean (no race: only the half
    with qnetd's vote fences)."""
    assert run_pcmk_checks(design(corosync=QDEVICE_COROSYNC)) == []
    assert run_pcmk_checks(design(_drop(".//nvpair[@name='pcmk_delay_base']"), corosync=QDEVICE_COROSYNC)) == []


@pytest.mark.parametrize(("old", "new", "says"), [
    ("votes: 1", "votes: 2", "needs votes: 1"),
    ("algorithm: ffsplit", "algorithm: ffsplit\n            tie_breaker: 7", "no node id"),
])
def test_the_qdevice_rule_names_each_mistake(old: str, new: str, says: str) -> None:
    found = run_pcmk_checks(design(corosync=QDEVICE_COROSYNC.replace(old, new)))
    assert [f.rule for f in found] == ["pcmk.qdevice"]
    assert says in found[0].reason
