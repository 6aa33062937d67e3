"""What a fault does, in neutral terms: the one fact the oracle reasons from.

Why: the oracle used to branch on fault-id strings spread over several packages (and a table of
aliases, ORACLE_ID). Each fault class now declares its ``Effect`` (cuts network role X on a node,
cuts its storage, stops or freezes the node, kills a process); a new fault with a known effect
needs no oracle change. Pure data: importable without the lab.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Act(Enum):
    CUT_NETWORK = "cuts a network"
    CUT_STORAGE = "cuts storage"
    STOP_NODE = "stops the node"
    FREEZE_NODE = "freezes the node"
    KILL_PROCESS = "kills a process"
    CUT_ARBITER = "cuts the node's path to its quorum device's arbiter (qnetd)"


CLUSTER_DAEMON = "cluster daemon"
APPLICATION = "application"


@dataclass(frozen=True)
class Effect:
    """One fault's effect on its target node."""

    act: Act
    network_role: str | None = None  # CUT_NETWORK: the role of the network cut on the node
    how: str = ""  # CUT_NETWORK: "link down" (the NIC) | "firewall" | "host side" (the tap)
    process: str | None = None  # KILL_PROCESS: CLUSTER_DAEMON | APPLICATION

    def __post_init__(self) -> None:
        if (self.act is Act.CUT_NETWORK) != (self.network_role is not None):
            raise ValueError("a network cut names its network role, nothing else does")
        if (self.act is Act.KILL_PROCESS) != (self.process is not None):
            raise ValueError("a process kill names its process, nothing else does")

    @property
    def loses_node(self) -> bool:
        """The node leaves the cluster whatever its design: stopped, frozen, or its membership
        daemon killed (corosync on both stacks)."""
        return self.act in (Act.STOP_NODE, Act.FREEZE_NODE) or \
            (self.act is Act.KILL_PROCESS and self.process == CLUSTER_DAEMON)

    def text(self) -> str:
        if self.act is Act.CUT_NETWORK:
            return f"cuts the {self.network_role} network ({self.how})"
        if self.act is Act.KILL_PROCESS:
            return f"kills the {self.process}"
        return str(self.act.value)


def cut_network(role: str, how: str) -> Effect:
    return Effect(Act.CUT_NETWORK, network_role=role, how=how)


def kill(process: str) -> Effect:
    return Effect(Act.KILL_PROCESS, process=process)


CUT_STORAGE = Effect(Act.CUT_STORAGE)
CUT_ARBITER = Effect(Act.CUT_ARBITER)
STOP_NODE = Effect(Act.STOP_NODE)
FREEZE_NODE = Effect(Act.FREEZE_NODE)
LINK_DOWN, FIREWALL, HOST_SIDE = "link down", "firewall", "host side"
