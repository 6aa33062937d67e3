"""One failover scenario end to end: predict, write a record, inject, observe, heal, restore, judge.

The failover tests are thin calls of `run_fault`; everything a verdict rests on is in the
returned `FaultRun` (prediction, timeline, judgement, logs) so the report can show it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property, partial
from pathlib import Path

from halab import interrupt
from halab.deploy.pacemaker import Design
from halab.deploy.rgmanager_live import Design as RgDesign
from halab.errors import HalabError, LabError, SpecError
from halab.faults import get_fault, injected
from halab.faults.restore import SETTLE_S, restore
from halab.lab import fencessh
from halab.lab.lab import Lab
from halab.lab.remote import EVIDENCE_CONNECT_TIMEOUT_S
from halab.lab.snapshot import Saved, revert
from halab.nightly.workers import design_name
from halab.observe import logs as nodelogs
from halab.observe import pace
from halab.observe import records as phase_records
from halab.observe.hostload import HostSampler, lag_bound
from halab.observe.judge import (
    EFFECT,
    FENCE_OFF,
    FENCE_PATH,
    HARNESS,
    HEAL,
    INJECT,
    INJECTED,
    LOGS,
    REST,
    RESTORE,
    RESTORE_COLD,
    RESTORE_FAILED,
    RESTORE_MOVE,
    RESTORED,
    Evidence,
    History,
    judge,
    measure,
)
from halab.observe.lifecycle import LifecycleWatcher
from halab.observe.poller import StatusPoller
from halab.observe.probe import ServiceProbe, http
from halab.observe.timeline import Timeline
from halab.observe.verdict import Category, Verdict
from halab.oracle import Prediction, predict
from halab.oracle.model import HARNESS_PHASES, place_text
from halab.spec import LabSpec
from halab.stacks.base import StackAdapter
from halab.stacks.lab_names import lab_adapter, prediction_in_lab_names
from halab.stacks.types import ClusterStatus, FenceAction

Progress = Callable[[str], None]
# Before a fault, wait at most this many token-long stretches for the lab at rest (pace.rest).
REST_WAIT_STRETCHES = 4
SETTLE_GRACE_S = 3.0  # keep watching this long after the last predicted phase was seen
RESTORE_MARGIN_S = 120.0
SNAPSHOT_NOT_JUDGED = ("node-rejoined and fail-back are not judged: --reset snapshot puts the saved cluster "
                       "back, so the cluster never rejoins or fails back on its own")


@dataclass
class LiveCluster:
    """A deployed cluster; ``saved`` when faults are reset by snapshot (``--reset snapshot``)."""

    lab: Lab
    design: Design | RgDesign
    saved: Saved | None = None

    @cached_property
    def adapter(self) -> StackAdapter:
        """The stack's readers, answering in lab node names (cluster.conf may say node01h); built
        once per cluster (it reads cluster.conf for qdiskd's node ids)."""
        return lab_adapter(self.lab.spec)

    def status(self, node: str | None = None) -> ClusterStatus:
        node = node or self.design.preferred_node
        res = self.lab.remote(node).run(self.adapter.commands.status, timeout=30, check=True)
        return self.adapter.read_status(res.stdout)


@dataclass
class FaultRun:
    fault: str
    target: str
    role: str
    prediction: Prediction
    timeline: Timeline
    judgement: Verdict | None = None
    # Raw texts stay out of repr: an assertion's introspection must not print them unredacted.
    status_before: str = field(default="", repr=False)
    status_after: str = field(default="", repr=False)
    logs: list[nodelogs.NodeLog] = field(default_factory=list, repr=False)
    fence_path_log: str = field(default="", repr=False)  # the host's side of the fences (fence shell)
    record: str = ""
    wall_s: float = 0.0
    cluster_s: float = 0.0  # fault to healthy, as the cluster took it
    evidence: Evidence | None = None
    offsets_before: dict[str, nodelogs.Offset] = field(default_factory=dict)  # each node's clock, before the fault


def target_for(cluster: LiveCluster, status: ClusterStatus, role: str) -> str:
    """`owner` -> the node running the service now; `standby` -> another allowed node."""
    svc = status.service(cluster.design.service)
    owner = svc.owner if svc else None
    if owner is None:
        raise LabError(f"{cluster.design.service} runs nowhere before the fault", "precondition")
    if role == "owner":
        return owner
    others = [n for n in cluster.design.allowed_nodes if n != owner]
    if not others:
        raise LabError("no standby node in the service's allowed nodes", "precondition")
    return others[0]


def _settled(timeline: Timeline, pred: Prediction, cluster: LiveCluster) -> bool:
    """True once every predicted pre-heal phase has been seen (a cheap look at the timeline)."""
    baseline = next((o.status for o in reversed(timeline.items()) if o.t < 0 and o.status), None)
    if baseline is None:
        return False
    got = measure(timeline, pred, Evidence(cluster.design.service, baseline))
    # Phases seen only in node logs (read after the heal) cannot end the hold; the rest can.
    wanted = [p for p in pred.windows if p not in ("node-rejoined", "fail-back", "fence-requested")]
    if not wanted:
        return False  # nothing is predicted to happen: watch until the deadline that nothing does
    return all(got.get(p, (None, ""))[0] is not None for p in wanted) and _others_placed(timeline, pred, cluster)


def _others_placed(timeline: Timeline, pred: Prediction, cluster: LiveCluster) -> bool:
    """The design's other predicted services run where predicted in a survivor's latest view (web
    starts after db in a design that orders them: the hold must not end between the two)."""
    others = [svc for svc in pred.services if svc != cluster.design.service]
    if not others:
        return True
    last = next((o.status for o in reversed(timeline.items())
                 if o.status and o.node in pred.members_after), None)
    if last is None:
        return False
    return all((got := last.service(svc)) is not None and got.state == "started"
               and got.owner in pred.places(svc) for svc in others)


def hold_deadline(pred: Prediction, cluster: LiveCluster) -> float:
    """How long after t0 to keep the fault in place at most: the latest pre-heal window, or, when
    nothing is predicted to happen, the longest the design could take to notice (so "nothing
    happened" is a finding, not a shortcut). The acceptable alternatives count too: measured live,
    a heartbeat-down whose tie-break race went the other way was healed at the main prediction's
    end, before the group had started on the race's winner, and the judge could not match the
    alternative it would otherwise have accepted."""
    pre = [w.latest for alt in pred.outcomes() for p, w in alt.windows.items() if p not in HARNESS_PHASES]
    if pre:
        return max(pre) + SETTLE_GRACE_S
    d = cluster.design
    spec = cluster.lab.spec
    token_s = spec.timing.token_ms / 1000
    return max(token_s * 2.2 + spec.timing.fence_agent_s[1],
               spec.timing.iscsi_replacement_timeout_s + d.fs_monitor_interval_s + d.fs_monitor_timeout_s)


def ensure_healthy(cluster: LiveCluster, progress: Progress = print) -> ClusterStatus:
    """The precondition of every fault: all nodes online, the service on its preferred node.
    A cheap look first; the full restore only when the last test (or a crash) left it otherwise."""
    d = cluster.design
    try:
        status = cluster.status()
        svc = status.service(d.service)
        healthy = ({n.name for n in cluster.lab.spec.nodes} <= set(status.online()) and svc is not None
                   and svc.state == "started" and svc.owner == d.preferred_node)
        if healthy:
            return status
    except HalabError as err:
        progress(f"precondition: cluster status not readable ({err}); restoring")
    progress("precondition: cluster not healthy; restoring it first")
    if cluster.saved is not None:
        revert(cluster.lab, cluster.saved, progress)
    return restore(cluster.lab, d.service, d.preferred_node, within_s=600, progress=progress)


def run_fault(cluster: LiveCluster, fault_id: str, role: str, progress: Progress = print,
              before_restore: Callable[[], None] | None = None, phase_log: Path | None = None,
              restore_must_succeed: bool = True, at_inject: Callable[[], None] | None = None) -> FaultRun:
    """Run one fault on the node with `role`; `before_restore` runs once the fault is healed and
    before the cluster is restored (a test that broke something on purpose mends it there);
    `at_inject` right before the fault goes in (after the precondition and the first statuses:
    measured live, host load started before them starved the precondition's own status call).
    `phase_log`: the phase-records file (reports/phase-history.jsonl) this run's phases go to.

    With ``restore_must_succeed=False`` (a deliberately broken cluster) a restore that does not
    reach health is recorded on the timeline and the run is still judged: the verdict on what
    the cluster did is the point, and the caller deploys afresh afterwards."""
    interrupt.check("no new fault is injected into a run that is being stopped")
    lab, d = cluster.lab, cluster.design
    spec = lab.spec
    fault = get_fault(fault_id)
    before = ensure_healthy(cluster, progress)
    target = target_for(cluster, before, role)
    owners = {d.service: (before.service(d.service).owner or d.preferred_node)}  # type: ignore[union-attr]
    pred = prediction_in_lab_names(predict(spec, fault_id, target, owners=owners, dc=before.dc), spec)
    if cluster.saved is not None:
        pred = pred.without_harness_phases(SNAPSHOT_NOT_JUDGED)
    timeline = Timeline()
    run = FaultRun(fault_id, target, role, pred, timeline, status_before=_text_status(cluster))
    run.record = f"rec-{uuid.uuid4().hex[:12]}"
    code, body = http(lab.paths.netns, d.service_ip, d.app_port, "POST", f"/{run.record}")
    if code != 200:
        raise LabError(f"could not write the record before the fault: {code} {body.strip()[:80]}", "precondition")
    run.offsets_before = nodelogs.offsets(lab, [n.name for n in spec.nodes])
    token_ms = pred.token_ms or spec.timing.token_ms  # the sentinel's stretch: the rest wait's and the judge's
    observers = _observers(cluster, timeline)
    started_wall = time.monotonic()
    for obs in observers:
        obs.start()
    try:
        _wait(lambda: sum(1 for o in timeline.items() if o.kind == "status") >= len(spec.nodes), 30,
              "a first status from every node", progress)
        _wait_at_rest(timeline, token_ms, progress)
        deadline = hold_deadline(pred, cluster)
        progress(f"{fault_id} on {target} ({role}): injecting; expect fenced: {', '.join(pred.fenced) or 'nobody'}, "
                 f"{d.service} -> {place_text(pred.services.get(d.service))}; "
                 f"holding the fault at most {deadline:.0f} s")
        with injected(fault, lab, target, on_inject=partial(_mark_inject, timeline, target, fault_id, at_inject),
                      on_effect=partial(_mark_effect, timeline, target, progress)):
            _hold(timeline, pred, cluster, deadline + timeline.now(),  # the windows count from the effect
                  spec.timing.poll_interval_s)
        timeline.record(HARNESS, target, HEAL, fault_id)
        _release_resets(observers)
        restore_started = timeline.now()
        progress(f"{fault_id}: healed at {restore_started:.1f} s; restoring the cluster")
        if before_restore is not None:
            before_restore()
        fences, restore_error, records = _reset(cluster, run, progress, restore_must_succeed)
    # No restore on the error path: the fault healed in `injected`; an interrupt (Ctrl-C, SIGTERM,
    # SIGHUP) must end the session within seconds, and after any other error the next test's
    # precondition restores the cluster (a second restore here would double a failed one's bound).
    finally:
        for obs in reversed(observers):
            obs.stop()
    timeline.t_healed = restore_started
    run.status_after = _text_status(cluster)
    run.wall_s = time.monotonic() - started_wall
    ev = Evidence(d.service, before, fences.history, fences.offset_s, timeline.t0_wall or 0.0, run.record,
                  records, d.preferred_node, spec.timing.poll_interval_s,
                  lag_bound(token_ms)[0], fence_history_unread=fences.unread)
    run.evidence = ev
    run.judgement = judge(timeline, pred, ev)
    if phase_log is not None:
        _record(run, lab, phase_log)
    if restore_error is not None and restore_must_succeed:
        raise RestoreFailed(restore_error, run)
    return run


# A run the host starved (INCONCLUSIVE) is run again this many times by default (--starved-retries).
STARVED_RETRIES = 1


def with_starved_retries(attempt: Callable[[int], FaultRun], show: Callable[[FaultRun, str | None], None],
                         retries: int = STARVED_RETRIES, progress: Progress = print) -> FaultRun:
    """``attempt(k)`` (k = 0, 1, ...), run again while its verdict is INCONCLUSIVE, at most
    ``retries`` more times; ``show(run, step)`` renders each attempt as it ends, an attempt that is
    run again under ``step`` (its own line in the report). Returns the last attempt, the test's.

    Why: INCONCLUSIVE is no verdict on the cluster (the host starved the lab; a safety violation
    seen meanwhile would be UNSAFE, never this), and a release sign-off wants one: a shared
    runner's load comes and goes. Every other verdict stands at once, pass or fail; each attempt
    is a whole new run (nothing of the starved one is reused) and stays in the report and in
    reports/histories."""
    for k in range(retries + 1):
        run = attempt(k)
        verdict = run.judgement
        again = k < retries and verdict is not None and verdict.category is Category.INCONCLUSIVE
        step = (f"attempt {k + 1} of at most {retries + 1}: {verdict.headline()} -- run again"
                if again and verdict is not None else None)
        show(run, step)
        if not again:
            return run
        progress(f"{run.fault} on {run.target}: INCONCLUSIVE, the host starved the lab; running it again "
                 f"({retries - k} more at most)")
    raise AssertionError("unreachable: the last attempt returns")


class RestoreFailed(LabError):
    """The restore after a fault did not bring the cluster back. The fault itself was judged: the
    run (verdict, timeline, logs) rides on the error so the report still shows what the cluster
    did, and the test ends as a harness error, not as a verdict."""

    def __init__(self, err: LabError, run: FaultRun) -> None:
        super().__init__(err.what, err.where or "restore")
        self.run = run


def verdict_over_restore(err: RestoreFailed) -> str:
    """The test's failure text when the restore failed after a run whose verdict had failed: the
    verdict first (its category is the test's), the restore's failure after it; "" when the verdict
    held (the run then ends as the harness error)."""
    verdict = err.run.judgement
    if verdict is None or verdict.ok:
        return ""
    return f"{verdict.message()}\n(then the restore failed: {err})"


Observer = StatusPoller | LifecycleWatcher | ServiceProbe | HostSampler


def _observers(cluster: LiveCluster, timeline: Timeline) -> tuple[Observer, ...]:
    """Everything that writes onto the timeline during a run, in start order."""
    lab, d, spec = cluster.lab, cluster.design, cluster.lab.spec
    domains = {n.domain: n.name for n in spec.nodes}
    return (LifecycleWatcher(timeline, domains),
            StatusPoller(lab, timeline, cluster.adapter, d.mountpoint, d.service_ip,
                         interval_s=spec.timing.poll_interval_s),
            ServiceProbe(lab.paths.netns, d.service_ip, d.app_port, timeline, interval_s=spec.timing.poll_interval_s),
            HostSampler(timeline, domains, nodes_dir=lab.paths.nodes, yield_resets=True))


def _release_resets(observers: tuple[Observer, ...]) -> None:
    """At the heal: a node reset by the fence boots at the normal priority again (HostSampler):
    the restore's phases wait for that boot."""
    for obs in observers:
        release = getattr(obs, "release", None)
        if callable(release):
            release()


def _mark_inject(timeline: Timeline, target: str, fault_id: str, at_inject: Callable[[], None] | None = None
                 ) -> None:
    """t0 and the injection mark, right before the fault goes in."""
    if at_inject is not None:
        at_inject()
    timeline.mark_t0()
    timeline.record(HARNESS, target, INJECT, fault_id)


def _mark_effect(timeline: Timeline, target: str, progress: Progress,
                 node_clock: tuple[float, float] | None) -> None:
    """The injection returned: with the target's clock around an in-guest command, if any."""
    took = timeline.now()
    detail = "" if node_clock is None else f"node clock {node_clock[0]:.6f} .. {node_clock[1]:.6f}"
    timeline.record(HARNESS, target, INJECTED, detail)
    progress(f"fault in place {took:.2f} s after t0 (the injection's round trip)")


def _record_effect(timeline: Timeline, target: str, logs: Sequence[nodelogs.NodeLog],
                   offset_before: nodelogs.Offset | None = None) -> None:
    """When the fault took effect, on host time, once the target's clock offset is measured: between
    its clock before and after the in-guest command, minus the offset (widened by the offset's
    error), kept between t0 and the command's return. The offset measured before the fault when
    there is one (the command ran on that clock; a fenced target comes back with another), else
    the one its logs were read with. Nothing when there is no node clock or no offset: the judge
    then takes the whole span from t0 to the return."""
    returned = next((o for o in timeline.items() if o.source == HARNESS and o.kind == INJECTED
                     and o.node == target and o.detail.startswith("node clock ")), None)
    log = next((lg for lg in logs if lg.node == target and lg.offset_s is not None), None)
    offset = offset_before or (None if log is None or log.offset_s is None else (log.offset_s, log.offset_err_s))
    if returned is None or offset is None or timeline.t0_wall is None:
        return
    (off, err), t0 = offset, timeline.t0_wall
    before, _, after = returned.detail.removeprefix("node clock ").partition(" .. ")
    lo = _clamp(float(before) - off - err, t0, t0 + returned.t)
    hi = _clamp(float(after) - off + err, lo, t0 + returned.t)
    timeline.record(HARNESS, target, EFFECT, f"{target}'s clock around the command, offset {off:+.3f} s "
                    f"+- {err:.2f}", t=timeline.at_wall((lo + hi) / 2), uncertainty=(hi - lo) / 2)


def _record_fence_path(timeline: Timeline, spec: LabSpec, text: str) -> None:
    """Every domain a fence agent destroyed through the host's fence shell, on host time, with the
    node whose agent sent it: the host's own record of a fence's "off" (the judge's FENCE_OFF)."""
    by_address = {str(a.address): n.name for n in spec.nodes for a in n.addresses}
    for cmd in nodelogs.read_fence_path(text):
        if cmd.verb != "destroy" or not cmd.ok:
            continue
        try:
            victim = spec.node(cmd.domain).name
        except SpecError:
            continue  # the fence shell only runs this lab's domains; anything else is not a fence here
        timeline.record(FENCE_PATH, victim, FENCE_OFF, f"virsh destroy {cmd.domain} sent by "
                        f"{by_address.get(cmd.client, cmd.client)}", t=timeline.at_wall(cmd.wall))


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def _record(run: FaultRun, lab: Lab, history: Path) -> None:
    """Append the run's phase times to the phase records (what bench/ derives ranges from)."""
    if run.judgement is None:
        return
    spec = lab.spec
    key = phase_records.RunKey(run.fault, run.role, spec.stack, spec.timing.name, lab.accel.kind, run.target,
                               design_name(spec.name))
    phase_records.append(history, phase_records.run_records(key, run.judgement, History.of(run.timeline).restore))


def _collect_and_restore(cluster: LiveCluster, run: FaultRun, progress: Progress, cold: bool = True
                         ) -> tuple[FenceRecords, LabError | None]:
    """Evidence that only the nodes hold (fence history, logs), then the cluster restore; a restore
    that fails is on the timeline and returned, so the fault is judged all the same. A node-local
    fence record that a rebooting node could not give before the restore is read after it."""
    lab, d, pred, timeline = cluster.lab, cluster.design, run.prediction, run.timeline
    fences = _fence_history(cluster, pred)
    since = (timeline.t0_wall or time.time()) - 30
    run.logs = [nodelogs.collect(lab, cluster.adapter, n.name, since) for n in lab.spec.nodes]
    run.fence_path_log = nodelogs.fence_path(fencessh.fence_log(lab.paths), since)
    _record_fence_path(timeline, lab.spec, run.fence_path_log)
    _record_effect(timeline, run.target, run.logs, run.offsets_before.get(run.target))
    for log in run.logs:
        nodelogs.add_to_timeline(timeline, log, run.offsets_before.get(log.node))
        timeline.record(HARNESS, log.node, LOGS, "read" if log.offset_s is not None else log.error[:200])
    within = restore_budget(pred, cluster, way_home=cold)
    timeline.record(HARNESS, None, RESTORE, "snapshot" if cluster.saved is not None else "")
    try:
        if cluster.saved is not None:
            revert(lab, cluster.saved, progress)
        restore(lab, d.service, d.preferred_node, within_s=within, progress=progress,
                on_cold=lambda why: timeline.record(HARNESS, None, RESTORE_COLD, why[:300]), cold=cold,
                hands_off_s=fail_back_end(pred),
                on_move=lambda why: timeline.record(HARNESS, None, RESTORE_MOVE, why[:300]))
    except LabError as err:
        timeline.record(HARNESS, None, RESTORE_FAILED, str(err)[:300])
        progress(f"restore did not reach health ({err}); judging what was observed")
        return _read_unread(cluster, fences), err
    timeline.record(HARNESS, None, RESTORED)
    return _read_unread(cluster, fences), None


def restore_budget(pred: Prediction, cluster: LiveCluster, way_home: bool = True) -> float:
    """How long the restore after a fault may take: the latest harness-driven window (a fenced
    node's rejoin and fail-back), plus, when the service moved, the harness's own way home after
    that (cleanup, then a stop and a start on its preferred node of each group that moves with it:
    ``restart_chain``), plus a margin.

    Why: measured live (iscsi-block on the owner, fast profile), the service sat on node02 with
    nobody fenced; the budget was the bare margin (120 s), and 42 s of it went to SSH while node01's
    I/O recovered, so the fail-back (a stop and a 30-50 s group start under TCG) could not fit.
    Where the design fails back, the harness moves the service only after the fail-back window
    (fail_back_end), so its way home comes after that window too.

    ``way_home=False`` (a deliberately broken cluster, deployed afresh after its run): only the
    harness-driven windows the judge still needs, no time for the harness's own way home. Measured
    live (the rgmanager mutant qdisk-label-mismatch): a 901 s bound spent waiting for a home the
    broken cluster did not reach, before a redeploy that puts it there anyway.
    """
    later = [w.latest for p, w in pred.windows.items() if p in HARNESS_PHASES]
    moved = place_text(pred.services.get(cluster.design.service)) != cluster.design.preferred_node
    hands_off = fail_back_end(pred)
    home_s = 0.0
    if way_home and (moved or hands_off):  # a stop and a start of every group that moves with the service
        home_s = 2 * len(cluster.design.restart_chain) * cluster.lab.spec.timing.resource_start_s[1] + SETTLE_S
    return max([*later, hands_off, 0.0]) + home_s + RESTORE_MARGIN_S


def _reset(cluster: LiveCluster, run: FaultRun, progress: Progress, must_succeed: bool
           ) -> tuple[FenceRecords, LabError | None, str | None]:
    """After the heal: the evidence only the nodes hold, the cluster put back (restore, or snapshot
    revert and the restore's look), the service answering again, and the records the service
    holds (None when it did not answer: the data check then has nothing)."""
    timeline = run.timeline
    read_back = None
    if cluster.saved is not None:  # the revert takes the LUNs back to before the record was written
        read_back = _read_back_before_revert(cluster, timeline, progress)
    fences, restore_error = _collect_and_restore(cluster, run, progress, must_succeed)
    run.cluster_s = timeline.now()
    if must_succeed and restore_error is None:
        try:
            _wait_answering(cluster, timeline, "the service answering again", progress,
                            answer_after_restore_s(cluster))
        except LabError as err:  # the fault is judged all the same (measured live on web3: lost)
            timeline.record(HARNESS, None, RESTORE_FAILED, str(err)[:300])
            restore_error = err
    code, records = read_back if read_back is not None else _records(cluster)
    return fences, restore_error, records if code == 200 else None


def _read_back_before_revert(cluster: LiveCluster, timeline: Timeline, progress: Progress) -> tuple[int, str]:
    """The service's records, read where the fault left it running (the data check), before a
    snapshot revert takes the data LUN back to before the record was written; waits at most
    answer_again_s for an answer (a service that does not answer gives the check nothing)."""
    try:
        _wait_answering(cluster, timeline, "the service answering before the reset", progress,
                        answer_again_s(cluster))
    except LabError as err:
        progress(f"data check: {err}")
    return _records(cluster)


def _wait_answering(cluster: LiveCluster, timeline: Timeline, what: str, progress: Progress,
                    within_s: float) -> None:
    """The client probe answered in the last moments, waited for at most within_s; when it
    does not, the error says what the client and the nodes last saw (a failed restore must be
    explainable from its one line: CI shows nothing else)."""
    try:
        _wait(lambda: _probe_ok_since(timeline, timeline.now() - 0.1), within_s, what, progress)
    except LabError as err:
        raise LabError(f"{err.args[0]} ({_client_view(timeline)})", "observe") from None


def _client_view(timeline: Timeline) -> str:
    """The last probe's answer and the nodes the poller last saw holding the service IP."""
    items = timeline.items()
    probes = [o for o in items if o.source == "probe"]
    last = f"last probe at {probes[-1].t:.1f} s: {probes[-1].detail[:80]}" if probes else "no probe ran"
    holders: dict[str, bool] = {}
    for o in items:
        if o.source == "poll" and o.node is not None and o.holds_ip is not None:
            holders[o.node] = o.holds_ip
    held = sorted(n for n, on in holders.items() if on)
    return f"{last}; service IP on {', '.join(held) if held else 'no node'} at the last poll"


def _records(cluster: LiveCluster) -> tuple[int, str]:
    """The records the service holds (its GET /): what the data check compares."""
    d = cluster.design
    return http(cluster.lab.paths.netns, d.service_ip, d.app_port, "GET", "/")


def answer_again_s(cluster: LiveCluster) -> float:
    """How long the service may take to answer its client probe where the cluster left it: the
    last group of its chain may still be starting (a restore takes a cluster still busy at the
    stack's settle limit as it is). Measured live on web3: db home, web still starting, 8080
    refused for 30 s."""
    return max(30.0, cluster.lab.spec.timing.resource_start_s[1] * (len(cluster.design.restart_chain) - 1))


def answer_after_restore_s(cluster: LiveCluster) -> float:
    """After the restore, also a restart in place the cluster may make once right after the service
    came home (a stop and a start of its chain). Why: in CI on rgmanager (session 11's submission),
    the service did not answer within 30 s of a restore that had seen it started at home; the
    seed's one group takes 30-80 s to start under TCG."""
    restart_s = 2 * cluster.lab.spec.timing.resource_start_s[1] * len(cluster.design.restart_chain)
    return max(answer_again_s(cluster), restart_s)


def fail_back_end(pred: Prediction) -> float:
    """Seconds after the restore begins until which the cluster's own fail-back may still come (the
    latest fail-back window of any accepted outcome; 0 when the design does not fail back): the
    restore does not move the service home itself before then."""
    return max((w.latest for alt in pred.outcomes() for p, w in alt.windows.items() if p == "fail-back"),
               default=0.0)


def _hold(timeline: Timeline, pred: Prediction, cluster: LiveCluster, deadline: float,
          poll_interval_s: float = 0.0) -> None:
    seen_all_at: float | None = None
    # every node polled once more after the last phase was seen (its polls are spread over the interval)
    grace = max(SETTLE_GRACE_S, 1.5 * poll_interval_s)
    while timeline.now() < deadline:
        # Only the main prediction ends the hold early; an alternative's end extends the deadline.
        # Measured live (rgmanager heartbeat-down): "any outcome settled" ended the hold at 19 s on
        # an alternative with nothing but a detect phase, before the predicted fence could be seen.
        if seen_all_at is None and _settled(timeline, pred, cluster):
            seen_all_at = timeline.now()
        if seen_all_at is not None and timeline.now() - seen_all_at >= grace:
            return
        time.sleep(0.5)


def _wait(cond: Callable[[], bool], within_s: float, what: str, progress: Progress | None = None) -> None:
    if progress is not None:
        progress(f"waiting for {what} (at most {within_s:.0f} s)")
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.25)
    raise LabError(f"{what} not seen within {within_s:.0f} s", "observe")


