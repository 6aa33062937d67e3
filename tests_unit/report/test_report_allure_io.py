"""The allure wrappers: everything redacted, phase steps with verdicts, evidence that never breaks a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import allure_commons
import pytest
from report_cases import FAKE_KEY, PNG_SIGNATURE, AllureSpy, full_timeline, phases, small_prediction

from halab.observe.timeline import PhaseResult, Timeline
from halab.observe.verdict import Category, Verdict, failed, passed
from halab.report import allure_io
from halab.report.allure_io import (
    attach_json,
    attach_test_evidence,
    attach_text,
    record_verdict,
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


def verdict() -> Verdict:
    """A judge's verdict with one phase of each kind and a safety check each way."""
    ph = (PhaseResult("detect", 21.3, 19.5, 47.2, "poll on node02"),
          PhaseResult("fence-requested", 43.4, 43.5, 52.2, "log on node02", 0.2),
          PhaseResult("service-started", 80.25, 20.0, 70.0, "poll on node02"),
          PhaseResult("node-rejoined", None, 86.5, 295.2, "not seen", driven="harness"))
    checks = (
        passed("phase detect", "phase", "21.3 s in [19.5, 47.2]", "poll on node02"),
        passed("phase fence-requested", "phase", "43.4 s in [43.5, 52.2]", "log on node02"),
        failed("phase service-started", "phase", Category.TOO_SLOW,
               "service-started at 80.25 s, window [20.0, 70.0] s", "poll on node02"),
        failed("harness-driven phase node-rejoined", "harness phase", Category.TOO_SLOW,
               "node-rejoined never observed, window [86.5, 295.2] s"),
        passed("safety: never two owners", "safety", "never two owners in 80 status polls"),
        failed("safety: data written before the fault is there after it", "safety", Category.NO_EVIDENCE,
               "the records could not be read back after the fault"),
        passed("fenced: the predicted victim and only it", "outcome", "fenced ['node01']"),
    )
    return Verdict(small_prediction(), checks, ph, ("node01",), "node02")


def test_record_verdict_renders_the_judges_verdict_one_step_per_check(allure_spy: AllureSpy) -> None:
    record_verdict(verdict())
    assert allure_spy.steps == [
        "detect at 21.3 s (window 19.5–47.2 s): ok",
        "fence-requested at 43.4 ± 0.20 s (window 43.5–52.2 s): ok",  # the judge's ok, with its +-
        "service-started at 80.2 s (window 20.0–70.0 s): too late",
        "node-rejoined (harness-driven) not observed (window 86.5–295.2 s): missing",
        "safety: never two owners: ok",
        "safety: data written before the fault is there after it: no evidence",
        "fenced: the predicted victim and only it: ok",
    ]
    late = allure_spy.step_errors["service-started at 80.2 s (window 20.0–70.0 s): too late"]
    assert isinstance(late, AssertionError)
    assert str(late).startswith("TOO SLOW: service-started")
    blind = allure_spy.step_errors["safety: data written before the fault is there after it: no evidence"]
    assert str(blind) == "NO EVIDENCE: the records could not be read back after the fault"
    assert allure_spy.step_errors["safety: never two owners: ok"] is None
    assert "service-started at 80.25 s" in allure_spy.body("phase service-started: evidence")


def test_a_starved_hosts_phase_step_says_inconclusive_not_too_late(allure_spy: AllureSpy) -> None:
    """The step title renders the judge's word: a phase miss on a starved host is not "too late"."""
    v = verdict()
    checks = tuple(replace(c, category=Category.INCONCLUSIVE, message="INCONCLUSIVE: host starved, not judged")
                   if c.name == "phase service-started" else c for c in v.checks)
    record_verdict(replace(v, checks=checks))
    assert "service-started at 80.2 s (window 20.0–70.0 s): inconclusive (host starved)" in allure_spy.steps


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
    assert allure_spy.names() == ["budget table", "status before", "status after", "log node01 (fault window)",
                                  "log node02 (fault window)", "oracle reasoning", "prediction.json",
                                  "timeline.json"]
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
    record_verdict(verdict())
    assert attach_test_evidence(prediction=None, phases=[], timeline=Timeline(), service="s",
                                workdir=tmp_path) is not None


INNER_CONFTEST = '''
import pytest
from halab.report import allure_io

pytest_fixture_setup = pytest.hookimpl(hookwrapper=True, tryfirst=True)(allure_io.quiet_fixtures)
'''

