"""Faults by id (registry as data): each id is one class in one small module."""

from __future__ import annotations

from halab.faults.base import Fault, heal_quietly, injected
from halab.faults.domain import PowerOff, Suspend
from halab.faults.firewall import HeartbeatBlock, IscsiBlock, IscsiBlockBoth
from halab.faults.hostside import MgmtCut
from halab.faults.link import HeartbeatDown, ServiceNicDown
from halab.faults.process import AppFailure, KillDaemon

REGISTRY: dict[str, type[Fault]] = {
    cls.id: cls
    for cls in (HeartbeatDown, HeartbeatBlock, IscsiBlock, IscsiBlockBoth, Suspend, PowerOff, KillDaemon,
                ServiceNicDown, MgmtCut, AppFailure)
}
SEED_FAULTS: tuple[str, ...] = ("heartbeat-down", "iscsi-block", "suspend")
# A fault the oracle knows under another id (same expected behaviour, harder cut).
ORACLE_ID = {"iscsi-block-both": "iscsi-block"}


def get_fault(fault_id: str) -> Fault:
    try:
        return REGISTRY[fault_id]()
    except KeyError:
        raise KeyError(f"unknown fault {fault_id!r} (known: {', '.join(REGISTRY)})") from None


__all__ = ["ORACLE_ID", "REGISTRY", "SEED_FAULTS", "Fault", "get_fault", "heal_quietly", "injected"]
