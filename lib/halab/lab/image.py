"""The built-in guest image: Debian 12 built from Debian's packages by mmdebstrap, cached by content.

Why a cache key from content: building takes minutes under a 2-core machine, and a stale image is
worse than a slow one. The key hashes the package list and every file that goes into the image, so
the image is rebuilt exactly when one of them changes (or on --rebuild-image). Nodes never write
to it: each boots a qcow2 overlay.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from halab.errors import HostError, LabError
from halab.proc import run as bounded_run

GUEST_DIR = Path(__file__).resolve().parents[1] / "data" / "guest"
CACHE_DIR = Path("/var/cache/halab/images")
MIRROR = "http://deb.debian.org/debian"
BUILDER_VERSION = "1"  # bump when the build steps below change meaning
ROOTFS_SIZE = "3G"
BUILD_TIMEOUT_S = 1800


@dataclass(frozen=True)
class BuiltImage:
    key: str
    disk: Path  # compressed qcow2, read-only base of every node overlay
    kernel: Path
    initrd: Path

    def exists(self) -> bool:
        return self.disk.is_file() and self.kernel.is_file() and self.initrd.is_file()


def image_key(suite: str) -> str:
    digest = hashlib.sha256(f"{BUILDER_VERSION}\n{suite}\n{MIRROR}\n".encode())
    for path in sorted(GUEST_DIR.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def packages() -> list[str]:
    lines = (GUEST_DIR / "packages.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def cached_image(suite: str, cache_dir: Path = CACHE_DIR) -> BuiltImage:
    key = image_key(suite)
    root = cache_dir / f"debian-{suite}-{key}"
    return BuiltImage(key, root / "disk.qcow2", root / "vmlinuz", root / "initrd.img")


def ensure_image(suite: str, rebuild: bool = False, progress: Callable[[str], None] = print,
                 cache_dir: Path = CACHE_DIR) -> BuiltImage:
    """Return the cached image for this content, building it first when absent or asked to."""
    image = cached_image(suite, cache_dir)
    if image.exists() and not rebuild:
        progress(f"image: cached {image.disk} (key {image.key})")
        return image
    build_image(image, suite, packages(), [f'"{GUEST_DIR}/customize.sh" "$1"'], progress, cache_dir)
    for old in prune_images(suite, keep=image.key, cache_dir=cache_dir):
        progress(f"image: removed the outdated {old.name}")
    return image


def build_image(image: BuiltImage, suite: str, pkgs: list[str], hooks: list[str],
                progress: Callable[[str], None], cache_dir: Path) -> None:
    """mmdebstrap ``pkgs`` with the customize ``hooks`` ($1 = root tree), then kernel, initrd and qcow2."""
    _need_tools("mmdebstrap", "mkfs.ext4", "qemu-img")
    started = time.monotonic()
    root = image.disk.parent
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="halab-image-", dir=str(cache_dir)) as tmp:
        work = Path(tmp)
        rootfs = work / "rootfs"
        progress(f"image: mmdebstrap {suite} minbase with {len(pkgs)} packages (a few minutes)")
        _run(["mmdebstrap", "--variant=minbase", "--include=" + ",".join(pkgs),
              *[f"--customize-hook={h}" for h in hooks], suite, str(rootfs), MIRROR], "mmdebstrap")
        progress("image: extracting kernel and initrd")
        kernel, initrd = _boot_files(rootfs)
        shutil.copyfile(kernel, image.kernel)
        shutil.copyfile(initrd, image.initrd)
        progress(f"image: ext4 file system ({ROOTFS_SIZE}) from the root tree")
        raw = work / "disk.raw"
        _run(["mkfs.ext4", "-q", "-F", "-L", "halab-root", "-d", str(rootfs), str(raw), ROOTFS_SIZE],
             "mkfs.ext4")
        progress("image: compressing to qcow2")
        _run(["qemu-img", "convert", "-c", "-O", "qcow2", str(raw), str(image.disk) + ".part"], "qemu-img")
        Path(str(image.disk) + ".part").rename(image.disk)
    progress(f"image: built {image.disk} in {time.monotonic() - started:.0f} s "
             f"({image.disk.stat().st_size / 2**20:.0f} MiB)")


def prune_images(suite: str, keep: str, cache_dir: Path = CACHE_DIR,
                 labs_root: Path = Path("/var/lib/halab/labs"), kind: str = "debian") -> list[Path]:
    """Remove cached images of `kind` with other content, except those a lab that is up still boots from."""
    in_use = {p.read_text() for p in labs_root.glob("*/lab.json")} if labs_root.exists() else set()
    removed = []
    for old in cache_dir.glob(f"{kind}-{suite}-*"):
        if not old.is_dir() or old.name.endswith(keep) or any(str(old) in text for text in in_use):
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed


def _boot_files(rootfs: Path) -> tuple[Path, Path]:
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    initrds = sorted((rootfs / "boot").glob("initrd.img-*"))
    if not kernels or not initrds:
        raise LabError("image build produced no kernel or initrd under /boot", str(rootfs))
    return kernels[-1], initrds[-1]


def _need_tools(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            raise HostError(f"{tool} is not installed (run scripts/setup.sh)")


def _run(cmd: list[str], what: str) -> None:
    try:
        proc = bounded_run(cmd, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise LabError(f"{what} took longer than {BUILD_TIMEOUT_S} s", "image build") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise LabError(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}", "image build")
