"""Placement and fencing from crm_simulate: the node-loss injection + the transition reading agree
with crm_simulate's own --node-fail on every corpus input the reader accepts."""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cib_cases import cib, corpus, nv

from halab.cib import load_cib
from halab.cib import simulate as sim
from halab.errors import ConfigError

pytestmark = pytest.mark.skipif(not sim.available(), reason="crm_simulate absent: apt-get install "
                                "pacemaker-cli-utils (scripts/debian-packages.txt)")

FENCE = ("<primitive id='f-{n}' class='stonith' type='fence_virsh'><instance_attributes id='f-{n}-i'>"
         "<nvpair id='f-{n}-h' name='pcmk_host_list' value='{n}'/></instance_attributes></primitive>")
SVC = "<primitive id='svc' class='ocf' provider='heartbeat' type='Dummy'/>"


def state(n: str, nid: str, rsc: str = "") -> str:
    lrm = (f"<lrm id='{nid}'><lrm_resources><lrm_resource id='{rsc}' class='ocf' provider='heartbeat' "
           f"type='Dummy'><lrm_rsc_op id='{rsc}_last_0' operation_key='{rsc}_start_0' operation='start' "
           "crm-debug-origin='x' crm_feature_set='3.16.2' transition-key='1:1:0:x' transition-magic='0:0;1:1:0:x' "
           f"call-id='3' rc-code='0' op-status='0' interval='0' on_node='{n}'/></lrm_resource></lrm_resources>"
           "</lrm>") if rsc else ""
    return (f"<node_state id='{nid}' uname='{n}' in_ccm='true' crmd='online' join='member' "
            f"expected='member'>{lrm}</node_state>")


def two_node_cib() -> bytes:
    text = cib(FENCE.format(n="n1") + FENCE.format(n="n2") + SVC,
               "<rsc_location id='l' rsc='svc' node='n1' score='100'/>", nv("stonith-enabled", "true"),
               status=state("n1", "1", "svc") + state("n2", "2"))
    return text.replace("<cib ", "<cib have-quorum='1' ").encode()


def test_a_lost_node_is_fenced_and_its_service_moves() -> None:
    t = sim.after_node_loss(two_node_cib(), "n1")
    assert t.fenced == ("n1",)
    assert t.where("svc") == ("n2",)


def test_without_quorum_nothing_moves() -> None:
    t = sim.after_node_loss(two_node_cib(), "n1", quorate=False)
    assert "n2" not in t.where("svc")  # no-quorum-policy=stop: the survivor starts nothing
    assert t.fenced == ()  # and fences nobody


def test_a_node_without_state_is_one_line() -> None:
    with pytest.raises(ConfigError, match="no state"):
        sim.lose_node(two_node_cib(), "n9")


def _agree(path: Path) -> str:
    try:
        load_cib(path)
    except ConfigError:
        return "not accepted"
    raw = path.read_bytes()
    online = sim.online_nodes(raw, str(path))
    if not online:
        return "no node online"
    mine = sim.after_node_loss(raw, online[0], where=str(path))
    ref = sim.simulate(raw, extra=(f"--node-fail={online[0]}",), where=str(path))
    if mine.fenced != ref.fenced:
        return f"fence differs: {path.name}"
    return "agree" if dict(mine.placement) == dict(ref.placement) else f"placement differs: {path.name}"


@pytest.mark.slow
def test_node_loss_agrees_with_crm_simulate_on_the_corpus() -> None:
    """Every accepted input: the first online node lost (our status edit) vs --node-fail (pacemaker's)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = collections.Counter(pool.map(_agree, corpus()))
    assert set(counts) <= {"agree", "not accepted", "no node online"}, counts
    assert counts["agree"] >= 440, counts  # 445 agree, 8 with no node online, 346 not accepted


SEED_CIB = Path(__file__).resolve().parents[2] / "labs" / "seed" / "cib.xml"


def test_expect_on_the_seed_cib_fences_the_lost_node_and_moves_the_group(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The seed's CIB has no status: halab settles it with the scheduler first, then loses node01."""
    from halab.cli import main

    assert main(["expect", "--cib", str(SEED_CIB), "--fault", "suspend", "--target", "node01", "--json"]) == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    assert doc["fenced"] == ["node01"]
    assert doc["placement"]["service01-fs"] == ["node02:Started"]
    assert "fence_node02" not in doc["placement"]  # its only allowed node was lost


def test_expect_on_a_cib_refuses_what_is_not_a_node_loss(capsys: pytest.CaptureFixture[str]) -> None:
    from halab.cli import main

    assert main(["expect", "--cib", str(SEED_CIB), "--fault", "iscsi-block", "--target", "node01"]) == 3
    assert "not a node loss" in capsys.readouterr().err


def test_quorum_after_a_loss() -> None:
    assert sim.quorate_after_loss(2, 1, two_node=True)
    assert not sim.quorate_after_loss(2, 1, two_node=False)
    assert sim.quorate_after_loss(3, 1, two_node=False)
    assert not sim.quorate_after_loss(3, 2, two_node=False)
