"""The rgmanager model: cman/corosync 1.x membership, qdiskd, fenced and rgmanager recovery.

Input is an ``RgDesign`` (rgdesign.py, adapted from cluster.conf). Each fault is told as the
cluster lives it: who stops talking (totem, quorum disk) and when, which partition keeps quorum,
who fences whom and when, where rgmanager restarts each service. Node names are cluster.conf's.
Sources of every rule: formulas.py and docs/timing-model.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from halab.clusterconf import Flavor
from halab.errors import NotApplicable, SpecError
from halab.faults.effect import CLUSTER_DAEMON, LINK_DOWN, Act, Effect
from halab.oracle import broken, rgdesign
from halab.oracle import formulas as f
from halab.oracle.draft import Draft
from halab.oracle.model import FAILED, Prediction, Premise, ServicePlace
from halab.oracle.rgdesign import HUNG_IO_MODES, RgDesign, RgService
from halab.oracle.timeline import Slack, Span, earliest_of, latest_of
from halab.oracle.topology import FENCE, RING, SERVICE, STORAGE, Cut, network_cut, storage_cut
from halab.spec import LabSpec
from halab.stacks.types import EventKind

STACK = "rgmanager"
DAEMONS = ("corosync", "qdiskd", "rgmanager")
NEVER = Span(float("inf"), float("inf"))
_Build = Callable[[str | None], Prediction]


def predict(
    spec: LabSpec,
    fault: str,
    target: str,
    owners: Mapping[str, str] | None,
    *,
    slack: Slack,
    daemon: str | None = None,
    qdisk_master: str | None = None,
    design: RgDesign | None = None,
    effect: Effect | None = None,
) -> Prediction:
    """The rgmanager prediction; ``design`` overrides the spec's cluster.conf (tests, variants);
    the model reasons from the fault's ``effect`` (default: the one its id declares)."""
    if effect is None:
        from halab.faults import effect_of

        effect = effect_of(fault)
    cannot: dict[str, str] = {}
    if design is None:  # the lab's own cluster.conf: a design the cluster refuses is no prediction
        # as the lab runs it: under the timing profile's overrides (the deploy writes the same text);
        # reading the file as written predicted token 20000 / tko 10 for a cluster running 10000 / 4
        from halab.clusterconf.profile import lab_conf

        conf = lab_conf(spec)
        broken.refusal(conf, spec, Flavor.RHEL6.value)
        cannot = broken.unfenceable(conf)
        design = rgdesign.from_cluster_conf(conf, spec)
    d = design
    x = cluster_name(spec, d, target)
    given = {svc: cluster_name(spec, d, n) for svc, n in (owners or {}).items()}
    master = cluster_name(spec, d, qdisk_master) if qdisk_master else None
    model = _Rg(d, fault, effect, x, given, slack=slack, master=master)
    return broken.blocked(model.run(spec, daemon), cannot, model.owners)


def service_names(spec: LabSpec) -> tuple[str, ...]:
    return tuple(s.name for s in rgdesign.from_spec(spec).services)


def cluster_name(spec: LabSpec, d: RgDesign, name: str) -> str:
    """The cluster.conf name of a node given by any of its lab names."""
    if name in d.nodes:
        return name
    node = spec.node(name)
    for n in d.nodes:
        try:
            if spec.node(n) == node:
                return n
        except SpecError:  # a cluster name that is no lab name cannot match
            continue
    raise NotApplicable(f"node {name} is not a member of the cluster ({', '.join(d.nodes)})")


@dataclass(frozen=True)
class Loss:
    """How the target leaves: when its totem traffic stops, when its quorum-disk writes stop."""

    totem: Span
    qdisk: Span | None  # None: its qdiskd keeps writing (and may keep the master role)
    acts: bool  # it forms its own partition and may fence (heartbeat split)


