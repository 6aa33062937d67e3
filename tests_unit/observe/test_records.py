"""Phase records: what each live run appends, and the ranges bench/ derives from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.observe.records import (
    FENCE_AGENT,
    RUN_ID_ENV,
    RunKey,
    append,
    derived_upper,
    load,
    load_all,
    profile_gaps,
    quantile,
    ranges,
    run_id,
    run_records,
)
from halab.observe.timeline import PhaseResult
from halab.observe.verdict import HostLag, Verdict
from halab.oracle import Prediction

KEY = RunKey("suspend", "standby", "pacemaker", "fast", "tcg")


def verdict(fence_req: float, fence_done: float, lag: float = 0.1) -> Verdict:
    pred = Prediction("pacemaker", "suspend", "node02", ("node02",), "node01", (), {"s": "node01"}, True,
                      ("node01",), {}, ())
    phases = (PhaseResult("fence-requested", fence_req, 9.0, 20.0),
              PhaseResult("fence-done", fence_done, 12.0, 45.0),
              PhaseResult("node-rejoined", 95.0, 70.0, 300.0, driven="harness"))
    return Verdict(pred, (), phases, ("node02",), "node01", HostLag(lag, 1.25, "node01", 30))


def test_a_run_gives_one_record_per_phase_and_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RUN_ID_ENV, raising=False)
    recs = run_records(KEY, verdict(11.0, 19.5), restore_at=60.0, when=1.0)
    phases = [r for r in recs if "phase" in r]
    assert [r["phase"] for r in phases] == ["fence-requested", "fence-done", "node-rejoined"]
    assert phases[0] == {"time": 1.0, "run_id": "01-01 00:00:01", "target": "", "lab": "",
                         "fault": "suspend", "role": "standby", "stack": "pacemaker",
                         "profile": "fast", "accel": "tcg", "host_lag_s": 0.1, "starved": False, "effect_s": [0.0, 0.0],
                         "phase": "fence-requested", "driven": "cluster", "measured_s": 11.0,
                         "window_s": [9.0, 20.0], "verdict": "ok"}
    intervals = {r["interval"]: r["seconds"] for r in recs if "interval" in r}
    assert intervals == {"fence agent (fence-requested -> fence-done)": 8.5,
                         "rejoin after the harness's restore": 35.0}


def test_records_append_and_load_skipping_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "phase-history.jsonl"
    append(path, run_records(KEY, verdict(11.0, 19.5), 60.0))
    append(path, run_records(KEY, verdict(10.0, 16.0), 60.0))
    with path.open("a") as fh:
        fh.write('{"torn": ')
    assert len(load(path)) == 10
    assert load(tmp_path / "none.jsonl") == []


def test_ranges_are_quantiles_with_their_count_and_leave_starved_runs_out() -> None:
    recs = [r for i, (a, b) in enumerate([(10.0, 14.0), (10.0, 16.0), (10.0, 18.0), (10.0, 20.0)])
            for r in run_records(KEY, verdict(a, b), 60.0, when=float(i))]
    recs += run_records(KEY, verdict(10.0, 40.0, lag=3.0), 60.0)  # starved: not a measurement of the cluster
    got = ranges(recs)
    count, qs = got[("pacemaker", "fast", "tcg", "fence agent (fence-requested -> fence-done)")]
    assert count == 4
    assert qs == (4.0, 4.6, 7.0, 9.4, 10.0)
    assert got[("pacemaker", "fast", "tcg", "suspend fence-done")][0] == 4


def test_quantile() -> None:
    assert quantile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert quantile([1.0, 2.0], 0.25) == pytest.approx(1.25)
    with pytest.raises(ValueError, match="no values"):
        quantile([], 0.5)


GROUP_START = "group start (fence-done -> service-started)"


def test_a_profile_range_below_what_was_measured_is_named_with_the_derived_bound() -> None:
    """Measured live (pacemaker, seed timings): group starts of 62-70 s after a fence against a
    profile upper bound of 50 s turned a correct cluster into TOO SLOW."""
    rows = {("pacemaker", "seed", "tcg", GROUP_START): (3, (61.8, 63.3, 69.2, 69.7, 69.8)),
            ("rgmanager", "fast", "tcg", GROUP_START): (2, (33.4, 34.2, 37.4, 40.6, 41.4)),
            ("pacemaker", "seed", "tcg", "suspend detect"): (2, (18.0, 18.1, 18.9, 19.5, 19.7))}
    uppers = {("pacemaker", "seed"): 50.0, ("rgmanager", "fast"): 60.0}
    lines = profile_gaps(rows, lambda stack, profile, key: uppers.get((stack, profile)))
    assert lines == [
        "pacemaker seed tcg resource_start_s: profile upper 50 s below what was measured (max 69.8 s, n=3); "
        "derived upper 88 s",
        "rgmanager fast tcg resource_start_s: profile upper 60 s holds (max 41.4 s, n=2); derived upper 52 s"]
    assert derived_upper([10.0, 40.0]) == 50.0


def test_records_kept_in_two_files_count_once(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    append(a, run_records(KEY, verdict(11.0, 19.5), 60.0, when=1.0))
    append(b, run_records(KEY, verdict(11.0, 19.5), 60.0, when=1.0))
    append(b, run_records(KEY, verdict(10.0, 16.0), 60.0, when=2.0))
    assert len(load_all([a, b])) == 10


def test_a_cluster_phase_counts_from_the_fault_s_effect_and_a_harness_phase_does_not() -> None:
    from dataclasses import replace

    recs = run_records(KEY, replace(verdict(12.0, 20.0), effect_s=(1.0, 3.0)), 60.0, when=1.0)
    assert recs[0]["effect_s"] == [1.0, 3.0]
    got = ranges(recs)
    assert got[("pacemaker", "fast", "tcg", "suspend fence-requested")][1][0] == 10.0  # 12 - 2
    assert got[("pacemaker", "fast", "tcg", "suspend node-rejoined")][1][0] == 95.0  # anchored at the restore
    assert got[("pacemaker", "fast", "tcg", "fence agent (fence-requested -> fence-done)")][1][0] == 8.0


def test_the_fence_agent_s_run_is_recorded_without_the_design_s_delay_and_old_records_are_left_out() -> None:
    """pacemaker's fence interval used to include pcmk_delay_base (8 s on node01's device), so it could
    not bound fence_agent_s; now the record takes the predicted delay out and names it."""
    from dataclasses import replace

    v = verdict(12.0, 40.0)
    v = replace(v, prediction=replace(v.prediction, fence_delay_s=8.0))
    rec = next(r for r in run_records(KEY, v, 60.0, when=1.0) if r.get("interval") == FENCE_AGENT)
    assert (rec["seconds"], rec["fence_delay_s"]) == (20.0, 8.0)
    old = {**rec, "seconds": 28.0}
    del old["fence_delay_s"]
    got = ranges([rec, old])
    assert got[("pacemaker", "fast", "tcg", FENCE_AGENT)][0] == 1
    rgm = {**old, "stack": "rgmanager"}  # no delay in the seed's cluster.conf: old records count
    assert ranges([rgm])[("rgmanager", "fast", "tcg", FENCE_AGENT)][0] == 1


def test_a_night_names_its_runs_and_a_lab_its_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """The nightly job's HALAB_RUN_ID is every record's run (one column of the trend per night);
    without it each run is named by when it was judged. The design's lab goes on every record."""
    assert run_id(1.0, {}) == "01-01 00:00:01"
    assert run_id(1.0, {RUN_ID_ENV: "  "}) == "01-01 00:00:01"
    assert run_id(1.0, {RUN_ID_ENV: "night-42"}) == "night-42"
    monkeypatch.setenv(RUN_ID_ENV, "night-42")
    recs = run_records(RunKey("suspend", "owner", "pacemaker", "fast", "tcg", "node01", "qdevice"),
                       verdict(11.0, 19.5), restore_at=None, when=1.0)
    assert {(r["run_id"], r["lab"]) for r in recs} == {("night-42", "qdevice")}
