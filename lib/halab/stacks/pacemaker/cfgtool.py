"""`corosync-cfgtool -s` -> RingStatus (corosync 1.x/2.x rings and 3.x knet links).

Formats (corosync tools/corosync-cfgtool.c):

- 1.x/2.x: ``Printing ring status.`` / ``Local node ID N`` / ``RING ID R`` / ``\\tid\\t= ADDR`` /
  ``\\tstatus\\t= ring R active with no faults`` (or ``... FAULTY``);
- 3.0: ``Printing link status.`` / ``Local node ID N`` / ``LINK ID L`` / ``\\taddr\\t= ADDR`` /
  ``\\tstatus:`` / ``\\t\\tnodeid  2:\\tlink enabled:1\\tlink connected:1``;
- 3.1+: ``Local node ID N, transport knet`` / ``LINK ID L udp`` / ... ``nodeid:  2:\\tconnected``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content
from halab.stacks.types import Link, LinkPeer, RingStatus

KIND = "cfgtool"

_LOCAL = re.compile(r"^Local node ID (?P<id>\d+)(?:, transport (?P<transport>\S+))?$")
_LINK = re.compile(r"^(?P<what>RING|LINK) ID (?P<id>\d+)(?:\s+(?P<transport>\S+))?$")
_ADDR = re.compile(r"^(?:id|addr)\s*=\s*(?P<addr>\S+)$")
_STATUS = re.compile(r"^status\s*=\s*(?P<status>.+)$")
_PEER = re.compile(r"^nodeid:?\s+(?P<id>\d+):\s*(?P<status>.+)$")


@dataclass
class _Link:
    link_id: int
    transport: str | None
    address: str | None = None
    status: str | None = None
    peers: list[LinkPeer] = field(default_factory=list)

    def done(self) -> Link:
        faulty = bool(self.status and "FAULTY" in self.status.upper()) or any(
            p.connected is False for p in self.peers)
        return Link(self.link_id, self.address, self.transport, self.status, tuple(self.peers), faulty)


def read_cfgtool(text: str) -> RingStatus:
    """Local node id, transport and every ring/link with its address and per-peer state."""
    body = require_content(KIND, command_output(text, ("corosync-cfgtool",)))
    local: int | None = None
    transport: str | None = None
    links: list[_Link] = []
    for line in body:
        stripped = line.text.strip()
        found = _LOCAL.match(stripped)
        if found:
            local, transport = int(found.group("id")), found.group("transport")
        elif (section := _LINK.match(stripped)) is not None:
            links.append(_Link(int(section.group("id")), section.group("transport")))
        elif stripped not in ("Printing ring status.", "Printing link status.", "status:"):
            _field(stripped, line, links)
    if local is None or not links:
        raise ParseError(KIND, "no 'Local node ID' or no RING/LINK ID section", body[-1].no)
    for each in links:
        if each.address is None:
            raise ParseError(KIND, f"link {each.link_id} has no address line (truncated?)", body[-1].no)
    return RingStatus(local, transport, tuple(each.done() for each in links))


def _field(text: str, line: Line, links: list[_Link]) -> None:
    if not links:
        raise ParseError(KIND, f"unexpected line before any RING/LINK ID: {text!r}", line.no)
    link = links[-1]
    if (addr := _ADDR.match(text)) is not None:
        link.address = addr.group("addr")
    elif (status := _STATUS.match(text)) is not None:
        link.status = status.group("status").strip()
    elif (peer := _PEER.match(text)) is not None:
        link.peers.append(_peer(int(peer.group("id")), " ".join(peer.group("status").split())))
    else:
        raise ParseError(KIND, f"unexpected line in link {link.link_id}: {text!r}", line.no)


def _peer(node_id: int, status: str) -> LinkPeer:
    lowered = status.lower()
    if lowered in ("localhost", "connected"):
        connected: bool | None = True
    elif lowered == "disconnected":
        connected = False
    elif "link connected:" in lowered:
        connected = "link connected:1" in lowered.replace(" ", " ")
    else:
        connected = None
    return LinkPeer(node_id, status, connected)
