"""Vote rules: can the cluster count its votes, and can the last node standing stay quorate?

A design that loses quorum when one node fails does not fail over at all: the survivor blocks
activity, fences nothing and starts nothing. These rules catch that before a lab is built.
"""

from __future__ import annotations

from collections.abc import Iterator

from halab.checks.base import Context, Issue, Located, error, rule, warning
from halab.clusterconf import ClusterConf


def _cman_where(conf: ClusterConf) -> Located:
    return conf.cman if conf.cman is not None else conf


@rule("votes.expected", "expected_votes equals node votes + quorum-disk votes")
def expected(ctx: Context) -> Iterator[Issue]:
    conf = ctx.conf
    q = conf.qdisk_effective()
    if q is not None and q.votes is None and conf.quorumd is not None:
        yield error(conf.quorumd, "quorumd has no votes= and nodes have more than 1 vote: qdiskd cannot work "
                    "out its votes and will not start")
    if conf.two_node:
        return  # two_node wants expected_votes=1: votes.two-node says so
    total = conf.node_votes + conf.qdisk_votes
    configured = conf.cman.expected_votes if conf.cman else None
    parts = f"nodes give {conf.node_votes}" + (f" and the quorum disk {conf.qdisk_votes}" if q else "")
    if configured is not None and configured != total:
        yield error(_cman_where(conf), f"expected_votes {configured} but {parts} (total {total}): quorum is "
                    f"computed from {configured}, not from the votes that exist")
    elif configured is None and q is not None:
        yield warning(_cman_where(conf), f"expected_votes is not set; with a quorum disk set it to {total} "
                      f"({parts})")


@rule("votes.survivor", "a single surviving node (plus the quorum disk) keeps quorum")
def survivor(ctx: Context) -> Iterator[Issue]:
    conf = ctx.conf
    if conf.two_node or len(conf.nodes) < 2:
        return
    quorum, qdisk = conf.quorum_votes, conf.qdisk_votes
    for node in conf.nodes:
        have = node.effective_votes + qdisk
        if have >= quorum:
            continue
        votes = (f"{node.effective_votes} + quorum disk {qdisk} = {have} votes" if conf.quorumd is not None
                 else f"{have} vote(s)")
        reason = (f"alone, {node.name} has {votes} < quorum {quorum}: after the other nodes fail it blocks "
                  "instead of taking over")
        if conf.quorumd is not None or len(conf.nodes) == 2:
            yield error(node, reason)
        else:
            yield warning(node, reason + " (majority design; add a quorum disk for last man standing)")


@rule("votes.two-node", "two_node=1 only for exactly 2 one-vote nodes, expected_votes=1, no quorum disk")
def two_node(ctx: Context) -> Iterator[Issue]:
    conf = ctx.conf
    if not conf.two_node:
        return
    where = _cman_where(conf)
    if len(conf.nodes) != 2:
        yield error(where, f"two_node=1 with {len(conf.nodes)} nodes: cman allows it for exactly 2")
    expected_votes = conf.cman.expected_votes if conf.cman else None
    if expected_votes != 1:
        yield error(where, f"two_node=1 needs expected_votes=1 (got {expected_votes}): cman will not start")
    for node in conf.nodes:
        if node.effective_votes != 1:
            yield error(node, f"two_node=1 needs 1 vote per node, {node.name} has {node.effective_votes}")
    if conf.quorumd is not None:
        yield error(conf.quorumd, "two_node=1 with a quorum disk: the quorum disk is the tie-breaker, "
                    "two_node must be 0 and expected_votes count the disk")
    elif not _has_fence_delay(conf):
        yield warning(where, "two_node=1: on a heartbeat split both halves stay quorate and fence each "
                      "other; give one node's fence device a delay")


def _has_fence_delay(conf: ClusterConf) -> bool:
    for node in conf.nodes:
        for ref in node.device_refs():
            device = conf.fence_device(ref.name or "")
            attrs = {**dict(device.attrs), **dict(ref.options)} if device else dict(ref.options)
            if attrs.get("delay", "0").strip() not in ("", "0"):
                return True
    return False


RULES = (expected, survivor, two_node)
