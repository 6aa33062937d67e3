"""Hold one run's whole history to the oracle's prediction: phases, outcome, safety, host load.

Why one history, judged once after the run: injection, heal and the harness's restore are events
on the same timeline as every observation (libvirt lifecycle events, status polls, client probes,
clock-corrected log lines, host CPU samples), so each check reads one record and the verdict does
not depend on when during the run something was looked at. Every check is named and carries its
evidence; a check that cannot see what it needs fails as NO EVIDENCE and says what was missing.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from halab.observe.hostload import host_lag
from halab.observe.poller import POLL_CONNECT_TIMEOUT_S, POLL_TIMEOUT_S
from halab.observe.timeline import Observation, PhaseResult, Timeline
from halab.observe.verdict import Category, Check, HostLag, Verdict, failed, passed
from halab.oracle import Prediction
from halab.oracle.draft import TIE_BREAK_RISK
from halab.oracle.model import BLOCKED, FAILED, HARNESS_PHASES, Premise
from halab.stacks.types import ClusterStatus, EventKind, FenceAction

C = Category
SIMULTANEOUS_S = 1.0  # two polls this close in time count as "at the same time"
# Log events that show the cluster noticed the fault (the earliest one counts, with polls). Not the
# kernel's iSCSI errors (STORAGE_ERROR): they come at replacement_timeout whatever the cluster does,
# and the oracle's detect for a storage fault is the cluster's own check failing (the Filesystem
# monitor, qdiskd). With the monitor every 120 s (the mutant fs-monitor-too-rare) the kernel's
# error still comes at replacement_timeout: counting it would hide a cluster that noticed 100 s late.
DETECT_EVENTS = (EventKind.TOKEN_LOST, EventKind.MEMBER_LEFT, EventKind.MEMBERSHIP, EventKind.SERVICE_FAILED,
                 EventKind.SERVICE_START_FAILED, EventKind.QDISK_EVICTION)
# Harness marks on the timeline (source "harness").
HARNESS = "harness"
INJECT, HEAL, RESTORE, RESTORED, LOGS = "inject", "heal", "restore", "restored", "logs"
# The injection returned (detail: the target's clock before and after an in-guest command, or
# nothing), and, once that node's clock offset is known, when the fault took effect on host time
# (the middle of that span, +- half of it and the offset's error). Windows count from the effect:
# measured live (heartbeat-down over SSH under TCG), the command's round trip put the effect up to
# seconds after t0, and `ip link set down` returned about a second after the link went quiet.
INJECTED, EFFECT = "injected", "in-effect"
RESTORE_FAILED = "restore-failed"  # a deliberately broken cluster (mutant) may never come back
RESTORE_COLD = "restore-cold"  # the gentle restore did not get home: every node reset (faults.restore)
RESTORE_MOVE = "restore-move"  # the restore moved the service home itself: the cluster did not (faults.restore)
REST = "rest"  # before t0: whether the lab was at rest when the fault went in (scenario, pace.rest)
WATCHING = "watching"  # source "libvirt": the lifecycle event stream is on
STREAM_CLOSED = "stream-closed"  # source "libvirt": the event stream's connection closed under the run
# Source "fence-path", kind "fence-off": a node's fence agent switched a domain off through the
# host's fence shell (its log, host time). Why: a fence whose "on" never comes is a fence too.
# Measured live (heartbeat-down, fast profile): both nodes' fence_virsh destroyed the other within
# 20 ms, neither lived to start its victim again, and a judge counting only restarts said "observed
# nobody" for a double fence.
FENCE_PATH, FENCE_OFF = "fence-path", "fence-off"
OFF_EVENTS = ("stopped", "shutdown", "crashed")
PREMISE = "the outcome's premise"
FROZEN_EVENTS = ("suspended",)
ON_EVENTS = ("started", "resumed")


@dataclass(frozen=True)
class Evidence:
    """Everything the judge needs besides the timeline (what only the nodes or the client hold)."""

    service: str
    baseline: ClusterStatus
    fence_history: tuple[FenceAction, ...] | None = ()  # None: it could not be read
    fence_history_offset_s: float = 0.0  # clock offset of the node that reported the history
    t0_wall: float = 0.0
    record_before: str = ""
    records_after: str | None = None  # None: the records could not be read back
    preferred: str | None = None
    poll_interval_s: float = 1.0
    lag_bound_s: float | None = None  # host-load bound; None: no sentinel expected
    # nodes whose own fence record (a per-node stack's: fenced.log) could not be read, so their
    # claims are unknown
    fence_history_unread: tuple[str, ...] = ()

    @property
    def max_gap_s(self) -> float:
        """Longest stretch a running node may go unseen before a safety check calls itself blind:
        one poll lost to its own timeout (the poller was waiting on the node, not looking away).
        Polls are stamped at their round trip's midpoint, so around the lost one lie half of the
        poll before and half of the poll after (each at most half a timeout), the intervals, and
        the reconnect the poll after a timed-out one makes. Measured live (rgmanager, seed timings,
        heartbeat-down on the standby): node02 answered at 24.2 s, its next poll timed out, the one
        after reconnected and answered at 42.2 s: 18 s, which the old bound (one timeout plus two
        intervals, 10 s) called blind on a correct cluster."""
        return POLL_TIMEOUT_S / 2 + self.poll_interval_s + POLL_TIMEOUT_S + POLL_CONNECT_TIMEOUT_S \
            + self.poll_interval_s + POLL_TIMEOUT_S / 2


# --- the history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """The timeline read once (seconds after t0), with the harness's marks resolved."""

    items: tuple[Observation, ...]
    injected: float | None
    healed: float | None
    restore: float | None
    moved: float | None = None  # the harness moved the service home (the cluster had not)
    effect: tuple[float, float] = (0.0, 0.0)  # when the fault took effect, earliest..latest after t0
    effect_why: str = ""

    @classmethod
    def of(cls, timeline: Timeline) -> History:
        items = tuple(timeline.items())

        def mark(kind: str) -> float | None:
            return next((o.t for o in items if o.source == HARNESS and o.kind == kind), None)

        effect, why = effect_span(items)
        return cls(items, mark(INJECT), mark(HEAL), mark(RESTORE), mark(RESTORE_MOVE), effect, why)

    @property
    def until(self) -> float:
        """Outcome evidence ends at the heal (the last observation when the heal is not on record)."""
        if self.healed is not None:
            return self.healed
        return max((o.t for o in self.items), default=0.0)

    def fault(self) -> list[Observation]:
        return [o for o in self.items if 0.0 <= o.t <= self.until]

    def polls(self, t_from: float = 0.0, t_to: float | None = None) -> list[Observation]:
        end = self.until if t_to is None else t_to
        return [o for o in self.items if o.source == "poll" and o.kind == "status" and o.status is not None
                and t_from <= o.t <= end]

    @property
    def watched(self) -> bool:
        """The lifecycle stream was on for the whole fault (a stream that closed before the heal
        saw nothing after that: no event then does not mean nothing happened)."""
        return not self.unwatched_why()

    def unwatched_why(self) -> str:
        """Why lifecycle evidence is missing ("" when the stream was on throughout)."""
        if not any(o.source == "libvirt" and o.kind == WATCHING for o in self.items):
            return "no libvirt lifecycle events were recorded"
        closed = next((o.t for o in self.items if o.source == "libvirt" and o.kind == STREAM_CLOSED), None)
        if closed is not None and closed <= self.until:
            return f"the libvirt event stream closed at {closed:.2f} s, before the fault was healed"
        return ""

    def lifecycle(self, node: str | None = None) -> list[Observation]:
        return [o for o in self.items if o.source == "libvirt" and o.kind == "lifecycle"
                and (node is None or o.node == node)]

    def logs_read(self) -> list[str]:
        return [o.node or "" for o in self.items if o.source == HARNESS and o.kind == LOGS and o.detail == "read"]

    def logs(self, kinds: Sequence[EventKind], t_to: float | None = None) -> list[Observation]:
        values = {k.value for k in kinds}
        end = self.until if t_to is None else t_to
        return [o for o in self.items if o.source == "log" and o.kind in values and 0.0 <= o.t <= end]


