"""The mutant catalogue is data: each entry must name a real fault, a real category, and touch
only what the seed design really deploys (a mutant aimed at an id that does not exist would
change nothing and "fail" for a reason of its own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from halab.deploy.pacemaker import design_of
from halab.errors import SpecError
from halab.faults import REGISTRY
from halab.mutants import catalogue
from halab.spec import load_spec

CATEGORIES = ("WRONG OUTCOME", "UNSAFE", "TOO SLOW", "TOO EARLY", "NO EVIDENCE")


def test_pacemaker_catalogue_has_eight_distinct_mistakes() -> None:
    mutants = catalogue("pacemaker")
    assert len(mutants) >= 8
    assert len({m.id for m in mutants}) == len(mutants)


@pytest.mark.parametrize("entry", catalogue("pacemaker"), ids=lambda m: m.id)
def test_mutant_names_a_real_fault_and_category(entry) -> None:  # type: ignore[no-untyped-def]
    assert entry.fault in REGISTRY
    assert entry.expect in CATEGORIES


@pytest.mark.parametrize("entry", catalogue("pacemaker"), ids=lambda m: m.id)
def test_mutant_touches_ids_the_seed_design_deploys(entry) -> None:  # type: ignore[no-untyped-def]
    cib = design_of(load_spec("seed")).cib_xml.decode()  # the CIB as deployed on the lab
    for cmd in entry.apply:
        for ref in re.findall(r"(?:--resource |id=')([\w-]+)", cmd):
            if ref.startswith("mutant-"):
                continue  # a constraint the mutant itself creates
            assert f"'{ref}'" in cib or f'"{ref}"' in cib, f"{entry.id}: {ref} is not in the seed CIB"


def test_a_bad_catalogue_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pacemaker.toml").write_text('[[mutant]]\nid = "x"\nfault = "suspend"\n')
    with pytest.raises(SpecError, match="missing key"):
        catalogue("pacemaker", tmp_path)
    (tmp_path / "pacemaker.toml").write_text('[[mutant]]\nid = "x"\nbogus = 1\n')
    with pytest.raises(SpecError, match="unknown key"):
        catalogue("pacemaker", tmp_path)
    with pytest.raises(SpecError, match="no mutant catalogue"):
        catalogue("rgmanager", tmp_path)


def test_effect_pattern_matches_the_wording_of_a_failure() -> None:
    m = next(m for m in catalogue("pacemaker") if m.id == "standby-banned")
    assert m.explains("WRONG OUTCOME: expected service01 on node02, observed service01 stopped on None")
    assert not m.explains("TOO SLOW: detect never observed")
