"""`tgt-admin -s` / `tgtadm --lld iscsi --mode target --op show` -> Target tuple.

Format: tgt usr/target.c (tgt 1.0.24 on RHEL 6 to 1.0.8x): ``Target N: IQN`` then indented
sections System information, I_T nexus information (``I_T nexus: N`` / ``Initiator: NAME[ alias:
A]`` / ``Connection: C`` / ``IP Address: ADDR``), LUN information (``LUN: N`` / ``Type:`` /
``Size: N MB, Block size: B`` / ``Backing store path:``), Account information, ACL information.
Sizes are printed in 10^6-byte units, rounded down. Every target ends with its ACL section: a
target without one was cut off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content, to_int
from halab.stacks.types import Lun, Target

KIND = "tgt-show"

_TARGET = re.compile(r"^Target (?P<tid>\d+): (?P<name>\S+)$")
_SECTIONS = {"System information:": "system", "I_T nexus information:": "nexus", "LUN information:": "lun",
             "Account information:": "account", "ACL information:": "acl"}
_FIELD = re.compile(r"^(?P<key>[A-Za-z_ /-]+?):\s*(?P<value>.*)$")
_SIZE = re.compile(r"^(?P<n>\d+) MB(?:, Block size: \d+)?$")


@dataclass
class _Lun:
    lun: int
    line: int
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class _Target:
    tid: int
    name: str
    line: int
    section: str = ""
    luns: list[_Lun] = field(default_factory=list)
    initiators: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    acl: list[str] = field(default_factory=list)
    saw_acl: bool = False


def read_tgt_show(text: str) -> tuple[Target, ...]:
    """Targets with their LUNs (size, backing file), connected initiators and ACL."""
    body = require_content(KIND, command_output(text, ("tgt-admin", "tgtadm")))
    targets: list[_Target] = []
    for line in body:
        stripped = line.text.strip()
        if (found := _TARGET.match(stripped)) is not None:
            targets.append(_Target(int(found.group("tid")), found.group("name"), line.no))
        elif not targets:
            raise ParseError(KIND, f"expected 'Target N: IQN', got {stripped!r}", line.no)
        else:
            _line(targets[-1], stripped, line)
    return tuple(_done(t, body[-1].no) for t in targets)


def _line(target: _Target, text: str, line: Line) -> None:
    if text in _SECTIONS:
        target.section = _SECTIONS[text]
        target.saw_acl = target.saw_acl or target.section == "acl"
        return
    if target.section == "acl":
        target.acl.append(text)
        return
    if target.section == "account":
        return
    found = _FIELD.match(text)
    if found is None:
        where = target.section or "target"
        raise ParseError(KIND, f"expected 'Key: value' in {where} section, got {text!r}", line.no)
    key, value = found.group("key").strip(), found.group("value").strip()
    if target.section == "nexus":
        _nexus(target, key, value)
    elif target.section == "lun":
        _lun(target, key, value, line)


def _nexus(target: _Target, key: str, value: str) -> None:
    if key == "Initiator":
        target.initiators.append(value.split(" alias:", maxsplit=1)[0].strip())
    elif key == "IP Address":
        target.addresses.append(value)


def _lun(target: _Target, key: str, value: str, line: Line) -> None:
    if key == "LUN":
        target.luns.append(_Lun(to_int(KIND, value, line, "LUN"), line.no))
    elif not target.luns:
        raise ParseError(KIND, f"'{key}:' before any 'LUN:' line", line.no)
    else:
        target.luns[-1].values[key] = value


def _done(target: _Target, last: int) -> Target:
    if not target.saw_acl:
        raise ParseError(KIND, f"target {target.tid} has no ACL information section (truncated?)", last)
    return Target(tid=target.tid, name=target.name, luns=tuple(_lun_done(lun) for lun in target.luns),
                  initiators=tuple(target.initiators), initiator_addresses=tuple(target.addresses),
                  acl=tuple(target.acl))


def _lun_done(lun: _Lun) -> Lun:
    size_text = lun.values.get("Size")
    if size_text is None or "Type" not in lun.values:
        raise ParseError(KIND, f"LUN {lun.lun} has no Type or Size line", lun.line)
    size = _SIZE.match(size_text)
    if size is None:
        raise ParseError(KIND, f"LUN {lun.lun}: size {size_text!r} is not 'N MB, Block size: B'", lun.line)
    backing = lun.values.get("Backing store path", lun.values.get("Backing store"))
    return Lun(lun=lun.lun, size_bytes=int(size.group("n")) * 1_000_000,
               backing=None if backing in (None, "", "None") else backing, kind=lun.values["Type"])
