"""Bring the cluster back to the design's baseline after a fault: every node up, in the cluster,
the service where the design places it on a healthy cluster.

This is the last step of every heal: a fenced node reboots outside the cluster (daemons are not
enabled at boot, the seed's advice), so the harness resumes/starts its domain, waits for SSH,
undoes link and firewall faults, logs in to iSCSI again, starts the cluster stack there and clears
fail counts. A design that fails back then puts the service on its baseline node by itself; one
that does not (stickiness at or above the location score) would never get there, so after a short
settle the restore moves the service there and removes the move constraint it set, within the
same bounded time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from halab.errors import HalabError, LabError
from halab.faults import REGISTRY, heal_quietly
from halab.lab import domains
from halab.lab.lab import Lab, iscsi_login
from halab.stacks.base import get_adapter
from halab.stacks.types import ClusterStatus

Progress = Callable[[str], None]


def _wake(lab: Lab) -> None:
    for node in lab.spec.nodes:
        state = domains.state(node.domain)
        if state == "paused":
            domains.act(node.domain, "resume")
        elif state in ("shutoff", "crashed"):
            domains.act(node.domain, "start")


def _stack_running(lab: Lab, node: str) -> bool:
    return lab.remote(node).run(get_adapter(lab.spec.stack).commands.stack_running, timeout=15).ok


def sweep(lab: Lab, from_host: bool | None = None) -> None:
    """Heal every fault on every node: what an interrupted run may have left (session start).

    `from_host` limits it to the faults healed from the host (True) or inside the nodes (False):
    the restore heals host-side first, so that SSH to the nodes works, then the rest.
    """
    for fault_cls in REGISTRY.values():
        if from_host is not None and fault_cls.healed_from_host != from_host:
            continue
        for node in lab.spec.nodes:
            heal_quietly(fault_cls(), lab, node.name)


SETTLE_S = 20.0  # after all nodes are back: time for a fail-back design to move the service itself


def restore(lab: Lab, service: str, baseline: str, within_s: float, progress: Progress = print,
            poll_s: float = 2.0) -> ClusterStatus:
    """Heal the cluster back to ``baseline`` (the design's placement of ``service``); returns the
    healthy status, raises LabError if not there within `within_s`."""
    deadline = time.monotonic() + within_s
    sweep(lab, from_host=True)  # taps up, domains resumed / started: the nodes can answer again
    _wake(lab)
    names = [n.name for n in lab.spec.nodes]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(lambda n: lab.remote(n).wait_ssh(max(5.0, deadline - time.monotonic())), names))
    sweep(lab, from_host=False)  # links up, firewall rules gone, on nodes that answer now
    for n in names:
        iscsi_login(lab, lab.spec.node(n))
    down = [n for n in names if not _stack_running(lab, n)]
    adapter = get_adapter(lab.spec.stack)
    if down:
        progress(f"restore: starting the cluster stack on {', '.join(down)}")
        with ThreadPoolExecutor(max_workers=len(down)) as pool:
            list(pool.map(lambda n: lab.remote(n).run(adapter.commands.start_local, timeout=120, check=True),
                          down))
    return _Healer(lab, service, baseline, names, deadline, progress).wait(poll_s)


class _Healer:
    """Polls the cluster until it is back on the baseline, clearing failures once all nodes are in
    and moving the service back once (then clearing the move) when the design does not."""

    def __init__(self, lab: Lab, service: str, baseline: str, names: list[str], deadline: float,
                 progress: Progress) -> None:
        self.lab, self.service, self.baseline, self.names = lab, service, baseline, names
        self.deadline, self.progress = deadline, progress
        self.adapter = get_adapter(lab.spec.stack)
        self.cleaned_at: float | None = None
        self.moved = False

    def run(self, template: str, timeout: float = 60) -> None:
        cmd = template.format(service=self.service, node=self.baseline)
        self.lab.remote(self.baseline).run(f"{cmd} >/dev/null 2>&1", timeout=timeout)

    def wait(self, poll_s: float) -> ClusterStatus:
        last: ClusterStatus | str = "no status yet"
        while time.monotonic() < self.deadline:
            try:
                res = self.lab.remote(self.baseline).run(self.adapter.commands.status, timeout=20, connect_timeout=3)
                last = self.adapter.read_status(res.stdout)
                if self.step(last):
                    return last
            except HalabError as err:
                last = str(err)
            time.sleep(poll_s)
        raise LabError(f"cluster not back on its baseline ({self.service} on {self.baseline}) in time "
                       f"(last: {last})", "restore")

    def step(self, status: ClusterStatus) -> bool:
        """One look: True when done; otherwise does the next repair that is due."""
        if not set(self.names) <= set(status.online()):
            return False
        cmds = self.adapter.commands
        if self.cleaned_at is None:
            if cmds.clear_failures:
                self.run(cmds.clear_failures)
            self.cleaned_at = time.monotonic()
            return False
        svc = status.service(self.service)
        started = svc is not None and svc.state == "started"
        if started and svc is not None and svc.owner == self.baseline:
            if self.moved and cmds.clear_relocation:
                self.run(cmds.clear_relocation)
                self.progress(f"restore: {self.service} back on {self.baseline}; move constraint cleared")
                self.moved = False
                return False  # one more look: it must stay there without the constraint
            return True
        if started and not self.moved and time.monotonic() - self.cleaned_at >= SETTLE_S and cmds.relocate_service:
            owner = svc.owner if svc is not None else "?"
            self.progress(f"restore: {self.service} stays on {owner} (the design does not fail back); "
                          f"moving it to its baseline {self.baseline}")
            self.run(cmds.relocate_service, timeout=120)
            self.moved = True
        return False
