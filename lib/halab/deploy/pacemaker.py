"""The seed's cluster design expressed in corosync 3 + pacemaker, deployed live on the lab's nodes.

Translation of the seed's cluster.conf (each choice is what the oracle models):
- totem: knet on the heartbeat network only, token from the timing profile (seed: 20000 ms);
  two_node for 2 nodes (the seed's expected_votes=3 with a quorum-disk vote).
- fencing: one fence_virsh device per node against the lab host's fence sshd over the management
  network (the seed's kvmhost01); the device that fences `fence_delay_node` waits
  `fence_delay_s` (pcmk_delay_base): on a heartbeat split that node always wins the fence race,
  which is the quorum disk's tie-break role (master_wins).
- disk liveness (the quorum disk's other role): the Filesystem monitor writes to the data LUN
  over iSCSI (OCF_CHECK_LEVEL=20); a failed stop is fenced (pacemaker's default with stonith).
- service01: a group IPaddr2 -> Filesystem (LUN 2 by path) -> myappl, the seed's ip/fs/script
  order; location preference for the preferred node, -INFINITY elsewhere outside allowed nodes
  (ordered, restricted dom01); stickiness from the design (0: fail back like ordered="1");
  pacemaker's default recovery (restart in place; a failed start bans the node).
- cluster daemons are not enabled at boot: a fenced node stays out until the harness rejoins it.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from halab.errors import HalabError, LabError
from halab.lab.lab import FENCE_KEY_ON_NODE, Lab
from halab.proc import parallel
from halab.spec import LabSpec
from halab.stacks.base import get_adapter
from halab.stacks.types import ClusterStatus

Progress = Callable[[str], None]
START_TIMEOUT_S = 240.0


@dataclass(frozen=True)
class Design:
    """The pacemaker design of a lab spec, with every value the deploy and the oracle share."""

    cluster_name: str
    token_ms: int
    service: str
    service_ip: str
    service_prefix: int
    service_nic: str
    preferred_node: str
    allowed_nodes: tuple[str, ...]
    stickiness: int
    fence_delay_node: str
    fence_delay_s: int
    fence_host: str
    fence_login: str
    data_device: str
    mountpoint: str
    fstype: str
    app: str
    app_port: int
    fs_monitor_interval_s: int
    fs_monitor_timeout_s: int
    fs_stop_timeout_s: int
    ip_monitor_interval_s: int
    app_monitor_interval_s: int
    stonith_timeout_s: int = 60


def design_of(spec: LabSpec) -> Design:
    cfg: Mapping[str, Any] = spec.stack_config("pacemaker")
    data = spec.storage.by_role("data")
    svc_net = spec.network(str(cfg.get("service_ip_network", "service")))
    portal = spec.network(spec.storage.network).host
    device = f"/dev/disk/by-path/ip-{portal}:3260-iscsi-{spec.storage.target}-lun-{data.lun}"
    return Design(
        cluster_name=str(cfg.get("cluster_name", spec.name)),
        token_ms=spec.timing.token_ms,
        service=str(cfg["service"]),
        service_ip=str(cfg["service_ip"]),
        service_prefix=svc_net.prefixlen,
        service_nic="svc",
        # node names as pacemaker knows them, whichever of its names the spec used (as the oracle reads them)
        preferred_node=spec.node(str(cfg["preferred_node"])).name,
        allowed_nodes=tuple(spec.node(str(n)).name for n in cfg.get("allowed_nodes", [n.name for n in spec.nodes])),
        stickiness=int(cfg.get("stickiness", 0)),
        fence_delay_node=spec.node(str(cfg["fence_delay_node"])).name if cfg.get("fence_delay_node") else "",
        fence_delay_s=int(cfg.get("fence_delay_s", 0)),
        fence_host=str(spec.network(str(cfg.get("fence_network", "management"))).host),
        fence_login=str(cfg.get("fence_login", "root")),
        data_device=device,
        mountpoint=data.mountpoint or "/data01",
        fstype=data.fstype or "ext4",
        app=str(cfg.get("app", "myappl")),
        app_port=int(cfg.get("app_port", 8080)),
        fs_monitor_interval_s=int(cfg.get("fs_monitor_interval_s", 20)),
        fs_monitor_timeout_s=int(cfg.get("fs_monitor_timeout_s", 40)),
        fs_stop_timeout_s=int(cfg.get("fs_stop_timeout_s", 60)),
        ip_monitor_interval_s=int(cfg.get("ip_monitor_interval_s", 10)),
        app_monitor_interval_s=int(cfg.get("app_monitor_interval_s", 10)),
        stonith_timeout_s=int(cfg.get("stonith_timeout_s", 60)),
    )


def corosync_conf(spec: LabSpec, design: Design) -> str:
    cfg = spec.stack_config("pacemaker")
    ring = str(cfg.get("ring_network", "heartbeat"))
    nodes = "\n".join(
        f"    node {{\n        ring0_addr: {n.on(ring).address}\n        name: {n.name}\n"
        f"        nodeid: {n.index}\n    }}"
        for n in spec.nodes
    )
    # as the oracle reads it: two_node unless the spec says otherwise, and only for 2 nodes
    two_node = "    two_node: 1\n" if len(spec.nodes) == 2 and bool(cfg.get("two_node", True)) else ""
    return (
        "# written by halab: the seed's totem on the heartbeat network only\n"
        f"totem {{\n    version: 2\n    cluster_name: {design.cluster_name}\n    transport: knet\n"
        f"    token: {design.token_ms}\n    crypto_cipher: none\n    crypto_hash: none\n}}\n\n"
        f"nodelist {{\n{nodes}\n}}\n\n"
        f"quorum {{\n    provider: corosync_votequorum\n{two_node}}}\n\n"
        "logging {\n    to_syslog: yes\n    to_logfile: no\n    to_stderr: no\n    timestamp: on\n}\n"
    )


def _nv(owner: str, pairs: Mapping[str, object], kind: str = "instance_attributes") -> str:
    items = "".join(f"<nvpair id={quoteattr(f'{owner}-{k}')} name={quoteattr(k)} value={quoteattr(str(v))}/>"
                    for k, v in pairs.items())
    return f"<{kind} id={quoteattr(f'{owner}-{kind[:4]}')}>{items}</{kind}>"


def _op(rsc: str, name: str, interval: int, timeout: int, extra: Mapping[str, object] | None = None) -> str:
    inner = _nv(f"{rsc}-{name}-{interval}", extra) if extra else ""
    return (f"<op id={quoteattr(f'{rsc}-{name}-{interval}')} name={quoteattr(name)} interval='{interval}s' "
            f"timeout='{timeout}s'>{inner}</op>")


def resources_xml(spec: LabSpec, design: Design) -> str:
    fences = []
    for node in spec.nodes:
        rid = f"fence_{node.name}"
        attrs: dict[str, object] = {
            "ip": design.fence_host, "username": design.fence_login, "identity_file": FENCE_KEY_ON_NODE,
            "plug": node.domain, "pcmk_host_list": node.name, "ssh": "1", "login_timeout": "10",
        }
        if node.name == design.fence_delay_node and design.fence_delay_s:
            attrs["pcmk_delay_base"] = f"{design.fence_delay_s}s"
        fences.append(f"<primitive id='{rid}' class='stonith' type='fence_virsh'>{_nv(rid, attrs)}"
                      f"<operations>{_op(rid, 'monitor', 120, 60)}</operations></primitive>")
    s = design.service
    ip = (f"<primitive id='{s}-ip' class='ocf' provider='heartbeat' type='IPaddr2'>"
          + _nv(f"{s}-ip", {"ip": design.service_ip, "cidr_netmask": design.service_prefix,
                            "nic": design.service_nic})
          + f"<operations>{_op(f'{s}-ip', 'monitor', design.ip_monitor_interval_s, 20)}"
          + "</operations></primitive>")
    fs = (f"<primitive id='{s}-fs' class='ocf' provider='heartbeat' type='Filesystem'>"
          + _nv(f"{s}-fs", {"device": design.data_device, "directory": design.mountpoint,
                            "fstype": design.fstype})
          + "<operations>"
          + _op(f"{s}-fs", "monitor", design.fs_monitor_interval_s, design.fs_monitor_timeout_s,
                {"OCF_CHECK_LEVEL": 20})
          + _op(f"{s}-fs", "start", 0, 60) + _op(f"{s}-fs", "stop", 0, design.fs_stop_timeout_s)
          + "</operations></primitive>")
    app = (f"<primitive id='{s}-app' class='systemd' type='{design.app}'>"
           f"<operations>{_op(f'{s}-app', 'monitor', design.app_monitor_interval_s, 20)}"
           f"{_op(f'{s}-app', 'start', 0, 60)}{_op(f'{s}-app', 'stop', 0, 60)}</operations></primitive>")
    group = f"<group id='{s}'>{ip}{fs}{app}</group>"
    return f"<resources>{''.join(fences)}{group}</resources>"


def constraints_xml(spec: LabSpec, design: Design) -> str:
    rules = [f"<rsc_location id='loc-fence_{n.name}-not-self' rsc='fence_{n.name}' node='{n.name}' "
             "score='-INFINITY'/>"
             for n in spec.nodes]
    rules.append(f"<rsc_location id='loc-{design.service}-prefers' rsc='{design.service}' "
                 f"node='{design.preferred_node}' score='100'/>")
    rules += [f"<rsc_location id='loc-{design.service}-not-{n.name}' rsc='{design.service}' node='{n.name}' "
              "score='-INFINITY'/>" for n in spec.nodes if n.name not in design.allowed_nodes]
    return f"<constraints>{''.join(rules)}</constraints>"


def properties(design: Design) -> dict[str, str]:
    return {"stonith-enabled": "true", "stonith-timeout": f"{design.stonith_timeout_s}s",
            "no-quorum-policy": "stop", "stonith-action": "reboot"}


def start_cluster(lab: Lab, nodes: list[str] | None = None, timeout_s: float = 120.0) -> None:
    """Start corosync + pacemaker on the given nodes at the same time (the seed's clstart_all)."""
    cmd = get_adapter("pacemaker").commands.start_local
    names = nodes or [n.name for n in lab.spec.nodes]
    parallel(lambda n: lab.remote(n).run(cmd, timeout=timeout_s, check=True), names)


def read_status(lab: Lab, node: str, timeout_s: float = 30.0) -> ClusterStatus:
    adapter = get_adapter("pacemaker")
    res = lab.remote(node).run(adapter.commands.status, timeout=timeout_s, check=True)
    return adapter.read_status(res.stdout)


def wait_until(lab: Lab, node: str, what: str, ok: Callable[[ClusterStatus], bool], within_s: float,
               poll_s: float = 2.0, progress: Progress | None = None) -> ClusterStatus:
    """Poll the cluster status on `node` until `ok` holds; raise a LabError naming `what` otherwise.
    Each poll is capped by what is left, so the wait ends at its bound."""
    if progress is not None:
        progress(f"deploy: waiting for {what} (at most {within_s:.0f} s)")
    deadline = time.monotonic() + within_s
    last: ClusterStatus | None = None
    last_err = ""
    while time.monotonic() < deadline:
        try:
            last = read_status(lab, node, timeout_s=max(1.0, min(30.0, deadline - time.monotonic())))
            if ok(last):
                return last
        except HalabError as err:  # not answering yet, or pacemaker still starting (no CIB yet)
            last_err = str(err)
        time.sleep(poll_s)
    raise LabError(f"{what} not reached within {within_s:.0f} s (last: {last or last_err})", node)


def deploy(lab: Lab, progress: Progress = print) -> Design:
    """Write corosync.conf, start all nodes together, load the CIB, wait for the service."""
    spec = lab.spec
    design = design_of(spec)
    names = [n.name for n in spec.nodes]
    first = design.preferred_node
    conf = corosync_conf(spec, design)
    progress(f"deploy: corosync.conf (knet on heartbeat, token {design.token_ms} ms) on {', '.join(names)}")
    for n in names:
        lab.remote(n).run("systemctl stop pacemaker corosync 2>/dev/null; rm -f /var/lib/pacemaker/cib/cib*",
                          timeout=120)
        lab.remote(n).put_text(conf, "/etc/corosync/corosync.conf")
    progress(f"deploy: {design.fstype} on the data LUN ({design.data_device})")
    dev = shlex.quote(design.data_device)
    lab.remote(first).run(f"wipefs -a {dev} >/dev/null; mkfs.{shlex.quote(design.fstype)} -q -F {dev}",
                          timeout=120, check=True)
    started = time.monotonic()
    progress("deploy: starting corosync + pacemaker on all nodes together")
    start_cluster(lab)
    wait_until(lab, first, "all nodes online", lambda s: set(names) <= set(s.online()), START_TIMEOUT_S,
               progress=progress)
    progress(f"deploy: all nodes online after {time.monotonic() - started:.0f} s; loading the CIB")
    remote = lab.remote(first)
    for key, value in properties(design).items():
        remote.run(f"crm_attribute --type crm_config --name {shlex.quote(key)} --update {shlex.quote(str(value))}",
                   timeout=60, check=True)
    remote.run(f"crm_attribute --type rsc_defaults --name resource-stickiness --update {int(design.stickiness)}",
               timeout=60, check=True)
    remote.put_text(resources_xml(spec, design), "/root/halab-resources.xml")
    remote.put_text(constraints_xml(spec, design), "/root/halab-constraints.xml")
    # Resources first: the schema checks that every constraint names an existing resource.
    remote.run("cibadmin --replace --scope resources --xml-file /root/halab-resources.xml && "
               "cibadmin --replace --scope constraints --xml-file /root/halab-constraints.xml",
               timeout=60, check=True)
    svc = design.service
    status = wait_until(lab, first, f"{svc} started on {first}",
                        lambda s: (x := s.service(svc)) is not None and x.state == "started"
                        and x.owner == first,
                        START_TIMEOUT_S, progress=progress)
    progress(f"deploy: {svc} started on {first}; cluster up in {time.monotonic() - started:.0f} s "
             f"(members {', '.join(status.online())})")
    return design
