"""Broken designs get an honest answer: "blocked" with the reason, or a clear error (exit 2);
never a confident take-over, never a traceback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from oracle_cases import seed

from halab.cli import main
from halab.errors import ConfigError
from halab.oracle import predict
from halab.oracle.model import BLOCKED
from halab.spec import LabSpec

CONFS = Path(__file__).resolve().parents[1] / "data" / "clusterconf"
SEED_CONF = Path(__file__).resolve().parents[2] / "labs" / "seed" / "cluster.conf"


def with_conf_file(path: Path) -> LabSpec:
    spec = seed()
    stacks = dict(spec.stacks)
    stacks["rgmanager"] = {**stacks["rgmanager"], "cluster_conf": str(path)}
    return replace(spec, stacks=stacks)


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = SEED_CONF.read_text()
    assert old in text
    path = tmp_path / "cluster.conf"
    path.write_text(text.replace(old, new))
    return path


def test_no_fence_method_blocks_recovery_instead_of_a_takeover() -> None:
    spec = with_conf_file(CONFS / "fencing-no-method.conf")  # node02h has no fence method
    p = predict(spec, "suspend", "node02", {"service01": "node02"}, stack="rgmanager", qdisk_master="node01")
    assert p.fenced == ()
    assert p.services["service01"] == BLOCKED
    assert "fence-done" not in p.windows
    assert "service-started" not in p.windows
    assert any(line.startswith("blocked: node02h has no fence method") for line in p.reasoning)
    assert all(o.fenced == () for o in p.outcomes())
    # the node that can be fenced still is
    ok = predict(spec, "suspend", "node01", stack="rgmanager", qdisk_master="node02")
    assert ok.fenced == ("node01h",)


def test_an_undefined_fence_device_blocks_recovery(tmp_path: Path) -> None:
    spec = with_conf_file(edited(tmp_path, '<device name="kvmhost01" port="RHCSvm01"/>',
                                 '<device name="nosuch" port="RHCSvm01"/>'))
    p = predict(spec, "power-off", "node01", stack="rgmanager", qdisk_master="node02")
    assert p.fenced == ()
    assert p.services["service01"] == BLOCKED
    assert any("no fence method of node01h has a defined fence device" in line for line in p.reasoning)


@pytest.mark.parametrize(("conf", "words"), [
    ("timing-token-below-10000.conf", "timing.qdisk-min-token"),
    ("votes-two-node-with-qdisk.conf", "votes.two-node"),
])
def test_a_design_the_cluster_refuses_is_an_error(conf: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        predict(with_conf_file(CONFS / conf), "suspend", "node01", stack="rgmanager")


@pytest.mark.parametrize("token", ["abc", "0", "-5"])
def test_a_token_that_is_no_positive_number_is_an_error(tmp_path: Path, token: str) -> None:
    spec = with_conf_file(edited(tmp_path, 'token="20000"', f'token="{token}"'))
    with pytest.raises(ConfigError, match="not a positive number"):
        predict(spec, "heartbeat-down", "node01", stack="rgmanager")


@pytest.mark.parametrize("token", ["abc", "-5"])
def test_halab_expect_exits_2_with_the_finding(tmp_path: Path, token: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    conf = edited(tmp_path, 'token="20000"', f'token="{token}"')
    lab = tmp_path / "lab.toml"
    text = (SEED_CONF.parent / "lab.toml").read_text()
    lab.write_text(text.replace('cluster_conf = "cluster.conf"', f'cluster_conf = "{conf}"'))
    assert f'cluster_conf = "{conf}"' in lab.read_text()
    code = main(["expect", "--lab", str(lab), "--stack", "rgmanager", "--fault", "suspend", "--target", "node01"])
    out = capsys.readouterr()
    assert code == 2
    assert "not a positive number" in out.err
    assert "Traceback" not in out.err + out.out


def _seed_with_corosync(tmp_path: Path, old: str, new: str) -> LabSpec:
    """The seed lab copied to tmp_path with one change to its corosync.conf (the design's file)."""
    import shutil

    from halab.spec import LABS_DIR, load_spec

    lab = tmp_path / "labs" / "seed"
    shutil.copytree(LABS_DIR / "seed", lab)
    conf = lab / "corosync.conf"
    assert old in conf.read_text()
    conf.write_text(conf.read_text().replace(old, new))
    return load_spec(lab / "lab.toml")


def test_two_node_comes_from_corosync_conf_and_a_word_is_an_error(tmp_path: Path) -> None:
    p = predict(_seed_with_corosync(tmp_path / "a", "two_node: 1", "two_node: 0"), "heartbeat-down", "node02")
    assert p.quorate is False  # one of two without two_node is no majority
    assert predict(seed(), "heartbeat-down", "node02").quorate is True
    with pytest.raises(ConfigError, match="two_node"):  # "no" is not read as a non-empty (true) string
        predict(_seed_with_corosync(tmp_path / "b", "two_node: 1", "two_node: no"), "heartbeat-down", "node02")


@pytest.mark.parametrize("token_ms", [0, -5])
def test_a_timing_token_of_zero_or_less_is_an_error_not_a_traceback(token_ms: int) -> None:
    spec = replace(seed(), timing=replace(seed().timing, token_ms=token_ms))
    with pytest.raises(ConfigError, match="not a positive number"):
        predict(spec, "suspend", "node01")
