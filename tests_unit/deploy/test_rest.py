"""The cluster at rest before the first fault (pure logic, a recording remote)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from halab.deploy import rest
from halab.lab.host import Result


def _lab(answers: list[int]) -> tuple[Any, list[str]]:
    ran: list[str] = []

    def run(cmd: str, **_: Any) -> Result:
        ran.append(cmd)
        return Result(cmd, answers.pop(0) if answers else 0, "", "", 0.0)

    spec = SimpleNamespace(stack="pacemaker")
    return SimpleNamespace(spec=spec, remote=lambda _n: SimpleNamespace(run=run)), ran


def test_waits_until_the_stack_says_nothing_is_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rest, "POLL_S", 0.0)
    lab, ran = _lab([1, 1, 0])
    notes: list[str] = []
    assert rest.wait_at_rest(lab, "node01", notes.append)
    assert ran == ["timeout 10 crm_resource --wait"] * 3
    assert "at rest after" in notes[-1]


def test_a_cluster_busy_past_the_limit_is_taken_as_it_is_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]

    def tick() -> float:
        clock[0] += 30.0
        return clock[0]

    monkeypatch.setattr(rest.time, "monotonic", tick)
    monkeypatch.setattr(rest, "POLL_S", 0.0)
    lab, _ = _lab([1] * 100)
    notes: list[str] = []
    assert not rest.wait_at_rest(lab, "node01", notes.append)
    assert "still reports work pending" in notes[-1]
