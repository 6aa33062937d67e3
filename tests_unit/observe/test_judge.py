"""The judge can fail: every check is shown failing on a timeline made for it (pure logic).

The timelines are synthetic (observations written by hand); the live counterpart is
tests_failover, which feeds the same judge from a real cluster.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from halab.observe.judge import Evidence, judge, judge_one
from halab.observe.timeline import Timeline
from halab.oracle import Prediction, Window
from halab.stacks.types import ClusterStatus, FenceAction, Member, Service

SVC = "service01"


def status(online: tuple[str, ...], owner: str | None, state: str = "started", quorate: bool = True) -> ClusterStatus:
    members = tuple(Member(n, n in online) for n in ("node01", "node02"))
    return ClusterStatus(quorate, members, (Service(SVC, state, owner),))


def prediction(**changes: object) -> Prediction:
    base = Prediction(
        stack="pacemaker", fault="heartbeat-down", target="node01", fenced=("node02",), fenced_by="node01",
        self_reboot=(), services={SVC: "node01"}, quorate=True, members_after=("node01",),
        windows={"detect": Window(4.5, 14.0), "fence-done": Window(13.0, 42.0)},
        reasoning=("test",))
    return replace(base, **changes)  # type: ignore[arg-type]


def timeline(fence_at: float = 18.0, detect_at: float = 11.0) -> Timeline:
    tl = Timeline()
    tl.t0_mono = tl.mono_start  # t on the timeline clock == seconds after t0
    tl.t0_wall = tl.wall_start
    both = ("node01", "node02")
    for t in (-2.0, -1.0):
        tl.record("poll", "node01", "status", status=status(both, "node01"), mounted=True, t=t)
        tl.record("poll", "node02", "status", status=status(both, "node01"), mounted=False, t=t + 0.5)
    t = 1.0
    while t < 30:
        online = both if t < detect_at else ("node01",)
        tl.record("poll", "node01", "status", status=status(online, "node01"), mounted=True, t=t)
        tl.record("probe", "node01", "probe-ok", "ok node01", t=t + 0.2)
        t += 1.0
    tl.record("libvirt", "node02", "lifecycle", "stopped:1", t=fence_at - 0.5)
    tl.record("libvirt", "node02", "lifecycle", "started:0", t=fence_at)
    return tl


def evidence(**changes: object) -> Evidence:
    ev = Evidence(SVC, status(("node01", "node02"), "node01"), restore_started=30.0, t0_wall=0.0,
                  record_before="rec-1 node01", records_after="rec-1 node01\n", preferred="node01")
    return replace(ev, **changes)  # type: ignore[arg-type]


def failing(j: object) -> list[str]:
    return [c.message for c in j.failures()]  # type: ignore[attr-defined]


def test_a_run_that_matches_the_prediction_passes() -> None:
    j = judge(timeline(), prediction(), evidence())
    assert j.ok, failing(j)
    assert j.fenced == ("node02",)


def test_wrong_victim_is_a_wrong_outcome() -> None:
    j = judge(timeline(), prediction(fenced=("node01",)), evidence())
    assert not j.ok
    assert any(m.startswith("WRONG OUTCOME: expected fenced ['node01']") for m in failing(j))


def test_no_fence_at_all_is_a_wrong_outcome_and_a_missing_phase() -> None:
    tl = timeline(fence_at=999.0)  # the reset happens after healing began: not evidence
    j = judge(tl, prediction(), evidence())
    messages = failing(j)
    assert any("WRONG OUTCOME: expected fenced ['node02'], observed nobody" in m for m in messages)
    assert any(m.startswith("TOO SLOW: fence-done never observed") for m in messages)


def test_a_phase_before_its_window_is_too_early() -> None:
    j = judge(timeline(detect_at=2.0), prediction(), evidence())
    assert any(m.startswith("TOO EARLY: detect at 2.0 s") for m in failing(j))


def test_a_phase_after_its_window_is_too_slow() -> None:
    j = judge(timeline(fence_at=50.0), prediction(), evidence(restore_started=60.0))
    assert any(m.startswith("TOO SLOW: fence-done at 50.0 s") for m in failing(j))


def test_wrong_service_placement() -> None:
    j = judge(timeline(), prediction(services={SVC: "node02"}), evidence())
    assert any(m.startswith("WRONG OUTCOME: expected service01 on node02") for m in failing(j))


def test_expected_failed_service_that_runs_is_wrong() -> None:
    j = judge(timeline(), prediction(services={SVC: "failed"}), evidence())
    assert any("expected service01 failed" in m for m in failing(j))


def test_quorum_mismatch() -> None:
    j = judge(timeline(), prediction(quorate=False), evidence())
    assert any(m.startswith("WRONG OUTCOME: expected quorate=False") for m in failing(j))


def test_two_owners_at_once_is_split_brain() -> None:
    tl = timeline()
    tl.record("poll", "node02", "status", status=status(("node02",), "node02"), mounted=False, t=12.1)
    j = judge(tl, prediction(), evidence())
    assert any("split brain" in m for m in failing(j))


def test_data_lun_mounted_on_two_nodes() -> None:
    tl = timeline()
    tl.record("poll", "node02", "status", status=status(("node01", "node02"), "node01"), mounted=True, t=5.2)
    j = judge(tl, prediction(), evidence())
    assert any("mounted on two nodes" in m for m in failing(j))


def test_lost_record() -> None:
    j = judge(timeline(), prediction(), evidence(records_after="something else\n"))
    assert any(m.startswith("WRONG OUTCOME: record 'rec-1 node01' lost") for m in failing(j))


def test_service_that_never_answers_again() -> None:
    j = judge(timeline(), prediction(), evidence(records_after=None))
    assert any("never answered" in m for m in failing(j))


def test_a_fence_claim_without_a_reset_is_wrong() -> None:
    from datetime import UTC, datetime

    claim = FenceAction("node01", "reboot", "success", completed=datetime.fromtimestamp(5.0, UTC))
    j = judge(timeline(), prediction(), evidence(fence_history=(claim,)))
    assert any("reports ['node01'] fenced but no such reset" in m for m in failing(j))


def test_an_acceptable_alternative_is_accepted() -> None:
    alt = prediction()
    main = prediction(fenced=("node01",), alternatives=(alt,))
    assert not judge_one(timeline(), main, evidence()).ok
    assert judge(timeline(), main, evidence()).ok


@pytest.mark.parametrize("phase", ["detect", "fence-done"])
def test_a_predicted_phase_that_never_happens_fails(phase: str) -> None:
    windows = {phase: Window(100.0, 200.0)}
    j = judge(timeline(), prediction(windows=windows), evidence())
    assert any(phase in m and m.startswith(("TOO SLOW", "TOO EARLY")) for m in failing(j))
