"""The proof "user image": a Debian 12 disk that boots by firmware and gets its identity from cloud-init.

Why it exists: halab has no RHEL image to prove the bring-your-own route with, so it builds an image
the *other* way — a partitioned disk with GRUB in the MBR gap, booted by SeaBIOS, with cloud-init
and no lab identity at all — and then treats it exactly like a user's golden image (read-only base,
NoCloud seed per node). It is built without loop devices or nbd (none may be available to root in a
container): the root file system is made from a directory tree by `mkfs.ext4 -d`, the partition
table is written by `sfdisk` on the disk file, the partition is copied in at its offset, and GRUB's
boot.img and core.img are written into the MBR and the gap after it, which is all `grub-install`
does for BIOS on a disk. Cached by content key, like the built-in image.
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
from halab.lab.image import CACHE_DIR, MIRROR, _need_tools, _run, prune_images
from halab.proc import run as bounded_run

BYO_DIR = Path(__file__).resolve().parents[1] / "data" / "byo"
GRUB_PC_DIR = Path("/usr/lib/grub/i386-pc")
BUILDER_VERSION = "1"  # bump when the build steps below change meaning
ROOT_LABEL = "halab-byo"
ROOT_SIZE_MIB = 3072
PART_START_SECTOR = 2048  # 1 MiB: the gap before it holds GRUB's core.img
SECTOR = 512
# Modules built into core.img: enough to find the root partition, read ext4, show a menu on the
# serial console and boot Linux, before any module can be loaded from the disk.
CORE_MODULES = ("biosdisk", "part_msdos", "ext2", "normal", "linux", "search", "search_label", "configfile",
                "echo", "test", "boot", "serial", "terminal", "gzio")


@dataclass(frozen=True)
class ByoImage:
    key: str
    disk: Path  # compressed qcow2 with an MBR, GRUB and one ext4 root partition

    def exists(self) -> bool:
        return self.disk.is_file()


def byo_key(suite: str) -> str:
    digest = hashlib.sha256(f"byo {BUILDER_VERSION}\n{suite}\n{MIRROR}\n".encode())
    for path in sorted(BYO_DIR.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def byo_packages() -> list[str]:
    lines = (BYO_DIR / "packages.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def cached_byo(suite: str = "bookworm", cache_dir: Path = CACHE_DIR) -> ByoImage:
    key = byo_key(suite)
    return ByoImage(key, cache_dir / f"byo-{suite}-{key}" / "disk.qcow2")


def sfdisk_script(part_start: int = PART_START_SECTOR, size_mib: int = ROOT_SIZE_MIB) -> str:
    """One bootable Linux partition after a 1 MiB gap (the gap is where GRUB's core.img lives)."""
    return f"label: dos\nunit: sectors\n\nstart={part_start}, size={size_mib * 2048}, type=83, bootable\n"


def grub_cfg(kernel_version: str) -> str:
    return (BYO_DIR / "grub.cfg").read_text().replace("@KVER@", kernel_version)


def grub_mkimage_cmd(out: Path) -> list[str]:
    """core.img for BIOS, its prefix on the first partition (where /boot/grub/i386-pc is copied)."""
    return ["grub-mkimage", "-O", "i386-pc", "-d", str(GRUB_PC_DIR), "-o", str(out),
            "-p", "(hd0,msdos1)/boot/grub", *CORE_MODULES]


def install_grub_bios(disk: Path, boot_img: Path, core_img: Path, part_start: int = PART_START_SECTOR) -> None:
    """Write GRUB into a disk *file*: boot.img's code into the MBR, core.img right after it.

    boot.img loads sector 1 by default (its kernel_sector field is 1) and core.img's first sector
    (diskboot) loads the rest from sector 2 on, its length filled in by grub-mkimage: so with
    core.img at sector 1 no block list needs patching. The partition table (bytes 440..511) stays.
    """
    boot = boot_img.read_bytes()
    core = core_img.read_bytes()
    if len(boot) != SECTOR:
        raise LabError(f"{boot_img} is {len(boot)} bytes, not one sector", "image build")
    if SECTOR + len(core) > part_start * SECTOR:
        raise LabError(f"core.img ({len(core)} bytes) does not fit before the first partition", "image build")
    with disk.open("r+b") as fh:
        fh.seek(0)
        fh.write(boot[:440])
        fh.seek(SECTOR)
        fh.write(core)


def ensure_byo_image(suite: str = "bookworm", rebuild: bool = False, progress: Callable[[str], None] = print,
                     cache_dir: Path = CACHE_DIR) -> ByoImage:
    """Return the cached proof image for this content, building it first when absent or asked to."""
    image = cached_byo(suite, cache_dir)
    if image.exists() and not rebuild:
        progress(f"byo image: cached {image.disk} (key {image.key})")
        _link(image, cache_dir, suite)
        return image
    _need_tools("mmdebstrap", "mkfs.ext4", "qemu-img", "sfdisk", "grub-mkimage", "dd")
    if not (GRUB_PC_DIR / "boot.img").is_file():
        raise HostError(f"no {GRUB_PC_DIR}/boot.img: grub-pc-bin is not installed (run scripts/setup.sh)")
    started = time.monotonic()
    image.disk.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="halab-byo-", dir=str(cache_dir)) as tmp:
        work = Path(tmp)
        rootfs = work / "rootfs"
        progress(f"byo image: mmdebstrap {suite} minbase with {len(byo_packages())} packages (a few minutes)")
        _run(["mmdebstrap", "--variant=minbase", "--include=" + ",".join(byo_packages()),
              "--customize-hook=" + f'"{BYO_DIR}/customize.sh" "$1"', suite, str(rootfs), MIRROR],
             "mmdebstrap")
        kver = _kernel_version(rootfs)
        progress(f"byo image: GRUB (BIOS) for kernel {kver}")
        grub_dir = rootfs / "boot" / "grub"
        shutil.copytree(GRUB_PC_DIR, grub_dir / "i386-pc",
                        ignore=shutil.ignore_patterns("*.image", "*.exec", "*.module", "*.elf"))
        (grub_dir / "grub.cfg").write_text(grub_cfg(kver))
        core = work / "core.img"
        _run(grub_mkimage_cmd(core), "grub-mkimage")
        progress(f"byo image: ext4 root partition ({ROOT_SIZE_MIB} MiB, label {ROOT_LABEL}) from the tree")
        part = work / "root.ext4"
        _run(["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-d", str(rootfs), str(part), f"{ROOT_SIZE_MIB}M"],
             "mkfs.ext4")
        progress("byo image: partition table (sfdisk), root partition at 1 MiB, GRUB in the MBR gap")
        raw = work / "disk.raw"
        with raw.open("wb") as fh:
            fh.truncate((PART_START_SECTOR + ROOT_SIZE_MIB * 2048) * SECTOR)
        _sfdisk(raw)
        _run(["dd", f"if={part}", f"of={raw}", "bs=1M", f"seek={PART_START_SECTOR * SECTOR // 2**20}",
              "conv=notrunc,sparse", "status=none"], "dd")
        install_grub_bios(raw, GRUB_PC_DIR / "boot.img", core)
        progress("byo image: compressing to qcow2")
        _run(["qemu-img", "convert", "-c", "-O", "qcow2", str(raw), str(image.disk) + ".part"], "qemu-img")
        Path(str(image.disk) + ".part").rename(image.disk)
    progress(f"byo image: built {image.disk} in {time.monotonic() - started:.0f} s "
             f"({image.disk.stat().st_size / 2**20:.0f} MiB)")
    progress(f"byo image: {_link(image, cache_dir, suite)} -> {image.disk}")
    for old in prune_byo(suite, keep=image.key, cache_dir=cache_dir):
        progress(f"byo image: removed the outdated {old.name}")
    return image