def effect_span(items: Sequence[Observation]) -> tuple[tuple[float, float], str]:
    """When the fault took effect (seconds after t0, earliest..latest) and how that is known.

    The node's own clock before and after an in-guest command, clock-corrected (widened by the
    offset's error), never before t0 nor past the command's return; without it, anywhere between
    t0 and the return; (0, 0) when the history has neither (a fault whose effect is t0 by
    construction)."""
    returned = next((o for o in items if o.source == HARNESS and o.kind == INJECTED), None)
    effect = next((o for o in items if o.source == HARNESS and o.kind == EFFECT), None)
    end = returned.t if returned is not None else float("inf")
    if effect is not None:
        lo = min(max(0.0, effect.t - effect.uncertainty), end)
        hi = max(lo, min(effect.t + effect.uncertainty, end))
        return (lo, hi), f"the fault's effect in [{lo:.2f}, {hi:.2f}] s ({effect.detail})"
    if returned is not None:
        return (0.0, max(0.0, returned.t)), f"the fault's effect, between t0 and the injection's return at {end:.2f} s"
    return (0.0, 0.0), ""


def field_of(o: Observation, key: str) -> str | None:
    """A ``key=value`` field of a log observation's detail (node, actor, service)."""
    for part in o.detail.split():
        k, _, v = part.partition("=")
        if k == key:
            return v
    return None


def _event(o: Observation) -> str:
    return o.detail.partition(":")[0]


def resets(h: History, until: float) -> dict[str, float]:
    """Node -> when its domain was switched off after t0 (a fence or a reset), from libvirt."""
    out: dict[str, float] = {}
    for o in h.lifecycle():
        if 0.0 <= o.t <= until and _event(o) in OFF_EVENTS and o.node and o.node not in out:
            out[o.node] = o.t
    return out


def rebooted(h: History, until: float) -> tuple[str, ...]:
    """Nodes whose domain was started again after t0: fence_virsh's reboot ends with a start (the
    harness's own power-off at t0 is a stop, and nothing else starts a domain before the restore)."""
    return tuple(sorted({o.node for o in h.lifecycle() if o.node and 0.0 < o.t <= until and _event(o) == "started"}))


def switched_off_by_fence(h: History, until: float) -> tuple[str, ...]:
    """Nodes whose domain a fence agent destroyed through the host's fence path after t0."""
    return tuple(sorted({o.node for o in h.items if o.source == FENCE_PATH and o.kind == FENCE_OFF and o.node
                         and 0.0 <= o.t <= until}))


def restarted(h: History, node: str, until: float) -> float | None:
    """When ``node``'s domain was started again after t0 (a fence_virsh reboot's end)."""
    return next((o.t for o in h.lifecycle(node) if 0.0 <= o.t <= until and _event(o) == "started"), None)


def self_reboots(h: History, until: float) -> dict[str, float]:
    """Node -> when the guest reset itself (libvirt reboot event: watchdog, self-fence)."""
    out: dict[str, float] = {}
    for o in h.items:
        if o.source == "libvirt" and o.kind == "reboot" and o.node and 0.0 <= o.t <= until:
            out.setdefault(o.node, o.t)
    return out


# --- phases ------------------------------------------------------------------------------------

Measured = tuple[float | None, str, float]  # (seconds after t0 or None, evidence line, +- uncertainty)
NOT_SEEN = 0.0


def measure(timeline: Timeline | History, pred: Prediction, ev: Evidence) -> dict[str, Measured]:
    """Phase -> (measured seconds after t0 or None, evidence line, uncertainty of the time)."""
    h = timeline if isinstance(timeline, History) else History.of(timeline)
    return {"detect": _detect(h, ev), "fence-requested": _fence_requested(h, pred),
            "fence-done": _fence_done(h, pred), "service-started": _service_started(h, pred, ev),
            "node-rejoined": _rejoined(h, ev), "fail-back": _fail_back(h, ev)}


def _detect(h: History, ev: Evidence) -> Measured:
    base_online = set(ev.baseline.online())
    base_svc = ev.baseline.service(ev.service)
    base_owner = base_svc.owner if base_svc else None
    cands: list[Measured] = []
    poll = next((o for o in h.polls() if o.status is not None and (
        set(o.status.online()) != base_online or _svc_changed(o.status, ev.service, base_owner))), None)
    if poll is not None and poll.status is not None:
        cands.append((poll.t, f"poll on {poll.node}: online {sorted(poll.status.online())}, "
                      f"{_svc_text(poll.status, ev.service)}", poll.uncertainty))
    log = next(iter(h.logs(DETECT_EVENTS)), None)
    if log is not None:
        cands.append((log.t, f"log {log.node}: {log.kind} {log.detail}".strip(), log.uncertainty))
    if cands:
        return min(cands, key=lambda c: c[0] or 0.0)
    return (None, "no membership or service change observed", NOT_SEEN)


def _fence_requested(h: History, pred: Prediction) -> Measured:
    """The first request to fence a predicted victim (by the predicted fencer where the log names one).

    Who asked is checked where the stack's request names the fencer (rgmanager: fenced on the
    fencing node logs "fencing node X", its reporter is the fencer). Pacemaker's request is the
    Designated Controller's scheduler ("node X will be fenced"), and the DC is elected, not
    designed: it need not be the node that runs the fence device (a delegate does), so only the
    victim is checked here and the fencer is checked where it acts (FENCE_SUCCESS's actor, the
    fence history's delegate: the fencing check)."""
    reqs = h.logs((EventKind.FENCE_REQUESTED,))
    match = [o for o in reqs if field_of(o, "node") in pred.fenced
             and (pred.fenced_by is None or field_of(o, "actor") in (None, pred.fenced_by))]
    if match:
        o = match[0]
        return (o.t, f"log on {o.node}: {o.kind} {o.detail}", o.uncertainty)
    others = sorted({f"{field_of(o, 'node')} by {field_of(o, 'actor') or '?'}" for o in reqs})
    return (None, "no fence request for " + "/".join(pred.fenced or ("anyone",))
            + (f" (requests seen only for {', '.join(others)})" if others else ""), NOT_SEEN)


def _fence_done(h: History, pred: Prediction) -> Measured:
    done = [(t, f"libvirt: {v} started again (reset by the fence)", 0.0) for v in pred.fenced
            if (t := restarted(h, v, h.until)) is not None]
    if done:
        return min(done, key=lambda c: c[0] or 0.0)
    return (None, "no domain of " + "/".join(pred.fenced or ("anyone",)) + " was reset", NOT_SEEN)


def _service_started(h: History, pred: Prediction, ev: Evidence) -> Measured:
    base_svc = ev.baseline.service(ev.service)
    base_owner = base_svc.owner if base_svc else None
    targets = pred.places(ev.service)
    moved_or_down = False
    for o in h.polls():
        svc = o.status.service(ev.service) if o.status else None
        running_ok = svc is not None and svc.state == "started" and svc.owner in targets
        if not running_ok:
            moved_or_down = True
        elif moved_or_down or (svc is not None and svc.owner != base_owner):
            return (o.t, f"poll on {o.node}: {ev.service} started on {svc.owner if svc else '?'}", 0.0)
    return (None, f"{ev.service} never seen started on {'/'.join(targets)}", NOT_SEEN)


