"""The rgmanager model against the seed's cluster.conf and its variants (tests_unit/data/oracle/)."""

from __future__ import annotations

import pytest
from oracle_cases import bare, check_windows, rg_bare, seed, seed_design, span, three, with_conf

from halab.errors import NotApplicable
from halab.oracle import FAILED, predict

# one token hold (s) for the seed's T = 20 s plus the measured ring pass (timing profile ring_pass_s,
# 0.7 s by default): the token may be lost that early
HOLD = 0.8 * 20.0 / 4.2 + 0.7

# fault, target, fenced, fenced_by, service01 after, phases (primary outcome; qdisk master node01h)
SEED_TABLE = [
    (
        "heartbeat-down",
        "node01",
        ("node02h",),
        "node01h",
        "node01h",
        ("detect", "fence-requested", "fence-done", "node-rejoined"),
    ),
    (
        "heartbeat-down",
        "node02",
        ("node02h",),
        "node01h",
        "node01h",
        ("detect", "fence-requested", "fence-done", "node-rejoined"),
    ),
    (
        "heartbeat-block",
        "node02h",
        ("node02h",),
        "node01h",
        "node01h",
        ("detect", "fence-requested", "fence-done", "node-rejoined"),
    ),
    (
        "suspend",
        "node01",
        ("node01h",),
        "node02h",
        "node02h",
        ("detect", "fence-requested", "fence-done", "service-started", "node-rejoined", "fail-back"),
    ),
    (
        "suspend",
        "node02",
        ("node02h",),
        "node01h",
        "node01h",
        ("detect", "fence-requested", "fence-done", "node-rejoined"),
    ),
    (
        "power-off",
        "RHCSvm01",
        ("node01h",),
        "node02h",
        "node02h",
        ("detect", "fence-requested", "fence-done", "service-started", "node-rejoined", "fail-back"),
    ),
    (
        "kill-daemon",
        "node02",
        ("node02h",),
        "node01h",
        "node01h",
        ("detect", "fence-requested", "fence-done", "node-rejoined"),
    ),
    (
        "iscsi-block",
        "node01",
        ("node01h",),
        "node02h",
        "node02h",
        ("detect", "fence-requested", "fence-done", "service-started", "node-rejoined", "fail-back"),
    ),
    (
        "iscsi-block",
        "node02",
        ("node02h",),
        "node01h",
        "node01h",
        ("detect", "fence-requested", "fence-done", "node-rejoined"),
    ),
    (
        "mgmt-cut",
        "node02",
        ("node02h",),
        "node01h",
        "node01h",
        ("detect", "fence-requested", "fence-done", "node-rejoined"),
    ),
    ("service-nic-down", "node01", (), None, "node02h", ("detect", "service-started")),
    ("service-nic-down", "node02", (), None, "node01h", ()),
    ("app-failure", "node01", (), None, "node01h", ("detect", "service-started")),
]


@pytest.mark.parametrize(
    ("fault", "target", "fenced", "by", "place", "phases"),
    SEED_TABLE,
    ids=[f"{r[0]}[{r[1]}]" for r in SEED_TABLE],
)
def test_seed_outcomes(
    fault: str, target: str, fenced: tuple[str, ...], by: str | None, place: str, phases: tuple[str, ...]
) -> None:
    p = predict(seed(), fault, target, stack="rgmanager", qdisk_master="node01")
    assert p.stack == "rgmanager"
    assert p.fenced == fenced
    assert p.fenced_by == by
    assert p.services == {"service01": place}
    assert tuple(p.windows) == phases
    assert p.quorate
    check_windows(p)


def test_names_are_cluster_conf_names() -> None:
    p = predict(seed(), "suspend", "RHCSvm02", stack="rgmanager")
    assert p.target == "node02h"
    assert p.to_json()["fenced"] == ["node02h"]


# --- the seed's own stated numbers -------------------------------------------------------------------


def test_seed_qdisk_detection_within_interval_times_tko() -> None:
    """interval 1 × tko 10 = 10 s: a silent non-master is evicted from 10 s on, not later than (K+2)·I."""
    p = bare(seed(), "suspend", "node02", "rgmanager", qdisk_master="node01")
    assert span(p, "detect") == (10.0, 12.0)
    assert p.windows["detect"].latest < 20.0  # faster than the heartbeat, as the seed intends


