"""Timing and vote values the cluster actually runs with, derived from what cluster.conf sets.

Pure functions of plain numbers, so the oracle and the checks compute the same thing and tests
can pin each formula. Each one names its source (FACTS.md section 1c; A = cluster 3.0.12,
B = STABLE32).
"""

from __future__ import annotations

from dataclasses import dataclass

from halab.clusterconf import defaults as d
from halab.clusterconf.defaults import Flavor


def consensus_ms(token_ms: int, node_count: int, flavor: Flavor = d.DEFAULT_FLAVOR) -> int:
    """cman's consensus when cluster.conf does not set one: it differs by cman build."""
    if flavor is Flavor.PRISTINE_3_0_12:
        return d.CONSENSUS_PRISTINE_FACTOR * token_ms  # A cman-preconfig.c:709-718
    if node_count == 2:  # B cman-preconfig.c:1081-1117 (rhbz#618534)
        scaled = int(token_ms * d.CONSENSUS_2NODE_FACTOR)
        return max(d.CONSENSUS_2NODE_MIN_MS, min(d.CONSENSUS_2NODE_MAX_MS, scaled))
    return token_ms + d.CONSENSUS_MANY_NODES_EXTRA_MS  # B cman-preconfig.c:1081-1117


def qdisk_tko_auto(token_ms: int, interval_s: int) -> int:
    """qdiskd's tko when unset: K = ((T/1000) - I) / 2, integer division (A main.c:1643-1654)."""
    return ((token_ms // 1000) - interval_s) // 2


def qdisk_tko_up(tko: int, configured: int | None = None) -> int:
    """tko_up = configured or K/3, never below 2 (A main.c:1661-1669)."""
    value = configured if configured is not None else tko // d.QDISK_TKO_UP_DIVISOR
    return max(d.QDISK_TKO_UP_MIN, value)


def qdisk_upgrade_wait(configured: int | None = None) -> int:
    """upgrade_wait = configured or 2, never below 1 (A main.c:1673-1680)."""
    value = configured if configured is not None else d.QDISK_UPGRADE_WAIT
    return max(d.QDISK_UPGRADE_WAIT_MIN, value)


def qdisk_master_wait(tko: int, tko_up: int, configured: int | None = None) -> int:
    """master_wait = configured or K/2, raised to tko_up + 1 if not larger (A main.c:1684-1691)."""
    value = configured if configured is not None else tko // d.QDISK_MASTER_WAIT_DIVISOR
    return value if value > tko_up else tko_up + 1


def qdisk_votes_auto(node_votes: list[int]) -> int | None:
    """qdiskd's votes when unset: nodes - 1 if every node has 1 vote, else unknown (A main.c:1406-1422)."""
    if node_votes and all(v == 1 for v in node_votes):
        return len(node_votes) - 1
    return None


def qdisk_master_wins_auto(node_count: int, heuristics: int, votes: int | None) -> bool:
    """master_wins is switched on by qdiskd for 2 nodes, no heuristics, votes 1 (A main.c:1826-1836)."""
    return node_count == 2 and heuristics == 0 and votes == 1


def quorum_threshold(expected_votes: int, two_node: bool) -> int:
    """Votes needed for quorum: expected/2 + 1, or 1 with two_node (cman quorum.c calculate_quorum)."""
    if two_node:
        return 1
    return expected_votes // 2 + 1


@dataclass(frozen=True)
class QdiskTiming:
    """The qdiskd parameters in force after qdiskd's own defaulting, in seconds / cycles."""

    interval_s: int
    tko: int
    tko_up: int
    upgrade_wait: int
    master_wait: int
    votes: int | None  # None: qdiskd cannot work it out (nodes with more than 1 vote)
    master_wins: bool
    master_wins_auto: bool  # True when qdiskd switched it on by itself
    reboot: bool
    allow_kill: bool
    io_timeout: bool
    heuristics: int
    tko_auto: bool  # True when tko came from the token (not set in cluster.conf)

    @property
    def timeout_s(self) -> int:
        """qdisk membership timeout I*K: a node is evicted after about (K+1)*I s of silence."""
        return self.interval_s * self.tko

    @property
    def eviction_s(self) -> int:
        """Detection of a silent peer: misses > K, so about (K+1)*I s (A main.c:276-318)."""
        return (self.tko + 1) * self.interval_s

    @property
    def startup_cycles(self) -> int:
        """master_wait + upgrade_wait + K: the cycles qdiskd compares against the token at start."""
        return self.master_wait + self.upgrade_wait + self.tko

    @property
    def min_token_ms(self) -> int:
        """Smallest token qdiskd starts with: I*(mw+uw+K)*1000 + I*1000 (A main.c:1699-1713, qdisk.5)."""
        return self.interval_s * self.startup_cycles * 1000 + self.interval_s * 1000

    @property
    def master_election_s(self) -> int:
        """Extra time when the master dies: about I*(master_wait + upgrade_wait) (A main.c:1041-1091)."""
        return self.interval_s * (self.master_wait + self.upgrade_wait)
