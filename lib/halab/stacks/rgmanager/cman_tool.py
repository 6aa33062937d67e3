"""`cman_tool status` -> Votes and `cman_tool nodes` -> members.

Format: cman/cman_tool/main.c (KEY_FORMATS.md section 2). `Quorum: N  ` (two trailing spaces)
when quorate, `Quorum: N Activity blocked` when not; `Quorum device votes:` only while a qdisk is
registered; RHEL 5 has no `Node votes:`. Keys are found wherever they stand on a line, so a page
that joined several "Key: value" lines into one still reads. pcs appends
`cman_tool nodes -F id,type,votes,name` under a `---Votes---` line: those rows become members.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content, to_int
from halab.stacks.types import Member, Votes

KIND = "cman-status"
NODES_KIND = "cman-nodes"

_KEYS = ("Version", "Config Version", "Cluster Name", "Cluster Id", "Cluster Member", "Cluster Generation",
         "Membership state", "Nodes", "Expected votes", "Quorum device votes", "Total votes",
         "Node votes", "Quorum", "Active subsystems", "Flags", "Ports Bound", "Node name", "Node ID",
         "Multicast addresses", "Node addresses", "Disallowed nodes")
# longest first so "Quorum device votes" is not read as "Quorum"
_KEY_RE = re.compile(
    r"(?:^|(?<=\s))(?P<key>" + "|".join(re.escape(k) for k in sorted(_KEYS, key=len, reverse=True)) + r"):"
)
_REQUIRED = ("Expected votes", "Total votes", "Quorum")
_NOT_RUNNING = re.compile(r"cman_tool: Cannot open connection to cman|Could not connect to CMAN", re.I)
_VOTE_ROW = re.compile(r"^(?P<id>\d+)\s+(?P<type>[MXd?])\s+(?P<votes>\d+)\s+(?P<name>\S+)$")
_NODE_ROW = re.compile(
    r"^(?P<id>\d+)\s+(?P<sts>[MXd?])\s+(?P<inc>\d+)\s+"
    r"(?:(?P<joined>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+)?(?P<name>(?!\d{4}-\d\d-\d\d$)\S+)$"
)


def read_cman_status(text: str) -> Votes:
    """Expected/total/quorum votes, quorate, node and qdisk votes from `cman_tool status`."""
    body = require_content(KIND, command_output(text, ("cman_tool status", "cman_tool")))
    _refuse_down(body)
    fields, votes_block = _fields(body)
    for key in _REQUIRED:
        if key not in fields:
            what = f"no '{key}:' line (truncated or not cman_tool status output)"
            raise ParseError(KIND, what, body[-1].no)
    quorum_text, quorum_line = fields["Quorum"]
    number, _, rest = quorum_text.partition(" ")
    quorum = to_int(KIND, number, quorum_line, "Quorum")
    if rest.strip() not in ("", "Activity blocked"):
        what = f"'Quorum: {quorum_text}' is neither 'N' nor 'N Activity blocked'"
        raise ParseError(KIND, what, quorum_line.no)
    return Votes(
        expected=_int(fields, "Expected votes"),
        total=_int(fields, "Total votes"),
        quorum=quorum,
        quorate=not rest.strip(),
        node_votes=_int(fields, "Node votes"),
        device_votes=_int(fields, "Quorum device votes"),
        nodes=_int(fields, "Nodes"),
        flags=tuple(fields.get("Flags", ("", body[0]))[0].split()),
        cluster_name=_text(fields, "Cluster Name"),
        local_node=_text(fields, "Node name"),
        local_node_id=_int(fields, "Node ID"),
        members=tuple(_vote_member(row) for row in votes_block),
    )


def _refuse_down(body: Sequence[Line]) -> None:
    for line in body[:3]:
        if _NOT_RUNNING.search(line.text):
            raise ParseError(KIND, f"cman is not running: {line.text.strip()}", line.no)


def _fields(body: Sequence[Line]) -> tuple[dict[str, tuple[str, Line]], list[Line]]:
    fields: dict[str, tuple[str, Line]] = {}
    votes_block: list[Line] = []
    in_votes = False
    for line in body:
        text = line.text.strip()
        if text == "---Votes---":
            in_votes = True
            continue
        if in_votes:
            votes_block.append(line)
            continue
        _line_fields(text, line, fields)
    return fields, votes_block


def _line_fields(text: str, line: Line, fields: dict[str, tuple[str, Line]]) -> None:
    keys = list(_KEY_RE.finditer(text))
    for i, match in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(text)
        fields.setdefault(match.group("key"), (text[match.end():end].strip(), line))


def _int(fields: dict[str, tuple[str, Line]], key: str) -> int | None:
    if key not in fields:
        return None
    value, line = fields[key]
    return to_int(KIND, value, line, key)


def _text(fields: dict[str, tuple[str, Line]], key: str) -> str | None:
    value = fields.get(key, ("", None))[0]
    return value or None


def _vote_member(line: Line, kind: str = KIND) -> Member:
    match = _VOTE_ROW.match(line.text.strip())
    if match is None:
        what = f"row is not 'ID TYPE VOTES NAME' (nodes -F id,type,votes,name): {line.text.strip()!r}"
        raise ParseError(kind, what, line.no)
    return Member(match.group("name"), match.group("type") == "M", int(match.group("id")),
                  flags=_sts_flags(match.group("type")), votes=int(match.group("votes")))


def _sts_flags(sts: str) -> tuple[str, ...]:
    return {"X": ("dead",), "d": ("disallowed",), "?": ("unknown",)}.get(sts, ())


QDISK_NODE_ID = 0  # cman lists the quorum disk as node 0


def read_cman_nodes(text: str) -> tuple[Member, ...]:
    """Members of `cman_tool nodes` (Node Sts Inc Joined Name): M = member, X = dead, d = disallowed.
    The quorum disk's row (node 0) is not a member and is left out.

    Also reads `cman_tool nodes -F id,type,votes,name` (no header), the form pcs appends.
    """
    found = command_output(text, ("cman_tool nodes", "cman_tool"))
    body = [ln for ln in require_content(NODES_KIND, found) if not _disallowed_note(ln.text)]
    if not body:
        raise ParseError(NODES_KIND, "no node rows", found[-1].no)
    if body[0].text.split()[:3] != ["Node", "Sts", "Inc"]:
        return tuple(_vote_member(line, NODES_KIND) for line in body)
    rows = [_node_row(line) for line in body[1:] if not line.text.strip().startswith("Addresses:")]
    if not rows:
        raise ParseError(NODES_KIND, "no node rows under the header", body[0].no)
    # Node 0 is the quorum disk (seen live: "0 M 0 ... /dev/loop0"), not a cluster member; its
    # state is in `cman_tool status` (Quorum device votes) and clustat's quorum device row.
    return tuple(m for m in rows if m.node_id != QDISK_NODE_ID)


def _disallowed_note(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("NOTE: There are") or stripped.startswith("members list may seem inconsistent")


def _node_row(line: Line) -> Member:
    match = _NODE_ROW.match(line.text.strip())
    if match is None:
        what = f"node row is not 'ID STS INC [JOINED] NAME': {line.text.strip()!r}"
        raise ParseError(NODES_KIND, what, line.no)
    return Member(match.group("name"), match.group("sts") == "M", int(match.group("id")),
                  flags=_sts_flags(match.group("sts")))