def test_seed_heartbeat_detection_after_the_token() -> None:
    """token 20 s: nothing is declared before T − token hold; RHEL 6 two-node consensus 2 s -> membership 22 s."""
    p = bare(seed(), "heartbeat-down", "node02", "rgmanager", qdisk_master="node01")
    assert span(p, "detect") == (15.49, 22.2)  # T − token hold (0.8·T/4.2) − ring pass 0.7 s
    assert p.windows["fence-requested"].earliest == pytest.approx(22.05 - HOLD)
    real = predict(seed(), "heartbeat-down", "node02", stack="rgmanager")
    assert real.windows["fence-requested"].earliest >= 20.0 - HOLD - 0.5


def test_master_suspended_waits_for_a_new_master() -> None:
    p = bare(seed(), "suspend", "node01", "rgmanager", qdisk_master="node01")
    assert span(p, "detect") == (10.0, 19.0)  # + I·(master_wait 5 + upgrade_wait 2)
    assert p.windows["fence-requested"].earliest == pytest.approx(22.05 - HOLD)


# --- variants ------------------------------------------------------------------------------------------


def test_token_30s() -> None:
    p = bare(
        with_conf(seed(), "token30.conf"), "heartbeat-down", "node02", "rgmanager", qdisk_master="node01"
    )
    assert span(p, "detect") == (23.586, 32.2)  # consensus clamp(0.2·T, 200, 2000) = 2 s


def test_pristine_consensus_is_twice_the_token() -> None:
    p = rg_bare(seed_design("3.0.12"), "heartbeat-down", "node02h", qdisk_master="node01h")
    assert span(p, "detect") == (15.49, 60.2)


def test_tko_auto_from_token() -> None:
    p = bare(with_conf(seed(), "tko-auto.conf"), "suspend", "node02", "rgmanager", qdisk_master="node01")
    assert span(p, "detect") == (9.0, 11.0)  # K = (20 - 1) // 2 = 9


def test_post_fail_delay() -> None:
    p = bare(
        with_conf(seed(), "post-fail-delay.conf"), "suspend", "node02", "rgmanager", qdisk_master="node01"
    )
    assert p.windows["fence-requested"].earliest == pytest.approx(22.05 - HOLD + 10)


def test_heuristic_instead_of_master_wins_races_on_heartbeat() -> None:
    p = predict(with_conf(seed(), "heuristic.conf"), "heartbeat-block", "node02", stack="rgmanager")
    outcomes = {o.fenced for o in p.outcomes()}
    assert outcomes == {("node01h",), ("node02h",), ("node01h", "node02h")}


def test_heuristic_on_service_network_reboots_the_cut_node() -> None:
    p = bare(with_conf(seed(), "heuristic.conf"), "service-nic-down", "node01", "rgmanager")
    assert p.self_reboot == ("node01h",)
    assert p.fenced == ("node01h",)
    assert p.services == {"service01": "node02h"}
    assert p.windows["detect"].earliest == pytest.approx(
        4.0
    )  # heuristic tko 3 × interval 2, first fail at 0..2


def test_master_wins_has_no_race() -> None:
    p = predict(seed(), "heartbeat-block", "node02", stack="rgmanager", qdisk_master="node01")
    assert p.alternatives == ()


def test_two_node_without_qdisk_races() -> None:
    p = predict(with_conf(seed(), "two-node.conf"), "heartbeat-block", "node02", stack="rgmanager")
    assert {o.fenced for o in p.outcomes()} == {("node01h",), ("node02h",), ("node01h", "node02h")}


def test_two_node_fence_delay_decides() -> None:
    for target in ("node01", "node02"):
        p = predict(with_conf(seed(), "two-node-delay.conf"), "heartbeat-block", target, stack="rgmanager")
        assert p.fenced == ("node02h",)
        assert p.alternatives == ()


def test_three_nodes_isolated_node_loses_quorum() -> None:
    p = bare(three(), "heartbeat-down", "node01", "rgmanager")
    assert p.fenced == ("node01h",)
    assert p.fenced_by == "node02h"
    assert p.services == {"service01": "node02h"}
    assert span(p, "detect") == (15.49, 42.2)  # consensus T + 2000 for more than 2 nodes
    assert any("Quorum Dissolved" in r for r in p.reasoning)


def test_ordered_domain_fails_back_unordered_does_not() -> None:
    ordered = predict(seed(), "suspend", "node01", stack="rgmanager")
    unordered = predict(with_conf(seed(), "unordered.conf"), "suspend", "node01", stack="rgmanager")
    assert "fail-back" in ordered.windows
    assert "fail-back" not in unordered.windows
    assert unordered.services == {"service01": "node02h"}


