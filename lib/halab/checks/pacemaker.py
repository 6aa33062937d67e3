"""Design rules for a pacemaker cluster: its CIB (and corosync.conf when there is one).

Same shape as the cluster.conf rules: a rule has an id and a one-line summary, looks at one
design and yields issues; ``run_pcmk_checks`` stamps them into Findings. Rules that need
corosync.conf (two_node) stay quiet when the design has none, rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from halab.checks.base import At, Finding, Issue, Severity, error, warning
from halab.cib.design import Design
from halab.cib.model import INFINITY
from halab.cib.values import boolean, duration_s

PcmkCheck = Callable[[Design], Iterable[Issue]]
CIB = At("cib")


@dataclass(frozen=True)
class PcmkRule:
    id: str
    summary: str
    check: PcmkCheck

    @property
    def group(self) -> str:
        return self.id.split(".", 1)[0]

    def run(self, design: Design) -> list[Finding]:
        return [Finding(self.id, i.severity, i.where.locator, i.where.line, i.reason) for i in self.check(design)]


def _rule(rule_id: str, summary: str) -> Callable[[PcmkCheck], PcmkRule]:
    def wrap(fn: PcmkCheck) -> PcmkRule:
        return PcmkRule(rule_id, summary, fn)

    return wrap


def _fencing(d: Design) -> bool:
    return boolean(d.cib.option("stonith-enabled"), True)


@_rule("pcmk.fencing-disabled", "fencing is enabled (stonith-enabled is not false)")
def fencing_disabled(d: Design) -> Iterator[Issue]:
    if not _fencing(d):
        yield error(CIB, "stonith-enabled=false: a lost node is never fenced, so its resources are "
                         "either never recovered or recovered while the node may still run them (split brain)")


def unfenceable(d: Design) -> dict[str, str]:
    """Node -> why nothing can fence it, with fencing enabled (the oracle predicts "blocked" for
    them, check-config names them): no device's host list or map, no topology level, names it."""
    if not _fencing(d):
        return {}
    nodes = d.cib.node_names
    covered = {n for dev in d.fence_devices() for n in dev.targets(nodes)}
    covered |= {lv.target for lv in d.cib.fence_levels if lv.target_kind == "node"}
    return {n: f"no fence device names {n} (pcmk_host_list/map, topology)" for n in nodes if n not in covered}


@_rule("pcmk.node-without-fence", "every node has a fence device that can fence it")
def node_without_fence(d: Design) -> Iterator[Issue]:
    cannot = unfenceable(d)
    for node in d.cib.nodes:
        if node.uname in cannot:
            yield error(node, f"{cannot[node.uname]}: if it is lost, nobody can fence it and its resources "
                              "stay blocked")


@_rule("pcmk.two-node-quorum", "a two-node cluster has two_node (or a quorum device) in corosync.conf")
def two_node_quorum(d: Design) -> Iterator[Issue]:
    c = d.corosync
    if c is None or len(d.nodes) != 2 or c.two_node or c.qdevice:
        return
    yield error(At("corosync.conf quorum"), "two nodes without two_node: 1 or a qdevice: losing either node "
                                            "loses quorum, and the survivor stops everything")


@_rule("pcmk.two-node-delay", "a two-node cluster's fence race has a winner (a fence delay)")
def two_node_delay(d: Design) -> Iterator[Issue]:
    if len(d.nodes) != 2 or not _fencing(d) or not d.fence_devices() or (d.corosync and d.corosync.device):
        return  # with a quorum device only the half that gets qnetd's vote is quorate and fences
    delays = [d.fence_delay_s(n) for n in d.nodes]
    if any(base or top for base, top in delays) or d.option_s("priority-fencing-delay"):
        return
    yield error(CIB, "two nodes and no pcmk_delay_base/pcmk_delay_max or priority-fencing-delay: on a "
                     "split both fence at once and both may die")


QDEVICE = At("corosync.conf quorum.device")