def _rejoined(h: History, ev: Evidence) -> Measured:
    if h.restore is None:
        return (None, "the harness's restore is not on the timeline", NOT_SEEN)
    nodes = {m.name for m in ev.baseline.members}
    o = next((o for o in h.polls(h.restore, float("inf")) if o.status and nodes <= set(o.status.online())), None)
    return (o.t, f"poll on {o.node}: all of {sorted(nodes)} online", 0.0) if o \
        else (None, "the cluster never showed every node online again", NOT_SEEN)


def _fail_back(h: History, ev: Evidence) -> Measured:
    """The cluster's own return to the preferred node: a return after the harness moved the service
    there itself is the harness's, not a fail-back."""
    if not ev.preferred:
        return (None, "no preferred node", NOT_SEEN)
    away = False
    end = h.moved if h.moved is not None else float("inf")
    for o in h.polls(0.0, end):
        svc = o.status.service(ev.service) if o.status else None
        if svc is None or svc.owner != ev.preferred:
            away = True
        elif away and svc.state == "started" and (h.restore is None or o.t >= h.restore):
            return (o.t, f"poll on {o.node}: {ev.service} back on {ev.preferred}", 0.0)
    if h.moved is not None:
        return (None, f"{ev.service} not back on {ev.preferred} by the cluster itself: the harness moved it "
                      f"there at {h.moved:.1f} s", NOT_SEEN)
    return (None, f"{ev.service} not seen back on {ev.preferred}", NOT_SEEN)


def _svc_changed(status: ClusterStatus, service: str, base_owner: str | None) -> bool:
    svc = status.service(service)
    return svc is None or svc.state != "started" or svc.owner != base_owner


def _svc_text(status: ClusterStatus | None, service: str) -> str:
    svc = status.service(service) if status else None
    return f"{service} {svc.state} on {svc.owner}" if svc else f"{service} absent"


def _blind_reason(h: History, phase: str, ev: Evidence | None = None, pred: Prediction | None = None) -> str:
    """What evidence a phase needs and did not get ("" when the sources were there)."""
    if phase == "fail-back" and ev is not None and not ev.preferred:
        return "no preferred node is known to fail back to"
    if phase == "fence-requested":
        read = set(h.logs_read())
        survivors = set(pred.members_after) if pred is not None else set()
        if not read:
            return "no node's log could be read"
        if survivors and not read & survivors:  # the request is logged where the cluster goes on
            return f"the log of no surviving node ({', '.join(sorted(survivors))}) could be read"
    if phase in ("fence-done",) and not h.watched:
        return h.unwatched_why()
    if phase in ("node-rejoined", "fail-back") and h.restore is None:
        return "the harness's restore is not on the timeline"
    if phase in ("detect", "service-started", "node-rejoined", "fail-back") and not h.polls(0.0, float("inf")):
        return "no status poll answered after the fault"
    return ""


def phase_results(h: History, pred: Prediction, measured: dict[str, Measured],
                  ev: Evidence | None = None) -> tuple[PhaseResult, ...]:
    """Each predicted phase against its window; harness-driven windows anchored at the restore."""
    out = []
    for phase, window in pred.windows.items():
        t, why, unc = measured.get(phase, (None, "not measured", 0.0))
        lo, hi = window.earliest, window.latest
        driven = "harness" if phase in HARNESS_PHASES else "cluster"
        if driven == "harness" and h.restore is None:  # its window counts from the restore: unjudgeable
            t, why, unc = None, "the harness's restore is not on the timeline", 0.0
        if driven == "harness":
            anchor = h.restore or 0.0
            lo, hi = lo + anchor, hi + anchor
            why = f"{why}; window from the harness's restore at {anchor:.2f} s"
        elif h.effect != (0.0, 0.0):
            lo, hi = lo + h.effect[0], hi + h.effect[1]
            why = f"{why}; window counted from {h.effect_why}"
        if unc:
            why = f"{why}; node clock corrected, +-{unc:.2f} s"
        blind = _blind_reason(h, phase, ev, pred) if t is None else ""
        out.append(PhaseResult(phase, None if t is None else round(t, 2), round(lo, 2), round(hi, 2), why,
                               round(unc, 3), driven=driven, blind=blind))
    return tuple(out)


def phase_check(p: PhaseResult) -> Check:
    group = "harness phase" if p.driven == "harness" else "phase"
    name = f"{'harness-driven ' if p.driven == 'harness' else ''}phase {p.phase}"
    if p.verdict == "ok":
        return passed(name, group, f"{p.measured} s in [{p.earliest}, {p.latest}] ({p.evidence})", p.evidence)
    if p.verdict == "no evidence":
        return failed(name, group, C.NO_EVIDENCE, f"{p.phase} cannot be measured: {p.blind}", p.evidence)
    cat = C.TOO_EARLY if p.verdict == "too early" else C.TOO_SLOW
    what = "never observed" if p.measured is None else f"at {p.measured} s"
    return failed(name, group, cat, f"{p.phase} {what}, window [{p.earliest}, {p.latest}] s ({p.evidence})",
                  p.evidence)


# --- safety ------------------------------------------------------------------------------------


def dark_spans(h: History, node: str, until: float) -> list[tuple[float, float]]:
    """When ``node`` could not act: domain off or frozen, and after a reset until it first answers
    a poll again (a just-reset node runs nothing until its OS is up and SSH answers)."""
    spans: list[tuple[float, float]] = []
    start: float | None = None
    booting: float | None = None
    for o in h.lifecycle(node):
        what = _event(o)
        if what in OFF_EVENTS + FROZEN_EVENTS:
            start = o.t if start is None else start
            booting = o.t if what in OFF_EVENTS else booting  # a frozen node switched off boots afresh
        elif what in ON_EVENTS and start is not None:
            if booting is not None:
                if what != "started":
                    continue  # a domain started afresh reports "resumed" next to "started" (seen live)
                # A poll's time is its round trip's midpoint: one sent just before the reset can land
                # up to half a poll timeout after it, answered by the node as it was before.
                # Measured live (rgmanager, iscsi-block on the standby): such a poll 1.2 s after the
                # fence's reset ended the boot span, and the booting node was called unseen.
                answer = next((p.t for p in h.items if p.source == "poll" and p.node == node
                               and p.t > o.t + POLL_TIMEOUT_S / 2 and p.kind in ("status", "no-status")), until)
                spans.append((start, answer))
            else:
                spans.append((start, o.t))
            start = booting = None
    if start is not None:
        spans.append((start, until))
    return spans


def blind_spans(h: History, node: str, seen: Callable[[Observation], bool], max_gap: float,
                until: float) -> list[tuple[float, float]]:
    """Stretches of [0, until] where ``node`` ran but no observation told its state (within max_gap)."""
    times = sorted(o.t for o in h.items if o.source == "poll" and o.node == node and seen(o))
    dark = dark_spans(h, node, until)
    radius = max_gap / 2

    def unseen(t: float) -> bool:
        j = bisect.bisect_left(times, t - radius)
        return not ((j < len(times) and times[j] <= t + radius) or any(a <= t <= b for a, b in dark))

    return _where(0.0, until, unseen)


