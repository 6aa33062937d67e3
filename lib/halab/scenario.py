"""One failover scenario end to end: predict, write a record, inject, observe, heal, restore, judge.

The failover tests are thin calls of `run_fault`; everything a verdict rests on is in the
returned `FaultRun` (prediction, timeline, judgement, logs) so the report can show it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from halab.deploy.pacemaker import Design
from halab.errors import HalabError, LabError
from halab.faults import ORACLE_ID, get_fault, injected
from halab.faults.restore import restore
from halab.lab.lab import Lab
from halab.observe import logs as nodelogs
from halab.observe.judge import Evidence, Judgement, judge, measure
from halab.observe.lifecycle import LifecycleWatcher
from halab.observe.poller import StatusPoller
from halab.observe.probe import ServiceProbe, http
from halab.observe.timeline import Timeline
from halab.oracle import Prediction, predict
from halab.oracle.model import place_text
from halab.stacks.base import StackAdapter, get_adapter
from halab.stacks.types import ClusterStatus, FenceAction

Progress = Callable[[str], None]
SETTLE_GRACE_S = 3.0  # keep watching this long after the last predicted phase was seen
RESTORE_MARGIN_S = 120.0


@dataclass
class LiveCluster:
    lab: Lab
    design: Design

    @property
    def adapter(self) -> StackAdapter:
        return get_adapter(self.lab.spec.stack)

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
    judgement: Judgement | None = None
    status_before: str = ""
    status_after: str = ""
    logs: list[nodelogs.NodeLog] = field(default_factory=list)
    record: str = ""
    wall_s: float = 0.0
    cluster_s: float = 0.0  # fault to healthy, as the cluster took it
    evidence: Evidence | None = None


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
    ev = Evidence(cluster.design.service, baseline, restore_started=timeline.now())
    got = measure(timeline, pred, ev)
    # Phases seen only in node logs (read after the heal) cannot end the hold; the rest can.
    wanted = [p for p in pred.windows if p not in ("node-rejoined", "fail-back", "fence-requested")]
    if not wanted:
        return False  # nothing is predicted to happen: watch until the deadline that nothing does
    return all(got.get(p, (None, ""))[0] is not None for p in wanted)


def hold_deadline(pred: Prediction, cluster: LiveCluster) -> float:
    """How long after t0 to keep the fault in place at most: the latest pre-heal window, or, when
    nothing is predicted to happen, the longest the design could take to notice (so "nothing
    happened" is a finding, not a shortcut)."""
    pre = [w.latest for p, w in pred.windows.items() if p not in ("node-rejoined", "fail-back")]
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
    return restore(cluster.lab, d.service, d.preferred_node, within_s=600, progress=progress)


def run_fault(cluster: LiveCluster, fault_id: str, role: str, progress: Progress = print,
              before_restore: Callable[[], None] | None = None) -> FaultRun:
    """Run one fault on the node with `role`; `before_restore` runs once the fault is healed and
    before the cluster is restored (a test that broke something on purpose mends it there)."""
    lab, d = cluster.lab, cluster.design
    spec = lab.spec
    fault = get_fault(fault_id)
    before = ensure_healthy(cluster, progress)
    target = target_for(cluster, before, role)
    owners = {d.service: (before.service(d.service).owner or d.preferred_node)}  # type: ignore[union-attr]
    pred = predict(spec, ORACLE_ID.get(fault_id, fault_id), target, owners=owners)
    timeline = Timeline()
    run = FaultRun(fault_id, target, role, pred, timeline, status_before=_text_status(cluster))
    run.record = f"rec-{uuid.uuid4().hex[:12]}"
    code, body = http(lab.paths.netns, d.service_ip, d.app_port, "POST", f"/{run.record}")
    if code != 200:
        raise LabError(f"could not write the record before the fault: {code} {body.strip()[:80]}", "precondition")
    poller = StatusPoller(lab, timeline, cluster.adapter, d.mountpoint, interval_s=spec.timing.poll_interval_s)
    watcher = LifecycleWatcher(timeline, {n.domain: n.name for n in spec.nodes})
    probe = ServiceProbe(lab.paths.netns, d.service_ip, d.app_port, timeline, interval_s=spec.timing.poll_interval_s)
    started_wall = time.monotonic()
    for obs in (watcher, poller, probe):
        obs.start()
    try:
        _wait(lambda: sum(1 for o in timeline.items() if o.kind == "status") >= len(spec.nodes), 30,
              "a first status from every node")
        deadline = hold_deadline(pred, cluster)
        progress(f"{fault_id} on {target} ({role}): injecting; expect fenced: {', '.join(pred.fenced) or 'nobody'}, "
                 f"{d.service} -> {place_text(pred.services.get(d.service))}; "
                 f"holding the fault at most {deadline:.0f} s")
        with injected(fault, lab, target, on_inject=timeline.mark_t0):
            _hold(timeline, pred, cluster, deadline)
        restore_started = timeline.now()
        progress(f"{fault_id}: healed at {restore_started:.1f} s; restoring the cluster")
        if before_restore is not None:
            before_restore()
        history, offset = _collect_and_restore(cluster, run, restore_started, progress)
        run.cluster_s = timeline.now()
        _wait(lambda: _probe_ok_since(timeline, timeline.now() - 0.1), 30, "the service answering again", progress)
    # No restore on the error path: the fault healed in `injected`; an interrupt (Ctrl-C, SIGTERM,
    # SIGHUP) must end the session within seconds, and after any other error the next test's
    # precondition restores the cluster (a second restore here would double a failed one's bound).
    finally:
        for obs in (probe, poller, watcher):
            obs.stop()
    timeline.t_healed = restore_started
    code, records = http(lab.paths.netns, d.service_ip, d.app_port, "GET", "/")
    run.status_after = _text_status(cluster)
    run.wall_s = time.monotonic() - started_wall
    ev = Evidence(d.service, before, restore_started, history, offset, timeline.t0_wall or 0.0,
                  run.record, records if code == 200 else None, d.preferred_node)
    run.evidence = ev
    run.judgement = judge(timeline, pred, ev)
    return run


def _collect_and_restore(cluster: LiveCluster, run: FaultRun, restore_started: float,
                         progress: Progress) -> tuple[tuple[FenceAction, ...], float]:
    """Evidence that only the nodes hold (fence history, logs), then the cluster restore."""
    lab, d, pred, timeline = cluster.lab, cluster.design, run.prediction, run.timeline
    history, offset = _fence_history(cluster, pred)
    run.logs = [nodelogs.collect(lab, cluster.adapter, n.name, (timeline.t0_wall or time.time()) - 30)
                for n in lab.spec.nodes]
    for log in run.logs:
        nodelogs.add_to_timeline(timeline, log)
    later = [w.latest for p, w in pred.windows.items() if p in ("node-rejoined", "fail-back")]
    within = max([*later, restore_started]) - restore_started + RESTORE_MARGIN_S
    restore(lab, d.service, d.preferred_node, within_s=within, progress=progress)
    return history, offset


def _hold(timeline: Timeline, pred: Prediction, cluster: LiveCluster, deadline: float) -> None:
    seen_all_at: float | None = None
    while timeline.now() < deadline:
        if seen_all_at is None and _settled(timeline, pred, cluster):
            seen_all_at = timeline.now()
        if seen_all_at is not None and timeline.now() - seen_all_at >= SETTLE_GRACE_S:
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


def _probe_ok_since(timeline: Timeline, t: float) -> bool:
    return any(o.kind == "probe-ok" and o.t >= t - 5 for o in timeline.items())


def _fence_history(cluster: LiveCluster, pred: Prediction) -> tuple[tuple[FenceAction, ...], float]:
    """Fence history from a node that stayed up (its clock offset converts the completion times)."""
    spec = cluster.lab.spec
    order = [*pred.members_after, *(n.name for n in spec.nodes)]
    for node in order:
        try:
            res = cluster.lab.remote(node).run(cluster.adapter.commands.fence_history, timeout=30, connect_timeout=3)
            offset, _err = nodelogs.clock_offset(cluster.lab, node)
            return cluster.adapter.read_fence_history(res.stdout), offset
        except HalabError:
            continue
    return (), 0.0


def _text_status(cluster: LiveCluster) -> str:
    cmd = cluster.adapter.commands.status_text
    out = []
    for node in cluster.lab.spec.nodes:
        try:
            res = cluster.lab.remote(node.name).run(cmd, timeout=30, connect_timeout=3)
            out.append(f"--- {node.name}: {cmd}\n{res.stdout}")
        except HalabError as err:
            out.append(f"--- {node.name}: unreachable ({err})")
    return "\n".join(out)
