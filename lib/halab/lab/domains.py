"""The nodes as libvirt domains: accelerator choice, domain XML, lifecycle through libvirt-python.

Why direct kernel boot: the kernel command line is how a node cloned from the one shared image
gets its identity (addresses, host name, keys), with no write to the image and no guest agent.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from halab.errors import HostError, LabError
from halab.lab import virt
from halab.lab.host import run
from halab.lab.image import BuiltImage
from halab.lab.paths import NIC_BY_ROLE, LabPaths, mac_for
from halab.proc import bounded
from halab.spec import LabSpec, Node

T = TypeVar("T")

TB_CACHE_MIB = 256  # libvirt's 1 GiB default doubles qemu's RSS under TCG (LAB-FINDINGS)


@dataclass(frozen=True)
class Accel:
    kind: str  # "kvm" | "tcg"
    reason: str


def choose_accel(requested: str = "auto") -> Accel:
    """KVM only where the CPU shows vmx/svm and /dev/kvm is usable; TCG otherwise, and say why."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    has_virt = any(f in flags.split() for f in ("vmx", "svm"))
    kvm_dev = Path("/dev/kvm").exists()
    if requested == "tcg":
        return Accel("tcg", "asked for (--accel tcg)")
    if requested == "kvm":
        if not kvm_dev:
            raise HostError("--accel kvm: /dev/kvm does not exist")
        if not has_virt:
            raise HostError("--accel kvm: the CPU shows no vmx/svm "
                            "(nested paravirtual KVM cannot boot stock kernels)")
        return Accel("kvm", "asked for (--accel kvm)")
    if kvm_dev and has_virt:
        return Accel("kvm", "/dev/kvm present and the CPU has vmx/svm")
    if kvm_dev:
        return Accel("tcg", "/dev/kvm present but the CPU has no vmx/svm (paravirtual KVM): qemu TCG")
    return Accel("tcg", "no /dev/kvm: qemu TCG")


def hosts_file(spec: LabSpec) -> str:
    lines = ["127.0.0.1 localhost"]
    for node in spec.nodes:
        lines += [f"{a.address} {a.hostname}" for a in node.addresses]
    for net in spec.networks:
        if net.host is not None:
            lines.append(f"{net.host} halab-host-{net.role}")
    return "\n".join(lines) + "\n"


def iqn_for(spec: LabSpec, node: Node) -> str:
    return f"iqn.2026-11.lab.halab:{spec.name}:{node.name}"


def kernel_cmdline(spec: LabSpec, node: Node, pubkey: str) -> str:
    nets = ";".join(
        f"{NIC_BY_ROLE[spec.network(a.network).role][0]},{a.address}/{spec.network(a.network).prefixlen}"
        for a in node.addresses
    )

    def b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    return " ".join([
        "root=/dev/vda", "rw", "console=ttyS0,115200", "quiet", "panic=5",
        f"systemd.hostname={node.on('service').hostname if _has(node, 'service') else node.name}",
        f"halab.net={nets}", f"halab.key={b64(pubkey)}", f"halab.hosts={b64(hosts_file(spec))}",
        f"halab.iqn={iqn_for(spec, node)}",
    ])


def _has(node: Node, network: str) -> bool:
    return any(a.network == network for a in node.addresses)


def _nics(spec: LabSpec, paths: LabPaths, node: Node) -> str:
    """One virtio NIC per network, in the PCI slot that names it in the guest, with its stable MAC."""
    nics = []
    for addr in node.addresses:
        role = spec.network(addr.network).role
        slot = NIC_BY_ROLE[role][1]
        nics.append(
            f"<interface type='bridge'><source bridge='{paths.bridge(role)}'/>"
            f"<mac address='{mac_for(spec, node.index, role)}'/><model type='virtio'/>"
            f"<address type='pci' domain='0x0000' bus='0x00' slot='{slot:#04x}' function='0x0'/></interface>"
        )
    return "".join(nics)


def _domain(spec: LabSpec, paths: LabPaths, node: Node, accel: Accel, os_block: str, extra_disks: str = "") -> str:
    """The parts every node shares whatever it boots: CPU/accelerator, overlay disk, NICs, serial
    console log, the i6300esb watchdog for sbd, and no balloon."""
    tcg = accel.kind == "tcg"
    cpu = "<cpu mode='maximum'/>" if tcg else "<cpu mode='host-passthrough'/>"
    tcg_feature = f"<tcg><tb-cache unit='MiB'>{TB_CACHE_MIB}</tb-cache></tcg>" if tcg else ""
    return f"""<domain type='{'qemu' if tcg else 'kvm'}'>
  <name>{escape(node.domain)}</name>
  <memory unit='MiB'>{spec.image.memory_mib}</memory>
  <vcpu>{spec.image.vcpus}</vcpu>
  {os_block}
  <features><acpi/>{tcg_feature}</features>
  {cpu}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='unsafe'/>
      <source file='{escape(str(paths.overlay(node.domain)))}'/><target dev='vda' bus='virtio'/></disk>
    {extra_disks}
    {_nics(spec, paths, node)}
    <serial type='file'><source path='{paths.console(node.domain)}' append='on'/><target port='0'/></serial>
    <watchdog model='i6300esb' action='reset'/>
    <memballoon model='none'/>
  </devices>
</domain>"""


