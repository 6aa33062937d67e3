"""Log lines into timestamped events, driven by per-stack pattern tables (as Pacemaker's CTS does).

A line is first split into time, host, program and message by its *shape* (journal ISO, classic
syslog, a /var/log/cluster/*.log line with no host, pacemaker's detail log, bare kernel lines);
then each table row whose program and message regex match yields an event. Knowledge of what a
message means lives only in the tables (stacks/*/patterns.py), never in this engine.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from halab.errors import ParseError
from halab.stacks.timestamps import ISO, MONTHS, SYSLOG, iso_time, syslog_time
from halab.stacks.types import Event, EventKind

KIND = "syslog"

# Daemons that write /var/log/cluster/<daemon>.log as "Mon DD HH:MM:SS daemon message" (no host).
CLUSTER_LOG_DAEMONS = ("fenced", "qdiskd", "rgmanager", "dlm_controld", "gfs_controld", "groupd",
                       "corosync", "cman", "clurgmgrd")
_DAEMON = r"(?P<daemon>[A-Za-z_][\w./-]*)(?:\[(?P<pid>\d+)\])?:"
_SHAPES = (
    # /var/log/cluster/fenced.log, corosync.log: no host, no pid, no colon after the daemon
    re.compile(rf"^(?P<ts>{SYSLOG})\s+(?P<daemon>{'|'.join(CLUSTER_LOG_DAEMONS)})\s+(?P<msg>.*)$"),
    # journalctl -o short-iso[-precise], rsyslog RFC 3339
    re.compile(rf"^(?P<ts>{ISO})\s+(?P<host>\S+)\s+{_DAEMON}\s?(?P<msg>.*)$"),
    # classic syslog, journalctl -o short[-precise]; a host may be mangled into two words
    re.compile(rf"^(?P<ts>{SYSLOG})\s+(?P<host>\S+(?:\s+\S+)??)\s+{_DAEMON}\s?(?P<msg>.*)$"),
    # pacemaker's detail log: "host pacemaker-fenced    [1736] (remote_op_done)    notice: ..."
    re.compile(rf"^(?P<ts>{SYSLOG}|{ISO})\s+(?P<host>\S+)\s+(?P<daemon>[\w-]+)\s+\[(?P<pid>\d+)\]"
               r"\s+(?:\([^)]*\)\s+)?(?P<msg>.*)$"),
)
# dmesg or kernel lines copied without a header: only well-known cluster/storage subsystems count
_KERNEL = re.compile(
    r"^(?:\[\s*\d+\.\d+\]\s*)?(?P<msg>(?:dlm|GFS2|gfs2|connection\d+:\d+|session\d+|sd \d+:\d+:\d+:\d+"
    r"|scsi \d+:\d+:\d+:\d+|Buffer I/O error)\b.*)$"
)
# A blog or a paste may join several log lines into one: split before every further header.
_JOINED = re.compile(re.sub(
    r"\(\?P<\w+>", "(?:", rf"\s+(?=(?:{SYSLOG}|{ISO})\s+\S+\s+[A-Za-z_][\w./-]*(?:\[\d+\])?:\s)"
))
_PRIORITY = re.compile(r"^<(?:emerg|alert|crit|err|error|warning|warn|notice|info|debug)>\s*", re.I)
_LEVEL = re.compile(r"^(?:trace|debug|info|notice|warning|error|crit|alert|emerg):\s+")
_SUBSYS = re.compile(r"^\[(?P<subsys>[A-Z0-9_]+)\s*\]\s*")
# pacemaker 1.1 daemons put the C function first: "crmd[3]: notice: process_lrm_event: Operation ..."
_FUNCTION_FIRST = ("crmd", "stonith-ng", "pengine", "cib", "attrd", "lrmd", "pacemakerd")
_FUNCTION = re.compile(r"^[a-z_]+:\s+")


@dataclass(frozen=True)
class LogLine:
    """One log line split by its shape: when, who logged it, which program, what it said."""

    no: int
    raw: str
    time: datetime | None
    host: str | None
    daemon: str
    subsys: str | None
    message: str


@dataclass(frozen=True)
class Pattern:
    """One row of a stack's log table: program(s) + message regex -> one event per match.

    Named groups ``node``, ``actor``, ``agent``, ``service`` fill the event's fields. ``each``
    names a group holding a space-separated list (corosync's "Members left: 2 3"): one event per
    item, the item as ``node``. ``node_is_reporter`` / ``actor_is_reporter`` fill that field with
    the host that logged the line (rgmanager: "Service X started" is about the logging node).
    """

    kind: EventKind
    regex: re.Pattern[str]
    daemons: tuple[str, ...] = ()
    each: str | None = None
    node_is_reporter: bool = False
    actor_is_reporter: bool = False
    fixed: Mapping[str, str] = field(default_factory=dict)

    def applies(self, line: LogLine) -> bool:
        return not self.daemons or line.daemon in self.daemons


def pattern(kind: EventKind, regex: str, *daemons: str, flags: int = 0, each: str | None = None,
            node_is_reporter: bool = False, actor_is_reporter: bool = False,
            fixed: Mapping[str, str] | None = None) -> Pattern:
    """A table row; regexes are written as the C format strings read (see reference msgs/*.tsv)."""
    return Pattern(kind, re.compile(regex, flags), tuple(daemons), each, node_is_reporter,
                   actor_is_reporter, dict(fixed or {}))


def split_lines(text: str, year: int | None) -> tuple[list[LogLine], int]:
    """All recognisable log lines, and how many non-blank lines there were."""
    out: list[LogLine] = []
    seen = 0
    clock = _Year(year)
    for no, raw in enumerate(text.splitlines(), start=1):
        for piece in _unjoin(raw):
            if not piece.strip():
                continue
            seen += 1
            parsed = _shape(no, piece, clock)
            if parsed is not None:
                out.append(parsed)
    return out, seen


def read_events(text: str, table: Sequence[Pattern], reporter: str | None = None,
                year: int | None = None, kind: str = KIND) -> list[Event]:
    """Events of every line any table row matches, in time order, duplicates dropped.

    Lines of no known shape (journal headers, "-- Reboot --", elisions) are skipped; input with
    no log line at all is a ParseError, not an empty answer. The same message read from syslog
    and from /var/log/cluster/*.log is one event. ``reporter`` (the node the log came from)
    overrides the host in the lines, which cluster log files do not carry at all.
    """
    found, seen = split_lines(text, year)
    if seen and not found:
        first = next(i for i, ln in enumerate(text.splitlines(), start=1) if ln.strip())
        raise ParseError(kind, "no line looks like a log line (journal, syslog or cluster log)", first)
    events = _dedupe(ev for line in found for ev in _match(line, table, reporter))
    return _in_time_order(events)


def _unjoin(raw: str) -> list[str]:
    text = html.unescape(raw) if "&" in raw else raw
    return _JOINED.split(text.replace("\u00a0", " ").rstrip())


class _Year:
    """The year of classic syslog lines: given, or this year; steps on at a Dec -> Jan roll-over."""

    def __init__(self, year: int | None) -> None:
        self.year = year if year is not None else datetime.now().year
        self.month = 0

    def at(self, month: int) -> int:
        if self.month == 12 and month == 1:
            self.year += 1
        self.month = month
        return self.year


def _shape(no: int, raw: str, clock: _Year) -> LogLine | None:
    text = raw.strip()
    for shape in _SHAPES:
        match = shape.match(text)
        if match is not None:
            return _build(no, raw, match, clock)
    kernel = _KERNEL.match(text)
    if kernel is not None:
        return LogLine(no, raw, None, None, "kernel", None, kernel.group("msg"))
    return None


def _build(no: int, raw: str, match: re.Match[str], clock: _Year) -> LogLine | None:
    groups = match.groupdict()
    when = _time(match.group("ts"), groups, clock)
    if when is None:
        return None
    message = _PRIORITY.sub("", match.group("msg").strip())
    message = _LEVEL.sub("", message)
    if match.group("daemon") in _FUNCTION_FIRST:
        message = _FUNCTION.sub("", message)
    subsys = _SUBSYS.match(message)
    if subsys is not None:
        message = message[subsys.end():]
    host = groups.get("host")
    return LogLine(no, raw, when, " ".join(host.split()) if host else None, match.group("daemon"),
                   subsys.group("subsys") if subsys else None, message.strip())


def _time(ts: str, groups: Mapping[str, str | None], clock: _Year) -> datetime | None:
    if groups.get("date"):
        return iso_time(ts)
    month = groups.get("mon")
    if month is None or month not in MONTHS:
        return None
    return syslog_time(ts, clock.at(MONTHS[month]))


def _match(line: LogLine, table: Sequence[Pattern], reporter: str | None) -> Iterator[Event]:
    who = reporter or line.host
    for row in table:
        if not row.applies(line):
            continue
        found = row.regex.search(line.message)
        if found is None:
            continue
        yield from _events(row, found, line, who)


def _events(row: Pattern, found: re.Match[str], line: LogLine, who: str | None) -> Iterator[Event]:
    values: dict[str, str] = {}
    for key, value in found.groupdict().items():
        if value:  # "node2" is a second spelling of "node" in an alternation
            values.setdefault(key.rstrip("0123456789"), value)
    values.update(row.fixed)
    nodes: Iterable[str | None] = [values.get("node")]
    if row.each is not None:
        nodes = values.get(row.each, "").split()
    for node in nodes:
        yield Event(
            kind=row.kind,
            time=line.time,
            reporter=who,
            node=who if row.node_is_reporter else node,
            actor=who if row.actor_is_reporter else _who(values.get("actor")),
            agent=values.get("agent") or None,
            service=_service(values.get("service")),
            raw=line.raw.strip(),
            line=line.no,
        )


def _who(actor: str | None) -> str | None:
    """Pacemaker writes "<no-one>", "(null)" or "unknown node" where nobody acted."""
    if actor is None or actor.strip("<>()") in ("no-one", "null", "unknown node", "unknown", ""):
        return None
    return actor


def _service(name: str | None) -> str | None:
    if not name:
        return None
    return name.removeprefix("service:")


def _dedupe(events: Iterable[Event]) -> list[Event]:
    out: list[Event] = []
    seen: set[tuple[object, ...]] = set()
    for ev in events:
        key = (ev.kind, ev.time, ev.reporter, ev.node, ev.actor, ev.agent, ev.service)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out


def _in_time_order(events: list[Event]) -> list[Event]:
    """Time order when every time is comparable (one clock style); file order otherwise."""
    aware = {ev.time.tzinfo is not None for ev in events if ev.time is not None}
    if len(aware) > 1:
        return events
    return sorted(events, key=lambda ev: (ev.time is None, ev.time or datetime.min))
