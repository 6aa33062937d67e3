"""The RHCS build pipeline's pure parts: pinned sources, content keys, the build command, image packages."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from halab.lab import rhcs, rhcsimage
from halab.lab.rhcs import SOURCES, SourceError, locate_sources

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "upstream"


def _fake(tmp_path: Path, broken: str = "", missing: str = "") -> Path:
    """A source dir whose files hash to the pinned sums is impossible to fake: patch the sums instead."""
    for src in SOURCES:
        if src.name != missing:
            (tmp_path / src.name).write_bytes(b"x" if src.name == broken else src.name.encode())
    return tmp_path


@pytest.fixture
def pinned_to_fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    fakes = tuple(rhcs.Source(s.name, s.url, hashlib.sha256(s.name.encode()).hexdigest()) for s in SOURCES)
    monkeypatch.setattr(rhcs, "SOURCES", fakes)


@pytest.mark.usefixtures("pinned_to_fakes")
def test_sources_from_a_directory_are_verified(tmp_path: Path) -> None:
    found = locate_sources(_fake(tmp_path), progress=lambda m: None)
    assert [p.name for p in found] == [s.name for s in SOURCES]


@pytest.mark.usefixtures("pinned_to_fakes")
def test_a_missing_tarball_is_one_line_naming_file_dir_and_url(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        locate_sources(_fake(tmp_path, missing="cluster-3.2.0.tar.gz"), progress=lambda m: None)
    text = str(err.value)
    assert "cluster-3.2.0.tar.gz is missing" in text
    assert str(tmp_path) in text
    assert "redhat-cluster-pve" in text
    assert "\n" not in text
    assert err.value.exit_code == 2


@pytest.mark.usefixtures("pinned_to_fakes")
def test_a_tarball_with_another_sum_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"openais-1\.1\.4\.orig\.tar\.gz has sha256 .* not the pinned"):
        locate_sources(_fake(tmp_path, broken="openais-1.1.4.orig.tar.gz"), progress=lambda m: None)


def test_the_shared_copies_match_the_pinned_sums() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (the upstream tarballs are read from ../shared)")
    assert len(locate_sources(SHARED, progress=lambda m: None)) == len(SOURCES)


def test_the_tree_key_follows_the_patches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = rhcs.tree_key()
    extra = tmp_path / "patches"
    extra.mkdir()
    for p in rhcs.patches():
        (extra / p.name).write_bytes(p.read_bytes())
    monkeypatch.setattr(rhcs, "PATCH_DIR", extra)
    assert rhcs.tree_key() == before
    (extra / "cluster-99-more.patch").write_text("--- a/x\n+++ b/x\n")
    assert rhcs.tree_key() != before


def test_every_patch_says_why() -> None:
    assert rhcs.patches(), "the build needs its source fixes"
    for p in rhcs.patches():
        head = p.read_text().split("\n--- ", 1)[0]
        assert "Why:" in head, f"{p.name} has no comment saying why"


def test_the_build_runs_niced_in_a_buildd_chroot_with_every_source_and_patch(tmp_path: Path) -> None:
    sources = tuple(tmp_path / s.name for s in SOURCES)
    cmd = rhcs.build_command(sources, tmp_path / "out.tar.gz")
    assert cmd[:3] == ["nice", "-n", "19"]
    assert "--variant=buildd" in cmd
    hooks = " ".join(c for c in cmd if c.startswith("--customize-hook="))
    assert all(str(p) in hooks for p in sources)
    assert all(p.name in hooks for p in rhcs.patches())
    assert 'chroot "$1" nice -n 19 sh /build/build.sh' in hooks


def test_the_rhcs_image_leaves_debians_cluster_stack_out_and_keeps_the_dlm_kernel() -> None:
    pkgs = rhcsimage.packages()
    assert not [p for p in pkgs if p.startswith(("corosync", "pacemaker", "pcs", "sbd", "resource-agents"))]
    assert {"linux-image-amd64", "fence-agents", "open-iscsi", "libnss3"} <= set(pkgs)


def test_a_guest_package_that_pulls_debians_corosync_stays_out_of_the_rhcs_image() -> None:
    # corosync-qdevice (Depends: corosync) joined the built-in guest and broke every cman start
    assert rhcsimage.debians_cluster_stack("corosync-qdevice")
    assert rhcsimage.debians_cluster_stack("corosync-qnetd")
    assert rhcsimage.debians_cluster_stack("pacemaker-remote")
    assert not rhcsimage.debians_cluster_stack("fence-agents")


def test_the_rhcs_image_build_refuses_debians_corosync(tmp_path: Path) -> None:
    # the hook's first check, run with a chroot whose dpkg says Debian's libcpg4 is installed
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "chroot").write_text('#!/bin/sh\n[ "$6" = libcpg4 ] && printf installed; exit 0\n')
    (fake / "chroot").chmod(0o755)
    hook = rhcs.DATA_DIR / "customize.sh"
    env = {"PATH": f"{fake}:/usr/bin:/bin"}
    res = subprocess.run(["sh", str(hook), str(tmp_path / "root"), "/nonexistent.tar.gz"], env=env,
                         capture_output=True, text=True, timeout=30, check=False)
    assert res.returncode == 1
    assert res.stderr.strip() == ("RHCS image: Debian's libcpg4 got in (a guest package depends on it): "
                                  "refusing the image")


def test_the_stack_decides_the_image(tmp_path: Path) -> None:
    rhcs_image = rhcsimage.cached_image("bookworm", tmp_path)
    assert rhcs_image.disk.parent.name.startswith("rhcs-bookworm-")
