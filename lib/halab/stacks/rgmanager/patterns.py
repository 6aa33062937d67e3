
"""Log patterns of the RHEL 6 stack: corosync 1.x, cman, fenced, qdiskd, rgmanager, kernel.

Each row is a message format from the sources (../shared/reference/msgs/*.tsv give every call
site with its level; KEY_FORMATS.md the important ones) turned into a regex. Level is ignored on
purpose: `fence X success` is logged at LOG_ERR. Regexes are anchored at both ends where the
format has a fixed tail, so a line cut short matches nothing rather than something wrong.
"""

from __future__ import annotations

from halab.stacks.logs import Pattern, pattern
from halab.stacks.types import EventKind as K

COROSYNC = ("corosync", "openais", "aisexec", "cman")
FENCED = ("fenced",)
QDISKD = ("qdiskd",)
RGMANAGER = ("rgmanager", "clurgmgrd")
SVC = r"(?P<service>\S+)"

MEMBERSHIP: tuple[Pattern, ...] = (
    pattern(K.TOKEN_LOST, r"^A processor failed, forming new configuration\.?$", *COROSYNC),
    pattern(K.MEMBERSHIP, r"^A processor joined or left the membership and a new membership"
            r"(?: \([^)]*\))? was formed\.?$", *COROSYNC),
    # corosync 1.x on ifdown of its ring interface: totem rebinds to 127.0.0.1 (A exec/totemudp.c:1458);
    # measured live, the node can then keep quorum with a phantom peer (tests_unit/data/live/rgmanager)
    pattern(K.LINK_DOWN, r"^The network interface is down\.?$", *COROSYNC, node_is_reporter=True),
    pattern(K.MEMBER_LEFT, r"^State change: (?!Local\b|LOCAL\b)(?P<node>\S+) DOWN$", *RGMANAGER),
    pattern(K.MEMBER_JOINED, r"^State change: (?!Local\b|LOCAL\b)(?P<node>\S+) UP$", *RGMANAGER),
)

QUORUM: tuple[Pattern, ...] = (
    pattern(K.QUORUM_LOST, r"^quorum lost, blocking activity$", *COROSYNC),
    pattern(K.QUORUM_REGAINED, r"^quorum regained, resuming activity$", *COROSYNC),
    pattern(K.QUORUM_LOST, r"^#1: Quorum Dissolved$", *RGMANAGER),
    pattern(K.QUORUM_REGAINED, r"^Quorum Regained$", *RGMANAGER),
    pattern(K.QDISK_REGISTERED, r"^quorum device registered$", *COROSYNC),
    pattern(K.QDISK_LOST, r"^(?:quorum device unregistered|lost contact with quorum device)$", *COROSYNC),
    pattern(K.NODE_KILLED, r"^cman killed by node (?P<actor>\d+) because (?P<reason>.+)$",
            node_is_reporter=True),
    pattern(K.NODE_KILLED, r"^Killing node (?P<node>\S+) because it has rejoined the cluster with existing state$",
            *COROSYNC, actor_is_reporter=True),
)

FENCE: tuple[Pattern, ...] = (
    pattern(K.FENCE_REQUESTED, r"^fencing node (?P<node>\S+)$", *FENCED, actor_is_reporter=True),
    pattern(K.FENCE_FAILED, r"^fencing node (?P<node>\S+) still retrying$", *FENCED, actor_is_reporter=True),
    pattern(K.FENCE_SUCCESS, r"^fence (?P<node>\S+) success$", *FENCED, actor_is_reporter=True),
    pattern(K.FENCE_FAILED, r"^fence (?P<node>\S+) failed$", *FENCED, actor_is_reporter=True),
    pattern(K.FENCE_FAILED, r"^fence (?P<node>\S+) dev \d+\.\d+ agent (?P<agent>\S+) result: (?!success$)(?P<r>.+)$",
            *FENCED, actor_is_reporter=True),
    pattern(K.FENCE_SUCCESS, r"^fence (?P<node>\S+) overridden by administrator intervention$", *FENCED,
            fixed={"agent": "fence_ack_manual"}),
    pattern(K.NODE_KILLED, r"^telling cman to remove nodeid (?P<node>\d+) from cluster$",
            *FENCED, "dlm_controld", "gfs_controld", actor_is_reporter=True),
)