def domain_xml(spec: LabSpec, paths: LabPaths, node: Node, image: BuiltImage,
               accel: Accel, pubkey: str) -> str:
    """A node on the built-in image: direct kernel boot, identity on the kernel command line."""
    os_block = (f"<os><type arch='x86_64' machine='pc'>hvm</type>"
                f"<kernel>{image.kernel}</kernel><initrd>{image.initrd}</initrd>"
                f"<cmdline>{escape(kernel_cmdline(spec, node, pubkey))}</cmdline></os>")
    return _domain(spec, paths, node, accel, os_block)


def user_domain_xml(spec: LabSpec, paths: LabPaths, node: Node, accel: Accel, firmware: str = "bios",
                    seed_iso: Path | None = None, nvram: Path | None = None,
                    ovmf: tuple[Path, Path] = (Path("/usr/share/OVMF/OVMF_CODE_4M.fd"),
                                               Path("/usr/share/OVMF/OVMF_VARS_4M.fd"))) -> str:
    """A node on a user's image: firmware boot from its overlay, identity from the seed ISO (if any).

    Why another OS block: nothing of the node's identity can ride on a kernel command line here
    (the kernel is inside the user's image), so the disk boots by firmware — SeaBIOS, or OVMF
    with a per-node copy of its variable store — and the NoCloud seed is a read-only cdrom on the
    IDE bus, which every guest kernel can read. Everything else is the same as domain_xml, so
    faults, fencing and NIC names work the same.
    """
    loader = ""
    if firmware == "uefi":
        code, template = ovmf
        store = nvram or paths.nodes / f"{node.domain}.nvram.fd"
        loader = (f"<loader readonly='yes' type='pflash'>{escape(str(code))}</loader>"
                  f"<nvram template='{escape(str(template))}'>{escape(str(store))}</nvram>")
    cdrom = ""
    if seed_iso is not None:
        cdrom = (f"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                 f"<source file='{escape(str(seed_iso))}'/><target dev='hdc' bus='ide'/><readonly/></disk>")
    os_block = f"<os><type arch='x86_64' machine='pc'>hvm</type>{loader}<boot dev='hd'/></os>"
    return _domain(spec, paths, node, accel, os_block, cdrom)


def make_overlay(paths: LabPaths, node: Node, image: BuiltImage) -> None:
    paths.nodes.mkdir(parents=True, exist_ok=True)
    overlay = paths.overlay(node.domain)
    overlay.unlink(missing_ok=True)
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image.disk), str(overlay)])


# --- lifecycle through libvirt-python --------------------------------------------------------


LIBVIRT_CONNECT_S = 10.0
LIBVIRT_CALL_S = 30.0  # one libvirt call (state, suspend, destroy, create ...) on a healthy libvirtd
_loop_lock = threading.Lock()
_loop_state = {"started": False}


def ensure_event_loop() -> None:
    """libvirt's default event loop, registered once per process and run on a daemon thread.

    Why here: keepalive (a dead libvirtd ends a connection instead of hanging it) needs an event
    loop, and the lifecycle watcher's events need the same one.
    """
    import libvirt

    with _loop_lock:
        if _loop_state["started"]:
            return
        libvirt.virEventRegisterDefaultImpl()

        def loop() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=loop, name="libvirt-events", daemon=True).start()
        _loop_state["started"] = True


def open_connection(uri: str | None = None, timeout: float = LIBVIRT_CONNECT_S) -> Any:
    """A libvirt connection opened within `timeout`, with keepalive (5 s x 3) on it; by default to
    the libvirtd of this process's lab (virt.select)."""
    import libvirt

    uri = uri or virt.current_uri()

    ensure_event_loop()
    try:
        conn = bounded(lambda: libvirt.open(uri), timeout, f"libvirt connect {uri}")
    except libvirt.libvirtError as err:
        raise LabError(f"cannot reach libvirtd at {uri}: {err}") from None
    with contextlib.suppress(libvirt.libvirtError):
        conn.setKeepAlive(5, 3)
    return conn


@contextlib.contextmanager
def connection(uri: str | None = None) -> Iterator[Any]:
    """A bounded connection to `uri`, by default the libvirtd of this process's lab."""
    conn = open_connection(uri)
    try:
        yield conn
    finally:
        with contextlib.suppress(Exception):
            bounded(conn.close, 5, "libvirt close")


