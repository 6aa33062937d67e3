"""Every output kind halab reads, by name: the table behind `halab parse KIND FILE`.

Kept beside the readers (not in the CLI) so tests and the lead's tools can say
``read_kind("clustat", text)`` without knowing which module reads what.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from halab.errors import ParseError
from halab.stacks import pacemaker as pcmk
from halab.stacks import rgmanager as rgm
from halab.stacks.base import get_adapter
from halab.stacks.host import read_tgt_show
from halab.stacks.types import Event


@dataclass(frozen=True)
class Kind:
    """One output kind: its reader, the JSON key a list result goes under, and what it is."""

    name: str
    read: Callable[[str], object]
    what: str
    key: str = ""  # top-level JSON key for a tuple result ("" when the result is one object)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("clustat", rgm.read_clustat, "rgmanager `clustat` (also -l)"),
    Kind("clustat-xml", rgm.read_clustat_xml, "rgmanager `clustat -x`"),
    Kind("cman-status", rgm.read_cman_status, "`cman_tool status`"),
    Kind("cman-nodes", rgm.read_cman_nodes, "`cman_tool nodes` (or -F id,type,votes,name)", "members"),
    Kind("clusvcadm", rgm.read_clusvcadm, "`clusvcadm -e/-r/-d ...` result"),
    Kind("mkqdisk", rgm.read_mkqdisk, "`mkqdisk -L` (or -c)", "quorum_disks"),
    Kind("tgt-show", read_tgt_show, "`tgt-admin -s` / `tgtadm --mode target --op show`", "targets"),
    Kind("crm-mon", pcmk.read_crm_mon_text, "`crm_mon -1` text (pacemaker 1.1 to 2.x)"),
    Kind("crm-mon-xml", pcmk.read_crm_mon_xml, "`crm_mon --output-as=xml` (or 1.1 --as-xml)"),
    Kind("pcs-status", lambda text: pcmk.read_crm_mon_text(text, "pcs-status"), "`pcs status`"),
    Kind("quorumtool", pcmk.read_quorumtool, "`corosync-quorumtool -s` (or -l)"),
    Kind("cfgtool", pcmk.read_cfgtool, "`corosync-cfgtool -s`"),
    Kind("cmap-members", pcmk.read_cmap_members, "`corosync-cmapctl -b runtime.members`", "members"),
    Kind("sbd-dump", pcmk.read_sbd_dump, "`sbd -d DEV dump`"),
    Kind("sbd-list", pcmk.read_sbd_list, "`sbd -d DEV list`", "slots"),
    Kind("fence-history", pcmk.ADAPTER.read_fence_history, "`stonith_admin --history '*'` (XML or text)",
         "fence_history"),
)}
STATUS_KINDS = ("clustat", "clustat-xml", "crm-mon", "crm-mon-xml", "pcs-status")
VOTES_KINDS = ("cman-status", "quorumtool")
LOG_KIND = "syslog"

# programs whose presence in a log says which stack wrote it
_PACEMAKER = re.compile(r"\b(pacemaker-\w+|pacemakerd|stonith-ng|crmd|pengine|sbd)(\[\d+\])?:")
_RGMANAGER = re.compile(
    r"\b(fenced|qdiskd|rgmanager|clurgmgrd|openais|dlm_controld)(\[\d+\])?[: ]|\[CMAN\s*\]"
)


def read_kind(kind: str, text: str) -> object:
    """The result of reading ``text`` as ``kind`` (see KINDS); syslog goes through read_log."""
    found = KINDS.get(kind)
    if found is None:
        raise ParseError(kind, f"unknown kind (one of {', '.join([*KINDS, LOG_KIND])})")
    return found.read(text)


def log_stack(text: str) -> str:
    """Which stack wrote a log: pacemaker if one of its daemons speaks, else rgmanager if one does."""
    if _PACEMAKER.search(text):
        return "pacemaker"
    if _RGMANAGER.search(text):
        return "rgmanager"
    return "pacemaker"


def read_log(text: str, stack: str | None = None, reporter: str | None = None,
             year: int | None = None) -> list[Event]:
    """Events of a log, read with the pattern table of ``stack`` (guessed from the log if None)."""
    adapter = get_adapter(stack or log_stack(text))
    return list(adapter.read_events(text, reporter=reporter, year=year))