INNER_TEST = '''
from pathlib import Path
import pytest
from halab.observe.judge import HARNESS, HEAL, INJECT, LOGS, Evidence, judge
from halab.observe.timeline import Timeline
from halab.oracle import Prediction, Window
from halab.report import allure_io
from halab.scenario import FaultRun
from halab.stacks.types import ClusterStatus, Member, Service

def status(owner):
    return ClusterStatus(True, (Member("node01", True), Member("node02", True)), (Service("svc", "started", owner),))

@pytest.fixture
def failover(tmp_path: Path):
    def run() -> FaultRun:
        tl = Timeline()
        tl.t0_mono, tl.t0_wall = tl.mono_start, tl.wall_start
        tl.record("libvirt", None, "watching", t=-3.0)
        tl.record(HARNESS, "node02", INJECT, t=0.0)
        for t in range(-2, 20):
            tl.record("poll", "node01", "status", status=status("node01"), mounted=True, t=float(t))
            tl.record("poll", "node02", "status", status=status("node01"), mounted=False, t=t + 0.5)
        tl.record(HARNESS, "node02", HEAL, t=20.0)
        for node in ("node01", "node02"):
            tl.record(HARNESS, node, LOGS, "read", t=25.0)
        pred = Prediction("pacemaker", "heartbeat-block", "node02", (), None, (), {"svc": "node01"}, True,
                          ("node01", "node02"), {"detect": Window(1.0, 5.0)}, ("fence pw-8",))
        ev = Evidence("svc", status("node01"), (), 0.0, 0.0, "rec", "rec", "node01")
        verdict = judge(tl, pred, ev)
        result = FaultRun("heartbeat-block", "node02", "standby", pred, tl, verdict,
                          status_before="fence_virsh --password pw-8")
        allure_io.set_parameters(fault="heartbeat-block", target="node02")
        allure_io.render_run(result, "svc", tmp_path, secrets=["pw-8"])
        return result
    return run

def test_inner(failover) -> None:
    result = failover()
    if not result.judgement.ok:
        pytest.fail(result.judgement.message(), pytrace=False)
'''


def test_with_the_real_allure_pytest_listener(tmp_path: Path) -> None:
    """What allure-pytest writes for a failed verdict: the test's own body carries the description,
    the picture and budget table at the top, one step per phase and check; no fixture noise."""
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
           "--rootdir", str(tmp_path), f"--alluredir={results}", str(tmp_path / "test_inner.py")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    (result_file,) = results.glob("*-result.json")
    result = json.loads(result_file.read_text())
    assert result["status"] == "failed"
    assert result["statusDetails"]["message"].startswith("Failed: TOO SLOW: detect never observed")
    assert result["description"].startswith(
        "Fault heartbeat-block injected on node02 (standby) of the pacemaker cluster.")
    assert "Verdict: TOO SLOW: detect never observed" in result["description"]
    parameters = {p["name"]: p["value"] for p in result["parameters"]}
    assert parameters == {"fault": "heartbeat-block", "target": "node02"}
    names = [a["name"] for a in result["attachments"]]
    assert names[:2] == ["timeline", "budget table"]
    assert {"verdict", "oracle reasoning", "timeline.json"} <= set(names)
    steps = [(s["name"], s["status"]) for s in result["steps"]]
    assert steps[0] == ("detect not observed (window 1.0–5.0 s): missing", "failed")
    assert ("safety: never two owners: ok", "passed") in steps
    assert ("safety: no start elsewhere before the owner is fenced or stopped: ok", "passed") in steps
    assert ("fenced: the predicted victim and only it: ok", "passed") in steps
    assert all(s["attachments"] for s in result["steps"])  # each step carries its evidence
    for container in results.glob("*-container.json"):
        entries = [*json.loads(container.read_text()).get("befores", []),
                   *json.loads(container.read_text()).get("afters", [])]
        assert not any("<lambda>" in e["name"] for e in entries), entries
    for path in results.iterdir():
        assert b"pw-8" not in path.read_bytes()


def test_a_failure_message_is_redacted_before_allure_writes_it(tmp_path: Path) -> None:
    """allure-pytest writes the message from the exception itself, not from the redacted pytest
    report; the redactor runs before allure's own file logger, on the same result."""
    from allure_commons.logger import AllureFileLogger
    from allure_commons.model2 import Status, StatusDetails, TestResult, TestStepResult

    redactor = allure_io.AllureRedactor(lambda: ["pw-9"])
    writer = AllureFileLogger(str(tmp_path))
    allure_commons.plugin_manager.register(writer)
    allure_commons.plugin_manager.register(redactor)
    try:
        step_ = TestStepResult(name="login --password pw-9", status=Status.FAILED,
                               statusDetails=StatusDetails(message="fence_virsh -p pw-9 failed"))
        result = TestResult(uuid="u1", name="t", status=Status.FAILED, steps=[step_],
                            statusDetails=StatusDetails(message="LabError: ssh -p pw-9", trace="passwd=pw-9"))
        allure_commons.plugin_manager.hook.report_result(result=result)
    finally:
        allure_commons.plugin_manager.unregister(redactor)
        allure_commons.plugin_manager.unregister(writer)
    written = "".join(p.read_text() for p in tmp_path.glob("*-result.json"))
    assert written
    assert "pw-9" not in written
    assert MASK in written