def could_hold(h: History, node: str, seen: Callable[[Observation], bool], holds: Callable[[Observation], bool],
               max_gap: float, until: float) -> Callable[[float], bool]:
    """Whether ``node`` may have held the service (or the mount) at a time: not when it was dark,
    nor when every observation of it within max_gap/2 says it did not hold it."""
    obs = sorted(((o.t, holds(o)) for o in h.items if o.source == "poll" and o.node == node and seen(o)),
                 key=lambda th: th[0])
    times = [t for t, _ in obs]
    dark = dark_spans(h, node, until)
    radius = max_gap / 2

    def at(t: float) -> bool:
        if any(a <= t <= b for a, b in dark):
            return False
        near = obs[bisect.bisect_left(times, t - radius):bisect.bisect_right(times, t + radius)]
        return not near or any(held for _, held in near)

    return at


def unresolved(h: History, nodes: Sequence[str], seen: Callable[[Observation], bool],
               holds: Callable[[Observation], bool], max_gap: float) -> list[tuple[str, float, float]]:
    """Blind stretches that matter: (node, from, to) where ``node`` went unseen while another node
    may have held the service too. Why not every unseen stretch: two holders need two nodes; while
    every other node is dark or seen not holding it, one unseen node cannot make a second one.
    Measured live: a heartbeat-down run was NO EVIDENCE for an owner unseen 0.2 s beyond the bound,
    at a time the only other node was seen, twice, without the mount."""
    out = []
    for node in nodes:
        others = [could_hold(h, m, seen, holds, max_gap, h.until) for m in nodes if m != node]
        for a, b in blind_spans(h, node, seen, max_gap, h.until):
            out += [(node, x, y) for x, y in _where(a, b, partial(_any_at, others))]
    return out


def _any_at(preds: Sequence[Callable[[float], bool]], t: float) -> bool:
    return any(p(t) for p in preds)


def _where(a: float, b: float, pred: Callable[[float], bool], step: float = 0.1) -> list[tuple[float, float]]:
    """The sub-stretches of [a, b] where ``pred`` holds, on a grid of ``step`` that ends on b
    (stretches of no length are none)."""
    out: list[tuple[float, float]] = []
    start: float | None = None
    for i in range(int((b - a) / step) + 2):
        t = min(a + i * step, b)
        held = pred(t)
        if held and start is None:
            start = t
        elif not held and start is not None:
            out.append((start, t))
            start = None
    if start is not None and b > start:
        out.append((start, b))
    return out


def _blind_text(h: History, nodes: Sequence[str], seen: Callable[[Observation], bool],
                holds: Callable[[Observation], bool], ev: Evidence) -> str:
    gaps = [f"{n} unseen {a:.1f}-{b:.1f} s" for n, a, b in unresolved(h, nodes, seen, holds, ev.max_gap_s)]
    return "; ".join(gaps)


def _has_status(o: Observation) -> bool:
    return o.kind == "status" and o.status is not None


def _runs_it(service: str, o: Observation) -> bool:
    """A node's own view says it runs the service itself."""
    svc = o.status.service(service) if o.status else None
    return svc is not None and svc.state == "started" and svc.owner == o.node


def _has_mount(o: Observation) -> bool:
    return o.mounted is not None and o.kind in ("status", "no-status")


def _nodes(ev: Evidence) -> list[str]:
    return [m.name for m in ev.baseline.members]


def _physically_seen(o: Observation) -> bool:
    """A poll that read the node's own kernel: whether it has the data mount and the service IP."""
    return o.kind in ("status", "no-status") and o.mounted is not None and o.holds_ip is not None


def _owner_seen(o: Observation) -> bool:
    return _has_status(o) or _physically_seen(o)


def _may_own(service: str, o: Observation) -> bool:
    """What a poll says about ownership, conservatively: its status names the node as the
    service's owner, or the node holds the service's IP or its data mount."""
    return _runs_it(service, o) or bool(o.mounted) or bool(o.holds_ip)


def _two_ip_holders(h: History) -> str:
    polls = [o for o in h.items if o.source == "poll" and o.holds_ip and 0.0 <= o.t <= h.until]
    for i, a in enumerate(polls):
        for b in polls[i + 1:]:
            if b.t - a.t > SIMULTANEOUS_S:
                break
            if a.node != b.node:
                return f"t={a.t:.1f}s on {a.node} and {b.node}"
    return ""


def _held_runs(h: History, holds: Callable[[Observation], bool | None]) -> dict[str, list[tuple[float, float]]]:
    """Node -> the stretches it was seen holding something (the data mount, the service IP) on
    both ends with nothing in between saying otherwise: from a poll that saw it to the last such
    poll before one that did not. A switch-off of the node (fence, reset) ends a stretch: what it
    held is gone with it."""
    off: dict[str, list[float]] = {}
    for o in h.lifecycle():
        if o.node and 0.0 <= o.t <= h.until and _event(o) in OFF_EVENTS:
            off.setdefault(o.node, []).append(o.t)
    out: dict[str, list[tuple[float, float]]] = {}
    polls = sorted((o for o in h.items if o.source == "poll" and 0.0 <= o.t <= h.until and holds(o) is not None),
                   key=lambda o: o.t)
    run: dict[str, tuple[float, float]] = {}
    for o in polls:
        node = o.node or ""
        cut = node in run and any(run[node][1] < t <= o.t for t in off.get(node, ()))
        if holds(o) and not cut:
            run[node] = (run[node][0], o.t) if node in run else (o.t, o.t)
            continue
        if node in run:
            out.setdefault(node, []).append(run.pop(node))
        if holds(o):
            run[node] = (o.t, o.t)
    for node, stretch in run.items():
        out.setdefault(node, []).append(stretch)
    return out


def _held_twice(h: History, holds: Callable[[Observation], bool | None]) -> str:
    """Two nodes each seen holding it over stretches that overlap ("" when none): polls a second
    apart are not needed when a node was seen holding it before and after the other's."""
    runs = [(node, a, b) for node, stretches in _held_runs(h, holds).items() for a, b in stretches]
    for i, (n1, a1, b1) in enumerate(runs):
        for n2, a2, b2 in runs[i + 1:]:
            if n1 != n2 and a1 <= b2 and a2 <= b1:
                return (f"{n1} held it {a1:.1f}-{b1:.1f} s (seen at both ends) and {n2} "
                        f"{a2:.1f}-{b2:.1f} s")
    return ""


def one_owner(h: History, ev: Evidence) -> Check:
    """Never two owners: no two nodes' views, close in time, name different started owners, and
    no two nodes hold the service IP at once. A node whose status command did not answer still
    counts as seen when its poll read the IP and the mount (measured live: rgmanager's clustat
    answers nothing while a fence is pending)."""
    name = "safety: never two owners"
    polls = h.polls()
    for i, a in enumerate(polls):
        for b in polls[i + 1:]:
            if b.t - a.t > SIMULTANEOUS_S:
                break
            sa = a.status.service(ev.service) if a.status else None
            sb = b.status.service(ev.service) if b.status else None
            if a.node != b.node and sa and sb and sa.state == sb.state == "started" and sa.owner and sb.owner \
                    and sa.owner != sb.owner:
                return failed(name, "safety", C.UNSAFE, f"split brain, {ev.service} has two owners: t={a.t:.1f}s "
                              f"{a.node} says {sa.owner}, {b.node} says {sb.owner}")
    twice = _two_ip_holders(h) or _held_twice(h, lambda o: o.holds_ip)
    if twice:
        return failed(name, "safety", C.UNSAFE, f"split brain, {ev.service}'s IP held by two nodes: {twice}")
    gaps = _blind_text(h, _nodes(ev), _owner_seen, partial(_may_own, ev.service), ev)
    if gaps:
        return failed(name, "safety", C.NO_EVIDENCE, f"status polls too sparse to see two owners ({gaps}; "
                      f"allowed gap {ev.max_gap_s:g} s)")
    return passed(name, "safety", f"never two owners in {len(polls)} status polls")


