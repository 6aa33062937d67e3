"""A user's own disk image as the base of the lab's nodes: checks, overlays, identity, stack.

Why this shape: the user's image is theirs — halab never writes it. Each node boots a qcow2
overlay on it by firmware (no kernel on the host side), and gets its identity either from a NoCloud
seed ISO (the image has cloud-init) or from files written into its *overlay* before first boot by
libguestfs (the image has not). Which route is used is chosen by the spec, or found out by looking
into the image read-only, and always said on a progress line. Once the node answers SSH, the
cluster stack it really carries is checked against the one the run wants, so a wrong image stops
with one line instead of a deploy that fails half-way.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from halab.errors import HostError, LabError, SpecError
from halab.lab import identity
from halab.lab.host import Result, run
from halab.lab.paths import LabPaths
from halab.spec import LabSpec, Node

if TYPE_CHECKING:
    from halab.lab.lab import Lab

Progress = Callable[[str], None]
ISO_TOOLS = ("genisoimage", "xorriso", "cloud-localds")
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
GUESTFS_TIMEOUT_S = 900.0  # the libguestfs appliance boots under TCG here: minutes, not seconds
CLOUD_INIT_WAIT_S = 600.0
ESP_GUID = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
BIOS_BOOT_GUID = "21686148-6463-6f6e-744e-656564454649"


@dataclass(frozen=True)
class UserImage:
    """A user's image as halab uses it; `kind` lets lab code branch without importing this module."""

    key: str  # from path, size and mtime: names the image in lab.json without hashing gigabytes
    disk: Path
    format: str  # qcow2 | raw
    firmware: str  # bios | uefi
    identity: str  # cloud-init | overlay-edit
    os_family: str  # debian | rhel | auto (only the overlay-edit route needs to know)
    kind: str = "user"


class Runner(Protocol):
    """What detect_stack needs of a node: halab.lab.remote.Remote, or a recorded stand-in in tests."""

    name: str

    def run(self, cmd: str, timeout: float = ..., check: bool = ..., connect_timeout: float = ...) -> Result: ...


# --- the image ---------------------------------------------------------------------------------


def image_path(spec: LabSpec) -> Path:
    """The image file itself, links resolved: overlays must name the file, not a link that may move."""
    path = Path(spec.image.path).expanduser()
    return (path if path.is_absolute() else spec.path.parent / path).resolve()


def image_format(path: Path) -> str:
    """qcow2 or raw, as qemu-img sees it; anything else is refused (a backing file must be one of them)."""
    res = run(["qemu-img", "info", "--output=json", "-U", str(path)], timeout=60, check=False)
    if not res.ok:
        raise SpecError(f"image.path: qemu-img cannot read {path}: {res.stderr.strip()[:200]}")
    fmt = str(json.loads(res.stdout).get("format", ""))
    if fmt not in ("qcow2", "raw"):
        raise SpecError(f"image.path: {path} is a {fmt or 'unknown'} image; give a qcow2 or raw disk")
    return fmt


def firmware_from_table(head: bytes) -> str:
    """bios or uefi from the first 34 sectors of a disk: its MBR or GPT.

    A GPT with an EFI system partition and no BIOS boot partition needs UEFI; everything else
    (MBR disks, hybrid GPT disks with a BIOS boot partition) boots with SeaBIOS, the simpler path.
    """
    if len(head) < 1024 or head[510:512] != b"\x55\xaa":
        return "bios"
    mbr_types = [head[446 + 16 * i + 4] for i in range(4)]
    if 0xEE not in mbr_types:
        return "uefi" if 0xEF in mbr_types and all(t in (0, 0xEF) for t in mbr_types) else "bios"
    if head[512:520] != b"EFI PART":
        return "bios"
    entry_lba = int.from_bytes(head[512 + 72:512 + 80], "little")
    count = int.from_bytes(head[512 + 80:512 + 84], "little")
    size = int.from_bytes(head[512 + 84:512 + 88], "little")
    types = set()
    for i in range(min(count, 128)):
        off = entry_lba * 512 + i * size
        raw = head[off:off + 16]
        if len(raw) < 16 or raw == bytes(16):
            continue
        types.add(_guid(raw))
    if BIOS_BOOT_GUID in types:
        return "bios"
    return "uefi" if ESP_GUID in types else "bios"


