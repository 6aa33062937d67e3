"""The budget table, phase titles, assertion messages and the oracle's reasoning as text."""

from __future__ import annotations

from report_cases import phases, seed_prediction, small_prediction

from halab.observe.timeline import PhaseResult
from halab.report.budget import budget_table, phase_title, precise, prediction_paragraph, reasoning_text


def _table_rows(table: str) -> dict[str, list[str]]:
    lines = table.splitlines()
    return {line.split()[0]: line.split() for line in lines[2:] if line and not line[0].isdigit()
            and not line.startswith("times")}


def test_budget_table_verdicts_and_margins() -> None:
    rows = _table_rows(budget_table(phases()))
    assert rows["detect"] == ["detect", "[19.50,", "47.20]", "21.30", "+1.80", "ok"]
    assert rows["fence-done"][-3:] == ["-1.60", "too", "early"]
    assert rows["service-started"][-3:] == ["-10.25", "too", "late"]
    assert rows["node-rejoined"][3:] == ["-", "-", "missing"]


def test_budget_table_header_and_summary() -> None:
    table = budget_table(phases())
    header = table.splitlines()[0].split("  ")
    assert [h.strip() for h in header if h.strip()] == ["phase", "window [s]", "measured [s]", "margin [s]",
                                                        "verdict"]
    assert "4 phase(s): 1 missing, 1 ok, 1 too early, 1 too late" in table


def test_budget_table_of_nothing() -> None:
    assert "no phases judged" in budget_table([])


def test_borderline_times_get_the_decimals_that_explain_the_verdict() -> None:
    p = PhaseResult("fence-requested", 43.549, 43.55, 52.2)
    assert "43.549" in budget_table([p])
    assert precise(43.549, 43.55, 52.2) == 3
    assert precise(21.3, 19.5, 47.2) == 1
    assert phase_title(p) == "fence-requested at 43.549 s (window 43.550–52.200 s): too early"


def test_phase_title_reads_like_the_report() -> None:
    assert phase_title(PhaseResult("fence-done", 17.3, 13.6, 42.2)) == \
        "fence-done at 17.3 s (window 13.6–42.2 s): ok"
    assert phase_title(PhaseResult("node-rejoined", None, 86.5, 295.2)) == \
        "node-rejoined not observed (window 86.5–295.2 s): missing"


def test_titles_render_the_judges_uncertainty_and_harness_label() -> None:
    """43.4 +- 0.2 against [43.5, 52.2] is ok for the judge; the report says so too (no recomputation)."""
    p = PhaseResult("fence-requested", 43.4, 43.5, 52.2, "log", 0.2)
    assert p.verdict == "ok"
    assert phase_title(p) == "fence-requested at 43.4 ± 0.20 s (window 43.5–52.2 s): ok"
    assert "43.40 ±0.20" in budget_table([p])
    rejoin = PhaseResult("node-rejoined", None, 86.5, 295.2, driven="harness", blind="no status poll answered")
    assert phase_title(rejoin) == ("node-rejoined (harness-driven) not observed (window 86.5–295.2 s): "
                                   "no evidence: no status poll answered")
    assert "node-rejoined (harness-driven)" in budget_table([rejoin])


def test_prediction_paragraph_says_fault_target_and_outcome() -> None:
    text = prediction_paragraph(seed_prediction(), "owner")
    assert text.startswith("Fault heartbeat-down injected on node01 (owner) of the pacemaker cluster.")
    assert "node02 is fenced by node01" in text
    assert "\n" not in text


def test_reasoning_text_has_outcome_reasoning_and_windows() -> None:
    prediction = seed_prediction()
    text = reasoning_text(prediction)
    assert text.startswith("oracle: stack pacemaker, fault heartbeat-down on node01")
    for line in prediction.reasoning:
        assert line in text
    for name, window in prediction.windows.items():
        assert f"{name}" in text
        assert f"[{window.earliest:.2f}, {window.latest:.2f}]" in text
    assert "fenced:        node02 (by node01)" in text


def test_reasoning_text_lists_alternatives() -> None:
    alt = small_prediction()
    text = reasoning_text(small_prediction(alternatives=(alt,)))
    assert "=== acceptable alternative 1 ===" in text
    assert text.count("reasoning:") == 2
    assert "service01 -> node02" in text