def one_mount(h: History, ev: Evidence) -> Check:
    """Never the data LUN mounted on two nodes at once."""
    name = "safety: never two mounts"
    polls = [o for o in h.items if o.source == "poll" and _has_mount(o) and 0.0 <= o.t <= h.until]
    for i, a in enumerate(polls):
        for b in polls[i + 1:]:
            if b.t - a.t > SIMULTANEOUS_S:
                break
            if a.node != b.node and a.mounted and b.mounted:
                return failed(name, "safety", C.UNSAFE,
                              f"data LUN mounted on two nodes: t={a.t:.1f}s on {a.node} and {b.node}")
    twice = _held_twice(h, lambda o: o.mounted if _has_mount(o) else None)
    if twice:
        return failed(name, "safety", C.UNSAFE, f"data LUN mounted on two nodes: {twice}")
    gaps = _blind_text(h, _nodes(ev), _has_mount, lambda o: bool(o.mounted), ev)
    if gaps:
        return failed(name, "safety", C.NO_EVIDENCE, f"mount polls too sparse to see two mounts ({gaps}; "
                      f"allowed gap {ev.max_gap_s:g} s)")
    return passed(name, "safety", f"data LUN never mounted on two nodes ({len(polls)} mount polls)")


def _starts_elsewhere(h: History, ev: Evidence, owner: str) -> dict[str, tuple[float, str]]:
    """Node -> (first time, evidence) the service (or its mount, or its answer) showed up there."""
    out: dict[str, tuple[float, str]] = {}
    members = set(_nodes(ev))

    def note(node: str | None, t: float, why: str) -> None:
        if node in members and node != owner and (node not in out or t < out[node][0]):
            out[node] = (t, why)

    for o in h.fault():
        if o.source == "poll" and o.kind == "status" and o.status is not None:
            svc = o.status.service(ev.service)
            if svc and svc.state == "started":
                note(svc.owner, o.t, f"poll on {o.node}: {ev.service} started on {svc.owner}")
        if o.source == "poll" and o.mounted:
            note(o.node, o.t, f"poll on {o.node}: data LUN mounted")
        if o.source == "probe" and o.kind == "probe-ok":
            note(o.node, o.t, f"client probe answered by {o.node}")
    return out


def _last_seen_without(h: History, ev: Evidence, node: str, before: float) -> float | None:
    """The last time before ``before`` that ``node`` was seen not holding the service: its own poll
    read neither the data mount nor the service IP on it (and its status, if it answered, does not
    run the service there). A start first seen at ``before`` happened after this, not necessarily
    at ``before``. Measured live: rgmanager's clustat answers nothing while a fence is pending, for
    as long as the fence takes, while the poll still reads the mount and the IP."""
    last = None
    for o in h.items:  # a poll before the fault counts too: the node held nothing then
        if o.source != "poll" or o.node != node or o.t >= before or o.mounted or o.holds_ip:
            continue
        svc = o.status.service(ev.service) if o.status else None
        if svc and svc.state == "started" and svc.owner == node:
            continue
        if o.mounted is False or o.status is not None:  # a silent status command still read the mount
            last = o.t
    return last


def _frozen_at(h: History, node: str, t: float) -> bool:
    """The node's domain was paused at ``t`` (its last lifecycle event before then: suspended)."""
    before = [_event(o) for o in h.lifecycle(node) if o.t <= t]
    return bool(before) and before[-1] in FROZEN_EVENTS


def _last_poll_attempt(h: History, node: str, until: float) -> float | None:
    """The last time at or before ``until`` the poller tried ``node``, whatever came back (a status,
    a silent status command, a timeout): the poller was looking then."""
    return max((o.t for o in h.items if o.source == "poll" and o.node == node and o.t <= until), default=None)


def _owner_gone(h: History, owner: str, ev: Evidence, before: float) -> tuple[float, str] | None:
    """When the old owner was first switched off (fenced/reset) or seen by itself not running it:
    its own status saying so, with neither the data LUN mounted nor the service IP on it (a killed
    stack daemon leaves both in place, and its status still says "not running")."""
    off = resets(h, before)
    fenced = (off[owner], f"libvirt: {owner} switched off (fence) at {off[owner]:.2f} s") if owner in off else None
    for o in h.polls(0.0, fenced[0] if fenced else before):
        if o.node != owner or o.status is None:
            continue
        if o.mounted or o.holds_ip:
            continue  # whatever its status says, it still holds the data LUN or the service IP
        svc = o.status.service(ev.service)
        if not o.status.running or svc is None or svc.state != "started" or svc.owner != owner:
            return o.t, f"poll on {owner}: {_svc_text(o.status, ev.service)} at {o.t:.2f} s"
    return fenced


def start_after_fence(h: History, ev: Evidence) -> Check:
    """No start of the service on another node before its last owner was fenced or seen stopped."""
    name = "safety: no start elsewhere before the owner is fenced or stopped"
    base = ev.baseline.service(ev.service)
    owner = base.owner if base and base.state == "started" else None
    if owner is None:
        return failed(name, "safety", C.NO_EVIDENCE, f"{ev.service} had no owner before the fault")
    starts = _starts_elsewhere(h, ev, owner)
    if not starts:
        if not h.polls():
            return failed(name, "safety", C.NO_EVIDENCE, "no status poll answered during the fault")
        return passed(name, "safety", f"{ev.service} never started on a node other than {owner}")
    node, (t, why) = min(starts.items(), key=lambda kv: kv[1][0])
    gone = _owner_gone(h, owner, ev, h.until)
    if gone is not None and gone[0] <= t:
        without = _last_seen_without(h, ev, node, t)
        if without is None or without < gone[0] - ev.max_gap_s:
            # first seen started after the owner was gone, but unseen before that for longer than a
            # poll lost to its timeout (the other safety checks' blind bound): the order cannot be told
            since = f"last seen without it at {without:.2f} s" if without is not None else "never seen without it"
            return failed(name, "safety", C.NO_EVIDENCE,
                          f"{ev.service} first seen on {node} at {t:.2f} s ({why}), after {gone[1]}; but {node} "
                          f"was {since}: whether it started before {owner} was gone cannot be told")
        return passed(name, "safety", f"{ev.service} started on {node} at {t:.2f} s ({why}) after {gone[1]}")
    if gone is None and not h.watched and not any(o.node == owner for o in h.polls()):
        return failed(name, "safety", C.NO_EVIDENCE,
                      f"{ev.service} started on {node} at {t:.2f} s, but whether {owner} was fenced or stopped "
                      "first cannot be told: no lifecycle events and no status from it")
    tried = _last_poll_attempt(h, owner, t)
    if not _frozen_at(h, owner, t) and (tried is None or t - tried > ev.max_gap_s):
        # The poller has no record of the owner around the start: not an answer, not a timeout.
        # A node that went dark leaves "unreachable" records, a frozen one a libvirt "suspended"
        # (then it still holds the service: unsafe); no record at all means the poller did not
        # look, and its silence proves nothing.
        since = f"since {tried:.2f} s" if tried is not None else "at all"
        return failed(name, "safety", C.NO_EVIDENCE,
                      f"{ev.service} started on {node} at {t:.2f} s ({why}), but whether {owner} was fenced or "
                      f"stopped first cannot be told: the poller has no record of {owner} {since} "
                      f"(allowed gap {ev.max_gap_s:.0f} s)")
    after = f"; {gone[1]}" if gone else f"; {owner} was never fenced or seen stopped"
    return failed(name, "safety", C.UNSAFE, f"{ev.service} started on {node} at {t:.2f} s ({why}) before its "
                  f"owner {owner} was fenced or seen stopped{after}")


