"""The RHCS guest image: the built-in Debian 12 guest with Red Hat Cluster Suite compiled from source.

Why a second image and not packages on the first: corosync 1.4.7 and Debian's corosync 3 ship the
same sonames (libcpg.so.4 ...) and the same /usr/sbin/corosync, so Debian's cluster stack is left
out and the compiled tree (lib/halab/lab/rhcs.py) goes in instead. Everything else is the built-in
guest: its customize hook, Debian's fence-agents (fence_virsh), open-iscsi, and linux-image-amd64,
whose dlm.ko the kernel DLM of dlm_controld needs (the cloud kernel has no DLM). The lab boots
the kernel and initrd extracted from this image, like the built-in one.

Cached by content: the built-in guest's key, the compiled tree's key and the files of data/rhcs.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from pathlib import Path

from halab.lab import image as guest
from halab.lab import rhcs
from halab.lab.image import BuiltImage

KIND = "rhcs"
# Debian's own cluster stack: corosync 3 clashes with corosync 1.4.7 (same sonames and binary).
# By name and by prefix: any guest package named corosync-* or pacemaker-* pulls Debian's corosync
# in. Measured (CI at b82a703): corosync-qdevice joined the built-in guest for quorum devices, came
# into the RHCS image with Debian's libcpg.so.4, and fenced and dlm_controld, linked against
# corosync 1.4.7's, failed "cpg_initialize error 2": no cman start on any node. The image build
# also refuses an image where Debian's corosync arrived anyway (data/rhcs/customize.sh).
LEFT_OUT = frozenset({"pcs", "sbd", "resource-agents"})
LEFT_OUT_PREFIXES = ("corosync", "pacemaker")
IMAGE_FILES = ("packages.txt", "customize.sh", "halab-cman", "halab-rgmanager-stop", "cman.service",
               "rgmanager.service", "myappl.init")


def debians_cluster_stack(package: str) -> bool:
    """Whether ``package`` is (or depends on) Debian's corosync 3 / pacemaker stack."""
    return package in LEFT_OUT or package.startswith(LEFT_OUT_PREFIXES)


def packages() -> list[str]:
    lines = (rhcs.DATA_DIR / "packages.txt").read_text().splitlines()
    extra = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    return [p for p in guest.packages() if not debians_cluster_stack(p)] + extra


def image_key(suite: str) -> str:
    digest = hashlib.sha256(f"{guest.image_key(suite)}\n{rhcs.tree_key()}\n".encode())
    for name in IMAGE_FILES:
        digest.update(name.encode() + b"\0" + (rhcs.DATA_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cached_image(suite: str, cache_dir: Path = guest.CACHE_DIR) -> BuiltImage:
    key = image_key(suite)
    root = cache_dir / f"{KIND}-{suite}-{key}"
    return BuiltImage(key, root / "disk.qcow2", root / "vmlinuz", root / "initrd.img")


def ensure_rhcs_image(suite: str, rebuild: bool = False, progress: Callable[[str], None] = print,
                      cache_dir: Path = guest.CACHE_DIR, source_dir: Path | None = None,
                      download: bool = False) -> BuiltImage:
    """Return the cached RHCS image, compiling the tree and building the image first when needed."""
    image = cached_image(suite, cache_dir)
    if image.exists() and not rebuild:
        progress(f"image: cached {image.disk} (key {image.key})")
        return image
    tree = rhcs.ensure_tree(source_dir, download=download, progress=progress)
    hooks = [f'"{guest.GUEST_DIR}/customize.sh" "$1"',
             f'"{rhcs.DATA_DIR}/customize.sh" "$1" {shlex.quote(str(tree.tarball))}']
    cache_dir.mkdir(parents=True, exist_ok=True)
    guest.build_image(image, suite, packages(), hooks, progress, cache_dir)
    for old in guest.prune_images(suite, keep=image.key, cache_dir=cache_dir, kind=KIND):
        progress(f"image: removed the outdated {old.name}")
    return image


def ensure_stack_image(stack: str, suite: str, rebuild: bool = False,
                       progress: Callable[[str], None] = print, source_dir: Path | None = None,
                       download: bool = False) -> BuiltImage:
    """The built-in image a stack runs on: the spec's stack decides (rgmanager -> RHCS image)."""
    if stack == "rgmanager":
        return ensure_rhcs_image(suite, rebuild=rebuild, progress=progress, source_dir=source_dir,
                                 download=download)
    return guest.ensure_image(suite, rebuild=rebuild, progress=progress)
