"""`sbd -d DEV dump` -> SbdHeader and `sbd -d DEV list` -> SbdSlot tuple.

Formats (ClusterLabs/sbd src/sbd-md.c): the dump is framed by ``==Dumping header on disk DEV``
and ``==Header on disk DEV is dumped`` around ``Key : value`` lines (Header version, UUID, Number of
slots, Sector size, Timeout (watchdog|allocate|loop|msgwait)); the list is one
``SLOT\\tNODE\\tMESSAGE[\\tSENDER]`` row per used slot. msgwait bounds a disk fence, so a dump
without it is an error.
"""

from __future__ import annotations

import re

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content, to_int
from halab.stacks.types import SbdHeader, SbdSlot

KIND = "sbd-dump"
LIST_KIND = "sbd-list"

_BEGIN = re.compile(r"^==Dumping header on disk (?P<dev>\S+)$")
_END = re.compile(r"^==Header on disk (?P<dev>\S+) is dumped$")
_FIELD = re.compile(r"^(?P<key>[A-Z][\w ()]*?)\s*:\s*(?P<value>.*)$")
_SLOT = re.compile(
    r"^(?P<slot>\d+)\s+(?P<node>\S+)\s+(?P<msg>clear|reset|off|test|exit|crashdump)(?:\s+(?P<sender>\S+))?$"
)


def read_sbd_dump(text: str) -> SbdHeader:
    """Device, header version, slots and the four timeouts of an sbd device."""
    body = require_content(KIND, command_output(text, ("sbd",)))
    device: str | None = None
    fields: dict[str, tuple[str, Line]] = {}
    for line in body:
        stripped = line.text.strip()
        if (begin := _BEGIN.match(stripped)) is not None:
            device = begin.group("dev")
        elif _END.match(stripped) or not stripped:
            continue
        elif (found := _FIELD.match(stripped)) is not None:
            fields[found.group("key")] = (found.group("value").strip(), line)
        else:
            raise ParseError(KIND, f"unexpected line {stripped!r}", line.no)
    for key in ("Timeout (watchdog)", "Timeout (msgwait)"):
        if key not in fields:
            raise ParseError(KIND, f"no '{key}' line (truncated or not sbd dump output)", body[-1].no)

    def num(key: str) -> int | None:
        return to_int(KIND, fields[key][0], fields[key][1], key) if key in fields else None

    return SbdHeader(device=device, version=fields.get("Header version", ("", body[0]))[0] or None,
                     uuid=fields.get("UUID", ("", body[0]))[0] or None, slots=num("Number of slots"),
                     sector_size=num("Sector size"), watchdog_s=num("Timeout (watchdog)") or 0,
                     allocate_s=num("Timeout (allocate)"), loop_s=num("Timeout (loop)"),
                     msgwait_s=num("Timeout (msgwait)") or 0)


def read_sbd_list(text: str) -> tuple[SbdSlot, ...]:
    """Every used slot with its node and pending message (clear = nothing pending)."""
    body = require_content(LIST_KIND, command_output(text, ("sbd",)))
    slots = []
    for line in body:
        found = _SLOT.match(line.text.strip())
        if found is None:
            shape = "SLOT NODE MESSAGE [SENDER]"
            raise ParseError(LIST_KIND, f"slot row is not '{shape}': {line.text.strip()!r}", line.no)
        slots.append(SbdSlot(int(found.group("slot")), found.group("node"), found.group("msg"),
                             found.group("sender")))
    return tuple(slots)