def test_nofailback() -> None:
    p = predict(with_conf(seed(), "nofailback.conf"), "suspend", "node01", stack="rgmanager")
    assert "fail-back" not in p.windows


def test_ordered_fail_back_when_the_preferred_standby_returns() -> None:
    p = predict(
        seed(), "suspend", "node01", owners={"service01": "node02"}, stack="rgmanager", qdisk_master="node01"
    )
    assert p.services == {"service01": "node02h"}
    assert "service-started" not in p.windows
    assert "fail-back" in p.windows


def test_self_fence_on_storage_loss() -> None:
    p = predict(with_conf(seed(), "self-fence.conf"), "iscsi-block", "node01", stack="rgmanager")
    assert p.self_reboot == ("node01h",)
    assert p.fenced == ("node01h",)


def test_storage_loss_without_qdisk_fails_the_service() -> None:
    p = predict(with_conf(seed(), "two-node.conf"), "iscsi-block", "node01", stack="rgmanager")
    assert p.services == {"service01": FAILED}
    assert p.fenced == ()
    assert p.alternatives[0].services == {"service01": "node02h"}


def test_recovery_relocate_moves_on_app_failure() -> None:
    p = predict(with_conf(seed(), "recovery-relocate.conf"), "app-failure", "node01", stack="rgmanager")
    assert p.services == {"service01": "node02h"}


def test_kill_rgmanager_reboots_through_its_watchdog() -> None:
    p = predict(seed(), "kill-daemon", "node02", stack="rgmanager", daemon="rgmanager")
    assert p.self_reboot == ("node02h",)
    assert p.fenced == ("node02h",)


def test_kill_qdiskd_gets_the_node_evicted() -> None:
    p = bare(seed(), "kill-daemon", "node02", "rgmanager", daemon="qdiskd", qdisk_master="node01")
    assert span(p, "detect") == (10.0, 12.0)
    assert p.fenced == ("node02h",)
    assert p.windows["fence-requested"].earliest == pytest.approx(10 + 22.05 - HOLD)


def test_not_applicable() -> None:
    with pytest.raises(NotApplicable):
        predict(seed(), "app-failure", "node02", stack="rgmanager")
    with pytest.raises(NotApplicable):
        predict(
            with_conf(seed(), "two-node.conf"), "kill-daemon", "node01", stack="rgmanager", daemon="qdiskd"
        )
    with pytest.raises(NotApplicable):
        predict(seed(), "kill-daemon", "node01", stack="rgmanager", daemon="sshd")


def test_ifdown_on_the_standby_offers_the_phantom_quorum_branch() -> None:
    """Measured live (tests_unit/data/live/rgmanager/ifdown-standby-*): corosync 1.x rebinds the
    ifdown'd standby to 127.0.0.1, its cman keeps a phantom peer and it fences the qdisk master."""
    p = predict(seed(), "heartbeat-down", "node02", stack="rgmanager", qdisk_master="node01")
    assert p.fenced == ("node02h",)  # master_wins, the design's intent, stays the main prediction
    phantom = [o for o in p.alternatives if any("phantom member" in r for r in o.reasoning)]
    assert len(phantom) == 1
    alt = phantom[0]
    assert (alt.fenced, alt.fenced_by, alt.services) == (("node01h",), "node02h", {"service01": "node02h"})
    assert "fail-back" not in alt.windows  # measured live: the relocation hung; the restore restarts cold
    # the service waits for the qdisk eviction of the phantom peer: at least (K)·I after the fence
    assert alt.windows["service-started"].earliest >= alt.windows["fence-done"].earliest + 10.0
    check_windows(alt)


def test_ifdown_on_the_master_has_no_phantom_branch() -> None:
    """The ifdown'd master is quorate anyway (master_wins): it fences the standby, no race to add."""
    p = predict(seed(), "heartbeat-down", "node01", stack="rgmanager", qdisk_master="node01")
    assert not [o for o in p.outcomes() if any("phantom member" in r for r in o.reasoning)]


def test_heartbeat_block_is_not_an_ifdown_and_has_no_phantom_branch() -> None:
    p = predict(seed(), "heartbeat-block", "node02", stack="rgmanager", qdisk_master="node01")
    assert not [o for o in p.outcomes() if any("phantom member" in r for r in o.reasoning)]
