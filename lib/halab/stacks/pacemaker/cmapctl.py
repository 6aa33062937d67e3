"""`corosync-cmapctl runtime.members` (`-b runtime.members`) -> members with their addresses.

Format: ``runtime.members.<nodeid>.<key> (<type>) = <value>`` with keys ip, join_count, status
(joined|left), config_version. A member without a status line is a truncated listing.
"""

from __future__ import annotations

import re

from halab.errors import ParseError
from halab.stacks.text import command_output, require_content
from halab.stacks.types import Member

KIND = "cmap-members"

_ROW = re.compile(r"^runtime\.members\.(?P<id>\d+)\.(?P<key>[\w.]+) \((?P<type>\w+)\) = (?P<value>.*)$")


def read_cmap_members(text: str) -> tuple[Member, ...]:
    """One Member per node id; online when its status is "joined"; flags carry its ip() list."""
    body = require_content(KIND, command_output(text, ("corosync-cmapctl",)))
    values: dict[int, dict[str, str]] = {}
    for line in body:
        found = _ROW.match(line.text.strip())
        if found is None:
            shape = "runtime.members.N.key (type) = value"
            raise ParseError(KIND, f"not a '{shape}' line: {line.text.strip()!r}", line.no)
        values.setdefault(int(found.group("id")), {})[found.group("key")] = found.group("value").strip()
    members = []
    for node_id, keys in values.items():
        if "status" not in keys:
            raise ParseError(KIND, f"member {node_id} has no status (truncated?)", body[-1].no)
        ips = tuple(f"ip:{ip}" for ip in re.findall(r"ip\(([^)]*)\)", keys.get("ip", "")))
        members.append(Member(str(node_id), keys["status"] == "joined", node_id, flags=ips))
    return tuple(members)
