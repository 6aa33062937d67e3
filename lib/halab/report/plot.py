"""The timeline picture: phases against their windows, the fault shaded, service and nodes below.

One glance should answer "did it fail over in time, and what did the client see": each predicted
phase is a bar (its window) with a marker where it was measured (green inside, red outside, grey
when never seen), the service row is a step line of the client probe (up/down, with the node that
answered), and each node row shows its reachability by the status polls and its libvirt lifecycle
events. Drawn with matplotlib's object API on an Agg canvas: no display, no pyplot global state,
safe from any thread or xdist worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from halab.observe.timeline import Observation, PhaseResult, Timeline
from halab.oracle.model import Prediction
from halab.report.budget import precise, seconds

OK, BAD, GREY, WINDOW, FAULT = "#2e7d32", "#c62828", "#9e9e9e", "#90caf9", "#ffcdd2"
PROBE_KINDS = ("probe-ok", "probe-fail")
# libvirt lifecycle detail -> (marker, colour) for the node rows.
LIFECYCLE_MARKS: dict[str, tuple[str, str]] = {
    "stopped": ("v", BAD),
    "crashed": ("X", BAD),
    "shutdown": ("v", BAD),
    "suspended": ("s", "#ef6c00"),
    "started": ("^", OK),
    "resumed": ("D", OK),
}


@dataclass(frozen=True)
class _Rows:
    """Y positions, top to bottom: phases, then the service, then one row per node."""

    phases: list[str]
    service: str
    nodes: list[str]

    @property
    def labels(self) -> list[str]:
        return [*self.phases, f"service {self.service}", *(f"node {n}" for n in self.nodes)]

    def y_phase(self, i: int) -> float:
        return float(len(self.labels) - 1 - i)

    @property
    def y_service(self) -> float:
        return self.y_phase(len(self.phases))

    def y_node(self, node: str) -> float:
        return self.y_phase(len(self.phases) + 1 + self.nodes.index(node))


def timeline_png(timeline: Timeline, prediction: Prediction | None, phases: Sequence[PhaseResult],
                 service: str, path: Path) -> Path:
    """Draw the test's timeline to ``path`` (PNG) and return it; works on empty or partial data."""
    items = timeline.items()
    rows = _Rows(_phase_names(prediction, phases), service, _node_names(items))
    fig = Figure(figsize=(11, 1.6 + 0.42 * len(rows.labels)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x0, x1 = _x_range(items, prediction, phases, timeline.t_healed)
    _draw_fault(ax, timeline.t_healed, x1)
    _draw_phases(ax, rows, prediction, phases)
    _draw_service(ax, rows.y_service, [o for o in items if o.kind in PROBE_KINDS])
    for node in rows.nodes:
        _draw_node(ax, rows.y_node(node), [o for o in items if o.node == node], x1 - x0)
    _finish_axes(ax, rows, (x0, x1), _title(prediction, items))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", bbox_inches="tight")
    return path


def _phase_names(prediction: Prediction | None, phases: Sequence[PhaseResult]) -> list[str]:
    """Predicted phases in the oracle's order, then any measured phase it did not predict."""
    names = list(prediction.windows) if prediction is not None else []
    return names + [p.phase for p in phases if p.phase not in names]


def _node_names(items: Sequence[Observation]) -> list[str]:
    return sorted({o.node for o in items if o.node and (_is_lifecycle(o) or o.source == "poll")})


def _is_lifecycle(o: Observation) -> bool:
    return o.source == "libvirt" and o.kind == "lifecycle"


def _x_range(items: Sequence[Observation], prediction: Prediction | None,
             phases: Sequence[PhaseResult], healed: float | None) -> tuple[float, float]:
    """From a little before t0 (or the first observation) to just past the last thing shown."""
    ts = [o.t for o in items]
    ts += [w.latest for w in (prediction.windows.values() if prediction is not None else ())]
    ts += [p.latest for p in phases] + [p.measured for p in phases if p.measured is not None]
    ts += [healed] if healed is not None else []
    lo, hi = min([-5.0, *ts]), max([10.0, *ts])
    pad = 0.03 * (hi - lo)
    return lo - pad, hi + 2 * pad


def _draw_fault(ax: Axes, healed: float | None, x_end: float) -> None:
    end = healed if healed is not None else x_end
    ax.axvspan(0.0, max(end, 0.0), color=FAULT, alpha=0.5, zorder=0)
    ax.axvline(0.0, color=BAD, linewidth=1, zorder=1)
    if healed is not None:
        ax.axvline(healed, color=OK, linewidth=1, linestyle="--", zorder=1)


def _draw_phases(ax: Axes, rows: _Rows, prediction: Prediction | None, phases: Sequence[PhaseResult]) -> None:
    measured = {p.phase: p for p in phases}
    windows = prediction.windows if prediction is not None else {}
    for i, name in enumerate(rows.phases):
        y, p = rows.y_phase(i), measured.get(name)
        w = windows.get(name)
        # The judge's window first: harness-driven ones are anchored at the restore, not at t0.
        lo, hi = (p.earliest, p.latest) if p else (w.earliest, w.latest) if w is not None else (0.0, 0.0)
        ax.barh(y, hi - lo, left=lo, height=0.5, color=WINDOW, edgecolor="#1e88e5", zorder=2)
        _draw_measured(ax, y, p, hi)


def _draw_measured(ax: Axes, y: float, p: PhaseResult | None, window_end: float) -> None:
    if p is None or p.measured is None:
        ax.plot([window_end], [y], marker="x", color=GREY, markersize=9, zorder=3)
        ax.annotate("missing", (window_end, y), xytext=(6, -4), textcoords="offset points", color=GREY,
                    fontsize=8)
        return
    colour = OK if p.ok else BAD
    ax.plot([p.measured], [y], marker="o", color=colour, markersize=8, zorder=3)
    text = f"{seconds(p.measured, precise(p.measured, p.earliest, p.latest))} s {p.verdict}"
    ax.annotate(text, (p.measured, y), xytext=(6, 5), textcoords="offset points",
                color=colour, fontsize=8)


def _draw_service(ax: Axes, y: float, probes: Sequence[Observation]) -> None:
    """A step line: high when the probe got an answer, low when not; the answering node on changes."""
    if not probes:
        ax.annotate("no probes", (0, y), xytext=(4, -3), textcoords="offset points", color=GREY, fontsize=8)
        return
    ts = [o.t for o in probes]
    levels = [y + 0.25 if o.kind == "probe-ok" else y - 0.25 for o in probes]
    ax.step(ts, levels, where="post", color="#37474f", linewidth=1.2, zorder=3)
    for o in probes:
        ax.plot([o.t], [y + 0.25 if o.kind == "probe-ok" else y - 0.25], marker="|",
                color=OK if o.kind == "probe-ok" else BAD, markersize=6, zorder=4)
    last = None
    for o in probes:
        who = o.detail if o.kind == "probe-ok" else "down"
        if who != last:
            ax.annotate(who or "?", (o.t, y + 0.3), fontsize=7, color="#37474f")
            last = who


def label_lanes(times: Sequence[float], labels: Sequence[str], span_s: float, axes_px: float = 800.0,
                char_px: float = 5.0) -> list[int]:
    """A lane per label so that no two labels in one lane overlap: each label covers its text's
    width (converted to seconds on this axis) from its time; the first lane that is free wins."""
    per_char_s = span_s * char_px / axes_px
    lane_end: list[float] = []
    out = []
    for t, text in zip(times, labels, strict=True):
        width = (len(text) + 1) * per_char_s
        lane = next((i for i, end in enumerate(lane_end) if end <= t - width / 2), len(lane_end))
        if lane == len(lane_end):
            lane_end.append(0.0)
        lane_end[lane] = t + width / 2
        out.append(lane)
    return out


LANE_OFFSETS_PT = (8, -15, 17, -24)  # above, below, further above, further below the node row


def _draw_node(ax: Axes, y: float, items: Sequence[Observation], span_s: float) -> None:
    """Reachability by the status polls as segments; libvirt lifecycle events as labelled marks,
    their labels in lanes so that none prints over another."""
    polls = [o for o in items if o.source == "poll" and o.kind in ("status", "unreachable")]
    for a, b in zip(polls, [*polls[1:], None], strict=True):
        end = b.t if b is not None else a.t + 1.0
        ax.plot([a.t, end], [y, y], color=OK if a.kind == "status" else GREY, linewidth=4,
                solid_capstyle="butt", zorder=2)
    events = [o for o in items if _is_lifecycle(o)]
    for o in events:
        marker, colour = LIFECYCLE_MARKS.get(_event_name(o), ("o", GREY))
        ax.plot([o.t], [y], marker=marker, color=colour, markersize=9, zorder=4)
    groups = group_events([o.t for o in events], [_event_name(o) for o in events], span_s)
    lanes = label_lanes([t for t, _ in groups], [text for _, text in groups], span_s)
    for (t, text), lane in zip(groups, lanes, strict=True):
        colour = LIFECYCLE_MARKS.get(text.split("/")[-1], ("o", GREY))[1]
        ax.annotate(text, (t, y), xytext=(0, LANE_OFFSETS_PT[lane % len(LANE_OFFSETS_PT)]),
                    textcoords="offset points", fontsize=7, ha="center", color=colour)


def _event_name(o: Observation) -> str:
    return o.detail.partition(":")[0]


def group_events(times: Sequence[float], names: Sequence[str], span_s: float, axes_px: float = 800.0,
                 char_px: float = 5.0) -> list[tuple[float, str]]:
    """Events closer than a short label's width become one label ("stopped/started"): a fence's
    off and on are a second apart and would otherwise print over each other."""
    close_s = 6 * span_s * char_px / axes_px
    out: list[tuple[float, list[str]]] = []
    for t, name in zip(times, names, strict=True):
        if out and t - out[-1][0] < close_s:
            out[-1][1].append(name)
        else:
            out.append((t, [name]))
    return [(t, "/".join(ns)) for t, ns in out]


def _finish_axes(ax: Axes, rows: _Rows, xlim: tuple[float, float], title: str) -> None:
    labels = rows.labels
    ax.set_yticks([rows.y_phase(i) for i in range(len(labels))], labels)
    ax.set_ylim(-0.8, len(labels) - 0.2)
    ax.set_xlim(*xlim)
    ax.set_xlabel("seconds after the fault (t0)")
    ax.grid(axis="x", color="#e0e0e0", zorder=0)
    ax.set_title(title, fontsize=10)
    ax.legend(handles=_legend(), loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def _legend() -> list[Line2D | Patch]:
    return [
        Patch(color=FAULT, label="fault active"),
        Line2D([], [], color=OK, linestyle="--", label="fault healed"),
        Patch(facecolor=WINDOW, edgecolor="#1e88e5", label="predicted window"),
        Line2D([], [], marker="o", color=OK, linestyle="", label="measured, inside"),
        Line2D([], [], marker="o", color=BAD, linestyle="", label="measured, outside"),
        Line2D([], [], marker="x", color=GREY, linestyle="", label="not observed"),
        Line2D([], [], color=GREY, linewidth=4, label="node unreachable"),
    ]


def _title(prediction: Prediction | None, items: Sequence[Observation]) -> str:
    head = (f"{prediction.fault} on {prediction.target} ({prediction.stack})" if prediction is not None
            else "timeline")
    return head + ("" if items else " - no observations recorded")
