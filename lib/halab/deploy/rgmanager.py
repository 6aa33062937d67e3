"""The rgmanager (RHEL/CentOS 6) deploy sequence of a lab, as data: phases of per-node commands.

It follows the seed write-up (../shared/seed/DIGEST.md): iSCSI login to the lab's target, ricci
with a password, cman/rgmanager *not* started at boot (a fenced node must stay out until someone
looks), the same cluster.conf on every node, `mkqdisk -c` once, then cman + rgmanager started on
all nodes at the same moment (clstart_all: a node started alone fences the others after its join
delay), and finally each service enabled on the first node of its failover domain.

Devices are named by path (/dev/disk/by-path/...-lun-N), never /dev/sdX: the order of iSCSI
LUNs changes between logins (LAB-FINDINGS trap 4). Secrets are references, never values: the
ricci password comes from an environment variable, the fence key from the lab, and cluster.conf
passwords are redacted when a plan is printed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from halab.clusterconf.model import ClusterConf
from halab.clusterconf.profile import lab_conf_text
from halab.clusterconf.reader import parse_cluster_conf
from halab.errors import ConfigError, SpecError
from halab.spec import LabSpec, Node
from halab.stacks.rgmanager import COMMANDS as RGMANAGER_COMMANDS

# rhel6: a user's RHEL/CentOS 6 image (chkconfig, service, ricci, python 2);
# debian: halab's RHCS image (lib/halab/lab/rhcsimage.py: systemd units cman/rgmanager, no ricci,
# iSCSI logged in by `halab up`, the seed's /etc/init.d/myappl already in the image).
PLATFORMS = ("rhel6", "debian")
RICCI_PASSWORD_ENV = "HALAB_RICCI_PASSWORD"  # noqa: S105 -- the name of a variable, not a value
CLUSTER_CONF = "/etc/cluster/cluster.conf"
ISCSI_PORT = 3260
QUORUM_WAIT_S = 300
RGMANAGER_WAIT_S = 600
START_CLUSTER = RGMANAGER_COMMANDS.start_local  # the seed's clstart, then a flush (stacks.rgmanager DURABLE)
FENCE_KEY_SECRET = "the lab's fence private key"  # noqa: S105 -- names the secret, never holds it
_PASSWD_ATTR = re.compile(r"""(\bpasswd\s*=\s*)(["'])(.*?)\2""")


@dataclass(frozen=True)
class Step:
    """One command on one node. ``stdin`` is literal content fed to it; ``secret_stdin`` names
    a secret the runner feeds (never its value); ``env`` names variables the command reads."""

    what: str
    command: str
    stdin: str | None = None
    secret_stdin: str | None = None
    env: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phase:
    """Steps run on ``nodes``: one node after the other, or all at the same moment (``together``)."""

    name: str
    nodes: tuple[str, ...]
    steps: tuple[Step, ...]
    together: bool = False


@dataclass(frozen=True)
class Plan:
    stack: str
    lab: str
    source: str
    phases: tuple[Phase, ...]
    addresses: Mapping[str, str]  # node -> the address the runner reaches it on (management)
    warnings: tuple[str, ...] = ()  # design choices a reader of the plan should know about

    def env(self) -> tuple[str, ...]:
        """Every environment variable the runner must provide."""
        return tuple(dict.fromkeys(e for p in self.phases for s in p.steps for e in s.env))

    def commands(self, node: str) -> tuple[str, ...]:
        """The commands ``node`` runs, in order (for tests and for a runner)."""
        return tuple(s.command for p in self.phases if node in p.nodes for s in p.steps)


@dataclass(frozen=True)
class _Site:
    """What the plan needs from the spec and cluster.conf, resolved and checked once."""

    spec: LabSpec
    conf: ClusterConf
    conf_text: str
    portal: str
    first: Node
    platform: str = "rhel6"

    def lun_path(self, role: str) -> str:
        lun = self.spec.storage.by_role(role)
        target = self.spec.storage.target
        return f"/dev/disk/by-path/ip-{self.portal}:{ISCSI_PORT}-iscsi-{target}-lun-{lun.lun}"


def platform_of(spec: LabSpec) -> str:
    """The built-in image of an rgmanager lab is halab's Debian RHCS image; a user image is RHEL 6."""
    return "debian" if spec.image.kind == "builtin" else "rhel6"


def rgmanager_plan(spec: LabSpec, platform: str | None = None) -> Plan:
    """The deploy sequence of ``spec``'s rgmanager design (its cluster.conf) on its nodes."""
    site = _site(spec, platform or platform_of(spec))
    names = tuple(n.name for n in spec.nodes)
    if site.platform == "debian":
        prepare = (*_luns_seen(site), *_no_boot_start(site), *_fence_keys(site), *_cluster_conf(site),
                   *_app(site))
    else:
        prepare = (*_iscsi(site), *_ricci(), *_no_boot_start(site), *_fence_keys(site), *_cluster_conf(site),
                   *_app(site))
    phases = (
        Phase("prepare every node", names, prepare),
        Phase("initialise shared storage (once)", (site.first.name,), _storage(site)),
        Phase("check every node sees the quorum disk", names,
              (Step("the label qdiskd looks for is on the disk, seen by path", "mkqdisk -L"),)),
        Phase("start the cluster on all nodes at the same moment (clstart_all)", names,
              (Step("start cman (with qdiskd and fenced), then rgmanager", START_CLUSTER),), together=True),
        Phase("wait for quorum", (site.first.name,),
              (Step("block until this node is a member of a quorate cluster",
                    f"cman_tool wait -q -t {QUORUM_WAIT_S}"),)),
        Phase("wait until rgmanager runs on every node", (site.first.name,), (_rgmanager_ready(site),)),
        Phase("enable each service on its preferred node", (site.first.name,), _enable(site)),
    )
    addresses = {n.name: str(n.on(spec.network("management").name).address) for n in spec.nodes}
    return Plan("rgmanager", spec.name, str(spec.path), phases, addresses, _warnings(site))


def _warnings(site: _Site) -> tuple[str, ...]:
    """Devices named /dev/sdX in cluster.conf: iSCSI LUN order changes between logins."""
    if site.platform == "debian":
        return ()  # the deployed cluster.conf names the data LUN by path (deployed_conf)
    out = []
    for svc in site.conf.services:
        for res in svc.walk():
            device = res.attrs.get("device") or ""
            if re.fullmatch(r"/dev/[sv]d[a-z]+\d*", device):
                out.append(f"cluster.conf {res.locator} uses {device}: iSCSI LUN order changes between"
                           f" logins; the data LUN is {site.lun_path('data')}")
    return tuple(out)


def _site(spec: LabSpec, platform: str = "rhel6") -> _Site:
    path = spec.cluster_conf_path()
    conf_text = lab_conf_text(spec)  # cluster.conf under the lab's timing profile
    conf = parse_cluster_conf(conf_text, path)
    _check_timing(conf, spec)
    host = spec.network(spec.storage.network).host
    if host is None:
        what = f"network {spec.storage.network!r} has no host address for the iSCSI portal"
        raise SpecError(what, str(spec.path))
    if platform not in PLATFORMS:
        raise SpecError(f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})", str(spec.path))
    site = _Site(spec, conf, conf_text, str(host), spec.nodes[0], platform)
    _check_qdisk_label(site)
    for node in conf.nodes:
        if node.name:
            spec.node(node.name)  # every cluster node must be a lab node (SpecError otherwise)
    return site


