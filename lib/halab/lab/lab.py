"""Build and tear down one lab: networks, iSCSI target, fence sshd, libvirt, nodes, iSCSI logins.

`up` either finishes with every node ready (SSH answers, both LUNs visible by path) or tears down
everything it started and raises one clear error. `down` is idempotent and also sweeps what a
crashed or interrupted run left: domains, daemons, processes in the netns, the netns, overlays.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from halab.errors import HostError, LabError
from halab.lab import daemons, domains, fencessh, network, target, userimage, virt
from halab.lab.domains import Accel
from halab.lab.host import need_root, pids_in_netns, run
from halab.lab.image import BuiltImage
from halab.lab.paths import STATE_ROOT, LabPaths
from halab.lab.remote import Remote
from halab.lab.rhcsimage import ensure_stack_image
from halab.lab.userimage import UserImage
from halab.proc import parallel
from halab.spec import LabSpec, Node, load_spec

Progress = Callable[[str], None]
HOST_TOOLS = ("ip", "qemu-system-x86_64", "qemu-img", "libvirtd", "virtlogd", "virsh", "tgtd", "tgtadm",
              "/usr/sbin/sshd", "ssh-keygen", "mmdebstrap", "mkfs.ext4")
FENCE_KEY_ON_NODE = "/root/.ssh/halab_fence"


@dataclass(frozen=True)
class NodeReady:
    name: str
    domain: str
    ssh_s: float
    luns: tuple[str, ...]


@dataclass
class Lab:
    """A running lab: the spec, where its state is, and an SSH handle per node."""

    spec: LabSpec
    paths: LabPaths
    accel: Accel
    image: BuiltImage | UserImage | None
    remotes: dict[str, Remote]

    def remote(self, node: str) -> Remote:
        return self.remotes[self.spec.node(node).name]

    def node(self, name: str) -> Node:
        return self.spec.node(name)

    def lun_path(self, lun: int) -> str:
        portal = self.spec.network(self.spec.storage.network).host
        return f"/dev/disk/by-path/ip-{portal}:3260-iscsi-{self.spec.storage.target}-lun-{lun}"

    def close(self) -> None:
        for remote in self.remotes.values():
            remote.close()


def preflight(accel: str) -> Accel:
    need_root()
    missing = [t for t in HOST_TOOLS if shutil.which(t) is None]
    if missing:
        raise HostError(f"missing host tools: {', '.join(missing)} (run scripts/setup.sh)")
    return domains.choose_accel(accel)


def remotes_for(spec: LabSpec, paths: LabPaths) -> dict[str, Remote]:
    mgmt = spec.storage.network
    return {n.name: Remote(n.name, str(n.on(mgmt).address), paths.netns, paths.ssh_key) for n in spec.nodes}


def up(spec: LabSpec, accel: str = "auto", rebuild_image: bool = False, progress: Progress = print) -> Lab:
    chosen = preflight(accel)
    paths = LabPaths(spec.name)
    progress(f"lab {spec.name}: accelerator {chosen.kind} ({chosen.reason})")
    down(spec, progress=lambda m: progress(f"sweep: {m}"))
    image: BuiltImage | UserImage
    if spec.image.kind == "user":
        image = userimage.resolve(spec, progress)
    else:
        image = ensure_stack_image(spec.stack, spec.image.suite, rebuild=rebuild_image, progress=progress)
    started = time.monotonic()
    try:
        lab = _build(spec, paths, chosen, image, progress)
    except BaseException:
        progress(f"lab {spec.name}: build failed, tearing down what was started")
        down(spec, progress=lambda m: progress(f"teardown: {m}"))
        raise
    progress(f"lab {spec.name}: ready in {time.monotonic() - started:.0f} s")
    return lab


def _build(spec: LabSpec, paths: LabPaths, accel: Accel, image: BuiltImage | UserImage,
           progress: Progress) -> Lab:
    for d in (paths.state, paths.logs, paths.pids):
        d.mkdir(parents=True, exist_ok=True)
    _write_state(spec, paths, accel, image, phase="building")
    progress(f"network: netns {paths.netns} with bridges for {', '.join(n.name for n in spec.networks)}")
    network.create(spec, paths)
    progress("daemons: virtlogd, libvirtd in the lab netns")
    virt.start(paths)
    progress(f"iSCSI: tgtd on {spec.network(spec.storage.network).host}:3260, target {spec.storage.target}, "
             f"LUNs {', '.join(f'{lun.lun}={lun.size_mb} MB' for lun in spec.storage.luns)}")
    target.start(spec, paths)
    fencessh.ensure_keys(paths)
    progress("fence path: sshd on the management address (fence key: virsh on this lab's domains only)")
    fencessh.start(spec, paths)
    pubkey = Path(str(paths.ssh_key) + ".pub").read_text().strip()
    progress(f"nodes: starting {', '.join(n.domain for n in spec.nodes)} together")
    xmls = []
    for node in spec.nodes:
        if isinstance(image, UserImage):  # the user's image: firmware boot, identity by seed or overlay edit
            iso = userimage.prepare_identity(spec, paths, node, image, pubkey, progress)
            xmls.append(domains.user_domain_xml(spec, paths, node, accel, image.firmware, iso,
                                                userimage.nvram_path(paths, node)))
            continue
        domains.make_overlay(paths, node, image)
        xmls.append(domains.domain_xml(spec, paths, node, image, accel, pubkey))
    domains.define_and_start(xmls)
    lab = Lab(spec, paths, accel, image, remotes_for(spec, paths))
    ready = parallel(lambda n: prepare_node(lab, spec.node(n), progress), [n.name for n in spec.nodes])
    _write_state(spec, paths, accel, image, phase="up", nodes=[r.__dict__ for r in ready])
    shutil.copyfile(paths.state_file, paths.state / "last-lab.json")  # kept after down, for the report
    return lab


def prepare_node(lab: Lab, node: Node, progress: Progress) -> NodeReady:
    """Wait for SSH, hand over the fence key, log in to the iSCSI target, check both LUNs by path."""
    remote = lab.remotes[node.name]
    within = lab.spec.timing.node_boot_s[1] * 2
    progress(f"{node.name}: waiting for SSH (at most {within:.0f} s)")
    ssh_s = remote.wait_ssh(within)
    progress(f"{node.name}: SSH answers after {ssh_s:.0f} s")
    if isinstance(lab.image, UserImage):
        userimage.first_boot(lab, node, progress)
    push_fence_key(lab, node.name)
    luns = iscsi_login(lab, node)
    progress(f"{node.name}: iSCSI LUNs {', '.join(Path(p).name.rsplit('-', 2)[-1] for p in luns)} by path")
    return NodeReady(node.name, node.domain, round(ssh_s, 1), tuple(luns))


def push_fence_key(lab: Lab, node: str) -> None:
    """The lab's fence key on the node, mode 0600 from its first byte (a test may have put a wrong one)."""
    lab.remote(node).put_text(lab.paths.fence_key.read_text(), FENCE_KEY_ON_NODE, mode=0o600)


