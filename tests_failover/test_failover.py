"""The failover suite: each fault on each target, judged against the oracle's prediction, and
the live proof that its verdicts can fail.

Under pytest-xdist each worker has a cluster (a lab) of its own, so the tests spread over the
workers one by one (xdist's default --dist load); no two tests ever share a cluster at once, and
each starts from a healthy cluster of its own worker (the restore after every fault).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import pytest

from fixtures.failover import retries_of, shown_as
from halab.lab.host import run as host_run
from halab.lab.lab import FENCE_KEY_ON_NODE
from halab.observe.hostload import Starvation
from halab.observe.judge import judge_one
from halab.observe.verdict import Category
from halab.scenario import FaultRun, LiveCluster, run_fault, with_starved_retries

pytestmark = [pytest.mark.failover, pytest.mark.lab]


class TestSeedCluster:
    def test_failover(self, failover: Callable[[str, str, str], FaultRun], fault: str, role: str,
                      target: str) -> None:
        verdict = failover(fault, role, target).judgement
        assert verdict is not None
        if not verdict.ok:  # the verdict's headline first: the report's categories match on it
            pytest.fail(verdict.message(), pytrace=False)

    @pytest.mark.slow
    def test_broken_fence_is_a_failed_verdict(self, request: pytest.FixtureRequest, cluster: LiveCluster,
                                              show_run: Callable[[FaultRun], None]) -> None:
        lab = cluster.lab
        good_key = lab.paths.fence_key.read_text()
        wrong = lab.paths.state / "wrong_fence_key"
        wrong.unlink(missing_ok=True)
        host_run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)])
        nodes = [n.name for n in lab.spec.nodes]
        back_s = 2 * lab.spec.timing.node_boot_s[1]  # a node that rebooted itself answers within this

        def put_key(text: str) -> None:
            # Measured live on rgmanager: the resumed standby had been evicted from the quorum
            # disk and rebooted itself, so the key goes on once it answers again (bounded).
            for node in nodes:
                lab.remote(node).wait_ssh(back_s)
                lab.remote(node).put_text(text, FENCE_KEY_ON_NODE, mode=0o600)

        def attempt(_k: int) -> FaultRun:
            put_key(wrong.read_text())
            try:
                return run_fault(cluster, "suspend", "standby", before_restore=lambda: put_key(good_key))
            finally:
                put_key(good_key)

        try:
            result = with_starved_retries(attempt, partial(shown_as, show_run), retries_of(request.config))
        finally:
            wrong.unlink(missing_ok=True)
            wrong.with_suffix(".pub").unlink(missing_ok=True)
        assert result.judgement is not None
        messages = [c.message for c in result.judgement.failures()]
        assert not result.judgement.ok, "a fence that cannot succeed must not pass"
        if result.judgement.host is not None and result.judgement.host.starved:
            # measured: -n 2 on 2 cores; the judge then says INCONCLUSIVE, and a proof that a
            # check fails is not made by a run whose checks were not judged
            pytest.fail(f"the broken-fence proof was not made: {result.judgement.headline()}", pytrace=False)
        assert "WRONG OUTCOME: expected fenced ['node02'], observed nobody" in messages, messages
        assert any(m.startswith("TOO SLOW: fence-done never observed") for m in messages), messages

        # The same evidence, judged against a deliberately wrong expectation, fails as well.
        wrong_pred = replace(result.prediction, services={cluster.design.service: "nowhere"}, alternatives=())
        assert result.evidence is not None
        ev_judgement = judge_one(result.timeline, wrong_pred, result.evidence)
        placement = next(c for c in ev_judgement.checks if c.name == "service placement")
        # blind placement (the survivor's last status too old) is no evidence, never a pass
        assert placement.message.startswith(("WRONG OUTCOME: expected service01 on nowhere", "NO EVIDENCE:")), \
            placement.message


    @pytest.mark.slow
    def test_a_starved_host_is_inconclusive_not_wrong(self, cluster: LiveCluster,
                                                       show_run: Callable[[FaultRun], None]) -> None:
        """CPU hogs beside the lab with the lab's qemu below them (hostload.Starvation) from the
        injection until the heal: the sentinel sees the vCPUs wait and the verdict is INCONCLUSIVE, never a wrong
        outcome. The load ends once the fault is healed, so the restore runs on a free host. An
        idle run of the same fault (test_failover) keeps the sentinel quiet."""
        starve = Starvation(tuple(n.domain for n in cluster.lab.spec.nodes), hogs=2 * (os.cpu_count() or 1),
                            nodes_dir=cluster.lab.paths.nodes)
        try:
            result = run_fault(cluster, "suspend", "standby", before_restore=starve.stop,
                               at_inject=lambda: starve.start(timeout_s=900))
        finally:
            starve.stop()
        show_run(result)
        verdict = result.judgement
        assert verdict is not None
        assert verdict.host is not None, "no CPU samples of the lab's qemu processes"
        assert verdict.host.starved, verdict.host
        wrong = (Category.WRONG_OUTCOME, Category.TOO_SLOW, Category.TOO_EARLY)
        assert not [c for c in verdict.checks if c.category in wrong], verdict.message()
        assert verdict.category is Category.INCONCLUSIVE, verdict.message()