def _wait_at_rest(timeline: Timeline, token_ms: float, progress: Progress) -> None:
    """Until the lab is at rest by the pace's rule (``pace.rest``), at most REST_WAIT_STRETCHES
    token-long stretches; a lab that does not settle gets its fault anyway, said so, and the
    host-load sentinel judges the run. The result is on the timeline (harness "rest")."""
    within = REST_WAIT_STRETCHES * lag_bound(token_ms)[1]
    progress(f"waiting for the lab at rest (at most {within:.0f} s)")
    deadline = time.monotonic() + within
    while True:
        got = pace.rest(timeline.items(), timeline.now(), token_ms)
        if got.at_rest or time.monotonic() >= deadline:
            break
        interrupt.STOP.wait(0.5)
        interrupt.check("the lab was settling before a fault")
    timeline.record(HARNESS, None, REST, f"at_rest={got.at_rest} lag_s={got.lag_s} allowed_s={got.allowed_s:.3f}")
    if not got.at_rest:
        progress(f"the lab is not at rest after {within:.0f} s ({got.text()}): injecting anyway; "
                 "the host-load sentinel judges the run")


def _probe_ok_since(timeline: Timeline, t: float) -> bool:
    return any(o.kind == "probe-ok" and o.t >= t - 5 for o in timeline.items())


