"""The judge can fail: every check is shown failing, and shown failing as NO EVIDENCE when it
cannot see what it needs, on a history made for it (pure logic).

The histories are synthetic (observations written by hand, harness marks included); the live
counterpart is tests_failover, which feeds the same judge from a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from halab.observe.judge import (
    EFFECT,
    FENCE_OFF,
    FENCE_PATH,
    HARNESS,
    HEAL,
    INJECT,
    INJECTED,
    LOGS,
    RESTORE,
    RESTORE_MOVE,
    Evidence,
    History,
    judge,
    judge_one,
)
from halab.observe.timeline import Timeline
from halab.observe.verdict import Category, Verdict
from halab.oracle import Prediction, Window
from halab.oracle.draft import TIE_BREAK_RISK
from halab.oracle.model import BLOCKED
from halab.stacks.types import ClusterStatus, FenceAction, Member, Service

SVC = "service01"
BOTH = ("node01", "node02")


def status(online: tuple[str, ...], owner: str | None, state: str = "started", quorate: bool = True,
           running: bool = True) -> ClusterStatus:
    members = tuple(Member(n, n in online) for n in BOTH)
    return ClusterStatus(quorate, members, (Service(SVC, state, owner),), running=running)


def prediction(**changes: object) -> Prediction:
    base = Prediction(
        stack="pacemaker", fault="heartbeat-down", target="node02", fenced=("node02",), fenced_by="node01",
        self_reboot=(), services={SVC: "node01"}, quorate=True, members_after=("node01",),
        windows={"detect": Window(4.5, 14.0), "fence-done": Window(13.0, 42.0)},
        reasoning=("test",))
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass
class Story:
    """A hand-made history: node02 (standby) cut off at t0, fenced by node01 at `fence_at`."""

    fence_at: float | None = 18.0
    detect_at: float = 11.0
    healed: float | None = 30.0
    watched: bool = True
    logs: bool = True
    owner: str = "node01"
    skip: set[tuple[str, float]] = field(default_factory=set)  # (node, t) polls that got no status

    def build(self) -> Timeline:
        tl = Timeline()
        tl.t0_mono = tl.mono_start  # t on the timeline clock == seconds after t0
        tl.t0_wall = tl.wall_start
        if self.watched:
            tl.record("libvirt", None, "watching", t=-5.0)
        for t in (-2.0, -1.0):
            self.poll(tl, "node01", t, status(BOTH, self.owner), self.owner == "node01")
            self.poll(tl, "node02", t + 0.5, status(BOTH, self.owner), self.owner == "node02")
        tl.record(HARNESS, "node02", INJECT, t=0.0)
        end = self.healed if self.healed is not None else 30.0
        t = 1.0
        while t < end:
            online = BOTH if t < self.detect_at else ("node01",)
            self.poll(tl, "node01", t, status(online, self.owner), self.owner == "node01")
            if self.fence_at is None or t < self.fence_at - 0.5:
                self.poll(tl, "node02", t + 0.3, status(BOTH, self.owner), self.owner == "node02")
            tl.record("probe", self.owner, "probe-ok", f"ok {self.owner}", t=t + 0.2)
            t += 1.0
        if self.fence_at is not None:
            tl.record("libvirt", "node02", "lifecycle", "stopped:1", t=self.fence_at - 0.5)
            tl.record("libvirt", "node02", "lifecycle", "started:0", t=self.fence_at)
        if self.healed is not None:
            tl.record(HARNESS, "node02", HEAL, t=self.healed)
            tl.record(HARNESS, None, RESTORE, t=self.healed + 20.0)
        if self.logs:
            for n in BOTH:
                tl.record(HARNESS, n, LOGS, "read", t=end + 5.0)
        return tl

    def poll(self, tl: Timeline, node: str, t: float, st: ClusterStatus, mounted: bool) -> None:
        if (node, t) in self.skip:
            tl.record("poll", node, "no-status", "garbled", mounted=mounted, t=t)
        else:
            tl.record("poll", node, "status", status=st, mounted=mounted, t=t)


def timeline(**kw: object) -> Timeline:
    return Story(**kw).build()  # type: ignore[arg-type]


# An unseen stretch the safety checks must call blind: longer than one poll lost to its timeout
# (Evidence.max_gap_s), on a history long enough to hold it.
BLIND_S = int(Evidence(SVC, ClusterStatus(True, (), ())).max_gap_s) + 4
LONG = 45.0


def fenced_by(victim: str = "node02", by: str = "node01", at: float = 18.0) -> FenceAction:
    return FenceAction(victim, "reboot", "success", delegate=by, completed=datetime.fromtimestamp(at, UTC))


def evidence(**changes: object) -> Evidence:
    ev = Evidence(SVC, status(BOTH, "node01"), fence_history=(fenced_by(),), t0_wall=0.0,
                  record_before="rec-1 node01", records_after="rec-1 node01\n", preferred="node01")
    return replace(ev, **changes)  # type: ignore[arg-type]


def check(v: Verdict, name: str) -> tuple[Category | None, str]:
    c = next(c for c in v.checks if c.name == name)
    return c.category, c.message


def failing(v: Verdict) -> list[str]:
    return [c.message for c in v.failures()]


# --- the baseline passes --------------------------------------------------------------------------


def test_a_run_that_matches_the_prediction_passes() -> None:
    v = judge(timeline(), prediction(), evidence())
    assert v.ok, failing(v)
    assert v.fenced == ("node02",)
    assert v.category is None
    assert v.headline().startswith("PASS")


# --- history ----------------------------------------------------------------------------------------


def test_a_history_without_its_heal_is_no_evidence() -> None:
    v = judge(timeline(healed=None), prediction(), evidence())
    assert check(v, "history complete")[0] is Category.NO_EVIDENCE
    assert "heal" in check(v, "history complete")[1]


# --- outcome checks ---------------------------------------------------------------------------------

FENCED = "fenced: the predicted victim and only it"


def test_wrong_victim_is_a_wrong_outcome() -> None:
    v = judge(timeline(), prediction(fenced=("node01",)), evidence())
    cat, msg = check(v, FENCED)
    assert cat is Category.WRONG_OUTCOME
    assert msg.startswith("WRONG OUTCOME: expected fenced ['node01'], observed ['node02']")


def test_no_fence_at_all_is_a_wrong_outcome_and_a_missing_phase() -> None:
    v = judge(timeline(fence_at=None), prediction(), evidence(fence_history=()))
    messages = failing(v)
    assert "WRONG OUTCOME: expected fenced ['node02'], observed nobody" in messages
    assert any(m.startswith("TOO SLOW: fence-done never observed") for m in messages)
    # the fencer check has nobody to judge and says so, never "node02 fenced by node01" (live: the
    # stonith-disabled mutant's report said that next to "observed nobody")
    assert check(v, "fenced by the predicted fencer") == (None, "no fencer to check: node02 not fenced "
                                                             "(the victim check judges that)")


def test_a_double_fence_the_host_fence_path_saw_is_a_wrong_outcome_naming_both() -> None:
    """Measured live (heartbeat-down, fast profile): both nodes' fence_virsh destroyed the other
    within 20 ms and neither lived to start its victim again. No domain restarted, so without the
    host's fence log the judge said "observed nobody"; with it, both victims are named."""
    tl = timeline(fence_at=None)
    tl.record("libvirt", "node01", "lifecycle", "stopped:1", t=18.6)
    tl.record("libvirt", "node02", "lifecycle", "stopped:1", t=18.6)
    tl.record(FENCE_PATH, "node01", FENCE_OFF, "virsh destroy RHCSvm01 sent by node02", t=18.7)
    tl.record(FENCE_PATH, "node02", FENCE_OFF, "virsh destroy RHCSvm02 sent by node01", t=18.7)
    v = judge(tl, prediction(), evidence(fence_history=None))
    cat, msg = check(v, FENCED)
    assert cat is Category.WRONG_OUTCOME
    assert msg == "WRONG OUTCOME: expected fenced ['node02'], observed ['node01', 'node02']"
    # where the prediction named the tie-break's risk, the failure says this is that risk come true
    risky = replace(prediction(), reasoning=(f"{TIE_BREAK_RISK} 8 s under fence_virsh's 53 s, ...",))
    _, msg = check(judge(tl, risky, evidence(fence_history=None)), FENCED)
    assert msg.endswith("observed ['node01', 'node02'] (each switched the other off: the tie-break risk "
                        "the prediction names)")