@_rule("pcmk.qdevice", "a quorum device corosync and corosync-qdevice accept, used as its algorithm intends")
def qdevice(d: Design) -> Iterator[Issue]:
    c = d.corosync
    dev = c.device if c else None
    if c is None or dev is None:
        return
    if c.two_node:
        yield error(QDEVICE, "two_node: 1 with a quorum device: corosync will not start (\"configuration error: "
                             "two_node and quorum device cannot be configured at the same time\")")
    if dev.algorithm == "ffsplit" and dev.votes not in (None, 1):
        yield error(QDEVICE, f"ffsplit with votes: {dev.votes}: ffsplit gives one vote to one half of a split "
                             "and needs votes: 1 (corosync-qdevice(8))")
    if dev.algorithm == "ffsplit" and len(d.nodes) % 2:
        yield warning(QDEVICE, f"ffsplit on {len(d.nodes)} nodes: it decides even splits; an odd cluster's "
                               "majority needs no arbiter (lms keeps the last node standing)")
    if dev.tie_breaker.isdigit() and int(dev.tie_breaker) not in {n.nodeid for n in c.nodes}:
        yield error(QDEVICE, f"tie_breaker {dev.tie_breaker} is no node id of the nodelist")


@_rule("pcmk.colocation-without-order", "a mandatory colocation comes with an order between the same resources")
def colocation_without_order(d: Design) -> Iterator[Issue]:
    pairs = {frozenset((o.first, o.then)) for o in d.cib.orders}
    for c in d.cib.colocations:
        if c.score >= INFINITY and frozenset((c.rsc, c.with_rsc)) not in pairs:
            yield warning(c, f"{c.rsc} must run with {c.with_rsc} but no order says which starts first: "
                             f"{c.rsc} may start before {c.with_rsc} is up, and stop after it is gone")


@_rule("pcmk.filesystem-deep-monitor", "a Filesystem has a recurring monitor that sees lost storage "
                                       "(OCF_CHECK_LEVEL 20)")
def filesystem_deep_monitor(d: Design) -> Iterator[Issue]:
    for p in d.cib.primitives():
        if p.type != "Filesystem":
            continue
        deep = [o for o in p.ops_named("monitor") if o.interval_s > 0
                and int(o.attrs.get("OCF_CHECK_LEVEL", "0") or 0) >= 20]
        if not deep:
            yield error(p, "no recurring monitor with OCF_CHECK_LEVEL=20: the default monitor only "
                           "checks the mount table, so lost storage under a mounted file system goes unnoticed")


@_rule("pcmk.stop-beyond-fence", "no stop timeout is longer than stonith-timeout")
def stop_beyond_fence(d: Design) -> Iterator[Issue]:
    if not _fencing(d):
        return
    limit = d.option_s("stonith-timeout")
    default = duration_s(d.cib.op_defaults.get("timeout"), "op_defaults timeout")
    for p in d.cib.primitives():
        if p.is_fence:
            continue
        for op in p.ops_named("stop"):
            timeout = op.timeout_s if op.timeout_s is not None else default
            if timeout is not None and timeout > limit:
                yield warning(op, f"stop timeout {timeout:g} s > stonith-timeout {limit:g} s: a hung stop "
                                  f"of {p.id} holds recovery longer than the fence that ends it would")


@_rule("pcmk.no-quorum-ignore", "no-quorum-policy=ignore only where two_node makes it safe")
def no_quorum_ignore(d: Design) -> Iterator[Issue]:
    if d.cib.option("no-quorum-policy") != "ignore":
        return
    two_node = d.corosync.two_node if d.corosync else None
    if len(d.nodes) > 2 or two_node is False:
        yield error(CIB, f"no-quorum-policy=ignore on {len(d.nodes)} nodes without two_node: an inquorate "
                         "partition keeps running and recovering resources (split brain)")


RULES: tuple[PcmkRule, ...] = (fencing_disabled, node_without_fence, two_node_quorum, two_node_delay, qdevice,
                               colocation_without_order, filesystem_deep_monitor, stop_beyond_fence,
                               no_quorum_ignore)


def run_pcmk_checks(design: Design) -> list[Finding]:
    """Every rule's findings, errors first, then in rule and line order."""
    findings = [f for r in RULES for f in r.run(design)]
    order = {r.id: i for i, r in enumerate(RULES)}
    return sorted(findings, key=lambda f: (f.severity != Severity.ERROR, order[f.rule], f.line or 0))
