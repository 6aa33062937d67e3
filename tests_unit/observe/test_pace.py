"""The poll pace: the profile's interval stands on a quiet host, widens (up to half the token) where
the polls' own load starves the lab at rest, and every reader gets the same interval (pure logic:
the trials are given, not measured)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from halab.observe.hostload import lag_bound
from halab.observe.pace import REST_SHARE_OF_BOUND, Pace, Trial, choose, next_interval, rest
from halab.observe.timeline import Observation
from halab.oracle.predict import predict, token_ms
from halab.spec import load_spec


def _trials(waits: dict[float, float | None]) -> tuple[Callable[[float, float], Trial], list[tuple[float, float]]]:
    asked: list[tuple[float, float]] = []

    def trial(interval: float, seconds: float) -> Trial:
        asked.append((interval, seconds))
        return Trial(interval, waits[interval], "node01")

    return trial, asked


def _web3_seed_timing():  # type: ignore[no-untyped-def]
    return load_spec("web3").timing  # token 10 s: bound 2 s, allowed at rest 1 s, cap 5 s


def test_a_quiet_host_keeps_the_profiles_interval_after_one_trial() -> None:
    """The seed's two guests at 1 s polls waited 6-9 % of a stretch at rest: nothing changes."""
    timing = _web3_seed_timing()
    trial, asked = _trials({1.0: 0.8})
    pace = choose(timing.poll_interval_s, timing.token_ms, trial, progress=lambda _m: None)
    assert pace.interval_s == 1.0 == pace.profile_s
    assert [a[0] for a in asked] == [1.0]
    assert asked[0][1] == 2 * 10.0 + 1.0  # two token-long stretches and one poll round


def test_polls_that_starve_the_lab_at_rest_are_spread_until_the_lab_is_quiet() -> None:
    """Measured on web3 (three TCG guests, 2 cores): 1 s polls, waits 50 %; 3 s, 17-20 %; 5 s, 7-8 %."""
    timing = _web3_seed_timing()
    trial, asked = _trials({1.0: 5.0, 2.0: 3.0, 4.0: 0.9})
    pace = choose(timing.poll_interval_s, timing.token_ms, trial, progress=lambda _m: None)
    assert [a[0] for a in asked] == [1.0, 2.0, 4.0]
    assert pace.interval_s == 4.0
    assert "not the profile's 1 s" in pace.text()
    assert "still waits" not in pace.text()


def test_never_more_rarely_than_half_a_token_and_a_host_still_loaded_there_is_said() -> None:
    timing = _web3_seed_timing()
    trial, asked = _trials({1.0: 5.0, 2.0: 4.0, 4.0: 3.0, 5.0: 2.5})
    pace = choose(timing.poll_interval_s, timing.token_ms, trial, progress=lambda _m: None)
    assert [a[0] for a in asked] == [1.0, 2.0, 4.0, 5.0]
    assert pace.interval_s == 5.0 == pace.cap_s
    assert "still waits 2.50 s at rest at the cap of 5 s: the host-load sentinel will judge each run" in pace.text()


def test_no_measurement_is_no_reason_to_look_less_often() -> None:
    assert next_interval(Trial(1.0, None), bound_s=2.0, cap_s=5.0) is None


def test_the_threshold_is_half_the_sentinels_bound() -> None:
    bound, _ = lag_bound(10000)
    at = REST_SHARE_OF_BOUND * bound
    assert next_interval(Trial(1.0, at), bound, 5.0) is None
    assert next_interval(Trial(1.0, at + 0.01), bound, 5.0) == 2.0


def test_the_paced_interval_is_what_the_oracle_widens_its_windows_by() -> None:
    """One fact, read by everyone: the windows close the paced interval later than at 1 s."""
    spec = load_spec("seed")
    paced = Pace(4.0, 1.0, 2.0, 5.0, (Trial(1.0, 5.0), Trial(4.0, 0.5))).applied(spec)
    assert paced.timing.poll_interval_s == 4.0
    assert dataclasses.replace(paced.timing, poll_interval_s=1.0) == spec.timing
    before = predict(spec, "suspend", "node01").windows
    after = predict(paced, "suspend", "node01").windows
    assert before.keys() == after.keys()
    assert all(after[p].latest == before[p].latest + 3.0 for p in before)
    assert all(after[p].earliest == before[p].earliest for p in before)


def _host(node: str, cumulative: list[float], start: float) -> list[Observation]:
    return [Observation(start + i, "host", node, "cpu", f"run_delay_s={c} vcpus=1 pid=9")
            for i, c in enumerate(cumulative)]


FAST_TOKEN_MS = 5000  # bound 1.00 s per 5 s stretch: at rest while at most 0.50 s


def test_rest_is_not_claimed_before_the_samples_span_a_token() -> None:
    got = rest(_host("node01", [0.0, 0.01, 0.02], start=-2.0), now=0.0, token_ms=FAST_TOKEN_MS)
    assert got.lag_s is None
    assert not got.at_rest
    assert "not measured" in got.text()


def test_the_observers_start_up_burst_is_not_rest_until_a_quiet_stretch_follows() -> None:
    """The CI case: 1.12 s of wait in the stretch before t0 made a clean run INCONCLUSIVE."""
    burst = [0.0, 0.01, 0.02, 0.6, 1.15, 1.16]  # 1.1 s of wait in two seconds, then quiet
    quiet = [1.16 + 0.01 * i for i in range(1, 7)]
    items = _host("node01", burst + quiet, start=-5.0)
    during = rest(items, now=0.0, token_ms=FAST_TOKEN_MS)
    assert during.lag_s == pytest.approx(1.16)
    assert not during.at_rest
    after = rest(items, now=6.0, token_ms=FAST_TOKEN_MS)
    assert after.at_rest
    assert after.lag_s is not None
    assert after.lag_s <= REST_SHARE_OF_BOUND * lag_bound(FAST_TOKEN_MS)[0]


def test_rest_takes_the_worst_node() -> None:
    items = [*_host("node01", [0.0] * 7, start=-6.0), *_host("node02", [0.0, 0.0, 0.0, 0.3, 0.6, 0.6, 0.6], start=-6.0)]
    got = rest(items, now=0.0, token_ms=FAST_TOKEN_MS)
    assert got.lag_s == pytest.approx(0.6)
    assert not got.at_rest


def test_the_pace_and_the_sentinel_read_one_token_the_design_s() -> None:
    """web3's three nodes: corosync 3 adds 650 ms per node past two, so the sentinel's bound is
    2.13 s, not the profile's 2.00 s; the pace's trials are that token long too."""
    web3 = load_spec("web3")
    assert token_ms(web3) == web3.timing.token_ms + 650
    assert token_ms(web3) == predict(web3, "suspend", "node02").token_ms
    seed = load_spec("seed")
    for stack in ("pacemaker", "rgmanager"):
        assert token_ms(seed, stack) == predict(seed, "suspend", "node01", stack=stack).token_ms