class _Rg:
    """One fault on one node of an rgmanager cluster."""

    def __init__(
        self, d: RgDesign, fault: str, effect: Effect, x: str, owners: Mapping[str, str], *, slack: Slack,
        master: str | None
    ) -> None:
        self.d = d
        self.fault = fault
        self.effect = effect
        self.x = x
        self.others = tuple(n for n in d.nodes if n != x)
        self.owners = {s.name: owners.get(s.name, self.preferred(s)) for s in d.services}
        self.slack = slack
        self.master_given = master

    # --- dispatch --------------------------------------------------------------------------------

    def run(self, spec: LabSpec, daemon: str | None) -> Prediction:
        act = self.effect.act
        if act in (Act.STOP_NODE, Act.FREEZE_NODE):
            return self.for_masters(self.node_gone)
        if act is Act.KILL_PROCESS:
            return self.kill(daemon or "corosync") if self.effect.process == CLUSTER_DAEMON else self.app_failure()
        if act is Act.CUT_STORAGE:
            return self.for_masters(lambda m: self.cut(storage_cut(), m))
        if act is Act.CUT_ARBITER:
            raise NotApplicable(f"{self.effect.text()}: cman has no corosync-qdevice (its tie-breaker is the "
                                "quorum disk: cut it with iscsi-block)")
        cut = network_cut(spec, self.effect, spec.node(self.x), self.d.uses())
        return self.for_masters(lambda m: self.cut(cut, m))

    def masters(self) -> tuple[str | None, ...]:
        """Who holds the qdisk master role at t0: given, else the lowest node id (first bid wins)."""
        if self.d.qdisk is None:
            return (None,)
        if self.master_given:
            return (self.master_given,)
        return self.d.nodes

    def for_masters(self, build: _Build) -> Prediction:
        """The primary outcome assumes the lowest-id master; other masters give alternatives.
        An outcome only one master leads to rests on that master at t0 (a premise the judge
        reads from qdiskd's log lines before the fault)."""
        built = [build(m) for m in self.masters()]
        outs = [_master_premised(out, m, tuple(o for j, other in enumerate(built) if j != i for o in other.outcomes()))
                for i, (m, out) in enumerate(zip(self.masters(), built, strict=True))]
        primary, rest = outs[0], outs[1:]
        alts = [*primary.alternatives]
        for m, out in zip(self.masters()[1:], rest, strict=True):
            if _differs(out, primary):
                alts.extend(
                    _tag(
                        o,
                        f"if {m} is the qdisk master at t0 (it wins master after a rejoin of "
                        f"{self.d.nodes[0]}; pass qdisk_master to pin it)",
                    )
                    for o in out.outcomes()
                )
        return _with_alternatives(primary, tuple(_unique(alts, primary)))

    # --- common pieces ---------------------------------------------------------------------------

    def preferred(self, svc: RgService) -> str:
        return svc.candidates[0] if svc.candidates else self.d.nodes[0]

    def wide_reasons(self) -> dict[str, str]:
        """Why each phase's window may be wide: the spreads and profile ranges it is built from."""
        t = self.d.timing
        return {
            "detect": "the first sign may be the token loss (from one token hold before T), a qdisk eviction "
                      f"or only the new membership (C = {self.d.consensus_ms / 1000:g} s later), whichever "
                      "evidence shows first",
            "fence-requested": "it follows the new membership's spread plus post_fail_delay and fenced's "
                               f"bookkeeping (tolerance {self.slack.tol('fence-requested'):g} s)",
            "fence-done": f"fence_virsh's run time range {self.agent().label()} (timing profile fence_agent_s) "
                          "per victim adds to the request's spread",
            "service-started": f"DLM recovery {f.DLM_RECOVERY_S.label()} and the service start range "
                               f"{self.start().label()} (resource_start_s) add to the fence's spread",
            "node-rejoined": f"harness-driven: the node may still be booting (up to {t.node_boot_s[1]:g} s, "
                             f"node_boot_s) and clstart ranges {Span.of(t.cluster_start_s).label()} (cluster_start_s)",
            "fail-back": "harness-driven rejoin, then a stop and a start, each bounded by the resource_start_s range",
        }

    def draft(self, master: str | None) -> Draft:
        d = self.d
        dr = Draft(self.slack, d.nodes, services=dict(self.owners), wide=self.wide_reasons(),
                   token_ms=int(d.token_ms))
        dr.say(
            f"rgmanager design: nodes {', '.join(d.nodes)}; totem T = {d.token_ms} ms, consensus "
            f"C = {d.consensus_ms} ms ({d.flavor} cman default unless set); post_fail_delay "
            f"{d.post_fail_delay_s:g} s; quorum needs {d.quorum_votes} votes"
            + (" (two_node)" if d.two_node else "")
        )
        if d.qdisk:
            q = d.qdisk
            dr.say(
                f"qdiskd: interval I = {q.interval_s} s, tko K = {q.tko}, master_wait {q.master_wait}, "
                f"upgrade_wait {q.upgrade_wait}, votes {q.votes}, "
                + ("master_wins" if q.master_wins else f"{len(q.heuristics)} heuristic(s)")
                + (f"; master at t0: {master}" if master else "")
            )
        for svc in d.services:
            dr.say(
                f"{svc.name} on {self.owners[svc.name]} at t0 (domain order {', '.join(svc.candidates)}"
                + (", ordered" if svc.ordered else "")
                + (", restricted" if svc.restricted else "")
                + (", nofailback" if svc.nofailback else "")
                + ")"
                + ("; autostart=0: the harness enables it before t0" if not svc.autostart else "")
            )
        return dr

    def done(self, dr: Draft, alternatives: tuple[Prediction, ...] = ()) -> Prediction:
        return dr.finish(STACK, self.fault, self.x, alternatives)

    def quorate(self, side: tuple[str, ...], qvote: bool) -> bool:
        """Votes of the partition (+ the quorum disk's) against quorum (cman quorum.c)."""
        q = self.d.qdisk.votes if (self.d.qdisk and qvote) else 0
        return sum(self.d.votes.get(n, 1) for n in side) + q >= self.d.quorum_votes

    def place(self, svc: RgService, alive: tuple[str, ...]) -> ServicePlace:
        """rgmanager's choice: highest-priority live member (ordered), any live member (unordered),
        any live node when an unrestricted domain has none."""
        members = tuple(n for n in svc.candidates if n in alive)
        if not members and not svc.restricted:
            members = alive
        if not members:
            return FAILED
        if svc.ordered or len(members) == 1:
            return members[0]
        return members

    def agent(self) -> Span:
        return Span.of(self.d.timing.fence_agent_s)

    def start(self) -> Span:
        return Span.of(self.d.timing.resource_start_s)

    def stop(self) -> Span:
        return Span(0.0, self.d.timing.resource_start_s[1])

    # --- membership and quorum ---------------------------------------------------------------------

    def membership(self, totem_gone: Span) -> tuple[Span, Span]:
        """(token loss, new membership) after the target's totem traffic stops."""
        lost = totem_gone + f.token_loss(self.d.token_ms, self.d.timing.ring_pass_s)
        formed = totem_gone + f.membership_change(self.d.token_ms, self.d.consensus_ms, self.d.timing.ring_pass_s)
        return lost, formed

    def qdisk_vote(
        self, side: tuple[str, ...], master: str | None, loss: Loss, score_ok: Mapping[str, bool]
    ) -> Span:
        """When ``side`` (the survivors) holds the quorum disk's votes: now, later, or never."""
        q = self.d.qdisk
        if q is None:
            return NEVER
        if not q.master_wins:
            return Span(0.0, 0.0) if any(score_ok.get(n, True) for n in side) else NEVER
        if master in side:
            return Span(0.0, 0.0)
        if loss.qdisk is None:
            return NEVER  # the master elsewhere keeps writing and keeps the votes
        return (
            loss.qdisk
            + f.qdisk_eviction(q.interval_s, q.tko)
            + f.qdisk_new_master(q.interval_s, q.master_wait, q.upgrade_wait)
        )

    def detect(self, dr: Draft, loss: Loss, master: str | None, extra: Span | None = None) -> Span:
        lost, formed = self.membership(loss.totem)
        span, why = (
            Span(lost.lo, formed.hi),
            (
                f"token loss at gone + T ({lost.label()}), new membership at "
                f"gone + T + C + ε ({formed.label()})"
            ),
        )
        ev = self.eviction(loss, master)
        if ev is not None:  # whichever comes first (min of both bounds keeps it monotone)
            why = f"qdisk eviction at (K..K+2)·I after the last write = {ev.label()}" + (
                "" if ev.hi <= span.hi else f", or the {why}"
            )
            span = earliest_of(span, ev)
        if extra is not None:
            span, why = earliest_of(span, extra), why + f"; first sign {extra.label()}"
        return dr.phase("detect", span, why)

    def eviction(self, loss: Loss, master: str | None) -> Span | None:
        """When a master evicts the silent target (A cman/qdisk/main.c:276-318)."""
        q = self.d.qdisk
        if q is None or loss.qdisk is None:
            return None
        ev = loss.qdisk + f.qdisk_eviction(q.interval_s, q.tko)
        if master == self.x:
            ev = ev + f.qdisk_new_master(q.interval_s, q.master_wait, q.upgrade_wait)
        return ev

    # --- node leaves -------------------------------------------------------------------------------

    def node_gone(self, master: str | None, why: str = "", self_reboot: bool = False) -> Prediction:
        dr = self.draft(master)
        dr.say(
            why
            or (
                "virsh suspend: the node stops at t0; fence_virsh counts paused as on and reboots it"
                if self.effect.act is Act.FREEZE_NODE
                else "virsh destroy: the node is gone at t0"
            )
        )
        loss = Loss(Span.at(0.0), Span.at(0.0), acts=False)
        if self_reboot:
            dr.self_reboot = (self.x,)
        self.survivors_fence(dr, loss, master, {})
        return self.done(dr)

    def survivors_fence(
        self,
        dr: Draft,
        loss: Loss,
        master: str | None,
        score_ok: Mapping[str, bool],
        detect: Span | None = None,
    ) -> None:
        """The target left (silently): survivors regain/keep quorum, fence it, take over."""
        _, formed = self.membership(loss.totem)
        seen = detect or self.detect(dr, loss, master)
        qv = self.qdisk_vote(self.others, master, loss, score_ok)
        with_q = self.quorate(self.others, qv != NEVER)
        if not self.quorate(self.others, False) and not with_q:
            return self.stalemate(dr, (self.x,))
        ready = formed if self.quorate(self.others, False) else latest_of(formed, qv)
        if qv.hi > 0 and not self.quorate(self.others, False):
            dr.say(
                f"the survivors are quorate only with the quorum disk's votes, from {qv.label()} "
                "(new master: eviction + I·(master_wait + upgrade_wait), A main.c:1041-1091)"
            )
        after = Span(ready.lo, max(ready.hi, seen.hi)) + self.d.post_fail_delay_s
        self.fence(dr, self.others, (self.x,), after, f"{', '.join(self.others)} quorate")

    def fence(
        self, dr: Draft, winners: tuple[str, ...], losers: tuple[str, ...], after: Span, why: str,
        phantom: bool = False,
    ) -> None:
        """fenced (quorate, low nodeid member of the fence domain) fences each loser in turn.
        `phantom`: the losers stay in the winners' membership until the winners' qdiskd evicts them
        (the corosync 1.x ifdown caveat, see ifdown_phantom): no takeover before, no fail-back."""
        d = self.d
        req = dr.phase(
            "fence-requested",
            after,
            f"{why}: fenced acts after the membership change + post_fail_delay {d.post_fail_delay_s:g} s "
            "once quorate (A fence/fenced/cpg.c:649-690, recover.c:174-236)",
        )
        done = req
        for victim in losers:
            done = done + Span.at(d.delay(victim)) + self.agent()
        dr.phase(
            "fence-done",
            done,
            f"+ fence_virsh delay {[d.delay(v) for v in losers]} s + agent run "
            f"{self.agent().label()} per victim (timing profile fence_agent_s)",
        )
        dr.fenced, dr.fenced_by = losers, winners[0]
        dr.members_after = winners
        evicted = None
        if phantom and d.qdisk is not None:
            q = d.qdisk
            evicted = (done + f.qdisk_eviction(q.interval_s, q.tko)
                       + f.qdisk_new_master(q.interval_s, q.master_wait, q.upgrade_wait))
            dr.say(
                f"{', '.join(losers)} leave(s) the phantom membership when {', '.join(winners)}'s qdiskd, master "
                f"once the victim stops writing, evicts it: fence-done + (K..K+2)·I + I·(master_wait + "
                f"upgrade_wait) = {evicted.label()} (measured live: 11 s after the fence)"
            )
        self.take_over(dr, winners, losers, done, evicted)
        rejoin = dr.phase(
            "node-rejoined",
            Span(0.0, d.timing.node_boot_s[1]) + Span.of(d.timing.cluster_start_s),
            f"harness-driven (seconds after the harness's restore begins; cluster not started at boot): "
            f"the victim may still be booting (<= {d.timing.node_boot_s[1]:g} s) + clstart by the harness "
            f"{Span.of(d.timing.cluster_start_s).label()}",
        )
        if phantom:
            dr.say("no fail-back predicted: measured live, rgmanager on the rebound node relocated the service "
                   "to the rejoining node before that node's rgmanager listened and hung on '#52: Failed "
                   "changing RG status'; the harness's restore restarts the cluster cold")
            return
        self.fail_back(dr, losers, rejoin)

    def take_over(self, dr: Draft, alive: tuple[str, ...], lost: tuple[str, ...], done: Span,
                  evicted: Span | None = None) -> None:
        """Services of fenced nodes start on the best live member once DLM recovery (and, in the
        phantom case, the qdisk eviction) allows it."""
        ready = done + f.DLM_RECOVERY_S if evicted is None else latest_of(done + f.DLM_RECOVERY_S, evicted)
        moved = False
        for svc in self.d.services:
            if dr.services.get(svc.name) not in lost:
                continue
            place = self.place(svc, alive)
            dr.services[svc.name] = place
            moved = moved or place != FAILED
            if place == FAILED:
                dr.say(f"{svc.name}: no member of its restricted domain is left: it stays stopped")
        if moved:
            dr.phase(
                "service-started",
                ready + self.start(),
                f"fence-done + DLM recovery {f.DLM_RECOVERY_S.label()} (rgmanager's locks wait for the "
                f"fence, A group/dlm_controld/cpg.c:519-545)"
                + ("" if evicted is None else f", not before the eviction {evicted.label()}")
                + f" + start {self.start().label()} (resource_start_s, in tree order)",
            )

    def fail_back(self, dr: Draft, back: tuple[str, ...], rejoin: Span) -> None:
        """Ordered domains move a service to a higher-priority member when it joins (not nofailback)."""
        for svc in self.d.services:
            place = dr.services.get(svc.name)
            if not isinstance(place, str) or place == FAILED or not svc.ordered:
                continue
            better = [
                n
                for n in back
                if n in svc.candidates
                and (place not in svc.candidates or svc.candidates.index(n) < svc.candidates.index(place))
            ]
            if not better:
                continue
            if svc.nofailback:
                dr.say(f"{svc.name}: nofailback keeps it on {place} when {better[0]} rejoins")
                continue
            dr.phase(
                "fail-back",
                rejoin + self.stop() + self.start(),
                f"{svc.name}: ordered domain, {better[0]} outranks {place}: relocated when it rejoins "
                f"(stop bounded by the measured start, then start)",
            )

    def stalemate(self, dr: Draft, lost: tuple[str, ...]) -> None:
        dr.quorate = False
        dr.members_after = self.others
        dr.say(
            f"{', '.join(self.others)} cannot reach quorum: fenced does not fence "
            "(A fence/fenced/cpg.c:649-690); rgmanager stops its services on quorum loss "
            "(#1: Quorum Dissolved)"
        )
        for svc in self.d.services:
            dr.services[svc.name] = FAILED
        _ = lost

    # --- heartbeat split --------------------------------------------------------------------------

    def cut(self, cut: Cut, master: str | None) -> Prediction:
        if RING in cut:
            return self.split(cut, master)
        if STORAGE in cut:
            return self.storage(cut, master)
        heur = self.heuristic_loss(cut)
        if heur is not None:
            return self.heuristic_reboot(cut, master, heur)
        if SERVICE in cut:
            return self.service_link(cut, master)
        dr = self.draft(master)
        dr.say(
            f"{cut.network} cut on {self.x} takes nothing the cluster needs right now"
            + (
                "; its fence path is gone but nobody needs fencing, so nobody may be reported fenced"
                if FENCE in cut
                else ""
            )
        )
        return self.done(dr)

    def score_ok(self, cut: Cut | None) -> dict[str, bool]:
        """Per node: does its qdisk heuristic score stay sufficient (only the target loses networks)?"""
        q = self.d.qdisk
        if q is None or not q.heuristics or cut is None:
            return dict.fromkeys(self.d.nodes, True)
        score = sum(h.score for h in q.heuristics if h.network != cut.network)
        return {n: (score >= q.required_score() if n == self.x else True) for n in self.d.nodes}

    def heuristic_loss(self, cut: Cut) -> Span | None:
        """When the target's qdiskd sees its score fall (A main.c:986-1007), None if it does not."""
        q = self.d.qdisk
        if q is None or self.score_ok(cut)[self.x]:
            return None
        failing = [h for h in q.heuristics if h.network == cut.network]
        return max(
            (f.qdisk_heuristic_down(h.interval_s, h.tko, q.interval_s) for h in failing), key=lambda s: s.hi
        )

    def split(self, cut: Cut, master: str | None) -> Prediction:
        heur = self.heuristic_loss(cut)
        if heur is not None:
            return self.heuristic_reboot(cut, master, heur, split=True)
        dr = self.draft(master)
        dr.say(
            f"{cut.network} cut on {self.x}: totem splits into [{self.x}] and [{', '.join(self.others)}]"
            + ("; both keep writing the quorum disk, so qdiskd evicts nobody" if self.d.qdisk else "")
        )
        loss = Loss(Span.at(0.0), None, acts=True)
        ok = self.score_ok(cut)
        mine = self.quorate((self.x,), self._x_qvote(master, ok))
        theirs = self.quorate(self.others, self.qdisk_vote(self.others, master, loss, ok) != NEVER)
        dr.say(
            f"[{self.x}] {'keeps' if mine else 'loses'} quorum, [{', '.join(self.others)}] "
            f"{'keeps' if theirs else 'loses'} it (votes vs {self.d.quorum_votes} needed)"
            + (
                "; an inquorate rgmanager stops its services (#1: Quorum Dissolved, main.c:122-135)"
                if not (mine and theirs)
                else ""
            )
        )
        can_x = mine and FENCE not in cut
        primary = self.split_outcome(dr, loss, master, can_x, theirs)
        if self.effect.how == LINK_DOWN:  # corosync 1 on an ifdown'd ring interface
            alts = [self.ifdown_alternative(master)]
            if not mine and FENCE not in cut:
                alts.append(self.ifdown_phantom(master))
            return _with_alternatives(primary, (*primary.alternatives, *alts))
        return primary

    def _x_qvote(self, master: str | None, ok: Mapping[str, bool]) -> bool:
        q = self.d.qdisk
        if q is None:
            return False
        return master == self.x if q.master_wins else ok[self.x]

    def split_outcome(
        self, dr: Draft, loss: Loss, master: str | None, x_fences: bool, others_fence: bool
    ) -> Prediction:
        after = self.split_fence_after(dr, loss, master)
        if x_fences and others_fence:
            return self.race(dr, after)
        if not (x_fences or others_fence):
            self.stalemate(dr, ())
            dr.members_after = ()
            return self.done(dr)
        if others_fence:
            self.fence(
                dr, self.others, (self.x,), after, f"[{', '.join(self.others)}] quorate, [{self.x}] not"
            )
        else:
            self.fence(
                dr, (self.x,), self.others, after, f"[{self.x}] quorate (qdisk master), the others not"
            )
        return self.done(dr)

    def split_fence_after(self, dr: Draft, loss: Loss, master: str | None) -> Span:
        """When a quorate half of a split may fence: detected and the new membership formed, plus
        post_fail_delay."""
        seen = self.detect(dr, loss, master)
        _, formed = self.membership(loss.totem)
        return Span(formed.lo, max(formed.hi, seen.hi)) + self.d.post_fail_delay_s

    def race(self, dr: Draft, after: Span) -> Prediction:
        """Both halves quorate (two_node, or qdisk votes on both sides): both fence."""
        d = self.d
        a, b = (self.x,), self.others
        dr.say("both partitions are quorate: both fence the other (the two_node fence race)")
        da, db = max(d.delay(n) for n in a), max(d.delay(n) for n in b)
        if da != db:
            win, lose = (a, b) if da > db else (b, a)
            dr.say(
                f"fence_virsh delay= on the device fencing {', '.join(win)} ({max(da, db):g} s) lets "
                f"{', '.join(win)} win"
            )
            gap, agent_hi = abs(da - db), self.agent().hi
            if gap < agent_hi:
                dr.say_tie_break_risk(gap, agent_hi)
            self.fence(dr, win, lose, after, f"{', '.join(win)} fences first")
            return self.done(dr)
        first, second, both = dr.copy(), dr.copy(), dr
        self.fence(first, b, a, after, f"{', '.join(b)} wins the race")
        self.fence(second, a, b, after, f"{', '.join(a)} wins the race")
        both.say("fence death: each agent destroys the other before it dies itself; every service stops")
        self.fence(both, b, a, after, "both fence")
        both.fenced, both.fenced_by, both.members_after = d.nodes, None, ()
        both.services.update(dict.fromkeys((s.name for s in d.services), FAILED))
        both.spans.pop("service-started", None)
        both.spans.pop("fail-back", None)
        return self.done(first, (self.done(second), self.done(both)))

    def ifdown_alternative(self, master: str | None) -> Prediction:
        """corosync 1.x on ifdown rebinds totem to 127.0.0.1: the target may not act on the split."""
        dr = self.draft(master)
        dr.say(
            "alternative (corosync 1.x ifdown caveat): on ifdown totem rebinds to the loopback address "
            f"and {self.x} may neither form its own membership nor fence; the peers see it leave"
        )
        loss = Loss(Span.at(0.0), None, acts=False)
        self.survivors_fence(dr, loss, master, self.score_ok(None))
        return self.done(dr)

    def ifdown_phantom(self, master: str | None) -> Prediction:
        """corosync 1.x on ifdown, measured live (seed timings, heartbeat-down on node02h, the
        standby, 2026-12-01): totem rebinds to 127.0.0.1 and the target's cman keeps its peer as a
        phantom member (corosync.log 'Members[2]: 1 2' right after 'The network interface is down'),
        so it stays quorate and fences too: a race master_wins does not decide. The branch where the
        target wins: the fenced peer leaves the target's membership only when the target's qdiskd,
        master by then, evicts it; rgmanager starts the service after that. Its fail-back when the
        peer rejoins hit '#52: Failed changing RG status' (the rebound node's state), so none is
        predicted and the harness's restore restarts the cluster cold."""
        dr = self.draft(master)
        dr.say(
            "alternative (corosync 1.x ifdown caveat, measured live): totem rebinds to 127.0.0.1 and "
            f"{self.x}'s cman keeps its peer as a phantom member ('Members[2]: 1 2' right after 'The "
            f"network interface is down'), so {self.x} stays quorate and fences too: a fence race that "
            "master_wins does not decide; this is the branch where it wins"
        )
        after = self.split_fence_after(dr, Loss(Span.at(0.0), None, acts=True), master)
        self.fence(dr, (self.x,), self.others, after, f"{self.x} (phantom quorum) fences first",
                   phantom=True)
        return self.done(dr)

    def heuristic_reboot(self, cut: Cut, master: str | None, heur: Span, split: bool = False) -> Prediction:
        """The target's score falls: qdiskd reboots it (reboot=1); the survivors fence it after T + C."""
        dr = self.draft(master)
        q = self.d.qdisk
        assert q is not None
        dr.say(
            f"{cut.network} cut on {self.x}: its qdisk heuristic fails after tko·interval: score below "
            f"{q.required_score()} at {heur.label()} (A cman/qdisk/score.c, main.c:986-1007)"
        )
        if not q.reboot:
            dr.say(f"reboot=0: {self.x} only gives up its qdisk votes")
            return self.done(dr)
        dr.self_reboot = (self.x,)
        dr.say(f"reboot=1: {self.x} reboots itself ('Score insufficient ... downgrading')")
        totem = Span.at(0.0) if split else heur
        loss = Loss(totem, heur, acts=False)
        self.survivors_fence(dr, loss, master, self.score_ok(cut), detect=self.detect(dr, loss, master, heur))
        return self.done(dr)

    # --- storage -----------------------------------------------------------------------------------

    def storage(self, cut: Cut, master: str | None) -> Prediction:
        q = self.d.qdisk
        if q is None or not self.d.qdisk_on_storage or not q.allow_kill:
            return self.resource_storage(cut, master)
        evict, whine = (self.qdisk_storage(cut, master, mode) for mode in HUNG_IO_MODES)
        return _with_alternatives(evict, (*evict.alternatives, whine))

    def qdisk_storage(self, cut: Cut, master: str | None, mode: str) -> Prediction:
        dr = self.draft(master)
        q = self.d.qdisk
        assert q is not None
        r = self.d.timing.iscsi_replacement_timeout_s
        io = f.iscsi_io_error(r)
        dr.say(
            f"{cut.network} cut on {self.x}: its quorum-disk writes hang, errors after replacement_timeout "
            f"{r} s + NOP-Out detection = {io.label()}"
        )
        if mode == "evict":
            silent = Span.at(0.0)  # the next write after t0 hangs; the last good one was within I before
            dr.say(
                "qdiskd 3.0.12: a hung write stops the target's timestamp, so it is evicted while I/O hangs"
            )
        else:
            silent = io
            dr.say(
                "alternative (qdiskd after commit e2937eb3, May 2011): the hung node whines every I·K/2 = "
                f"{f.qdisk_nanny_s(q.interval_s, q.tko):g} s and peers reset its misses; eviction only once "
                "I/O errors out (B main.c:2026-2049)"
            )
        ev = self.eviction(Loss(Span.at(0.0), silent, False), master)
        assert ev is not None
        dr.say(
            f"the master writes the eviction notice and, allow_kill, kills {self.x}'s cman at {ev.label()}; "
            "it cannot read the notice (I/O hangs), so no self-reboot; the peers then lose its token"
        )
        if master == self.x:
            lost_q = silent + f.cman_qdisk_lost(self.d.quorum_dev_poll_ms)
            dr.say(
                f"{self.x} was the master: a peer takes the role after eviction + I·(master_wait + "
                f"upgrade_wait); {self.x}'s cman logs 'lost contact with quorum device' at silence + [Q, 2Q] "
                f"= {lost_q.label()} (A cman/daemon/commands.c:1242-1259)"
            )
        loss = Loss(ev, silent, acts=False)
        self.survivors_fence(
            dr,
            loss,
            master,
            self.score_ok(None),
            detect=dr.phase("detect", ev, "qdisk eviction (A cman/qdisk/main.c:276-318)"),
        )
        if FENCE in cut:
            dr.say(f"{self.x}'s own fence path is cut too; the survivors fence it over theirs")
        return self.done(dr)

    def resource_storage(self, cut: Cut, master: str | None) -> Prediction:
        """No qdisk on the cut storage: only the fs status check can notice, for the owner only."""
        dr = self.draft(master)
        owned = [s for s in self.d.services if self.owners[s.name] == self.x and "fs" in s.resources]
        if not owned:
            dr.say(
                f"{cut.network} cut on {self.x}: no quorum disk and no file system of a service there: "
                "nothing notices; nobody fenced"
            )
            return self.done(dr)
        r = self.d.timing.iscsi_replacement_timeout_s
        io = f.iscsi_io_error(r)
        check = f.status_check(f.FS_WRITE_TEST_S)
        seen = dr.phase(
            "detect",
            Span(io.lo, max(io.hi, check.hi)),
            f"fs.sh depth-20 write test every {f.FS_WRITE_TEST_S} s (rgmanager polls every "
            f"{f.RGMANAGER_STATUS_POLL_S} s) hangs until I/O errors at {io.label()}",
        )
        return self.stop_failure(dr, owned, seen)

    def stop_failure(self, dr: Draft, owned: list[RgService], seen: Span) -> Prediction:
        """A failed status check: stop; rgmanager never fences on a failed stop (FACTS §3.2 b)."""
        relocated = dr.copy()
        stop = Span(0.0, float(f.FS_STOP_TIMEOUT_S))
        if any(s.self_fence for s in owned):
            dr.say(
                "the umount fails: fs self_fence=1 reboots the owner ('umount failed - REBOOTING', "
                "A rgmanager/src/resources/utils/fs-lib.sh:828-831)"
            )
            dr.self_reboot = (self.x,)
            gone = seen + stop
            self.survivors_fence(dr, Loss(gone, gone, acts=False), None, {}, detect=seen)
        else:
            dr.say(
                "the umount of the dead device fails: '#12: RG service failed to stop; intervention "
                "required', state failed; rgmanager does not fence on a stop failure"
            )
            for s in owned:
                dr.services[s.name] = FAILED
        alive = self.others
        relocated.say("alternative: the stop succeeds once I/O errors out; the service relocates (#71)")
        for s in owned:
            relocated.services[s.name] = self.place(s, alive)
        relocated.phase(
            "service-started",
            seen + stop + self.start(),
            "status failure + stop (<= fs stop timeout 30 s) + start elsewhere",
        )
        return self.done(dr, (self.done(relocated),))

    # --- service network, application, daemons -------------------------------------------------

    def service_link(self, cut: Cut, master: str | None) -> Prediction:
        dr = self.draft(master)
        owned = [s for s in self.d.services if self.owners[s.name] == self.x and s.ip_network == cut.network]
        watched = [s for s in owned if s.monitor_link]
        if not watched:
            dr.say(
                f"{cut.network} link down on {self.x}: no service IP with monitor_link there: "
                "rgmanager notices nothing; nobody fenced"
            )
            return self.done(dr)
        seen = dr.phase(
            "detect",
            f.status_check(f.IP_STATUS_S),
            f"ip.sh status (address + link, monitor_link) every {f.IP_STATUS_S} s, polled every "
            f"{f.RGMANAGER_STATUS_POLL_S} s (A rgmanager/src/resources/ip.sh:107-123)",
        )
        return self.recover(dr, watched, seen, restart_fails=True)

    def recover(self, dr: Draft, owned: list[RgService], seen: Span, restart_fails: bool) -> Prediction:
        """rgmanager's recovery policy after a failed status check (restart, relocate, disable)."""
        for s in owned:
            if s.recovery == "disable":
                dr.services[s.name] = FAILED
                dr.say(f"{s.name}: recovery=disable: stopped and disabled")
                continue
            local = s.recovery == "restart" and not restart_fails
            dr.services[s.name] = self.x if local else self.place(s, self.others)
            dr.say(
                f"{s.name}: recovery={s.recovery}: "
                + (
                    "stop and start again on the same node"
                    if local
                    else "a restart on the same node fails too, so rgmanager relocates it (#71)"
                    if s.recovery == "restart"
                    else "relocated"
                )
            )
        if any(dr.services[s.name] != FAILED for s in owned):
            dr.phase(
                "service-started",
                seen + self.stop() + self.start(),
                "status failure + stop + start (resource_start_s)",
            )
        return self.done(dr)

    def app_failure(self) -> Prediction:
        owned = [s for s in self.d.services if self.owners[s.name] == self.x and "script" in s.resources]
        if not owned:
            raise NotApplicable(f"app-failure: no service with a script runs on {self.x}")
        dr = self.draft(None)
        seen = dr.phase(
            "detect",
            f.status_check(f.SCRIPT_STATUS_S),
            f"script.sh status every {f.SCRIPT_STATUS_S} s, polled every {f.RGMANAGER_STATUS_POLL_S} s",
        )
        moved = dr.copy()
        alt = self.recover(moved, owned, seen, restart_fails=True)
        return _with_alternatives(
            self.recover(dr, owned, seen, restart_fails=False),
            (_tag(alt, "alternative: the application cannot start again"),),
        )

    def kill(self, daemon: str) -> Prediction:
        if daemon not in DAEMONS:
            raise NotApplicable(
                f"kill-daemon {daemon}: not modelled for rgmanager (one of {', '.join(DAEMONS)})"
            )
        if daemon == "corosync":
            return self.for_masters(
                lambda m: self.node_gone(
                    m,
                    f"kill -9 corosync (cman) on {self.x}: its qdiskd and rgmanager lose cman; the peers "
                    "see a token loss",
                )
            )
        if daemon == "rgmanager":
            return self.for_masters(
                lambda m: self.node_gone(
                    m,
                    f"kill -9 rgmanager on {self.x}: its watchdog parent waits {f.RG_WATCHDOG_GRACE_S} s and "
                    "reboots the node (rgmanager/src/daemons/watchdog.c)",
                    self_reboot=True,
                )
            )
        return self.for_masters(self.kill_qdiskd)

    def kill_qdiskd(self, master: str | None) -> Prediction:
        dr = self.draft(master)
        q = self.d.qdisk
        if q is None:
            raise NotApplicable("kill-daemon qdiskd: this cluster has no quorum disk")
        silent = Span.at(0.0)
        ev = self.eviction(Loss(Span.at(0.0), silent, False), master)
        assert ev is not None
        if not q.allow_kill:
            dr.say(f"qdiskd killed on {self.x}; allow_kill=0: evicted on disk only, stays in the cluster")
            return self.done(dr)
        dr.say(f"qdiskd killed on {self.x}: its timestamp stops; the master evicts it and kills its cman")
        loss = Loss(ev, silent, acts=False)
        self.survivors_fence(
            dr,
            loss,
            master,
            self.score_ok(None),
            detect=dr.phase("detect", ev, "qdisk eviction (A cman/qdisk/main.c:276-318)"),
        )
        return self.done(dr)


