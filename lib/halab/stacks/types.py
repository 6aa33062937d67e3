"""The one set of immutable result types every stack reader produces.

Tests and the oracle speak only these types, never a stack's own strings: a pacemaker resource
group and an rgmanager service both come out as a ``Service``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


@dataclass(frozen=True)
class Member:
    name: str
    online: bool
    node_id: int | None = None
    local: bool = False
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuorumDevice:
    name: str
    online: bool
    votes: int | None = None


@dataclass(frozen=True)
class Service:
    name: str  # without any "service:" prefix
    state: str  # lower case as the stack prints it: started, stopped, disabled, failed, ...
    owner: str | None  # node currently running it, None when nobody does
    last_owner: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterStatus:
    quorate: bool | None
    members: tuple[Member, ...]
    services: tuple[Service, ...]
    quorum_device: QuorumDevice | None = None
    cluster_name: str | None = None
    local_node: str | None = None

    def service(self, name: str) -> Service | None:
        for svc in self.services:
            if svc.name == name:
                return svc
        return None

    def online(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members if m.online)


@dataclass(frozen=True)
class Votes:
    expected: int | None
    total: int | None
    quorum: int | None
    quorate: bool | None
    node_votes: int | None = None
    device_votes: int | None = None


class EventKind(str, Enum):
    TOKEN_LOST = "token-lost"
    MEMBER_LEFT = "member-left"
    MEMBER_JOINED = "member-joined"
    MEMBERSHIP = "membership"
    QUORUM_LOST = "quorum-lost"
    QUORUM_REGAINED = "quorum-regained"
    QDISK_EVICTION = "qdisk-eviction"
    QDISK_MASTER = "qdisk-master"
    QDISK_HUNG_IO = "qdisk-hung-io"
    QDISK_SCORE_LOW = "qdisk-score-insufficient"
    FENCE_REQUESTED = "fence-requested"
    FENCE_SUCCESS = "fence-success"
    FENCE_FAILED = "fence-failed"
    SERVICE_STARTING = "service-starting"
    SERVICE_STARTED = "service-started"
    SERVICE_STOPPING = "service-stopping"
    SERVICE_STOPPED = "service-stopped"
    SERVICE_FAILED = "service-failed"
    SERVICE_RECOVERING = "service-recovering"
    SERVICE_RELOCATING = "service-relocating"
    SERVICE_TAKEOVER = "service-takeover"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    time: datetime | None  # as the log says (node clock); observe/ corrects it to host time
    reporter: str | None = None  # host that logged it
    node: str | None = None  # the node it is about (victim, member, owner)
    actor: str | None = None  # who fenced / who took over
    agent: str | None = None  # fence agent or device
    service: str | None = None
    raw: str = ""
    line: int | None = None


@dataclass(frozen=True)
class FenceAction:
    """One entry of a stack's fence history (pacemaker's crm_mon XML fence_history)."""

    target: str
    action: str
    status: str  # "success" | "failed" | "pending"
    delegate: str | None = None
    origin: str | None = None
    completed: datetime | None = None


@dataclass(frozen=True)
class Lun:
    lun: int
    size_bytes: int | None
    backing: str | None
    kind: str = "disk"


@dataclass(frozen=True)
class Target:
    tid: int
    name: str
    luns: tuple[Lun, ...] = ()
    initiators: tuple[str, ...] = ()  # connected initiator names (I_T nexus)
    initiator_addresses: tuple[str, ...] = ()
    acl: tuple[str, ...] = field(default_factory=tuple)
