"""`halab check-config`: output lines and exit codes 0 / 1 / 2, run in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from halab.cli import main

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "labs" / "seed" / "cluster.conf"
DATA = REPO / "tests_unit" / "data" / "clusterconf"
LINE = re.compile(r"^(error|warning) [a-z]+\.[a-z0-9-]+ \S+\((\d+|\?)\): \S.*$")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check-config", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_seed_exits_0_with_no_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(SEED))
    assert (code, out) == (0, "")
    assert "0 error(s), 0 warning(s)" in err
    assert "lab seed" in err


def test_error_finding_exits_1_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(DATA / "fencing-over-heartbeat.conf"))
    assert code == 1
    lines = out.splitlines()
    assert lines
    assert all(LINE.match(line) for line in lines)
    assert lines[0].startswith("error fencing.heartbeat-path fencedevice[kvmhost01](29): ")


def test_warnings_only_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(DATA / "timing-token-under-2x-qdisk.conf"))
    assert code == 0
    assert out.startswith("warning timing.token-vs-qdisk totem(")


@pytest.mark.parametrize(("args", "needle"), [
    (["{tmp}/absent.conf"], "no such file"),
    (["{tmp}/notxml.conf"], "not XML"),
    (["{seed}", "--lab", "no-such-lab"], "no lab spec"),
    (["{seed}", "--schema", "{tmp}/absent.rng"], "no such schema"),
])
def test_unusable_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                              args: list[str], needle: str) -> None:
    (tmp_path / "notxml.conf").write_text("[cluster]\nname = 'toml?'\n")
    code, out, err = _run(capsys, *(a.format(tmp=tmp_path, seed=SEED) for a in args))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert needle in err
    assert err.startswith("halab check-config: ")
    assert "Traceback" not in err


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    lab = str(REPO / "labs" / "seed")
    code, out, _ = _run(capsys, str(DATA / "votes-expected-4.conf"), "--json", "--lab", lab)
    doc = json.loads(out)
    assert code == 1
    assert doc["lab"] == "seed"
    assert doc["derived"]["qdisk"]["min_token_ms"] == 18000
    assert doc["errors"] == len(
        [f for f in doc["findings"] if f["severity"] == "error"]) >= 1
    assert doc["findings"][0] == {"rule": "votes.expected", "severity": "error", "element": "cman", "line": 5,
                                  "reason": doc["findings"][0]["reason"]}


def test_schema_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(DATA / "schema-unknown-attribute.conf"), "--schema",
                        str(DATA / "tiny-cluster.rng"))
    assert code == 1
    assert "error schema.relaxng " in out


def test_secrets_never_reach_the_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = SEED.read_text().replace('identity_file="/root/.ssh/halab_fence"', 'passwd="hunter2-secret"')
    text = text.replace('ipaddr="192.168.8.1"', 'ipaddr="192.168.9.1"')
    (tmp_path / "cluster.conf").write_text(text)
    for extra in ([], ["--json"]):
        code, out, err = _run(capsys, str(tmp_path / "cluster.conf"), *extra)
        assert code == 1
        assert "hunter2" not in out + err
