"""Properties of every prediction: windows ordered, non-negative, monotone in token, tko and delays."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle_cases import CHAIN, bare, check_windows, rg_bare, seed, seed_design, with_pcmk, with_timing

from halab.errors import NotApplicable
from halab.faults import REGISTRY
from halab.oracle import Prediction
from halab.oracle.rgdesign import RgDesign

FAULTS = tuple(REGISTRY)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NODE_FAULTS = (
    "heartbeat-down",
    "heartbeat-block",
    "suspend",
    "power-off",
    "kill-daemon",
    "iscsi-block",
    "mgmt-cut",
)
faults = st.sampled_from(FAULTS)
targets = st.sampled_from(("node01", "node02"))


def pcmk(token_ms: int, delay: float, fault: str, target: str) -> Prediction | None:
    spec = with_pcmk(with_timing(seed(), token_ms=token_ms), fence_delay_s=delay)
    try:
        return bare(spec, fault, target)
    except NotApplicable:
        return None


def rgm(design: RgDesign, fault: str, target: str) -> Prediction | None:
    try:
        return rg_bare(design, fault, target, qdisk_master="node01h")
    except NotApplicable:
        return None


def design(token_ms: int, consensus_ms: int, tko: int, pfd: float) -> RgDesign:
    d = seed_design()
    assert d.qdisk is not None
    return d.with_(
        token_ms=token_ms, consensus_ms=consensus_ms, post_fail_delay_s=pfd, qdisk=replace(d.qdisk, tko=tko)
    )


def no_earlier(a: Prediction, b: Prediction) -> None:
    """Every phase of ``b`` (the slower cluster) is no earlier than in ``a``."""
    assert a.windows.keys() == b.windows.keys()
    for k, w in a.windows.items():
        assert b.windows[k].earliest >= w.earliest - 1e-9, k
        assert b.windows[k].latest >= w.latest - 1e-9, k


@FAST
@given(st.integers(1000, 60000), st.floats(0, 30), faults, targets)
def test_pacemaker_windows_are_well_formed(token: int, delay: float, fault: str, target: str) -> None:
    p = pcmk(token, delay, fault, target)
    if p is not None:
        check_windows(p)


@FAST
@given(
    st.integers(10000, 60000), st.integers(200, 30000), st.integers(3, 20), st.floats(0, 30), faults, targets
)
def test_rgmanager_windows_are_well_formed(
    token: int, consensus: int, tko: int, pfd: float, fault: str, target: str
) -> None:
    p = rgm(design(token, consensus, tko, pfd), fault, target)
    if p is not None:
        check_windows(p)


@FAST
@given(st.integers(1000, 50000), st.integers(0, 10000), st.sampled_from(NODE_FAULTS), targets)
def test_pacemaker_monotone_in_token(token: int, more: int, fault: str, target: str) -> None:
    a, b = pcmk(token, 8, fault, target), pcmk(token + more, 8, fault, target)
    assert a is not None
    assert b is not None
    no_earlier(a, b)


@FAST
@given(st.floats(0, 20), st.floats(0, 20), st.sampled_from(("suspend", "power-off")), targets)
def test_pacemaker_monotone_in_fence_delay(delay: float, more: float, fault: str, target: str) -> None:
    a, b = pcmk(20000, delay, fault, target), pcmk(20000, delay + more, fault, target)
    assert a is not None
    assert b is not None
    no_earlier(a, b)


@FAST
@given(
    st.integers(10000, 40000),
    st.integers(0, 10000),
    st.integers(200, 20000),
    st.integers(3, 12),
    st.floats(0, 20),
    st.sampled_from(NODE_FAULTS),
    targets,
)
def test_rgmanager_monotone_in_token_and_consensus(
    token: int, more: int, consensus: int, tko: int, pfd: float, fault: str, target: str
) -> None:
    base = rgm(design(token, consensus, tko, pfd), fault, target)
    assert base is not None
    no_earlier(base, rgm(design(token + more, consensus, tko, pfd), fault, target) or base)
    no_earlier(base, rgm(design(token, consensus + more, tko, pfd), fault, target) or base)


@FAST
@given(
    st.integers(3, 15),
    st.integers(0, 5),
    st.floats(0, 20),
    st.floats(0, 20),
    st.sampled_from(("suspend", "iscsi-block", "kill-daemon")),
    targets,
)
def test_rgmanager_monotone_in_tko_and_post_fail_delay(
    tko: int, more: int, pfd: float, pfd_more: float, fault: str, target: str
) -> None:
    base = rgm(design(20000, 2000, tko, pfd), fault, target)
    assert base is not None
    no_earlier(base, rgm(design(20000, 2000, tko + more, pfd), fault, target) or base)
    no_earlier(base, rgm(design(20000, 2000, tko, pfd + pfd_more), fault, target) or base)


def test_chain_is_what_the_properties_check() -> None:
    assert ("detect", "fence-requested") in CHAIN
