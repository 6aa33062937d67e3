"""Real live runs, judged again: each history under tests_unit/data/live/histories/ was kept by a
live run (reports/histories/, gzipped) with the verdict its name ends in (PASS, or the category in
lower case with dashes). A change to the judge that turns one of them around fails here, before it meets
a lab: the judge's regression corpus, from clusters that really ran."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from halab.observe import history_file
from halab.observe.judge import Evidence, judge
from halab.observe.timeline import Observation, Timeline
from halab.oracle.model import Prediction

CORPUS = Path(__file__).resolve().parents[1] / "data" / "live" / "histories"
FILES = sorted(CORPUS.glob("*.json.gz"))


def expected(path: Path) -> str:
    """`...--pass.json.gz` -> "PASS"; `...--no-evidence.json.gz` -> "NO EVIDENCE"."""
    return path.name.removesuffix(".json.gz").rsplit("--", 1)[-1].replace("-", " ").upper()


def test_the_corpus_is_there() -> None:
    assert FILES, f"no kept live histories under {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=[p.name.removesuffix(".json.gz") for p in FILES])
def test_a_kept_live_run_is_judged_as_it_was(path: Path) -> None:
    verdict = judge(*history_file.load(gzip.decompress(path.read_bytes()).decode("utf-8")))
    said = verdict.category.label if verdict.category else "PASS"
    assert said == expected(path), verdict.message()


# --- evidence taken out: the judge on less than it had ------------------------------------------
# Missing evidence is never a pass. Each real history is judged again with part of it taken out
# (a source, a kind of observation, one node's polls, a 30 s slice of time, a record the nodes did
# not give back): a run that failed must never pass on less evidence, and a run that passed must
# not pass without what its verdict rests on.

def _load(path: Path) -> tuple[Timeline, Prediction, Evidence]:
    return history_file.load(gzip.decompress(path.read_bytes()).decode("utf-8"))


def _without(tl: Timeline, drop: Callable[[Observation], bool]) -> Timeline:
    out = Timeline()
    out.t0_mono, out.t0_wall = out.mono_start, tl.t0_wall
    for o in tl.items():
        if not drop(o):
            out.add(o)
    return out


def _said(tl: Timeline, pred: Prediction, ev: Evidence) -> str:
    verdict = judge(tl, pred, ev)
    return verdict.category.label if verdict.category else "PASS"


def _takeouts(tl: Timeline) -> dict[str, Callable[[Observation], bool]]:
    items = tl.items()
    out: dict[str, Callable[[Observation], bool]] = {}
    for source in sorted({o.source for o in items}):
        out[f"every {source} observation"] = lambda o, s=source: o.source == s
    for kind in sorted({(o.source, o.kind) for o in items}):
        out[f"every {kind[0]} {kind[1]}"] = lambda o, k=kind: (o.source, o.kind) == k
    for node in sorted({o.node for o in items if o.node}):
        out[f"the polls of {node}"] = lambda o, n=node: o.source == "poll" and o.node == n
    end = max(o.t for o in items)
    for start in range(0, int(end), 30):
        out[f"{start}-{start + 30} s"] = lambda o, a=start: o.source != "harness" and a <= o.t < a + 30
    return out


FAILED_RUNS = [p for p in FILES if expected(p) != "PASS"]
PASSED_RUNS = [p for p in FILES if expected(p) == "PASS"]


@pytest.mark.parametrize("path", FAILED_RUNS, ids=[p.name.removesuffix(".json.gz") for p in FAILED_RUNS])
def test_a_failed_run_never_passes_on_less_evidence(path: Path) -> None:
    tl, pred, ev = _load(path)
    passed = [what for what, drop in _takeouts(tl).items() if _said(_without(tl, drop), pred, ev) == "PASS"]
    assert not passed, f"judged PASS once these were taken out: {passed}"


# What every verdict rests on, whatever the fault: the fault's own marks, the poller, the
# hypervisor's events, the host sampler, and the records the nodes give back.
ESSENTIAL = ("every harness observation", "every poll observation", "every poll status", "every libvirt observation",
             "every host observation")
UNREAD = {"fence history unread": {"fence_history": None}, "records not read back": {"records_after": None},
          "no node's fence record read": {"fence_history_unread": ("node01", "node02")}}


@pytest.mark.parametrize("path", PASSED_RUNS, ids=[p.name.removesuffix(".json.gz") for p in PASSED_RUNS])
def test_a_passed_run_does_not_pass_without_what_it_rests_on(path: Path) -> None:
    tl, pred, ev = _load(path)
    takeouts = _takeouts(tl)
    judged_against = judge(tl, pred, ev).prediction  # an alternative's, where the run took one
    # a lone survivor's polls are all there is; with two (nobody fenced), either one's polls show
    # the cluster, so the run rests on the polls together ("every poll observation")
    survivors = sorted(set(judged_against.members_after) - set(judged_against.fenced))
    rests_on = [*ESSENTIAL, *([f"the polls of {survivors[0]}"] if len(survivors) == 1 else [])]
    if judged_against.fenced:  # a fence is shown by its reset
        rests_on += ["every libvirt lifecycle"]
    passed = [what for what in rests_on if _said(_without(tl, takeouts[what]), pred, ev) == "PASS"]
    assert not passed, f"still PASS without: {passed}"
    if judged_against.fenced:  # and its fencer by its success line or the fence record (rgmanager has both)
        no_fencer = _without(tl, takeouts["every log fence-success"])
        assert _said(no_fencer, pred, replace(ev, fence_history=())) != "PASS", "still PASS without who fenced"
    for what, change in UNREAD.items():
        assert _said(tl, pred, replace(ev, **change)) == "NO EVIDENCE", what  # type: ignore[arg-type]
