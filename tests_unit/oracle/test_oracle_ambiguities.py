"""One test per behaviour the stacks leave open: each must come out as alternatives with a reason."""

from __future__ import annotations

import pytest
from oracle_cases import bare, check_windows, seed, with_conf, with_pcmk, with_timing

from halab.oracle import predict


def reasons(p: object) -> str:
    return " ".join(getattr(p, "reasoning", ()))


def test_corosync1_ifdown_caveat_only_for_ifdown() -> None:
    down = predict(seed(), "heartbeat-down", "node02", stack="rgmanager", qdisk_master="node02")
    block = predict(seed(), "heartbeat-block", "node02", stack="rgmanager", qdisk_master="node02")
    assert any("loopback" in reasons(a) for a in down.alternatives)
    assert not any("loopback" in reasons(a) for a in block.alternatives)
    assert down.fenced == ("node01h",)  # the master (the cut node) wins a plain split
    check_windows(down)


def test_qdiskd_hung_io_change_of_may_2011() -> None:
    """3.0.12 evicts while I/O hangs (~10 s); after e2937eb3 only once I/O errors (replacement timeout)."""
    p = bare(seed(), "iscsi-block", "node02", "rgmanager", qdisk_master="node01")
    assert p.windows["detect"].earliest == pytest.approx(10.0)
    whine = [a for a in p.alternatives if "e2937eb3" in reasons(a)]
    assert len(whine) == 1
    assert whine[0].windows["detect"].earliest == pytest.approx(15 + 10.0)  # replacement 15 + K·I
    assert whine[0].fenced == p.fenced == ("node02h",)


def test_two_node_fence_race_rgmanager() -> None:
    p = predict(with_conf(seed(), "two-node.conf"), "heartbeat-down", "node01", stack="rgmanager")
    assert len({o.fenced for o in p.outcomes()}) == 3
    assert any("fence death" in reasons(o) for o in p.outcomes())


def test_two_node_fence_race_pacemaker_without_delay() -> None:
    p = predict(with_pcmk(seed(), fence_delay_s=0), "heartbeat-down", "node02")
    assert {o.fenced for o in p.outcomes()} == {("node01",), ("node02",)}
    assert "race" in reasons(p)


def test_pacemaker_storage_loss_relocation_or_fence() -> None:
    """Stop succeeds (measured, no fence) or fails/times out (on-fail=fence): both acceptable."""
    p = predict(seed(), "iscsi-block", "node01")
    assert p.fenced == ()
    assert p.services == {"service01": "node02"}
    (fence,) = p.alternatives
    assert fence.fenced == ("node01",)
    assert fence.fenced_by == "node02"
    assert fence.services == {"service01": "node02"}
    assert "on-fail=fence" in reasons(fence)


def test_pacemaker_storage_loss_long_replacement_timeout_prefers_fence() -> None:
    p = predict(with_timing(seed(), iscsi_replacement_timeout_s=120), "iscsi-block", "node01")
    assert p.fenced == ("node01",)
    assert p.alternatives[0].fenced == ()


def test_qdisk_master_unknown_gives_both_winners() -> None:
    p = predict(seed(), "heartbeat-block", "node01", stack="rgmanager")
    assert {o.fenced for o in p.outcomes()} == {("node01h",), ("node02h",)}
    assert any("qdisk master" in reasons(a) for a in p.alternatives)


def test_an_outcome_only_one_qdisk_master_leads_to_rests_on_that_master_at_t0() -> None:
    p = predict(seed(), "heartbeat-block", "node01", stack="rgmanager")
    premises = {o.fenced: o.premise for o in p.outcomes()}
    for fenced, master in ((("node02h",), "node01h"), (("node01h",), "node02h")):
        premise = premises[fenced]
        assert premise is not None
        assert (premise.event, premise.node, premise.at_t0) == ("qdisk-master", master, True)
    pinned = predict(seed(), "heartbeat-block", "node01", stack="rgmanager", qdisk_master="node01")
    assert all(o.premise is None for o in pinned.outcomes())  # the harness named the master itself


def test_an_outcome_every_master_leads_to_rests_on_none() -> None:
    from halab.oracle.model import Prediction
    from halab.oracle.rgmanager import _master_premised

    p = predict(seed(), "heartbeat-block", "node01", stack="rgmanager", qdisk_master="node01")
    same = _master_premised(p, "node01h", (p,))
    assert same.premise is None
    alone = _master_premised(p, "node01h", ())
    assert alone.premise is None  # one possible master: nothing to tell apart
    other: Prediction = predict(seed(), "heartbeat-block", "node01", stack="rgmanager", qdisk_master="node02")
    told = _master_premised(p, "node01h", other.outcomes())
    assert told.premise is not None
    assert told.premise.node == "node01h"


def test_app_failure_restart_or_move() -> None:
    for stack in ("pacemaker", "rgmanager"):
        p = predict(seed(), "app-failure", "node01", stack=stack)
        places = {o.services["service01"] for o in p.outcomes()}
        assert len(places) == 2, stack
    moved = predict(seed(), "app-failure", "node01").alternatives[0]
    assert moved.premise is not None  # the move is acceptable only after a logged failed start
    assert (moved.premise.event, moved.premise.node) == ("service-start-failed", "node01")


def test_rgmanager_storage_loss_without_qdisk_failed_or_relocated() -> None:
    p = predict(with_conf(seed(), "two-node.conf"), "iscsi-block", "node01", stack="rgmanager")
    assert {o.services["service01"] for o in p.outcomes()} == {"failed", "node02h"}


def test_mgmt_cut_declares_nobody_fenced_without_cause() -> None:
    """The standby's fence path and storage go: nothing depends on them while it is standby."""
    p = predict(seed(), "mgmt-cut", "node02")
    assert p.fenced == ()
    assert all(o.fenced == () for o in p.outcomes())
    assert p.services == {"service01": "node01"}


def test_two_node_tie_break_shorter_than_the_agent_is_named_as_the_designs_risk(tmp_path: object) -> None:
    """A delay of 8 s under fence_virsh's measured range decides the race only if the winner's agent
    ends in time: the oracle names the outage (both fenced) without accepting it (rgmanager and
    pacemaker alike; measured live on pacemaker: both runs ended 18 ms apart)."""
    from pathlib import Path

    from oracle_cases import DATA

    text = (DATA / "two-node.conf").read_text().replace('port="RHCSvm01"/>', 'port="RHCSvm01" delay="8"/>', 1)
    conf = Path(str(tmp_path)) / "two-node-delay.conf"
    conf.write_text(text)
    p = predict(with_conf(seed(), str(conf)), "heartbeat-down", "node01", stack="rgmanager")
    assert p.fenced == ("node02h",)
    assert all(len(o.fenced) == 1 for o in p.outcomes())  # the outage is never an accepted outcome
    assert "risk (not an accepted outcome)" in reasons(p)
