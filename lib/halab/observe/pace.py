"""How often the status poller may ask: measured on the deployed lab at rest, once per session.

Why: the observer must not starve the cluster it judges. Under TCG one status poll (an SSH exec,
``findmnt``, ``ip``, ``crm_mon``) cost a guest about a second of vCPU (findmnt, ip and grep took
0.34 s of it; the mount and IP are read in bash builtins now: ``poller.physical_command``).
Measured on web3 (three TCG guests, 2 cores, cluster at rest, 60 s each): without polls the
guests used 18/54/9 % of a core and their vCPUs waited 3 % of the time for the host; with the
profile's 1 s polls they used 65 % each and waited 50 % (the guests asked for more than the two
cores): web3's live runs were INCONCLUSIVE, host starved, partly by the polls' own load. Polls
every 3 s: waits 17-20 %; every 5 s: 7-8 %. The seed's two guests at 1 s wait 6-9 %: there the profile's interval stays.

So the session measures, with the same sentinel that judges a run (``hostload.host_lag``), what
the lab waits at rest while polled at the profile's interval, and doubles the interval while that
wait is above half the sentinel's bound, up to half the token. The interval found becomes the
session's ``timing.poll_interval_s``, which every reader already takes it from: the poller, the
oracle's observe slack (windows close that much later: honest about a coarser look), the judge's
blind bounds. A host that stays loaded at the cap is said so; the sentinel then judges each run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from halab import interrupt
from halab.lab.lab import Lab
from halab.observe.hostload import KIND, HostSampler, host_lag, lag_bound
from halab.observe.poller import StatusPoller
from halab.observe.timeline import Observation, Timeline
from halab.oracle.predict import token_ms
from halab.spec import LabSpec
from halab.stacks.base import StackAdapter

# At rest, with the polls running, the lab may wait at most this share of the sentinel's bound:
# the fault's own work (fence, elections, starts) needs the rest.
REST_SHARE_OF_BOUND = 0.5
# Never poll more rarely than half a token: an event is then still seen within the token that
# follows it, and the windows widen by at most that much.
CAP_SHARE_OF_TOKEN = 0.5
TRIAL_STRETCHES = 2  # each trial spans two token-long stretches (plus one poll round)


@dataclass(frozen=True)
class Trial:
    """One measured interval: the worst per-vCPU run-queue wait over a token-long stretch."""

    interval_s: float
    lag_s: float | None  # None: no node had two host samples (nothing measured)
    node: str | None = None


@dataclass(frozen=True)
class Pace:
    """The session's poll interval and the trials that chose it."""

    interval_s: float
    profile_s: float
    bound_s: float
    cap_s: float
    trials: tuple[Trial, ...]

    def text(self) -> str:
        tried = ", ".join(f"{t.interval_s:g} s: " + (f"{t.lag_s:.2f} s" if t.lag_s is not None else "not measured")
                          for t in self.trials)
        allowed = REST_SHARE_OF_BOUND * self.bound_s
        head = (f"status polls every {self.interval_s:g} s" if self.interval_s == self.profile_s else
                f"status polls every {self.interval_s:g} s, not the profile's {self.profile_s:g} s "
                f"(the polls' own load starved the lab)")
        last = self.trials[-1] if self.trials else None
        tail = ""
        if last is not None and last.lag_s is not None and last.lag_s > allowed:
            tail = (f"; the lab still waits {last.lag_s:.2f} s at rest at the cap of {self.cap_s:g} s: "
                    "the host-load sentinel will judge each run")
        return (f"{head}; worst vCPU wait at rest per token-long stretch ({tried}; allowed "
                f"{allowed:.2f} s, half the sentinel's bound){tail}")

    def applied(self, spec: LabSpec) -> LabSpec:
        """The spec with this interval as its timing's poll interval (what every reader takes)."""
        timing = dataclasses.replace(spec.timing, poll_interval_s=self.interval_s)
        return dataclasses.replace(spec, timing=timing)


