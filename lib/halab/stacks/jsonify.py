"""Result types as JSON, with the key names `halab parse --json` promises.

Status kinds: ``quorate`` (true/false/null), ``members`` [{name, online, ...}], ``services``
[{name, state, owner, ...}]; vote kinds: ``quorate``, ``expected_votes``, ``total_votes``,
``quorum``. Times are ISO 8601 (with the offset when the source had one).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from halab.stacks.types import Votes

_VOTE_KEYS = {"expected": "expected_votes", "total": "total_votes"}


def to_json(value: object) -> Any:
    """Dataclasses, tuples, enums and datetimes as plain JSON values (Votes with renamed keys)."""
    if isinstance(value, Votes):
        return {_VOTE_KEYS.get(k, k): v for k, v in _fields(value).items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _fields(value: object) -> dict[str, Any]:
    return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}  # type: ignore[arg-type]
