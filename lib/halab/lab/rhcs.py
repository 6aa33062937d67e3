"""Red Hat Cluster Suite compiled from upstream source: the installed tree the RHCS image carries.

Why from source: no registry reachable carries cman, qdiskd, fenced or rgmanager (Debian dropped
them after wheezy), but the upstream tarballs are public and Proxmox VE ran this exact stack on
Debian for years. The tarballs come from a directory (../shared/upstream by default) or from
their pinned URLs, and are checked against pinned sha256 sums before anything is built.

Why a build chroot on the host: compiling under qemu TCG takes ten times as long, and the host's
own packages must not change. mmdebstrap makes a Debian 12 chroot with the build dependencies,
runs data/rhcs/build.sh in it (niced, bounded) and copies out one tarball of the installed tree;
the chroot is then thrown away. The tree is cached by content: the tarballs' sums, halab's
patches, the build script and BUILD_VERSION.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from halab.errors import HalabError, HostError, LabError

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "rhcs"
PATCH_DIR = DATA_DIR / "patches"
BUILD_SCRIPT = DATA_DIR / "build.sh"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SOURCE_DIR = PROJECT_ROOT.parent / "shared" / "upstream"
CACHE_DIR = Path("/var/cache/halab/rhcs")
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
BUILD_VERSION = "1"  # bump when the build's meaning changes outside build.sh and the patches
BUILD_TIMEOUT_S = 3600
DOWNLOAD_TIMEOUT_S = 300
BUILD_DEPS = ("build-essential", "autoconf", "automake", "libtool", "pkg-config", "patch", "perl",
              "libnss3-dev", "libxml2-dev", "libldap2-dev", "libslang2-dev", "libncurses-dev",
              "libdbus-1-dev", "zlib1g-dev", "libglib2.0-dev", "docbook-xsl", "xsltproc", "libxml2-utils", "groff",
              "python3")
PROGRESS_MARK = "rhcs-build: "


class SourceError(HalabError):
    """An upstream tarball is missing, unreadable or not the pinned file."""


@dataclass(frozen=True)
class Source:
    """One pinned upstream tarball: where a networked machine gets it and what it must hash to."""

    name: str
    url: str
    sha256: str


SOURCES = (
    Source("corosync-1.4.7.orig.tar.gz",
           "https://github.com/proxmox/corosync-pve/raw/0320eacf36c76a25ae8c3eac56a15855e6bce5f2/"
           "corosync-1.4.7.orig.tar.gz",
           "c1d005b2093e9a725abd1dfb2be936114b561c0b3145aca11f58c1a733a05af8"),
    Source("openais-1.1.4.orig.tar.gz",
           "https://github.com/proxmox/openais-pve/raw/e64a21795ffee03bc24e3bb281ecb32ac28e1f50/"
           "openais-1.1.4.orig.tar.gz",
           "c3f2a2415da3a966571bd951147f98da7ee7944e36403be014037e0aba6d3b69"),
    Source("cluster-3.2.0.tar.gz",
           "https://github.com/proxmox/redhat-cluster-pve/raw/fc08bd22c9c9dbaaacacd821ef24334c62821eef/"
           "cluster-3.2.0.tar.gz",
           "3c8b1eb711acf8f3d8b7f15842e26cbdc7e940ebfebfb193b7fe17d207c60979"),
    # A `git archive --prefix=resource-agents-4.12.0/` of tag v4.12.0: GitHub's own tag archive
    # has the same tree but other bytes, so a download is only accepted with this sum.
    Source("resource-agents-4.12.0.tar.gz",
           "https://github.com/ClusterLabs/resource-agents/archive/refs/tags/v4.12.0.tar.gz",
           "8b0c9eb2d1bf6a5e72b2fd9ad4ec805dabeadb321f3c1d09fd17e26f521baaac"),
)


def versions() -> dict[str, str]:
    """Upstream versions of the compiled tree, from the pinned tarball names (for the report)."""
    out = {}
    for src in SOURCES:
        base = src.name.removesuffix(".tar.gz").removesuffix(".orig")
        name, _, version = base.rpartition("-")
        out[f"{name} (compiled)"] = version
    return out


@dataclass(frozen=True)
class BuiltTree:
    key: str
    tarball: Path  # the installed tree, paths relative to /
    log: Path  # the full build log of the run that made it

    def exists(self) -> bool:
        return self.tarball.is_file()


def patches() -> tuple[Path, ...]:
    return tuple(sorted(PATCH_DIR.glob("*.patch")))


def tree_key() -> str:
    """Content key of the tree: what goes into the build, never when or where it was built."""
    digest = hashlib.sha256(f"{BUILD_VERSION}\n{SUITE}\n{MIRROR}\n{' '.join(BUILD_DEPS)}\n".encode())
    for src in SOURCES:
        digest.update(f"{src.name} {src.sha256}\n".encode())
    for path in (BUILD_SCRIPT, *patches()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cached_tree(cache_dir: Path = CACHE_DIR) -> BuiltTree:
    key = tree_key()
    root = cache_dir / f"tree-{key}"
    return BuiltTree(key, root / "rhcs-tree.tar.gz", root / "build.log")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate_sources(source_dir: Path, download_dir: Path | None = None,
                   progress: Callable[[str], None] = print) -> tuple[Path, ...]:
    """Every pinned tarball, verified: from ``source_dir``, else downloaded into ``download_dir``.

    Without ``download_dir`` a missing tarball is an error naming the file, the directory and
    the URL; a tarball with another sum is always an error (never built, never replaced).
    """
    found = []
    for src in SOURCES:
        path = source_dir / src.name
        if not path.is_file() and download_dir is not None:
            path = _download(src, download_dir, progress)
        if not path.is_file():
            raise SourceError(f"{src.name} is missing (get it from {src.url}, "
                              "or pass --download to fetch and verify it)", str(source_dir))
        _verify(src, path)
        found.append(path)
    return tuple(found)


def _verify(src: Source, path: Path) -> None:
    try:
        got = sha256_of(path)
    except OSError as err:
        raise SourceError(f"cannot read {src.name}: {err.strerror}", str(path)) from None
    if got != src.sha256:
        raise SourceError(f"{src.name} has sha256 {got[:16]}..., not the pinned {src.sha256[:16]}...",
                          str(path))


def _download(src: Source, download_dir: Path, progress: Callable[[str], None]) -> Path:
    download_dir.mkdir(parents=True, exist_ok=True)
    path = download_dir / src.name
    if path.is_file() and sha256_of(path) == src.sha256:
        return path
    progress(f"rhcs: downloading {src.url}")
    part = path.with_suffix(".part")
    try:
        with urllib.request.urlopen(src.url, timeout=DOWNLOAD_TIMEOUT_S) as resp, part.open("wb") as fh:  # noqa: S310
            shutil.copyfileobj(resp, fh)
    except OSError as err:
        part.unlink(missing_ok=True)
        raise SourceError(f"download of {src.name} failed: {err}", src.url) from None
    _verify(src, part)
    part.rename(path)
    return path


def ensure_tree(source_dir: Path | None = None, download: bool = False, rebuild: bool = False,
                progress: Callable[[str], None] = print, cache_dir: Path = CACHE_DIR) -> BuiltTree:
    """Return the cached installed tree for this content, compiling it first when absent or asked to."""
    tree = cached_tree(cache_dir)
    if tree.exists() and not rebuild:
        progress(f"rhcs: cached {tree.tarball} (key {tree.key})")
        return tree
    sources = locate_sources(source_dir or DEFAULT_SOURCE_DIR,
                             cache_dir / "downloads" if download else None, progress)
    if shutil.which("mmdebstrap") is None:
        raise HostError("mmdebstrap is not installed (run scripts/setup.sh)")
    started = time.monotonic()
    tree.tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="halab-rhcs-", dir=str(cache_dir)) as tmp:
        part = Path(tmp) / "rhcs-tree.tar.gz"
        progress(f"rhcs: build chroot ({SUITE}, {len(BUILD_DEPS)} build dependencies) and compile "
                 "corosync, openais, cluster, rgmanager's agents (15-25 min on 2 cores)")
        for line in _run_build(build_command(sources, part), tree.log):
            progress(f"rhcs: {line}")
        if not part.is_file():
            raise LabError("the build ended without a tree tarball", str(tree.log))
        part.rename(tree.tarball)
    progress(f"rhcs: built {tree.tarball} in {time.monotonic() - started:.0f} s "
             f"({tree.tarball.stat().st_size / 2**20:.1f} MiB)")
    _prune(cache_dir, keep=tree.tarball.parent)
    return tree


def build_command(sources: tuple[Path, ...], out: Path) -> list[str]:
    """mmdebstrap: a buildd chroot with the build deps, the build in it, the tarball copied out."""
    copy_in = " ".join(shlex.quote(str(p)) for p in sources)
    hooks = [
        'mkdir -p "$1/build/src" "$1/build/patches" "$1/build/out"',
        f'cp {copy_in} "$1/build/src/"',
        f'cp {" ".join(shlex.quote(str(p)) for p in patches())} "$1/build/patches/"',
        f'cp {shlex.quote(str(BUILD_SCRIPT))} "$1/build/build.sh"',
        'chroot "$1" nice -n 19 sh /build/build.sh',
        f'cp "$1/build/out/rhcs-tree.tar.gz" {shlex.quote(str(out))}',
    ]
    return ["nice", "-n", "19", "mmdebstrap", "--variant=buildd", "--include=" + ",".join(BUILD_DEPS),
            *[f"--customize-hook={h}" for h in hooks], SUITE, "/dev/null", MIRROR]


def _run_build(cmd: list[str], log: Path) -> Iterator[str]:
    """Run the build, the full output to ``log``; yield the progress lines as they come.

    A timer kills the build's process group at the deadline even when it prints nothing.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as fh, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                               text=True, start_new_session=True) as proc:
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.killpg(proc.pid, signal.SIGKILL)

        killer = threading.Timer(BUILD_TIMEOUT_S, kill)
        killer.start()
        tail: list[str] = []
        try:
            for line in proc.stdout or ():
                fh.write(line)
                tail = [*tail[-4:], line.strip()]
                if line.startswith(PROGRESS_MARK):
                    yield line[len(PROGRESS_MARK):].rstrip()
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill()
            raise LabError("the RHCS build did not exit after its output ended", str(log)) from None
        finally:
            killer.cancel()
    if expired.is_set():
        raise LabError(f"the RHCS build took longer than {BUILD_TIMEOUT_S} s", str(log))
    if code != 0:
        raise LabError(f"the RHCS build failed (exit {code}): {' | '.join(t for t in tail if t)}", str(log))


def _prune(cache_dir: Path, keep: Path) -> None:
    for old in cache_dir.glob("tree-*"):
        if old.is_dir() and old != keep:
            shutil.rmtree(old, ignore_errors=True)