def test_a_fence_off_before_t0_or_after_the_heal_does_not_count() -> None:
    tl = timeline()
    tl.record(FENCE_PATH, "node01", FENCE_OFF, "virsh destroy RHCSvm01 sent by node02", t=-3.0)
    tl.record(FENCE_PATH, "node01", FENCE_OFF, "virsh destroy RHCSvm01 sent by node02", t=31.0)
    assert check(judge(tl, prediction(), evidence()), FENCED)[0] is None


def test_fenced_without_lifecycle_events_is_no_evidence() -> None:
    v = judge(timeline(watched=False), prediction(), evidence())
    cat, msg = check(v, FENCED)
    assert cat is Category.NO_EVIDENCE
    assert "lifecycle" in msg
    blind = judge(timeline(watched=False, fence_at=None), prediction(), evidence())
    assert check(blind, "phase fence-done")[0] is Category.NO_EVIDENCE


def test_a_lifecycle_stream_that_closed_before_the_heal_is_no_evidence() -> None:
    """libvirtd killed mid-run: no event after that does not mean nobody was fenced."""
    tl = timeline(fence_at=None)
    tl.record("libvirt", None, "stream-closed", "connection closed (reason 0)", t=8.0)
    v = judge(tl, prediction(fenced=()), evidence(fence_history=()))
    for name in ("fenced: the predicted victim and only it", "self-reboot as predicted"):
        cat, msg = check(v, name)
        assert cat is Category.NO_EVIDENCE, name
        assert "the libvirt event stream closed at 8.00 s, before the fault was healed" in msg
    late = timeline(fence_at=None)
    late.record("libvirt", None, "stream-closed", "connection closed (reason 0)", t=31.0)  # after the heal
    assert check(judge(late, prediction(fenced=()), evidence(fence_history=())),
                 "fenced: the predicted victim and only it")[0] is None


def test_the_wrong_fencer_is_a_wrong_outcome() -> None:
    v = judge(timeline(), prediction(), evidence(fence_history=(fenced_by(by="node02"),)))
    cat, msg = check(v, "fenced by the predicted fencer")
    assert cat is Category.WRONG_OUTCOME
    assert "fenced by node02, expected by node01" in msg


def test_an_earlier_run_s_fence_does_not_name_this_run_s_fencer() -> None:
    """The fence record grows over a session: an entry from an earlier test (before t0) naming
    another fencer says nothing about who fenced the victim in this one."""
    old = fenced_by(by="node02", at=900.0)
    v = judge(timeline(), prediction(), evidence(t0_wall=1000.0, fence_history=(old, fenced_by(at=1018.0))))
    assert check(v, "fenced by the predicted fencer")[0] is None
    only_old = judge(timeline(), prediction(), evidence(t0_wall=1000.0, fence_history=(old,)))
    assert check(only_old, "fenced by the predicted fencer")[0] is not Category.WRONG_OUTCOME


def test_an_unknown_fencer_is_no_evidence() -> None:
    v = judge(timeline(), prediction(), evidence(fence_history=None))
    cat, msg = check(v, "fenced by the predicted fencer")
    assert cat is Category.NO_EVIDENCE
    assert "could not be read" in msg


def test_a_fence_request_alone_does_not_name_the_fencer() -> None:
    """Who asked is not who fenced (a double fence: both sides ask, one side's agent finishes):
    without the fence history, only a fence success line names the fencer."""
    tl = timeline()
    fence_request(tl, 12.0, "node02", "node02")
    cat, msg = check(judge(tl, prediction(), evidence(fence_history=None)), "fenced by the predicted fencer")
    assert cat is Category.NO_EVIDENCE, msg
    tl.record("log", "node01", "fence-success", "node=node02 actor=node01", t=17.0)
    assert check(judge(tl, prediction(), evidence(fence_history=None)), "fenced by the predicted fencer")[0] is None


def test_a_fence_claim_without_a_reset_is_wrong() -> None:
    v = judge(timeline(), prediction(), evidence(fence_history=(fenced_by(), fenced_by("node01", "node02", 5.0))))
    cat, msg = check(v, "no false fence claim")
    assert cat is Category.WRONG_OUTCOME
    assert "reports ['node01'] fenced but no such reset" in msg


def test_false_fence_claims_unreadable_history_is_no_evidence() -> None:
    v = judge(timeline(), prediction(), evidence(fence_history=None))
    assert check(v, "no false fence claim") == (Category.NO_EVIDENCE,
                                                "NO EVIDENCE: the fence history could not be read")


def test_false_fence_claims_with_a_node_record_unread_is_no_evidence() -> None:
    """rgmanager: each node's fenced.log holds only the fences it ran; one unread node's claims are unknown."""
    v = judge(timeline(), prediction(), evidence(fence_history=(fenced_by(),), fence_history_unread=("node02",)))
    assert check(v, "no false fence claim") == (
        Category.NO_EVIDENCE,
        "NO EVIDENCE: the fence record of node02 could not be read (each node records only the fences it ran)")


def test_a_predicted_self_reboot_that_never_came_is_wrong() -> None:
    v = judge(timeline(), prediction(self_reboot=("node01",)), evidence())
    cat, msg = check(v, "self-reboot as predicted")
    assert cat is Category.WRONG_OUTCOME
    assert "expected self-reboot of ['node01'], observed nobody" in msg


def test_an_unpredicted_self_reboot_is_wrong_and_a_predicted_one_passes() -> None:
    tl = timeline()
    tl.record("libvirt", "node01", "reboot", "reboot", t=12.0)
    assert check(judge(tl, prediction(), evidence()), "self-reboot as predicted")[0] is Category.WRONG_OUTCOME
    assert check(judge(tl, prediction(self_reboot=("node01",)), evidence()), "self-reboot as predicted")[0] is None


def test_self_reboot_without_lifecycle_events_is_no_evidence() -> None:
    v = judge(timeline(watched=False), prediction(self_reboot=("node01",)), evidence())
    assert check(v, "self-reboot as predicted")[0] is Category.NO_EVIDENCE


def test_wrong_service_placement() -> None:
    v = judge(timeline(), prediction(services={SVC: "node02"}), evidence())
    assert check(v, "service placement")[1].startswith("WRONG OUTCOME: expected service01 on node02")


def test_expected_failed_service_that_runs_is_wrong() -> None:
    v = judge(timeline(), prediction(services={SVC: "failed"}), evidence())
    assert "expected service01 failed" in check(v, "service placement")[1]


def test_blocked_recovery_means_the_service_does_not_move() -> None:
    assert check(judge(timeline(), prediction(services={SVC: BLOCKED}), evidence()), "service placement")[0] is None
    moved = timeline(owner="node02")
    v = judge(moved, prediction(services={SVC: BLOCKED}), evidence())
    assert check(v, "service placement")[0] is Category.WRONG_OUTCOME


def test_quorum_mismatch() -> None:
    v = judge(timeline(), prediction(quorate=False), evidence())
    assert check(v, "quorum")[1].startswith("WRONG OUTCOME: expected quorate=False")


def test_placement_and_quorum_without_a_survivor_poll_are_no_evidence() -> None:
    v = judge(timeline(), prediction(members_after=("node03",), services={SVC: "node01", "db": "node01"}),
              evidence())
    assert check(v, "service placement")[0] is Category.NO_EVIDENCE
    assert check(v, "service placement: db")[0] is Category.NO_EVIDENCE  # never silently dropped
    assert check(v, "quorum")[0] is Category.NO_EVIDENCE


def test_placement_from_a_survivor_reset_after_its_last_status_is_no_evidence() -> None:
    """Measured live (rgmanager, ifdown phantom branch): the predicted survivor was fenced; its status
    from before the fence passed the placement check 100 s later, while the service was disabled."""
    v = judge(timeline(), prediction(members_after=("node02",)), evidence())
    cat, msg = check(v, "service placement")
    assert cat is Category.NO_EVIDENCE
    assert "predates its reset at 17.5 s" in msg


def test_placement_from_a_status_long_before_the_heal_is_no_evidence() -> None:
    skip = {("node01", float(t)) for t in range(6, 30)}
    v = judge(timeline(skip=skip), prediction(), evidence())
    cat, msg = check(v, "service placement")
    assert cat is Category.NO_EVIDENCE
    assert "the last status from node01 is from 5.0 s, 25 s before the heal" in msg


# --- phases ---------------------------------------------------------------------------------------------


def test_a_phase_before_its_window_is_too_early() -> None:
    v = judge(timeline(detect_at=2.0), prediction(), evidence())
    assert check(v, "phase detect")[1].startswith("TOO EARLY: detect at 2.0 s")