def _guid(raw: bytes) -> str:
    """A GPT GUID from its mixed-endian bytes to the usual text form."""
    a = raw[0:4][::-1].hex()
    b = raw[4:6][::-1].hex()
    c = raw[6:8][::-1].hex()
    return f"{a}-{b}-{c}-{raw[8:10].hex()}-{raw[10:16].hex()}"


def read_head(path: Path, fmt: str, sectors: int = 34) -> bytes:
    """The first sectors of the disk, read-only (qemu-img dd for qcow2, plain read for raw)."""
    if fmt == "raw":
        with path.open("rb") as fh:
            return fh.read(sectors * 512)
    with tempfile.TemporaryDirectory(prefix="halab-head-") as tmp:
        out = Path(tmp) / "head.raw"
        run(["qemu-img", "dd", "-U", "-f", fmt, "-O", "raw", f"if={path}", f"of={out}", "bs=512",
             f"count={sectors}"], timeout=60)
        return out.read_bytes()


def guestfs_env() -> list[str]:
    """`env` settings for libguestfs: its own qemu (never a libvirtd), TCG where KVM cannot boot.

    The paravirtual KVM of our machines aborts qemu on `-cpu host` (LAB-FINDINGS); libguestfs
    would try KVM first, so it is told to use TCG whenever halab itself would choose TCG.
    """
    from halab.lab.domains import choose_accel

    env = ["env", "LIBGUESTFS_BACKEND=direct"]
    if choose_accel("auto").kind == "tcg":
        env.append("LIBGUESTFS_BACKEND_SETTINGS=force_tcg")
    return env


def guestfish_probe_cmd(disk: Path, fmt: str, root_device: str = "") -> list[str]:
    """Look into the image read-only: does it have cloud-init, and which distribution is it."""
    mount = ["-m", root_device] if root_device else ["-i"]
    return [*guestfs_env(), "guestfish", "--ro", "--format", fmt, "-a", str(disk), *mount,
            "exists", "/etc/cloud/cloud.cfg", ":", "exists", "/etc/redhat-release", ":",
            "exists", "/etc/debian_version"]


def parse_probe(stdout: str) -> tuple[bool, str]:
    """guestfish's three true/false lines -> (has cloud-init, os family or 'auto')."""
    lines = [ln.strip() for ln in stdout.strip().splitlines()]
    if len(lines) != 3 or any(ln not in ("true", "false") for ln in lines):
        raise LabError(f"unexpected guestfish answer: {stdout.strip()[:120]!r}", "image inspection")
    cloud, rhel, debian = (ln == "true" for ln in lines)
    return cloud, "rhel" if rhel else "debian" if debian else "auto"


def choose_route(requested: str, has_cloud_init: bool | None) -> tuple[str, str]:
    """(route, why): the spec's choice, else what inspection found, else cloud-init."""
    if requested != "auto":
        return requested, "as the spec says (image.identity)"
    if has_cloud_init is None:
        return "cloud-init", "guestfish not installed, so not inspected; assuming cloud-init"
    if has_cloud_init:
        return "cloud-init", "the image has /etc/cloud/cloud.cfg"
    return "overlay-edit", "the image has no cloud-init"


