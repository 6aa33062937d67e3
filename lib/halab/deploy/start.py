"""Why a cluster stack did not start on a node: its units' last log lines, read once.

Why: a failed start says only "Job for cman.service failed" on the command line. Live, the cause
sat in the unit's journal on the node and nowhere else: the restore of session 10, and the CI
deploy at b82a703, where fenced and dlm_controld logged "cpg_initialize error 2" (Debian's
libcpg had got into the RHCS image) and the run's error named nothing but the job.
"""

from __future__ import annotations

import re

from halab.errors import HalabError
from halab.lab.lab import Lab
from halab.lab.remote import EVIDENCE_CONNECT_TIMEOUT_S
from halab.stacks.base import Commands

LOG_TIMEOUT_S = 20.0
_SYSTEMD = (" systemd[1]: ", "-- No entries --", "-- Boot ")
_JOURNAL_LINE = re.compile(r"^(?:\d{4}-\d\d-\d\dT\S+|\[\s*\d+\.\d+\])\s+\S+\s+"  # time (iso or monotonic), host
                           r"(?P<ident>[^\s\[:]+)(?:\[\d+\])?:\s?(?P<msg>.*)$")


def start_failure_log(lab: Lab, node: str, commands: Commands) -> tuple[str, str | None]:
    """The stack's last log lines on ``node`` (``commands.start_failed_log``), or why they could
    not be read: (log, None) or ("", reason)."""
    try:
        res = lab.remote(node).run(commands.start_failed_log, timeout=LOG_TIMEOUT_S,
                                   connect_timeout=EVIDENCE_CONNECT_TIMEOUT_S)
    except HalabError as err:
        return "", str(err)
    return res.stdout.rstrip(), None


def telling_lines(log: str) -> str:
    """A unit log's cause and end for a one-line error: its first line saying "error" and its last
    line, both from the stack, not systemd's own bookkeeping ("Failed with result", "Consumed 4.5s
    CPU time"), without the journal's time and host. The first error is the cause more often than
    the last: fenced logs "cpg_initialize error 2", then "cpg_leave error 9" because of it."""
    lines = [_short(ln) for ln in log.splitlines() if ln.strip() and not any(s in ln for s in _SYSTEMD)]
    if not lines:
        return ""
    first_error = next((ln for ln in lines if "error" in ln.lower()), None)
    picked = [first_error, lines[-1]] if first_error and first_error != lines[-1] else [lines[-1]]
    return " | ".join(picked)


def _short(line: str) -> str:
    """'2026-12-03T08:57:01+0000 node01 fenced[690]: msg' (or journalctl's short-monotonic time)
    -> 'fenced: msg'; other lines as they are."""
    m = _JOURNAL_LINE.match(line.strip())
    return f"{m['ident']}: {m['msg']}" if m else line.strip()