def data_check(ev: Evidence) -> Check:
    name = "safety: data written before the fault is there after it"
    if not ev.record_before:
        return failed(name, "safety", C.NO_EVIDENCE, "no record was written before the fault")
    if ev.records_after is None:
        return failed(name, "safety", C.NO_EVIDENCE, "the records could not be read back after the fault")
    if ev.record_before in ev.records_after:
        return passed(name, "safety", f"record {ev.record_before!r} written before the fault is there after it")
    return failed(name, "safety", C.UNSAFE,
                  f"record {ev.record_before!r} lost (found {ev.records_after[-200:]!r})")


def safety_checks(h: History, ev: Evidence) -> list[Check]:
    return [one_owner(h, ev), one_mount(h, ev), start_after_fence(h, ev), data_check(ev)]


# --- outcome -----------------------------------------------------------------------------------


def fenced_check(h: History, pred: Prediction) -> tuple[Check, tuple[str, ...]]:
    """The predicted victims and only they were switched off (self-reboots are judged apart): a
    domain started again (fence_virsh's reboot) or destroyed by a fence agent on the host's fence
    path and never started (a fence race both sides won)."""
    name = "fenced: the predicted victim and only it"
    if not h.watched:
        return failed(name, "outcome", C.NO_EVIDENCE, h.unwatched_why()), ()
    got = tuple(sorted({*rebooted(h, h.until), *switched_off_by_fence(h, h.until)}))
    want = tuple(sorted(pred.fenced))
    if got == want:
        return passed(name, "outcome", f"fenced {list(got) or 'nobody'}"), got
    why = ""
    if len(got) > 1 and set(want) < set(got) and any(line.startswith(TIE_BREAK_RISK) for line in pred.reasoning):
        why = " (each switched the other off: the tie-break risk the prediction names)"
    return failed(name, "outcome", C.WRONG_OUTCOME,
                  f"expected fenced {list(want) or 'nobody'}, observed {list(got) or 'nobody'}{why}"), got


def _this_run(ev: Evidence) -> tuple[FenceAction, ...]:
    """The fence record's successful entries of this run: the record keeps every earlier run's too
    (fenced.log and pacemaker's fence history both grow over a session)."""
    return tuple(f for f in ev.fence_history or () if f.status == "success" and f.completed is not None
                 and f.completed.timestamp() - ev.fence_history_offset_s >= ev.t0_wall - 1.0)


def _fencer_from(h: History, ev: Evidence, victim: str) -> tuple[str | None, str]:
    for f in _this_run(ev):
        if f.target == victim and f.delegate:
            return f.delegate, f"fence history: {victim} fenced by {f.delegate}"
    for o in h.logs((EventKind.FENCE_SUCCESS,)):  # a request names who asked, not who fenced
        actor = field_of(o, "actor")
        if field_of(o, "node") == victim and actor:
            return actor, f"log on {o.node}: {o.kind} {o.detail}"
    return None, ""


def fencer_check(h: History, pred: Prediction, ev: Evidence, fenced: Sequence[str]) -> Check:
    """Each predicted victim was fenced by the predicted fencer."""
    name = "fenced by the predicted fencer"
    if not pred.fenced or pred.fenced_by is None:
        return passed(name, "outcome", "no particular fencer predicted")
    checked = [v for v in pred.fenced if v in fenced]  # a victim not fenced: the victim check says so
    if not checked:
        return passed(name, "outcome", f"no fencer to check: {'/'.join(pred.fenced)} not fenced "
                                       "(the victim check judges that)")
    for victim in checked:
        who, why = _fencer_from(h, ev, victim)
        if who is None:
            missing = "the fence history could not be read" if ev.fence_history is None \
                else "no fence history entry or log line names the fencer"
            return failed(name, "outcome", C.NO_EVIDENCE, f"who fenced {victim} is unknown: {missing}")
        if who != pred.fenced_by:
            return failed(name, "outcome", C.WRONG_OUTCOME,
                          f"{victim} fenced by {who}, expected by {pred.fenced_by} ({why})")
    return passed(name, "outcome", f"{'/'.join(checked)} fenced by {pred.fenced_by}")


def premise_check(h: History, pred: Prediction) -> Check:
    """The evidence an outcome rests on was seen (an alternative that needs a failure first)."""
    name = PREMISE
    premise = pred.premise
    if premise is None:
        return passed(name, "outcome", "this outcome rests on nothing but the fault")
    if not h.logs_read():
        return failed(name, "outcome", C.NO_EVIDENCE, f"this outcome needs {premise.says}: no node's log could be read")
    if premise.at_t0:
        return _state_at_t0(h, name, premise)
    seen = [o for o in h.logs((EventKind(premise.event),)) if field_of(o, "node") == premise.node]
    if not seen:
        return failed(name, "outcome", C.WRONG_OUTCOME,
                      f"this outcome needs {premise.says}; no node logged it (the cluster got here without it)")
    return passed(name, "outcome", f"{premise.says}: log on {seen[0].node} at {seen[0].t:.1f} s")


OPERATION_FAILURES = (EventKind.SERVICE_START_FAILED, EventKind.SERVICE_FAILED)


def operations_check(h: History, pred: Prediction) -> Check:
    """No resource operation (start, stop, monitor) failed on a node the fault left alone, beyond
    what the outcome rests on (its premise).

    Why: the placement check reads only where the services ended. Measured live (web3,
    heartbeat-down on the owner node02): web-app failed its start on the survivor node03 (the
    design's default 20 s start timeout), pacemaker moved both groups to node01, an allowed place,
    and the run's cluster checks held while the report said nothing of the failed start: a path
    the design does not predict, which ops must see. The fault's own node (its monitors fail by
    design) and the nodes the outcome fences are not judged here; the survivors' logs must have
    been read, or the check has no evidence."""
    name = "no operation failed on a survivor"
    touched = {pred.target, *pred.fenced}
    survivors = sorted(set(pred.members_after) - touched)
    if not survivors:
        return passed(name, "outcome", "no node besides the fault's and the fenced ones")
    premise = pred.premise
    failures = [o for o in h.logs(OPERATION_FAILURES) if field_of(o, "node") not in touched
                and not (premise is not None and not premise.at_t0 and o.kind == premise.event
                         and field_of(o, "node") == premise.node)]
    if failures:
        said = "; ".join(_operation_text(o) for o in failures[:3]) + (
            f"; {len(failures) - 3} more" if len(failures) > 3 else "")
        return failed(name, "outcome", C.WRONG_OUTCOME, f"an operation failed where the design predicts none: {said}")
    read = set(h.logs_read())
    unread = [n for n in survivors if n not in read]
    if unread:
        return failed(name, "outcome", C.NO_EVIDENCE,
                      f"whether an operation failed on {'/'.join(unread)} is unknown: its log could not be read")
    return passed(name, "outcome", f"no start, stop or monitor failed on {'/'.join(survivors)} (their logs)")


