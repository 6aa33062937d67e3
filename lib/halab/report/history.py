"""Each phase time per fault over runs: the reader of reports/phase-history.jsonl and its trend.

The failover suite appends one JSON object per phase per run to the phase record file (written
by halab.observe.records: keys fault, target, role, stack, profile, accel, phase, measured_s,
window_s, verdict, run_id, time; interval records beside them are bench/'s and are passed over).
Allure's own history shows pass rate and each test's duration over runs; what it
cannot show is *which phase* got slower: this module reads the records (several files, e.g. one
per shard, merged and de-duplicated), keeps the last runs, and renders a table and a picture per
fault and target role, attached to that fault's tests in the report and written beside it.

A missing or empty file is not an error (the first night has no history); a line that is not a
record is skipped and counted, never fatal: one bad write must not cost the whole trend.
"""

from __future__ import annotations

import json
import math
import re
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from halab.observe.records import run_stamp

PHASE_HISTORY = "phase-history.jsonl"
LAST_RUNS = 10
_ROLE_IN_TARGET = re.compile(r"\((owner|standby)\)")


@dataclass(frozen=True)
class PhaseRecord:
    """One phase of one fault in one run, as the suite measured and judged it."""

    fault: str
    target: str
    role: str
    stack: str
    timing: str
    accel: str
    phase: str
    measured_s: float | None  # None: the phase was never observed
    earliest_s: float | None
    latest_s: float | None
    verdict: str
    run_id: str
    time: float  # epoch seconds
    lab: str = ""  # the design's lab (records written before it was kept have none)

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        """Which runs are comparable: the same fault on the same role under the same design (lab,
        stack and timing profile: a quorum-device lab's heartbeat-down is not the seed's)."""
        return (self.lab, self.stack, self.timing, self.fault, self.role, self.phase)


@dataclass(frozen=True)
class PhaseHistory:
    records: tuple[PhaseRecord, ...]
    skipped: int  # lines that were not records
    sources: tuple[str, ...]  # files that were read (missing ones are left out)


