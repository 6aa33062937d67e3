"""A run the host starved is run again (bounded), every other verdict stands at once, and every
attempt is shown (pure logic: the attempts are doubles, the verdicts real)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from halab.observe.verdict import Category, Check, Verdict, failed, passed
from halab.scenario import with_starved_retries


def _verdict(check: Check) -> Verdict:
    return Verdict(prediction=None, checks=(check,), phases=(), fenced=(), final_owner=None)  # type: ignore[arg-type]


STARVED = _verdict(failed("host: the lab got its CPU", "host", Category.INCONCLUSIVE,
                          "host starved: worst vCPU run-queue wait 1.12 s on node01"))
WRONG = _verdict(failed("service placement", "outcome", Category.WRONG_OUTCOME,
                        "expected service01 on node02"))
UNSAFE = _verdict(failed("one owner", "safety", Category.UNSAFE, "two owners"))
PASSED = _verdict(passed("service placement", "outcome", "service01 on node02"))


def _attempts(*verdicts: Verdict) -> tuple[Any, Any, list[int], list[tuple[Verdict, str | None]]]:
    asked: list[int] = []
    shown: list[tuple[Verdict, str | None]] = []

    def attempt(k: int) -> Any:
        asked.append(k)
        return SimpleNamespace(fault="suspend", target="node01", judgement=verdicts[k])

    def show(run: Any, step: str | None) -> None:
        shown.append((run.judgement, step))

    return attempt, show, asked, shown


def test_a_starved_run_is_run_again_and_the_second_verdict_is_the_test_s() -> None:
    attempt, show, asked, shown = _attempts(STARVED, PASSED)
    said: list[str] = []
    last = with_starved_retries(attempt, show, retries=1, progress=said.append)
    assert last.judgement is PASSED
    assert asked == [0, 1]
    assert shown[0][0] is STARVED
    assert shown[0][1] == ("attempt 1 of at most 2: INCONCLUSIVE: host starved: worst vCPU run-queue wait "
                           "1.12 s on node01 -- run again")
    assert shown[1] == (PASSED, None)
    assert said == ["suspend on node01: INCONCLUSIVE, the host starved the lab; running it again (1 more at most)"]


@pytest.mark.parametrize("verdict", [WRONG, UNSAFE, PASSED], ids=["wrong", "unsafe", "pass"])
def test_every_other_verdict_stands_at_once(verdict: Verdict) -> None:
    attempt, show, asked, shown = _attempts(verdict, PASSED)
    assert with_starved_retries(attempt, show, retries=3, progress=lambda _m: None).judgement is verdict
    assert asked == [0]
    assert shown == [(verdict, None)]


def test_the_retries_are_bounded_and_the_last_starved_run_is_the_test_s() -> None:
    attempt, show, asked, shown = _attempts(STARVED, STARVED, STARVED)
    assert with_starved_retries(attempt, show, retries=2, progress=lambda _m: None).judgement is STARVED
    assert asked == [0, 1, 2]
    assert [step is None for _v, step in shown] == [False, False, True]


def test_no_retries_runs_once() -> None:
    attempt, _show, asked, _shown = _attempts(STARVED, PASSED)
    assert with_starved_retries(attempt, lambda _r, _s: None, retries=0, progress=lambda _m: None).judgement is STARVED
    assert asked == [0]
