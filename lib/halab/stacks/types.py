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
    votes: int | None = None  # where the output shows it (quorumtool, cman_tool nodes)


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
    # False when the stack said it is not running on the node asked (then ``error`` says why):
    # an answer, not a parse failure, because "the cluster is down here" is what a test asks.
    running: bool = True
    error: str | None = None  # the stack's own complaint (e.g. rgmanager not running)
    fence_history: tuple[FenceAction, ...] = ()  # when the status output carries it
    # pacemaker's Designated Controller: the node whose scheduler acts. When a fault takes it away
    # the survivors first elect a new one (the oracle's dc_takeover_s); None when not known
    dc: str | None = None

    def service(self, name: str) -> Service | None:
        for svc in self.services:
            if svc.name == name:
                return svc
        return None

    def online(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members if m.online)

    def brief(self) -> str:
        """One line for an error or progress message (never a Python repr in front of a user)."""
        if not self.running:
            return f"stack not running ({self.error or 'no reason given'})"
        quorum = {True: "quorate", False: "not quorate", None: "quorum unknown"}[self.quorate]
        offline = [m.name for m in self.members if not m.online]
        nodes = f"online {' '.join(self.online()) or 'nobody'}" + (f", offline {' '.join(offline)}" if offline else "")
        svcs = [f"{s.name} {s.state}" + (f" on {s.owner}" if s.owner else "") for s in self.services]
        return "; ".join([quorum, nodes, *svcs])


@dataclass(frozen=True)
class Votes:
    expected: int | None
    total: int | None
    quorum: int | None
    quorate: bool | None
    node_votes: int | None = None
    device_votes: int | None = None
    highest_expected: int | None = None
    nodes: int | None = None  # members the tool counts
    flags: tuple[str, ...] = ()
    cluster_name: str | None = None
    local_node: str | None = None
    local_node_id: int | None = None
    members: tuple[Member, ...] = ()  # with their votes, when the output lists them
    # A quorum device (corosync-qdevice): its name, the votes it is configured with, and whether
    # it casts them now (a lost qdevice shows 0 votes and "(votes N)").
    device_name: str | None = None
    device_configured_votes: int | None = None

    @property
    def device_lost(self) -> bool | None:
        """True when a quorum device is configured but casts no vote; None without a device."""
        if self.device_votes is None:
            return None
        return self.device_votes == 0 and (self.device_configured_votes or 0) > 0


class EventKind(str, Enum):  # noqa: UP042 -- str() stays as the skeleton had it
    TOKEN_LOST = "token-lost"  # noqa: S105
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
    SERVICE_START_FAILED = "service-start-failed"  # a start operation failed (not a monitor or a stop)
    SERVICE_RECOVERING = "service-recovering"
    SERVICE_RELOCATING = "service-relocating"
    SERVICE_TAKEOVER = "service-takeover"
    # Added with the stack adapters: evidence the lists above have no name for.
    TOKEN_WARNING = "token-warning"  # noqa: S105 -- corosync 3: token not received for 75 % of the timeout
    LINK_DOWN = "link-down"  # knet: a link or every link to a host went down
    QDISK_REGISTERED = "qdisk-registered"
    QDISK_LOST = "qdisk-lost"  # cman lost contact with / unregistered the quorum device
    QDISK_SCORE_OK = "qdisk-score-sufficient"
    QDISK_IO_ERROR = "qdisk-io-error"
    NODE_KILLED = "node-killed"  # cman removed a node (qdiskd allow_kill, stateful merge)
    SELF_FENCE = "self-fence"  # a node reboots itself (qdiskd io_timeout, fs self_fence, sbd)
    FENCE_DELAYED = "fence-delayed"  # pacemaker-fenced waits a configured delay first
    SERVICE_DISABLED = "service-disabled"
    DLM_RECOVERY = "dlm-recovery"  # kernel DLM dropped a node: locks recover after the fence
    STORAGE_ERROR = "storage-error"  # iSCSI connection error, session timeout, I/O error


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


@dataclass(frozen=True)
class ServiceOp:
    """What `clusvcadm -e/-r/-d/...` answered: the request, rgmanager's verdict, the new owner."""

    action: str  # enable, relocate, migrate, disable, stop, restart, freeze, ...
    service: str  # without the service: prefix
    target: str | None  # the node asked for (-m), None for "Local machine"
    result: str  # rgmanager's words: Success, Failure, Operation violates dependency rule, ...
    ok: bool
    owner: str | None = None  # "is now running on X"
    warning: bool = False  # it runs, but not where asked


@dataclass(frozen=True)
class QdiskLabel:
    """One quorum disk as `mkqdisk -L` lists it (or as `mkqdisk -c` wrote it)."""

    paths: tuple[str, ...]
    label: str
    magic: str | None = None
    created: str | None = None
    host: str | None = None
    kernel_sector_size: int | None = None
    recorded_sector_size: int | None = None
    status_blocks: int | None = None  # `mkqdisk -c`: node status blocks initialised


@dataclass(frozen=True)
class SbdHeader:
    """`sbd -d DEV dump`: the timeouts that bound a disk-based fence (msgwait) and self-fence."""

    device: str | None
    version: str | None
    uuid: str | None
    slots: int | None
    sector_size: int | None
    watchdog_s: int
    allocate_s: int | None
    loop_s: int | None
    msgwait_s: int


@dataclass(frozen=True)
class SbdSlot:
    """One row of `sbd -d DEV list`: the node in a slot and the message waiting for it."""

    slot: int
    node: str
    message: str  # clear, reset, off, test, exit
    sender: str | None = None


@dataclass(frozen=True)
class LinkPeer:
    node_id: int
    status: str  # as printed: localhost, connected, disconnected, "link enabled:1 link connected:1"
    connected: bool | None


@dataclass(frozen=True)
class Link:
    """One totem link (corosync 3 knet) or ring (corosync 2) as `corosync-cfgtool -s` shows it."""

    link_id: int
    address: str | None
    transport: str | None = None
    status: str | None = None  # corosync 2: "ring 0 active with no faults"
    peers: tuple[LinkPeer, ...] = ()
    faulty: bool = False


@dataclass(frozen=True)
class RingStatus:
    local_node_id: int | None
    transport: str | None
    links: tuple[Link, ...]