def _check_timing(conf: ClusterConf, spec: LabSpec) -> None:
    """A timing qdiskd or cman would refuse is an error here, before any node runs it."""
    from halab.checks import run_checks
    from halab.checks.base import Severity

    bad = [f for f in run_checks(conf, spec) if f.rule.startswith("timing.") and f.severity is Severity.ERROR]
    if bad:
        raise ConfigError(f"timing profile {spec.timing.name!r}: {bad[0].reason}", str(spec.cluster_conf_path()))


def _check_qdisk_label(site: _Site) -> None:
    want = site.spec.storage.by_role("quorum").label
    label = site.conf.quorumd.label if site.conf.quorumd else None
    if label and want and label != want:
        what = f"quorumd label {label!r} differs from the quorum LUN's label {want!r} in the lab spec"
        raise ConfigError(what, str(site.spec.cluster_conf_path()))


def _iscsi(site: _Site) -> tuple[Step, ...]:
    portal = f"{site.portal}:{ISCSI_PORT}"
    target = shlex.quote(site.spec.storage.target)
    timeout = site.spec.timing.iscsi_replacement_timeout_s
    return (
        Step("iSCSI: give up on a dead path after the lab's replacement timeout (set before discovery)",
             "sed -i 's/^#*\\s*node.session.timeo.replacement_timeout\\s*=.*/"
             f"node.session.timeo.replacement_timeout = {timeout}/' /etc/iscsi/iscsid.conf"),
        Step("iSCSI initiator at boot, started now",
             "chkconfig iscsid on && chkconfig iscsi on && service iscsid start"),
        Step("discover the lab target on the management network",
             f"iscsiadm -m discovery -t sendtargets -p {shlex.quote(portal)}"),
        Step("log in to the lab target", f"iscsiadm -m node -T {shlex.quote(target)} -p {shlex.quote(portal)} --login"),
        Step("wait until both LUNs are visible by path",
             f"udevadm settle && test -b {shlex.quote(site.lun_path('quorum'))} && "
             f"test -b {shlex.quote(site.lun_path('data'))}"),
    )


