"""Bring the cluster back to healthy after a fault: every node up, in the cluster, service home.

This is the last step of every heal: a fenced node reboots outside the cluster (daemons are not
enabled at boot, the seed's advice), so the harness resumes/starts its domain, waits for SSH,
undoes link and firewall faults, logs in to iSCSI again, starts the cluster stack there, clears
fail counts and waits for the service to settle on its preferred node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from halab.errors import HalabError, LabError
from halab.faults import REGISTRY, heal_quietly
from halab.lab import domains
from halab.lab.lab import Lab, iscsi_login
from halab.stacks.base import Commands, get_adapter
from halab.stacks.lab_names import lab_adapter
from halab.stacks.types import ClusterStatus, Service

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


def restore(lab: Lab, service: str, preferred: str, within_s: float, progress: Progress = print,
            poll_s: float = 2.0) -> ClusterStatus:
    """Heal the cluster; returns the healthy status, raises LabError if not healthy within `within_s`."""
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
    return _wait_healthy(lab, service, preferred, names, deadline, poll_s)


def _needs_enable(lab: Lab, svc: Service | None) -> bool:
    """rgmanager keeps no fail counts: a service it stopped, disabled or failed stays so until
    someone enables it (pacemaker places its resources itself once failures are cleared)."""
    return lab.spec.stack == "rgmanager" and (svc is None or svc.state in ("stopped", "disabled", "failed"))


def _enable_on(lab: Lab, commands: Commands, service: str, preferred: str) -> None:
    from halab.stacks.lab_names import cluster_node_name

    node = cluster_node_name(lab.spec, preferred)
    cmd = (f"{commands.disable_service.format(service=service)} >/dev/null 2>&1; "
           f"{commands.enable_service.format(service=service, node=node)}")
    lab.remote(preferred).run(cmd, timeout=120)


def _wait_healthy(lab: Lab, service: str, preferred: str, names: list[str], deadline: float,
                  poll_s: float) -> ClusterStatus:
    adapter = lab_adapter(lab.spec)  # node names as the lab knows them (cluster.conf may say node01h)
    cleaned = False
    nudged = False
    last: ClusterStatus | str = "no status yet"
    while time.monotonic() < deadline:
        try:
            res = lab.remote(preferred).run(adapter.commands.status, timeout=20, connect_timeout=3)
            status = adapter.read_status(res.stdout)
            last = status
            online = set(names) <= set(status.online())
            svc = status.service(service)
            if online and not cleaned:
                if adapter.commands.clear_failures:
                    lab.remote(preferred).run(f"{adapter.commands.clear_failures} >/dev/null 2>&1", timeout=60)
                cleaned = True
            elif online and svc is not None and svc.state == "started" and svc.owner == preferred:
                return status
            elif online and not nudged and _needs_enable(lab, svc):
                _enable_on(lab, adapter.commands, service, preferred)
                nudged = True
        except HalabError as err:
            last = str(err)
        time.sleep(poll_s)
    raise LabError(f"cluster not healthy again in time (last: {last})", "restore")
