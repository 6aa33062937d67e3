"""A lab's pacemaker design (its CIB + corosync.conf, mapped onto the lab) deployed live on the nodes.

The design is the user's files (``[stacks.pacemaker] cib`` and ``corosync``), read and mapped once
by halab.cib.lab: this module only puts the mapped corosync.conf on every node, makes the data
LUNs' file systems, starts all nodes together and loads the mapped configuration section by
section (resources before the constraints that name them). The cluster daemons are not enabled at
boot: a fenced node stays out until the harness rejoins it.

A design with a quorum device also gets the lab's corosync-qnetd (halab.lab.qnetd) started on the
host side, and on every node a systemd drop-in that makes pacemaker want corosync-qdevice: so
`systemctl start corosync pacemaker` (the deploy's, and the restore's after a fence) starts the
qdevice too, and stopping corosync stops it (corosync-qdevice.service requires corosync).
"""

from __future__ import annotations

import base64
import itertools
import os
import shlex
import time
from collections.abc import Callable, Iterator

from lxml import etree

from halab.cib.corosync import read_corosync
from halab.cib.lab import LabDesign, lab_design
from halab.cib.reader import parse_xml
from halab.deploy.rest import wait_at_rest
from halab.deploy.stop import stopped_or_reset
from halab.errors import HalabError, LabError
from halab.lab import qnetd
from halab.lab.lab import Lab
from halab.lab.paths import LabPaths
from halab.proc import parallel
from halab.spec import LabSpec
from halab.stacks.base import get_adapter
from halab.stacks.types import ClusterStatus

Progress = Callable[[str], None]
START_TIMEOUT_S = 240.0
# cibadmin scopes in load order: a constraint or fencing level must name an existing resource
SCOPES = ("crm_config", "rsc_defaults", "op_defaults", "resources", "constraints", "fencing-topology")
Design = LabDesign  # what the scenario and fixtures hold: the one design object
AUTHKEY = "/etc/corosync/authkey"
AUTHKEY_BYTES = 256  # corosync-keygen's default length (2048 bits)
QDEVICE_DROPIN = "/etc/systemd/system/pacemaker.service.d/halab-qdevice.conf"
QDEVICE_UNIT = "[Unit]\nWants=corosync-qdevice.service\nAfter=corosync-qdevice.service\n"
QDEVICE_ON = (f"command -v corosync-qdevice >/dev/null || {{ echo 'corosync-qdevice is not on this node: its image "
              f"predates it (halab down, then halab up builds the current image)' >&2; exit 1; }} "
              f"&& mkdir -p {os.path.dirname(QDEVICE_DROPIN)}")
QDEVICE_OFF = f"if [ -e {QDEVICE_DROPIN} ]; then rm -f {QDEVICE_DROPIN} && systemctl daemon-reload; fi"
RELOAD = "systemctl daemon-reload"


def needs_authkey(corosync_conf: str) -> bool:
    """corosync 3 encrypts and signs knet traffic when totem names a crypto_cipher or crypto_hash
    other than none, and then will not start without /etc/corosync/authkey (measured live: the
    web3 design's aes256/sha256 ended the deploy with "systemctl start corosync ... failed")."""
    totem = read_corosync(corosync_conf).totem
    return any(totem.get(key, "none") != "none" for key in ("crypto_cipher", "crypto_hash"))


def put_authkey(lab: Lab, names: list[str]) -> None:
    """One fresh key for the lab's nodes (the design's own key is the user's secret and is not
    asked for). It travels as a file created 0400 and never on a command line or in a log."""
    key = base64.b64encode(os.urandom(AUTHKEY_BYTES)).decode()
    for n in names:
        remote = lab.remote(n)
        remote.put_text(key + "\n", f"{AUTHKEY}.b64", mode=0o400)
        remote.run(f"umask 077 && base64 -d {AUTHKEY}.b64 > {AUTHKEY}.new && mv -f {AUTHKEY}.new {AUTHKEY} "
                   f"&& rm -f {AUTHKEY}.b64", timeout=30, check=True)


def has_device(design: LabDesign) -> bool:
    """The mapped design names a quorum device (corosync-qdevice on the nodes, qnetd on the host)."""
    c = design.design.corosync
    return c is not None and c.device is not None