def resolve(spec: LabSpec, progress: Progress = print) -> UserImage:
    """Check the user's image and decide firmware and identity route, saying each choice."""
    hint = spec.image
    path = image_path(spec)
    if not path.is_file():
        raise SpecError(f"image.path: no user image at {path}", str(spec.path))
    if hint.stack and hint.stack != spec.stack:
        raise SpecError(f"image.stack says the image carries {hint.stack}, but this run wants {spec.stack} "
                        f"(use --stack {hint.stack})", str(spec.path))
    fmt = image_format(path)
    firmware = hint.firmware
    if firmware == "auto":
        firmware = firmware_from_table(read_head(path, fmt))
    if firmware == "uefi" and not (OVMF_CODE.is_file() and OVMF_VARS.is_file()):
        raise HostError(f"a UEFI image needs OVMF ({OVMF_CODE}): install the ovmf package (scripts/setup.sh)")
    has_cloud_init: bool | None = None
    os_family = hint.os_family
    if (hint.identity == "auto" or (hint.identity == "overlay-edit" and os_family == "auto")) \
            and shutil.which("guestfish"):
        progress(f"image: inspecting {path.name} read-only with guestfish (cloud-init? OS family?)")
        res = run(guestfish_probe_cmd(path, fmt, hint.root_device), timeout=GUESTFS_TIMEOUT_S, check=False)
        if not res.ok:
            raise LabError(f"guestfish could not inspect {path}: {res.stderr.strip()[-200:]} "
                           "(set image.identity and image.os_family, or image.root_device)", "image")
        has_cloud_init, found = parse_probe(res.stdout)
        os_family = found if os_family == "auto" else os_family
    route, why = choose_route(hint.identity, has_cloud_init)
    if route == "overlay-edit":
        if shutil.which("virt-customize") is None:
            raise HostError("the overlay-edit route needs virt-customize: install libguestfs-tools")
        if os_family not in identity.OS_FAMILIES:
            raise SpecError("image.os_family: cannot tell the image's OS family; set debian or rhel",
                            str(spec.path))
    stat = path.stat()
    key = hashlib.sha256(f"{path}\n{stat.st_size}\n{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    progress(f"image: user image {path} ({fmt}, {stat.st_size / 2**30:.1f} GiB on disk), firmware {firmware}"
             f"{' (from its partition table)' if hint.firmware == 'auto' else ''}; never written: one overlay per node")
    progress(f"image: identity route {route} ({why})")
    return UserImage(key, path, fmt, firmware, route, os_family)


# --- per node ----------------------------------------------------------------------------------


def seed_path(paths: LabPaths, node: Node) -> Path:
    return paths.nodes / f"{node.domain}.seed.iso"


def nvram_path(paths: LabPaths, node: Node) -> Path:
    return paths.nodes / f"{node.domain}.nvram.fd"


def make_overlay(paths: LabPaths, node: Node, image: UserImage) -> Path:
    paths.nodes.mkdir(parents=True, exist_ok=True)
    overlay = paths.overlay(node.domain)
    overlay.unlink(missing_ok=True)
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", image.format, "-b", str(image.disk), str(overlay)])
    return overlay


def iso_tool() -> str:
    for tool in ISO_TOOLS:
        if shutil.which(tool):
            return tool
    raise HostError("no ISO writer for the NoCloud seed: install genisoimage (scripts/setup.sh)")


def seed_iso_cmd(tool: str, iso: Path, folder: Path) -> list[str]:
    """The command that writes a NoCloud seed: volume label `cidata`, the three files at its root."""
    files = [str(folder / name) for name in ("user-data", "meta-data", "network-config")]
    if tool == "genisoimage":
        return ["genisoimage", "-quiet", "-output", str(iso), "-volid", "cidata", "-joliet", "-rock",
                "-input-charset", "utf-8", *files]
    if tool == "xorriso":
        return ["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso), "-V", "cidata", "-J", "-R", *files]
    if tool == "cloud-localds":
        return ["cloud-localds", "-N", files[2], str(iso), files[0], files[1]]
    raise ValueError(f"unknown ISO tool {tool!r}")


def write_seed_iso(seed: identity.SeedFiles, iso: Path, tool: str | None = None) -> str:
    """Write the seed ISO with a real tool from Debian's packages; returns the tool used."""
    tool = tool or iso_tool()
    iso.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="halab-seed-") as tmp:
        folder = Path(tmp)
        for name, text in seed.as_files().items():
            (folder / name).write_text(text)
        iso.unlink(missing_ok=True)
        run(seed_iso_cmd(tool, iso, folder), timeout=60)
    return tool


def iso_files(iso: Path) -> dict[str, str]:
    """The files at the root of an ISO, read back with isoinfo (Joliet names): name -> text."""
    listing = run(["isoinfo", "-J", "-f", "-i", str(iso)], timeout=30).stdout.split()
    out = {}
    for name in listing:
        text = run(["isoinfo", "-J", "-x", name, "-i", str(iso)], timeout=30).stdout
        out[name.lstrip("/")] = text
    return out


