"""The pacemaker (corosync 3) model of a lab's design: its CIB + corosync.conf, mapped onto the lab.

The design is read once (halab.cib.lab.lab_design): corosync 3 knet ring on the spec's first link
network, token from the timing profile, consensus/two_node from corosync.conf; fence delays per
victim from the fence devices (pcmk_delay_base/max, first topology level), stonith-timeout and
priority-fencing-delay from the cluster options; the service is the design's first non-clone
resource, its owner at t0 where pacemaker's own scheduler places it on the healthy cluster
(crm_simulate), its allowed nodes those without a -INFINITY location; stickiness, location score,
migration-threshold and the Filesystem/app operations as the CIB writes them. Pacemaker nodes are
named by the spec's node names (the mapping renames the user's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from halab.checks.pacemaker import unfenceable
from halab.cib import simulate as sim
from halab.cib.lab import LabDesign, lab_design
from halab.cib.model import INFINITY, Group, QuorumDevice
from halab.errors import ConfigError, NotApplicable, SpecError
from halab.faults.effect import CLUSTER_DAEMON, Act, Effect
from halab.oracle import broken
from halab.oracle import formulas as f
from halab.oracle.draft import Draft, owners_at_t0
from halab.oracle.model import BLOCKED, FAILED, Prediction, Premise, ServicePlace
from halab.oracle.timeline import Slack, Span
from halab.oracle.topology import FENCE, QUORUM, RING, SERVICE, STORAGE, Cut, network_cut, network_name, storage_cut
from halab.spec import LabSpec, TimingProfile
from halab.stacks.types import EventKind

STACK = "pacemaker"
DAEMONS = ("corosync", "pacemaker-controld")
GROUP_MEMBERS = 3  # IPaddr2 + Filesystem + the app (the seed's group; the design's own count is used)
SBD_AGENTS = ("fence_sbd", "external/sbd")


@dataclass(frozen=True)
class PcmkDesign:
    """Everything the model reads, resolved once: names, networks, timings, policies."""

    nodes: tuple[str, ...]
    networks: Mapping[str, str]  # function (ring/storage/fence/service) -> network name
    two_node: bool
    token_ms: int  # effective token (coefficient applied)
    consensus_ms: int
    fence_delay: Mapping[str, float]  # victim -> pcmk_delay_base of the device that fences it
    fence_delay_max_s: float
    priority_fencing_delay_s: float  # applies to the node hosting the (prioritised) service
    stonith_timeout_s: float
    sbd: bool
    sbd_watchdog_s: float
    service: str
    preferred: str
    allowed: tuple[str, ...]
    fail_back: bool
    stickiness: int
    preferred_score: int
    fs_monitor_interval_s: float
    fs_monitor_timeout_s: float
    fs_stop_timeout_s: float
    fs_start_timeout_s: float
    app_monitor_interval_s: float
    migration_threshold: int
    timing: TimingProfile
    lab: LabDesign | None = field(default=None, compare=False, repr=False)  # for the scheduler's answers
    qdevice: QuorumDevice | None = None  # corosync-qdevice: qnetd's vote decides which half is quorate
    nodeids: Mapping[str, int] = field(default_factory=dict)  # corosync node id per node (the lab's index)

    @classmethod
    def from_spec(cls, spec: LabSpec) -> PcmkDesign:
        return _design(spec, lab_design(spec))

    @property
    def fence(self) -> Span:
        """fence_virsh reboot run time, measured (timing profile fence_agent_s)."""
        return Span.of(self.timing.fence_agent_s)

    @property
    def start(self) -> Span:
        """Whole group start, measured (timing profile resource_start_s)."""
        return Span.of(self.timing.resource_start_s)

    @property
    def stop(self) -> Span:
        """Group stop: not measured yet; bounded by the measured start (stated in the reasoning)."""
        return Span(0.0, self.timing.resource_start_s[1])


def _design(spec: LabSpec, lab: LabDesign) -> PcmkDesign:
    """Every value the model reads, from the one design object (the CIB and corosync.conf)."""
    if spec.timing.token_ms <= 0:
        raise ConfigError(f"timing profile {spec.timing.name}: token_ms = {spec.timing.token_ms} is not a positive "
                          "number of milliseconds: corosync will not form a ring with it", str(spec.path))
    d = lab.design
    cib = d.cib
    nodes = tuple(n.name for n in spec.nodes)
    coro = d.corosync
    token = f.corosync3_token_ms(spec.timing.token_ms, len(nodes),
                                 (coro.token_coefficient_ms if coro and coro.token_coefficient_ms is not None
                                  else f.COROSYNC3_TOKEN_COEFFICIENT_MS))
    svc = lab.service_rsc
    meta = {**cib.rsc_defaults, **svc.meta}
    members = len(svc.members) if isinstance(svc, Group) else 1
    preferred = lab.preferred_node
    score = max((lc.score for lc in cib.locations if lc.rsc == svc.id and lc.node == preferred and not lc.role),
                default=0)
    links = spec.stack_config(STACK).get("links", [spec.stack_config(STACK).get("ring_network", "heartbeat")])
    device = coro.device if coro else None
    quorum_net = {QUORUM: network_name(spec, str(spec.stack_config(STACK).get("qnetd_network", "management")))} \
        if device else {}
    try:
        stickiness = _score(meta.get("resource-stickiness", "0"))
        return PcmkDesign(
            nodes=nodes,
            networks={
                RING: network_name(spec, str(links[0])),
                STORAGE: network_name(spec, spec.storage.network),
                FENCE: network_name(spec, str(spec.stack_config(STACK).get("fence_network", "management"))),
                SERVICE: network_name(spec, str(spec.stack_config(STACK).get("service_ip_network", "service"))),
                **quorum_net,
            },
            two_node=d.two_node,
            token_ms=token,
            consensus_ms=(coro.consensus_ms if coro and coro.consensus_ms is not None
                          else f.corosync3_consensus_ms(token)),
            fence_delay={n: d.fence_delay_s(n)[0] for n in nodes},
            fence_delay_max_s=max((d.fence_delay_s(n)[1] for n in nodes), default=0.0),
            priority_fencing_delay_s=d.option_s("priority-fencing-delay"),
            stonith_timeout_s=d.option_s("stonith-timeout") or f.STONITH_TIMEOUT_S,
            sbd=any(dev.primitive.type in SBD_AGENTS for dev in lab.user.fence_devices()),  # before the mapping
            sbd_watchdog_s=f.SBD_WATCHDOG_S,
            service=svc.id,
            preferred=preferred,
            allowed=lab.allowed_nodes,
            # stickiness is additive over a group's active members (pacemaker Explained, "Groups")
            fail_back=score > stickiness * members,
            stickiness=stickiness,
            preferred_score=score,
            fs_monitor_interval_s=lab.fs_monitor_interval_s,
            fs_monitor_timeout_s=lab.fs_monitor_timeout_s,
            fs_stop_timeout_s=lab.op_s("Filesystem", "stop", "timeout_s", 20.0),
            fs_start_timeout_s=lab.op_s("Filesystem", "start", "timeout_s", 20.0),
            app_monitor_interval_s=lab.op_s(lab.app, "monitor", "interval_s", 0.0),
            migration_threshold=_score(meta.get("migration-threshold", str(INFINITY))),
            timing=spec.timing,
            lab=lab,
            qdevice=device,
            nodeids={n.name: n.index for n in spec.nodes},
        )
    except (TypeError, ValueError, IndexError) as err:
        raise ConfigError(f"pacemaker design: {err}", str(lab.user.cib_path)) from None


def _score(raw: str) -> int:
    from halab.cib.values import score

    return score(raw, "meta attribute")


# --- entry point -------------------------------------------------------------------------------


def predict(spec: LabSpec, fault: str, effect: Effect, target: str, owners: Mapping[str, str] | None, *,
            slack: Slack, daemon: str | None = None, dc: str | None = None) -> Prediction:
    """The pacemaker prediction for ``fault`` (shown by its id, reasoned from its ``effect``) on
    ``target`` (any spec name of the node); ``dc``: the Designated Controller at t0, if known."""
    d = PcmkDesign.from_spec(spec)
    node = spec.node(target)
    owner = owners_at_t0({d.service: d.preferred}, _names(spec, owners))[d.service]
    m = _Model(d, fault, node.name, owner, slack, _known_node(spec, dc))
    if effect.act in (Act.STOP_NODE, Act.FREEZE_NODE):
        pred = m.node_gone(_gone_why(effect))
    elif effect.act is Act.KILL_PROCESS:
        pred = m.kill_daemon(daemon or "corosync") if effect.process == CLUSTER_DAEMON else m.app_failure()
    elif effect.act is Act.CUT_STORAGE:
        pred = m.cut(storage_cut())
    elif effect.act is Act.CUT_ARBITER:
        pred = m.arbiter_lost()
    else:
        pred = m.cut(network_cut(spec, effect, node, d.networks))
    # a design that cannot fence the victim never fails over: say so, never a confident take-over
    cannot = unfenceable(d.lab.design) if d.lab is not None else {}
    return broken.blocked(pred, cannot, {d.service: owner}, broken.PACEMAKER_WAITS)


def _known_node(spec: LabSpec, name: str | None) -> str | None:
    """A node named by the cluster's status, as the spec names it; None (not known) for any other."""
    try:
        return spec.node(name).name if name else None
    except SpecError:
        return None


