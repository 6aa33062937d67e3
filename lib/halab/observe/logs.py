"""Node logs for the fault window, shifted onto host time by each node's measured clock offset."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from halab.errors import HalabError
from halab.lab.lab import Lab
from halab.lab.remote import EVIDENCE_CONNECT_TIMEOUT_S
from halab.observe.timeline import Timeline
from halab.stacks.base import StackAdapter
from halab.stacks.types import Event


@dataclass(frozen=True)
class NodeLog:
    node: str
    offset_s: float | None  # node clock minus host clock; None when the node did not answer
    text: str
    events: tuple[Event, ...]
    error: str = ""
    offset_err_s: float = 0.0  # +- of offset_s: half the shortest round trip it was measured with


def clock_offset(lab: Lab, node: str, samples: int = 5) -> tuple[float, float]:
    """Node clock minus host clock, and its error bound: the shortest of a few round trips wins
    (its midpoint is the best estimate, half its length the bound; ~0.1-0.3 s under TCG)."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time()
        res = lab.remote(node).run("date +%s.%N", timeout=10, connect_timeout=EVIDENCE_CONNECT_TIMEOUT_S, check=True)
        after = time.time()
        estimate = (float(res.stdout.strip()) - (before + after) / 2, (after - before) / 2)
        if best is None or estimate[1] < best[1]:
            best = estimate
    assert best is not None
    return best


def collect(lab: Lab, adapter: StackAdapter, node: str, since_wall: float) -> NodeLog:
    try:
        offset, bound = clock_offset(lab, node)
        since = datetime.fromtimestamp(since_wall + offset, UTC).strftime("%Y-%m-%d %H:%M:%S")
        res = lab.remote(node).run(adapter.commands.logs_since.format(since=since), timeout=60,
                                   connect_timeout=EVIDENCE_CONNECT_TIMEOUT_S)
        events = adapter.read_events(res.stdout, reporter=node, year=datetime.now(UTC).year)
    except HalabError as err:
        return NodeLog(node, None, "", (), str(err))
    return NodeLog(node, offset, res.stdout, tuple(events), offset_err_s=bound)


def add_to_timeline(timeline: Timeline, log: NodeLog) -> None:
    if log.offset_s is None:
        return
    for event in log.events:
        if event.time is None:
            continue
        when = event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC)
        t = timeline.at_wall(when.timestamp() - log.offset_s)
        detail = " ".join(f"{k}={v}" for k, v in (("node", event.node), ("actor", event.actor),
                                                    ("service", event.service)) if v)
        timeline.record("log", log.node, event.kind.value, detail, t=t, uncertainty=log.offset_err_s)


@dataclass(frozen=True)
class FencePathCommand:
    """One command a node's fence agent ran on the host (a line of halab-fence-shell's log)."""

    wall: float  # host time when virsh returned
    client: str  # the address the fence agent logged in from
    verb: str  # domstate | start | destroy | list
    domain: str
    ok: bool  # virsh's exit code was 0


_FENCE_LINE = re.compile(r"^(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z (?P<client>\S+) "
                         r"(?P<q>['\"])(?:sudo\s+)?virsh\s+(?P<verb>\w+)(?:\s+(?P<domain>[^'\"\s]+))?\s*(?P=q) "
                         r"rc=(?P<rc>\S+) ")


def read_fence_path(text: str) -> tuple[FencePathCommand, ...]:
    """The host fence log's commands; lines it does not recognise are skipped (the log is halab's
    own, written by halab-fence-shell; a refused command has no virsh verb to read)."""
    out = []
    for line in text.splitlines():
        m = _FENCE_LINE.match(line)
        if m:
            wall = datetime.strptime(m["stamp"], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC).timestamp()
            out.append(FencePathCommand(wall, m["client"], m["verb"], m["domain"] or "", m["rc"] == "0"))
    return tuple(out)


def fence_path(log: Path, since_wall: float) -> str:
    """The host's side of the fences since ``since_wall``: halab-fence-shell's lines (host time, UTC),
    one per command a node's fence agent sent. "" when there is no such log or nothing since."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    since = datetime.fromtimestamp(since_wall, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    kept = [ln for ln in lines if ln[:19] >= since]
    return "\n".join(kept) + "\n" if kept else ""