def stage_overlay_files(staging: Path, files: dict[str, tuple[str, int]], spec: LabSpec) -> None:
    for path, (content, _mode) in files.items():
        target = staging / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    (staging / "firstboot.sh").write_text(identity.firstboot_script(spec))


def edit_overlay(spec: LabSpec, node: Node, overlay: Path, pubkey: str, os_family: str) -> None:
    """The overlay-edit route: virt-customize writes the identity into this node's overlay only."""
    files = identity.overlay_files(spec, node, os_family)
    with tempfile.TemporaryDirectory(prefix="halab-overlay-") as tmp:
        staging = Path(tmp)
        stage_overlay_files(staging, files, spec)
        keyfile = staging / "lab_key.pub"
        keyfile.write_text(pubkey + "\n")
        res = run([*guestfs_env(), *identity.virt_customize_cmd(overlay, staging, files, node, keyfile, os_family)],
                  timeout=GUESTFS_TIMEOUT_S, check=False)
    if not res.ok:
        tail = " | ".join(ln for ln in (res.stderr or res.stdout).strip().splitlines()[:2])
        raise LabError(f"virt-customize could not edit {overlay.name} (exit {res.exit_code}): {tail}", node.name)


def prepare_identity(spec: LabSpec, paths: LabPaths, node: Node, image: UserImage, pubkey: str,
                     progress: Progress = print) -> Path | None:
    """Overlay + identity for one node; returns the seed ISO (cloud-init route) or None."""
    overlay = make_overlay(paths, node, image)
    if image.identity == "cloud-init":
        iso = seed_path(paths, node)
        tool = write_seed_iso(identity.seed_files(spec, node, pubkey), iso)
        progress(f"{node.name}: identity by cloud-init NoCloud seed {iso.name} (written by {tool})")
        return iso
    started = time.monotonic()
    progress(f"{node.name}: identity by overlay edit (virt-customize on {overlay.name}, {image.os_family} files)")
    edit_overlay(spec, node, overlay, pubkey, image.os_family)
    progress(f"{node.name}: overlay edited in {time.monotonic() - started:.0f} s")
    return None


# --- on the booted node ------------------------------------------------------------------------

STACK_PROBES = {
    "rpm-rgmanager": "rpm -q cman rgmanager",
    "rpm-pacemaker": "rpm -q pacemaker pcs",
    "dpkg-pacemaker": "dpkg -s pacemaker",
}


def stack_probe_command() -> str:
    """One SSH call running every probe, each answer fenced by a marker line with its exit code."""
    parts = [f"echo '@@ {name}'; {cmd} 2>&1; echo \"@@ rc $?\"" for name, cmd in STACK_PROBES.items()]
    return "; ".join(parts)


def parse_stack_probe(stdout: str) -> dict[str, tuple[int, str]]:
    """Marker-fenced probe output -> probe name -> (exit code, its output)."""
    out: dict[str, tuple[int, str]] = {}
    name = ""
    body: list[str] = []
    for line in stdout.splitlines():
        if line.startswith("@@ rc "):
            if name:
                rc = line[6:].strip()
                out[name] = (int(rc) if rc.lstrip("-").isdigit() else 127, "\n".join(body).strip())
            name, body = "", []
        elif line.startswith("@@ "):
            name, body = line[3:].strip(), []
        else:
            body.append(line)
    return out


def stacks_found(probes: dict[str, tuple[int, str]]) -> dict[str, str]:
    """Stack -> the evidence line, for every stack whose packages are all installed.

    rpm -q exits non-zero when any named package is missing; pacemaker on an RPM system counts
    with pacemaker alone (pcs is how people drive it, halab drives the CIB directly).
    """
    found: dict[str, str] = {}
    rc, text = probes.get("rpm-rgmanager", (127, ""))
    if rc == 0:
        found["rgmanager"] = "rpm: " + ", ".join(text.split())
    _rc, text = probes.get("rpm-pacemaker", (127, ""))
    installed = [ln.strip() for ln in text.splitlines() if ln.strip() and "not installed" not in ln]
    if any(ln.startswith("pacemaker-") for ln in installed):
        found["pacemaker"] = "rpm: " + ", ".join(installed)
    rc, text = probes.get("dpkg-pacemaker", (127, ""))
    if rc == 0 and "Status: install ok installed" in text:
        version = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Version:")), "")
        found.setdefault("pacemaker", f"dpkg: pacemaker {version}".strip())
    return found


