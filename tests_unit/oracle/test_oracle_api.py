"""The oracle's public surface: types, JSON shape, errors, and `halab expect`."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError

import pytest
from oracle_cases import DATA, seed

from halab.cli import main
from halab.errors import NotApplicable, SpecError
from halab.faults import REGISTRY
from halab.oracle import PHASES, Prediction, Slack, Window, predict
from halab.oracle.timeline import Span


def test_faults_are_the_issue_list() -> None:
    assert tuple(REGISTRY) == (
        "heartbeat-down",
        "heartbeat-block",
        "iscsi-block",
        "iscsi-block-both",
        "suspend",
        "power-off",
        "kill-daemon",
        "service-nic-down",
        "mgmt-cut",
        "app-failure",
        "qnetd-block",
    )
    assert PHASES == (
        "detect",
        "fence-requested",
        "fence-done",
        "service-started",
        "node-rejoined",
        "fail-back",
    )


def test_window_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="bad window"):
        Window(5.0, 1.0)
    with pytest.raises(ValueError, match="bad window"):
        Window(-1.0, 1.0)
    assert Window(1.0, 2.0).contains(1.5)


def test_span_arithmetic() -> None:
    assert Span(1, 2) + Span(3, 4) == Span(4, 6)
    assert Span(1, 2) + 1 == Span(2, 3)
    assert Span(1, 2).widen(5) == Span(1, 7)
    assert Slack.none().window(Span(1, 2)) == Window(1, 2)
    assert Slack(early_s=2, observe_s=1).window(Span(1, 2)) == Window(0, 3)


def test_prediction_is_frozen() -> None:
    p = predict(seed(), "suspend", "node02")
    with pytest.raises(FrozenInstanceError):
        p.fenced = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.services["service01"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        p.windows["detect"] = Window(0, 1)  # type: ignore[index]


def test_json_shape() -> None:
    p = predict(seed(), "suspend", "node01")
    j = p.to_json()
    assert j["fenced"] == ["node01"]
    assert j["services"] == {"service01": "node02"}
    assert j["quorate"] is True
    assert set(j["windows"]) == set(p.windows)
    assert all(isinstance(v, list) and len(v) == 2 for v in j["windows"].values())
    assert j["reasoning"]
    assert all(isinstance(r, str) for r in j["reasoning"])
    json.dumps(j)


def test_acceptable_nodes_serialise_as_a_list() -> None:
    p = predict(seed(), "heartbeat-down", "node01", stack="rgmanager")
    alt = Prediction(**{**p.__dict__, "services": {"service01": ("a", "b")}, "alternatives": ()})
    assert alt.to_json()["services"] == {"service01": ["a", "b"]}


def test_reasoning_carries_formulas_and_numbers() -> None:
    text = " ".join(predict(seed(), "heartbeat-down", "node02").reasoning)
    assert "T = 20000 ms" in text
    assert "1.2·T" in text
    text = " ".join(predict(seed(), "suspend", "node02", stack="rgmanager").reasoning)
    assert "K = 10" in text
    assert "(K..K+2)·I" in text


def test_unknown_fault_and_node() -> None:
    with pytest.raises(NotApplicable):
        predict(seed(), "meteor", "node01")
    with pytest.raises(SpecError):
        predict(seed(), "suspend", "node09")


def test_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["expect", "--fault", "suspend", "--target", "node02h"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pacemaker: suspend on node02")
    assert "fence-done" in out


def test_cli_json_rgmanager(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "expect",
                "--stack",
                "rgmanager",
                "--fault",
                "suspend",
                "--target",
                "node02",
                "--qdisk-master",
                "node01",
                "--json",
            ]
        )
        == 0
    )
    j = json.loads(capsys.readouterr().out)
    assert j["fenced"] == ["node02h"]
    assert j["services"] == {"service01": "node01h"}


def test_cli_owner_and_timing(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "expect",
                "--timing",
                "fast",
                "--fault",
                "suspend",
                "--target",
                "node02",
                "--owner",
                "node02",
                "--json",
            ]
        )
        == 0
    )
    j = json.loads(capsys.readouterr().out)
    assert j["services"] == {"service01": "node01"}
    # fast profile: token 5 s, less one token hold and the measured ring pass (0.7 s), less the
    # 0.5 s clock residue
    assert j["windows"]["detect"][0] == pytest.approx(5.0 * (1 - 0.8 / 4.2) - 0.7 - 0.5, abs=1e-3)


def test_cli_lab_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["expect", "--lab", str(DATA / "three"), "--fault", "suspend", "--target", "node03"]) == 0
    assert "node03" in capsys.readouterr().out


def test_cli_not_applicable_exits_3_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["expect", "--fault", "app-failure", "--target", "node02"]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "does not run on node02" in err


def test_the_prediction_names_the_token_the_design_runs() -> None:
    """The host-load sentinel's bound is a fifth of the token the cluster runs: the rgmanager fast
    profile runs cluster.conf's 10 s (its profile override), not the pacemaker profile's 5 s."""
    from halab.spec import load_spec

    spec = load_spec("seed")
    fast = spec.with_timing("fast")
    assert predict(fast, "suspend", "node02").token_ms == 5000
    assert predict(spec, "suspend", "node02").token_ms == 20000
    assert predict(fast, "suspend", "node02", stack="rgmanager").token_ms == 10000
