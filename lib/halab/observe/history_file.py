"""One run's history as a file: everything the judge reads, written once the run is judged, and
read back to judge it again (`halab judge FILE`).

Why: the judge is a checker over one history and nothing else (Jepsen's shape). Keeping that
history lets anyone re-run today's checkers over yesterday's run — a verdict can be reproduced
from the report alone, and a change to the judge can be tried on real live runs before it meets
a lab. The file holds the timeline (observations in seconds after t0, harness marks included),
the prediction the run was judged against (with its alternatives) and the judge's other evidence
(baseline status, fence history, the record written before the fault).

Format: JSON; dataclasses carry their type name (only the types below are ever built back: a
file cannot make the reader construct anything else), tuples and datetimes are tagged.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from halab.errors import ParseError
from halab.observe.judge import Evidence
from halab.observe.timeline import Observation, Timeline
from halab.oracle.model import Prediction

FORMAT = "halab-history/1"
KIND = "history"


def _reachable(roots: Iterable[type]) -> dict[str, type]:
    """Every dataclass a field of ``roots`` can hold, found from their type hints: a stack that
    adds a field (rgmanager's quorum device) is part of the history without anyone listing it."""
    found: dict[str, type] = {}
    todo = list(roots)
    while todo:
        cls = todo.pop()
        if not dataclasses.is_dataclass(cls) or cls.__name__ in found:
            continue
        found[cls.__name__] = cls
        for hint in typing.get_type_hints(cls).values():
            todo.extend(_classes_in(hint))
    return found


def _classes_in(hint: Any) -> list[type]:
    args = typing.get_args(hint)
    if args:
        return [c for a in args for c in _classes_in(a)]
    return [hint] if isinstance(hint, type) else []


# The only types a history file may name: what the judge's inputs can hold, and nothing else.
TYPES: dict[str, type] = _reachable((Observation, Prediction, Evidence))


Clean = Callable[[str], str]


def _keep(text: str) -> str:
    return text


def _encode(value: Any, clean: Clean = _keep) -> Any:
    def enc(v: Any) -> Any:
        return _encode(v, clean)

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in TYPES:
            raise TypeError(f"{name} is not part of a history")
        return {"__type__": name, **{f.name: enc(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"__tuple__": [enc(v) for v in value]}
    if isinstance(value, list):
        return [enc(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): enc(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, str):
        return clean(value)
    if value is None or isinstance(value, (int, float, bool)):
        return value
    raise TypeError(f"{type(value).__name__} is not part of a history")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__type__" in value:
        cls = TYPES.get(value["__type__"])
        if cls is None:
            raise ValueError(f"unknown type {value['__type__']!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _decode(v) for k, v in value.items() if k in names})
    return {k: _decode(v) for k, v in value.items()}


def dump(timeline: Timeline, prediction: Prediction, evidence: Evidence, clean: Clean = _keep) -> str:
    """The run's history as JSON (observations in seconds after t0); ``clean`` is applied to every
    string (the caller's redaction: applied to the whole text, a pattern could eat a quote)."""
    return json.dumps({"format": FORMAT, "items": _encode(tuple(timeline.items()), clean),
                       "prediction": _encode(prediction, clean), "evidence": _encode(evidence, clean)})


def file_name(fault: str, target: str, role: str, t0_wall: float) -> str:
    """Where a run's history goes under reports/histories/: when, what, on whom."""
    stamp = datetime.fromtimestamp(t0_wall).strftime("%Y%m%d-%H%M%S") if t0_wall else "unknown"
    return f"{stamp}-{fault}-{target}-{role}.json"


def load(text: str) -> tuple[Timeline, Prediction, Evidence]:
    """A history file back as what the judge takes; a file that is not one is a ParseError."""
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        items, prediction, evidence = (_decode(raw[k]) for k in ("items", "prediction", "evidence"))
        if not isinstance(prediction, Prediction) or not isinstance(evidence, Evidence) or \
                not all(isinstance(o, Observation) for o in items):
            raise ValueError("items, prediction or evidence of the wrong kind")
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        raise ParseError(KIND, str(err)) from None
    timeline = Timeline()
    timeline.t0_mono = timeline.mono_start  # stored times are already seconds after t0
    timeline.t0_wall = evidence.t0_wall
    for o in items:
        timeline.add(o)
    return timeline, prediction, evidence