def test_a_phase_after_its_window_is_too_slow() -> None:
    v = judge(timeline(fence_at=50.0, healed=60.0), prediction(), evidence())
    assert check(v, "phase fence-done")[1].startswith("TOO SLOW: fence-done at 50.0 s")


@pytest.mark.parametrize("phase", ["detect", "fence-done"])
def test_a_predicted_phase_that_never_happens_fails(phase: str) -> None:
    v = judge(timeline(), prediction(windows={phase: Window(100.0, 200.0)}), evidence())
    assert any(phase in m and m.startswith(("TOO SLOW", "TOO EARLY")) for m in failing(v))


def test_a_kernel_storage_error_is_not_the_cluster_noticing() -> None:
    """The kernel's iSCSI error comes at replacement_timeout whatever the cluster does; detect is
    the cluster's own check failing (the mutant fs-monitor-too-rare: a monitor every 120 s)."""
    windows = {"detect": Window(14.5, 38.0)}
    tl = timeline(detect_at=100.0, healed=120.0)
    tl.record("log", "node01", "storage-error", "node=node01", t=25.0, uncertainty=0.2)
    assert check(judge_one(tl, prediction(windows=windows), evidence()), "phase detect")[0] is Category.TOO_SLOW
    tl.record("log", "node01", "service-failed", "node=node01 service=service01-fs", t=30.0, uncertainty=0.2)
    assert check(judge_one(tl, prediction(windows=windows), evidence()), "phase detect")[0] is None


def test_detect_without_any_poll_or_log_is_no_evidence() -> None:
    tl = Timeline()
    tl.t0_mono, tl.t0_wall = tl.mono_start, tl.wall_start
    tl.record(HARNESS, "node02", INJECT, t=0.0)
    tl.record(HARNESS, "node02", HEAL, t=30.0)
    v = judge(tl, prediction(), evidence())
    assert check(v, "phase detect")[0] is Category.NO_EVIDENCE


def fence_request(tl: Timeline, t: float, victim: str, actor: str | None = None) -> None:
    detail = f"node={victim}" + (f" actor={actor}" if actor else "")
    tl.record("log", "node01", "fence-requested", detail, t=t, uncertainty=0.2)


def test_fence_requested_must_name_the_predicted_victim_and_fencer() -> None:
    windows = {"fence-requested": Window(10.0, 20.0)}
    tl = timeline()
    fence_request(tl, 12.0, "node01")  # a request for the wrong victim
    fence_request(tl, 13.0, "node02", "node02")  # the right victim by the wrong fencer
    v = judge(tl, prediction(windows=windows), evidence())
    cat, msg = check(v, "phase fence-requested")
    assert cat is Category.TOO_SLOW
    assert "requests seen only for node01 by ?, node02 by node02" in msg
    fence_request(tl, 14.0, "node02", "node01")
    assert check(judge(tl, prediction(windows=windows), evidence()), "phase fence-requested")[0] is None


DELAY = "the fence waited the design's delay"


def test_a_fence_that_did_not_wait_its_delay_is_too_early() -> None:
    """The mutant fence-delay-wrong-node: the tie-break delay moved to the other node makes the
    race's other side certain, an outcome the oracle accepts (the delay is shorter than the agent's
    run). Measured live: timing cannot tell (the victim went off more than the delay after the
    first request anyway); the fencer's "Delaying" line for the victim can."""
    tl = timeline()
    cat, msg = check(judge_one(tl, prediction(fence_delay_s=8.0), evidence()), DELAY)
    assert cat is Category.TOO_EARLY
    assert "the fence of node02 ran without the design's 8 s delay" in msg
    tl.record("log", "node01", "fence-delayed", "node=node02 actor=node01", t=12.0)
    assert check(judge_one(tl, prediction(fence_delay_s=8.0), evidence()), DELAY)[0] is None
    assert check(judge_one(timeline(), prediction(), evidence()), DELAY)[0] is None  # no delay in the design


def test_a_fence_delay_without_the_fencer_s_log_is_no_evidence() -> None:
    cat, msg = check(judge_one(timeline(logs=False), prediction(fence_delay_s=8.0), evidence()), DELAY)
    assert cat is Category.NO_EVIDENCE
    assert "the log of node01 (the fencer) could not be read" in msg


PREMISE = "the outcome's premise"


def test_an_outcome_that_rests_on_a_failure_needs_that_failure_logged() -> None:
    """The mutant migration-threshold-1: one app failure moves the service; the oracle accepts a
    move only when the app failed to start again, which must then be in a log."""
    from halab.oracle.model import Premise

    premise = Premise("service-start-failed", "node02", "the app failed to start again on node02")
    tl = timeline()
    cat, msg = check(judge_one(tl, prediction(premise=premise), evidence()), PREMISE)
    assert cat is Category.WRONG_OUTCOME
    assert "needs the app failed to start again on node02; no node logged it" in msg
    tl.record("log", "node01", "service-start-failed", "node=node02 service=service01-app", t=9.0)
    assert check(judge_one(tl, prediction(premise=premise), evidence()), PREMISE)[0] is None
    blind = judge_one(timeline(logs=False), prediction(premise=premise), evidence())
    assert check(blind, PREMISE)[0] is Category.NO_EVIDENCE
    assert check(judge_one(timeline(), prediction(), evidence()), PREMISE)[0] is None


def master_premise(node: str) -> object:
    from halab.oracle.model import Premise

    return Premise("qdisk-master", node, f"{node} the qdisk master when the fault began", at_t0=True)


def test_a_state_at_t0_is_the_latest_log_of_it_before_the_fault() -> None:
    """master-wins-off, live: node02 assumed the master role during the reload, node01 took it back
    13 s before the fault; only the latest line before t0 says who held it."""
    tl = timeline()
    tl.record("log", "node02", "qdisk-master", "node=node02", t=-32.0)
    tl.record("log", "node02", "qdisk-master", "node=node01", t=-13.2)
    tl.record("log", "node02", "qdisk-master", "node=node02", t=5.0)  # after t0: not the state at t0
    assert check(judge_one(tl, prediction(premise=master_premise("node01")), evidence()), PREMISE)[0] is None
    cat, msg = check(judge_one(tl, prediction(premise=master_premise("node02")), evidence()), PREMISE)
    assert cat is Category.WRONG_OUTCOME
    assert msg.endswith("the logs say node01 (log on node02 at -13.2 s)")


def test_a_state_at_t0_no_log_shows_is_no_evidence() -> None:
    tl = timeline()
    tl.record("log", "node02", "qdisk-master", "node=node02", t=5.0)
    cat, msg = check(judge_one(tl, prediction(premise=master_premise("node02")), evidence()), PREMISE)
    assert cat is Category.NO_EVIDENCE
    assert "no node's log says so before the fault" in msg
    blind = judge_one(timeline(logs=False), prediction(premise=master_premise("node02")), evidence())
    assert check(blind, PREMISE)[0] is Category.NO_EVIDENCE


def test_the_nearest_failing_candidate_is_never_one_whose_premise_the_logs_deny() -> None:
    """Live (master-wins-off): the other master's outcome failed fewer checks, and the report
    blamed the service instead of the standby fencing the owner."""
    tl = timeline(fence_at=None, healed=30.0)
    tl.record("log", "node02", "qdisk-master", "node=node01", t=-13.0)
    main = prediction(premise=master_premise("node01"), fenced=("node02",))
    near = prediction(premise=master_premise("node02"), fenced=(), fenced_by=None,
                      windows={"detect": Window(4.5, 14.0)})  # fails its premise alone
    assert len(judge_one(tl, near, evidence(fence_history=())).failures()) == 1
    v = judge(tl, replace(main, alternatives=(near,)), evidence(fence_history=()))
    assert not v.ok
    assert v.against == 0
    assert "WRONG OUTCOME: expected fenced ['node02'], observed nobody" in failing(v)


def test_fence_requested_without_readable_logs_is_no_evidence() -> None:
    v = judge(timeline(logs=False), prediction(windows={"fence-requested": Window(10.0, 20.0)}), evidence())
    cat, msg = check(v, "phase fence-requested")
    assert cat is Category.NO_EVIDENCE
    assert "no node's log could be read" in msg


def test_fence_requested_with_only_the_victims_log_read_is_no_evidence() -> None:
    """The request is logged by a node that goes on (the DC); the victim's log alone cannot show it."""
    tl = timeline(logs=False)
    tl.record(HARNESS, "node02", LOGS, "read", t=35.0)
    tl.record(HARNESS, "node01", LOGS, "unreadable: ssh timed out", t=35.0)
    v = judge(tl, prediction(windows={"fence-requested": Window(10.0, 20.0)}), evidence())
    cat, msg = check(v, "phase fence-requested")
    assert cat is Category.NO_EVIDENCE
    assert "the log of no surviving node (node01) could be read" in msg


