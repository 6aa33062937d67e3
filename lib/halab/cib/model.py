"""The pacemaker design as immutable types: what a CIB's configuration and a corosync.conf say.

Only what the reader understood is here; anything else was named as unsupported by the reader, so
a Design never silently lacks a part of the user's configuration. Scores are integers with
pacemaker's INFINITY = 1000000; durations are seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

INFINITY = 1_000_000
EMPTY: Mapping[str, str] = MappingProxyType({})

# Cluster option defaults of pacemaker 2.1.5 (lib/pengine/common.c, daemons/fenced): what a CIB
# means when it does not set them.
OPTION_DEFAULTS: Mapping[str, str] = MappingProxyType({
    "stonith-enabled": "true",
    "no-quorum-policy": "stop",
    "stonith-timeout": "60s",
    "priority-fencing-delay": "0",
    "symmetric-cluster": "true",
    "stonith-action": "reboot",
    "start-failure-is-fatal": "true",
})


def frozen(pairs: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(pairs))


@dataclass(frozen=True)
class Op:
    """One <op>: name, interval, timeout, on-fail, role and its own attributes (OCF_CHECK_LEVEL)."""

    id: str
    name: str
    interval_s: float
    timeout_s: float | None
    on_fail: str = ""
    role: str = ""
    attrs: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    line: int | None = None

    @property
    def locator(self) -> str:
        return f"op[{self.id}]"


@dataclass(frozen=True)
class Primitive:
    id: str
    cls: str
    provider: str
    type: str
    params: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    meta: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    ops: tuple[Op, ...] = ()
    utilization: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    line: int | None = None

    @property
    def agent(self) -> str:
        return ":".join(p for p in (self.cls, self.provider, self.type) if p)

    @property
    def is_fence(self) -> bool:
        return self.cls == "stonith"

    @property
    def locator(self) -> str:
        return f"primitive[{self.id}]"

    def ops_named(self, name: str) -> tuple[Op, ...]:
        return tuple(o for o in self.ops if o.name == name)

    def primitives(self) -> tuple[Primitive, ...]:
        return (self,)


@dataclass(frozen=True)
class Group:
    id: str
    members: tuple[Primitive, ...]
    meta: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    line: int | None = None

    @property
    def locator(self) -> str:
        return f"group[{self.id}]"

    def primitives(self) -> tuple[Primitive, ...]:
        return self.members


@dataclass(frozen=True)
class Clone:
    id: str
    child: Primitive | Group
    meta: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    promotable: bool = False
    line: int | None = None

    @property
    def locator(self) -> str:
        return f"clone[{self.id}]"

    def primitives(self) -> tuple[Primitive, ...]:
        return self.child.primitives()


Resource = Primitive | Group | Clone


@dataclass(frozen=True)
class Location:
    id: str
    rsc: str
    node: str
    score: int
    role: str = ""
    line: int | None = None

    @property
    def locator(self) -> str:
        return f"rsc_location[{self.id}]"


@dataclass(frozen=True)
class Colocation:
    id: str
    rsc: str
    with_rsc: str
    score: int
    rsc_role: str = ""
    with_rsc_role: str = ""
    line: int | None = None

    @property
    def locator(self) -> str:
        return f"rsc_colocation[{self.id}]"


@dataclass(frozen=True)
class Order:
    id: str
    first: str
    then: str
    kind: str = "Mandatory"
    first_action: str = "start"
    then_action: str = "start"
    symmetrical: bool = True
    line: int | None = None

    @property
    def locator(self) -> str:
        return f"rsc_order[{self.id}]"


@dataclass(frozen=True)
class FenceLevel:
    """One fencing-topology level: for a target (node name, pattern or attribute), its devices."""

    id: str
    index: int
    target: str
    devices: tuple[str, ...]
    target_kind: str = "node"  # node | pattern | attribute
    line: int | None = None

    @property
    def locator(self) -> str:
        return f"fencing-level[{self.id}]"


@dataclass(frozen=True)
class CibNode:
    id: str
    uname: str
    type: str = "member"
    attrs: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    line: int | None = None

    @property
    def locator(self) -> str:
        return f"node[{self.uname}]"


@dataclass(frozen=True)
class FenceDevice:
    """A stonith primitive seen as a fence device: whom it fences and how long it waits first."""

    primitive: Primitive

    @property
    def id(self) -> str:
        return self.primitive.id

    @property
    def host_list(self) -> tuple[str, ...]:
        raw = self.primitive.params.get("pcmk_host_list", "")
        return tuple(h for h in raw.replace(",", " ").split() if h)

    @property
    def host_map(self) -> Mapping[str, str]:
        """pcmk_host_map "node1:plug1;node2:plug2" (also , or space separated)."""
        raw = self.primitive.params.get("pcmk_host_map", "")
        pairs = [p.split(":", 1) for p in raw.replace(";", " ").replace(",", " ").split() if ":" in p]
        return frozen({k: v for k, v in pairs})

    @property
    def delay_base_s(self) -> float:
        from halab.cib.values import duration_s

        return duration_s(self.primitive.params.get("pcmk_delay_base", "0"), "pcmk_delay_base") or 0.0

    @property
    def delay_max_s(self) -> float:
        from halab.cib.values import duration_s

        return duration_s(self.primitive.params.get("pcmk_delay_max", "0"), "pcmk_delay_max") or 0.0

    def targets(self, nodes: tuple[str, ...]) -> tuple[str, ...]:
        """Nodes this device can fence: host list, host map, else (dynamic list) every node."""
        named = self.host_list + tuple(self.host_map)
        return tuple(n for n in nodes if n in named) if named else nodes


@dataclass(frozen=True)
class CibConfig:
    """The configuration section of a CIB, validated (ids unique, constraints name resources)."""

    nodes: tuple[CibNode, ...]
    resources: tuple[Resource, ...]
    locations: tuple[Location, ...] = ()
    colocations: tuple[Colocation, ...] = ()
    orders: tuple[Order, ...] = ()
    properties: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    rsc_defaults: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    op_defaults: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    fence_levels: tuple[FenceLevel, ...] = ()
    ignored: tuple[str, ...] = ()  # parts with no effect on failover, named (alerts, acls, tags)
    validate_with: str = ""

    def option(self, name: str) -> str:
        return self.properties.get(name, OPTION_DEFAULTS.get(name, ""))

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(n.uname for n in self.nodes if n.type in ("member", "normal", ""))

    def primitives(self) -> tuple[Primitive, ...]:
        return tuple(p for r in self.resources for p in r.primitives())

    def fence_devices(self) -> tuple[FenceDevice, ...]:
        return tuple(FenceDevice(p) for p in self.primitives() if p.is_fence)

    def resource(self, rid: str) -> Resource | Primitive | None:
        for r in self.resources:
            if r.id == rid:
                return r
            if isinstance(r, Clone) and r.child.id == rid:
                return r.child
            for p in r.primitives():
                if p.id == rid:
                    return p
        return None

    def top_of(self, rid: str) -> Resource | None:
        """The top-level resource (group, clone or primitive) that contains ``rid``."""
        for r in self.resources:
            if r.id == rid or (isinstance(r, Clone) and r.child.id == rid) or any(
                    p.id == rid for p in r.primitives()):
                return r
        return None


@dataclass(frozen=True)
class Link:
    """One knet link (interface) of the totem: its number and per-node addresses."""

    number: int
    options: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class CoroNode:
    name: str
    nodeid: int
    addrs: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))  # link number -> ring address


@dataclass(frozen=True)
class QuorumDevice:
    """corosync.conf quorum.device with the net model: corosync-qdevice on every node asks
    corosync-qnetd (an arbiter outside the cluster) for its vote (corosync-qdevice(8), 3.0)."""

    host: str  # net.host: where qnetd listens (the lab maps it onto its own qnetd)
    port: int = 5403
    algorithm: str = "ffsplit"  # ffsplit: the vote to one half of an even split; lms: to the last one standing
    tie_breaker: str = "lowest"  # lowest | highest | a node id: which partition wins an even split
    votes: int | None = None  # None: qdevice sets it, nodes - 1 (1 for ffsplit, which requires 1)
    tls: str = "on"
    timeout_ms: int = 10000  # how often qdevice polls votequorum; its heartbeat to qnetd follows it
    sync_timeout_ms: int = 30000  # how long votequorum waits for the qdevice's vote after a membership change

    def vote_count(self, nodes: int) -> int:
        return self.votes if self.votes is not None else max(nodes - 1, 1)

    def tie_winner(self, nodeids: Mapping[str, int]) -> str | None:
        """The node whose partition wins an even split (qnetd's tie_breaker), or None if no such node."""
        if not nodeids:
            return None
        if self.tie_breaker == "lowest":
            return min(nodeids, key=lambda n: nodeids[n])
        if self.tie_breaker == "highest":
            return max(nodeids, key=lambda n: nodeids[n])
        return next((n for n, i in nodeids.items() if str(i) == self.tie_breaker), None)


@dataclass(frozen=True)
class Corosync:
    """corosync.conf: totem, quorum, nodelist (and the qdevice, when the quorum names one)."""

    cluster_name: str
    transport: str
    token_ms: int | None  # None: corosync's default (3000 ms + coefficient)
    consensus_ms: int | None
    token_coefficient_ms: int | None
    links: tuple[Link, ...]
    nodes: tuple[CoroNode, ...]
    quorum_provider: str
    two_node: bool
    wait_for_all: bool | None
    expected_votes: int | None
    # quorum.device as flat keys: model, votes, net.host, net.algorithm ...
    qdevice: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    device: QuorumDevice | None = None  # the same, read and checked (net model)
    totem: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # every totem key

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes)