def _operation_text(o: Observation) -> str:
    what = "failed its start" if o.kind == EventKind.SERVICE_START_FAILED.value else "failed (stop or monitor)"
    return f"{field_of(o, 'service') or 'a resource'} {what} on {field_of(o, 'node')} at {o.t:.1f} s (log on {o.node})"


def _state_at_t0(h: History, name: str, premise: Premise) -> Check:
    """The latest ``premise.event`` before t0, in any node's log, is about ``premise.node``."""
    before = [o for o in h.items if o.source == "log" and o.kind == premise.event and o.t < 0.0]
    if not before:
        return failed(name, "outcome", C.NO_EVIDENCE,
                      f"this outcome needs {premise.says}: no node's log says so before the fault")
    last = max(before, key=lambda o: o.t)
    holder = field_of(last, "node")
    if holder != premise.node:
        return failed(name, "outcome", C.WRONG_OUTCOME,
                      f"this outcome needs {premise.says}; the logs say {holder} (log on {last.node} at "
                      f"{last.t:.1f} s)")
    return passed(name, "outcome", f"{premise.says}: log on {last.node} at {last.t:.1f} s")


def fence_delay_check(h: History, pred: Prediction, fenced: Sequence[str]) -> Check:
    """The predicted victim's fence waited the design's delay: the fencer logged the delay for that
    victim (pacemaker-fenced: "Delaying 'reboot' action targeting <victim> using <device> for Ns").

    Why: a delay on the wrong node makes the race's other side certain, an outcome the oracle
    accepts as a lost race (the delay is shorter than the agent's run). Measured live (the mutant
    fence-delay-wrong-node, fast profile): node01 went off more than 8 s after the first request
    without any delay (DC election, device queries and the agent's own start take that long), so
    timing cannot tell; only the fencer's own line says whether the delay applied."""
    name = "the fence waited the design's delay"
    if pred.fence_delay_s <= 0 or not pred.fenced:
        return passed(name, "outcome", "no fence delay predicted")
    for victim in pred.fenced:
        if victim not in fenced:
            continue  # the victim check already says so
        delays = [o for o in h.logs((EventKind.FENCE_DELAYED,)) if field_of(o, "node") == victim]
        if delays:
            continue
        if pred.fenced_by is not None and pred.fenced_by not in h.logs_read():
            return failed(name, "outcome", C.NO_EVIDENCE,
                          f"whether the fence of {victim} waited its delay is unknown: the log of {pred.fenced_by} "
                          "(the fencer) could not be read")
        return failed(name, "outcome", C.TOO_EARLY,
                      f"the fence of {victim} ran without the design's {pred.fence_delay_s:g} s delay "
                      f"(pcmk_delay_base / priority-fencing-delay): no fencer logged a delay for {victim}")
    return passed(name, "outcome", f"the fence of {'/'.join(pred.fenced)} waited its delay (fencer's log)")


def false_claim_check(h: History, ev: Evidence, fenced: Sequence[str]) -> Check:
    name = "no false fence claim"
    if ev.fence_history is None:
        return failed(name, "outcome", C.NO_EVIDENCE, "the fence history could not be read")
    if ev.fence_history_unread:
        return failed(name, "outcome", C.NO_EVIDENCE,
                      f"the fence record of {', '.join(ev.fence_history_unread)} could not be read "
                      "(each node records only the fences it ran)")
    claimed = sorted({f.target for f in _this_run(ev)})
    wrongly = [c for c in claimed if c not in fenced]
    if wrongly:
        return failed(name, "outcome", C.WRONG_OUTCOME, f"cluster reports {wrongly} fenced but no such reset happened")
    return passed(name, "outcome", "every fence the cluster reports did reset a node")


def self_reboot_check(h: History, pred: Prediction) -> Check:
    name = "self-reboot as predicted"
    if not h.watched:
        return failed(name, "outcome", C.NO_EVIDENCE, h.unwatched_why())
    got = sorted(self_reboots(h, h.until))
    want = sorted(pred.self_reboot)
    if got == want:
        return passed(name, "outcome", f"self-rebooted {got or 'nobody'}")
    return failed(name, "outcome", C.WRONG_OUTCOME,
                  f"expected self-reboot of {want or 'nobody'}, observed {got or 'nobody'}")


def placement_checks(h: History, pred: Prediction, ev: Evidence) -> tuple[list[Check], str | None]:
    """Where the service ended and whether the survivors are quorate, from the last survivor poll."""
    polls = [o for o in h.polls() if o.node in pred.members_after]
    final = polls[-1].status if polls else None
    why = f"no status poll from {'/'.join(pred.members_after) or 'any survivor'} during the fault"
    if polls and (stale := _stale(h, polls[-1], ev)):
        final, why = None, stale
    if final is None:  # every placement the prediction names is blind, not only the followed one's
        return [failed("service placement", "outcome", C.NO_EVIDENCE, why),
                *(failed(f"service placement: {svc}", "outcome", C.NO_EVIDENCE, why)
                  for svc in pred.services if svc != ev.service),
                failed("quorum", "outcome", C.NO_EVIDENCE, why)], None
    svc = final.service(ev.service)
    owner = svc.owner if svc and svc.state == "started" else None
    expected = pred.services.get(ev.service)
    checks = []
    if expected in (FAILED, BLOCKED):
        base = ev.baseline.service(ev.service)
        ok = owner in (None, base.owner if base else None) if expected == BLOCKED \
            else (svc is not None and svc.state == "failed")
        what = "does not move (recovery blocked)" if expected == BLOCKED else "failed"
        checks.append(passed("service placement", "outcome", f"{ev.service} {what} as predicted") if ok else
                      failed("service placement", "outcome", C.WRONG_OUTCOME,
                             f"expected {ev.service} {what}, observed {_svc_text(final, ev.service)}"))
    else:
        allowed = pred.places(ev.service)
        checks.append(passed("service placement", "outcome", f"{ev.service} on {owner}") if owner in allowed else
                      failed("service placement", "outcome", C.WRONG_OUTCOME,
                             f"expected {ev.service} on {'/'.join(allowed)}, observed {_svc_text(final, ev.service)}"))
    checks += [_other_placement(final, pred, svc) for svc in pred.services if svc != ev.service]
    q = final.quorate
    if q is None:
        checks.append(failed("quorum", "outcome", C.NO_EVIDENCE,
                             f"expected quorate={pred.quorate}; the survivors' last status did not say"))
    else:
        checks.append(passed("quorum", "outcome", f"quorate={q}") if q == pred.quorate else
                      failed("quorum", "outcome", C.WRONG_OUTCOME, f"expected quorate={pred.quorate}, observed {q}"))
    return checks, owner


def _stale(h: History, last: Observation, ev: Evidence) -> str:
    """Why the survivors' last status cannot say where things ended ("" when it can): it came from a
    node reset after it, or long before the heal. Measured live (rgmanager, the ifdown phantom
    branch): the predicted survivor was fenced at 45 s, and its status from before, "service01 on
    node01", passed the placement check at the heal, 100 s later, while service01 was disabled."""
    reset_at = resets(h, h.until).get(last.node or "")
    if reset_at is not None and reset_at >= last.t:
        return f"the last status from {last.node} ({last.t:.1f} s) predates its reset at {reset_at:.1f} s"
    if h.until - last.t > ev.max_gap_s:
        return f"the last status from {last.node} is from {last.t:.1f} s, {h.until - last.t:.0f} s before the heal"
    return ""