def test_a_log_phase_just_outside_is_ok_within_its_clock_uncertainty() -> None:
    tl = timeline()
    fence_request(tl, 9.85, "node02", "node01")  # 0.15 s early, +-0.2 s clock uncertainty
    v = judge(tl, prediction(windows={"fence-requested": Window(10.0, 20.0)}), evidence())
    assert check(v, "phase fence-requested")[0] is None
    (p,) = v.phases
    assert p.uncertainty == 0.2
    assert p.verdict == "ok"


def _fence_request_late_after_a_slow_injection(effect: bool) -> Timeline:
    """heartbeat-down over SSH under TCG, live: the command returned 4.8 s after t0, the node's clock
    says the link went down at 4.6 s; the fence request came 19.76 s after t0."""
    tl = timeline()
    tl.record(HARNESS, "node02", INJECTED, "node clock 1796149512.000000 .. 1796149513.676000", t=4.8)
    if effect:
        tl.record(HARNESS, "node02", EFFECT, "node02's clock after the command, offset +0.100 s", t=4.6,
                  uncertainty=0.3)
    fence_request(tl, 19.76, "node02", "node01")
    return tl


def test_cluster_phases_count_from_the_fault_s_effect_not_from_t0() -> None:
    pred = prediction(windows={"fence-requested": Window(9.6, 19.2)})
    v = judge(_fence_request_late_after_a_slow_injection(effect=True), pred, evidence())
    (p,) = v.phases
    assert (p.earliest, p.latest) == (13.9, 24.0)  # [9.6 + 4.3, 19.2 + 4.8]: 4.6 + 0.3, but never past the return
    assert p.verdict == "ok"
    assert "window counted from the fault's effect in [4.30, 4.80] s" in p.evidence


def test_without_the_node_s_clock_the_effect_is_anywhere_up_to_the_injection_s_return() -> None:
    pred = prediction(windows={"fence-requested": Window(9.6, 19.2)})
    (p,) = judge(_fence_request_late_after_a_slow_injection(effect=False), pred, evidence()).phases
    assert (p.earliest, p.latest) == (9.6, 24.0)
    assert "between t0 and the injection's return at 4.80 s" in p.evidence


def test_a_phase_before_the_fault_took_effect_plus_its_window_is_too_early() -> None:
    tl = timeline()
    tl.record(HARNESS, "node02", INJECTED, "node clock 1796149512.000000 .. 1796149513.676000", t=4.8)
    tl.record(HARNESS, "node02", EFFECT, "node02's clock", t=4.6, uncertainty=0.1)
    fence_request(tl, 10.5, "node02", "node01")  # in [9.6, 19.2] from t0, but 5.9 s after the effect
    (p,) = judge(tl, prediction(windows={"fence-requested": Window(9.6, 19.2)}), evidence()).phases
    assert p.verdict == "too early"


def test_a_host_side_fault_s_effect_is_t0_to_the_call_s_return_and_records_carry_it() -> None:
    tl = timeline()
    tl.record(HARNESS, "node02", INJECTED, "", t=0.05)
    v = judge(tl, prediction(), evidence())
    assert v.ok, failing(v)
    assert v.effect_s == (0.0, 0.05)
    assert History.of(timeline()).effect == (0.0, 0.0)


def test_harness_driven_phases_are_anchored_at_the_restore_and_labelled() -> None:
    tl = timeline()
    tl.record("poll", "node01", "status", status=status(BOTH, "node01"), mounted=True, t=75.0)
    pred = prediction(windows={"node-rejoined": Window(20.0, 40.0)})
    v = judge(tl, pred, evidence())
    (p,) = v.phases
    assert (p.driven, p.earliest, p.latest, p.measured) == ("harness", 70.0, 90.0, 75.0)
    assert check(v, "harness-driven phase node-rejoined")[0] is None
    assert [c.group for c in v.checks if "node-rejoined" in c.name] == ["harness phase"]


def test_harness_driven_phase_without_the_restore_mark_is_no_evidence() -> None:
    tl = Timeline()
    tl.t0_mono, tl.t0_wall = tl.mono_start, tl.wall_start
    tl.record(HARNESS, "node02", INJECT, t=0.0)
    tl.record(HARNESS, "node02", HEAL, t=30.0)
    v = judge(tl, prediction(windows={"node-rejoined": Window(20.0, 40.0)}), evidence())
    assert check(v, "harness-driven phase node-rejoined")[0] is Category.NO_EVIDENCE


def _owner_away_then_home(moved_at: float | None, home_at: float) -> Timeline:
    """The suspended owner's story told from node02: service01 on node02 after the fault, back on
    node01 at `home_at`; the harness's own move (restore-move) at `moved_at`."""
    tl = timeline(owner="node02")
    if moved_at is not None:
        tl.record(HARNESS, None, RESTORE_MOVE, "service01 stays on node02; the harness moves it", t=moved_at)
    tl.record("poll", "node01", "status", status=status(BOTH, "node01"), mounted=True, t=home_at)
    return tl


FAIL_BACK = "harness-driven phase fail-back"


def test_a_fail_back_by_the_cluster_before_any_move_of_the_harness_passes() -> None:
    v = judge(_owner_away_then_home(None, 75.0), prediction(windows={"fail-back": Window(20.0, 60.0)}),
              evidence())
    assert check(v, FAIL_BACK)[0] is None


def test_a_return_after_the_harness_moved_the_service_is_not_a_fail_back() -> None:
    """An unordered domain (the domain-unordered mutant) never fails back; the restore moves the
    service home at the window's end. That return is the harness's: the phase was never observed."""
    v = judge(_owner_away_then_home(90.0, 95.0), prediction(windows={"fail-back": Window(20.0, 70.0)}),
              evidence())
    cat, msg = check(v, FAIL_BACK)
    assert cat is Category.TOO_SLOW
    assert "fail-back never observed" in msg
    assert "the harness moved it there at 90.0 s" in msg


def test_a_fail_back_without_a_known_preferred_node_or_the_restore_is_no_evidence() -> None:
    windows = {"fail-back": Window(20.0, 60.0)}
    v = judge(_owner_away_then_home(None, 75.0), prediction(windows=windows), evidence(preferred=None))
    cat, msg = check(v, FAIL_BACK)
    assert cat is Category.NO_EVIDENCE
    assert "no preferred node" in msg
    tl = _owner_away_then_home(None, 75.0)
    tl._items = [o for o in tl._items if o.kind != RESTORE]
    assert check(judge(tl, prediction(windows=windows), evidence()), FAIL_BACK)[0] is Category.NO_EVIDENCE


# --- safety ---------------------------------------------------------------------------------------------

OWNER, MOUNT = "safety: never two owners", "safety: never two mounts"
START = "safety: no start elsewhere before the owner is fenced or stopped"
DATA = "safety: data written before the fault is there after it"


def test_two_owners_at_once_is_split_brain() -> None:
    tl = timeline()
    tl.record("poll", "node02", "status", status=status(("node02",), "node02"), mounted=False, t=12.1)
    v = judge(tl, prediction(), evidence())
    cat, msg = check(v, OWNER)
    assert cat is Category.UNSAFE
    assert "split brain" in msg
    assert v.category is Category.UNSAFE
    assert v.message().startswith("UNSAFE: split brain")


def test_polls_without_a_status_are_not_ignored_by_the_owner_check() -> None:
    skip = {("node01", float(t)) for t in range(3, 3 + BLIND_S)}  # beyond one poll lost to its timeout
    tl = timeline(skip=skip, fence_at=None, healed=LONG)
    for t in range(5, BLIND_S):  # meanwhile node02's own view says node02 runs it: node01 may too, unseen
        tl.record("poll", "node02", "status", status=status(BOTH, "node02"), mounted=False, t=t + 0.6)
    v = judge(tl, prediction(), evidence())
    cat, msg = check(v, OWNER)
    assert cat is Category.NO_EVIDENCE
    assert "node01 unseen" in msg
    assert check(v, MOUNT)[0] is None  # the garbled polls still said whether the LUN was mounted


def test_an_unseen_node_is_not_blindness_while_every_other_node_is_seen_not_holding() -> None:
    """Measured live (heartbeat-down, race alternative): the owner went unseen 0.2 s beyond the
    bound just before its fence, while node02 was seen twice without the mount or the service.
    Two holders need two nodes: that is evidence enough, not NO EVIDENCE."""
    skip = {("node01", float(t)) for t in range(3, 17)}
    v = judge(timeline(skip=skip), prediction(), evidence())
    cat, msg = check(v, OWNER)
    assert cat is None, msg


