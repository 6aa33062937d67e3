"""Faults of the whole node, through libvirt-python.

Frozen (`virsh suspend`) and power-off (`virsh destroy`).
"""

from __future__ import annotations

from halab.faults import effect as fx
from halab.faults.base import Fault
from halab.lab import domains
from halab.lab.lab import Lab


class Suspend(Fault):
    id = "suspend"
    effect = fx.FREEZE_NODE
    description = "node frozen: `virsh suspend` of its domain (resumed at heal if the fence has not reset it)"
    healed_from_host = True

    def inject(self, lab: Lab, target: str) -> None:
        domains.act(lab.spec.node(target).domain, "suspend")

    def heal(self, lab: Lab, target: str) -> None:
        dom = lab.spec.node(target).domain
        if domains.state(dom) == "paused":
            domains.act(dom, "resume")


class PowerOff(Fault):
    id = "power-off"
    effect = fx.STOP_NODE
    description = "node powered off: `virsh destroy` of its domain (started again at heal)"
    healed_from_host = True

    def inject(self, lab: Lab, target: str) -> None:
        domains.act(lab.spec.node(target).domain, "destroy")

    def heal(self, lab: Lab, target: str) -> None:
        dom = lab.spec.node(target).domain
        if domains.state(dom) == "shutoff":
            domains.act(dom, "start")
