"""The pacemaker stack (corosync 3 + pacemaker 2 + sbd), the one that runs live here.

Status comes from `crm_mon --output-as=xml`; the text readers (crm_mon -1, pcs status) are for
outputs ops collect by hand. Placement on enable follows the design's location constraints (the
lead's deploy sets the preferred node); ``relocate_service`` moves to the node named.
"""

from __future__ import annotations

from halab.stacks.base import Commands
from halab.stacks.logs import read_events as _read_log
from halab.stacks.pacemaker.cfgtool import read_cfgtool
from halab.stacks.pacemaker.cmapctl import read_cmap_members
from halab.stacks.pacemaker.crm_mon_text import read_crm_mon_text
from halab.stacks.pacemaker.crm_mon_xml import read_crm_mon_xml, read_fence_history_xml
from halab.stacks.pacemaker.fence_text import read_fence_history_text
from halab.stacks.pacemaker.patterns import TABLE
from halab.stacks.pacemaker.quorumtool import read_quorumtool
from halab.stacks.pacemaker.sbd import read_sbd_dump, read_sbd_list
from halab.stacks.types import ClusterStatus, Event, FenceAction, Votes

__all__ = ["ADAPTER", "COMMANDS", "PacemakerAdapter", "read_cfgtool", "read_cmap_members",
           "read_crm_mon_text", "read_crm_mon_xml", "read_fence_history_text", "read_fence_history_xml",
           "read_quorumtool", "read_sbd_dump", "read_sbd_list"]

COMMANDS = Commands(
    # --fence-history=0: crm_mon asks the fencer nothing. Why: measured live (the broken-fence
    # proof, a fence that cannot succeed), the survivor's crm_mon printed nothing until the poll's
    # timeout every ~7 s from 58.9 s to the heal while its fencer retried, and placement was blind
    # (NO EVIDENCE); the fence record is read on its own (fence_history below).
    status="crm_mon --output-as=xml --fence-history=0",
    status_text="crm_mon -1",
    votes="corosync-quorumtool -s",
    start_local="systemctl start corosync pacemaker",
    stop_local="systemctl stop pacemaker corosync",
    enable_service="pcs resource enable {service}",
    # crm_resource, not pcs: pcs 0.11's move drops its constraint by itself, the restore clears it
    relocate_service="crm_resource --move --resource {service} --node {node}",
    disable_service="pcs resource disable {service}",
    fence_history="stonith_admin --history '*' --output-as=xml",
    # corosync, pacemaker and sbd units plus the kernel (iSCSI errors), one ISO clock
    logs_since=("journalctl -o short-iso-precise --no-pager --since '{since}' _SYSTEMD_UNIT=corosync.service"
                " + _SYSTEMD_UNIT=pacemaker.service + _SYSTEMD_UNIT=sbd.service + _TRANSPORT=kernel"),
    support_bundle="crm_report -S /tmp/halab-crm-report",
    nodes="crm_node -l",
    quorum_device="sbd -d {device} dump",
    ring_status="corosync-cfgtool -s",
    stack_running="systemctl is-active --quiet corosync pacemaker",
    clear_failures="crm_resource --cleanup",
    clear_relocation="crm_resource --clear --resource {service}",
    # the scheduler's own answer: no action pending on the live CIB within 10 s (124 otherwise)
    settled="timeout 10 crm_resource --wait",
)


class PacemakerAdapter:
    """StackAdapter for pacemaker; status from crm_mon's XML (text accepted as a fallback)."""

    name: str = "pacemaker"
    commands: Commands = COMMANDS

    def read_status(self, text: str) -> ClusterStatus:
        if "<pacemaker-result" in text or "<crm_mon" in text:
            return read_crm_mon_xml(text)
        return read_crm_mon_text(text)

    def read_votes(self, text: str) -> Votes:
        return read_quorumtool(text)

    def read_events(self, text: str, reporter: str | None = None, year: int | None = None) -> list[Event]:
        return _read_log(text, TABLE, reporter, year)

    def read_fence_history(self, text: str) -> tuple[FenceAction, ...]:
        """stonith_admin/crm_mon XML, or their text form."""
        if "<pacemaker-result" in text or "<crm_mon" in text:
            return read_fence_history_xml(text)
        return read_fence_history_text(text)


ADAPTER = PacemakerAdapter()