def _ricci() -> tuple[Step, ...]:
    return (
        Step("ricci (remote cluster.conf updates) at boot, started now",
             "chkconfig ricci on && service ricci start"),
        Step(f"ricci's password from ${RICCI_PASSWORD_ENV} (the value never enters the plan)",
             f'printf \'%s\\n\' "${{{RICCI_PASSWORD_ENV}:?set {RICCI_PASSWORD_ENV}}}" | passwd --stdin ricci',
             env=(RICCI_PASSWORD_ENV,)),
    )


def _luns_seen(site: _Site) -> tuple[Step, ...]:
    return (Step("`halab up` logged in to the lab target: both LUNs are visible by path",
                 f"udevadm settle && test -b {site.lun_path('quorum')} && test -b {site.lun_path('data')}"),)


def _no_boot_start(site: _Site) -> tuple[Step, ...]:
    if site.platform == "debian":
        return (Step("a fenced node must not rejoin by itself at boot (the image never enables them)",
                     "systemctl disable --quiet cman.service rgmanager.service"),)
    return (Step("a fenced node must not rejoin by itself at boot",
                 "chkconfig cman off && chkconfig rgmanager off"),)


def _fence_keys(site: _Site) -> tuple[Step, ...]:
    paths = sorted({d.attrs.get("identity_file") or "" for d in site.conf.fence_devices} - {""})
    return tuple(Step("the lab's fence key for fence_virsh (identity_file of cluster.conf)",
                      f"install -m 0600 -D /dev/stdin {shlex.quote(p)}",
                      secret_stdin=FENCE_KEY_SECRET) for p in paths)


def _cluster_conf(site: _Site) -> tuple[Step, ...]:
    text = deployed_conf(site)
    return (
        Step("the same cluster.conf on every node", f"install -m 0640 -D /dev/stdin {CLUSTER_CONF}",
             stdin=text if text.endswith("\n") else text + "\n"),
        Step("validate it against the installed schema", f"ccs_config_validate -f {CLUSTER_CONF}"),
    )


