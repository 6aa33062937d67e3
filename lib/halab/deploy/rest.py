"""A cluster at rest: nothing pending, so the first fault meets a cluster that has finished
starting (probes run, fence devices started, every rgmanager listening).

Why: measured in the chaos run, a suspend injected seconds after "service01 started" (after a
deploy, or a restore that had just started a node's stack) had its fence take 50 s (15-18 s at
rest) and its group start miss the window. The stack's own `settled` question is asked (pacemaker:
`crm_resource --wait`; rgmanager: clustat -x, every online member's rgmanager listening and no
service on its way); a cluster still busy at the stack's settle limit is taken as it is, said so.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from halab.errors import HalabError
from halab.lab.lab import Lab
from halab.stacks.base import get_adapter

POLL_S = 2.0


def at_rest(lab: Lab, node: str, cmd: str, timeout_s: float = 20.0) -> bool:
    """One look: the stack's settled command on ``node`` says nothing is pending (no answer: not yet)."""
    try:
        return lab.remote(node).run(cmd, timeout=timeout_s, connect_timeout=3).ok
    except HalabError:
        return False


def wait_at_rest(lab: Lab, node: str, progress: Callable[[str], None], what: str = "deploy") -> bool:
    """Ask ``node`` until the cluster is at rest or the stack's settle limit passed; True when at rest."""
    cmds = get_adapter(lab.spec.stack).commands
    if not cmds.settled:
        return True
    limit = cmds.settle_limit_s
    progress(f"{what}: waiting for the cluster at rest, nothing pending (at most {limit:.0f} s)")
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if at_rest(lab, node, cmds.settled):
            progress(f"{what}: cluster at rest after {time.monotonic() - started:.0f} s")
            return True
        time.sleep(POLL_S)
    progress(f"{what}: the cluster still reports work pending after {limit:.0f} s; going on")
    return False