def _silent_status(tl: Timeline, node: str, t: float, mounted: bool, holds_ip: bool | None) -> None:
    tl.record("poll", node, "no-status", "killed after 5 s", mounted=mounted, holds_ip=holds_ip, t=t)


def _both_status_silent(holds_ip: tuple[bool | None, bool | None]) -> Timeline:
    """Measured live (rgmanager, iscsi-block on the owner): clustat answered on neither node for
    12 s while the fence was pending; the polls still read the mount (and now the IP)."""
    tl = timeline(fence_at=None, healed=LONG)
    tl._items = [o for o in tl._items if not (o.source == "poll" and 3.0 <= o.t < 3.0 + BLIND_S)]
    for t in range(3, 3 + BLIND_S):
        _silent_status(tl, "node01", float(t), True, holds_ip[0])
        _silent_status(tl, "node02", t + 0.3, False, holds_ip[1])
    return tl


def test_a_silent_status_command_is_still_seen_through_the_ip_and_the_mount() -> None:
    v = judge(_both_status_silent((True, False)), prediction(fenced=()), evidence(fence_history=()))
    cat, msg = check(v, OWNER)
    assert cat is None, msg


def test_a_silent_status_command_without_the_ip_reading_is_no_evidence() -> None:
    v = judge(_both_status_silent((None, None)), prediction(fenced=()), evidence(fence_history=()))
    cat, msg = check(v, OWNER)
    assert cat is Category.NO_EVIDENCE
    assert "unseen" in msg


def test_the_service_ip_on_two_nodes_is_split_brain() -> None:
    v = judge(_both_status_silent((True, True)), prediction(fenced=()), evidence(fence_history=()))
    cat, msg = check(v, OWNER)
    assert cat is Category.UNSAFE
    assert "IP held by two nodes" in msg


def test_data_lun_mounted_on_two_nodes() -> None:
    tl = timeline()
    tl.record("poll", "node02", "status", status=status(BOTH, "node01"), mounted=True, t=5.2)
    cat, msg = check(judge(tl, prediction(), evidence()), MOUNT)
    assert cat is Category.UNSAFE
    assert "mounted on two nodes" in msg


def test_unreachable_running_node_leaves_the_mount_check_without_evidence() -> None:
    tl = timeline(fence_at=None, healed=LONG)
    keep = [o for o in tl._items if not (o.node == "node02" and o.source == "poll" and 5 < o.t < 6 + BLIND_S)]
    tl._items = keep
    for t in range(6, 6 + BLIND_S):
        tl.record("poll", "node02", "unreachable", "timeout", t=float(t))
    v = judge(tl, prediction(fenced=()), evidence(fence_history=()))
    cat, msg = check(v, MOUNT)
    assert cat is Category.NO_EVIDENCE
    assert "node02 unseen" in msg


def issue_timeline(start_on_node02: float, fence_off: float) -> Timeline:
    """The issue's case: node01 (owner) frozen at t0 and unreachable; service01 starts on node02;
    node01's fence (off, then on) completes around `fence_off`."""
    tl = Timeline()
    tl.t0_mono, tl.t0_wall = tl.mono_start, tl.wall_start
    tl.record("libvirt", None, "watching", t=-5.0)
    for t in (-2.0, -1.0):
        tl.record("poll", "node01", "status", status=status(BOTH, "node01"), mounted=True, t=t)
        tl.record("poll", "node02", "status", status=status(BOTH, "node01"), mounted=False, t=t + 0.5)
    tl.record(HARNESS, "node01", INJECT, t=0.0)
    tl.record("libvirt", "node01", "lifecycle", "suspended:0", t=0.1)
    t = 1.0
    while t < 100.0:
        started = t >= start_on_node02
        st = status(("node02",) if t > 45 else BOTH, "node02" if started else "node01",
                    "started" if started or t < 45 else "stopped")
        tl.record("poll", "node02", "status", status=st, mounted=started, t=t)
        t += 1.0
    tl.record("libvirt", "node01", "lifecycle", "stopped:2", t=fence_off - 0.5)
    tl.record("libvirt", "node01", "lifecycle", "started:1", t=fence_off)
    tl.record(HARNESS, "node01", HEAL, t=100.0)
    return tl


def test_a_start_elsewhere_before_the_fence_is_unsafe() -> None:
    ev = evidence(fence_history=(fenced_by("node01", "node02", 80.0),))
    pred = prediction(target="node01", fenced=("node01",), fenced_by="node02", services={SVC: "node02"},
                      members_after=("node02",), windows={})
    v = judge(issue_timeline(start_on_node02=79.0, fence_off=80.0), pred, ev)
    cat, msg = check(v, START)
    assert cat is Category.UNSAFE
    assert "service01 started on node02 at 79.00 s" in msg
    assert "before its owner node01" in msg
    assert v.category is Category.UNSAFE
    safe = judge(issue_timeline(start_on_node02=81.0, fence_off=80.0), pred, ev)
    assert check(safe, START)[0] is None, check(safe, START)


def test_a_mount_between_two_polls_that_saw_the_other_nodes_mount_is_two_mounts() -> None:
    """No two polls a second apart, yet node01 was seen mounted before and after node02's mount:
    the LUN was mounted twice. A switch-off of node01 between its polls ends what it held."""
    def story(node01_off: float | None = None) -> Timeline:
        tl = timeline()
        tl._items = [o for o in tl._items if not (o.source == "poll" and 21.5 < o.t < 28.5)]
        if node01_off is not None:
            tl.record("libvirt", "node01", "lifecycle", "stopped:2", t=node01_off)
        tl.record("poll", "node02", "no-status", "timed out", mounted=True, t=25.0)
        return tl

    cat, msg = check(judge(story(), prediction(), evidence()), MOUNT)
    assert cat is Category.UNSAFE, msg
    assert "node01 held it 1.0-29.0 s (seen at both ends) and node02 25.0-25.0 s" in msg
    cat, msg = check(judge(story(node01_off=23.0), prediction(), evidence()), MOUNT)
    assert cat is not Category.UNSAFE, msg


def test_a_start_elsewhere_is_no_evidence_when_the_old_owner_cannot_be_seen() -> None:
    tl = issue_timeline(start_on_node02=81.0, fence_off=80.0)
    tl._items = [o for o in tl._items if o.source != "libvirt"]
    pred = prediction(target="node01", fenced=("node01",), fenced_by="node02", services={SVC: "node02"},
                      members_after=("node02",), windows={})
    cat, msg = check(judge(tl, pred, evidence()), START)
    assert cat is Category.NO_EVIDENCE
    assert "cannot be told" in msg


def test_a_start_elsewhere_with_no_record_of_the_running_owner_is_no_evidence() -> None:
    """Found by taking evidence out of real runs (iscsi-block on the owner, its polls removed): the
    owner is running (no fence, not frozen) and the poller has no record of it around the start:
    whether it stopped first cannot be told. Where the poller tried it and it did not answer, it
    was dark and may still hold the service: unsafe."""
    def story(dark: bool) -> Timeline:
        tl = issue_timeline(start_on_node02=60.0, fence_off=80.0)
        tl._items = [o for o in tl._items if o.source != "libvirt" or o.kind == "watching"]
        if dark:
            for t in range(2, 60, 5):
                tl.record("poll", "node01", "unreachable", "timed out", t=float(t))
        return tl

    pred = prediction(target="node01", fenced=(), services={SVC: "node02"}, windows={})
    cat, msg = check(judge(story(dark=False), pred, evidence()), START)
    assert cat is Category.NO_EVIDENCE, msg
    assert "the poller has no record of node01 since -1.00 s" in msg
    cat, msg = check(judge(story(dark=True), pred, evidence()), START)
    assert cat is Category.UNSAFE, msg


def test_an_owner_whose_stack_died_still_holding_the_lun_is_not_stopped() -> None:
    """kill -9 of the owner's stack: its own status says "not running" while the data LUN is still
    mounted there; a start elsewhere then is unsafe, not "after the owner stopped"."""
    tl = issue_timeline(start_on_node02=60.0, fence_off=80.0)
    for t in (40.0, 50.0):
        tl.record("poll", "node01", "status", status=status(BOTH, None, "stopped", running=False), mounted=True, t=t)
    pred = prediction(target="node01", fenced=("node01",), fenced_by="node02", services={SVC: "node02"},
                      members_after=("node02",), windows={})
    ev = evidence(fence_history=(fenced_by("node01", "node02", 80.0),))
    cat, msg = check(judge(tl, pred, ev), START)
    assert cat is Category.UNSAFE, msg
    tl.record("poll", "node01", "status", status=status(BOTH, None, "stopped", running=False), mounted=False, t=55.0)
    cat, msg = check(judge(tl, pred, ev), START)
    assert cat is None, msg
    assert "poll on node01" in msg


