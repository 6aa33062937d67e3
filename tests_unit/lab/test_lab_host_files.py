"""Host-side files halab writes: qemu.conf settings (on a copy) and the LUN backing files (in tmp).

Nothing here touches /etc/libvirt or /var/lib/halab: qemu.conf is a file in tmp_path and the
lab state root is monkeypatched to tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.lab import paths
from halab.lab.paths import LabPaths
from halab.lab.target import backing_files
from halab.lab.virt import MARK, QEMU_SETTINGS, ensure_qemu_conf
from halab.spec import LabSpec, load_spec

DEBIAN_LIKE = """\
# Master configuration file for the QEMU driver.
#vnc_listen = "0.0.0.0"
#user = "qemu"
user = "libvirt-qemu"
group = "kvm"
  security_driver = "apparmor"
cgroup_controllers = [ "cpu", "devices", "memory" ]
#cgroup_controllers = [ "cpu" ]
username_hint = "keep me"
max_files = 4096
"""


def settings_in(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [] for k in QEMU_SETTINGS}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in out and not key.lstrip().startswith("#"):
            out[key.strip()].append(value.strip())
    return out


def test_ensure_qemu_conf_replaces_the_settings(tmp_path: Path) -> None:
    conf = tmp_path / "qemu.conf"
    conf.write_text(DEBIAN_LIKE)
    ensure_qemu_conf(conf)
    text = conf.read_text()
    assert settings_in(text) == {k: [v] for k, v in QEMU_SETTINGS.items()}
    assert text.count(MARK) == 1
    # everything else is kept, comments included
    for kept in ('#user = "qemu"', '#vnc_listen = "0.0.0.0"', '#cgroup_controllers = [ "cpu" ]',
                 'username_hint = "keep me"', "max_files = 4096"):
        assert kept in text.splitlines()
    assert "libvirt-qemu" not in text
    assert "apparmor" not in text


def test_ensure_qemu_conf_is_idempotent(tmp_path: Path) -> None:
    conf = tmp_path / "qemu.conf"
    conf.write_text(DEBIAN_LIKE)
    ensure_qemu_conf(conf)
    once = conf.read_bytes()
    ensure_qemu_conf(conf)
    ensure_qemu_conf(conf)
    assert conf.read_bytes() == once


def test_ensure_qemu_conf_creates_a_missing_file(tmp_path: Path) -> None:
    conf = tmp_path / "qemu.conf"
    ensure_qemu_conf(conf)
    assert settings_in(conf.read_text()) == {k: [v] for k, v in QEMU_SETTINGS.items()}
    assert QEMU_SETTINGS == {"user": '"root"', "group": '"root"', "security_driver": '"none"',
                             "cgroup_controllers": "[ ]"}


# --- LUN backing files -------------------------------------------------------------------------


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LabSpec, LabPaths]:
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path / "labs")
    return load_spec("seed"), LabPaths("seed")


def test_backing_files_are_sparse_and_sized(lab: tuple[LabSpec, LabPaths], tmp_path: Path) -> None:
    spec, lp = lab
    files = backing_files(spec, lp)
    assert files == [tmp_path / "labs" / "seed" / "luns" / "qdisk01.img",
                     tmp_path / "labs" / "seed" / "luns" / "data01.img"]
    assert [f.stat().st_size for f in files] == [100 * 2**20, 1024 * 2**20]
    for f in files:
        assert f.stat().st_blocks * 512 < 2**20, f"{f.name} is not sparse"


def test_backing_files_keep_their_data(lab: tuple[LabSpec, LabPaths]) -> None:
    spec, lp = lab
    quorum, data = backing_files(spec, lp)
    with data.open("r+b") as fh:
        fh.seek(4096)
        fh.write(b"record written before the fault")
    mtime = data.stat().st_mtime_ns
    assert backing_files(spec, lp) == [quorum, data]
    assert data.stat().st_mtime_ns == mtime
    with data.open("rb") as fh:
        fh.seek(4096)
        assert fh.read(31) == b"record written before the fault"


def test_backing_file_of_the_wrong_size_is_made_anew(lab: tuple[LabSpec, LabPaths]) -> None:
    spec, lp = lab
    quorum, _ = backing_files(spec, lp)
    with quorum.open("r+b") as fh:
        fh.truncate(10 * 2**20)
        fh.write(b"old")
    backing_files(spec, lp)
    assert quorum.stat().st_size == 100 * 2**20
    assert quorum.read_bytes()[:3] == b"\0\0\0"
