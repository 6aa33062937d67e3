"""Fence history lines of crm_mon / pcs status / stonith_admin --history text -> FenceAction.

Format: pacemaker lib/fencing/st_output.c stonith__history_description() (KEY_FORMATS.md
section 8), in two styles:

- technical (``--show-detail``, pcs): ``reboot of N successful: delegate=D, client=C, origin=O,
  completed='2022-03-06 23:27:35 +08:00'`` (1.1 wraps the time onto the next line);
- human: ``reboot of N by D for C@O [last ]successful at 2022-03-06 23:27:35 +08:00``.

A failed entry may carry ``(exit reason)`` and ``(a later attempt from X succeeded)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content
from halab.stacks.timestamps import any_time
from halab.stacks.types import FenceAction

KIND = "fence-history"
FENCE_SECTIONS = ("failed fencing actions", "fencing history", "pending fencing actions")
_STATES = {"successful": "success", "failed": "failed", "pending": "pending"}
_TECHNICAL = re.compile(
    r"^(?P<action>\S+) of (?P<target>\S+) (?P<state>successful|failed|pending)(?: \((?P<reason>[^)]*)\))?"
    r":\s*(?P<kv>.*)$"
)
_HUMAN = re.compile(
    r"^(?P<action>\S+) of (?P<target>\S+)(?: by (?P<delegate>\S+))? for (?P<client>[^@\s]+)@(?P<origin>\S+)"
    r"(?: last)? (?P<state>successful|failed|pending)(?: \((?!a later)(?P<reason>[^)]*)\))?"
    r"(?: at (?P<when>.+?))?(?: \(a later attempt from \S+ succeeded\))?$"
)
_KV = re.compile(r"(?P<key>[\w-]+)=(?:'(?P<quoted>[^']*)'|(?P<plain>[^,]*))")
_TIME_KEYS = ("completed", "last-successful", "last-failed")


def read_fence_history_text(text: str) -> tuple[FenceAction, ...]:
    """`stonith_admin --history '*'` text (or any status text with fencing sections).

    stonith_admin prints nothing when there is no history: empty input is an empty history.
    """
    if not text.strip():
        return ()
    body = require_content(KIND, command_output(text, ("stonith_admin", "crm_mon", "pcs")))
    return read_fence_lines(KIND, [Line(ln.no, ln.text.strip().removeprefix("* ").strip())
                                   for ln in body if not _heading(ln.text)])


def _heading(text: str) -> bool:
    return text.strip().rstrip(":").lower() in FENCE_SECTIONS


def read_fence_lines(kind: str, found: Sequence[Line]) -> tuple[FenceAction, ...]:
    """Entries of fencing sections; a wrapped `completed='...'` continues the entry above it."""
    merged: list[Line] = []
    for line in found:
        text = line.text.strip()
        if not text:
            continue
        if merged and text.split("=", 1)[0] in _TIME_KEYS:
            merged[-1] = Line(merged[-1].no, f"{merged[-1].text} {text}")
        else:
            merged.append(Line(line.no, text))
    return tuple(_entry(kind, line) for line in merged)


def _entry(kind: str, line: Line) -> FenceAction:
    technical = _TECHNICAL.match(line.text)
    if technical:
        return _from_technical(kind, technical, line)
    human = _HUMAN.match(line.text)
    if human:
        return FenceAction(target=human.group("target"), action=human.group("action"),
                           status=_STATES[human.group("state")], delegate=human.group("delegate"),
                           origin=human.group("origin"), completed=_when(kind, human.group("when"), line))
    shape = "<action> of <target> <state>..."
    raise ParseError(kind, f"fence history entry is not '{shape}': {line.text!r}", line.no)


def _from_technical(kind: str, match: re.Match[str], line: Line) -> FenceAction:
    values = {m.group("key"): (m.group("quoted") or m.group("plain") or "").strip()
              for m in _KV.finditer(match.group("kv"))}
    if "origin" not in values:
        raise ParseError(kind, f"fence history entry without origin= (truncated?): {line.text!r}", line.no)
    when = next((values[k] for k in _TIME_KEYS if k in values), None)
    return FenceAction(target=match.group("target"), action=match.group("action"),
                       status=_STATES[match.group("state")], delegate=values.get("delegate") or None,
                       origin=values.get("origin") or None, completed=_when(kind, when, line))


def _when(kind: str, text: str | None, line: Line) -> datetime | None:
    if not text:
        return None
    when = any_time(text.strip().rstrip(","))
    if when is None:
        raise ParseError(kind, f"fence history time {text!r} is not a time", line.no)
    return when
