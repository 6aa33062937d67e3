"""How long a fault is held: long enough for every outcome the oracle accepts (pure logic)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from halab import scenario
from halab.observe.hostload import KIND
from halab.observe.judge import HARNESS, REST
from halab.observe.timeline import Timeline
from halab.oracle import Prediction, Window
from halab.scenario import hold_deadline


def _pred(windows: dict[str, Window], **kw: object) -> Prediction:
    base = Prediction(stack="pacemaker", fault="heartbeat-down", target="node01", fenced=("node02",),
                      fenced_by="node01", self_reboot=(), services={"service01": "node01"}, quorate=True,
                      members_after=("node01",), windows=windows, reasoning=("test",))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_the_hold_covers_the_race_alternative_that_ends_later() -> None:
    """Measured live: the tie-break race went to node02; the heal came at the main prediction's end
    (fence-done latest 42 s), before the group started on node02 (~85 s), so the alternative the
    judge would have accepted could not be matched."""
    alt = _pred({"detect": Window(3.5, 14.2), "fence-done": Window(20.6, 50.2),
                 "service-started": Window(22.6, 105.2), "node-rejoined": Window(9.5, 221.0)},
                fenced=("node01",), fenced_by="node02", services={"service01": "node02"})
    main = _pred({"detect": Window(3.5, 14.2), "fence-done": Window(12.6, 42.2),
                  "node-rejoined": Window(9.5, 221.0)}, alternatives=(alt,))
    without = hold_deadline(replace(main, alternatives=()), None)  # type: ignore[arg-type]
    with_alt = hold_deadline(main, None)  # type: ignore[arg-type]
    assert with_alt - without == 105.2 - 42.2
    assert with_alt > 105.2  # harness-driven windows (node-rejoined) never extend the hold


START = 122.0  # the seed lab's fast profile: resource_start_s upper bound (labs/seed/lab.toml)


def _cluster(chain: tuple[str, ...] = ("service01",)) -> object:
    from types import SimpleNamespace

    from halab.spec import load_spec

    spec = load_spec("seed").with_timing("fast")
    return SimpleNamespace(design=SimpleNamespace(preferred_node="node01", service="service01",
                                                  restart_chain=chain), lab=SimpleNamespace(spec=spec))


def test_the_restore_has_time_for_the_way_home_when_the_service_moved_without_a_fence() -> None:
    """Measured live (iscsi-block on the owner): nobody fenced, service01 on node02; the bare margin
    (120 s) could not hold the cleanup, a group stop and a 30-50 s group start under TCG."""
    from halab.faults.restore import SETTLE_S
    from halab.scenario import RESTORE_MARGIN_S, restore_budget

    moved = _pred({"detect": Window(14.5, 38.0), "service-started": Window(16.5, 213.0)}, fenced=(),
                  services={"service01": "node02"})
    assert restore_budget(moved, _cluster()) == RESTORE_MARGIN_S + 2 * START + SETTLE_S  # type: ignore[arg-type]
    stayed = replace(moved, services={"service01": "node01"})
    assert restore_budget(stayed, _cluster()) == RESTORE_MARGIN_S  # type: ignore[arg-type]
    # a predicted fail-back: the harness moves the service only after its window, then goes home
    fenced = replace(moved, windows={"node-rejoined": Window(9.5, 221.0), "fail-back": Window(11.5, 331.0)})
    assert restore_budget(fenced, _cluster()) == 331.0 + 2 * START + SETTLE_S + RESTORE_MARGIN_S  # type: ignore[arg-type]
    # a broken cluster (a mutant) is deployed afresh after its run: no time for the way home
    assert restore_budget(fenced, _cluster(), way_home=False) == 331.0 + RESTORE_MARGIN_S  # type: ignore[arg-type]


def test_the_way_home_counts_every_group_that_moves_with_the_service() -> None:
    """Measured live on web3 (db, then web colocated with it): the way home stops and starts both
    groups, and web may still be starting when the restore takes a busy cluster as it is."""
    from halab.faults.restore import SETTLE_S
    from halab.scenario import RESTORE_MARGIN_S, answer_after_restore_s, answer_again_s, restore_budget

    moved = _pred({"detect": Window(14.5, 38.0)}, fenced=(), services={"service01": "node02"})
    two = _cluster(("db", "web"))
    assert restore_budget(moved, two) == RESTORE_MARGIN_S + 2 * 2 * START + SETTLE_S  # type: ignore[arg-type]
    assert answer_again_s(two) == START  # type: ignore[arg-type]
    assert answer_again_s(_cluster()) == 30.0  # type: ignore[arg-type]
    # after the restore, also a restart in place of the whole chain
    assert answer_after_restore_s(two) == 2 * 2 * START  # type: ignore[arg-type]
    assert answer_after_restore_s(_cluster()) == 2 * START  # type: ignore[arg-type]


def test_the_restore_leaves_the_fail_back_to_the_cluster_until_its_latest_window() -> None:
    from halab.scenario import fail_back_end

    pred = _pred({"fail-back": Window(11.5, 331.0)})
    alt = _pred({"fail-back": Window(11.5, 400.0)})
    assert fail_back_end(pred) == 331.0
    assert fail_back_end(replace(pred, alternatives=(alt,))) == 400.0
    assert fail_back_end(_pred({"detect": Window(1.0, 2.0)})) == 0.0


def test_an_alternative_that_settles_does_not_end_the_hold(monkeypatch: object) -> None:
    """Measured live (rgmanager heartbeat-down): an alternative with only a detect phase settled at
    16 s and ended the hold before the main prediction's fence could be seen. Only the main
    prediction ends the hold early; the alternatives only extend its deadline."""
    import time

    import pytest

    from halab import scenario
    from halab.observe.timeline import Timeline

    mp = pytest.MonkeyPatch()
    alt = _pred({"detect": Window(7.6, 15.2)}, fenced=())
    main = _pred({"detect": Window(7.6, 15.2), "fence-done": Window(12.6, 43.2)}, alternatives=(alt,))
    mp.setattr(scenario, "_settled", lambda _tl, p, _c: p is alt)
    mp.setattr(scenario, "SETTLE_GRACE_S", 0.1)  # a settled outcome would end the hold within 0.6 s
    tl = Timeline()
    tl.t0_mono = tl.mono_start
    started = time.monotonic()
    try:
        scenario._hold(tl, main, None, deadline=tl.now() + 2.0)  # type: ignore[arg-type]
    finally:
        mp.undo()
    assert time.monotonic() - started >= 1.9


def test_the_hold_waits_for_every_predicted_service_in_a_survivors_view() -> None:
    """A design that orders web after db: the hold must not end with db started and web not yet."""
    from types import SimpleNamespace

    from halab.observe.timeline import Timeline
    from halab.scenario import _others_placed
    from halab.stacks.types import ClusterStatus, Member, Service

    cluster = SimpleNamespace(design=SimpleNamespace(service="db"))
    pred = _pred({}, services={"db": ("node01", "node03"), "web": ("node01", "node03")},
                 members_after=("node01", "node03"))

    def view(web_state: str) -> Timeline:
        tl = Timeline()
        st = ClusterStatus(True, (Member("node01", True), Member("node03", True)),
                           (Service("db", "started", "node03"), Service("web", web_state, "node03")))
        tl.record("poll", "node01", "status", status=st)
        return tl

    assert not _others_placed(view("starting"), pred, cluster)  # type: ignore[arg-type]
    assert _others_placed(view("started"), pred, cluster)  # type: ignore[arg-type]
    alone = _pred({}, services={"db": "node01"})
    assert _others_placed(Timeline(), alone, cluster)  # type: ignore[arg-type]


def test_a_service_not_answering_after_the_restore_says_what_the_client_and_the_nodes_saw() -> None:
    """CI showed only the failure's one line ("the service answering again not seen within 30 s"):
    it must carry the last probe's answer and where the service IP last was."""
    import pytest

    from halab.errors import LabError
    from halab.observe.timeline import Timeline
    from halab.scenario import _wait_answering

    timeline = Timeline()
    timeline.record("probe", None, "probe-fail", "0 192.168.7.99:8080: No route to host", t=10.0)
    timeline.record("poll", "node01", "status", "", mounted=True, holds_ip=False, t=11.0)
    timeline.record("poll", "node02", "status", "", mounted=False, holds_ip=False, t=11.5)
    with pytest.raises(LabError) as err:
        _wait_answering(_cluster(), timeline, "the service answering again", lambda _: None, 0.0)  # type: ignore[arg-type]
    text = str(err.value)
    assert "not seen within 0 s" in text
    assert "last probe at 10.0 s: 0 192.168.7.99:8080: No route to host" in text
    assert "service IP on no node at the last poll" in text
    timeline.record("poll", "node02", "status", "", mounted=True, holds_ip=True, t=12.0)
    with pytest.raises(LabError, match="service IP on node02 at the last poll"):
        _wait_answering(_cluster(), timeline, "the service answering again", lambda _: None, 0.0)  # type: ignore[arg-type]


