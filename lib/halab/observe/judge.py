"""Hold one observed timeline to the oracle's prediction: outcome, every phase window, safety.

Why measured from host-side evidence: libvirt lifecycle events say when a node was really reset,
status polls say what each node believed and when, the client probe says what a user saw; log
lines (clock-corrected) add what only the cluster knows (fence requested). Every check has a
category prefix so the report can sort a failure into wrong outcome / too slow / too early.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from halab.observe.timeline import Observation, PhaseResult, Timeline
from halab.oracle import Prediction
from halab.stacks.types import ClusterStatus, EventKind, FenceAction

WRONG = "WRONG OUTCOME"
TOO_SLOW = "TOO SLOW"
TOO_EARLY = "TOO EARLY"
UNSAFE = "WRONG OUTCOME"  # safety violations are wrong outcomes of the worst kind
SIMULTANEOUS_S = 1.0
# Log events that show the cluster noticed the fault (the earliest one counts, with polls).
DETECT_EVENTS = (EventKind.TOKEN_LOST, EventKind.MEMBER_LEFT, EventKind.MEMBERSHIP, EventKind.SERVICE_FAILED,
                 EventKind.QDISK_EVICTION)  # two polls this close in time count as "at the same time"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str  # starts with a category prefix when not ok

    def __str__(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.message}"


@dataclass(frozen=True)
class Judgement:
    prediction: Prediction  # the candidate (main or alternative) the checks were made against
    checks: tuple[Check, ...]
    phases: tuple[PhaseResult, ...]
    fenced: tuple[str, ...]
    final_owner: str | None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class Evidence:
    """Everything the judge needs besides the timeline."""

    service: str
    baseline: ClusterStatus
    restore_started: float  # t (after t0) when healing began: outcome evidence stops here
    fence_history: tuple[FenceAction, ...] = ()
    fence_history_offset_s: float = 0.0  # clock offset of the node that reported the history
    t0_wall: float = 0.0
    record_before: str = ""
    records_after: str | None = None
    preferred: str | None = None


def _polls(items: Iterable[Observation]) -> list[Observation]:
    return [o for o in items if o.source == "poll" and o.kind == "status" and o.status is not None]


def rebooted_nodes(timeline: Timeline, until: float) -> list[str]:
    """Nodes whose domain was started again after t0: a fence (or a reset) happened to them."""
    out = []
    for o in timeline.after(0.0):
        if o.t <= until and o.source == "libvirt" and o.detail.startswith("started") and o.node not in out:
            out.append(o.node or "")
    return out


def _first_lifecycle(timeline: Timeline, node: str, what: str, until: float) -> float | None:
    for o in timeline.after(0.0):
        if o.t <= until and o.source == "libvirt" and o.node == node and o.detail.startswith(what):
            return o.t
    return None


def _first_log(timeline: Timeline, kinds: Sequence[EventKind], until: float) -> Observation | None:
    values = {k.value for k in kinds}
    return next((o for o in timeline.after(0.0) if o.source == "log" and o.kind in values and o.t <= until), None)


Measured = tuple[float | None, str, float]  # (seconds after t0 or None, evidence line, +- uncertainty)


def measure(timeline: Timeline, pred: Prediction, ev: Evidence) -> dict[str, Measured]:
    """Phase -> (measured seconds after t0 or None, evidence line, uncertainty of the time)."""
    polls = _polls(timeline.after(0.0))
    base_online = set(ev.baseline.online())
    base_svc = ev.baseline.service(ev.service)
    base_owner = base_svc.owner if base_svc else None
    out: dict[str, Measured] = {}

    detect = next((o for o in polls if o.t <= ev.restore_started and o.status is not None and (
        set(o.status.online()) != base_online or _svc_changed(o.status, ev.service, base_owner))), None)
    log_detect = _first_log(timeline, DETECT_EVENTS, ev.restore_started)
    candidates: list[Measured] = []
    if detect is not None and detect.status is not None:
        candidates.append((detect.t, f"poll on {detect.node}: online {sorted(detect.status.online())}, "
                           f"{_svc_text(detect.status, ev.service)}", detect.uncertainty))
    if log_detect is not None:
        candidates.append((log_detect.t, f"log {log_detect.node}: {log_detect.kind} {log_detect.detail}".strip(),
                           log_detect.uncertainty))
    out["detect"] = min(candidates, key=lambda c: c[0] or 0.0) if candidates \
        else (None, "no membership or service change observed", 0.0)

    req = _first_log(timeline, (EventKind.FENCE_REQUESTED,), ev.restore_started)
    out["fence-requested"] = (req.t, f"log on {req.node}: {req.kind} {req.detail}", req.uncertainty) if req \
        else (None, "no fence request in the logs", 0.0)

    victims = [v for v in pred.fenced] or rebooted_nodes(timeline, ev.restore_started)
    done: list[Measured] = [(t, f"libvirt: {v} started again (reset by the fence)", 0.0) for v in victims
                            if (t := _first_lifecycle(timeline, v, "started", ev.restore_started)) is not None]
    out["fence-done"] = min(done, key=lambda c: c[0] or 0.0) if done else (None, "no domain was reset", 0.0)

    expected = pred.services.get(ev.service)
    targets = (expected,) if isinstance(expected, str) else tuple(expected or ())
    moved_or_down = False
    started_at: Measured = (None, f"{ev.service} never seen started on {'/'.join(targets)}", 0.0)
    for o in polls:
        if o.t > ev.restore_started or o.status is None:
            break
        svc = o.status.service(ev.service)
        running_ok = svc is not None and svc.state == "started" and svc.owner in targets
        if not running_ok:
            moved_or_down = True
        elif moved_or_down or (svc is not None and svc.owner != base_owner):
            started_at = (o.t, f"poll on {o.node}: {ev.service} started on {svc.owner if svc else '?'}", 0.0)
            break
    out["service-started"] = started_at

    all_nodes = {m.name for m in ev.baseline.members}
    rejoin = next((o for o in polls if o.t >= ev.restore_started and o.status is not None
                   and all_nodes <= set(o.status.online())), None)
    out["node-rejoined"] = (rejoin.t, f"poll on {rejoin.node}: all of {sorted(all_nodes)} online", 0.0) if rejoin \
        else (None, "the cluster never showed every node online again", 0.0)

    back = None
    if ev.preferred:
        away = False
        for o in polls:
            svc = o.status.service(ev.service) if o.status else None
            if svc is None or svc.owner != ev.preferred:
                away = True
            elif away and svc.state == "started":
                back = o
                break
    out["fail-back"] = (back.t, f"poll on {back.node}: {ev.service} back on {ev.preferred}", 0.0) if back \
        else (None, f"{ev.service} not seen back on {ev.preferred}", 0.0)
    return out


def _svc_changed(status: ClusterStatus, service: str, base_owner: str | None) -> bool:
    svc = status.service(service)
    return svc is None or svc.state != "started" or svc.owner != base_owner


def _svc_text(status: ClusterStatus | None, service: str) -> str:
    svc = status.service(service) if status else None
    return f"{service} {svc.state} on {svc.owner}" if svc else f"{service} absent"


def phase_results(pred: Prediction, measured: dict[str, Measured]) -> tuple[PhaseResult, ...]:
    out = []
    for phase, window in pred.windows.items():
        t, why, unc = measured.get(phase, (None, "not measured", 0.0))
        if unc:
            why = f"{why}; node clock corrected, +-{unc:.2f} s"
        out.append(PhaseResult(phase, None if t is None else round(t, 2), round(window.earliest, 2),
                               round(window.latest, 2), why,
                               round(unc, 3)))
    return tuple(out)


def _phase_check(p: PhaseResult) -> Check:
    if p.verdict == "ok":
        return Check(f"phase {p.phase}", True, f"{p.measured} s in [{p.earliest}, {p.latest}] ({p.evidence})")
    prefix = {"too early": TOO_EARLY, "too late": TOO_SLOW, "missing": TOO_SLOW}[p.verdict]
    what = "never observed" if p.measured is None else f"at {p.measured} s"
    return Check(f"phase {p.phase}", False,
                 f"{prefix}: {p.phase} {what}, window [{p.earliest}, {p.latest}] s ({p.evidence})")


def safety_checks(timeline: Timeline, service: str) -> list[Check]:
    """Never two owners, never the data LUN mounted on two nodes, on every pair of close polls."""
    polls = _polls(timeline.items())
    two_owners, two_mounts = [], []
    for i, a in enumerate(polls):
        for b in polls[i + 1:]:
            if b.t - a.t > SIMULTANEOUS_S:
                break
            if a.node == b.node:
                continue
            sa = a.status.service(service) if a.status else None
            sb = b.status.service(service) if b.status else None
            if sa and sb and sa.state == sb.state == "started" and sa.owner and sb.owner and sa.owner != sb.owner:
                two_owners.append(f"t={a.t:.1f}s {a.node} says {sa.owner}, {b.node} says {sb.owner}")
            if a.mounted and b.mounted:
                two_mounts.append(f"t={a.t:.1f}s mounted on {a.node} and {b.node}")
    return [
        Check("safety: one owner", not two_owners,
              "never two owners" if not two_owners
              else f"{UNSAFE}: split brain, {service} has two owners: {two_owners[0]}"),
        Check("safety: one mount", not two_mounts,
              "data LUN never mounted on two nodes" if not two_mounts
              else f"{UNSAFE}: data LUN mounted on two nodes: {two_mounts[0]}"),
    ]


def outcome_checks(timeline: Timeline, pred: Prediction,
                   ev: Evidence) -> tuple[list[Check], tuple[str, ...], str | None]:
    until = ev.restore_started
    rebooted = tuple(sorted(rebooted_nodes(timeline, until)))
    claimed = sorted({f.target for f in ev.fence_history if f.status == "success" and f.completed is not None
                      and f.completed.timestamp() - ev.fence_history_offset_s >= ev.t0_wall - 1.0})
    checks = [Check("fenced", set(rebooted) == set(pred.fenced),
                    f"fenced {list(rebooted) or 'nobody'}" if set(rebooted) == set(pred.fenced) else
                    f"{WRONG}: expected fenced {list(pred.fenced) or 'nobody'}, observed {list(rebooted) or 'nobody'}")]
    wrongly = [c for c in claimed if c not in rebooted]
    checks.append(Check("no false fence claim", not wrongly,
                        "every fence the cluster reports did reset a node" if not wrongly else
                        f"{WRONG}: cluster reports {wrongly} fenced but no such reset happened"))
    polls = [o for o in _polls(timeline.after(0.0)) if o.t <= until and o.node in pred.members_after]
    final = polls[-1].status if polls else None
    svc = final.service(ev.service) if final else None
    owner = svc.owner if svc and svc.state == "started" else None
    expected = pred.services.get(ev.service)
    allowed = (expected,) if isinstance(expected, str) else tuple(expected or ())
    if expected == "failed":
        ok = svc is not None and svc.state == "failed"
        checks.append(Check("service placement", ok, f"{ev.service} failed as predicted" if ok else
                            f"{WRONG}: expected {ev.service} failed, observed {_svc_text(final, ev.service)}"))
    else:
        ok = owner in allowed
        checks.append(Check("service placement", ok, f"{ev.service} on {owner}" if ok else
                            f"{WRONG}: expected {ev.service} on {'/'.join(allowed)}, "
                            f"observed {_svc_text(final, ev.service)}"))
    quorate = final.quorate if final else None
    checks.append(Check("quorum", quorate == pred.quorate, f"quorate={quorate}" if quorate == pred.quorate else
                        f"{WRONG}: expected quorate={pred.quorate}, observed {quorate}"))
    return checks, rebooted, owner


def data_check(ev: Evidence) -> Check:
    if ev.records_after is None:
        return Check("data kept", False, f"{WRONG}: the service never answered after the fault")
    ok = ev.record_before in ev.records_after
    return Check("data kept", ok, "record written before the fault is there after it" if ok else
                 f"{WRONG}: record {ev.record_before!r} lost (found {ev.records_after[-200:]!r})")


def judge_one(timeline: Timeline, pred: Prediction, ev: Evidence) -> Judgement:
    measured = measure(timeline, pred, ev)
    phases = phase_results(pred, measured)
    outcome, fenced, owner = outcome_checks(timeline, pred, ev)
    checks = [*outcome, *(_phase_check(p) for p in phases), *safety_checks(timeline, ev.service), data_check(ev)]
    return Judgement(pred, tuple(checks), phases, fenced, owner)


def judge(timeline: Timeline, pred: Prediction, ev: Evidence) -> Judgement:
    """Judge against the prediction and each acceptable alternative; the first that holds wins.

    When none holds, the main prediction's judgement is returned (its failures explain the most).
    """
    main = judge_one(timeline, pred, ev)
    if main.ok:
        return main
    for alt in pred.alternatives:
        other = judge_one(timeline, alt, ev)
        if other.ok:
            return other
    return main