def qdevice_unit(lab: Lab, names: list[str], on: bool) -> None:
    """Put (or remove, when the design has no device) the drop-in that starts corosync-qdevice
    with pacemaker, then reload systemd; removal is a no-op on a node that never had it."""
    for n in names:
        remote = lab.remote(n)
        if not on:
            remote.run(QDEVICE_OFF, timeout=60, check=True)
            continue
        remote.run(QDEVICE_ON, timeout=30, check=True)
        remote.put_text(QDEVICE_UNIT, QDEVICE_DROPIN)
        remote.run(RELOAD, timeout=60, check=True)


def start_qnetd(lab: Lab, progress: Progress) -> None:
    """The lab's qnetd, started unless it runs already (a redeploy keeps it: its clusters reconnect)."""
    where = f"{qnetd.address(lab.spec)}:{qnetd.PORT}"
    started = qnetd.ensure(lab.spec, lab.paths)
    progress(f"deploy: quorum device: the lab's qnetd {'started' if started else 'already running'} at {where} "
             f"(log {lab.paths.logs / (qnetd.NAME + '.log')})")


def quorum_device(lab: Lab, design: LabDesign, names: list[str], progress: Progress) -> None:
    """The drop-in on every node (removed when the design has no device), then the lab's qnetd."""
    on = has_device(design)
    if on:
        progress(f"deploy: corosync-qdevice starts with pacemaker on {', '.join(names)} ({QDEVICE_DROPIN})")
    qdevice_unit(lab, names, on)
    if on:
        start_qnetd(lab, progress)


def design_of(spec: LabSpec) -> LabDesign:
    return lab_design(spec)


def sections(design: LabDesign) -> list[tuple[str, str]]:
    """(scope, XML) of every configuration section the design has, in load order."""
    conf = parse_xml(design.cib_xml, "cib").find("configuration")
    out = []
    for scope in SCOPES:
        el = None if conf is None else conf.find(scope)
        if el is not None:
            out.append((scope, etree.tostring(el).decode()))
    return out


def load_command(scope: str) -> str:
    """Replace a configuration section, or create it when a fresh CIB does not have it yet
    (cibadmin --replace on a missing scope fails with ENXIO, exit 105: seen live)."""
    path = f"/root/halab-{scope}.xml"
    return (f"if cibadmin --query --scope {scope} >/dev/null 2>&1; "
            f"then cibadmin --replace --scope {scope} --xml-file {path}; "
            f"else cibadmin --create --scope configuration --xml-file {path}; fi")


def data_devices(design: LabDesign) -> tuple[tuple[str, str], ...]:
    """(device, fstype) of every Filesystem of the design, each once."""
    seen: dict[str, str] = {}
    for p in design.design.cib.primitives():
        if p.type == "Filesystem" and p.params.get("device"):
            seen.setdefault(p.params["device"], p.params.get("fstype", "ext4"))
    return tuple(seen.items())


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
    raise LabError(f"{what} not reached within {within_s:.0f} s (last: {last.brief() if last else last_err})", node)


STOP_S = 120.0  # a graceful stop of the whole stack on one node (a healthy cluster: seconds)
WIPE_CIB = "rm -f /var/lib/pacemaker/cib/cib*"


