"""Thin wrappers over the ``allure`` API: redacted, and harmless when allure-pytest is not running.

Why wrap at all: every text that reaches the report must pass ``redact`` (one place to get it
right), a step's status must show the judge's verdict of its check (rendered, never recomputed)
without raising in the middle of the evidence, and collecting evidence must never turn a verdict into an error: a part
that cannot be produced is attached as a one-line "evidence error" and the rest still goes in.
Without allure-pytest the allure hooks have no implementation and every call here does nothing.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import allure
import allure_commons
from allure_commons.types import AttachmentType

from halab.observe import history_file
from halab.observe.timeline import Observation, PhaseResult, Timeline
from halab.observe.verdict import Category, Check, Verdict
from halab.oracle.model import Prediction
from halab.report.budget import budget_table, phase_title, prediction_paragraph, reasoning_text
from halab.report.plot import timeline_png
from halab.report.redact import redact, redact_object
from halab.stacks.types import ClusterStatus

if TYPE_CHECKING:
    from halab.scenario import FaultRun

# The allure API is untyped; one Any-typed handle keeps the untyped calls in this module.
_api: Any = allure


def attach_text(name: str, text: str, secrets: Iterable[str] = ()) -> None:
    """Attach ``text`` (redacted) as a plain-text attachment called ``name`` (redacted too)."""
    secrets = tuple(secrets)
    _api.attach(redact(text, secrets), name=redact(name, secrets), attachment_type=AttachmentType.TEXT)


def attach_json(name: str, obj: Any, secrets: Iterable[str] = ()) -> None:
    """Attach ``obj`` as indented JSON; redaction runs on the serialised text, so nested values count."""
    secrets = tuple(secrets)
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=str)
    _api.attach(redact(text, secrets), name=redact(name, secrets), attachment_type=AttachmentType.JSON)


def attach_png(path: Path, name: str | None = None) -> None:
    """Attach a PNG file (pixels are not redacted: only draw names and times into pictures)."""
    _api.attach.file(str(path), name=name or path.name, attachment_type=AttachmentType.PNG)


class _Shown:
    """A parameter value allure shows as is: allure-commons quotes plain strings ('node01')."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def set_parameters(secrets: Iterable[str] = (), **params: object) -> None:
    """Show ``params`` (e.g. fault=..., target=...) as the test's Allure parameters.

    A parameter pytest already reported under the same name (a parametrize argument) is replaced.
    """
    secrets = tuple(secrets)
    for key, value in params.items():
        _api.dynamic.parameter(key, _Shown(redact(str(value), secrets)))


@contextmanager
def step(title: str, secrets: Iterable[str] = ()) -> Iterator[None]:
    """``allure.step`` with a redacted title."""
    with _api.step(redact(title, tuple(secrets))):
        yield


@contextmanager
def _step_with_status(title: str, failure: str | None, secrets: tuple[str, ...]) -> Iterator[None]:
    """A step shown failed with ``failure`` (an AssertionError handed to allure, never raised)."""
    ctx = _api.step(redact(title, secrets))
    ctx.__enter__()
    try:
        yield
    except BaseException as err:
        ctx.__exit__(type(err), err, err.__traceback__)
        raise
    if failure is None:
        ctx.__exit__(None, None, None)
    else:
        failed = AssertionError(redact(failure, secrets))
        ctx.__exit__(AssertionError, failed, None)


def _check_title(c: Check, phases: Mapping[str, PhaseResult]) -> str:
    phase = phases.get(c.name.rpartition("phase ")[2]) if c.group in ("phase", "harness phase") else None
    if phase is not None:  # the judge's word wins: a starved host's phase miss is inconclusive, not "too late"
        return phase_title(phase, c.category.title if c.category is Category.INCONCLUSIVE else None)
    return f"{c.name}: {'ok' if c.ok else c.category.title if c.category else '?'}"


def record_verdict(verdict: Verdict, secrets: Iterable[str] = ()) -> None:
    """One step per check, in the judge's order of groups (phases, harness-driven phases, safety,
    outcome, host); each shows the judge's own verdict and message, with its evidence inside."""
    secrets = tuple(secrets)
    phases = {p.phase: p for p in verdict.phases}
    for group in ("phase", "harness phase", "safety", "outcome", "host", "history"):
        for c in verdict.of_group(group):
            with _step_with_status(_check_title(c, phases), None if c.ok else c.message, secrets):
                attach_text(f"{c.name}: evidence", "\n".join(x for x in (c.message, c.evidence) if x) + "\n",
                            secrets)


def describe(text: str, secrets: Iterable[str] = ()) -> None:
    """The test's description in the report (redacted)."""
    _api.dynamic.description(redact(text, tuple(secrets)))