def detect_stack(remote: Runner, timeout_s: float = 60.0) -> dict[str, str]:
    """Which cluster stacks the booted node carries: stack -> evidence (empty when none)."""
    res = remote.run(stack_probe_command(), timeout=timeout_s)
    return stacks_found(parse_stack_probe(res.stdout))


def require_stack(found: dict[str, str], wanted: str, node: str) -> str:
    """The wanted stack's evidence, or one clear line saying what the image has instead."""
    if wanted in found:
        return found[wanted]
    need = {"rgmanager": "cman and rgmanager (rpm)", "pacemaker": "pacemaker (rpm or dpkg)"}[wanted]
    other = [s for s in found if s != wanted]
    hint = f"; it has {other[0]}: run with --stack {other[0]}" if other else "; it has no cluster stack"
    raise LabError(f"the image lacks the {wanted} stack ({need} not installed){hint}", node)


def wait_cloud_init(remote: Runner, within_s: float = CLOUD_INIT_WAIT_S) -> str:
    """Block until cloud-init's final stage is over on the node (so its iSCSI login is not raced).

    `cloud-init status --wait` alone is not enough: cloud-init 22.x reports `error` and returns as
    soon as an earlier stage failed, before runcmd has run; boot-finished is written at the very
    end of the final stage, whatever failed before.
    """
    polls = max(1, int(within_s / 2) - 5)
    res = remote.run("command -v cloud-init >/dev/null || { echo absent; exit 0; }; "
                     "cloud-init status --wait >/dev/null 2>&1; i=0; "
                     f"while [ ! -f /var/lib/cloud/instance/boot-finished ] && [ $i -lt {polls} ]; do "
                     "sleep 2; i=$((i+1)); done; cloud-init status 2>&1 | tail -n 1",
                     timeout=within_s)
    return res.stdout.strip() or "unknown"


def wait_firstboot(remote: Runner, within_s: float = CLOUD_INIT_WAIT_S) -> bool:
    """Block until halab's first-boot script has finished (it touches a marker as its last step).

    virt-customize moves a first-boot script out of its queue *before* running it, so the queue
    says nothing about the end; the marker does, on systemd and SysV init alike.
    """
    polls = max(1, int(within_s / 2) - 5)
    res = remote.run(f"i=0; while [ ! -e {identity.FIRSTBOOT_DONE} ] && [ $i -lt {polls} ]; do "
                     f"sleep 2; i=$((i+1)); done; test -e {identity.FIRSTBOOT_DONE}", timeout=within_s)
    return res.ok


def first_boot(lab: Lab, node: Node, progress: Progress = print) -> str:
    """After SSH answers on a user-image node: let cloud-init finish, then check the stack.

    A cloud-init error is said but does not stop the lab: it is often a module halab does not use
    (locale, package mirrors); what halab needs is checked right after (stack here, iSCSI LUNs by
    path in prepare_node), each with its own clear line.
    """
    remote = lab.remotes[node.name]
    image = lab.image
    if isinstance(image, UserImage) and image.identity == "cloud-init":
        started = time.monotonic()
        state = wait_cloud_init(remote)
        note = " (see /var/log/cloud-init.log on the node)" if "error" in state else ""
        progress(f"{node.name}: cloud-init {state} ({time.monotonic() - started:.0f} s after SSH){note}")
    elif isinstance(image, UserImage):
        started = time.monotonic()
        done = "done" if wait_firstboot(remote) else "not finished (see /root/virt-sysprep-firstboot.log)"
        progress(f"{node.name}: first-boot script {done} ({time.monotonic() - started:.0f} s after SSH)")
    evidence = require_stack(detect_stack(remote), lab.spec.stack, node.name)
    progress(f"{node.name}: stack {lab.spec.stack} present ({evidence})")
    return evidence
