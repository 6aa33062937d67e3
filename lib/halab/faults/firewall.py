"""Firewall faults inside the node: iSCSI blocked (the seed's rule and a harder variant), heartbeat cut.

Why a rule per direction with -I: `iptables -A ... DROP` behind an ESTABLISHED accept rule cuts
nothing already flowing; inserting at the top of INPUT and OUTPUT cuts established flows too.
"""

from __future__ import annotations

from typing import ClassVar

from halab.faults import effect as fx
from halab.faults.base import RULE_TAG, Fault, remove_tagged_rules_cmd, ssh, ssh_stamped
from halab.lab.lab import Lab
from halab.spec import LabSpec


def tagged(rule: str) -> str:
    """The rule with the heal tag placed before its target (`-j`), where iptables expects matches."""
    matches, _, jump = rule.partition(" -j ")
    return f"{matches} -m comment --comment {RULE_TAG} -j {jump}"


class FirewallFault(Fault):
    rules: ClassVar[tuple[str, ...]]

    def inject(self, lab: Lab, target: str) -> tuple[float, float] | None:
        return ssh_stamped(lab, target, " && ".join(f"iptables {tagged(rule)}" for rule in self.rules))

    def heal(self, lab: Lab, target: str) -> None:
        ssh(lab, target, remove_tagged_rules_cmd())


class IscsiBlock(FirewallFault):
    id = "iscsi-block"
    effect = fx.CUT_STORAGE
    description = "the seed's rule on the node: iptables -A INPUT -m tcp -p tcp --sport 3260 -j REJECT"
    rules = ("-A INPUT -m tcp -p tcp --sport 3260 -j REJECT",)


class IscsiBlockBoth(FirewallFault):
    id = "iscsi-block-both"
    effect = fx.CUT_STORAGE  # a harder cut of the same thing: same prediction
    description = "iSCSI cut both ways, established flows included (DROP at the top of INPUT and OUTPUT)"
    rules = ("-I INPUT 1 -p tcp --sport 3260 -j DROP", "-I OUTPUT 1 -p tcp --dport 3260 -j DROP")


class HeartbeatBlock(FirewallFault):
    id = "heartbeat-block"
    effect = fx.cut_network("heartbeat", fx.FIREWALL)
    description = ("heartbeat cut by firewall: everything in and out of the heartbeat NIC dropped "
                   "(incl. multicast)")
    rules = ("-I INPUT 1 -i hb -j DROP", "-I OUTPUT 1 -o hb -j DROP")


class QnetdBlock(FirewallFault):
    id = "qnetd-block"
    effect = fx.CUT_ARBITER
    description = ("the node's path to the quorum device's arbiter cut: qnetd's port 5403 dropped both ways "
                   "(established flows included); the cluster keeps its members")
    rules = ("-I INPUT 1 -p tcp --sport 5403 -j DROP", "-I OUTPUT 1 -p tcp --dport 5403 -j DROP")

    @classmethod
    def unfit(cls, spec: LabSpec) -> str | None:
        from halab.cib.lab import has_quorum_device

        if spec.stack != "pacemaker":
            return f"{cls.id}: a quorum device is corosync-qdevice's (pacemaker); lab {spec.name} runs {spec.stack}"
        if not has_quorum_device(spec):
            return f"{cls.id}: lab {spec.name}'s corosync.conf has no quorum device (quorum.device)"
        return None
