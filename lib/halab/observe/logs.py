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


Offset = tuple[float, float]  # node clock minus host clock, and its +- bound


def offsets(lab: Lab, names: list[str], samples: int = 3) -> dict[str, Offset]:
    """Each answering node's clock offset, measured before a fault: a node the fault stops, suspends
    or reboots comes back with another clock, so its lines from before that are read with this one."""
    out: dict[str, Offset] = {}
    for node in names:
        try:
            out[node] = clock_offset(lab, node, samples)
        except HalabError:
            continue  # its lines are then read with the offset measured after the fault
    return out


def clock_break(timeline: Timeline, node: str) -> float | None:
    """When the node's clock stopped being the one it had at t0: its first libvirt lifecycle event
    after t0 (suspended, stopped, reset), or None when the run has none."""
    return next((o.t for o in timeline.items() if o.source == "libvirt" and o.node == node
                 and o.kind == "lifecycle" and o.t >= 0.0), None)


def add_to_timeline(timeline: Timeline, log: NodeLog, before: Offset | None = None) -> None:
    """The node's events on host time: lines from before its clock break (clock_break) with the
    offset measured before the fault, when there is one; the rest with the one measured after.

    Why: measured live (pacemaker, snapshot reset, heartbeat-down on the standby): node01 was
    fenced, its clock after the reboot (from the RTC) was 5.8 s off the one the reset had set, and
    its token loss, logged before the fence, landed 0.48 s after t0: TOO EARLY for a correct cluster.
    """
    if log.offset_s is None:
        return
    cut = clock_break(timeline, log.node) if before is not None else None
    for event in log.events:
        if event.time is None:
            continue
        wall = (event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC)).timestamp()
        t, err = timeline.at_wall(wall - log.offset_s), log.offset_err_s
        if before is not None and cut is not None and timeline.at_wall(wall - before[0]) < cut:
            t, err = timeline.at_wall(wall - before[0]), before[1]
        detail = " ".join(f"{k}={v}" for k, v in (("node", event.node), ("actor", event.actor),
                                                    ("service", event.service)) if v)
        timeline.record("log", log.node, event.kind.value, detail, t=t, uncertainty=err)


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
