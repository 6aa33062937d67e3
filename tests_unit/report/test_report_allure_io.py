"""The allure wrappers: everything redacted, phase steps with verdicts, evidence that never breaks a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import allure_commons
import pytest
from report_cases import FAKE_KEY, PNG_SIGNATURE, AllureSpy, full_timeline, phases, small_prediction

from halab.observe.timeline import Timeline
from halab.oracle import Window
from halab.report import allure_io
from halab.report.allure_io import (
    attach_json,
    attach_test_evidence,
    attach_text,
    phase_step,
    record_phases,
    set_parameters,
    status_text,
    step,
)
from halab.report.redact import MASK
from halab.stacks.types import ClusterStatus, FenceAction, Member, Service


def test_attach_text_and_json_are_redacted(allure_spy: AllureSpy) -> None:
    attach_text("log with s3cret", f"key:\n{FAKE_KEY}passwd=abc", secrets=["s3cret"])
    attach_json("cfg", {"password": "abc", "nested": {"note": "s3cret here"}}, secrets=["s3cret"])
    assert allure_spy.names() == [f"log with {MASK}", "cfg"]
    assert "BEGIN" not in allure_spy.body(f"log with {MASK}")
    cfg = json.loads(allure_spy.body("cfg"))
    assert cfg == {"password": MASK, "nested": {"note": f"{MASK} here"}}


def test_parameters_and_step_titles_are_redacted(allure_spy: AllureSpy) -> None:
    set_parameters(fault="heartbeat-down", target="node01-owner", note="pw-9", secrets=["pw-9"])
    with step("login with --password pw-9"):
        pass
    assert allure_spy.parameters == {"fault": "heartbeat-down", "target": "node01-owner", "note": MASK}
    assert allure_spy.steps == [f"login with --password {MASK}"]


def test_phase_step_passes_inside_and_fails_outside_without_raising(allure_spy: AllureSpy) -> None:
    with phase_step("fence-done", Window(13.6, 42.2), 17.3) as inside:
        assert inside.ok
    with phase_step("service-started", (20.0, 70.0), 80.0):
        pass
    ok_title = "fence-done at 17.3 s (window 13.6–42.2 s): ok"
    late_title = "service-started at 80.0 s (window 20.0–70.0 s): too late"
    assert allure_spy.steps == [ok_title, late_title]
    assert allure_spy.step_errors[ok_title] is None
    late = allure_spy.step_errors[late_title]
    assert isinstance(late, AssertionError)
    assert str(late).startswith("TOO SLOW: service-started")


def test_phase_step_lets_the_body_error_through(allure_spy: AllureSpy) -> None:
    with pytest.raises(KeyError), phase_step("detect", (0.0, 1.0), 0.5):
        raise KeyError("x")
    assert isinstance(allure_spy.step_errors["detect at 0.5 s (window 0.0–1.0 s): ok"], KeyError)


def test_record_phases_one_step_each_with_evidence(allure_spy: AllureSpy) -> None:
    record_phases(phases())
    assert len(allure_spy.steps) == 4
    assert allure_spy.steps[3] == "node-rejoined not observed (window 86.5–295.2 s): missing"
    assert allure_spy.names() == ["fence-done evidence"]


def test_status_text_of_parsed_raw_and_missing_status() -> None:
    status = ClusterStatus(quorate=True, members=(Member("node01", True), Member("node02", False)),
                           services=(Service("service01", "started", "node01"),), cluster_name="halab",
                           local_node="node01",
                           fence_history=(FenceAction("node02", "reboot", "success", "node01"),))
    text = status_text(status)
    assert "member node02: offline" in text
    assert "service service01: started on node01" in text
    assert "fence reboot node02: success" in text
    assert status_text("raw crm_mon output") == "raw crm_mon output"
    assert "no status" in status_text(None)


def test_attach_test_evidence_attaches_everything_redacted(allure_spy: AllureSpy, tmp_path: Path) -> None:
    png = attach_test_evidence(
        prediction=small_prediction(), phases=phases(), timeline=full_timeline(), service="service01",
        workdir=tmp_path, status_before="before: ok", status_after="after: passwd=zz",
        node_logs={"node02": "fence_virsh -p pw-7 ...", "node01": "boot"}, secrets=["pw-7"],
    )
    assert allure_spy.names() == ["status before", "status after", "log node01 (fault window)",
                                  "log node02 (fault window)", "oracle reasoning", "prediction.json",
                                  "budget table", "timeline.json"]
    assert png is not None
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert allure_spy.files == [("timeline", str(png))]
    everything = allure_spy.everything()
    assert "pw-7" not in everything
    assert "zz" not in everything
    rows = json.loads(allure_spy.body("timeline.json"))
    assert rows[0]["t"] == -4


def test_a_broken_evidence_part_becomes_a_note(allure_spy: AllureSpy, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> Path:
        raise RuntimeError("no display pw-3")

    monkeypatch.setattr(allure_io, "timeline_png", broken)
    png = attach_test_evidence(prediction=None, phases=[], timeline=Timeline(), service="s", workdir=tmp_path,
                               secrets=["pw-3"])
    assert png is None
    assert "evidence error: timeline picture" in allure_spy.names()
    assert allure_spy.body("evidence error: timeline picture") == \
        f"could not attach timeline picture: RuntimeError: no display {MASK}\n"
    assert "oracle reasoning" not in allure_spy.names()


def test_without_allure_pytest_every_call_is_a_no_op(tmp_path: Path) -> None:
    if any(type(p).__name__ == "AllureListener" for p in allure_commons.plugin_manager.get_plugins()):
        pytest.skip("an allure listener is active in this run (--alluredir)")
    attach_text("a", "b")
    set_parameters(fault="f")
    with phase_step("detect", (0.0, 1.0), 5.0):
        pass
    assert attach_test_evidence(prediction=None, phases=[], timeline=Timeline(), service="s",
                                workdir=tmp_path) is not None


INNER_TEST = '''
from pathlib import Path
from halab.observe.timeline import PhaseResult, Timeline
from halab.report.allure_io import attach_test_evidence, record_phases, set_parameters

def test_inner(tmp_path: Path) -> None:
    set_parameters(fault="heartbeat-down", target="node01")
    phases = [PhaseResult("detect", 21.3, 19.5, 47.2), PhaseResult("fence-done", 80.0, 46.5, 75.2)]
    record_phases(phases, secrets=["pw-8"])
    attach_test_evidence(prediction=None, phases=phases, timeline=Timeline(), service="s", workdir=tmp_path,
                         status_before="fence_virsh --password pw-8", secrets=["pw-8"])
'''


def test_with_the_real_allure_pytest_listener(tmp_path: Path) -> None:
    """What allure-pytest writes: a failed step for the late phase, the test itself passed, no secret."""
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
           "--rootdir", str(tmp_path), f"--alluredir={results}", str(tmp_path / "test_inner.py")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (result_file,) = results.glob("*-result.json")
    result = json.loads(result_file.read_text())
    assert result["status"] == "passed"
    parameters = {p["name"]: p["value"] for p in result["parameters"]}
    assert parameters == {"fault": "heartbeat-down", "target": "node01"}
    assert [(s["name"], s["status"]) for s in result["steps"]] == [
        ("detect at 21.3 s (window 19.5–47.2 s): ok", "passed"),
        ("fence-done at 80.0 s (window 46.5–75.2 s): too late", "failed"),
    ]
    assert result["steps"][1]["statusDetails"]["message"].startswith("AssertionError: TOO SLOW: fence-done")
    names = [a["name"] for a in result["attachments"]]
    assert names == ["status before", "status after", "budget table", "timeline.json", "timeline"]
    for path in results.iterdir():
        assert b"pw-8" not in path.read_bytes()
