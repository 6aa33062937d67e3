"""Defaults and derived timings, pinned to FACTS.md section 1c and its worked examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.clusterconf import Flavor, load_cluster_conf, parse_cluster_conf
from halab.clusterconf import derived as dv

SEED = Path(__file__).resolve().parents[2] / "labs" / "seed" / "cluster.conf"


def _conf(body: str = "", nodes: int = 2, votes: int = 1) -> str:
    members = "".join(f'<clusternode name="n{i}" nodeid="{i}" votes="{votes}"/>' for i in range(1, nodes + 1))
    return f'<cluster name="c" config_version="1"><clusternodes>{members}</clusternodes>{body}</cluster>'


@pytest.mark.parametrize(("token", "nodes", "flavor", "expected"), [
    (10000, 2, Flavor.RHEL6, 2000),  # clamp(0.2T, 200, 2000): worked example, 2 nodes
    (5000, 2, Flavor.RHEL6, 1000),
    (500, 2, Flavor.RHEL6, 200),
    (20000, 2, Flavor.RHEL6, 2000),
    (10000, 3, Flavor.RHEL6, 12000),  # T + 2000 for more than 2 nodes
    (21000, 3, Flavor.RHEL6, 23000),
    (10000, 2, Flavor.PRISTINE_3_0_12, 20000),  # 2T in pristine 3.0.12
    (10000, 5, Flavor.PRISTINE_3_0_12, 20000),
])
def test_consensus_default(token: int, nodes: int, flavor: Flavor, expected: int) -> None:
    assert dv.consensus_ms(token, nodes, flavor) == expected
    conf = parse_cluster_conf(_conf(f'<totem token="{token}"/>', nodes))
    assert conf.effective_consensus_ms(flavor) == expected
    assert conf.effective_consensus_ms(str(flavor)) == expected


def test_explicit_consensus_wins_over_flavor() -> None:
    conf = parse_cluster_conf(_conf('<totem token="10000" consensus="4800"/>'))
    assert conf.effective_consensus_ms(Flavor.RHEL6) == 4800
    assert conf.effective_consensus_ms(Flavor.PRISTINE_3_0_12) == 4800


def test_cman_defaults_without_totem_or_fence_daemon() -> None:
    conf = parse_cluster_conf(_conf("<cman/>"))
    assert conf.effective_token_ms == 10000
    assert conf.effective_join_ms == 60
    assert conf.effective_token_retransmits == 4  # not the 20 cman.5 claims
    assert (conf.post_fail_delay_s, conf.post_join_delay_s) == (0, 6)
    assert conf.quorum_dev_poll_ms == 10000
    assert conf.qdisk_effective() is None


def test_fence_daemon_and_quorum_dev_poll_from_config() -> None:
    conf = parse_cluster_conf(_conf('<cman quorum_dev_poll="21000"/><totem token="20000"/>'
                                    '<fence_daemon post_fail_delay="5" post_join_delay="20"/>'))
    assert (conf.post_fail_delay_s, conf.post_join_delay_s, conf.quorum_dev_poll_ms) == (5, 20, 21000)


def test_quorum_dev_poll_follows_token_under_cman_else_fallback() -> None:
    assert parse_cluster_conf(_conf('<cman/><totem token="20000"/>')).quorum_dev_poll_ms == 20000
    assert parse_cluster_conf(_conf('<totem token="20000"/>')).quorum_dev_poll_ms == 10000


def test_seed_qdisk_explicit_interval_1_tko_10() -> None:
    """FACTS: interval=1 tko=10 gives tko_up 3, master_wait 5, upgrade_wait 2; qdiskd wants >= 18000."""
    q = load_cluster_conf(SEED).qdisk_effective()
    assert q is not None
    assert (q.interval_s, q.tko, q.tko_up, q.master_wait, q.upgrade_wait) == (1, 10, 3, 5, 2)
    assert (q.votes, q.master_wins, q.master_wins_auto, q.tko_auto) == (1, True, False, False)
    assert (q.timeout_s, q.eviction_s, q.min_token_ms, q.master_election_s) == (10, 11, 18000, 7)
    assert (q.reboot, q.allow_kill, q.io_timeout) == (True, True, False)


def test_qdisk_tko_auto_from_token() -> None:
    """FACTS: T=10000, I=1 gives K=4; tko_up max(2, 4//3)=2; master_wait 4//2=2 raised to 3."""
    q = parse_cluster_conf(_conf("<quorumd/>")).qdisk_effective()
    assert q is not None
    assert (q.tko, q.tko_auto, q.tko_up, q.master_wait, q.upgrade_wait) == (4, True, 2, 3, 2)
    assert q.votes == 1
    assert q.master_wins
    assert q.master_wins_auto


@pytest.mark.parametrize(("token", "interval", "tko"),
                         [(10000, 1, 4), (20000, 1, 9), (21000, 2, 9), (33000, 2, 15)])
def test_qdisk_tko_auto_formula(token: int, interval: int, tko: int) -> None:
    assert dv.qdisk_tko_auto(token, interval) == tko


def test_qdisk_configured_waits_and_clamps() -> None:
    assert dv.qdisk_tko_up(10, 1) == 2
    assert dv.qdisk_upgrade_wait(0) == 1
    assert dv.qdisk_master_wait(10, 3, 2) == 4
    assert dv.qdisk_master_wait(10, 3, 8) == 8
    q = parse_cluster_conf(_conf('<quorumd interval="0" tko="1"/>')).qdisk_effective()
    assert q is not None
    assert (q.interval_s, q.tko) == (1, 3)


def test_qdisk_votes_auto_and_master_wins_rules() -> None:
    three = parse_cluster_conf(_conf("<quorumd/>", nodes=3)).qdisk_effective()
    assert three is not None
    assert three.votes == 2
    assert not three.master_wins
    heavy = parse_cluster_conf(_conf("<quorumd/>", votes=2)).qdisk_effective()
    assert heavy is not None
    assert heavy.votes is None
    heur = parse_cluster_conf(_conf('<quorumd master_wins="1"><heuristic program="ping -c1 gw"/></quorumd>'))
    q = heur.qdisk_effective()
    assert q is not None
    assert q.heuristics == 1
    assert not q.master_wins
    assert heur.quorumd is not None
    assert heur.quorumd.heuristics[0].program == "ping -c1 gw"


def test_votes_and_quorum() -> None:
    seed = load_cluster_conf(SEED)
    got = (seed.node_votes, seed.qdisk_votes, seed.effective_expected_votes, seed.quorum_votes)
    assert got == (2, 1, 3, 2)
    two = parse_cluster_conf(_conf('<cman two_node="1" expected_votes="1"/>'))
    assert two.two_node
    assert two.quorum_votes == 1
    five = parse_cluster_conf(_conf("", nodes=5))
    assert five.effective_expected_votes == 5
    assert five.quorum_votes == 3
