"""Timestamps as the stacks print them, read with their full precision.

Failover timings are judged to the sub-second, so a journal's microseconds must survive. Classic
syslog has no year and no zone: the caller supplies the year, and the result stays naive (node
clock, zone unknown) rather than being guessed into UTC; ISO forms keep their offset.
"""

from __future__ import annotations

import re
from datetime import datetime

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}

# "Nov 26 11:22:33", "Nov  6 11:22:33.123456" (journalctl -o short-precise)
SYSLOG = r"(?P<mon>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})\s+(?P<hms>\d{2}:\d{2}:\d{2})(?P<frac>\.\d+)?"
# "2026-11-26T11:22:33.123456+0000", "2026-11-26 11:22:33Z", "2022-03-06 23:27:35 +08:00"
ISO = (r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)"
       r"(?P<tz>\s?(?:Z|[+-]\d{2}:?\d{2}))?")
_SYSLOG_RE = re.compile(rf"^{SYSLOG}$")
_ISO_RE = re.compile(rf"^{ISO}$")
# ctime(): "Tue Apr  3 09:56:50 2012"
_CTIME_RE = re.compile(
    r"^(?:[A-Z][a-z]{2}\s+)?(?P<mon>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})\s+(?P<hms>\d{2}:\d{2}:\d{2})\s+(?P<year>\d{4})$"
)


def syslog_time(text: str, year: int) -> datetime | None:
    """`Nov 26 11:22:33[.ffffff]` in ``year``; None if it is no such time (e.g. Feb 30)."""
    match = _SYSLOG_RE.match(text.strip())
    if match is None or match.group("mon") not in MONTHS:
        return None
    frac = match.group("frac") or ""
    return _build(year, MONTHS[match.group("mon")], int(match.group("day")), match.group("hms"), frac)


def iso_time(text: str) -> datetime | None:
    """An ISO-8601 time as journald, pacemaker and rsyslog print it; None if it is not one."""
    match = _ISO_RE.match(text.strip())
    if match is None:
        return None
    tz = (match.group("tz") or "").strip()
    clock = match.group("time").replace(",", ".")
    if "." in clock:
        whole, frac = clock.split(".", 1)
        clock = f"{whole}.{(frac + '000000')[:6]}"
    try:
        return datetime.fromisoformat(f"{match.group('date')}T{clock}{tz}")
    except ValueError:
        return None


def ctime_time(text: str) -> datetime | None:
    """ctime() text (`Tue Apr  3 09:56:50 2012`), as crm_mon 1.1 and clustat print it."""
    match = _CTIME_RE.match(text.strip())
    if match is None or match.group("mon") not in MONTHS:
        return None
    return _build(int(match.group("year")), MONTHS[match.group("mon")], int(match.group("day")),
                  match.group("hms"), "")


def any_time(text: str) -> datetime | None:
    """Whichever of the stacks' time formats ``text`` is in (ISO or ctime), else None."""
    return iso_time(text) or ctime_time(text)


def _build(year: int, month: int, day: int, hms: str, frac: str) -> datetime | None:
    hour, minute, second = (int(x) for x in hms.split(":"))
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None
