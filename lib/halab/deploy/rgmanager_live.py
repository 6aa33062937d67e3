"""The rgmanager deploy plan (halab.deploy.rgmanager), run live on a lab booted from the RHCS image.

Why the plan is the deploy: the dry-run a reader checks and what runs on the nodes are the same
steps, so they cannot drift. This module only runs them: phases in order, the `together` phase on
all nodes at the same moment (clstart_all), content and secrets fed through a root-only file that
is removed again (the fence key's value never enters a command line or a log), and every step
bounded. Then it waits until clustat shows the service started on its preferred node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from halab.deploy.rest import wait_at_rest
from halab.deploy.rgmanager import FENCE_KEY_SECRET, START_CLUSTER, Phase, Plan, Step, app_port, rgmanager_plan
from halab.deploy.start import start_failure_log, telling_lines
from halab.deploy.stop import stopped_or_reset
from halab.errors import HalabError, LabError
from halab.lab.lab import Lab
from halab.spec import LabSpec
from halab.stacks.base import get_adapter
from halab.stacks.lab_names import lab_adapter
from halab.stacks.types import ClusterStatus

Progress = Callable[[str], None]
STEP_TIMEOUT_S = 660.0  # the longest: waiting for rgmanager to load its agents under TCG
START_TIMEOUT_S = 600.0  # cman join + qdiskd's first master election + quorum, under TCG
SERVICE_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 240.0
STDIN_FILE = "/root/.halab-deploy-stdin"


# fs.sh's deepest status check (resource-agents 4.12.0 rgmanager/src/resources/fs.sh.in: depth 20,
# a write test, every 1m with a 30 s timeout): how long a dead data LUN can go unnoticed.
FS_CHECK_INTERVAL_S = 60
FS_CHECK_TIMEOUT_S = 30


@dataclass(frozen=True)
class Design:
    """What the failover tests need of an rgmanager design, in lab node names (node01, not node01h)."""

    service: str
    preferred_node: str
    allowed_nodes: tuple[str, ...]
    service_ip: str
    app_port: int
    mountpoint: str
    fs_monitor_interval_s: int = FS_CHECK_INTERVAL_S
    fs_monitor_timeout_s: int = FS_CHECK_TIMEOUT_S

    @property
    def restart_chain(self) -> tuple[str, ...]:
        """What stops and starts when the service moves: the service alone (one rgmanager service)."""
        return (self.service,)


def design_of(spec: LabSpec) -> Design:
    """The first service of cluster.conf and its failover domain, cluster names mapped to lab names."""
    from halab.clusterconf.reader import load_cluster_conf

    conf = load_cluster_conf(spec.cluster_conf_path())
    svc = next((s for s in conf.services if s.name), None)
    if svc is None or svc.name is None or conf.rm is None:
        raise LabError("cluster.conf has no service to fail over", str(spec.cluster_conf_path()))
    domain_name = conf.rm.service_domain(svc)
    domain = conf.rm.domain(domain_name) if domain_name else None
    members = domain.member_names() if domain else tuple(n.name for n in conf.nodes if n.name)
    lab_names = tuple(spec.node(m).name for m in members)
    resources = list(svc.walk())
    ip = next((r.attrs.get("address", "") for r in resources if r.tag == "ip"), "")
    mount = next((r.attrs.get("mountpoint", "") for r in resources if r.tag == "fs"), "")
    return Design(service=svc.name, preferred_node=lab_names[0], allowed_nodes=lab_names,
                  service_ip=ip.split("/", 1)[0], app_port=app_port(spec),
                  mountpoint=mount or spec.storage.by_role("data").mountpoint or "/data01")


def stop_cluster(lab: Lab, nodes: list[str] | None = None, progress: Progress = print) -> None:
    """Stop rgmanager and cman on the nodes (what a previous deploy left), all at once; a node
    whose stop hangs is reset (deploy.stop)."""
    cmd = get_adapter("rgmanager").commands.stop_local + " 2>/dev/null; true"
    names = nodes or [n.name for n in lab.spec.nodes]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(lambda n: stopped_or_reset(lab, n, cmd, STOP_TIMEOUT_S, progress), names))


def start_cluster(lab: Lab, nodes: list[str] | None = None) -> None:
    """cman (with qdiskd, fenced, dlm_controld) then rgmanager, on the nodes at the same moment."""
    names = nodes or [n.name for n in lab.spec.nodes]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(lambda n: lab.remote(n).run(START_CLUSTER, timeout=START_TIMEOUT_S, check=True), names))


def read_status(lab: Lab, node: str, timeout_s: float = 30.0) -> ClusterStatus:
    """clustat -x on ``node``, node names as the lab knows them."""
    adapter = lab_adapter(lab.spec)
    res = lab.remote(node).run(adapter.commands.status, timeout=timeout_s, check=True)
    return adapter.read_status(res.stdout)


def run_plan(lab: Lab, plan: Plan, progress: Progress = print) -> None:
    for phase in plan.phases:
        progress(f"deploy: {phase.name} ({', '.join(phase.nodes)})")
        if phase.together:
            with ThreadPoolExecutor(max_workers=len(phase.nodes)) as pool:
                list(pool.map(lambda n, p=phase: _run_steps(lab, n, p, progress), phase.nodes))
        else:
            for node in phase.nodes:
                _run_steps(lab, node, phase, progress)


def _run_steps(lab: Lab, node: str, phase: Phase, progress: Progress) -> None:
    timeout = START_TIMEOUT_S if phase.together else STEP_TIMEOUT_S
    for step in phase.steps:
        _run_step(lab, node, step, timeout, progress)


def _run_step(lab: Lab, node: str, step: Step, timeout: float, progress: Progress) -> None:
    if step.env:
        raise LabError(f"step {step.what!r} needs {', '.join(step.env)}: not a live step here", node)
    remote = lab.remote(node)
    cmd = step.command
    text = _secret(lab, step.secret_stdin) if step.secret_stdin else step.stdin
    if text is not None:
        remote.put_text(text, STDIN_FILE, mode=0o600)
        cmd = f"{{ {cmd} ; }} < {STDIN_FILE}; rc=$?; rm -f {STDIN_FILE}; exit $rc"
    res = remote.run(cmd, timeout=timeout)
    if not res.ok:
        tail = " | ".join((res.stderr or res.stdout).strip().splitlines()[-2:])
        raise LabError(f"deploy step {step.what!r} failed (exit {res.exit_code}): {tail}"
                       f"{_why_not_started(lab, node, step, progress)}", node)


def _why_not_started(lab: Lab, node: str, step: Step, progress: Progress) -> str:
    """For the cluster start: the stack's own last words on the node, in full to the progress and
    their telling lines in the error (the job's failure alone names no cause)."""
    if step.command != START_CLUSTER:
        return ""
    log, unread = start_failure_log(lab, node, get_adapter("rgmanager").commands)
    if unread is not None:
        return f" (its log could not be read: {unread})"
    progress(f"deploy: the stack did not start on {node}; its last log lines:\n{log}")
    said = telling_lines(log)
    return f"; its log: {said}" if said else ""


def _secret(lab: Lab, name: str) -> str:
    if name == FENCE_KEY_SECRET:
        return lab.paths.fence_key.read_text()
    raise LabError(f"no secret {name!r} known to the live deploy", lab.spec.name)


def wait_until(lab: Lab, node: str, what: str, ok: Callable[[ClusterStatus], bool], within_s: float,
               poll_s: float = 2.0) -> ClusterStatus:
    """Poll clustat on ``node`` until ``ok`` holds; a LabError naming ``what`` otherwise."""
    deadline = time.monotonic() + within_s
    last: ClusterStatus | str = ""
    while time.monotonic() < deadline:
        try:
            status = read_status(lab, node)
            if ok(status):
                return status
            last = status
        except HalabError as err:  # rgmanager still starting, or the node not answering yet
            last = str(err)
        time.sleep(poll_s)
    raise LabError(f"{what} not reached within {within_s:.0f} s "
                   f"(last: {last.brief() if isinstance(last, ClusterStatus) else last})", node)


def deploy(lab: Lab, progress: Progress = print) -> Design:
    """Stop what runs, run the plan, wait for the service on its preferred node."""
    spec = lab.spec
    design = design_of(spec)
    plan = rgmanager_plan(spec)
    started = time.monotonic()
    stop_cluster(lab, progress=progress)
    run_plan(lab, plan, progress)
    pref = spec.node(design.preferred_node)
    svc = design.service
    status = wait_until(lab, pref.name, f"{svc} started on {pref.name}",
                        lambda s: (x := s.service(svc)) is not None and x.state == "started"
                        and x.owner == pref.name,
                        SERVICE_TIMEOUT_S)
    progress(f"deploy: {svc} started on {pref.name}; cluster up in {time.monotonic() - started:.0f} s "
             f"(members {', '.join(status.online())})")
    wait_at_rest(lab, pref.name, progress)
    return design