def iscsi_login(lab: Lab, node: Node, timeout_s: float = 60.0) -> list[str]:
    """Discovery + login with the profile's replacement_timeout; returns the LUN paths seen."""
    remote = lab.remotes[node.name]
    portal = lab.spec.network(lab.spec.storage.network).host
    iqn = lab.spec.storage.target
    rt = lab.spec.timing.iscsi_replacement_timeout_s
    q = shlex.quote
    remote.run(
        f"iscsiadm -m discovery -t sendtargets -p {q(str(portal))} >/dev/null && "
        f"iscsiadm -m node -T {q(iqn)} -p {q(str(portal))} -o update "
        f"-n node.session.timeo.replacement_timeout -v {int(rt)} && "
        f"iscsiadm -m node -T {q(iqn)} -p {q(str(portal))} -o update -n node.startup -v automatic && "
        f"(iscsiadm -m session 2>/dev/null | grep -qF -- {q(iqn)} || "
        f"iscsiadm -m node -T {q(iqn)} -p {q(str(portal))} --login)",
        timeout=timeout_s, check=True)
    paths = [lab.lun_path(lun.lun) for lun in lab.spec.storage.luns]
    remote.run("udevadm settle -t 20; for p in " + " ".join(q(p) for p in paths) + "; do "
               "i=0; while [ ! -b \"$p\" ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i+1)); done; "
               "test -b \"$p\" || exit 1; done",
               timeout=min(40.0, max(timeout_s, 1.0)), check=True)
    return paths


