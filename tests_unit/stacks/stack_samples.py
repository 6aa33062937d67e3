"""Where the real output samples live (../shared/samples, never copied here) and how to read one.

Each sample file starts with two provenance lines (# SOURCE, # VERBATIM); readers get the body.
Without ../shared the sample tests skip and say why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "samples"
NO_SAMPLES = f"{SAMPLES} is absent: the real samples live outside the repo (CI has them)"


def body(rel: str) -> str:
    """The sample's output as the tool printed it (provenance lines dropped); skips if absent."""
    path = SAMPLES / rel
    if not path.is_file():
        pytest.skip(NO_SAMPLES if not SAMPLES.is_dir() else f"{path} is missing")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[0].startswith("# SOURCE"), f"{rel}: no provenance lines"
    assert lines[1].startswith("# VERBATIM"), f"{rel}: no provenance lines"
    return "".join(lines[2:])


def all_samples() -> list[str]:
    """Every sample file, as a path relative to the samples directory."""
    if not SAMPLES.is_dir():
        return []
    return sorted(str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*.txt"))