def _differs(a: Prediction, b: Prediction) -> bool:
    return (a.fenced, dict(a.services), a.windows.keys()) != (
        b.fenced,
        dict(b.services),
        b.windows.keys(),
    ) or any(a.windows[k] != b.windows[k] for k in a.windows)


def _master_premised(p: Prediction, master: str | None, others: tuple[Prediction, ...]) -> Prediction:
    """``p`` and its alternatives, each that no other master leads to resting on ``master`` at t0."""
    from dataclasses import replace

    if master is None or not others:
        return p

    def premised(o: Prediction) -> Prediction:
        if o.premise is not None or not all(_differs(o, x) for x in others):
            return o
        return replace(o, premise=Premise(EventKind.QDISK_MASTER.value, master,
                                          f"{master} the qdisk master when the fault began", at_t0=True))

    return replace(premised(p), alternatives=tuple(premised(a) for a in p.alternatives))


def _tag(p: Prediction, why: str) -> Prediction:
    from dataclasses import replace

    return replace(p, reasoning=(why, *p.reasoning), alternatives=())


def _unique(alts: list[Prediction], primary: Prediction) -> list[Prediction]:
    out: list[Prediction] = []
    for a in alts:
        if _differs(a, primary) and all(_differs(a, o) for o in out):
            out.append(a)
    return out


def _with_alternatives(p: Prediction, alts: tuple[Prediction, ...]) -> Prediction:
    from dataclasses import replace

    flat = tuple(_unique([a for alt in alts for a in alt.outcomes()], p))
    return replace(p, alternatives=tuple(replace(a, alternatives=()) for a in flat))