def _call(what: str, fn: Callable[[], T], timeout: float = LIBVIRT_CALL_S) -> T:
    """One libvirt-python call with a client-side bound; libvirtError becomes a LabError."""
    import libvirt

    try:
        return bounded(fn, timeout, what, "libvirt")
    except libvirt.libvirtError as err:
        raise LabError(f"{what}: {err}", "libvirt") from None


def define_and_start(xmls: list[str]) -> None:
    """Define every domain first, then start them back to back: the nodes boot together."""
    with connection() as conn:
        doms = [_call("define domain", functools.partial(conn.defineXML, x)) for x in xmls]
        for dom in doms:
            _call(f"start {dom.name()}", dom.create, 60)


def state(domain: str) -> str:
    """libvirt's state name: running, paused, shutoff, ... or 'absent'."""
    import libvirt

    names = {libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_PAUSED: "paused",
             libvirt.VIR_DOMAIN_SHUTOFF: "shutoff", libvirt.VIR_DOMAIN_SHUTDOWN: "shutdown",
             libvirt.VIR_DOMAIN_CRASHED: "crashed", libvirt.VIR_DOMAIN_BLOCKED: "blocked",
             libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended"}

    def look(conn: Any) -> str:
        try:
            dom = conn.lookupByName(domain)
        except libvirt.libvirtError:
            return "absent"
        return names.get(dom.state()[0], "unknown")

    with connection() as conn:
        return _call(f"state of {domain}", lambda: look(conn))


def act(domain: str, action: str) -> None:
    """suspend / resume / destroy / start / reset one domain (what faults and heal use)."""
    with connection() as conn:
        dom = _call(f"look up {domain}", lambda: conn.lookupByName(domain))
        fn = {"suspend": dom.suspend, "resume": dom.resume, "destroy": dom.destroy,
              "start": dom.create, "reset": lambda: dom.reset(0)}[action]
        _call(f"{action} {domain}", fn, 60)


SNAPSHOT_CALL_S = 180.0  # one internal snapshot save or load: the guest's RAM to or from its qcow2 (TCG)


def snapshot_save(domain: str, name: str) -> None:
    """An internal snapshot of ``domain`` with its memory (a paused domain stays paused); an older
    one of the same name is replaced."""
    xml = f"<domainsnapshot><name>{escape(name)}</name></domainsnapshot>"
    with connection() as conn:
        dom = _call(f"look up {domain}", lambda: conn.lookupByName(domain))
        if name in _call(f"snapshots of {domain}", dom.snapshotListNames):  # a lookup of a missing one
            old = _call(f"snapshot {name} of {domain}",                    # prints libvirt's error line
                        lambda: dom.snapshotLookupByName(name))
            _call(f"delete snapshot {name} of {domain}", old.delete, SNAPSHOT_CALL_S)
        _call(f"snapshot {domain}", lambda: dom.snapshotCreateXML(xml, 0), SNAPSHOT_CALL_S)


def snapshot_load(domain: str, name: str) -> None:
    """``domain`` back to its snapshot ``name`` (memory and disk), left paused: whatever state it was
    in (running, paused, shut off by a fence). Forced: the state it leaves is always thrown away."""
    import libvirt

    with connection() as conn:
        dom = _call(f"look up {domain}", lambda: conn.lookupByName(domain))
        snap = _call(f"snapshot {name} of {domain}", lambda: dom.snapshotLookupByName(name))
        _call(f"revert {domain} to {name}",
              lambda: dom.revertToSnapshot(snap, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED
                                           | libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE), SNAPSHOT_CALL_S)


def remove_all(domains: list[str], uri: str | None = None) -> list[str]:
    """Destroy and undefine the given domains if present (idempotent)."""
    import libvirt

    def remove(conn: Any, name: str) -> bool:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError:
            return False
        with contextlib.suppress(libvirt.libvirtError):
            dom.destroy()
        with contextlib.suppress(libvirt.libvirtError):  # a --reset snapshot lab: its snapshots' metadata too
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
        return True

    with connection(uri) as conn:
        return [name for name in domains if _call(f"remove {name}", functools.partial(remove, conn, name), 60)]


def qemu_pids(domains: list[str], nodes_dir: Path, proc: Path = Path("/proc")) -> dict[str, int]:
    """PIDs of the qemu processes that run these domains *of this lab*: the domain name and a
    disk under this lab's `nodes_dir` must both be on the command line (a same-named domain of
    another lab or another tool on the host is never matched)."""
    out: dict[str, int] = {}
    marker = f"{nodes_dir}/"
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = [a.decode(errors="replace") for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
        except OSError:
            continue
        if not argv or not Path(argv[0]).name.startswith("qemu-system"):
            continue
        joined = " ".join(argv)
        if marker not in joined:
            continue
        for name in domains:
            named = "-name" in argv[:-1] and argv[argv.index("-name") + 1].split(",")[0] in (name, f"guest={name}")
            if f"guest={name}," in joined or named:
                out[name] = int(entry.name)
    return out
