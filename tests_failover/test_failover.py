"""The failover suite: each fault on each target, judged against the oracle's prediction.

One class per cluster (xdist --dist loadscope keeps a class on one worker, so tests that disturb
the same cluster never run at the same time).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from halab.scenario import FaultRun

pytestmark = [pytest.mark.failover, pytest.mark.lab]


class TestSeedCluster:
    def test_failover(self, failover: Callable[[str, str, str], FaultRun], fault: str, role: str, target: str) -> None:
        run = failover(fault, role, target)
        assert run.judgement is not None
        failures = run.judgement.failures()
        assert not failures, "\n".join(c.message for c in failures)
