"""The catalogue of broken clusters, judged live: every mutant must come out FAILED, with its
expected category, for the right reason (a failing message names the mistake's effect).

A mutant that passes means the judge cannot see that mistake: that is a failure of halab.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from halab.mutants import Mutant
from halab.scenario import FaultRun

pytestmark = [pytest.mark.mutants, pytest.mark.lab]


class TestMutants:
    def test_mutant_fails(self, mutant: Mutant, mutated_run: Callable[[Mutant], FaultRun]) -> None:
        run = mutated_run(mutant)
        assert run.judgement is not None, "no verdict was produced"
        failures = run.judgement.failures()
        assert failures, f"{mutant.id}: the judge passed a cluster with this mistake: {mutant.mistake}"
        categories = [c.category.label for c in failures if c.category is not None]
        assert mutant.expect in categories, (
            f"{mutant.id}: expected a {mutant.expect} verdict, got {categories}: "
            + "; ".join(c.message for c in failures))
        right = [c for c in failures
                 if c.category is not None and c.category.label == mutant.expect and mutant.explains(c.message)]
        assert right, (f"{mutant.id}: {mutant.expect} but not for the mistake's effect /{mutant.effect}/: "
                       + "; ".join(c.message for c in failures))
        unmet = mutant.unmet(run.judgement.checks)
        assert not unmet, (f"{mutant.id}: {mutant.expect} as catalogued, but the run never reached the point where "
                           f"the mistake matters: " + "; ".join(unmet))
