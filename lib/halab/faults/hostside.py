"""Faults made on the host side of the lab: the node's tap on a bridge taken down.

Why from the host: a fault that cuts the management network also cuts the harness's SSH to that
node, so it must be injected and healed where the harness keeps control (the tap in the lab netns).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from halab.errors import LabError
from halab.faults import effect as fx
from halab.faults.base import Fault
from halab.lab import domains
from halab.lab.host import run
from halab.lab.lab import Lab
from halab.lab.paths import mac_for
from halab.proc import bounded


def tap_of(lab: Lab, target: str, role: str) -> str:
    node = lab.spec.node(target)
    mac = mac_for(lab.spec, node.index, role)
    import libvirt

    with domains.connection() as conn:
        try:
            xml = bounded(lambda: conn.lookupByName(node.domain).XMLDesc(0), 30, f"XML of {node.domain}")
        except libvirt.libvirtError as err:  # no such domain: no tap either (heal stays quiet)
            raise LabError(f"no {role} tap for {node.domain}: {err}") from None
    for iface in ET.fromstring(xml).iter("interface"):  # noqa: S314
        mac_el, dev = iface.find("mac"), iface.find("target")
        if mac_el is not None and dev is not None and mac_el.get("address") == mac:
            return str(dev.get("dev"))
    raise LabError(f"no {role} tap for {node.domain} (is it running?)")


class MgmtCut(Fault):
    id = "mgmt-cut"
    effect = fx.cut_network("management", fx.HOST_SIDE)
    description = "management network cut at the node's tap: iSCSI and the fence path are gone for that node"
    disturbs_fence_path = True
    healed_from_host = True

    def inject(self, lab: Lab, target: str) -> None:
        run(["ip", "link", "set", tap_of(lab, target, "management"), "down"], netns=lab.paths.netns,
            timeout=10)

    def heal(self, lab: Lab, target: str) -> None:
        try:
            tap = tap_of(lab, target, "management")
        except LabError:
            return  # domain not running: its new tap comes up with it
        run(["ip", "link", "set", tap, "up"], netns=lab.paths.netns, timeout=10)