def test_quorum_unknown_in_the_last_status_is_no_evidence() -> None:
    tl = timeline()
    tl.record("poll", "node01", "status", status=replace(status(("node01",), "node01"), quorate=None), mounted=True,
              t=29.9)
    cat, msg = check(judge(tl, prediction(), evidence()), "quorum")
    assert cat is Category.NO_EVIDENCE
    assert "did not say" in msg


def test_a_start_first_seen_after_the_fence_by_a_node_dark_before_it_is_no_evidence() -> None:
    """node02 unseen from 20 s to 85 s, seen started at 85 s, the owner fenced at 80 s: the start
    may have come before the fence. A start seen right after the node was last seen without the
    service is judged at face value."""
    pred = prediction(target="node01", fenced=("node01",), fenced_by="node02", services={SVC: "node02"},
                      members_after=("node02",), windows={})
    ev = evidence(fence_history=(fenced_by("node01", "node02", 80.0),))
    tl = issue_timeline(start_on_node02=85.0, fence_off=80.0)
    tl._items = [o for o in tl._items if not (o.source == "poll" and o.node == "node02" and 20.0 < o.t < 85.0)]
    cat, msg = check(judge(tl, pred, ev), START)
    assert cat is Category.NO_EVIDENCE, msg
    assert "last seen without it at 20.00 s" in msg
    seen = issue_timeline(start_on_node02=85.0, fence_off=80.0)
    assert check(judge(seen, pred, ev), START)[0] is None
    # rgmanager: clustat silent while the fence is pending, the poll still reads the mount
    silent = issue_timeline(start_on_node02=85.0, fence_off=80.0)
    silent._items = [o for o in silent._items if not (o.source == "poll" and o.node == "node02" and 20.0 < o.t < 85.0)]
    for t in range(21, 85):
        silent.record("poll", "node02", "no-status", "clustat: no answer", mounted=False, t=float(t))
    assert check(judge(silent, pred, ev), START)[0] is None


def test_a_start_elsewhere_without_a_known_owner_is_no_evidence() -> None:
    ev = evidence(baseline=status(BOTH, None, "stopped"))
    assert check(judge(timeline(), prediction(), ev), START)[0] is Category.NO_EVIDENCE


def test_lost_record_is_unsafe() -> None:
    cat, msg = check(judge(timeline(), prediction(), evidence(records_after="something else\n")), DATA)
    assert cat is Category.UNSAFE
    assert msg.startswith("UNSAFE: record 'rec-1 node01' lost")


@pytest.mark.parametrize("changes", [{"records_after": None}, {"record_before": ""}])
def test_records_that_cannot_be_read_are_no_evidence(changes: dict[str, object]) -> None:
    assert check(judge(timeline(), prediction(), evidence(**changes)), DATA)[0] is Category.NO_EVIDENCE


# --- host load --------------------------------------------------------------------------------------------


def cpu(tl: Timeline, lags: list[float], node: str = "node01") -> None:
    """Cumulative run_delay samples, one a second from t0."""
    total = 0.0
    for i, lag in enumerate(lags):
        total += lag
        tl.record("host", node, "cpu", f"run_delay_s={total:.6f} vcpus=1", t=float(i))


def test_a_starved_host_makes_the_verdict_inconclusive_not_wrong() -> None:
    tl = timeline(fence_at=50.0, healed=60.0)
    cpu(tl, [0.01] * 10 + [0.9] * 5 + [0.01] * 45)
    v = judge(tl, prediction(), evidence(lag_bound_s=1.25))
    cat, msg = check(v, "host: the lab got its CPU")
    assert cat is Category.INCONCLUSIVE
    assert "host starved" in msg
    assert v.host is not None
    assert v.host.starved
    assert v.host.lag_s > 1.25
    assert v.category is Category.INCONCLUSIVE
    fence = check(v, "phase fence-done")
    assert fence[0] is Category.INCONCLUSIVE
    assert "would be TOO SLOW" in fence[1]


def test_a_starved_host_does_not_hide_a_split_brain() -> None:
    tl = timeline()
    cpu(tl, [0.9] * 30)
    tl.record("poll", "node02", "status", status=status(("node02",), "node02"), mounted=False, t=12.1)
    v = judge(tl, prediction(), evidence(lag_bound_s=1.25))
    assert v.category is Category.UNSAFE


def test_an_idle_host_keeps_the_sentinel_quiet() -> None:
    tl = timeline()
    cpu(tl, [0.02] * 30)
    v = judge(tl, prediction(), evidence(lag_bound_s=1.25))
    assert v.ok, failing(v)
    assert v.host is not None
    assert not v.host.starved


def test_a_fenced_node_booting_again_does_not_count_but_its_wait_before_the_reset_does() -> None:
    # node02 is reset by the fence at 17.5 s; its new qemu then waits for the host while it boots
    # (CI, suspend on the owner: 1.81 s per 5 s on the booting victim); node01's vCPUs stay idle.
    tl = timeline(healed=30.0)
    cpu(tl, [0.01] * 30, node="node01")
    cpu(tl, [0.01] * 18 + [0.9] * 12, node="node02")
    v = judge(tl, prediction(), evidence(lag_bound_s=1.25))
    assert v.ok, failing(v)
    assert "node02 counted until its reset at 17.5 s" in check(v, "host: the lab got its CPU")[1]
    early = timeline(healed=30.0)
    cpu(early, [0.01] * 30, node="node01")
    cpu(early, [0.01] * 10 + [0.9] * 20, node="node02")  # starved while it still raced for the fence
    assert check(judge(early, prediction(), evidence(lag_bound_s=1.25)), "host: the lab got its CPU")[0] \
        is Category.INCONCLUSIVE


def test_a_node_that_reset_itself_counts_until_its_reset() -> None:
    tl = timeline(fence_at=None, healed=30.0)
    tl.record("libvirt", "node02", "reboot", "watchdog", t=12.0)
    cpu(tl, [0.01] * 30, node="node01")
    cpu(tl, [0.01] * 13 + [0.9] * 17, node="node02")
    msg = check(judge(tl, prediction(), evidence(lag_bound_s=1.25)), "host: the lab got its CPU")[1]
    assert "node02 counted until its reset at 12.0 s" in msg
    assert not msg.startswith("INCONCLUSIVE")


def test_a_survivor_starved_by_the_fenced_node_booting_is_inconclusive() -> None:
    tl = timeline(healed=30.0)
    cpu(tl, [0.01] * 18 + [0.9] * 12, node="node01")
    cpu(tl, [0.01] * 18 + [0.9] * 12, node="node02")
    cat, msg = check(judge(tl, prediction(), evidence(lag_bound_s=1.25)), "host: the lab got its CPU")
    assert cat is Category.INCONCLUSIVE
    assert "on node01" in msg


def test_no_cpu_samples_is_no_evidence() -> None:
    v = judge(timeline(), prediction(), evidence(lag_bound_s=1.25))
    assert check(v, "host: the lab got its CPU")[0] is Category.NO_EVIDENCE


# --- alternatives -------------------------------------------------------------------------------------------


def test_an_acceptable_alternative_is_accepted() -> None:
    alt = prediction()
    main = prediction(fenced=("node01",), alternatives=(alt,))
    assert not judge_one(timeline(), main, evidence()).ok
    assert judge(timeline(), main, evidence()).ok


def test_when_nothing_holds_the_nearest_candidate_is_reported() -> None:
    """Measured live (rgmanager, iscsi-block): the cluster took the alternative's path and only a
    safety check lacked evidence; the report must name that, not the main prediction's misses."""
    tl = timeline(fence_at=None, healed=LONG)
    tl._items = [o for o in tl._items if not (o.node == "node02" and o.source == "poll" and 5 < o.t < 6 + BLIND_S)]
    for t in range(6, 6 + BLIND_S):
        tl.record("poll", "node02", "unreachable", "timeout", t=float(t))
    alt = prediction(fenced=(), windows={"detect": Window(4.5, 14.0)})
    main = prediction(alternatives=(alt,))
    v = judge(tl, main, evidence(fence_history=()))
    assert v.against == 1, [c.message for c in v.failures()]
    assert v.prediction is alt
    assert {c.category for c in v.failures()} == {Category.NO_EVIDENCE}, [c.message for c in v.failures()]
    assert v.candidate() == "acceptable alternative 1"