def _seconds(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _epoch(value: Any) -> float | None:
    """Epoch seconds from a number or an ISO 8601 string (the writer may use either)."""
    number = _seconds(value)
    if number is not None:
        return number
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _judged_window(raw: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """The judged window: ``window_s`` as the suite writes it (observe/records.py), or the older
    ``earliest_s``/``latest_s`` pair."""
    window = raw.get("window_s")
    if isinstance(window, list) and len(window) == 2:
        return _seconds(window[0]), _seconds(window[1])
    return _seconds(raw.get("earliest_s")), _seconds(raw.get("latest_s"))


def parse_record(raw: Mapping[str, Any]) -> PhaseRecord | None:
    """A phase record from one decoded line as observe/records.py writes it, or None when a required
    key is missing or unusable. A record without ``run_id`` (written before it existed) takes its
    run from its time: the records of one run share it."""
    when = _epoch(raw.get("time"))
    if when is None or any(not isinstance(raw.get(k), str) or not raw.get(k) for k in ("fault", "phase")):
        return None
    given = raw.get("run_id")
    run_id = given if isinstance(given, str) and given else run_stamp(when)

    def text(key: str) -> str:
        return str(raw.get(key) or "")

    earliest, latest = _judged_window(raw)
    return PhaseRecord(text("fault"), text("target"), text("role"), text("stack"), text("timing") or text("profile"),
                       text("accel"), text("phase"), _seconds(raw.get("measured_s")), earliest, latest,
                       text("verdict"), str(run_id), when, text("lab"))


def _is_interval(raw: Any) -> bool:
    """An interval record (fence agent run, group start, ...: bench/'s input) is not a phase record;
    it is neither read nor counted as a bad line."""
    return isinstance(raw, dict) and "interval" in raw and "phase" not in raw


def read_history(paths: Iterable[Path]) -> PhaseHistory:
    """Every record of the given files, de-duplicated (a shard's file may repeat earlier nights)."""
    seen: dict[tuple[str, ...], PhaseRecord] = {}
    skipped = 0
    sources = []
    for path in paths:
        if not path.is_file():
            continue
        sources.append(str(path))
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError:
                skipped += 1
                continue
            if _is_interval(raw):
                continue
            record = parse_record(raw) if isinstance(raw, dict) else None
            if record is None:
                skipped += 1
                continue
            seen[(record.run_id, record.target, *record.key)] = record
    ordered = sorted(seen.values(), key=lambda r: (r.time, r.run_id, r.fault, r.role, r.phase))
    return PhaseHistory(tuple(ordered), skipped, tuple(sources))


@dataclass(frozen=True)
class Series:
    """One phase of one fault on one role over the last runs (None where it was not measured)."""

    key: tuple[str, str, str, str, str, str]
    points: tuple[tuple[str, PhaseRecord | None], ...]  # (run_id, record), oldest first


def run_order(records: Sequence[PhaseRecord]) -> list[str]:
    """Run ids, oldest first by the earliest record of each run."""
    first: dict[str, float] = {}
    for r in records:
        first[r.run_id] = min(first.get(r.run_id, r.time), r.time)
    return sorted(first, key=lambda run: (first[run], run))


def trend(history: PhaseHistory, fault: str | None = None, role: str | None = None,
          last: int = LAST_RUNS) -> tuple[list[str], list[Series]]:
    """The last `last` runs (of the matching records) and one series per phase key."""
    records = [r for r in history.records if (fault is None or r.fault == fault) and (role is None or r.role == role)]
    runs = run_order(records)[-last:]
    by_key: dict[tuple[str, str, str, str, str, str], dict[str, PhaseRecord]] = {}
    for r in records:
        if r.run_id in runs:
            by_key.setdefault(r.key, {})[r.run_id] = r
    series = [Series(k, tuple((run, cells.get(run)) for run in runs)) for k, cells in sorted(by_key.items())]
    return runs, series


def _cell(record: PhaseRecord | None) -> str:
    if record is None:
        return "-"
    measured = "never" if record.measured_s is None else f"{record.measured_s:.1f}"
    mark = "" if record.verdict.upper() in ("", "PASS", "OK", "PASSED") else f" {record.verdict.upper()}"
    return measured + mark


def _window(series: Series) -> str:
    latest = next((r for _, r in reversed(series.points) if r is not None), None)
    if latest is None or latest.earliest_s is None or latest.latest_s is None:
        return "?"
    return f"{latest.earliest_s:.1f}-{latest.latest_s:.1f}"


def render_table(history: PhaseHistory, fault: str | None = None, role: str | None = None,
                 last: int = LAST_RUNS) -> str:
    """A plain-text table: one row per (lab, stack, timing, fault, role, phase), one column per run."""
    runs, series = trend(history, fault, role, last)
    if not series:
        where = ", ".join(history.sources) or "no phase record file"
        what = f" for {fault}" if fault else ""
        return f"no phase records{what} yet ({where})\n"
    head = ["lab", "stack", "timing", "fault", "role", "phase", "window s", *runs]
    rows = [[s.key[0] or "?", *s.key[1:], _window(s), *(_cell(r) for _, r in s.points)] for s in series]
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    note = f"\nseconds from fault start, per run (oldest first); 'never' = not observed; {history.skipped} " \
           f"unreadable line(s) skipped\n" if history.skipped else \
           "\nseconds from fault start, per run (oldest first); 'never' = not observed\n"
    return "\n".join(lines) + "\n" + note


def render_png(history: PhaseHistory, path: Path, fault: str | None = None, role: str | None = None,
               last: int = LAST_RUNS) -> bool:
    """One line per phase over the runs, the window of the latest run as a band; False if no data."""
    runs, series = trend(history, fault, role, last)
    if not series:
        return False
    fig = Figure(figsize=(8.0, 1.2 + 0.35 * len(series) + 2.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(runs)))
    for s in series:
        label = " ".join(p for p in (s.key[0], *s.key[3:]) if p)
        ys = [float("nan") if r is None or r.measured_s is None else r.measured_s for _, r in s.points]
        (line,) = ax.plot(xs, ys, marker="o", label=label)
        bad = [(x, y) for x, (_, r), y in zip(xs, s.points, ys, strict=True)
               if r is not None and r.verdict.upper() not in ("", "PASS", "OK", "PASSED") and not math.isnan(y)]
        if bad:
            ax.scatter([b[0] for b in bad], [b[1] for b in bad], marker="x", s=80, color="#c62828", zorder=3)
        latest = next((r for _, r in reversed(s.points) if r is not None), None)
        if latest is not None and latest.earliest_s is not None and latest.latest_s is not None:
            ax.axhspan(latest.earliest_s, latest.latest_s, color=line.get_color(), alpha=0.08)
    ax.set_xticks(xs)
    ax.set_xticklabels(runs, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("seconds from fault start")
    title = " / ".join(x for x in (fault, role) if x) or "all faults"
    ax.set_title(f"phase times over the last {len(runs)} run(s): {title}  (x = judged outside its window)",
                 fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(str(path))
    return True


# --- into the Allure results -------------------------------------------------------------------


def _param(result: Mapping[str, Any], name: str) -> str:
    for p in result.get("parameters") or ():
        if isinstance(p, Mapping) and p.get("name") == name:
            return str(p.get("value", "")).strip("'\"")
    return ""


def fault_and_role(result: Mapping[str, Any]) -> tuple[str, str] | None:
    """Which fault and target role an Allure result is about (None: not a failover test)."""
    fault = _param(result, "fault")
    if not fault:
        return None
    role = _param(result, "role")
    if not role:
        found = _ROLE_IN_TARGET.search(_param(result, "target"))
        role = found.group(1) if found else ""
    return fault, role


def attach_trends(results_dirs: Sequence[Path], history: PhaseHistory) -> int:
    """Attach the trend of its fault and role (table + picture) to every failover result; returns
    how many results got one. Runs on the results before `allure generate`."""
    done = 0
    for results in results_dirs:
        for path in sorted(results.glob("*-result.json")):
            try:
                result = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            which = fault_and_role(result) if isinstance(result, dict) else None
            if which is None:
                continue
            attachments = [a for a in result.get("attachments") or () if a.get("name") not in
                           ("phase trend", "phase trend (picture)")]
            stem = uuid.uuid4().hex
            table = results / f"{stem}-attachment.txt"
            table.write_text(render_table(history, *which), encoding="utf-8")
            attachments.append({"name": "phase trend", "source": table.name, "type": "text/plain"})
            picture = results / f"{stem}-attachment.png"
            if render_png(history, picture, *which):
                attachments.append({"name": "phase trend (picture)", "source": picture.name, "type": "image/png"})
            result["attachments"] = attachments
            path.write_text(json.dumps(result), encoding="utf-8")
            done += 1
    return done


def write_overview(report_dir: Path, history: PhaseHistory) -> list[Path]:
    """phase-trend.txt (every fault) and phase-trend-FAULT.png (one per fault) beside index.html."""
    report_dir.mkdir(parents=True, exist_ok=True)
    table = report_dir / "phase-trend.txt"
    table.write_text(render_table(history), encoding="utf-8")
    out = [table]
    for fault in sorted({r.fault for r in history.records}):
        picture = report_dir / f"phase-trend-{re.sub(r'[^A-Za-z0-9_.-]', '_', fault)}.png"
        if render_png(history, picture, fault):
            out.append(picture)
    return out


def write_merged(history: PhaseHistory, path: Path) -> int:
    """The merged, de-duplicated records as one JSON-lines file (written aside, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(asdict(r), sort_keys=True) + "\n" for r in history.records), encoding="utf-8")
    tmp.replace(path)
    return len(history.records)


def only_run(history: PhaseHistory, run: str) -> PhaseHistory:
    """The records of one run (a night's, named by HALAB_RUN_ID): a shard hands on only what it
    measured, not the older records the checkout's file also holds."""
    return replace(history, records=tuple(r for r in history.records if r.run_id == run))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m halab.report.history merge OUT FILE... [--run ID]`` (the nightly's store of
    phase records; with --run only that run's) or ``table FILE...`` (the trend on the terminal)."""
    args = list(sys.argv[1:] if argv is None else argv)
    run = None
    if "--run" in args:
        at = args.index("--run")
        run = args[at + 1] if at + 1 < len(args) else ""
        del args[at:at + 2]
        if not run:
            args = []  # --run without a run id: the usage line
    if len(args) >= 3 and args[0] == "merge":
        history = read_history(Path(a) for a in args[2:])
        n = write_merged(only_run(history, run) if run else history, Path(args[1]))
        print(f"{args[1]}: {n} phase record(s)" + (f" of run {run}" if run else ""))
        return 0
    if len(args) >= 2 and args[0] == "table" and run is None:
        print(render_table(read_history(Path(a) for a in args[1:])), end="")
        return 0
    print("usage: python -m halab.report.history merge OUT FILE... [--run ID] | table FILE...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
