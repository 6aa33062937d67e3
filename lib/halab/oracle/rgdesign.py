"""The rgmanager model's input: a small, plain description of a cman/qdiskd/rgmanager design.

The model computes from this, never from XML: tests can build variants directly, and
``from_cluster_conf`` adapts the cluster.conf model (halab.clusterconf, the one parser) plus the
lab spec (networks, timing profile) into it. Node names are the cluster's (cluster.conf names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from halab.clusterconf import ClusterConf, Flavor
from halab.clusterconf import Service as ConfService
from halab.errors import ConfigError, SpecError
from halab.oracle.topology import FENCE, RING, SERVICE, STORAGE, network_of_address
from halab.spec import LabSpec, TimingProfile

HUNG_IO_MODES = ("evict", "whine")  # qdiskd 3.0.12 evicts on hung I/O; after commit e2937eb3 it whines


@dataclass(frozen=True)
class Heuristic:
    program: str
    score: int
    interval_s: float
    tko: int
    network: str | None  # the lab network the program's address is on (None: unknown/local)


@dataclass(frozen=True)
class Qdisk:
    interval_s: int
    tko: int
    master_wait: int
    upgrade_wait: int
    votes: int
    master_wins: bool
    reboot: bool
    allow_kill: bool
    heuristics: tuple[Heuristic, ...] = ()
    min_score: int = 0

    def required_score(self) -> int:
        """min_score, or max/2 + 1 when 0 (A cman/qdisk/main.c:982-984)."""
        total = sum(h.score for h in self.heuristics)
        return self.min_score or total // 2 + 1


@dataclass(frozen=True)
class RgService:
    name: str
    candidates: tuple[str, ...]  # domain members by priority (ordered) or config order
    ordered: bool = True
    restricted: bool = True
    nofailback: bool = False
    autostart: bool = True
    recovery: str = "restart"  # restart | relocate | disable
    resources: tuple[str, ...] = ("ip", "fs", "script")  # start order (stop is the reverse)
    self_fence: bool = False
    monitor_link: bool = True
    ip_network: str | None = None


@dataclass(frozen=True)
class RgDesign:
    nodes: tuple[str, ...]  # cluster names, nodeid order
    votes: Mapping[str, int]
    networks: Mapping[str, str]  # function -> network name (ring, storage, fence)
    token_ms: int
    consensus_ms: int
    quorum_dev_poll_ms: int
    quorum_votes: int
    two_node: bool
    post_fail_delay_s: float
    timing: TimingProfile
    qdisk: Qdisk | None = None
    services: tuple[RgService, ...] = ()
    fence_delay: Mapping[str, float] = field(default_factory=dict)  # victim -> fence_virsh delay=
    qdisk_on_storage: bool = True  # the quorum LUN is on the iSCSI target (seed)
    flavor: str = Flavor.RHEL6.value

    def delay(self, victim: str) -> float:
        return float(self.fence_delay.get(victim, 0.0))

    def service(self, name: str) -> RgService:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise SpecError(
            f"no service {name!r} in cluster.conf (known: {', '.join(s.name for s in self.services)})"
        )

    def uses(self) -> dict[str, str]:
        """function -> network, the service IP's network included (for network faults)."""
        out = dict(self.networks)
        nets = [s.ip_network for s in self.services if s.ip_network]
        if nets:
            out[SERVICE] = nets[0]
        return out

    def with_(self, **changes: Any) -> RgDesign:
        return replace(self, **changes)


# --- adapter from the cluster.conf model -----------------------------------------------------------


def from_spec(spec: LabSpec, flavor: str = Flavor.RHEL6.value) -> RgDesign:
    """The design of the lab's cluster.conf, with the lab's networks and timing profile."""
    from halab.clusterconf.profile import lab_conf  # cluster.conf under the lab's timing profile

    return from_cluster_conf(lab_conf(spec), spec, flavor)


def from_cluster_conf(conf: ClusterConf, spec: LabSpec, flavor: str = Flavor.RHEL6.value) -> RgDesign:
    nodes = tuple(n.name for n in sorted(conf.nodes, key=lambda n: n.nodeid or 0) if n.name)
    if len(nodes) < 2:
        raise ConfigError("cluster.conf needs at least 2 named clusternodes", str(conf.path or ""))
    return RgDesign(
        nodes=nodes,
        votes={n.name: n.effective_votes for n in conf.nodes if n.name},
        networks=_networks(conf, spec, nodes),
        token_ms=conf.effective_token_ms,
        consensus_ms=conf.effective_consensus_ms(flavor),
        quorum_dev_poll_ms=conf.quorum_dev_poll_ms,
        quorum_votes=conf.quorum_votes,
        two_node=conf.two_node,
        post_fail_delay_s=float(conf.post_fail_delay_s),
        timing=spec.timing,
        qdisk=_qdisk(conf, spec),
        services=tuple(_service(conf, s, spec, nodes) for s in conf.services),
        fence_delay=_fence_delays(conf),
        flavor=str(flavor),
    )