@dataclass(frozen=True)
class FenceRecords:
    """What the cluster says it fenced, as the judge reads it."""

    history: tuple[FenceAction, ...] | None  # None: no node could give it
    offset_s: float = 0.0  # node clock minus host clock of the times in it (0: already host time)
    unread: tuple[str, ...] = ()  # nodes whose own record (a per-node stack's) could not be read


def _fence_history(cluster: LiveCluster, pred: Prediction) -> FenceRecords:
    """The cluster's fence record. A cluster-wide history (pacemaker) from one node that stayed up,
    with its clock offset; a per-node record (fenced.log) from every node, merged on host time."""
    spec = cluster.lab.spec
    if cluster.adapter.commands.fence_history_per_node:
        return _merge_node_records(cluster, [n.name for n in spec.nodes], ())
    for node in [*pred.members_after, *(n.name for n in spec.nodes)]:
        try:
            return FenceRecords(*_read_record(cluster, node))
        except HalabError:
            continue
    return FenceRecords(None)


def _read_record(cluster: LiveCluster, node: str) -> tuple[tuple[FenceAction, ...], float]:
    """The fence record as ``node`` gives it, and that node's clock offset (its times are its own)."""
    res = cluster.lab.remote(node).run(cluster.adapter.commands.fence_history, timeout=30,
                                       connect_timeout=EVIDENCE_CONNECT_TIMEOUT_S)
    offset, _err = nodelogs.clock_offset(cluster.lab, node)
    return cluster.adapter.read_fence_history(res.stdout), offset


