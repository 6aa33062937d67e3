"""Attaching to a lab (--reuse-lab, halab ssh/status): only a lab whose build finished (pure logic)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from halab.errors import LabError
from halab.lab import lab as labmod
from halab.spec import load_spec


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "lab.json"
    monkeypatch.setattr(labmod, "LabPaths", lambda _name: SimpleNamespace(state_file=path, netns="halab-unit"))
    monkeypatch.setattr(labmod.network, "netns_exists", lambda _ns: True)
    monkeypatch.setattr(labmod.virt, "select", lambda _paths: None)
    monkeypatch.setattr(labmod, "remotes_for", lambda _spec, _paths: {})
    return path


def test_a_half_built_lab_is_not_attached(state: Path) -> None:
    """Measured in the chaos run: a build killed while the nodes booted left phase "building";
    a --reuse-lab session attached to it and deployed onto nodes without their iSCSI sessions."""
    state.write_text(json.dumps({"phase": "building", "accel": "tcg"}))
    with pytest.raises(LabError, match="left half-built"):
        labmod.attach(load_spec("seed"))


def test_an_unreadable_state_file_is_one_clear_error(state: Path) -> None:
    state.write_text("{not json")
    with pytest.raises(LabError, match="state file unreadable"):
        labmod.attach(load_spec("seed"))


def test_a_lab_that_is_up_is_attached(state: Path) -> None:
    state.write_text(json.dumps({"phase": "up", "accel": "tcg"}))
    assert labmod.attach(load_spec("seed")).accel.kind == "tcg"
