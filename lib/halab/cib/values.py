"""Pacemaker's value syntax: scores (INFINITY) and durations ("60s", "1m", "500ms", "PT1M")."""

from __future__ import annotations

import re

from halab.cib.model import INFINITY
from halab.errors import ConfigError

_UNITS = {"ms": 0.001, "msec": 0.001, "s": 1.0, "sec": 1.0, "": 1.0, "m": 60.0, "min": 60.0,
          "h": 3600.0, "hr": 3600.0, "us": 1e-6, "usec": 1e-6}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
# ISO 8601 durations as pacemaker reads them ("PT1M", and the lenient "P10S" its tests use)
_ISO = re.compile(r"^P(?:(\d+)D)?(?:T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)$", re.IGNORECASE)


def duration_s(raw: str | None, what: str) -> float | None:
    """Seconds of a pacemaker interval/timeout; None when unset. Pacemaker reads a bare number as s."""
    if raw is None or raw.strip() == "":
        return None
    m = _DURATION.match(raw)
    if m and m.group(2).lower() in _UNITS:
        return float(m.group(1)) * _UNITS[m.group(2).lower()]
    iso = _ISO.match(raw.strip())
    if iso and raw.strip().upper() != "PT":
        d, h, mi, s = (float(x) if x else 0.0 for x in iso.groups())
        return d * 86400 + h * 3600 + mi * 60 + s
    raise ConfigError(f"{what}: {raw!r} is not a duration (e.g. 60s, 1m, 500ms)")


def score(raw: str | None, what: str) -> int:
    """A constraint score: an integer, or [+-]INFINITY (also "inf"); clamped to +-INFINITY."""
    if raw is None or raw.strip() == "":
        return 0
    text = raw.strip().lower()
    if text in ("infinity", "+infinity", "inf", "+inf"):
        return INFINITY
    if text in ("-infinity", "-inf"):
        return -INFINITY
    try:
        return max(-INFINITY, min(INFINITY, int(text)))
    except ValueError:
        raise ConfigError(f"{what}: score {raw!r} is not an integer or INFINITY") from None


def boolean(raw: str | None, default: bool) -> bool:
    """Pacemaker's booleans: true/false, yes/no, on/off, 1/0, y/n."""
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in ("true", "yes", "on", "1", "y")