def _networks(conf: ClusterConf, spec: LabSpec, nodes: tuple[str, ...]) -> dict[str, str]:
    """Ring: the network whose host name is the clusternode name; fence: the device's address."""
    out = {STORAGE: spec.network(spec.storage.network).name}
    ring = network_of_address(spec, nodes[0])
    if ring is None:
        raise SpecError(f"cluster node {nodes[0]!r} is no host name of the lab", str(spec.path))
    out[RING] = ring
    for dev in conf.fence_devices:
        net = network_of_address(spec, dev.ipaddr or "")
        if net:
            out[FENCE] = net
            break
    return out


def _qdisk(conf: ClusterConf, spec: LabSpec) -> Qdisk | None:
    q, raw = conf.qdisk_effective(), conf.quorumd
    if q is None or raw is None:
        return None
    heur = tuple(
        Heuristic(
            program=h.program or "",
            score=h.score if h.score is not None else 1,  # A cman/qdisk/score.c:264-266
            interval_s=float(h.interval if h.interval is not None else 2),  # A score.c:264-266
            tko=h.tko if h.tko is not None else 1,  # A score.c:264-266
            network=_program_network(spec, h.program or ""),
        )
        for h in raw.heuristics
    )
    return Qdisk(
        interval_s=q.interval_s,
        tko=q.tko,
        master_wait=q.master_wait,
        upgrade_wait=q.upgrade_wait,
        votes=q.votes or 0,
        master_wins=q.master_wins,
        reboot=q.reboot,
        allow_kill=q.allow_kill,
        heuristics=heur,
        min_score=raw.min_score or 0,
    )


def _program_network(spec: LabSpec, program: str) -> str | None:
    """The lab network a heuristic depends on: the first address or lab host name it names."""
    for token in re.findall(r"[A-Za-z0-9_.-]+", program):
        net = network_of_address(spec, token)
        if net:
            return net
    return None


def _service(conf: ClusterConf, svc: ConfService, spec: LabSpec, nodes: tuple[str, ...]) -> RgService:
    rm = conf.rm
    assert rm is not None  # a service exists only under <rm>
    attrs = rm.effective_attrs(svc)
    dom = rm.domain(attrs.get("domain", "")) if attrs.get("domain") else None
    members = dom.member_names() if dom else nodes
    order = svc.start_order()
    ip = next((r for r in order if r.kind == "ip"), None)
    return RgService(
        name=svc.ident,
        candidates=tuple(m for m in members if m in nodes),
        ordered=bool(dom and dom.ordered),
        restricted=bool(dom and dom.restricted),
        nofailback=bool(dom and dom.nofailback),
        autostart=_flag(attrs.get("autostart"), True),
        recovery=attrs.get("recovery", "restart"),
        resources=tuple(r.kind for r in order),
        self_fence=any(
            _flag(rm.effective_attrs(r).get("self_fence"), False) for r in order if r.kind == "fs"
        ),
        monitor_link=_flag(rm.effective_attrs(ip).get("monitor_link"), True) if ip else False,
        ip_network=network_of_address(spec, _ip_address(rm.effective_attrs(ip))) if ip else None,
    )


def _ip_address(attrs: Mapping[str, str]) -> str:
    return attrs.get("address", "").split("/")[0]


def _flag(value: str | None, default: bool) -> bool:
    """rgmanager booleans: 1/yes/on/true (ocf-shellfuncs)."""
    if value is None:
        return default
    return value.strip().lower() in ("1", "yes", "on", "true")


def _fence_delays(conf: ClusterConf) -> dict[str, float]:
    """fence_virsh ``delay=`` on a node's device reference or its fencedevice (fencing.py.py:66-72)."""
    out: dict[str, float] = {}
    for node in conf.nodes:
        for ref in node.device_refs():
            dev = conf.fence_device(ref.name or "")
            raw = ref.options.get("delay") or (dev.attrs.get("delay") if dev else None)
            if raw and node.name:
                try:
                    out[node.name] = max(out.get(node.name, 0.0), float(raw))
                except ValueError:
                    continue
    return out