def _names(spec: LabSpec, owners: Mapping[str, str] | None) -> dict[str, str]:
    return {svc: spec.node(n).name for svc, n in (owners or {}).items()}


def _gone_why(effect: Effect) -> str:
    if effect.act is Act.FREEZE_NODE:
        return ("virsh suspend: the node stops answering; fence_virsh counts a paused domain as on "
                "(fence/agents/virsh/fence_virsh.py:38), so the reboot destroys and restarts it")
    return "virsh destroy: the node is gone at t0; fence_virsh reboot finds it off and starts it"


class _Model:
    """One fault on one node: builds the primary outcome and any alternatives."""

    def __init__(self, d: PcmkDesign, fault: str, target: str, owner: str, slack: Slack,
                 dc: str | None = None) -> None:
        self.d = d
        self.fault = fault
        self.target = target
        self.owner = owner
        self.slack = slack
        self.dc = dc

    def draft(self) -> Draft:
        dr = Draft(self.slack, self.d.nodes, services={self.d.service: self.owner}, token_ms=int(self.d.token_ms))
        dr.say(f"pacemaker design: {len(self.d.nodes)} nodes {', '.join(self.d.nodes)}; "
               f"{self.d.service} on {self.owner} at t0 (preferred {self.d.preferred})")
        if self.owner != self.d.preferred and self.d.fail_back:
            dr.say(f"note: with this stickiness {self.d.service} stays on {self.owner} only while "
                   "something pins it there")
        return dr

    def done(self, dr: Draft, alternatives: tuple[Prediction, ...] = ()) -> Prediction:
        self.other_services(dr)
        return dr.finish(STACK, self.fault, self.target, alternatives)

    def other_services(self, dr: Draft) -> None:
        """The design's other services, once the fenced nodes are gone: where pacemaker's own
        scheduler puts them (crm_simulate). One the scheduler keeps with the followed service goes
        wherever that one is predicted to go (a tie among survivors is not the model's to break).
        Outcomes without a lost node leave them unpredicted (and unjudged), said so."""
        lab = self.d.lab
        if lab is None or len(lab.design.services()) < 2:
            return
        if not dr.fenced:
            dr.say("other services: not predicted for this outcome (no node is lost; only "
                   f"{self.d.service} is judged)")
            return
        after = lab.services_after_loss(dr.fenced)
        mine, followed = after.get(self.d.service, ()), dr.services.get(self.d.service)
        for svc, nodes in after.items():
            if svc == self.d.service:
                continue
            if not nodes:
                dr.say(f"{svc}: pacemaker's scheduler runs it nowhere after losing {', '.join(dr.fenced)}: not judged")
            elif nodes == mine and followed not in (None, FAILED, BLOCKED):
                dr.services[svc] = followed
                dr.say(f"{svc}: kept with {self.d.service} by pacemaker's scheduler (crm_simulate after losing "
                       f"{', '.join(dr.fenced)}): goes where {self.d.service} goes")
            else:
                dr.services[svc] = nodes[0] if len(nodes) == 1 else nodes
                dr.say(f"{svc} -> {' or '.join(nodes)}: pacemaker's scheduler (crm_simulate) after losing "
                       f"{', '.join(dr.fenced)}")

    # --- membership loss -----------------------------------------------------------------------

    def membership(self, dr: Draft) -> Span:
        d = self.d
        dr.say(f"corosync 3: token T = {d.token_ms} ms (timing token + (n-2)·650 for n>2), "
               f"consensus C = {d.consensus_ms} ms (1.2·T unless set)")
        lost = f.token_loss(d.token_ms, d.timing.ring_pass_s)
        formed = f.membership_change(d.token_ms, d.consensus_ms, d.timing.ring_pass_s)
        return dr.phase("detect", Span(lost.lo, formed.hi),
                        f"token loss at T − token hold − ring pass .. T = {lost.label()} (the last token may have "
                        f"come one hold and one pass round the ring before the fault; ring pass "
                        f"{d.timing.ring_pass_s:g} s, timing profile ring_pass_s, measured), new membership at "
                        f"token loss + C + ε = {formed.label()}",
                        wide=f"the first sign is the token loss in a node's log (from T − hold − pass) or only the new "
                             f"membership a poll shows (C = {d.consensus_ms / 1000:g} s later), whichever evidence "
                             "comes first")

    def dc_takeover(self, dr: Draft, lost: str) -> Span:
        """How much later the fence request comes because the lost node was the DC: the survivor
        elects itself and integrates before its first scheduler run (pacemaker-controld S_ELECTION
        -> S_INTEGRATION -> S_FINALIZE_JOIN -> S_POLICY_ENGINE). Not a configured time: measured
        (timing profile dc_takeover_s); nothing when the DC at t0 is known to survive."""
        span = Span.of(self.d.timing.dc_takeover_s)
        if (self.dc is not None and self.dc != lost) or span.hi <= 0:
            return Span(0.0, 0.0)
        who = f"{lost} was the DC at t0" if self.dc == lost else f"the DC at t0 is not known (it may be {lost})"
        dr.say(f"{who}: the survivor first elects itself DC and integrates before its scheduler runs, "
               f"{span.label()} later (timing profile dc_takeover_s, measured)")
        return span

    def delay(self, victim: str, node_lost: bool) -> float:
        """pcmk_delay_base of the victim's device, plus priority-fencing-delay when the victim hosts
        the service and the fence is for a lost node (pacemaker options.c:339; not for op failures)."""
        prio = self.d.priority_fencing_delay_s if node_lost and victim == self.owner else 0.0
        return self.d.fence_delay[victim] + prio

    def fence_chain(self, dr: Draft, requested_after: Span, victim: str, fencer: str | None,
                    why: str, *, node_lost: bool = True) -> Span:
        """fence-requested, fence-done, node-rejoined for ``victim``; returns the fence-done span."""
        d = self.d
        when = "once the new membership is in (no earlier)" if node_lost else "at its next scheduler run"
        scheduled = requested_after + (self.dc_takeover(dr, victim) if node_lost else Span(0.0, 0.0))
        req = dr.phase("fence-requested", scheduled, f"{why}; the DC schedules the fence {when}",
                       wide=f"{self._spread(scheduled)}, plus the scheduler run under TCG "
                            f"(tolerance {self.slack.tol('fence-requested'):g} s, docs/timing-model.md)")
        base = self.delay(victim, node_lost)
        delay = Span(base, base + d.fence_delay_max_s)
        if base or d.fence_delay_max_s:
            dr.say(f"the fence of {victim} waits pcmk_delay_base/max (+ priority-fencing-delay) = "
                   f"{delay.label()} before the agent runs")
        agent = self._agent(dr)
        done = dr.phase("fence-done", req + delay + agent,
                        f"fence-requested + delay {delay.label()} + agent run {agent.label()}",
                        wide=f"fence_virsh's run time range {agent.label()} (timing profile fence_agent_s) adds to "
                             f"the request's spread")
        dr.fenced, dr.fenced_by, dr.fence_delay_s = (victim,), fencer, delay.lo
        self.rejoin(dr, victim)
        return done

    def _spread(self, after: Span) -> str:
        return f"it follows a span of {after.hi - after.lo:.2f} s (from {after.lo:.2f} s to {after.hi:.2f} s)"

    def _agent(self, dr: Draft) -> Span:
        d = self.d
        if d.sbd:
            msgwait = f.sbd_msgwait_s(d.sbd_watchdog_s)
            dr.say(f"sbd fencing: done after msgwait = 2 × watchdog {d.sbd_watchdog_s:g} s = {msgwait:g} s "
                   f"(sbd src/sbd-common.c:34-39); stonith-timeout {d.stonith_timeout_s:g} s "
                   f"{'>=' if d.stonith_timeout_s >= 2 * msgwait else '< (too low!)'} 2·msgwait (sbd.8)")
            return Span(msgwait, msgwait)
        agent = self.d.fence
        dr.say(f"fence_virsh reboot takes {agent.label()} (timing profile fence_agent_s, measured); "
               f"stonith-timeout {d.stonith_timeout_s:g} s (pacemaker options.c:259-265)")
        return agent

    def rejoin(self, dr: Draft, victim: str) -> Span:
        """Harness-driven: the daemons are not enabled at boot, so {victim} rejoins only when the
        harness's restore starts them; the window is seconds after that restore begins."""
        t = self.d.timing
        span = Span(0.0, t.node_boot_s[1]) + Span.of(t.cluster_start_s)
        return dr.phase("node-rejoined", span,
                        f"harness-driven (seconds after the harness's restore begins; cluster daemons are not "
                        f"enabled at boot): {victim} may still be booting (<= {t.node_boot_s[1]:g} s) + cluster "
                        f"start by the harness {Span.of(t.cluster_start_s).label()}",
                        wide=f"harness-driven: the node may still be booting (up to {t.node_boot_s[1]:g} s, "
                             f"node_boot_s) and cluster start ranges {Span.of(t.cluster_start_s).label()} "
                             "(cluster_start_s)")

    def take_over(self, dr: Draft, after: Span, alive: tuple[str, ...], why: str) -> None:
        """The service, if it was on a node that is gone, starts on the best node still alive."""
        place = self.place(alive)
        dr.services[self.d.service] = place
        if place == FAILED:
            dr.say(f"{self.d.service}: no allowed node left ({', '.join(self.d.allowed)}): stays stopped")
            return
        dr.phase("service-started", after + self.d.start,
                 f"{why} + group start {self.d.start.label()} (IPaddr2, Filesystem, app; resource_start_s)",
                 wide=f"the group start range {self.d.start.label()} (resource_start_s) adds to the spread of "
                      "what it follows")

    def place(self, alive: tuple[str, ...]) -> ServicePlace:
        """Location preference for the preferred node, restricted to allowed nodes."""
        ok = tuple(n for n in self.d.allowed if n in alive)
        if self.d.preferred in ok:
            return self.d.preferred
        if not ok:
            return FAILED
        return ok[0] if len(ok) == 1 else ok

    def fail_back(self, dr: Draft, victim: str) -> None:
        d = self.d
        place = dr.services.get(d.service)
        if victim != d.preferred or place in (d.preferred, FAILED) or "node-rejoined" not in dr.spans:
            return
        if not d.fail_back:
            dr.say(f"stickiness {d.stickiness} × {GROUP_MEMBERS} group members >= location score "
                   f"{d.preferred_score}: {d.service} stays where it is when {victim} rejoins, no fail-back")
            return
        dr.phase("fail-back", dr.spans["node-rejoined"] + d.stop + d.start,
                 f"location score {d.preferred_score} > stickiness {d.stickiness} × {GROUP_MEMBERS}: when "
                 f"{victim} rejoins the group moves back: node-rejoined + stop "
                 f"{d.stop.label()} (bounded by the measured start) + start {d.start.label()}",
                 wide="harness-driven rejoin, then a group stop and start, each bounded by the resource_start_s "
                      "range")

    # --- node-level faults ---------------------------------------------------------------------

    def node_gone(self, why: str) -> Prediction:
        dr = self.draft()
        dr.say(why)
        survivors = tuple(n for n in self.d.nodes if n != self.target)
        self.lose_node(dr, survivors)
        return self.done(dr)

    def kill_daemon(self, daemon: str) -> Prediction:
        if daemon not in DAEMONS:
            raise NotApplicable(f"kill-daemon {daemon}: not modelled for pacemaker "
                                f"(one of {', '.join(DAEMONS)})")
        if daemon == "pacemaker-controld":
            return self.controller_lost()
        return self.node_gone(f"kill -9 corosync on {self.target}: no leave message, so the peers see "
                              "a token loss exactly as for a dead node; the victim cannot fence "
                              "(no cluster layer)")

    def controller_lost(self) -> Prediction:
        """The node stays a member but its controller left: the scheduler fences it at once
        ("peer process is no longer available", pacemaker lib/pengine/unpack.c)."""
        dr = self.draft()
        stays = dr.copy()
        others = tuple(n for n in self.d.nodes if n != self.target)
        seen = dr.phase("detect", Span(0.0, 0.0),
                        "the controller's CPG leave is seen at once (no token wait)")
        done = self.fence_chain(dr, seen, self.target, others[0] if len(others) == 1 else None,
                                f"{self.target} is a member without a controller: unclean", node_lost=False)
        if self.owner == self.target:
            self.take_over(dr, done, others, "the group starts elsewhere once the fence is confirmed")
        self.fail_back(dr, self.target)
        stays.say("alternative: pacemakerd respawns the controller before the scheduler runs; it rejoins "
                  "and nothing is fenced")
        return self.done(dr, (self.done(stays),))

    def lose_node(self, dr: Draft, survivors: tuple[str, ...], device_vote: bool = True) -> None:
        """The target vanished for everyone else: token, membership, fence, take-over, rejoin.
        ``device_vote``: qnetd gives the survivors its vote (a quorum device's design)."""
        quorate = self.quorate(len(survivors), device_vote)
        dr.quorate = quorate
        detect = self.membership(dr)
        if not quorate:
            dr.say(f"survivors {', '.join(survivors)} lose quorum: nobody fences, resources stop")
            dr.services[self.d.service] = FAILED
            return
        fencer = survivors[0] if len(survivors) == 1 else None
        after = Span(f.membership_change(self.d.token_ms, self.d.consensus_ms, self.d.timing.ring_pass_s).lo, detect.hi)
        after = after + self.device_wait(dr, survivors)
        done = self.fence_chain(dr, after, self.target, fencer, f"{self.target} left the membership")
        if self.owner == self.target:
            self.take_over(dr, done, survivors,
                           "pacemaker starts the group only after the fence is confirmed")
        self.fail_back(dr, self.target)

    def quorate(self, members: int, device_vote: bool = True) -> bool:
        """Majority of votes, or two_node (corosync votequorum two_node: 1 keeps one of two quorate);
        with a quorum device, its votes count for ``members`` when qnetd gives them its vote."""
        n = len(self.d.nodes)
        return sim.quorate_after_loss(n, n - members, self.d.two_node, self.d.qdevice, device_vote)

    def device_wait(self, dr: Draft, survivors: tuple[str, ...]) -> Span:
        """How long after the new membership the survivors wait for qnetd's vote (nothing without a
        quorum device). qnetd decides once every member has reported the new membership or its
        connection has timed out; votequorum waits for the device's vote at most sync_timeout
        (corosync-qdevice(8)). An upper bound from the documentation, not a measurement."""
        dev = self.d.qdevice
        if dev is None:
            return Span(0.0, 0.0)
        wait = Span(0.0, dev.sync_timeout_ms / 1000)
        dr.say(f"quorum device ({dev.algorithm}): {', '.join(survivors)} are quorate only once qnetd's vote for the "
               f"new membership arrives, within {wait.label()} (sync_timeout; not measured yet), and fence only then")
        return wait

    def device_split(self, dr: Draft, cut: Cut, others: tuple[str, ...]) -> Prediction:
        """A ring split with a quorum device: qnetd gives its vote to one side (the larger; on a
        tie the tie_breaker's), the other side is inquorate and neither fences nor keeps resources
        (no-quorum-policy=stop); the quorate side fences it. No fence race."""
        dev = self.d.qdevice
        assert dev is not None
        sides = ((self.target,), others)
        reach = {sides[0]: QUORUM not in cut, sides[1]: True}
        winner = self.device_vote(sides, reach)
        if winner is None:
            dr.say("neither side reaches qnetd: nobody is quorate, nobody fences, resources stop")
            dr.quorate = False
            dr.services[self.d.service] = FAILED
            return self.done(dr)
        loser = sides[1] if winner == sides[0] else sides[0]
        why = ("the larger side" if len(winner) != len(loser) else
               f"an even split: tie_breaker {dev.tie_breaker} (node id {self.d.nodeids[winner[0]]})"
               if reach[loser] else f"{', '.join(loser)} cannot reach qnetd over {cut.network}")
        dr.say(f"quorum device ({dev.algorithm}): qnetd gives its vote to [{', '.join(winner)}] ({why}); "
               f"[{', '.join(loser)}] is inquorate: no-quorum-policy=stop stops its resources, and it does not fence")
        if winner == others:
            self.lose_node(dr, others)
            return self.done(dr)
        victim = loser[0]
        dr.quorate = True
        detect = self.membership(dr)
        after = Span(f.membership_change(self.d.token_ms, self.d.consensus_ms, self.d.timing.ring_pass_s).lo,
                     detect.hi) + self.device_wait(dr, winner)
        done = self.fence_chain(dr, after, victim, self.target, f"{victim} left {self.target}'s membership")
        if self.owner == victim:
            self.take_over(dr, done, winner, "pacemaker starts the group only after the fence is confirmed")
        self.fail_back(dr, victim)
        return self.done(dr)

    def device_vote(self, sides: tuple[tuple[str, ...], ...],
                    reach: Mapping[tuple[str, ...], bool]) -> tuple[str, ...] | None:
        """The side qnetd votes for (ffsplit and lms alike on a split into two): of the sides that
        reach it, the larger; on a tie, the one holding the tie_breaker node."""
        dev = self.d.qdevice
        assert dev is not None
        seen = [s for s in sides if reach[s]]
        if not seen:
            return None
        top = [s for s in seen if len(s) == max(len(x) for x in seen)]
        if len(top) == 1:
            return top[0]
        tie = dev.tie_winner(self.d.nodeids)
        return next((s for s in top if tie in s), None)

    def arbiter_lost(self) -> Prediction:
        """The node's qdevice loses qnetd while every node stays a member: the device's vote may
        go, the nodes' own votes still make quorum (each node is one vote; the device's votes are
        fewer than the nodes'), so nothing is fenced and nothing moves."""
        dev = self.d.qdevice
        if dev is None:
            raise NotApplicable(f"{self.fault}: the design has no quorum device (corosync.conf quorum.device)")
        n = len(self.d.nodes)
        dr = self.draft()
        dr.quorate = self.quorate(n, device_vote=False)
        dr.say(f"{self.target}'s corosync-qdevice loses qnetd; the ring is whole, so every node stays a member: "
               f"{n} node votes of {n + dev.vote_count(n)} expected without the device's "
               f"{'keep quorum' if dr.quorate else 'are not quorum'}; nobody is fenced, nothing moves")
        if not dr.quorate:
            dr.services[self.d.service] = FAILED
        return self.done(dr)

    # --- network cuts -------------------------------------------------------------------------

    def cut(self, cut: Cut) -> Prediction:
        if RING in cut:
            return self.split(cut)
        if STORAGE in cut:
            return self.storage_loss(cut)
        if SERVICE in cut:
            return self.service_link(cut)
        dr = self.draft()
        dr.say(f"{cut.network} carries nothing the cluster needs on {self.target} except "
               f"{', '.join(sorted(cut.functions)) or 'nothing'}: no membership change, nobody fenced")
        self.fence_path_note(dr, cut)
        return self.done(dr)

    def fence_path_note(self, dr: Draft, cut: Cut) -> None:
        if FENCE in cut:
            dr.say(f"{self.target} loses its fence path: it could not fence anyone, but nobody needs "
                   "fencing; other nodes still fence over their own links, so no node may be reported fenced")

    def split(self, cut: Cut) -> Prediction:
        dr = self.draft()
        others = tuple(n for n in self.d.nodes if n != self.target)
        dr.say(f"{cut.network} cut on {self.target}: the ring splits into [{self.target}] "
               f"and [{', '.join(others)}]")
        self.fence_path_note(dr, cut)
        if self.d.qdevice is not None:
            return self.device_split(dr, cut, others)
        if len(self.d.nodes) > 2 or not self.d.two_node:
            self.lose_node(dr, others)
            if self.owner == self.target and dr.services[self.d.service] != FAILED:
                dr.say(f"{self.target} is inquorate: no-quorum-policy=stop stops its resources "
                       "before it is fenced")
            return self.done(dr)
        return self.race(dr, cut)

    def race(self, dr: Draft, cut: Cut) -> Prediction:
        """two_node: both halves stay quorate and both fence; the delayed device decides."""
        other = next(n for n in self.d.nodes if n != self.target)
        can = {n: not (n == self.target and FENCE in cut) for n in (self.target, other)}
        winner = self.race_winner(self.target, other, can)
        dr.say("two_node: 1 keeps both halves quorate, so both schedule a fence of the other")
        if winner is None:
            dr.say("equal fence delays on both devices: a fence race, either node may win")
            first = self.race_outcome(dr.copy(), other, self.target)
            second = self.race_outcome(dr, self.target, other)
            return self.done(first, (self.done(second),))
        loser = other if winner == self.target else self.target
        gap = abs(self.delay(winner, True) - self.delay(loser, True))
        agent_hi = self.d.fence.hi
        close = can[loser] and not self.d.sbd and gap < agent_hi
        reversed_dr = dr.copy() if close else None
        dr.say(f"{winner} wins: the fence of {winner} waits {self.delay(winner, True):g} s "
               f"(pcmk_delay_base, priority-fencing-delay), that of {loser} {self.delay(loser, True):g} s; "
               "this holds if fence_virsh's off step ends within the difference"
               if can[loser] else f"{winner} wins: {loser} has no fence path")
        if close:
            dr.say_tie_break_risk(gap, agent_hi)
        main = self.race_outcome(dr, winner, loser)
        if reversed_dr is None:
            return self.done(main)
        reversed_dr.say(f"alternative (tie-break race): the delay difference {gap:g} s is shorter than fence_virsh's "
                        f"own run time (up to {agent_hi:g} s, timing profile fence_agent_s), so {loser}'s fence of "
                        f"{winner} may start before {winner}'s off step has ended: {loser} may win the race")
        return self.done(main, (self.done(self.race_outcome(reversed_dr, loser, winner)),))

    def race_winner(self, a: str, b: str, can: Mapping[str, bool]) -> str | None:
        if can[a] != can[b]:
            return a if can[a] else b
        da, db = self.delay(a, True), self.delay(b, True)
        if abs(da - db) <= self.d.fence_delay_max_s or da == db:
            return None
        return a if da > db else b

    def race_outcome(self, dr: Draft, winner: str, loser: str) -> Draft:
        detect = self.membership(dr)
        after = Span(f.membership_change(self.d.token_ms, self.d.consensus_ms, self.d.timing.ring_pass_s).lo, detect.hi)
        done = self.fence_chain(dr, after, loser, winner, f"{winner} (quorate, two_node) fences {loser}")
        if self.owner == loser:
            self.take_over(dr, done, (winner,), "the group starts on the winner after the fence is confirmed")
        self.fail_back(dr, loser)
        return dr

    # --- storage -------------------------------------------------------------------------------

    def storage_loss(self, cut: Cut) -> Prediction:
        dr = self.draft()
        d = self.d
        r = d.timing.iscsi_replacement_timeout_s
        dr.say(f"{cut.network} cut on {self.target}: its iSCSI sessions stall; I/O hangs, then errors out "
               f"after replacement_timeout {r} s (open-iscsi)")
        self.fence_path_note(dr, cut)
        if d.sbd:
            dr.say("sbd loses its disk but the node is quorate: 'Majority of devices lost - surviving on "
                   "pacemaker' (sbd src/sbd-inquisitor.c:672-686): no self-fence")
        if self.owner != self.target:
            dr.say(f"{self.target} does not run {d.service}: no resource touches the data LUN there, "
                   "pacemaker sees nothing: nobody fenced, the service stays")
            return self.done(dr)
        return self.owner_storage_loss(dr, r)

    def owner_storage_loss(self, dr: Draft, r: float) -> Prediction:
        d = self.d
        io = f.iscsi_io_error(r)
        fail = f.monitor_failure(d.fs_monitor_interval_s, d.fs_monitor_timeout_s, io)
        detect = dr.phase("detect", fail,
                          f"I/O errors at replacement_timeout + NOP-Out detection = {io.label()}; "
                          f"the Filesystem write-test monitor (every {d.fs_monitor_interval_s:g} s, timeout "
                          f"{d.fs_monitor_timeout_s:g} s) fails at min(I/O error, start + timeout), or at the next "
                          "run after the I/O error when the run in flight did not hang on the cut (up to one "
                          "interval later)",
                          wide=f"the I/O error's own spread {io.label()} (NOP-Out detection) plus up to one monitor "
                               f"interval ({d.fs_monitor_interval_s:g} s) before a run sees it")
        relocate, fence = self.relocation(dr.copy(), detect), self.stop_fence(dr, detect)
        stop_hangs = detect.hi + d.fs_stop_timeout_s < io.lo
        if stop_hangs:
            fence.say("the stop starts while I/O still hangs and its timeout ends before I/O errors out: "
                      "the umount hangs, the stop times out, on-fail=fence for stop")
            relocate.say("alternative: the stop completes anyway (nothing left to flush)")
            return self.done(fence, (self.done(relocate),))
        relocate.say("the stop runs after I/O errors out: umount of the failed ext4 completes (measured), "
                     "so the group relocates without a fence")
        fence.say("alternative: the stop fails or times out: on-fail=fence for stop "
                  "(the default with stonith)")
        return self.done(relocate, (self.done(fence),))

    def relocation(self, dr: Draft, detect: Span) -> Draft:
        d = self.d
        others = tuple(n for n in d.nodes if n != self.target)
        stop = Span(0.0, d.fs_stop_timeout_s)
        retry = Span(0.0, d.fs_start_timeout_s) if d.migration_threshold > 1 else Span(0.0, 0.0)
        dr.say(f"monitor failure -> stop (<= fs stop timeout {d.fs_stop_timeout_s:g} s)"
               + (f"; migration-threshold {d.migration_threshold}: a restart on {self.target} is tried "
                  "first and its Filesystem start fails (device gone; "
                  f"<= start timeout {d.fs_start_timeout_s:g} s), "
                  "start-failure-is-fatal bans the node" if d.migration_threshold > 1 else ""))
        self.take_over(dr, detect + stop + retry, others, "monitor failure + stop + failed local restart")
        dr.say(f"{self.target} stays a member; the fail count keeps the group away until it is cleaned up "
               "(after which stickiness decides a fail-back)")
        return dr

    def stop_fence(self, dr: Draft, detect: Span) -> Draft:
        d = self.d
        others = tuple(n for n in d.nodes if n != self.target)
        stop_failed = detect + Span(0.0, d.fs_stop_timeout_s)
        fencer = others[0] if len(others) == 1 else None
        done = self.fence_chain(dr, stop_failed, self.target, fencer,
                                f"the Filesystem stop fails or times out ({d.fs_stop_timeout_s:g} s): "
                                f"on-fail=fence, {self.target} is fenced by a peer over its own fence path",
                                node_lost=False)
        self.take_over(dr, done, others, "the group starts elsewhere once the fence is confirmed")
        self.fail_back(dr, self.target)
        return dr

    # --- service network, application -------------------------------------------------------------

    def service_link(self, cut: Cut) -> Prediction:
        dr = self.draft()
        dr.say(f"{cut.network} link down on {self.target}: IPaddr2's monitor only checks that the address is "
               "configured (resource-agents heartbeat/IPaddr2 ip_monitor), and an IPv4 address stays on a "
               "downed link: pacemaker notices nothing, nobody is fenced and the service does not move")
        if self.owner == self.target:
            dr.say(f"{self.d.service} stays on {self.target} and is unreachable for clients until the link "
                   "returns (a design gap: no link monitor such as ethmonitor)")
        return self.done(dr)

    def app_failure(self) -> Prediction:
        d = self.d
        if self.owner != self.target:
            raise NotApplicable(f"app-failure: {d.service} does not run on {self.target} "
                                f"(owner {self.owner})")
        dr = self.draft()
        detect = dr.phase("detect", Span(0.0, d.app_monitor_interval_s),
                          f"the app's monitor runs every {d.app_monitor_interval_s:g} s",
                          wide=f"the failure waits for the next monitor run, anywhere in its "
                               f"{d.app_monitor_interval_s:g} s interval")
        moved = dr.copy()
        dr.phase("service-started", detect + Span(0.0, d.start.hi),
                 "on-fail=restart: the app alone is restarted in place "
                 "(stop + start, within the group start)",
                 wide=f"the restart is bounded by the whole group start range {d.start.label()} (resource_start_s; "
                      "the app alone is not measured)")
        dr.say(f"{d.service} stays on {self.target}: migration-threshold {d.migration_threshold} "
               "is not reached by one failure")
        others = tuple(n for n in d.nodes if n != self.target)
        moved.say("alternative: the app fails to start again: start-failure-is-fatal bans "
                  f"{self.target} and the group moves (no fail-back while the fail count stands); "
                  f"acceptable only if a failed start of the app on {self.target} is logged")
        moved.premise = Premise(EventKind.SERVICE_START_FAILED.value, self.target,
                                f"the app failed to start again on {self.target}")
        self.take_over(moved, detect + d.stop + d.start, others,
                       "monitor failure + failed restart + group stop")
        return self.done(dr, (self.done(moved),))
