"""Which cluster functions a network fault takes away from a node, read from the lab's networks.

A fault cuts a network on a node; what that means depends on what runs over it in this design:
the totem ring, the iSCSI storage, the fence path, the service IP, a qdisk heuristic's ping.
Working from roles instead of fault names keeps the models right for labs whose networks are
laid out differently from the seed (e.g. storage on its own network).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from halab.errors import NotApplicable, SpecError
from halab.faults.effect import Effect
from halab.spec import LabSpec, Node

RING = "ring"
STORAGE = "storage"
FENCE = "fence"
SERVICE = "service"
QUORUM = "quorum"  # the path to a quorum device's arbiter (corosync-qnetd)

@dataclass(frozen=True)
class Cut:
    """What one node loses: a set of functions, and the network it was cut on (for the reasoning)."""

    network: str
    functions: frozenset[str]

    def __contains__(self, function: object) -> bool:
        return function in self.functions


def network_cut(spec: LabSpec, effect: Effect, node: Node, uses: Mapping[str, str]) -> Cut:
    """The functions a network cut takes from ``node``; ``uses`` maps function -> network name."""
    role = effect.network_role or ""
    try:
        net = spec.network(role)
        node.on(net.name)
    except SpecError:
        raise NotApplicable(f"{effect.text()}: node {node.name} has no {role} network in lab {spec.name}") from None
    names = {net.name, net.role}
    return Cut(net.name, frozenset(f for f, n in uses.items() if n in names))


def storage_cut() -> Cut:
    """The seed's iSCSI rule (REJECT --sport 3260) cuts storage only."""
    return Cut("iscsi", frozenset({STORAGE}))


def network_of_address(spec: LabSpec, address: str) -> str | None:
    """The lab network whose subnet holds ``address`` (an IP or a lab host name), or None."""
    for node in spec.nodes:
        for a in node.addresses:
            if address in (a.hostname, str(a.address)):
                return a.network
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return None
    for net in spec.networks:
        if ip in net.subnet:
            return net.name
    return None


def network_name(spec: LabSpec, name_or_role: str) -> str:
    """A network's name from its name or role ("heartbeat" -> the heartbeat network's name)."""
    return spec.network(name_or_role).name
