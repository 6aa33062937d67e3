"""`corosync-quorumtool -s` (corosync 2 and 3 votequorum) -> Votes.

Format: corosync tools/corosync-quorumtool.c: "Quorum information" (Date, Quorum provider, Nodes,
Node ID, Ring ID, Quorate: Yes/No), "Votequorum information" (Expected votes, Highest expected,
Total votes, `Quorum: N[ Activity blocked]`, Flags), "Membership information" with rows
`NODEID VOTES [QDEVICE-FLAGS] NAME[ (local)]`; a qdevice is the row of node id 0. The membership
table alone (`-l`, `pcs status corosync`) reads as members with votes and nothing else known.
"""

from __future__ import annotations

import re

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content, to_int
from halab.stacks.types import Member, Votes

KIND = "quorumtool"

_FIELD = re.compile(r"^(?P<key>[A-Z][A-Za-z ]+?):\s*(?P<value>.*)$")
_ROW = re.compile(
    r"^(?P<id>\d+)\s+(?P<votes>\d+)\s+(?:(?P<qdev>[A-Z,]+|NR)\s+)?(?P<name>\S+)(?P<local>\s+\(local\))?$"
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
        return Votes(None, None, None, None, device_votes=device, members=tuple(members),
                     local_node=next((m.name for m in members if m.local), None))
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
        device_votes=device,
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


def _members(rows: list[Line]) -> tuple[list[Member], int | None]:
    members: list[Member] = []
    device: int | None = None
    for line in rows:
        match = _ROW.match(line.text.strip())
        if match is None:
            shape = "NODEID VOTES [QDEVICE] NAME"
            raise ParseError(KIND, f"membership row is not '{shape}': {line.text.strip()!r}", line.no)
        votes = int(match.group("votes"))
        if match.group("id") == "0":
            device = votes
            continue
        qdev = match.group("qdev")
        flags = tuple(f.lower() for f in qdev.split(",")) if qdev and qdev != "NR" else ()
        members.append(Member(match.group("name"), True, int(match.group("id")), bool(match.group("local")),
                              flags, votes))
    return members, device