def down(spec: LabSpec, progress: Progress = print) -> list[str]:
    """Remove everything of this lab; safe to run any number of times, after any crash.

    Only what this lab started is signalled (PID files with start times, qemu on this lab's
    overlays, processes inside this lab's netns). Every step runs even when one fails (a process
    that survives SIGKILL does not keep the netns and overlays in place); what could not be
    removed is reported and raised at the end, never claimed removed.
    """
    t = _Teardown(spec, LabPaths(spec.name), progress)
    return t.run((("domains", t.domains), ("qemu", t.qemu), *t.common_steps()), f"lab {spec.name}")


@dataclass
class _Teardown:
    """The steps of `down`, each recording what it removed and what it could not."""

    spec: LabSpec | None  # None: a lab whose spec is gone (swept by its PID files and netns)
    paths: LabPaths
    progress: Progress
    gone: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def common_steps(self) -> tuple[tuple[str, Callable[[], None]], ...]:
        """What every lab has, spec or not (a lab's qemu runs inside its netns)."""
        return (("fence sshd", lambda: self.named(["fence-sshd"], 5)), ("qnetd", lambda: self.named(["qnetd"], 3)),
                ("tgtd", self.tgtd),
                ("libvirtd", lambda: self.named(["libvirtd", "virtlogd"], 10)),
                ("netns processes", self.in_netns), ("netns", self.netns), ("overlays", self.overlays),
                ("state", self.state))

    def run(self, steps: Iterable[tuple[str, Callable[[], None]]], where: str) -> list[str]:
        """Every step, even after one failed (a process that survives SIGKILL does not keep the
        netns and overlays in place); what could not be removed is reported and raised at the end."""
        for what, fn in steps:
            try:
                fn()
            except Exception as err:  # one stuck piece must not keep the rest of the lab in place
                self.left.append(f"{what}: {err}")
        for item in self.gone:
            self.progress(f"removed {item}")
        for item in self.left:
            self.progress(f"NOT removed: {item}")
        if self.left:
            raise LabError(f"teardown incomplete: {'; '.join(self.left)}", where)
        return self.gone

    def domains(self) -> None:
        if self.spec is not None and daemons.pid_file(self.paths.pids, "libvirtd").exists():
            try:
                self.gone.extend(f"domain {d}" for d in domains.remove_all([n.domain for n in self.spec.nodes],
                                                                            uri=virt.uri_of(self.paths)))
            except LabError as err:
                self.progress(f"libvirt not reachable ({err}); stopping this lab's qemu directly")

    def qemu(self) -> None:
        if self.spec is None:
            return
        for name, pid in domains.qemu_pids([n.domain for n in self.spec.nodes], self.paths.nodes).items():
            self._stop(pid, f"qemu {name}", 5.0)

    def _stop(self, pid: int, what: str, grace_s: float) -> None:
        ident = daemons.identity_of(pid)
        if ident is None or daemons.stop(ident, grace_s=grace_s):
            self.gone.append(what)
        else:
            self.left.append(f"{what} (pid {pid}) survived SIGKILL")

    def named(self, names: list[str], grace_s: float) -> None:
        report = daemons.stop_named_report(self.paths.pids, names, grace_s)
        self.gone.extend(f"daemon {n}" for n in report.stopped)
        self.left.extend(report.problems)

    def tgtd(self) -> None:
        """Offline, then stopped. Deleting tgt's system makes tgtd exit by itself; it is reported
        removed all the same (before, a `halab down` that had stopped it said nothing about it)."""
        path = daemons.pid_file(self.paths.pids, "tgtd")
        if not path.exists():
            return
        ident = daemons.Identity.from_json(path.read_text(errors="replace"))
        ours = ident is not None and daemons.same(ident)
        target.offline(self.paths)
        before = len(self.gone) + len(self.left)
        self.named(["tgtd"], 3)
        if ours and len(self.gone) + len(self.left) == before:
            self.gone.append("daemon tgtd")

    def in_netns(self) -> None:
        for pid in pids_in_netns(self.paths.netns):  # in this lab's own netns: started for this lab
            self._stop(pid, f"process {pid}", 2.0)

    def netns(self) -> None:
        if network.netns_exists(self.paths.netns):
            error = network.delete(self.paths)
            if error:
                self.left.append(f"netns {self.paths.netns} not removed: {error}")
            else:
                self.gone.append(f"netns {self.paths.netns}")

    def overlays(self) -> None:
        if self.paths.nodes.exists():
            for overlay in [p for g in ("*.qcow2", "*.seed.iso", "*.nvram.fd") for p in self.paths.nodes.glob(g)]:
                overlay.unlink()
                self.gone.append(f"overlay {overlay.name}")

    def state(self) -> None:
        self.paths.state_file.unlink(missing_ok=True)
        for marker in self.paths.state.glob("deployed-*") if self.paths.state.exists() else []:
            marker.unlink()
        if self.left:  # PID files still name a process that lives: the next `down` needs them
            return
        removed = [p.name for p in sorted(self.paths.state.iterdir()) if p.name not in KEPT_AFTER_DOWN] \
            if self.paths.state.exists() else []
        for name in removed:
            _remove(self.paths.state / name)
        if removed:
            self.gone.append(f"state {', '.join(removed)} (kept: logs and the report's facts)")