QDISK: tuple[Pattern, ...] = (
    pattern(K.QDISK_EVICTION, r"^Writing eviction notice (?:\(again\) )?for node (?P<node>\d+)$", *QDISKD,
            actor_is_reporter=True),
    pattern(K.QDISK_EVICTION, r"^Node (?P<node>\d+) evicted$", *QDISKD),
    pattern(K.QDISK_MASTER, r"^Assuming master role$", *QDISKD, node_is_reporter=True),
    pattern(K.QDISK_MASTER, r"^Node (?P<node>\d+) is the master$", *QDISKD),
    pattern(K.QDISK_SCORE_LOW, r"^Score insufficient for master operation \(\d+/\d+; required=\d+\); downgrading$",
            *QDISKD, node_is_reporter=True),
    pattern(K.QDISK_SCORE_OK, r"^Score sufficient for master operation \(\d+/\d+; required=\d+\); upgrading$",
            *QDISKD, node_is_reporter=True),
    pattern(K.QDISK_HUNG_IO, r"^(?:qdiskd: )?\w+ \(system call\) has hung for \d+ seconds?$", *QDISKD,
            node_is_reporter=True),
    pattern(K.QDISK_HUNG_IO, r"^qdiskd on node (?P<node>\d+) reports hung \w+\(\)$", *QDISKD),
    pattern(K.QDISK_IO_ERROR, r"^(?:Error writing to quorum disk|Error reading node ID block \d+"
            r"|Too many I/O errors; giving up\.?)$", *QDISKD, node_is_reporter=True),
    pattern(K.SELF_FENCE, r"^Failed to (?:send a heartbeat|read from qdisk|complete a cycle) within .+ - REBOOTING$",
            *QDISKD, node_is_reporter=True),
)

SERVICE: tuple[Pattern, ...] = (
    pattern(K.SERVICE_TAKEOVER, rf"^Taking over service {SVC} from down member (?P<node>\S+)$", *RGMANAGER,
            actor_is_reporter=True),
    pattern(K.SERVICE_STARTING, rf"^Starting (?:stopped|disabled) service {SVC}$", *RGMANAGER, node_is_reporter=True),
    pattern(K.SERVICE_STARTED, rf"^Service {SVC} started$", *RGMANAGER, node_is_reporter=True),
    pattern(K.SERVICE_STOPPING, rf"^Stopping service {SVC}(?:: Dependency missing)?$", *RGMANAGER,
            node_is_reporter=True),
    pattern(K.SERVICE_STOPPED, rf"^Service {SVC} is stopped$", *RGMANAGER, node_is_reporter=True),
    pattern(K.SERVICE_DISABLED, rf"^Service {SVC} is disabled$", *RGMANAGER, node_is_reporter=True),
    pattern(K.SERVICE_FAILED, rf"^Service {SVC} is failed$", *RGMANAGER, node_is_reporter=True),
    pattern(K.SERVICE_FAILED, rf"^#68: Failed to start {SVC}; return value: -?\d+$", *RGMANAGER,
            node_is_reporter=True),
    pattern(K.SERVICE_FAILED, rf"^#12: RG {SVC} failed to stop; intervention required$", *RGMANAGER,
            node_is_reporter=True),
    pattern(K.SERVICE_FAILED, rf"^#13: Service {SVC} failed to stop cleanly$", *RGMANAGER, node_is_reporter=True),
    pattern(K.SERVICE_FAILED, rf"^#43: Service {SVC} has failed; can not start\.$", *RGMANAGER),
    pattern(K.SERVICE_FAILED, rf"^#[23]: Service {SVC} returned failure code\.\s+Last Owner: (?P<node>\S+)$",
            *RGMANAGER),
    pattern(K.SERVICE_RECOVERING, rf"^Recovering failed service {SVC}$", *RGMANAGER, node_is_reporter=True),
    pattern(K.SERVICE_RECOVERING, rf"^#70: Failed to relocate {SVC}; restarting locally$", *RGMANAGER,
            node_is_reporter=True),
    pattern(K.SERVICE_RELOCATING, rf"^#71: Relocating failed service {SVC}$", *RGMANAGER, actor_is_reporter=True),
    pattern(K.SERVICE_RELOCATING, rf"^Restart threshold for {SVC} exceeded; attempting to relocate$",
            *RGMANAGER, actor_is_reporter=True),
    pattern(K.SERVICE_RELOCATING, rf"^Migrating {SVC} to (?P<node>\S+)$", *RGMANAGER, actor_is_reporter=True),
    pattern(K.SERVICE_STARTED, rf"^Migration of {SVC} to (?P<node>\S+) completed$", *RGMANAGER),
    pattern(K.SERVICE_FAILED, rf"^Migration of {SVC} to (?P<node>\S+) failed; return code -?\d+$", *RGMANAGER),
    pattern(K.SERVICE_STARTED, rf"^Service {SVC} is now running on member (?P<node>\d+)$", *RGMANAGER),
    pattern(K.SELF_FENCE, r"umount failed - REBOOTING$", node_is_reporter=True),
)

KERNEL: tuple[Pattern, ...] = (
    pattern(K.DLM_RECOVERY, r"^dlm: closing connection to node\s*(?P<node>\d+)$", "kernel"),
    pattern(K.STORAGE_ERROR, r"^connection\d+:\d+: detected conn error \(\d+\)$", "kernel", node_is_reporter=True),
    pattern(K.STORAGE_ERROR, r"^session\d+: session recovery timed out after \d+ secs?$", "kernel",
            node_is_reporter=True),
    pattern(K.STORAGE_ERROR, r"rejecting I/O to offline device$", "kernel", node_is_reporter=True),
    pattern(K.STORAGE_ERROR, r"^Buffer I/O error on dev", "kernel", node_is_reporter=True),
)

TABLE: tuple[Pattern, ...] = (*MEMBERSHIP, *QUORUM, *FENCE, *QDISK, *SERVICE, *KERNEL)
