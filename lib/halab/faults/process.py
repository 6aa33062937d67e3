"""Faults of one process on the node: a cluster daemon killed, the application failing."""

from __future__ import annotations

import shlex
from typing import Any, ClassVar

from halab.faults import effect as fx
from halab.faults.base import Fault, ssh_stamped
from halab.lab.lab import Lab


class KillDaemon(Fault):
    id = "kill-daemon"
    effect = fx.kill(fx.CLUSTER_DAEMON)
    description = ("cluster daemon killed with SIGKILL on the node "
                   "(corosync for pacemaker, cman/corosync for rgmanager)")
    daemons: ClassVar[dict[str, str]] = {"pacemaker": "corosync", "rgmanager": "corosync"}

    def inject(self, lab: Lab, target: str) -> tuple[float, float] | None:
        return ssh_stamped(lab, target, f"pkill -9 -x {self.daemons[lab.spec.stack]}")

    def heal(self, lab: Lab, target: str) -> None:
        """Nothing to undo on the node itself: the cluster restore restarts the stack there."""


class AppFailure(Fault):
    id = "app-failure"
    effect = fx.kill(fx.APPLICATION)
    description = "the service's application dies (SIGKILL) on the node: its status check must fail"

    def app(self, lab: Lab) -> Any:
        from halab.cib.lab import lab_design

        return lab_design(lab.spec).app

    def inject(self, lab: Lab, target: str) -> tuple[float, float] | None:
        # systemctl kill, not pkill -f: a pattern would also match the shell that runs it.
        return ssh_stamped(lab, target, f"systemctl kill --signal=KILL {shlex.quote(str(self.app(lab)) + '.service')}")

    def heal(self, lab: Lab, target: str) -> None:
        """The cluster restarts or moves the application; the restore clears its fail count."""
