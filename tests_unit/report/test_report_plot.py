"""The timeline picture: a valid PNG for full, partial and empty timelines."""

from __future__ import annotations

from pathlib import Path

from report_cases import PNG_SIGNATURE, full_timeline, phases, small_prediction

from halab.observe.timeline import Timeline
from halab.report.plot import timeline_png


def _is_png(path: Path) -> bool:
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(PNG_SIGNATURE)


def test_full_timeline(tmp_path: Path) -> None:
    out = timeline_png(full_timeline(), small_prediction(), phases(), "service01", tmp_path / "sub" / "t.png")
    assert out == tmp_path / "sub" / "t.png"
    assert _is_png(out)


def test_empty_timeline_without_prediction(tmp_path: Path) -> None:
    assert _is_png(timeline_png(Timeline(), None, [], "service01", tmp_path / "empty.png"))


def test_partial_timeline_prediction_only_no_t0_no_heal(tmp_path: Path) -> None:
    tl = Timeline()
    tl.record("probe", None, "probe-ok", "node01", t=-1.0)
    assert _is_png(timeline_png(tl, small_prediction(), [], "service01", tmp_path / "partial.png"))


def test_event_labels_close_in_time_get_different_lanes() -> None:
    from halab.report.plot import label_lanes

    # stopped and started 0.5 s apart on a 100 s axis overlap: different lanes; far apart: same lane
    lanes = label_lanes([50.0, 50.5, 51.0, 90.0], ["stopped", "started", "resumed", "stopped"], span_s=100.0)
    assert lanes[:3] == [0, 1, 2]
    assert lanes[3] == 0
    # on a short axis the same labels are far enough apart
    assert label_lanes([1.0, 5.0], ["stopped", "started"], span_s=10.0) == [0, 0]


def test_events_a_moment_apart_share_one_label() -> None:
    from halab.report.plot import group_events

    assert group_events([31.0, 31.6, 80.0], ["stopped", "started", "suspended"], span_s=100.0) == [
        (31.0, "stopped/started"), (80.0, "suspended")]
