"""The time budget as text: each phase's window against what was measured, and why the window is so.

Ops read a verdict in the report, not in code: the budget table shows the margin to the nearer
window edge (how close a pass was to failing), and the reasoning text is the oracle's own
computation, so a reader can redo the arithmetic. Nothing here judges: each phase's verdict is
the judge's (``PhaseResult.verdict``, with its clock uncertainty), rendered as is.
"""

from __future__ import annotations

from collections.abc import Sequence

from halab.observe.timeline import PhaseResult
from halab.oracle.model import HARNESS_PHASES, Prediction

_HEADER = ("phase", "window [s]", "measured [s]", "margin [s]", "verdict")
_NONE = "-"


def seconds(value: float, digits: int = 2) -> str:
    """A time in seconds with fixed decimals, the way every table and title shows it."""
    return f"{value:.{digits}f}"


def precise(value: float, earliest: float, latest: float, digits: int = 1) -> int:
    """Decimals needed so the rounded ``value`` sits on the same side of each edge as the exact one.

    Why: a title like "43.5 s (window 43.5-52.2 s): too early" would contradict itself; one more
    decimal shows why the verdict is what it is.
    """
    for d in range(digits, 4):
        r = round(value, d)
        if (r < round(earliest, d)) == (value < earliest) and (r > round(latest, d)) == (value > latest):
            return d
    return 3


def budget_table(phases: Sequence[PhaseResult]) -> str:
    """A fixed-width table: phase, window [earliest, latest], measured, margin, verdict."""
    rows = [_HEADER, *(_row(p) for p in phases)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(_summary(phases))
    lines.append("times are seconds after t0 (the fault); margin = distance to the nearer window edge, "
                 "negative when outside; ± = node clock uncertainty (a phase is outside only by more);")
    lines.append("harness-driven phases follow the harness's restore (their windows start there); the cluster's "
                 "count from the fault's effect (an in-guest command's round trip delays it: see each evidence)")
    return "\n".join(lines) + "\n"


def _row(p: PhaseResult) -> tuple[str, str, str, str, str]:
    d = 2 if p.measured is None else precise(p.measured, p.earliest, p.latest, digits=2)
    window = f"[{seconds(p.earliest, d)}, {seconds(p.latest, d)}]"
    if p.measured is None:
        return (_name(p), window, _NONE, _NONE, p.verdict)
    margin = p.margin if p.margin is not None else 0.0
    unc = f" ±{seconds(p.uncertainty, 2)}" if p.uncertainty else ""
    return (_name(p), window, seconds(p.measured, d) + unc, f"{margin:+.{d}f}", p.verdict)


def _summary(phases: Sequence[PhaseResult]) -> str:
    counts: dict[str, int] = {}
    for p in phases:
        counts[p.verdict] = counts.get(p.verdict, 0) + 1
    if not counts:
        return "no phases judged"
    parts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    return f"{len(phases)} phase(s): {parts}"


def _name(p: PhaseResult) -> str:
    return f"{p.phase} (harness-driven)" if p.driven == "harness" else p.phase


def phase_title(p: PhaseResult, judged: str | None = None) -> str:
    """One line per phase for a step title: "fence-done at 17.3 s (window 13.6–42.2 s): ok".
    ``judged`` is the judge's word when it is not the phase's own (a starved host: inconclusive)."""
    said = judged or p.verdict
    if p.measured is None:
        d = 1
        why = f": {p.blind}" if p.blind else ""
        return (f"{_name(p)} not observed (window {seconds(p.earliest, d)}–{seconds(p.latest, d)} s): "
                f"{said}{why}")
    d = precise(p.measured, p.earliest, p.latest)
    unc = f" ± {seconds(p.uncertainty, 2)}" if p.uncertainty else ""
    return (f"{_name(p)} at {seconds(p.measured, d)}{unc} s "
            f"(window {seconds(p.earliest, d)}–{seconds(p.latest, d)} s): {said}")


def prediction_paragraph(p: Prediction, target_role: str = "") -> str:
    """The design's prediction in one paragraph: the test's description in the report."""
    role = f" ({target_role})" if target_role else ""
    services = ", ".join(f"{name} ends on {_place(where)}" for name, where in p.services.items()) or "no service"
    fenced = f"{', '.join(p.fenced)} is fenced" + (f" by {p.fenced_by}" if p.fenced_by else "") \
        if p.fenced else "nobody is fenced"
    reboot = f"; {', '.join(p.self_reboot)} reboots itself" if p.self_reboot else ""
    windows = "; ".join(f"{n} in [{seconds(w.earliest, 1)}, {seconds(w.latest, 1)}] s" for n, w in p.windows.items())
    alts = f" {len(p.alternatives)} alternative outcome(s) are also accepted (see the oracle reasoning)." \
        if p.alternatives else ""
    return (f"Fault {p.fault} injected on {p.target}{role} of the {p.stack} cluster. The design predicts: "
            f"{fenced}{reboot}; {services}; the survivors are {'quorate' if p.quorate else 'not quorate'}"
            f"{'; phases: ' + windows if windows else '; no phase is expected to happen'}.{alts}")


def reasoning_text(prediction: Prediction) -> str:
    """The oracle's expectation, its reasoning lines (formulas and numbers) and windows, as text."""
    lines = _prediction_lines(prediction)
    for i, alt in enumerate(prediction.alternatives, start=1):
        lines += ["", f"=== acceptable alternative {i} ===", *_prediction_lines(alt)]
    return "\n".join(lines) + "\n"


def _prediction_lines(p: Prediction) -> list[str]:
    services = ", ".join(f"{name} -> {_place(where)}" for name, where in p.services.items()) or _NONE
    lines = [
        f"oracle: stack {p.stack}, fault {p.fault} on {p.target}",
        "",
        "expected outcome:",
        f"  fenced:        {', '.join(p.fenced) or 'nobody'}{f' (by {p.fenced_by})' if p.fenced_by else ''}",
        f"  self-reboot:   {', '.join(p.self_reboot) or 'nobody'}",
        f"  services:      {services}",
        f"  quorate:       {'yes' if p.quorate else 'no'}",
        f"  members after: {', '.join(p.members_after) or 'none'}",
        "",
        "reasoning:",
        *(f"  {i}. {line}" for i, line in enumerate(p.reasoning, start=1)),
        "",
        "windows (seconds after t0):",
    ]
    width = max((len(name) for name in p.windows), default=0)
    lines += [f"  {name.ljust(width)}  [{seconds(w.earliest)}, {seconds(w.latest)}]"
              + ("  (harness-driven: seconds after the harness's restore)" if name in HARNESS_PHASES else "")
              for name, w in p.windows.items()]
    if not p.windows:
        lines.append("  none")
    return lines


def _place(where: str | tuple[str, ...]) -> str:
    return where if isinstance(where, str) else " or ".join(where)