def status_text(status: ClusterStatus | str | None) -> str:
    """A cluster status as the report shows it: raw tool output as is, a parsed one as a summary."""
    if status is None:
        return "no status (no node answered)\n"
    if isinstance(status, str):
        return status
    lines = [f"cluster {status.cluster_name or '?'} seen from {status.local_node or '?'}: "
             f"running={status.running} quorate={status.quorate}"]
    if status.error:
        lines.append(f"error: {status.error}")
    lines += [f"member {m.name}: {'online' if m.online else 'offline'}" for m in status.members]
    lines += [f"service {s.name}: {s.state} on {s.owner or '-'}" for s in status.services]
    if status.quorum_device is not None:
        qd = status.quorum_device
        lines.append(f"quorum device {qd.name}: {'online' if qd.online else 'offline'}")
    lines += [f"fence {f.action} {f.target}: {f.status} (by {f.delegate or '?'}, at {f.completed or '?'})"
              for f in status.fence_history]
    return "\n".join(lines) + "\n"


def timeline_rows(timeline: Timeline) -> list[dict[str, Any]]:
    """The raw observations (without the parsed status objects) for a JSON attachment."""
    return [_row(o) for o in timeline.items()]


def _row(o: Observation) -> dict[str, Any]:
    row: dict[str, Any] = {"t": round(o.t, 3), "source": o.source, "node": o.node, "kind": o.kind}
    if o.detail:
        row["detail"] = o.detail
    if o.mounted is not None:
        row["mounted"] = o.mounted
    if o.holds_ip is not None:
        row["holds_ip"] = o.holds_ip
    return row


def attach_test_evidence(*, prediction: Prediction | None, phases: Sequence[PhaseResult], timeline: Timeline,
                         service: str, workdir: Path,
                         status_before: ClusterStatus | str | None = None,
                         status_after: ClusterStatus | str | None = None,
                         node_logs: Mapping[str, str] | None = None,
                         secrets: Iterable[str] = ()) -> Path | None:
    """Attach everything a reader needs to check one verdict; returns the timeline PNG if drawn.

    Attaches, at the level it is called (the test body): the timeline picture and the budget table
    first, then status before/after, each node's log for the fault window, the oracle's reasoning
    and its JSON, and the raw timeline. ``workdir`` (e.g. tmp_path) receives the PNG.
    """
    secrets = tuple(secrets)
    png: list[Path] = []
    parts: list[tuple[str, Callable[[], object]]] = [
        ("timeline picture", lambda: png.append(_draw_and_attach(
            timeline, prediction, phases, service, workdir / "timeline.png"))),
        ("budget table", lambda: attach_text("budget table", budget_table(phases), secrets)),
        ("status before", lambda: attach_text("status before", status_text(status_before), secrets)),
        ("status after", lambda: attach_text("status after", status_text(status_after), secrets)),
    ]
    for node, log in sorted((node_logs or {}).items()):
        parts.append((f"log {node}", partial(attach_text, f"log {node} (fault window)", log, secrets)))
    if prediction is not None:
        parts.append(("oracle reasoning", lambda: attach_text("oracle reasoning", reasoning_text(prediction),
                                                              secrets)))
        parts.append(("prediction", lambda: attach_json("prediction.json", prediction.to_json(), secrets)))
    parts.append(("timeline", lambda: attach_json("timeline.json", timeline_rows(timeline), secrets)))
    for what, attach in parts:
        _guarded(what, attach, secrets)
    return png[0] if png else None


def _draw_and_attach(timeline: Timeline, prediction: Prediction | None, phases: Sequence[PhaseResult],
                     service: str, path: Path) -> Path:
    timeline_png(timeline, prediction, phases, service, path)
    attach_png(path, "timeline")
    return path


def _guarded(what: str, attach: Callable[[], object], secrets: tuple[str, ...]) -> None:
    """Run one attachment; a failure becomes a visible note instead of breaking the verdict."""
    try:
        attach()
    except Exception as err:  # evidence must not change the verdict; the note shows what is missing
        _api.attach(redact(f"could not attach {what}: {type(err).__name__}: {err}\n", secrets),
                      name=f"evidence error: {what}", attachment_type=AttachmentType.TEXT)


