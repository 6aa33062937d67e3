"""The budget table, phase titles, assertion messages and the oracle's reasoning as text."""

from __future__ import annotations

import pytest
from report_cases import phases, seed_prediction, small_prediction

from halab.observe.timeline import PhaseResult
from halab.report.budget import (
    TOO_EARLY,
    TOO_SLOW,
    budget_table,
    phase_failure,
    phase_title,
    precise,
    reasoning_text,
)


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


@pytest.mark.parametrize(("phase", "prefix"), [
    (PhaseResult("fence-done", 12.0, 13.6, 42.2), TOO_EARLY),
    (PhaseResult("fence-done", 50.0, 13.6, 42.2), TOO_SLOW),
    (PhaseResult("fence-done", None, 13.6, 42.2), TOO_SLOW),
])
def test_phase_failure_messages_carry_the_category_prefix(phase: PhaseResult, prefix: str) -> None:
    message = phase_failure(phase)
    assert message is not None
    assert message.startswith(prefix + " fence-done")


def test_phase_failure_is_none_inside_the_window_and_quotes_evidence() -> None:
    assert phase_failure(PhaseResult("detect", 20.0, 19.5, 47.2)) is None
    assert phase_failure(PhaseResult("detect", 1.0, 19.5, 47.2, "log line 3")) == \
        "TOO EARLY: detect at 1.0 s (window 19.5–47.2 s): too early [log line 3]"


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