def _app(site: _Site) -> tuple[Step, ...]:
    data = site.spec.storage.by_role("data")
    steps = []
    if data.mountpoint:
        steps.append(Step("mount point of the data LUN", f"mkdir -p {shlex.quote(data.mountpoint)}"))
    if site.platform == "debian":
        return tuple(steps)  # the seed's /etc/init.d/myappl is in halab's RHCS image
    for script in _scripts(site.conf):
        steps.append(Step(f"{script}: a stand-in application serving the data LUN over HTTP",
                          f"install -m 0755 -D /dev/stdin {shlex.quote(script)}",
                          stdin=_stand_in(data.mountpoint or "/", app_port(site.spec))))
    return tuple(steps)


FENCE_VIRSH_DEVICE = re.compile(r'<fencedevice\b[^>]*\bagent\s*=\s*"fence_virsh"[^>]*?(?=/?>)')
LAB_LOGIN_TIMEOUT_S = 10  # as on pacemaker's lab fence path (halab.cib.lab)


def deployed_conf(site: _Site) -> str:
    """cluster.conf as deployed: on halab's image an fs device named /dev/sdX becomes the data LUN by
    path (iSCSI LUN order changes between logins); a user's RHEL 6 plan keeps it and warns.

    On halab's image fence_virsh also gets login_timeout="10" unless the design sets one. Measured
    live (rgmanager, heartbeat-down, seed timing): fence_virsh's first attempt failed after 18 s
    ("error from agent"; the default login timeout, tried three times, against an SSH login from
    a TCG guest), fenced retried 3 s later and fence-done came 2 s after its window. The pacemaker
    lab mapping sets the same for the same reason. Not on a user's RHEL 6 plan: cluster-3.0.12's
    schema does not know the attribute."""
    if site.platform != "debian":
        return site.conf_text
    data = site.lun_path("data")
    text = re.sub(r'(\bdevice\s*=\s*")(/dev/[sv]d[a-z]+\d*)(")', lambda m: m.group(1) + data + m.group(3),
                  site.conf_text)
    return FENCE_VIRSH_DEVICE.sub(lambda m: m.group(0) if "login_timeout" in m.group(0)
                                  else f'{m.group(0).rstrip()} login_timeout="{LAB_LOGIN_TIMEOUT_S}"', text)


def lab_deployed_conf(spec: LabSpec, platform: str | None = None) -> str:
    """The cluster.conf text a deploy of ``spec`` installs on every node (the mutants edit this)."""
    return deployed_conf(_site(spec, platform or platform_of(spec)))


def _scripts(conf: ClusterConf) -> list[str]:
    files = {r.attrs.get("file") for svc in conf.services for r in svc.walk() if r.tag == "script"}
    return sorted(f for f in files if f)


def app_port(spec: LabSpec) -> int:
    for stack in ("rgmanager", "pacemaker"):
        cfg: Mapping[str, Any] = spec.stacks.get(stack, {})
        if "app_port" in cfg:
            return int(cfg["app_port"])
    return 8080


def _stand_in(root: str, port: int) -> str:
    """An LSB script rgmanager's script.sh can start, stop and status (python 2.6 on RHEL 6)."""
    return f"""#!/bin/sh
# halab stand-in application: serves {root} over HTTP on port {port}.
PIDFILE=/var/run/halab-app.pid
case "$1" in
  start)
    cd {shlex.quote(root)} || exit 1
    nohup python -m SimpleHTTPServer {port} >/dev/null 2>&1 &
    echo $! > $PIDFILE ;;
  stop)
    [ -f $PIDFILE ] && kill "$(cat $PIDFILE)" 2>/dev/null
    rm -f $PIDFILE; exit 0 ;;
  status)
    [ -f $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null ;;
  *)
    echo "usage: $0 start|stop|status"; exit 2 ;;
esac
"""


