"""The rgmanager stack (RHEL/CentOS 6: cman, qdiskd, fenced, rgmanager): commands and readers.

Its commands are the seed's (clstart = `service cman start; service rgmanager start`, clstart_all
= the same on every node at once). It keeps no fence history of its own: fence evidence comes
from fenced's log lines only, so ``fence_history`` prints fenced's log and ``read_fence_history``
reads it.
"""

from __future__ import annotations

from halab.stacks.base import Commands
from halab.stacks.logs import read_events as _read_log
from halab.stacks.rgmanager.clustat import read_clustat
from halab.stacks.rgmanager.clustat_xml import read_clustat_xml
from halab.stacks.rgmanager.clusvcadm import read_clusvcadm
from halab.stacks.rgmanager.cman_tool import read_cman_nodes, read_cman_status
from halab.stacks.rgmanager.mkqdisk import read_mkqdisk
from halab.stacks.rgmanager.patterns import TABLE
from halab.stacks.types import ClusterStatus, Event, EventKind, FenceAction, Votes

__all__ = ["ADAPTER", "COMMANDS", "RECONFIGURED", "RECONFIGURE_S", "RgmanagerAdapter", "read_clustat",
           "read_clustat_xml", "read_clusvcadm", "read_cman_nodes", "read_cman_status", "read_mkqdisk"]

# Settled: every online member's rgmanager listens (clustat's rgmanager="1"; rgmanager 3.2 loads
# its resource rules and agents before it listens, main.c init_resource_groups then msg_listen, so a
# listening rgmanager has had its say on fail-back) and no service is on its way anywhere; an
# answer that is not a quorate clustat document is not settled.
SETTLED = ("x=$(timeout 10 clustat -x) && printf '%s\\n' \"$x\" | grep -q '<quorum quorate=\"1\"' "
           "&& ! printf '%s\\n' \"$x\" | grep '<node ' | grep ' qdisk=\"0\"' | grep ' state=\"1\"' "
           "| grep -q ' rgmanager=\"0\"' "
           "&& ! printf '%s\\n' \"$x\" | grep -qE 'state_str=\"(starting|stopping|recovering|migrating)\"'")

# Every cman start (and every config reload) validates cluster.conf, and ccs_config_validate
# first runs ccs_update_schema, which rewrites /var/lib/cluster/*.cache and *.hash (rm, then cp,
# never fsynced) even when its cache is current (config/tools/xml/ccs_update_schema.in,
# install_schema). A node destroyed within the page cache's writeback delay (~30 s) comes back
# with those files empty, and its next join regenerates the schema from every agent's metadata:
# measured live, 1 min 56 s of CPU under TCG, past cman_tool's join timeout. The harness flushes
# what it made the node write, so a fault meets the cluster, not the harness's pending writes.
DURABLE = "sync"

# A config reload (`cman_tool version -r`) makes every rgmanager reconfigure: it reloads its resource
# rules (every agent's meta-data) and only then logs "Restarting changed resources." (groups.c
# init_resource_groups). Its main loop handles one event at a time, so a node's death waits behind
# it: measured live (the domain-unordered mutant, a fault 19 s after the reload), node02 logged
# "Reconfiguring" at 03:08:04, "Restarting changed resources." at 03:10:28 under TCG, and began the
# service's recovery in the same second, 85 s after the fence. RECONFIGURED counts those lines, and
# prints nothing where rgmanager does not run (one call per node and look).
RECONFIGURED = ("pidof rgmanager >/dev/null || exit 0; "
                "grep -c 'Restarting changed resources' /var/log/cluster/rgmanager.log 2>/dev/null || echo 0")
RECONFIGURE_S = 300.0  # bound on one reconfiguration (measured: 144 s under TCG)

COMMANDS = Commands(
    status="clustat -x",
    status_text="clustat",
    votes="cman_tool status",
    start_local=f"service cman start && service rgmanager start && {DURABLE}",
    stop_local="service rgmanager stop && service cman stop",
    enable_service="clusvcadm -e {service} -m {node}",
    relocate_service="clusvcadm -r {service} -m {node}",
    disable_service="clusvcadm -d {service}",
    # rgmanager keeps no fence history: fenced's own log file is the record of every fence it ran
    fence_history="cat /var/log/cluster/fenced.log",
    fence_history_per_node=True,
    # syslog (RHEL 6) or the kernel's journal (halab's Debian RHCS image: DLM recovery, iSCSI errors),
    # and the daemons' own files (no host in those: pass reporter= to read_events)
    logs_since="cat /var/log/messages 2>/dev/null; journalctl -k -o short-iso --since '{since}' 2>/dev/null; "
               "cat /var/log/cluster/*.log",
    support_bundle="sosreport --batch -o cluster",
    nodes="cman_tool nodes",
    quorum_device="mkqdisk -L",
    ring_status="corosync-cfgtool -s",
    stack_running="service cman status >/dev/null && service rgmanager status >/dev/null",
    clear_failures="",  # rgmanager keeps no fail counts; a failed service is re-enabled by the restore
    settled=SETTLED,
    # Measured under TCG: a rejoined node's rgmanager runs every agent's meta-data before it
    # listens (cman rejoin 37-103 s after the harness starts it, then the agents: up to ~5 min);
    # its port opening is a membership event on the others (main.c M_PORTOPENED), hence fail-back.
    settle_limit_s=300.0,
    # Measured live twice (the ifdown phantom branch): the rejoined node's rgmanager logged
    # "Services Initialized" and never listened, or the survivor's relocation to it hung ("#52:
    # Failed changing RG status"); nothing but a reset recovered. A join-to-listen takes ~150 s
    # under TCG (agents' metadata), so not at rest for 420 s with every member online is stuck.
    stuck_after_s=420.0,
)


class RgmanagerAdapter:
    """StackAdapter for rgmanager; status from `clustat -x` (or its text form)."""

    name: str = "rgmanager"
    commands: Commands = COMMANDS

    def read_status(self, text: str) -> ClusterStatus:
        """`clustat -x` output; plain `clustat` text is accepted too (ops paste either)."""
        if "<clustat" in text:
            return read_clustat_xml(text)
        return read_clustat(text)

    def read_votes(self, text: str) -> Votes:
        return read_cman_status(text)

    def read_events(self, text: str, reporter: str | None = None, year: int | None = None) -> list[Event]:
        return _read_log(text, TABLE, reporter, year)

    def read_fence_history(self, text: str) -> tuple[FenceAction, ...]:
        """Fence outcomes from fenced's log lines (rgmanager keeps no history of its own)."""
        if not text.strip():
            return ()
        return tuple(_fence_action(ev) for ev in self.read_events(text)
                     if ev.kind in (EventKind.FENCE_SUCCESS, EventKind.FENCE_FAILED) and ev.node)


def _fence_action(ev: Event) -> FenceAction:
    status = "success" if ev.kind is EventKind.FENCE_SUCCESS else "failed"
    assert ev.node is not None
    return FenceAction(target=ev.node, action="fence", status=status, delegate=ev.actor,
                       origin=ev.reporter, completed=ev.time)


ADAPTER = RgmanagerAdapter()
