"""A run's history file: written once the run is judged, read back, judged again to the same
verdict (`halab judge FILE`); a file that is not a history is one line, exit 2."""

from __future__ import annotations

import json
from datetime import UTC
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


def test_every_field_a_stack_fills_is_kept() -> None:
    """rgmanager's status carries a quorum device (clustat's qdisk line) and a fence history; a
    history holding them writes and reads back whole (CI's first rgmanager run broke on it)."""
    from datetime import datetime

    from halab.observe.timeline import Timeline
    from halab.stacks.types import ClusterStatus, FenceAction, Member, QuorumDevice, Service

    status = ClusterStatus(True, (Member("node01", True, 1, True, ("Local",), 1), Member("node02", False, 2)),
                           (Service("service01", "started", "node01", "node02", ("x",)),),
                           QuorumDevice("/dev/block/8:0", True, 1), "RHCS", "node01",
                           fence_history=(FenceAction("node02", "off", "success", "node01", "node01",
                                                      datetime(2026, 12, 2, tzinfo=UTC)),), dc="node01")
    tl = Timeline()
    tl.mark_t0()
    tl.record("poll", "node01", "status", status=status, mounted=True, holds_ip=True)
    again, _, ev = history_file.load(history_file.dump(tl, prediction(), evidence(baseline=status)))
    assert [o.status for o in again.items()] == [status]
    assert ev.baseline == status
    assert set(history_file.TYPES) >= {"QuorumDevice", "ClusterStatus", "FenceAction", "Observation", "Evidence"}


def test_a_history_that_cannot_be_written_is_a_warning_not_a_lost_verdict(tmp_path: Path) -> None:
    from halab.report.allure_io import keep_history
    from halab.scenario import FaultRun

    run = FaultRun("suspend", "node01", "owner", prediction(), timeline())
    run.evidence = evidence(record_before=object())  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match="history not kept"):
        assert keep_history(run, tmp_path) is None
