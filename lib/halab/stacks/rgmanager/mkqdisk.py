"""`mkqdisk -L` (and `mkqdisk -c`) -> QdiskLabel tuple.

Format: cman/qdisk/mkqdisk.c + proc.c (KEY_FORMATS.md section 3): banner `mkqdisk vX`, then for
each quorum disk every device path that reaches it (`path:`), then TAB-indented
Magic/Label/Created/Host/Kernel Sector Size[/Recorded Sector Size]. `-c` prints
`Writing new quorum disk label 'L' to DEV.` and one `Initializing status block for node N...`
per slot. A listing cut before its Label is an error, not a disk without a label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content, to_int
from halab.stacks.types import QdiskLabel

KIND = "mkqdisk"

_BANNER = re.compile(r"^mkqdisk v\S+$")
_FIELD = re.compile(
    r"^(?P<key>Magic|Label|Created|Host|Kernel Sector Size|Recorded Sector Size):\s*(?P<value>.*)$"
)
_WRITING = re.compile(r"^Writing new quorum disk label '(?P<label>[^']*)' to (?P<dev>\S+?)\.?$")
_INIT = re.compile(r"^Initializing status block for node (?P<n>\d+)\.\.\.$")
_NOISE = re.compile(
    r"^(WARNING: About to destroy all data on .*|Warning: Initializing previously initialized partition)$"
)


@dataclass
class _Disk:
    paths: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    last: int = 0


def read_mkqdisk(text: str) -> tuple[QdiskLabel, ...]:
    """Every quorum disk `mkqdisk -L` lists (or the one `mkqdisk -c` wrote)."""
    body = require_content(KIND, command_output(text, ("mkqdisk",)))
    if _BANNER.match(body[0].text.strip()):
        body = body[1:]
    if not body:
        return ()  # banner only: no quorum disk found
    if _WRITING.match(body[0].text.strip()):
        return (_created(body),)
    return tuple(_label(disk) for disk in _disks(body))


def _disks(body: list[Line]) -> list[_Disk]:
    disks: list[_Disk] = []
    current: _Disk | None = None
    for line in body:
        text = line.text.strip()
        found = _FIELD.match(text)
        if found and current is not None and current.paths:
            current.values[found.group("key")] = found.group("value").strip()
            current.last = line.no
        elif text.endswith(":") and not found:
            if current is None or current.values:
                current = _Disk()
                disks.append(current)
            current.paths.append(text[:-1])
            current.last = line.no
        else:
            what = f"expected a device path ending in ':' or a TAB-indented field, got {text!r}"
            raise ParseError(KIND, what, line.no)
    return disks


def _label(disk: _Disk) -> QdiskLabel:
    values = disk.values
    for key in ("Magic", "Label", "Created", "Host", "Kernel Sector Size"):
        if key not in values:
            raise ParseError(KIND, f"quorum disk {disk.paths[0]} has no {key} (truncated?)", disk.last)
    line = Line(disk.last, "")
    kss = values.get("Kernel Sector Size")
    rss = values.get("Recorded Sector Size")
    return QdiskLabel(
        paths=tuple(disk.paths), label=values["Label"], magic=values["Magic"],
        created=values.get("Created"), host=values.get("Host"),
        kernel_sector_size=to_int(KIND, kss, line, "Kernel Sector Size") if kss else None,
        recorded_sector_size=to_int(KIND, rss, line, "Recorded Sector Size") if rss else None,
    )


def _created(body: list[Line]) -> QdiskLabel:
    writing = _WRITING.match(body[0].text.strip())
    assert writing is not None
    blocks = 0
    for line in body[1:]:
        text = line.text.strip()
        if _INIT.match(text):
            blocks += 1
        elif not _NOISE.match(text) and not text.startswith("WARNING: About to destroy"):
            what = f"unexpected line after 'Writing new quorum disk label': {text!r}"
            raise ParseError(KIND, what, line.no)
    return QdiskLabel(paths=(writing.group("dev"),), label=writing.group("label"), status_blocks=blocks)
