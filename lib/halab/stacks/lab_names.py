"""The one place a cluster's node names become the lab's node names.

Why: cluster.conf names its nodes by their heartbeat host names (the seed: node01h, node02h), so
cman, clustat and fenced print those, while the lab, the oracle's targets and the faults speak of
node01 and node02. Comparing one with the other fails every verdict. Readers stay faithful to
what a stack prints (they are checked against real outputs); a live lab reads through
``lab_adapter(spec)``, which renames every node in what the readers return by the spec's own
mapping (``LabSpec.node``: name, domain or any host name). A name the spec does not know is kept
as printed, so an unexpected node stays visible instead of vanishing.
"""

from __future__ import annotations

import re
from dataclasses import replace

from halab.errors import HalabError
from halab.oracle.model import Prediction, Premise, ServicePlace
from halab.spec import LabSpec
from halab.stacks.base import Commands, StackAdapter, get_adapter
from halab.stacks.types import ClusterStatus, Event, FenceAction, Member, Votes


def name_map(spec: LabSpec) -> dict[str, str]:
    """Every name a node goes by (spec name, domain, host names) -> its lab name."""
    out: dict[str, str] = {}
    for node in spec.nodes:
        for alias in (node.name, node.domain, *node.hostnames()):
            if alias:
                out[alias] = node.name
    return out


def node_ids(spec: LabSpec) -> dict[str, str]:
    """cluster.conf node id (as printed: "1") -> lab name. Why: qdiskd names nodes by id ("Node 1
    is the master", "Node 2 evicted"), and who held the qdisk master role at t0 decides which
    outcome a heartbeat split may take (the oracle's premise)."""
    if spec.stack != "rgmanager":
        return {}
    from halab.clusterconf.reader import load_cluster_conf

    names = name_map(spec)
    try:
        nodes = load_cluster_conf(spec.cluster_conf_path()).nodes
    except HalabError:  # no cluster.conf: nothing to map (check-config reports it)
        return {}
    return {str(n.nodeid): names[n.name] for n in nodes if n.nodeid is not None and n.name in names}


class LabNamedAdapter:
    """A stack adapter whose readers answer in lab node names."""

    def __init__(self, inner: StackAdapter, names: dict[str, str], ids: dict[str, str] | None = None) -> None:
        self.inner = inner
        self.names = names
        self.ids = ids or {}
        self.name: str = inner.name
        self.commands: Commands = inner.commands

    def lab_name(self, name: str | None) -> str | None:
        if name is None:
            return None
        return self.names.get(name, self.names.get(name.split(".", 1)[0], name))

    def _member(self, m: Member) -> Member:
        return replace(m, name=self.lab_name(m.name) or m.name)

    def read_status(self, text: str) -> ClusterStatus:
        st = self.inner.read_status(text)
        return replace(
            st, members=tuple(self._member(m) for m in st.members),
            services=tuple(replace(s, owner=self.lab_name(s.owner), last_owner=self.lab_name(s.last_owner))
                           for s in st.services),
            local_node=self.lab_name(st.local_node), dc=self.lab_name(st.dc),
            fence_history=tuple(self._fence(f) for f in st.fence_history))

    def read_votes(self, text: str) -> Votes:
        v = self.inner.read_votes(text)
        return replace(v, local_node=self.lab_name(v.local_node), members=tuple(self._member(m) for m in v.members))

    def read_events(self, text: str, reporter: str | None = None, year: int | None = None) -> list[Event]:
        """Events in lab names; a node given by its id (qdiskd's lines) by the name the id has."""
        return [replace(e, reporter=self.lab_name(e.reporter), actor=self.lab_name(e.actor),
                        node=self.ids.get(e.node) if e.node in self.ids else self.lab_name(e.node))
                for e in self.inner.read_events(text, reporter, year)]

    def read_fence_history(self, text: str) -> tuple[FenceAction, ...]:
        return tuple(self._fence(f) for f in self.inner.read_fence_history(text))

    def _fence(self, f: FenceAction) -> FenceAction:
        return replace(f, target=self.lab_name(f.target) or f.target, delegate=self.lab_name(f.delegate),
                       origin=self.lab_name(f.origin))


def lab_adapter(spec: LabSpec) -> LabNamedAdapter:
    """The spec's stack adapter, answering in the spec's node names."""
    return LabNamedAdapter(get_adapter(spec.stack), name_map(spec), node_ids(spec))


def prediction_in_lab_names(pred: Prediction, spec: LabSpec) -> Prediction:
    """The oracle answers in cluster.conf names (node02h); the judge compares with what the lab
    observed, which ``lab_adapter`` gives in lab names (node02): rename the prediction the same way.
    FAILED and other non-node service places are kept as they are."""
    names = name_map(spec)

    def one(n: str | None) -> str | None:
        return None if n is None else names.get(n, n)

    def place(p: ServicePlace) -> ServicePlace:
        return tuple(names.get(n, n) for n in p) if isinstance(p, tuple) else names.get(p, p)

    return replace(
        pred, target=names.get(pred.target, pred.target), fenced=tuple(names.get(n, n) for n in pred.fenced),
        fenced_by=one(pred.fenced_by), self_reboot=tuple(names.get(n, n) for n in pred.self_reboot),
        services={k: place(v) for k, v in pred.services.items()},
        members_after=tuple(names.get(n, n) for n in pred.members_after),
        premise=_premise(pred.premise, names),
        alternatives=tuple(prediction_in_lab_names(a, spec) for a in pred.alternatives))


def _premise(premise: Premise | None, names: dict[str, str]) -> Premise | None:
    """The premise's node, and the node as its words name it, in lab names."""
    if premise is None:
        return None
    node = names.get(premise.node, premise.node)
    # whole names only: node1 must not rename the front of node10
    says = re.sub(rf"(?<![\w.-]){re.escape(premise.node)}(?![\w-])", node, premise.says)
    return replace(premise, node=node, says=says)


def cluster_node_name(spec: LabSpec, lab_name: str) -> str:
    """The other way, for commands that take a node (clusvcadm -m): the name the cluster knows."""
    if spec.stack != "rgmanager":
        return lab_name
    from halab.clusterconf.reader import load_cluster_conf

    names = name_map(spec)
    for node in load_cluster_conf(spec.cluster_conf_path()).nodes:
        if node.name and names.get(node.name) == lab_name:
            return node.name
    return lab_name