def test_on_a_tie_the_main_prediction_is_reported() -> None:
    alt = prediction(fenced=("node01",))
    main = prediction(fenced=("node01",), alternatives=(alt,))
    v = judge(timeline(), main, evidence())
    assert not v.ok
    assert v.against == 0
    assert v.candidate() == "the design's main prediction"


def test_the_history_is_read_once_from_the_marks() -> None:
    h = History.of(timeline())
    assert (h.injected, h.healed, h.restore) == (0.0, 30.0, 50.0)
    assert h.watched
    assert h.logs_read() == ["node01", "node02"]


def test_the_early_token_timeline_from_the_issue_passes() -> None:
    """Live on a fresh clone: suspend[node02-standby], token lost at 17.49 s (2.5 s before T),
    fence requested at 43.24 s. A correct cluster; the old edge called it TOO EARLY."""
    from halab.oracle import predict
    from halab.spec import load_spec

    pred = predict(load_spec("seed"), "suspend", "node02")
    tl = Timeline()
    tl.t0_mono, tl.t0_wall = tl.mono_start, tl.wall_start
    tl.record("libvirt", None, "watching", t=-5.0)
    for t in (-2.0, -1.0):
        tl.record("poll", "node01", "status", status=status(BOTH, "node01"), mounted=True, t=t)
        tl.record("poll", "node02", "status", status=status(BOTH, "node01"), mounted=False, t=t + 0.5)
    tl.record(HARNESS, "node02", INJECT, t=0.0)
    tl.record("libvirt", "node02", "lifecycle", "suspended:0", t=0.1)
    tl.record("log", "node01", "token-lost", "", t=17.49, uncertainty=0.2)
    tl.record("log", "node01", "fence-requested", "node=node02", t=43.24, uncertainty=0.2)
    tl.record("libvirt", "node02", "lifecycle", "stopped:2", t=50.5)
    tl.record("libvirt", "node02", "lifecycle", "started:1", t=51.0)
    for i in range(1, 70):
        online = BOTH if i < 42 else ("node01",)
        tl.record("poll", "node01", "status", status=status(online, "node01"), mounted=True, t=float(i))
    tl.record(HARNESS, "node02", HEAL, t=70.0)
    tl.record(HARNESS, None, RESTORE, t=80.0)
    tl.record("poll", "node01", "status", status=status(BOTH, "node01"), mounted=True, t=130.0)
    for n in BOTH:
        tl.record(HARNESS, n, LOGS, "read", t=75.0)
    ev = evidence(fence_history=(fenced_by("node02", "node01", 51.0),))
    v = judge(tl, pred, ev)
    assert v.ok, failing(v)
    assert {p.phase: p.measured for p in v.phases}["fence-requested"] == 43.24


@pytest.mark.parametrize("phase", ["service-started", "fence-requested", "detect"])
def test_each_cluster_phase_fails_too_slow_when_late_and_no_evidence_when_blind(phase: str) -> None:
    late = judge(timeline(), prediction(windows={phase: Window(0.0, 0.5)}), evidence())
    assert check(late, f"phase {phase}")[0] in (Category.TOO_SLOW, Category.TOO_EARLY)
    blind = Timeline()
    blind.t0_mono, blind.t0_wall = blind.mono_start, blind.wall_start
    blind.record(HARNESS, "node02", INJECT, t=0.0)
    blind.record(HARNESS, "node02", HEAL, t=30.0)
    v = judge(blind, prediction(windows={phase: Window(0.0, 20.0)}), evidence())
    assert check(v, f"phase {phase}")[0] is Category.NO_EVIDENCE


def test_a_harness_driven_phase_after_its_window_is_too_slow() -> None:
    tl = timeline()
    tl.record("poll", "node01", "status", status=status(BOTH, "node01"), mounted=True, t=200.0)
    v = judge(tl, prediction(windows={"node-rejoined": Window(20.0, 40.0)}), evidence())
    assert check(v, "harness-driven phase node-rejoined")[0] is Category.TOO_SLOW


def test_a_probe_answer_from_an_unknown_host_is_no_start_elsewhere() -> None:
    tl = timeline()
    tl.record("probe", "somebox", "probe-ok", "ok somebox", t=5.0)
    assert check(judge(tl, prediction(), evidence()), START)[0] is None


def test_a_starved_host_turns_a_blinded_safety_check_inconclusive() -> None:
    # both nodes unseen beyond one poll lost to its timeout: either may have run it
    skip = {(n, t + dt) for t in range(3, 3 + BLIND_S) for n, dt in (("node01", 0.0), ("node02", 0.3))}
    tl = timeline(skip=skip, fence_at=None, healed=LONG)
    cpu(tl, [0.9] * int(LONG))
    v = judge(tl, prediction(), evidence(lag_bound_s=1.25))
    cat, msg = check(v, OWNER)
    assert cat is Category.INCONCLUSIVE
    assert "would be NO EVIDENCE" in msg
    assert v.category is Category.INCONCLUSIVE


def test_a_reset_node_is_dark_until_it_answers_even_when_libvirt_says_resumed_first() -> None:
    """Seen live (heartbeat-down, fast profile): fence_virsh's reboot gave node02 the lifecycle events
    shutdown, stopped, resumed, started within 0.7 s, and node02 answered no poll before the heal.
    A freshly started node runs nothing of the cluster until it is up: the safety checks are not
    blind there. Before the fix, "resumed" ended the dark stretch and both checks said NO EVIDENCE."""
    tl = timeline(fence_at=None)
    tl._items = [o for o in tl._items if not (o.node == "node02" and o.source == "poll" and o.t > 17.0)]
    for what, t in (("shutdown:2", 17.5), ("stopped:1", 17.51), ("resumed:0", 18.2), ("started:0", 18.21)):
        tl.record("libvirt", "node02", "lifecycle", what, t=t)
    v = judge(tl, prediction(), evidence())
    for name in (OWNER, MOUNT):
        cat, msg = check(v, name)
        assert cat is None, msg
    # the same history without any lifecycle event is blind: the node just went unseen
    tl._items = [o for o in tl._items if not (o.source == "libvirt" and o.node == "node02")]
    assert check(judge(tl, prediction(), evidence()), MOUNT)[0] is Category.NO_EVIDENCE


def test_a_poll_that_straddles_the_reset_does_not_end_the_boot() -> None:
    """Measured live (rgmanager, iscsi-block on the standby): a poll sent before the fence's reset
    was stamped (its round trip's midpoint) 1.2 s after it; it ended the booting stretch and the
    booting node was called unseen: NO EVIDENCE on both safety checks of a correct cluster."""
    tl = timeline(fence_at=None)
    tl._items = [o for o in tl._items if not (o.node == "node02" and o.source == "poll" and o.t > 17.0)]
    for what, t in (("shutdown:2", 17.5), ("stopped:1", 17.51), ("resumed:0", 18.2), ("started:0", 18.21)):
        tl.record("libvirt", "node02", "lifecycle", what, t=t)
    tl.record("poll", "node02", "no-status", "clustat: empty input", mounted=False, t=19.4)
    v = judge(tl, prediction(), evidence())
    for name in (OWNER, MOUNT):
        cat, msg = check(v, name)
        assert cat is None, msg


def test_one_poll_that_ran_into_its_timeout_is_not_blindness() -> None:
    """Seen live under TCG: status polls 7-8 s apart while the group started (one poll waiting out
    its timeout). The poller was looking; a gap within POLL_TIMEOUT_S + 2 intervals is not blind."""
    skip = {("node01", float(t)) for t in range(3, 10)}  # no status from 2 s to 10 s
    v = judge(timeline(skip=skip), prediction(), evidence())
    assert check(v, OWNER)[0] is None


def test_one_poll_lost_with_its_reconnect_on_a_busy_node_is_not_blindness() -> None:
    """Measured live (rgmanager, seed timings, heartbeat-down on the standby): node02 answered at
    24.2 s, its next poll (sent 27.6 s) ran into the 8 s timeout, the one after it reconnected and
    answered at 42.2 s, while node01 (the owner) was seen every second: an 18 s gap, within one
    poll lost to its timeout. The old bound (10 s) made that NO EVIDENCE on a correct cluster."""
    tl = timeline(fence_at=None, healed=50.0)
    tl._items = [o for o in tl._items if not (o.node == "node02" and o.source == "poll" and 24.5 < o.t < 42.0)]
    tl.record("poll", "node02", "unreachable", "command timed out after 8 s", t=27.6)
    tl.record("poll", "node02", "no-status", "clustat line 1: empty input", mounted=False, holds_ip=False, t=42.2)
    v = judge(tl, prediction(fenced=()), evidence(fence_history=()))
    for name in (OWNER, MOUNT):
        cat, msg = check(v, name)
        assert cat is None, msg