# --- before the fault: the lab at rest ---------------------------------------------------------


def _sampled(waits: list[float], seconds_ago: float) -> Timeline:
    """A timeline made ``seconds_ago``, with one host sample a second from then (cumulative waits)."""
    timeline = Timeline(mono_start=time.monotonic() - seconds_ago)
    for i, wait in enumerate(waits):
        timeline.record("host", "node01", KIND, f"run_delay_s={wait} vcpus=1 pid=9", t=float(i))
    return timeline


def test_a_lab_at_rest_gets_its_fault_at_once_and_the_history_says_so() -> None:
    timeline = _sampled([0.01 * i for i in range(8)], seconds_ago=7.5)
    said: list[str] = []
    started = time.monotonic()
    scenario._wait_at_rest(timeline, 5000, said.append)
    assert time.monotonic() - started < 1
    rest_marks = [o for o in timeline.items() if o.source == HARNESS and o.kind == REST]
    assert [o.detail.split()[0] for o in rest_marks] == ["at_rest=True"]
    assert not any("not at rest" in line for line in said)


def test_a_lab_that_never_settles_gets_its_fault_after_the_bound_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never a silent pass: the line says the lab was loaded, the sentinel then judges the run."""
    monkeypatch.setattr(scenario, "REST_WAIT_STRETCHES", 0.2)  # 1 s at a 5 s token
    timeline = _sampled([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5], seconds_ago=7.5)
    said: list[str] = []
    started = time.monotonic()
    scenario._wait_at_rest(timeline, 5000, said.append)
    assert 0.9 < time.monotonic() - started < 3
    assert any("not at rest after 1 s" in line and "injecting anyway" in line for line in said)
    mark = next(o for o in timeline.items() if o.kind == REST)
    assert mark.detail.startswith("at_rest=False lag_s=2.0")