def deploy(lab: Lab, progress: Progress = print) -> LabDesign:
    """Write corosync.conf, start all nodes together, load the CIB, wait for the baseline placement."""
    design = lab_design(lab.spec)
    names = [n.name for n in lab.spec.nodes]
    first = design.preferred_node
    for line in design.mapping:
        progress(f"deploy: mapping: {line}")
    progress(f"deploy: corosync.conf (token {design.token_ms} ms) on {', '.join(names)}")
    for n in names:
        stopped_or_reset(lab, n, "systemctl stop pacemaker corosync 2>/dev/null", STOP_S, progress, then=WIPE_CIB)
        lab.remote(n).put_text(design.corosync_conf, "/etc/corosync/corosync.conf")
    if needs_authkey(design.corosync_conf):
        progress(f"deploy: corosync crypto on: a fresh {AUTHKEY} on {', '.join(names)}")
        put_authkey(lab, names)
    quorum_device(lab, design, names, progress)
    for device, fstype in data_devices(design):
        progress(f"deploy: {fstype} on {device}")
        lab.remote(first).run(f"wipefs -a {shlex.quote(device)} >/dev/null; "
                              f"mkfs.{shlex.quote(fstype)} -q -F {shlex.quote(device)}",
                              timeout=120, check=True)
    started = time.monotonic()
    progress("deploy: starting corosync + pacemaker on all nodes together")
    start_cluster(lab)
    wait_until(lab, first, "all nodes online", lambda s: set(names) <= set(s.online()), START_TIMEOUT_S,
               progress=progress)
    progress(f"deploy: all nodes online after {time.monotonic() - started:.0f} s; loading the CIB")
    remote = lab.remote(first)
    for scope, xml in sections(design):
        remote.put_text(xml, f"/root/halab-{scope}.xml")
        remote.run(load_command(scope), timeout=60, check=True)
    svc = design.service
    status = wait_until(lab, first, f"{svc} started on {first}",
                        lambda s: (x := s.service(svc)) is not None and x.state == "started"
                        and x.owner == first,
                        START_TIMEOUT_S, progress=progress)
    progress(f"deploy: {svc} started on {first}; cluster up in {time.monotonic() - started:.0f} s "
             f"(members {', '.join(status.online())})")
    wait_at_rest(lab, first, progress)
    return design


def render(design: LabDesign, spec: LabSpec) -> str:
    """The dry run: the design's files, the mapping line by line, what each node gets, the load
    order; password-like parameter values redacted (the mapping already dropped the user's)."""
    from halab.cib.lab import redacted

    names = [n.name for n in spec.nodes]
    files = ", ".join(f"{name} sha256:{digest}" for name, digest in design.files.items())
    out = [f"# halab deploy plan: stack pacemaker, lab {spec.name} (design: {files})",
           f"# service {design.service}: pacemaker places it on {design.preferred_node} "
           f"(crm_simulate on the healthy cluster); allowed on {', '.join(design.allowed_nodes)}"]
    step = itertools.count(1)  # sections numbered as they come (a quorum device adds two)
    out += ["", f"== {next(step)}. mapping onto the lab =="]
    out += [f"- {line}" for line in design.mapping] or ["- nothing to change"]
    out += ["", f"== {next(step)}. /etc/corosync/corosync.conf on {', '.join(names)} ==", design.corosync_conf.rstrip()]
    if needs_authkey(design.corosync_conf):
        out += [f"# crypto on: one fresh random {AUTHKEY} ({AUTHKEY_BYTES} bytes, mode 0400) on every node (not shown)"]
    out += _qdevice_plan(design, spec, names, step)
    out += ["", f"== {next(step)}. file systems, once, on {design.preferred_node} =="]
    out += [f"wipefs -a {dev} >/dev/null; mkfs.{fs} -q -F {dev}" for dev, fs in data_devices(design)]
    out += ["", f"== {next(step)}. corosync + pacemaker started on {' & '.join(names)} at once ==",
            get_adapter("pacemaker").commands.start_local,
            "", f"== {next(step)}. the configuration, loaded on {design.preferred_node} "
                "(resources before constraints) =="]
    for scope, xml in sections(design):
        out += [f"{load_command(scope)}  # /root/halab-{scope}.xml:",
                redacted(f"<cib><configuration>{xml}</configuration></cib>").rstrip()]
    return "\n".join(out)


def _qdevice_plan(design: LabDesign, spec: LabSpec, names: list[str], step: Iterator[int]) -> list[str]:
    """The plan's quorum device steps: the drop-in on every node, qnetd on the host side."""
    if not has_device(design):
        return [f"{QDEVICE_OFF}  # no quorum device: halab's drop-in from an earlier deploy goes"]
    argv = ("ip", "netns", "exec", LabPaths(spec.name).netns, *qnetd.argv(spec, LabPaths(spec.name)))
    return ["", f"== {next(step)}. corosync-qdevice started with pacemaker, on {', '.join(names)} ==",
            QDEVICE_ON, f"# {QDEVICE_DROPIN}:", QDEVICE_UNIT.rstrip(), RELOAD,
            "", f"== {next(step)}. the quorum device's arbiter: the lab's corosync-qnetd on the host side "
                f"({qnetd.network_name(spec)} network), unless it runs already ==",
            f"{shlex.join(argv)}  # log {LabPaths(spec.name).logs / (qnetd.NAME + '.log')}"]
