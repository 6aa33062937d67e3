"""`corosync-quorumtool -s` (corosync 2 and 3 votequorum) -> Votes.

Format: corosync tools/corosync-quorumtool.c: "Quorum information" (Date, Quorum provider, Nodes,
Node ID, Ring ID, Quorate: Yes/No), "Votequorum information" (Expected votes, Highest expected,
Total votes, `Quorum: N[ Activity blocked]`, Flags), "Membership information" with rows
`NODEID VOTES [QDEVICE-FLAGS] NAME[ (local)]`; a qdevice is the row of node id 0. The membership
table alone (`-l`, `pcs status corosync`) reads as members with votes and nothing else known.

Every row display_nodes_data prints (corosync tools/corosync-quorumtool.c): node ids decimal or
hex (`-H`: 0x00000001); qdevice flags A|NA,V|NV,MW|NMW (early 2.x: MNW), or NR for a node whose qdevice is not
registered (also with `-p`); names with all addresses (`-a`: "node1, 10.0.0.1"); and the qdevice
row `0 VOTES NAME`, which for a qdevice that casts no vote on this node (lost, or not yet voting)
is `0 0 NAME (votes N)`: the device is configured with N votes and casts none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content, to_int
from halab.stacks.types import Member, Votes

KIND = "quorumtool"

_FIELD = re.compile(r"^(?P<key>[A-Z][A-Za-z ]+?):\s*(?P<value>.*)$")
_ROW = re.compile(
    r"^(?P<id>0x[0-9a-fA-F]+|\d+)\s+(?P<votes>\d+)\s+(?:(?P<qdev>[A-Z]+,[A-Z]+,[A-Z]+|NR)\s+)?"
    r"(?P<name>\S.*?)(?P<local>\s+\(local\))?(?:\s+\(votes (?P<configured>\d+)\))?$"
)
_NOT_RUNNING = re.compile(r"Cannot initialize (QUORUM|CMAP) service|Could not connect|is not running", re.I)
_REQUIRED = ("Quorate", "Expected votes", "Total votes", "Quorum")


def read_quorumtool(text: str) -> Votes:
    """Votes, quorum, quorate and members (with votes) from `corosync-quorumtool -s`."""
    body = require_content(KIND, command_output(text, ("corosync-quorumtool", "pcs quorum status")))
    if _NOT_RUNNING.search(body[0].text):
        raise ParseError(KIND, f"corosync is not running: {body[0].text.strip()}", body[0].no)
    fields: dict[str, tuple[str, Line]] = {}
    rows: list[Line] = []
    in_members = False
    for line in body:
        text = line.text.strip()
        if text.startswith("Nodeid") and "Votes" in text:
            if in_members:
                raise ParseError(KIND, "a second membership table header", line.no)
            in_members = True
        elif in_members and text and not set(text) <= set("-"):
            rows.append(line)
        elif (found := _FIELD.match(text)) is not None and not in_members:
            fields.setdefault(found.group("key"), (found.group("value").strip(), line))
    return _votes(fields, rows, body[-1].no)


def _votes(fields: dict[str, tuple[str, Line]], rows: list[Line], last: int) -> Votes:
    if not fields and rows:
        # `corosync-quorumtool -l` / `pcs status corosync`: the membership table alone
        members, device = _members(rows)
        return Votes(None, None, None, None, device_votes=device.votes, members=tuple(members),
                     local_node=next((m.name for m in members if m.local), None),
                     device_name=device.name, device_configured_votes=device.configured)
    for key in _REQUIRED:
        if key not in fields:
            raise ParseError(KIND, f"no '{key}:' line (truncated or not corosync-quorumtool -s)", last)
    quorum_text, quorum_line = fields["Quorum"]
    quorate_text, quorate_line = fields["Quorate"]
    if quorate_text not in ("Yes", "No"):
        raise ParseError(KIND, f"Quorate: {quorate_text!r} is not Yes or No", quorate_line.no)
    members, device = _members(rows)
    local = next((m for m in members if m.local), None)
    return Votes(
        expected=_int(fields, "Expected votes"),
        total=_int(fields, "Total votes"),
        quorum=to_int(KIND, (quorum_text.split() or [""])[0], quorum_line, "Quorum"),
        quorate=quorate_text == "Yes",
        node_votes=None if local is None else local.votes,
        device_votes=device.votes,
        device_name=device.name,
        device_configured_votes=device.configured,
        highest_expected=_int(fields, "Highest expected"),
        nodes=_int(fields, "Nodes"),
        flags=tuple(fields.get("Flags", ("", quorum_line))[0].split()),
        local_node=None if local is None else local.name,
        local_node_id=_int(fields, "Node ID"),
        members=tuple(members),
    )


def _int(fields: dict[str, tuple[str, Line]], key: str) -> int | None:
    if key not in fields:
        return None
    value, line = fields[key]
    return to_int(KIND, value, line, key)


@dataclass(frozen=True)
class _Device:
    votes: int | None = None  # cast now
    configured: int | None = None
    name: str | None = None


def _members(rows: list[Line]) -> tuple[list[Member], _Device]:
    members: list[Member] = []
    device = _Device()
    for line in rows:
        match = _ROW.match(line.text.strip())
        if match is None:
            shape = "NODEID VOTES [QDEVICE] NAME"
            raise ParseError(KIND, f"membership row is not '{shape}': {line.text.strip()!r}", line.no)
        votes = int(match.group("votes"))
        node_id = int(match.group("id"), 16 if match.group("id").startswith("0x") else 10)
        if node_id == 0:
            configured = match.group("configured")
            device = _Device(votes, int(configured) if configured else votes, match.group("name"))
            continue
        if match.group("configured"):
            raise ParseError(KIND, f"'(votes N)' on a node row: {line.text.strip()!r}", line.no)
        qdev = match.group("qdev")
        flags = tuple(f.lower() for f in qdev.split(",")) if qdev and qdev != "NR" else (
            ("nr",) if qdev == "NR" else ())
        members.append(Member(match.group("name"), True, node_id, bool(match.group("local")), flags, votes))
    return members, device
