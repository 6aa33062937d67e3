"""Faults of one process on the node: a cluster daemon killed, the application failing."""

from __future__ import annotations

import shlex
from typing import Any, ClassVar

from halab.faults.base import Fault, ssh
from halab.lab.lab import Lab


class KillDaemon(Fault):
    id = "kill-daemon"
    description = ("cluster daemon killed with SIGKILL on the node "
                   "(corosync for pacemaker, cman/corosync for rgmanager)")
    daemons: ClassVar[dict[str, str]] = {"pacemaker": "corosync", "rgmanager": "corosync"}

    def inject(self, lab: Lab, target: str) -> None:
        ssh(lab, target, f"pkill -9 -x {self.daemons[lab.spec.stack]}")

    def heal(self, lab: Lab, target: str) -> None:
        """Nothing to undo on the node itself: the cluster restore restarts the stack there."""


class AppFailure(Fault):
    id = "app-failure"
    description = "the service's application dies (SIGKILL) on the node: its status check must fail"

    def app(self, lab: Lab) -> Any:
        return lab.spec.stack_config("pacemaker").get("app", "myappl")

    def inject(self, lab: Lab, target: str) -> None:
        # systemctl kill, not pkill -f: a pattern would also match the shell that runs it.
        ssh(lab, target, f"systemctl kill --signal=KILL {shlex.quote(str(self.app(lab)) + '.service')}")

    def heal(self, lab: Lab, target: str) -> None:
        """The cluster restarts or moves the application; the restore clears its fail count."""
