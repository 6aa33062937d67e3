"""A run's history file: written once the run is judged, read back, judged again to the same
verdict (`halab judge FILE`); a file that is not a history is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_judge import evidence, fenced_by, issue_timeline, prediction, timeline

from halab.cli import main
from halab.errors import ParseError
from halab.observe import history_file
from halab.observe.judge import judge
from halab.oracle.model import Premise


def _same_verdict(tl: object, pred: object, ev: object) -> None:
    first = judge(tl, pred, ev)  # type: ignore[arg-type]
    again = judge(*history_file.load(history_file.dump(tl, pred, ev)))  # type: ignore[arg-type]
    assert again == first


def test_a_passing_run_is_judged_again_the_same() -> None:
    _same_verdict(timeline(), prediction(alternatives=(prediction(fenced=("node01",)),)), evidence())


def test_an_unsafe_run_is_judged_again_the_same() -> None:
    pred = prediction(target="node01", fenced=("node01",), fenced_by="node02", services={"service01": "node02"},
                      members_after=("node02",), windows={},
                      premise=Premise("fence-success", "node01", "node01 fenced"))
    ev = evidence(fence_history=(fenced_by("node01", "node02", 80.0),), fence_history_unread=("node03",))
    tl = issue_timeline(start_on_node02=79.0, fence_off=80.0)
    _same_verdict(tl, pred, ev)
    assert judge(*history_file.load(history_file.dump(tl, pred, ev))).message().startswith("UNSAFE")


def test_every_string_passes_the_callers_redaction() -> None:
    text = history_file.dump(timeline(), prediction(), evidence(record_before="rec-1 s3cret"),
                             clean=lambda s: s.replace("s3cret", "***"))
    assert "s3cret" not in text
    assert "rec-1 ***" in text
    json.loads(text)


@pytest.mark.parametrize("text", [
    "", "not json", "[]", '{"format": "other"}',
    '{"format": "halab-history/1", "items": [], "prediction": 1, "evidence": 2}',
    '{"format": "halab-history/1", "items": {"__type__": "Popen"}, "prediction": 1, "evidence": 2}',
    '{"format": "halab-history/1", "items": ' + "[" * 50000 + "]" * 50000 + "}",
])
def test_a_file_that_is_not_a_history_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        history_file.load(text)


def test_halab_judge_prints_the_verdict_and_exits_by_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(history_file.dump(timeline(), prediction(), evidence()))
    assert main(["judge", str(good)]) == 0
    assert capsys.readouterr().out.startswith("PASS")
    bad = tmp_path / "bad.json"
    bad.write_text(history_file.dump(timeline(), prediction(quorate=False), evidence()))
    assert main(["judge", str(bad)]) == 1
    assert "WRONG OUTCOME: expected quorate=False" in capsys.readouterr().out
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\xff\xfe")
    assert main(["judge", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "history" in err
    assert "Traceback" not in err


def test_each_judged_run_keeps_its_history_redacted(tmp_path: Path) -> None:
    from halab.report.allure_io import keep_history
    from halab.scenario import FaultRun

    pred = prediction()
    run = FaultRun("heartbeat-down", "node02", "standby", pred, timeline())
    assert keep_history(run, tmp_path) is None  # not judged yet: nothing to keep
    run.evidence = evidence(record_before="rec-1 s3cret", t0_wall=1796200000.0)
    out = keep_history(run, tmp_path / "histories", ["s3cret"])
    assert out is not None
    assert out.name.endswith("-heartbeat-down-node02-standby.json")
    text = out.read_text()
    assert "s3cret" not in text
    assert main(["judge", str(out)]) in (0, 1)
