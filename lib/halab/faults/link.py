"""NIC faults on a node: heartbeat NIC down (the seed's ifdown), service NIC down."""

from __future__ import annotations

from typing import ClassVar

from halab.faults import effect as fx
from halab.faults.base import Fault, ssh, ssh_stamped
from halab.lab.lab import Lab
from halab.lab.paths import NIC_BY_ROLE


class LinkDown(Fault):
    role: ClassVar[str]

    def nic(self) -> str:
        return NIC_BY_ROLE[self.role][0]

    def precheck(self, lab: Lab, target: str) -> str | None:
        node = lab.spec.node(target)
        if not any(lab.spec.network(a.network).role == self.role for a in node.addresses):
            return f"{node.name} has no {self.role} network"
        return None

    def inject(self, lab: Lab, target: str) -> tuple[float, float] | None:
        return ssh_stamped(lab, target, f"ip link set {self.nic()} down")

    def heal(self, lab: Lab, target: str) -> None:
        ssh(lab, target, f"ip link set {self.nic()} up")


class HeartbeatDown(LinkDown):
    id = "heartbeat-down"
    effect = fx.cut_network("heartbeat", fx.LINK_DOWN)
    description = "heartbeat NIC down on the node (the seed's `ifdown`): totem loses the node"
    role = "heartbeat"


class ServiceNicDown(LinkDown):
    id = "service-nic-down"
    effect = fx.cut_network("service", fx.LINK_DOWN)
    description = "service NIC down on the node: clients lose the service IP there"
    role = "service"
