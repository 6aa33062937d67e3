"""Shared handling of captured command output before a reader looks at its structure.

Outputs reach us through terminals, blogs, tickets and `ssh` captures: they carry shell prompts,
non-breaking spaces, markdown bold, CRLF, and sometimes two commands' outputs on one page. Every
reader goes through `lines()` and `command_output()` so that tolerance lives in one place and the
readers themselves only parse structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from halab.errors import ParseError

# "[root@node01 ~]# clustat", "root@node01:~# crm_mon -1", "node01:~ # pcs status" (SUSE).
_PROMPT = re.compile(
    r"^\s*(?:\[[^\]\s]+@[^\]]*\]|[\w.-]+@[\w.-]+:\S*|[\w.-]+:~\S*\s*)\s*[#$]\s*(?P<rest>.*)$"
)
_BOLD = re.compile(r"^\*\*(?P<cmd>.+?)\*\*\s*(?P<out>.*)$")
_MARKDOWN_BOLD = re.compile(r"(?<!\*)\*\*(?!\*)")  # "**x**" of a blog, not crm_mon's "*** x ***"


@dataclass(frozen=True)
class Line:
    """One input line: its 1-based number in what the reader was given, and its cleaned text."""

    no: int
    text: str

    def split(self) -> list[str]:
        return self.text.split()


def clean(text: str) -> str:
    """One line as a reader wants it: NBSP as space, no markdown bold, no trailing blanks."""
    return _MARKDOWN_BOLD.sub("", text.replace("\u00a0", " ").replace("\r", "")).rstrip()


def lines(text: str) -> list[Line]:
    """All lines of ``text``, cleaned and numbered from 1."""
    return [Line(i, clean(raw)) for i, raw in enumerate(text.splitlines(), start=1)]


@dataclass(frozen=True)
class Segment:
    """The output of one command on a captured page (``command`` is None before any prompt)."""

    command: str | None
    lines: tuple[Line, ...]


def segments(text: str) -> list[Segment]:
    """Split a captured page at shell prompts; an output joined to its prompt line is kept."""
    out: list[Segment] = []
    command: str | None = None
    body: list[Line] = []
    for raw_no, raw in enumerate(text.splitlines(), start=1):
        match = _PROMPT.match(raw.replace("\u00a0", " "))
        if match is None:
            body.append(Line(raw_no, clean(raw)))
            continue
        if command is not None or any(ln.text.strip() for ln in body):
            out.append(Segment(command, tuple(body)))
        command, joined = _split_command(match.group("rest"))
        body = [Line(raw_no, joined)] if joined else []
    out.append(Segment(command, tuple(body)))
    return out


def _split_command(rest: str) -> tuple[str, str]:
    """`**clustat** Cluster Status for ...` (a blog joined the output to the prompt) -> both parts."""
    bold = _BOLD.match(rest.strip())
    if bold:
        return bold.group("cmd").strip(), clean(bold.group("out"))
    return clean(rest).strip(), ""


def command_output(text: str, commands: Sequence[str]) -> list[Line]:
    """The lines produced by the first of ``commands`` found on the page, else the whole page.

    A page without prompts is one command's output. With prompts, the segment whose command
    starts with one of ``commands`` wins; other commands' outputs are left out.
    """
    segs = segments(text)
    if len(segs) == 1 and segs[0].command is None:
        return list(segs[0].lines)
    for seg in segs:
        if seg.command and any(_runs(seg.command, name) for name in commands):
            return list(seg.lines)
    return [ln for seg in segs if seg.command is None for ln in seg.lines]


def _runs(command: str, name: str) -> bool:
    words = command.split()
    want = name.split()
    return bool(words) and words[0].rsplit("/", 1)[-1] == want[0] and all(w in words for w in want[1:])


def nonblank(found: Iterable[Line]) -> list[Line]:
    return [ln for ln in found if ln.text.strip()]


def require_content(kind: str, found: Sequence[Line]) -> list[Line]:
    """Non-blank lines, or a ParseError saying the input is empty."""
    body = nonblank(found)
    if not body:
        raise ParseError(kind, "empty input", found[-1].no if found else None)
    return body


def to_int(kind: str, value: str, line: Line, what: str) -> int:
    """An integer field, or a ParseError naming the field and the line (garbled or cut off)."""
    token = value.strip()
    try:
        return int(token, 0) if token.lower().startswith("0x") else int(token)
    except ValueError:
        raise ParseError(kind, f"{what}: {token!r} is not a number", line.no) from None


def last_line(found: Sequence[Line]) -> int | None:
    return found[-1].no if found else None
