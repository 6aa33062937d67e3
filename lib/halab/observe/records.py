"""Phase records: every live run's measured phase times, kept so windows come from measurements.

Why: the timing profiles' ranges (fence_agent_s, resource_start_s, ...) were guesses. Each judged
run appends one JSON line per phase (fault, target role, stack, profile, accelerator, measured
time, window, verdict, host lag) to reports/phase-history.jsonl, plus the intervals the profile
ranges stand for (fence request to fence done, fence done to service start, the harness's restore
to the rejoin). ``bench/bench.py ranges`` turns them into quantiles with the count each rests on.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from halab.observe.verdict import Verdict

HISTORY_FILE = "phase-history.jsonl"
FENCE_AGENT = "fence agent (fence-requested -> fence-done)"  # recorded without the design's fence delay
# interval name -> (from phase, to phase); "restore" is the harness's restore mark.
INTERVALS: Mapping[str, tuple[str, str]] = {
    FENCE_AGENT: ("fence-requested", "fence-done"),
    "group start (fence-done -> service-started)": ("fence-done", "service-started"),
    "detect -> fence-requested": ("detect", "fence-requested"),
    "rejoin after the harness's restore": ("restore", "node-rejoined"),
}
QUANTILES = (0.0, 0.1, 0.5, 0.9, 1.0)
# timing-profile range -> the interval that measures it; its upper bound is derived as the
# measured maximum x MARGIN (its lower bound stays the profile's floor: records from TCG say
# nothing about how fast a KVM host is, and a floor too high would call a fast cluster TOO EARLY)
PROFILE_INTERVALS: Mapping[str, str] = {
    "resource_start_s": "group start (fence-done -> service-started)",
    "fence_agent_s": FENCE_AGENT,
}
# Stacks whose fence records from before session 10 (no fence_delay_s field) include the design's
# pcmk_delay_base (8 s on the seed's node01 device), which the oracle adds on its own: left out.
DELAY_INSIDE_OLD_FENCE_RECORDS = frozenset({"pacemaker"})
MARGIN = 1.25


@dataclass(frozen=True)
class RunKey:
    fault: str
    role: str
    stack: str
    profile: str
    accel: str
    target: str = ""  # the node the fault hit (the report's trend names it)
    lab: str = ""  # the lab's design (the spec's name, without an xdist worker's suffix)


RUN_ID_ENV = "HALAB_RUN_ID"  # set by scripts/nightly.sh: every record of one night carries the night's name


def run_stamp(epoch: float) -> str:
    """A run's id as the suite writes it and the trend's column title: when it was judged (UTC, to
    the second); runs are minutes apart, and the records of one run share it."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%m-%d %H:%M:%S")


def run_id(epoch: float, env: Mapping[str, str] = os.environ) -> str:
    """The night's name when the nightly job set one (so a night's shards and tests form one
    column of the trend, and its records can be told from older ones in the same file), else
    the run's own stamp."""
    return env.get(RUN_ID_ENV, "").strip() or run_stamp(epoch)


def run_records(key: RunKey, verdict: Verdict, restore_at: float | None,
                when: float | None = None) -> list[dict[str, Any]]:
    """One record per judged phase and per interval both of whose ends were measured; the records of
    one run share a ``run_id`` (the report's trend reads one point per run and phase from them)."""
    at_time = round(when if when is not None else time.time(), 3)
    base = {"time": at_time, "run_id": run_id(at_time), "lab": key.lab,
            "fault": key.fault, "role": key.role, "target": key.target,
            "stack": key.stack, "profile": key.profile, "accel": key.accel,
            "host_lag_s": verdict.host.lag_s if verdict.host else None,
            "starved": bool(verdict.host and verdict.host.starved), "effect_s": list(verdict.effect_s)}
    out = [{**base, "phase": p.phase, "driven": p.driven, "measured_s": p.measured,
            "window_s": [p.earliest, p.latest], "verdict": p.verdict} for p in verdict.phases]
    at = {p.phase: p.measured for p in verdict.phases if p.measured is not None}
    if restore_at is not None:
        at["restore"] = restore_at
    delay = verdict.prediction.fence_delay_s
    for name, (a, b) in INTERVALS.items():
        if a in at and b in at:
            # the fence agent's own run: the design's delay is the oracle's to add, so it comes out
            less, named = (delay, {"fence_delay_s": delay}) if name == FENCE_AGENT else (0.0, {})
            out.append({**base, "interval": name, "seconds": round(at[b] - at[a] - less, 3), **named})
    return out


def append(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, sort_keys=True) + "\n")


def load(path: Path) -> list[dict[str, Any]]:
    """Every record; a torn last line (a run killed mid-write) is skipped."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def load_all(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The records of several files, each record once (the kept records in bench/measured/ are
    copies of some runs' reports/ lines)."""
    seen: set[str] = set()
    out = []
    for path in paths:
        for rec in load(path):
            key = json.dumps(rec, sort_keys=True)
            if key not in seen:
                seen.add(key)
                out.append(rec)
    return out


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted-or-not ``values`` (q in [0, 1])."""
    s = sorted(values)
    if not s:
        raise ValueError("no values")
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def ranges(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str, str], tuple[int, tuple[float, ...]]]:
    """(stack, profile, accel, interval or phase) -> (count, quantiles QUANTILES) over runs whose
    host was not starved (a starved run measures the host, not the cluster). A cluster phase counts
    from the fault's effect (the middle of its recorded span), as the judge's windows do."""
    groups: dict[tuple[str, str, str, str], list[float]] = {}
    for r in records:
        if r.get("starved"):
            continue
        name, value = (r["interval"], r.get("seconds")) if "interval" in r else \
            (f"{r['fault']} {r['phase']}", r.get("measured_s"))
        if value is None:
            continue
        if r.get("interval") == FENCE_AGENT and r["stack"] in DELAY_INSIDE_OLD_FENCE_RECORDS \
                and "fence_delay_s" not in r:
            continue  # an old record: its fence interval includes a delay it does not name
        if "phase" in r and r.get("driven") != "harness":
            value = float(value) - sum(r.get("effect_s") or (0.0, 0.0)) / 2  # from the fault's effect
        groups.setdefault((r["stack"], r["profile"], r["accel"], name), []).append(float(value))
    return {k: (len(v), tuple(round(quantile(v, q), 2) for q in QUANTILES)) for k, v in sorted(groups.items())}


def derived_upper(values: Sequence[float]) -> float:
    """A profile range's upper bound from measurements: the largest seen x MARGIN, whole seconds up."""
    import math

    return float(math.ceil(max(values) * MARGIN))


def profile_gaps(rows: Mapping[tuple[str, str, str, str], tuple[int, tuple[float, ...]]],
                 upper_of: Callable[[str, str, str], float | None]) -> list[str]:
    """One line per profile range with records: the profile's upper bound against the derived one
    (``upper_of(stack, profile, key)`` reads the lab spec; None: no such profile)."""
    out = []
    for (stack, profile, accel, name), (count, values) in rows.items():
        for key, interval in PROFILE_INTERVALS.items():
            if name != interval:
                continue
            have = upper_of(stack, profile, key)
            if have is None:
                continue
            want = derived_upper([values[-1]])
            state = "below what was measured" if have < values[-1] else "holds"
            out.append(f"{stack} {profile} {accel} {key}: profile upper {have:g} s {state} (max {values[-1]:g} s, "
                       f"n={count}); derived upper {want:g} s")
    return out
