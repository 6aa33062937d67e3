"""Trends across nights: the phase record reader, its table and picture, shards merged into one
report, and a second night's report carrying the first one's history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halab.report.generate import GENERATOR, REPORTS_DIR, _split_args, clean_results, generate
from halab.report.history import (
    attach_trends,
    fault_and_role,
    main,
    read_history,
    render_png,
    render_table,
    trend,
    write_overview,
)


def _record(run: str, t: float, phase: str = "fence-done", measured: float | None = 40.0, fault: str = "suspend",
            role: str = "owner", verdict: str = "PASS") -> dict[str, object]:
    return {"fault": fault, "target": "node01" if role == "owner" else "node02", "role": role,
            "stack": "pacemaker", "timing": "fast", "accel": "tcg", "phase": phase, "measured_s": measured,
            "earliest_s": 20.0, "latest_s": 60.0, "verdict": verdict, "run_id": run, "time": t}


def _write(path: Path, records: list[dict[str, object]], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + extra)
    return path


def test_a_missing_or_empty_file_is_an_empty_history_not_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    history = read_history([tmp_path / "absent.jsonl", empty])
    assert history.records == ()
    assert history.skipped == 0
    assert history.sources == (str(empty),)
    assert render_table(history, "suspend").startswith("no phase records for suspend yet")
    assert not render_png(history, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_bad_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.jsonl", [_record("r1", 100.0)],
                  extra='not json\n[1, 2]\n{"fault": "suspend"}\n{"fault": "x", "phase": "p", "run_id": "r", '
                        '"time": "yesterday"}\n\n')
    history = read_history([path])
    assert len(history.records) == 1
    assert history.skipped == 4
    assert "4 unreadable line(s) skipped" in render_table(history)


def test_iso_times_nulls_and_non_finite_numbers_are_read(tmp_path: Path) -> None:
    rec = _record("r1", 0.0, measured=None)
    rec["time"] = "2026-11-30T02:00:00Z"
    rec["latest_s"] = float("nan")
    history = read_history([_write(tmp_path / "h.jsonl", [rec])])
    (only,) = history.records
    assert only.time == pytest.approx(1_796_004_000.0)
    assert only.measured_s is None
    assert only.latest_s is None


def test_shard_files_merge_and_repeated_records_count_once(tmp_path: Path) -> None:
    night1 = [_record("n1", 100.0), _record("n1", 101.0, fault="heartbeat-down")]
    a = _write(tmp_path / "shard1.jsonl", [*night1, _record("n2", 200.0)])
    b = _write(tmp_path / "shard2.jsonl", [*night1, _record("n2", 201.0, fault="heartbeat-down")])
    history = read_history([a, b])
    assert len(history.records) == 4
    assert [r.run_id for r in history.records] == ["n1", "n1", "n2", "n2"]


def test_the_trend_keeps_the_last_runs_oldest_first(tmp_path: Path) -> None:
    records = [_record(f"run{i:02d}", 1000.0 - i * 10, measured=30.0 + i) for i in range(14)]
    history = read_history([_write(tmp_path / "h.jsonl", records)])
    runs, series = trend(history, "suspend", "owner", last=10)
    assert runs == [f"run{i:02d}" for i in range(9, -1, -1)]  # older time = higher index here
    (only,) = series
    assert [r.measured_s for _, r in only.points if r] == [30.0 + i for i in range(9, -1, -1)]


def test_the_table_shows_each_phase_per_run_with_the_window_and_failures(tmp_path: Path) -> None:
    records = [_record("n1", 100.0, measured=41.5), _record("n1", 100.0, phase="service-up", measured=70.0),
               _record("n2", 200.0, measured=65.2, verdict="TOO SLOW"),
               _record("n2", 200.0, phase="service-up", measured=None, verdict="MISSING"),
               _record("n2", 200.0, fault="heartbeat-down", measured=12.0)]
    history = read_history([_write(tmp_path / "h.jsonl", records)])
    table = render_table(history, "suspend", "owner")
    lines = table.splitlines()
    assert lines[0].split() == ["lab", "stack", "timing", "fault", "role", "phase", "window", "s", "n1", "n2"]
    fence = next(ln for ln in lines if "fence-done" in ln)
    assert fence.split()[-5:] == ["20.0-60.0", "41.5", "65.2", "TOO", "SLOW"]
    assert "never MISSING" in next(ln for ln in lines if "service-up" in ln)
    assert "heartbeat-down" not in table
    assert "heartbeat-down" in render_table(history)


def test_the_picture_is_drawn(tmp_path: Path) -> None:
    history = read_history([_write(tmp_path / "h.jsonl", [_record("n1", 1.0), _record("n2", 2.0, verdict="TOO SLOW")])])
    assert render_png(history, tmp_path / "t.png", "suspend", "owner")
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in write_overview(tmp_path / "report", history)] == ["phase-trend.txt",
                                                                              "phase-trend-suspend.png"]


@pytest.mark.parametrize(("params", "expected"), [
    ([{"name": "fault", "value": "'suspend'"}, {"name": "role", "value": "'owner'"}], ("suspend", "owner")),
    ([{"name": "fault", "value": "suspend"}, {"name": "target", "value": "node02 (standby)"}], ("suspend", "standby")),
    ([{"name": "x", "value": "1"}], None),
    ([], None),
])
def test_which_fault_and_role_a_result_is_about(params: list[dict[str, str]],
                                                expected: tuple[str, str] | None) -> None:
    assert fault_and_role({"parameters": params}) == expected


def _result(results: Path, name: str, fault: str, role: str, status: str = "passed", start: int = 0) -> None:
    results.mkdir(parents=True, exist_ok=True)
    node = "node01" if role == "owner" else "node02"
    result = {"uuid": f"u-{name}", "historyId": f"h-{name}", "testCaseId": f"c-{name}", "name": name,
              "fullName": f"tests_failover.test_failover.TestSeedCluster#test_failover[{name}]",
              "status": status, "start": 1_700_000_000_000 + start, "stop": 1_700_000_060_000 + start,
              "parameters": [{"name": "fault", "value": fault}, {"name": "target", "value": f"{node} ({role})"}],
              "labels": [{"name": "suite", "value": "failover"}]}
    (results / f"u-{name}-result.json").write_text(json.dumps(result))


def test_attach_trends_adds_its_fault_table_and_picture_to_each_failover_result(tmp_path: Path) -> None:
    history = read_history([_write(tmp_path / "h.jsonl", [_record("n1", 1.0), _record("n1", 1.0, role="standby")])])
    results = tmp_path / "results"
    _result(results, "suspend-node01-owner", "suspend", "owner")
    _result(results, "power-off-node01-owner", "power-off", "owner")
    (results / "u-other-result.json").write_text(json.dumps({"uuid": "o", "name": "unit", "parameters": []}))
    assert attach_trends([results], history) == 2
    assert attach_trends([results], history) == 2  # a second pass replaces, never duplicates
    done = json.loads((results / "u-suspend-node01-owner-result.json").read_text())
    names = [a["name"] for a in done["attachments"]]
    assert names == ["phase trend", "phase trend (picture)"]
    text = (results / done["attachments"][0]["source"]).read_text()
    assert "owner" in text
    assert "standby" not in text
    other = json.loads((results / "u-power-off-node01-owner-result.json").read_text())
    assert [a["name"] for a in other["attachments"]] == ["phase trend"]
    assert (results / other["attachments"][0]["source"]).read_text().startswith("no phase records for power-off")


def test_the_cli_takes_several_result_folders_and_phase_files() -> None:
    assert _split_args(["a", "b", "report"]) == ([Path("a"), Path("b"), Path("report")], [])
    assert _split_args(["a", "r", "--phase-history", "h1", "h2"]) == ([Path("a"), Path("r")], [Path("h1"), Path("h2")])
    assert _split_args(["a"]) is None
    assert _split_args(["a", "r", "--phase-history"]) is None


@pytest.mark.skipif(not (REPORTS_DIR / GENERATOR).exists(),
                    reason=f"no Allure generator at {REPORTS_DIR / GENERATOR} (scripts/setup.sh installs it)")
def test_two_shards_make_one_report_and_the_second_night_shows_the_first(tmp_path: Path) -> None:
    shard1, shard2, report = tmp_path / "results-1", tmp_path / "results-2", tmp_path / "report"
    phases = _write(tmp_path / "phase-history.jsonl", [_record("night1", 1.0)])
    for night in (1, 2):
        clean_results(shard1)
        clean_results(shard2)
        _result(shard1, "suspend-node01-owner", "suspend", "owner", start=night * 86_400_000)
        _result(shard2, "suspend-node02-standby", "suspend", "standby", start=night * 86_400_000,
                status="failed" if night == 2 else "passed")
        generate([shard1, shard2], report, timeout=300, phase_history=[phases])
        with phases.open("a") as fh:
            fh.write(json.dumps(_record("night2", 2.0, measured=44.0)) + "\n")
    summary = json.loads((report / "widgets" / "summary.json").read_text())
    assert summary["statistic"]["total"] == 2  # every test once, from both shards
    history = json.loads((report / "history" / "history.json").read_text())
    assert sorted(len(entry["items"]) for entry in history.values()) == [2, 2]
    trend_points = json.loads((report / "widgets" / "history-trend.json").read_text())
    assert len(trend_points) == 2  # pass-rate trend: this night and the one before
    assert "night1" in (report / "phase-trend.txt").read_text()
    assert (report / "phase-trend-suspend.png").exists()


def test_merge_writes_each_record_once_and_reads_back_the_same(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from halab.report.history import main

    a = _write(tmp_path / "a.jsonl", [_record("n1", 1.0), _record("n2", 2.0)])
    b = _write(tmp_path / "b.jsonl", [_record("n2", 2.0), _record("n3", 3.0)])
    store = tmp_path / "home" / "phase-history.jsonl"
    assert main(["merge", str(store), str(a), str(b), str(store)]) == 0
    assert capsys.readouterr().out.strip().endswith("3 phase record(s)")
    assert read_history([store]).records == read_history([a, b]).records
    assert main(["table", str(store)]) == 0
    assert "n3" in capsys.readouterr().out
    assert main(["merge"]) == 2


def test_what_the_suite_writes_is_what_the_trend_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer (observe/records.py) and this reader share one schema: a run's phases come back
    with their target, profile and window; its interval records are passed over, not counted."""
    from halab.observe.records import RUN_ID_ENV, RunKey, append, run_records

    monkeypatch.delenv(RUN_ID_ENV, raising=False)
    from halab.observe.timeline import PhaseResult
    from halab.observe.verdict import Verdict
    from halab.oracle import Prediction

    pred = Prediction("pacemaker", "suspend", "node02", ("node02",), "node01", (), {"s": "node01"}, True,
                      ("node01",), {}, ())
    phases = (PhaseResult("fence-requested", 11.0, 9.0, 20.0), PhaseResult("fence-done", 19.5, 12.0, 45.0))
    key = RunKey("suspend", "standby", "pacemaker", "fast", "tcg", "node02")
    path = tmp_path / "phase-history.jsonl"
    append(path, run_records(key, Verdict(pred, (), phases, ("node02",), "node01"), restore_at=60.0, when=1.0))
    append(path, run_records(key, Verdict(pred, (), phases, ("node02",), "node01"), restore_at=60.0, when=2.0))
    history = read_history([path])
    assert history.skipped == 0
    assert len(history.records) == 4
    assert len({r.run_id for r in history.records}) == 2
    first = next(r for r in history.records if r.phase == "fence-requested")
    assert (first.fault, first.target, first.role, first.timing, first.phase) == \
        ("suspend", "node02", "standby", "fast", "fence-requested")
    assert (first.measured_s, first.earliest_s, first.latest_s) == (11.0, 9.0, 20.0)
    runs, series = trend(history, "suspend", "standby")
    assert len(runs) == 2
    assert series


