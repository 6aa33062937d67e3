"""`halab parse KIND FILE [--json] [--stack S]` as ops use it on collected outputs (issue 3, CLI)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from halab.cli import main


def _samples_helper() -> ModuleType:
    """tests_unit/stacks/stack_samples.py (where the samples are, which kind each one is)."""
    path = Path(__file__).resolve().parent / "stacks" / "stack_samples.py"
    spec = importlib.util.spec_from_file_location("halab_stack_samples", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLES = _samples_helper()

CLUSTAT = """[root@alpha ~]# clustat
Cluster Status for labclu @ Tue Mar  3 10:11:12 2026
Member Status: Quorate

 Member Name                             ID   Status
 ------ ----                             ---- ------
 alpha-hb                                    1 Online, Local, rgmanager
 beta-hb                                     2 Offline

 Service Name                   Owner (Last)                   State
 ------- ----                   ----- ------                   -----
 service:web                    alpha-hb                       started
 service:db                     (none)                         disabled
"""
CMAN = "Expected votes: 3\nQuorum device votes: 1\nTotal votes: 2\nNode votes: 1\nQuorum: 2  \n"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["parse", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _file(tmp_path: Path, text: str, name: str = "out.txt") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_status_json_has_the_promised_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "clustat", _file(tmp_path, CLUSTAT), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["quorate"] is True
    assert [(m["name"], m["online"]) for m in doc["members"]] == [("alpha-hb", True), ("beta-hb", False)]
    assert [(s["name"], s["state"], s["owner"]) for s in doc["services"]] == [
        ("web", "started", "alpha-hb"), ("db", "disabled", None)]


def test_votes_json_has_the_promised_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "cman-status", _file(tmp_path, CMAN), "--json")
    doc = json.loads(out)
    assert code == 0
    assert {k: doc[k] for k in ("quorate", "expected_votes", "total_votes", "quorum")} == {
        "quorate": True, "expected_votes": 3, "total_votes": 2, "quorum": 2}
    assert doc["device_votes"] == 1


def test_plain_output_is_a_short_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "clustat", _file(tmp_path, CLUSTAT))
    assert code == 0
    assert "quorate: yes" in out
    assert "service web: started on alpha-hb" in out


@pytest.mark.parametrize(("kind", "text", "where"), [
    ("clustat-xml", "<clustat><nodes>", "clustat-xml line 1"),
    ("cman-status", "Expected votes: 3\nTotal votes: x\nQuorum: 2\n", "cman-status line 2"),
    ("crm-mon", "Online: [ node01\n", "crm-mon line 1"),
    ("syslog", "not a log at all\n", "syslog line 1"),
    ("tgt-show", "Target 1: iqn.x\n    LUN information:\n        LUN: 1\n", "tgt-show"),
])
def test_unusable_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str,
                                              text: str, where: str) -> None:
    code, out, err = _run(capsys, kind, _file(tmp_path, text), "--json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"halab parse: {where}")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "clustat", str(tmp_path / "nope.txt"))
    assert code == 2
    assert "cannot read" in err


def test_syslog_with_stack_year_and_reporter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = "Nov 26 11:00:22 fenced fencing node node02h\nNov 26 11:00:27 fenced fence node02h success\n"
    code, out, _ = _run(capsys, "syslog", _file(tmp_path, log), "--stack", "rgmanager", "--year", "2026",
                        "--reporter", "node01", "--json")
    assert code == 0
    events = json.loads(out)["events"]
    assert [(e["kind"], e["node"], e["reporter"], e["time"]) for e in events] == [
        ("fence-requested", "node02h", "node01", "2026-11-26T11:00:22"),
        ("fence-success", "node02h", "node01", "2026-11-26T11:00:27")]


def test_latin1_file_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(CLUSTAT.replace(" alpha-hb      ", " alpha-hb\xa0     ").encode("latin-1"))
    code, out, _ = _run(capsys, "clustat", str(path), "--json")
    assert code == 0
    assert json.loads(out)["members"][0]["name"] == "alpha-hb"


def test_list_results_go_under_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "Node  Sts   Inc   Joined               Name\n   1   M    652   2026-03-03 10:01:02  alpha-hb\n"
    code, out, _ = _run(capsys, "cman-nodes", _file(tmp_path, text), "--json")
    assert code == 0
    assert json.loads(out)["members"][0]["name"] == "alpha-hb"


CASES = [
    pytest.param(rel, kind, id=f"{kind}:{rel}")
    for rel in SAMPLES.all_samples()
    for kind in SAMPLES.kinds_of(rel)
] or [pytest.param("", "", marks=pytest.mark.skip(reason=SAMPLES.NO_SAMPLES), id="no-samples")]


@pytest.mark.samples
@pytest.mark.parametrize(("rel", "kind"), CASES)
def test_every_sample_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], rel: str,
                                      kind: str) -> None:
    code, out, err = _run(capsys, kind, _file(tmp_path, SAMPLES.body(rel)), "--json", "--year", "2020")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    if kind in ("clustat", "clustat-xml", "crm-mon", "crm-mon-xml", "pcs-status"):
        assert doc["quorate"] in (True, False, None)
        assert all({"name", "online"} <= set(m) for m in doc["members"])
        assert all({"name", "state", "owner"} <= set(s) for s in doc["services"])
        assert all(not s["name"].startswith("service:") and s["state"] == s["state"].lower()
                   for s in doc["services"])
    if kind in ("cman-status", "quorumtool"):
        assert {"quorate", "expected_votes", "total_votes", "quorum"} <= set(doc)
