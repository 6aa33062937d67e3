"""Name resolution the way the lab spec defines it (the lab's /etc/hosts, in effect).

cluster.conf names nodes and fence hosts by host name or address; which network that means is only
known from the lab spec. These helpers answer "which network does this name put traffic on".
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from halab.spec import LabSpec, Network, Node


@dataclass(frozen=True)
class Resolved:
    """Where a name lands: an address, the lab network holding it, and the lab node owning it."""

    address: ipaddress.IPv4Address
    network: Network | None
    node: Node | None  # None for the host or an address no node owns


def resolve(spec: LabSpec, name: str) -> Resolved | None:
    """A host name or IPv4 literal, resolved through the lab spec; None if the lab does not know it."""
    address = _literal(name)
    if address is None:
        for node in spec.nodes:
            for entry in node.addresses:
                if entry.hostname == name:
                    return Resolved(entry.address, spec.network(entry.network), node)
        return None
    return Resolved(address, network_of(spec, address), owner_of(spec, address))


def network_of(spec: LabSpec, address: ipaddress.IPv4Address) -> Network | None:
    return next((net for net in spec.networks if address in net.subnet), None)


def owner_of(spec: LabSpec, address: ipaddress.IPv4Address) -> Node | None:
    for node in spec.nodes:
        if any(entry.address == address for entry in node.addresses):
            return node
    return None


def lab_node(spec: LabSpec, cluster_name: str) -> Node | None:
    """The lab node a cluster.conf node name means (any of its host names or addresses)."""
    found = resolve(spec, cluster_name)
    return found.node if found else None


def heartbeat(spec: LabSpec) -> Network:
    """The network totem runs on (the spec guarantees one with role heartbeat)."""
    return next(net for net in spec.networks if net.role == "heartbeat")


def _literal(name: str) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(name)
    except ValueError:
        return None