def _node_record(cluster: LiveCluster, node: str) -> tuple[FenceAction, ...]:
    """One node's own fence record on host time; the node is the fencer where the line does not
    name one (fenced writes only what it ran itself)."""
    actions, offset = _read_record(cluster, node)
    return tuple(replace(f, delegate=f.delegate or node, origin=f.origin or node,
                         completed=f.completed - timedelta(seconds=offset) if f.completed else None)
                 for f in actions)


def _merge_node_records(cluster: LiveCluster, nodes: list[str], known: tuple[FenceAction, ...]) -> FenceRecords:
    actions, unread = list(known), []
    for node in nodes:
        try:
            actions.extend(_node_record(cluster, node))
        except HalabError:
            unread.append(node)
    if len(unread) == len(cluster.lab.spec.nodes):
        return FenceRecords(None, 0.0, tuple(unread))
    return FenceRecords(tuple(actions), 0.0, tuple(unread))


def _read_unread(cluster: LiveCluster, fences: FenceRecords) -> FenceRecords:
    """After the restore: the per-node records that a node being fenced or booting could not give."""
    if not fences.unread:
        return fences
    return _merge_node_records(cluster, list(fences.unread), fences.history or ())


def _text_status(cluster: LiveCluster) -> str:
    """Every node's own view for the report: the status as ops read it (clustat / crm_mon) and the
    quorum with its votes (cman_tool status: the quorum device's votes / corosync-quorumtool)."""
    cmds = [c for c in (cluster.adapter.commands.status_text, cluster.adapter.commands.votes) if c]
    out = []
    for node in cluster.lab.spec.nodes:
        for cmd in cmds:
            try:
                res = cluster.lab.remote(node.name).run(cmd, timeout=30, connect_timeout=EVIDENCE_CONNECT_TIMEOUT_S)
                out.append(f"--- {node.name}: {cmd}\n{res.stdout}")
            except HalabError as err:
                out.append(f"--- {node.name}: unreachable ({err})")
                break
    return "\n".join(out)