def test_two_designs_are_two_rows_and_a_shard_hands_on_only_its_night(tmp_path: Path) -> None:
    """The seed's heartbeat-down and a quorum-device lab's are not one series; a shard's file
    keeps only the night it ran (the checkout's file holds older runs and other labs)."""
    seed = {**_record("night2", 300.0, fault="heartbeat-down"), "lab": "seed"}
    qdev = {**_record("05-35 qdev", 100.0, fault="heartbeat-down"), "lab": "qdevice"}
    old = {**_record("night1", 200.0, fault="heartbeat-down"), "lab": "seed"}
    source = _write(tmp_path / "all.jsonl", [qdev, old, seed])
    _, series = trend(read_history([source]), "heartbeat-down")
    assert [s.key[0] for s in series] == ["qdevice", "seed"]
    assert [[run for run, r in s.points if r is not None] for s in series] == [["05-35 qdev"], ["night1", "night2"]]
    assert render_table(read_history([source])).splitlines()[0].split()[:2] == ["lab", "stack"]
    out = tmp_path / "shard" / "phase-history.jsonl"
    assert main(["merge", str(out), str(source), "--run", "night2"]) == 0
    kept = read_history([out]).records
    assert [(r.run_id, r.lab) for r in kept] == [("night2", "seed")]
    assert main(["merge", str(out), "--run"]) == 2


def test_records_written_before_run_ids_take_their_run_from_their_time(tmp_path: Path) -> None:
    old = {"accel": "tcg", "driven": "cluster", "fault": "suspend", "measured_s": 4.5, "phase": "detect",
           "profile": "fast", "role": "owner", "stack": "pacemaker", "time": 1796055843.049, "verdict": "ok",
           "window_s": [3.55, 14.2]}
    history = read_history([_write(tmp_path / "h.jsonl", [old, {**old, "phase": "fence-done"}])])
    assert history.skipped == 0
    assert {r.run_id for r in history.records} == {"11-30 16:24:03"}
    assert history.records[0].earliest_s == 3.55
