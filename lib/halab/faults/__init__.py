"""Faults by id (registry as data): each id is one class in one small module."""

from __future__ import annotations

from halab.errors import NotApplicable
from halab.faults.base import Fault, heal_quietly, injected
from halab.faults.domain import PowerOff, Suspend
from halab.faults.effect import Effect
from halab.faults.firewall import HeartbeatBlock, IscsiBlock, IscsiBlockBoth, QnetdBlock
from halab.faults.hostside import MgmtCut
from halab.faults.link import HeartbeatDown, ServiceNicDown
from halab.faults.process import AppFailure, KillDaemon

REGISTRY: dict[str, type[Fault]] = {
    cls.id: cls
    for cls in (HeartbeatDown, HeartbeatBlock, IscsiBlock, IscsiBlockBoth, Suspend, PowerOff, KillDaemon,
                ServiceNicDown, MgmtCut, AppFailure, QnetdBlock)
}
SEED_FAULTS: tuple[str, ...] = ("heartbeat-down", "iscsi-block", "suspend")


def effect_of(fault_id: str) -> Effect:
    """The declared effect of a fault id (what the oracle reasons from)."""
    try:
        return REGISTRY[fault_id].effect
    except KeyError:
        raise NotApplicable(f"unknown fault {fault_id!r} (one of {', '.join(REGISTRY)})") from None


def node_loss_faults() -> tuple[str, ...]:
    """The fault ids whose effect takes the node out of the cluster (a CIB alone predicts these)."""
    return tuple(fid for fid, cls in REGISTRY.items() if cls.effect.loses_node)


def get_fault(fault_id: str) -> Fault:
    try:
        return REGISTRY[fault_id]()
    except KeyError:
        raise KeyError(f"unknown fault {fault_id!r} (known: {', '.join(REGISTRY)})") from None


__all__ = ["REGISTRY", "SEED_FAULTS", "Effect", "Fault", "effect_of", "get_fault", "heal_quietly", "injected",
           "node_loss_faults"]
