"""Real live runs, judged again: each history under tests_unit/data/live/histories/ was kept by a
live run (reports/histories/, gzipped) with the verdict its name ends in (PASS, or the category in
lower case with dashes). A change to the judge that turns one of them around fails here, before it meets
a lab: the judge's regression corpus, from clusters that really ran."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from halab.observe import history_file
from halab.observe.judge import judge

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