# What a lab's folder keeps after `halab down`: the evidence (daemon and console logs, qemu's own
# logs) and what the report reads after the session (the lab's accelerator and image, the guests'
# stack versions, the session's measured poll interval: pytest writes the report's environment
# after the lab fixture's teardown). Everything else goes: the lab's SSH and fence keys, the fence
# sshd's host key, the LUN files (a new lab starts from empty disks), libvirt's state, PID files.
VERSIONS_FILE = "stack-versions.json"
PACE_FILE = "poll-pace.txt"
KEPT_AFTER_DOWN = frozenset({"logs", "last-lab.json", VERSIONS_FILE, PACE_FILE})
QEMU_LOGS = Path("libvirt") / "log"


def _remove(path: Path) -> None:
    """A file or folder of the lab's state; qemu's own logs move to logs/ first (evidence)."""
    if path.name == "libvirt" and (path.parent / QEMU_LOGS).is_dir():
        target = path.parent / "logs" / "libvirt"
        target.parent.mkdir(exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(path.parent / QEMU_LOGS), str(target))
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def lab_names(state_root: Path = STATE_ROOT, netns_dir: Path = Path("/run/netns")) -> list[str]:
    """Every lab halab may have left on this host: state folders with a lab or daemons, and
    halab-* network namespaces (a lab's netns is halab-<name>)."""
    names = {p.name for p in state_root.iterdir() if p.is_dir() and (
        (p / "lab.json").exists() or any((p / "pids").glob("*.pid")))} if state_root.is_dir() else set()
    if netns_dir.is_dir():
        names |= {p.name[len("halab-"):] for p in netns_dir.iterdir() if p.name.startswith("halab-")}
    return sorted(names)


def spec_of_lab(name: str, state_root: Path = STATE_ROOT) -> LabSpec | None:
    """The spec a lab was built from (its lab.json names it; a worker's lab is `<spec>-<worker>`)."""
    from halab.errors import HalabError
    from halab.nightly.workers import worker_spec

    for state in ("lab.json", "last-lab.json"):
        path = state_root / name / state
        try:
            base = load_spec(json.loads(path.read_text())["spec"])
        except (OSError, ValueError, KeyError, TypeError, HalabError):
            continue
        if base.name == name:
            return base
        if name.startswith(base.name + "-"):
            return worker_spec(base, name[len(base.name) + 1:])
    return None