def prune_byo(suite: str, keep: str, cache_dir: Path = CACHE_DIR,
              labs_root: Path = Path("/var/lib/halab/labs")) -> list[Path]:
    """Remove proof images of other content, except those a lab that is up still boots from."""
    return prune_images(suite, keep, cache_dir, labs_root, kind="byo")


def stable_path(suite: str = "bookworm", cache_dir: Path = CACHE_DIR) -> Path:
    """Where labs/byo/lab.toml finds the image: a link to the current content's build."""
    return cache_dir / f"byo-{suite}.qcow2"


def _link(image: ByoImage, cache_dir: Path, suite: str) -> Path:
    link = stable_path(suite, cache_dir)
    tmp = link.with_name(link.name + ".new")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(image.disk)
    tmp.replace(link)
    return link


def _kernel_version(rootfs: Path) -> str:
    kernels = sorted((rootfs / "boot").glob("vmlinuz-*"))
    if not kernels or not (rootfs / "boot" / f"initrd.img-{kernels[-1].name[8:]}").is_file():
        raise LabError("image build produced no kernel or initrd under /boot", str(rootfs))
    return kernels[-1].name[len("vmlinuz-"):]


def _sfdisk(raw: Path) -> None:
    try:
        proc = bounded_run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(raw)],
                           input=sfdisk_script(), timeout=60)
    except subprocess.TimeoutExpired:
        raise LabError("sfdisk took longer than 60 s", "image build") from None
    if proc.returncode != 0:
        raise LabError(f"sfdisk failed (exit {proc.returncode}): {proc.stderr.strip()}", "image build")


def main(argv: list[str] | None = None) -> int:
    """`python -m halab.lab.byoimage [--rebuild]`: build (or show) the cached proof image."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m halab.lab.byoimage", description=main.__doc__)
    parser.add_argument("--suite", default="bookworm")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    image = ensure_byo_image(args.suite, rebuild=args.rebuild)
    print(image.disk)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