# --- a design with several services: each one's placement is judged -----------------------------


def _two_services(web_owner: str | None, *, listed: bool = True) -> Timeline:
    tl = timeline()
    web = (Service("web", "started" if web_owner else "stopped", web_owner),) if listed else ()
    st = ClusterStatus(True, (Member("node01", True), Member("node02", False)),
                       (Service(SVC, "started", "node01"), *web))
    tl.record("poll", "node01", "status", status=st, mounted=True, t=29.5)
    return tl


@pytest.mark.parametrize(("web_owner", "listed", "category"), [
    ("node01", True, None),
    ("node02", True, Category.WRONG_OUTCOME),
    (None, True, Category.WRONG_OUTCOME),
    ("node01", False, Category.NO_EVIDENCE),
])
def test_a_second_service_is_judged_where_it_ended(web_owner: str | None, listed: bool,
                                                    category: Category | None) -> None:
    pred = prediction(services={SVC: "node01", "web": "node01"})
    cat, msg = check(judge(_two_services(web_owner, listed=listed), pred, evidence()), "service placement: web")
    assert cat is category, msg


def test_a_failed_verdict_outranks_the_restore_failing_after_it() -> None:
    """The restore failing after an UNSAFE run must not turn the test into a harness error: the
    verdict's headline comes first (Allure's categories match on it), the restore's failure after."""
    from halab.errors import LabError
    from halab.scenario import FaultRun, RestoreFailed, verdict_over_restore

    unsafe = judge(issue_timeline(start_on_node02=79.0, fence_off=80.0),
                   prediction(target="node01", fenced=("node01",), fenced_by="node02", services={SVC: "node02"},
                              members_after=("node02",), windows={}),
                   evidence(fence_history=(fenced_by("node01", "node02", 80.0),)))
    run = FaultRun("suspend", "node01", "owner", unsafe.prediction, Timeline())
    err = RestoreFailed(LabError("node01 did not come back within 120 s", "restore"), replace(run, judgement=unsafe))
    text = verdict_over_restore(err)
    assert text.startswith("UNSAFE: ")
    assert text.endswith("(then the restore failed: restore: node01 did not come back within 120 s)")
    held = judge(timeline(), prediction(), evidence())
    assert held.ok
    assert verdict_over_restore(RestoreFailed(LabError("x", "restore"), replace(run, judgement=held))) == ""


def test_a_harness_driven_phase_missed_while_the_restore_starved_is_inconclusive() -> None:
    """The restore's stretch has its own sentinel: a rejoin missed while the host starved is not a
    verdict on the cluster; the fault's own checks and the same miss on an idle host still count."""
    def story(lag: float) -> Timeline:
        tl = timeline(healed=30.0)  # the restore starts at 50 s
        cpu(tl, [0.01] * 30)
        total = 0.3
        for i in range(50, 80):
            total += lag
            tl.record("host", "node01", "cpu", f"run_delay_s={total:.6f} vcpus=1", t=float(i))
        return tl

    pred = prediction(windows={"node-rejoined": Window(5.0, 10.0)})
    name = "harness-driven phase node-rejoined"
    cat, msg = check(judge(story(0.9), pred, evidence(lag_bound_s=1.25)), name)
    assert cat is Category.INCONCLUSIVE
    assert "host starved during the restore" in msg
    assert "would be TOO SLOW" in msg
    assert check(judge(story(0.01), pred, evidence(lag_bound_s=1.25)), name)[0] is Category.TOO_SLOW


OPERATIONS = "no operation failed on a survivor"


def test_a_start_that_failed_on_a_survivor_is_a_wrong_outcome_though_the_service_ended_well() -> None:
    """Measured live (web3, heartbeat-down): web-app failed its start on node03, both groups moved
    to node01, an allowed place, and no check said so."""
    tl = timeline()
    tl.record("log", "node01", "service-start-failed", "node=node01 service=service01-app", t=12.0)
    v = judge_one(tl, prediction(), evidence())
    cat, msg = check(v, OPERATIONS)
    assert cat is Category.WRONG_OUTCOME
    assert "service01-app failed its start on node01 at 12.0 s (log on node01)" in msg
    assert check(v, "service placement")[0] is None  # where it ended is right: only this check says it


def test_a_monitor_that_failed_on_a_survivor_is_named_too() -> None:
    tl = timeline()
    tl.record("log", "node01", "service-failed", "node=node01 service=fence_node02", t=14.0)
    cat, msg = check(judge_one(tl, prediction(), evidence()), OPERATIONS)
    assert cat is Category.WRONG_OUTCOME
    assert "fence_node02 failed (stop or monitor) on node01" in msg


def test_failures_on_the_fault_s_node_or_before_the_fault_or_after_the_heal_are_not_judged_here() -> None:
    tl = timeline()
    tl.record("log", "node01", "service-failed", "node=node02 service=service01-fs", t=5.0)  # the target
    tl.record("log", "node01", "service-start-failed", "node=node01 service=service01-app", t=-3.0)
    tl.record("log", "node01", "service-start-failed", "node=node01 service=service01-app", t=31.0)
    cat, msg = check(judge_one(tl, prediction(), evidence()), OPERATIONS)
    assert cat is None
    assert msg == "no start, stop or monitor failed on node01 (their logs)"


def test_the_failure_an_outcome_rests_on_is_not_held_against_it() -> None:
    from halab.oracle.model import Premise

    premise = Premise("service-start-failed", "node01", "the app failed to start again on node01")
    tl = timeline()
    tl.record("log", "node01", "service-start-failed", "node=node01 service=service01-app", t=9.0)
    assert check(judge_one(tl, prediction(premise=premise), evidence()), OPERATIONS)[0] is None
    tl.record("log", "node01", "service-failed", "node=node01 service=service01-ip", t=10.0)
    assert check(judge_one(tl, prediction(premise=premise), evidence()), OPERATIONS)[0] is Category.WRONG_OUTCOME


def test_operations_on_a_survivor_whose_log_was_not_read_are_no_evidence() -> None:
    tl = timeline(logs=False)
    tl.record(HARNESS, "node02", LOGS, "read", t=35.0)
    tl.record(HARNESS, "node01", LOGS, "unreadable: ssh timed out", t=35.0)
    cat, msg = check(judge_one(tl, prediction(), evidence()), OPERATIONS)
    assert cat is Category.NO_EVIDENCE
    assert "whether an operation failed on node01 is unknown: its log could not be read" in msg


def test_a_frozen_node_counts_until_its_freeze_its_death_by_the_fence_does_not() -> None:
    """Measured in CI (mutant standby-banned, suspend on the owner): the frozen owner's vCPU gained
    1.10 s of wait in the second before the fence destroyed it, and the run was INCONCLUSIVE."""
    tl = timeline(healed=30.0)
    tl.record("libvirt", "node02", "lifecycle", "suspended:0", t=0.02)
    cpu(tl, [0.01] * 30, node="node01")
    cpu(tl, [0.0] * 16 + [1.2] + [0.0] * 13, node="node02")  # a burst while the fence kills it
    v = judge(tl, prediction(), evidence(lag_bound_s=1.0))
    cat, msg = check(v, "host: the lab got its CPU")
    assert cat is None, msg
    assert "node02 counted until its freeze at 0.0 s (a frozen node runs no timer)" in msg
    awake = timeline(healed=30.0)  # the same burst on a node nobody froze is a starved host
    cpu(awake, [0.01] * 30, node="node01")
    cpu(awake, [0.0] * 16 + [1.2] + [0.0] * 13, node="node02")
    assert check(judge(awake, prediction(), evidence(lag_bound_s=1.0)), "host: the lab got its CPU")[0] \
        is Category.INCONCLUSIVE


def test_a_survivor_s_wait_still_counts_while_another_node_is_frozen() -> None:
    tl = timeline(healed=30.0)
    tl.record("libvirt", "node02", "lifecycle", "suspended:0", t=0.02)
    cpu(tl, [0.01] * 10 + [0.9] * 5 + [0.01] * 15, node="node01")
    cpu(tl, [0.0] * 30, node="node02")
    assert check(judge(tl, prediction(), evidence(lag_bound_s=1.0)), "host: the lab got its CPU")[0] \
        is Category.INCONCLUSIVE