def _prefixed(progress: Progress, prefix: str) -> Progress:
    return lambda message: progress(prefix + message)


def down_all(progress: Progress = print) -> list[str]:
    """`halab down --all`: every halab lab on this host, also one whose spec is gone (then by its
    PID files and its netns)."""
    gone: list[str] = []
    incomplete: list[str] = []
    for name in lab_names():  # one lab that cannot be removed does not keep the others in place
        spec = spec_of_lab(name)
        say = _prefixed(progress, f"{name}: ")
        try:
            if spec is not None:
                gone += down(spec, progress=say)
                continue
            say("no spec found; sweeping by PID files and netns")
            t = _Teardown(None, LabPaths(name), say)
            gone += t.run(t.common_steps(), f"lab {name}")
        except LabError as err:
            incomplete.append(str(err))
    if incomplete:
        raise LabError("; ".join(incomplete), "halab down --all")
    return gone


def attach(spec: LabSpec) -> Lab:
    """A handle on a lab that is already up (halab status/ssh, --reuse-lab)."""
    paths = LabPaths(spec.name)
    if not paths.state_file.exists() or not network.netns_exists(paths.netns):
        raise LabError(f"lab {spec.name} is not up (run `halab up --lab {spec.name}`)")
    try:
        info = json.loads(paths.state_file.read_text())
    except (OSError, ValueError) as err:
        raise LabError(f"lab {spec.name}: state file unreadable ({err}); "
                       f"`halab down --lab {spec.name}` clears it") from None
    if info.get("phase") != "up":
        # a build killed half-way (SIGKILL, a host crash): nodes without their iSCSI sessions or fence
        # key. Measured in the chaos run: a --reuse-lab session deployed onto one and failed on a LUN
        # that no node had logged in to. Not up means not reusable: the caller builds afresh.
        raise LabError(f"lab {spec.name} was left half-built (phase {info.get('phase')!r}); it is rebuilt, "
                       f"or `halab down --lab {spec.name}` removes it")
    accel = Accel(info.get("accel", "tcg"), info.get("accel_reason", ""))
    virt.select(paths)
    return Lab(spec, paths, accel, None, remotes_for(spec, paths))


def _write_state(spec: LabSpec, paths: LabPaths, accel: Accel, image: BuiltImage | UserImage, phase: str,
                 nodes: list[dict[str, object]] | None = None) -> None:
    paths.state_file.write_text(json.dumps({
        "lab": spec.name, "spec": str(spec.path), "phase": phase, "accel": accel.kind,
        "accel_reason": accel.reason, "image": str(image.disk), "image_key": image.key,
        "netns": paths.netns, "nodes": nodes or [], "time": time.time(),
    }, indent=2))


def leftovers(spec: LabSpec) -> list[str]:
    """What of this lab is still on the host (the lab test asserts this is empty after down)."""
    paths = LabPaths(spec.name)
    out = []
    if network.netns_exists(paths.netns):
        out.append(f"netns {paths.netns}")
    out += [f"qemu {d}" for d in domains.qemu_pids([n.domain for n in spec.nodes], paths.nodes)]
    for name in ("tgtd", "libvirtd", "virtlogd", "fence-sshd", "qnetd"):
        if daemons.pid_file(paths.pids, name).exists():
            out.append(f"daemon {name}")
    res = run(["pgrep", "-f", str(paths.sshd_dir)], check=False, timeout=5)
    out += [f"sshd pid {p}" for p in res.stdout.split()]
    if paths.state.is_dir():  # keys, LUN files, libvirt's state: only logs and the report's facts stay
        out += [f"state {p.name}" for p in sorted(paths.state.iterdir()) if p.name not in KEPT_AFTER_DOWN]
    return out