def _other_placement(final: ClusterStatus, pred: Prediction, service: str) -> Check:
    """A service besides the followed one (a design with several): only where it ended is judged;
    its phases and safety are the followed service's alone."""
    name = f"service placement: {service}"
    allowed = pred.places(service)
    svc = final.service(service)
    if svc is None:
        return failed(name, "outcome", C.NO_EVIDENCE, f"{service} is not in the survivors' status")
    owner = svc.owner if svc.state == "started" else None
    if owner in allowed:
        return passed(name, "outcome", f"{service} on {owner}")
    return failed(name, "outcome", C.WRONG_OUTCOME,
                  f"expected {service} on {'/'.join(allowed)}, observed {_svc_text(final, service)}")


def history_check(h: History) -> Check:
    missing = [k for k, v in ((INJECT, h.injected), (HEAL, h.healed)) if v is None]
    if missing:
        return failed("history complete", "history", C.NO_EVIDENCE,
                      f"the {' and '.join(missing)} of the fault is not on the timeline")
    return passed("history complete", "history", f"fault injected at 0, healed at {h.until:.2f} s")


def host_check(h: History, ev: Evidence) -> tuple[Check, HostLag | None]:
    name = "host: the lab got its CPU"
    if ev.lag_bound_s is None:
        return passed(name, "host", "no host-load sentinel expected"), None
    reset: dict[str, float] = {}
    for node, t in (*self_reboots(h, h.until).items(), *resets(h, h.until).items()):
        reset[node] = min(t, reset.get(node, t))  # the first reset, by a fence or by itself
    frozen = {n: t for n, t in frozen_at(h).items() if t < reset.get(n, float("inf"))}
    ends = {**reset, **frozen}
    lag = host_lag(h.items, 0.0, h.until, ev.lag_bound_s, ends=ends)
    if lag is None:
        return failed(name, "host", C.NO_EVIDENCE, "no qemu CPU samples recorded during the fault"), None
    booting = "".join(f"; {n} counted until its freeze at {t:.1f} s (a frozen node runs no timer)"
                      if n in frozen else
                      f"; {n} counted until its reset at {t:.1f} s (a booting node runs no judged timer)"
                      for n, t in sorted(ends.items()))
    text = (f"worst vCPU run-queue wait {lag.lag_s:.2f} s on {lag.node} over a token-long stretch "
            f"(bound {lag.bound_s:.2f} s, {lag.samples} samples){booting}")
    if lag.starved:
        return failed(name, "host", C.INCONCLUSIVE, f"host starved: {text}"), lag
    return passed(name, "host", text), lag


def frozen_at(h: History) -> dict[str, float]:
    """Node -> when its domain was first frozen after t0 (libvirt "suspended": the fault's own
    ``virsh suspend``). Why its host samples stop counting there: a frozen guest runs no timer at
    all, yet its qemu's vCPU thread shows run-queue wait when the fence destroys the domain.
    Measured in CI (mutant standby-banned, suspend on the owner, fast): node01's vCPU, frozen
    since 0.02 s, gained 1.10 s of wait in the second before the fence's destroy at 39.1 s (bound
    1.00 s), and a run whose cluster checks had all done their job was INCONCLUSIVE; stop 25's CI
    failure (1.12 s on the frozen owner before its reset at 30.4 s) has the same signature."""
    out: dict[str, float] = {}
    for o in h.lifecycle():
        if o.node and 0.0 <= o.t <= h.until and _event(o) in FROZEN_EVENTS:
            out.setdefault(o.node, o.t)
    return out


def restore_starved(h: History, ev: Evidence) -> HostLag | None:
    """The worst vCPU wait while the harness brought the cluster back (from the restore to the last
    observation), when it passed the bound; None otherwise. Why: the harness-driven phases
    (rejoin, fail-back) are timed in that stretch, and the fault window's sentinel does not see it
    (a fenced node booting under TCG loads the host exactly then)."""
    if ev.lag_bound_s is None or h.restore is None:
        return None
    end = max((o.t for o in h.items), default=h.restore)
    lag = host_lag(h.items, h.restore, end, ev.lag_bound_s)
    return lag if lag is not None and lag.starved else None


def _downgrade_harness_phases(checks: list[Check], lag: HostLag | None) -> list[Check]:
    """A harness-driven phase that failed while the host starved the restore is inconclusive, not
    a verdict on the cluster; nothing passes because of it."""
    if lag is None:
        return checks
    said = (f"host starved during the restore: worst vCPU run-queue wait {lag.lag_s:.2f} s on {lag.node} "
            f"(bound {lag.bound_s:.2f} s)")
    return [Check(c.name, c.group, C.INCONCLUSIVE, C.INCONCLUSIVE.line(f"{said}, not judged (would be {c.message})"),
                  c.evidence) if c.group == "harness phase" and not c.ok and c.category is not C.NO_EVIDENCE
            else c for c in checks]


# --- the verdict -------------------------------------------------------------------------------


def _downgrade(checks: list[Check], host: Check) -> list[Check]:
    """A starved host makes timing and outcome failures inconclusive, and a safety check blinded by
    it too (never a pass); a safety violation that was seen still counts."""
    if host.category is not C.INCONCLUSIVE:
        return checks
    out = []
    for c in checks:
        if c.ok or c.group in ("host", "history") or c.category is C.UNSAFE:
            out.append(c)
        else:
            out.append(Check(c.name, c.group, C.INCONCLUSIVE,
                             C.INCONCLUSIVE.line(f"host starved, not judged (would be {c.message})"), c.evidence))
    return out


def judge_one(timeline: Timeline | History, pred: Prediction, ev: Evidence) -> Verdict:
    h = timeline if isinstance(timeline, History) else History.of(timeline)
    phases = phase_results(h, pred, measure(h, pred, ev), ev)
    fenced_c, fenced = fenced_check(h, pred)
    placement, owner = placement_checks(h, pred, ev)
    host, lag = host_check(h, ev)
    checks = [history_check(h), fenced_c, fencer_check(h, pred, ev, fenced), fence_delay_check(h, pred, fenced),
              premise_check(h, pred), operations_check(h, pred), false_claim_check(h, ev, fenced),
              self_reboot_check(h, pred), *placement, *(phase_check(p) for p in phases), *safety_checks(h, ev), host]
    checks = _downgrade_harness_phases(_downgrade(checks, host), restore_starved(h, ev))
    return Verdict(pred, tuple(checks), phases, fenced, owner, lag, effect_s=h.effect)


def judge(timeline: Timeline, pred: Prediction, ev: Evidence) -> Verdict:
    """Judge the whole history against the prediction and each acceptable alternative; the first
    that holds wins. When none holds, the nearest one is returned: the candidate with the fewest
    failed checks, the main prediction on a tie. Why: measured live (rgmanager, iscsi-block), the
    cluster took the slower alternative's path in its windows and only a safety check lacked
    evidence, yet the report listed the main prediction's phase misses, which were not the fault."""
    h = History.of(timeline)
    verdicts = [judge_one(h, pred, ev)]
    if verdicts[0].ok:
        return verdicts[0]
    for k, alt in enumerate(pred.alternatives, start=1):
        other = replace(judge_one(h, alt, ev), against=k)
        if other.ok:
            return other
        verdicts.append(other)
    return min(verdicts, key=lambda v: (_premise_denied(v), len(v.failures()), v.against))


def _premise_denied(v: Verdict) -> bool:
    """The logs deny what this candidate rests on: it is not the path the cluster took, however
    few of its other checks fail (master-wins-off, live: the other master's outcome was nearer by
    count, and the report blamed the service instead of the standby fencing the owner)."""
    return any(c.name == PREMISE and c.category is C.WRONG_OUTCOME for c in v.checks)