def _storage(site: _Site) -> tuple[Step, ...]:
    quorum = site.spec.storage.by_role("quorum")
    label = (site.conf.quorumd.label if site.conf.quorumd else None) or quorum.label
    if not label:
        what = "no quorum disk label: set <quorumd label=...> or the quorum LUN's label"
        raise ConfigError(what, str(site.spec.cluster_conf_path()))
    data = site.spec.storage.by_role("data")
    steps = [Step(f"write the quorum disk label qdiskd looks for (LUN {quorum.lun}); mkqdisk asks to confirm",
                  f"echo y | mkqdisk -c {shlex.quote(site.lun_path('quorum'))} -l {shlex.quote(label)}")]
    if data.fstype:
        steps.append(Step(f"the service's {data.fstype} file system on the data LUN (LUN {data.lun})",
                          f"mkfs.{shlex.quote(data.fstype)} -q -F {shlex.quote(site.lun_path('data'))}"))
    return tuple(steps)


def _rgmanager_ready(site: _Site) -> Step:
    """`service rgmanager start` returns before rgmanager answers: it first reads every agent's
    metadata ("Loading Service Data", minutes under TCG) and clusvcadm meanwhile fails with
    "Could not connect to resource group manager". clustat -x marks each node running it."""
    n = len([x for x in site.conf.nodes if x.name])
    return Step(f"wait (at most {RGMANAGER_WAIT_S} s) until clustat shows rgmanager on all {n} nodes",
                f"i=0; until [ \"$(clustat -x 2>/dev/null | grep -c 'rgmanager=\"1\"')\" -ge {n} ]; do "
                f"i=$((i+1)); [ $i -ge {RGMANAGER_WAIT_S // 2} ] && exit 1; sleep 2; done")


def _enable(site: _Site) -> tuple[Step, ...]:
    steps = []
    for svc in site.conf.services:
        if not svc.name or site.conf.rm is None:
            continue
        domain_name = site.conf.rm.service_domain(svc)
        domain = site.conf.rm.domain(domain_name) if domain_name else None
        members = domain.member_names() if domain else tuple(n.name for n in site.conf.nodes if n.name)
        if not members:
            raise ConfigError(f"service {svc.name}: no node to enable it on",
                              str(site.spec.cluster_conf_path()))
        steps.append(Step(f"start {svc.name} on {members[0]}, first of {domain_name or 'all nodes'}",
                          f"clusvcadm -e {shlex.quote(svc.name)} -m {shlex.quote(members[0])}"))
    return tuple(steps)


def render(plan: Plan) -> str:
    """The plan as a reader checks it: per phase and node, the exact commands (secrets redacted)."""
    out = [f"# halab deploy plan: stack {plan.stack}, lab {plan.lab} ({plan.source})"]
    if plan.env():
        out.append(f"# needs in the environment (values never printed): {', '.join(plan.env())}")
    out += [f"# WARNING: {w}" for w in plan.warnings]
    for i, phase in enumerate(plan.phases, start=1):
        out += ["", f"== {i}. {phase.name} =="]
        groups = [phase.nodes] if phase.together else [(n,) for n in phase.nodes]
        for nodes in groups:
            where = " & ".join(f"{n} ({plan.addresses[n]})" for n in nodes)
            out.append(f"-- {where}{' at once' if phase.together and len(nodes) > 1 else ''} --")
            out += [line for step in phase.steps for line in _render_step(step)]
    return "\n".join(out)


def _render_step(step: Step) -> list[str]:
    lines = [f"# {step.what}"]
    if step.secret_stdin:
        return [*lines, f"{step.command}  < [{step.secret_stdin}, not shown]"]
    if step.stdin is None:
        return [*lines, step.command]
    body = _PASSWD_ATTR.sub(r"\1\2(redacted)\2", step.stdin).rstrip("\n")
    return [*lines, f"{step.command} <<'HALAB_EOF'", body, "HALAB_EOF"]