def render_run(run: FaultRun, service: str, workdir: Path, secrets: Iterable[str] = ()) -> None:
    """Everything one run shows in its test's own body: the description (fault, target, the design's
    prediction), the timeline picture and budget table at the top, one step per phase and check
    with the judge's verdict, then the raw evidence. Renders the verdict; never recomputes it."""
    secrets = tuple(secrets)
    verdict = run.judgement
    prediction = verdict.prediction if verdict else run.prediction
    head = verdict.headline() if verdict else "no verdict"
    if verdict is not None and verdict.against:
        head += f" (judged against {verdict.candidate()}: the outcome nearest to what was observed)"
    _guarded("description", lambda: describe(f"{prediction_paragraph(prediction, run.role)}\n\nVerdict: {head}",
                                             secrets), secrets)
    attach_test_evidence(prediction=prediction, phases=verdict.phases if verdict else (), timeline=run.timeline,
                         service=service, workdir=workdir, status_before=run.status_before,
                         status_after=run.status_after,
                         node_logs={**{log.node: log.text or log.error for log in run.logs},
                                    **({"host fence path": run.fence_path_log} if run.fence_path_log else {})},
                         secrets=secrets)
    if verdict is not None:
        record_verdict(verdict, secrets)
        attach_text("verdict", "\n".join([verdict.headline(), f"judged against {verdict.candidate()}",
                                           *(str(c) for c in verdict.checks)]) + "\n", secrets)
    attach_text("harness overhead",
                f"test wall {run.wall_s:.1f} s, cluster fault-to-healthy {run.cluster_s:.1f} s, "
                f"ratio {run.wall_s / max(run.cluster_s, 0.001):.3f}\n", secrets)
    evidence = run.evidence
    if evidence is not None:  # what the judge read, to judge it again: `halab judge FILE`
        _guarded("history", lambda: _api.attach(history_text(run, secrets), name="history (halab judge FILE)",
                                                attachment_type=AttachmentType.JSON), secrets)


def keep_history(run: FaultRun, folder: Path, secrets: Iterable[str] = ()) -> Path | None:
    """The run's history file under ``folder`` (reports/histories/), redacted; None before judging.
    A history that cannot be written is a warning (pytest's summary shows it), never the run's
    outcome: the verdict was reached before and stands on its own."""
    known = tuple(secrets)
    try:
        text = history_text(run, known)
        if not text or run.evidence is None:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / history_file.file_name(run.fault, run.target, run.role, run.evidence.t0_wall)
        out.write_text(text + "\n", encoding="utf-8")
    except (TypeError, ValueError, OSError) as err:
        warnings.warn(redact(f"history not kept for {run.fault}[{run.target}]: {err}", known),
                      stacklevel=2)
        return None
    return out


def history_text(run: FaultRun, secrets: Iterable[str] = ()) -> str:
    """The run's history file (observe.history_file), every string redacted; "" before it was judged."""
    if run.evidence is None:
        return ""
    known = tuple(secrets)
    return history_file.dump(run.timeline, run.prediction, run.evidence, clean=lambda s: redact(s, known))


def quiet_fixtures(fixturedef: Any, request: Any) -> Iterator[None]:
    """A ``pytest_fixture_setup`` hook wrapper (register it with hookwrapper=True, tryfirst=True so
    it wraps allure-pytest's): drops pytest's bookkeeping finalizers from the report."""
    yield
    unwrap_anonymous_finalizers(fixturedef)


def unwrap_anonymous_finalizers(fixturedef: Any) -> None:
    """Undo allure-pytest's wrapping of pytest's own unnamed finalizers (the post-finalizer hook
    pytest adds to every fixture): they are bookkeeping, not a tear-down a reader cares about."""
    finalizers = getattr(fixturedef, "_finalizers", None) or []
    for i, fin in enumerate(finalizers):
        inner = getattr(fin, "_fixture_function", None)
        if inner is not None and getattr(inner, "__name__", "") == "<lambda>":
            finalizers[i] = inner


def mark_interrupted(item: Any, what: str) -> None:
    """The running test's Allure result becomes BROKEN "interrupted" instead of a pass.

    Why: allure-pytest sets a test's status from its setup report (passed) and only changes it
    from the call report, which an interrupt never produces; measured live, the broken-fence test
    interrupted by SIGINT 2 s into its call came out PASSED in the report. Reaches into
    allure-pytest's listener (registered as "allure_listener"); without one, nothing to do."""
    from allure_commons.model2 import Status, StatusDetails

    listener = item.config.pluginmanager.get_plugin("allure_listener")
    cache = getattr(listener, "_cache", None)
    uuid = cache.get(item.nodeid) if cache is not None else None
    if uuid is None:
        return
    result = listener.allure_logger.get_test(uuid)
    if result is not None:
        result.status = Status.BROKEN
        result.statusDetails = StatusDetails(message=f"interrupted ({what}): no verdict")


class AllureRedactor:
    """An allure_commons plugin that redacts each result and container in place before allure's
    own file logger writes it (tryfirst: it runs first, on the same object). Why: allure-pytest
    takes the failure message from the exception (``excinfo.exconly()``), not from the redacted
    pytest report, and the folder-wide pass at the session's end never runs after a crash."""

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        self.secrets = secrets  # read when a result is written: the lab's keys exist only once it is up

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        redact_object(result, list(self.secrets()))

    @allure_commons.hookimpl(tryfirst=True)
    def report_container(self, container: Any) -> None:
        redact_object(container, list(self.secrets()))