def next_interval(trial: Trial, bound_s: float, cap_s: float) -> float | None:
    """The next interval to try, or None when this one stands: quiet enough at rest, at the cap
    already, or not measured (no evidence of load is no reason to look less often)."""
    if trial.lag_s is None or trial.lag_s <= REST_SHARE_OF_BOUND * bound_s:
        return None
    if trial.interval_s >= cap_s:
        return None
    return min(2 * trial.interval_s, cap_s)


def choose(profile_s: float, token_ms: float, trial: Callable[[float, float], Trial],
           progress: Callable[[str], None] = print) -> Pace:
    """Try the profile's interval ``profile_s``, then wider ones, each by ``trial(interval, seconds)``;
    ``token_ms``: the design's effective token (``oracle.token_ms``), the sentinel's stretch."""
    bound, stretch = lag_bound(token_ms)
    cap = max(profile_s, CAP_SHARE_OF_TOKEN * stretch)
    trials: list[Trial] = []
    interval: float | None = profile_s
    while interval is not None:
        seconds = TRIAL_STRETCHES * stretch + interval
        progress(f"pace: polling every {interval:g} s for {seconds:.0f} s, the lab at rest")
        got = trial(interval, seconds)
        trials.append(got)
        interval = next_interval(got, bound, cap)
    return Pace(trials[-1].interval_s, profile_s, bound, cap, tuple(trials))


@dataclass(frozen=True)
class Rest:
    """Whether the lab is at rest now, by the pace's own rule: over the last token-long stretch of
    host samples, the worst per-vCPU wait is at most half the sentinel's bound."""

    lag_s: float | None  # None: the samples do not span a token-long stretch yet
    allowed_s: float

    @property
    def at_rest(self) -> bool:
        return self.lag_s is not None and self.lag_s <= self.allowed_s

    def text(self) -> str:
        got = "not measured" if self.lag_s is None else f"{self.lag_s:.2f} s"
        return f"worst vCPU wait over the last token-long stretch {got}, allowed {self.allowed_s:.2f} s"


def rest(items: Sequence[Observation], now: float, token_ms: float) -> Rest:
    """The lab's rest over the token-long stretch that ends at ``now`` (timeline seconds).

    Why before every fault: the sentinel counts the stretch around t0 from the last host sample
    before it, so load just before the injection is charged to the fault, and the observers' own
    start (an SSH connection per node and poller, each a key exchange on a TCG guest) loads the
    host for a moment. A fault goes into a lab at rest, and the history says so (harness mark
    ``rest``). Measured in CI's command here: at rest 3 s after the first statuses, 0.26-0.30 s
    per 5 s stretch (allowed 0.50 s)."""
    bound, stretch = lag_bound(token_ms)
    allowed = REST_SHARE_OF_BOUND * bound
    first = min((o.t for o in items if o.source == "host" and o.kind == KIND), default=None)
    if first is None or first > now - stretch:
        return Rest(None, allowed)
    lag = host_lag(items, now - stretch, now, bound, stretch)
    return Rest(lag.lag_s if lag else None, allowed)


def measure(lab: Lab, adapter: StackAdapter, mountpoint: str, service_ip: str,
            progress: Callable[[str], None] = print) -> Pace:
    """The lab's poll interval, measured live (the cluster deployed and at rest)."""
    spec = lab.spec
    domains = {n.domain: n.name for n in spec.nodes}
    token = token_ms(spec)
    bound, stretch = lag_bound(token)

    def trial(interval_s: float, seconds: float) -> Trial:
        timeline = Timeline()
        timeline.mark_t0()
        sampler = HostSampler(timeline, domains, nodes_dir=lab.paths.nodes)
        poller = StatusPoller(lab, timeline, adapter, mountpoint, service_ip, interval_s=interval_s)
        sampler.start()
        poller.start()
        try:
            interrupt.STOP.wait(seconds)  # a measurement's span, not a wait for a condition
        finally:
            poller.stop()
            sampler.stop()
        interrupt.check("the poll pace was being measured")
        lag = host_lag(timeline.items(), 0.0, seconds, bound, stretch)
        return Trial(interval_s, lag.lag_s if lag else None, lag.node if lag else None)

    return choose(spec.timing.poll_interval_s, token, trial, progress)
