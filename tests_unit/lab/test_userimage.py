"""A user's image: spec hints, firmware from the partition table, the seed ISO written by a real
tool and read back, the firmware-boot domain XML on libvirt's test driver, stack detection on
recorded rpm/dpkg answers, and the checks that stop a wrong image with one line.

Nothing here boots a VM or reaches qemu:///system: qemu-img, genisoimage/xorriso and isoinfo run on
files under tmp_path, and libvirt is its in-process test driver (test:///default).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from halab.errors import LabError, SpecError
from halab.lab import identity, paths, userimage
from halab.lab.domains import Accel, choose_accel, user_domain_xml
from halab.lab.host import Result
from halab.lab.paths import LabPaths, mac_for
from halab.lab.userimage import UserImage
from halab.spec import LABS_DIR, LabSpec, load_spec

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUnitTestKeyOnly halab-unit"
BYO_TOML = LABS_DIR / "byo" / "lab.toml"


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_spec("byo")


@pytest.fixture
def lab_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LabPaths:
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path / "labs")
    return LabPaths("byo")


def variant(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = BYO_TOML.read_text()
    for old, new in edits:
        assert old in text, f"byo lab.toml no longer has {old!r}"
        text = text.replace(old, new, 1)
    path = tmp_path / "lab.toml"
    path.write_text(text)
    return path


def one_line_error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


# --- the spec ----------------------------------------------------------------------------------


def test_byo_spec_is_the_seed_lab_on_a_user_image(spec: LabSpec) -> None:
    seed = load_spec("seed")
    assert spec.image.kind == "user"
    assert spec.image.path.endswith(".qcow2")
    assert (spec.image.identity, spec.image.os_family, spec.image.firmware, spec.image.stack) == (
        "cloud-init", "debian", "auto", "pacemaker")
    assert spec.networks == seed.networks
    assert [n.addresses for n in spec.nodes] == [n.addresses for n in seed.nodes]
    assert spec.storage == seed.storage
    assert spec.cluster_conf_path() == seed.cluster_conf_path()
    assert seed.image.kind == "builtin"
    assert seed.image.identity == "auto"


def test_user_image_without_path_is_one_line(tmp_path: Path) -> None:
    path = variant(tmp_path, ('path = "/var/cache/halab/images/byo-bookworm.qcow2"', ""))
    assert "image.path: a user image needs a path" in one_line_error(path)


@pytest.mark.parametrize(("field", "bad"), [("identity", "magic"), ("os_family", "suse"), ("firmware", "coreboot"),
                                            ("stack", "heartbeat")])
def test_bad_hint_is_one_line(tmp_path: Path, field: str, bad: str) -> None:
    line = {"identity": 'identity = "cloud-init"', "os_family": 'os_family = "debian"',
            "firmware": 'firmware = "auto"', "stack": 'stack = "pacemaker"        # what'}[field]
    new = line.split("=")[0] + f'= "{bad}"' + ("        # what" if field == "stack" else "")
    msg = one_line_error(variant(tmp_path, (line, new)))
    assert f"image.{field}: {bad!r} is not one of" in msg


def test_hints_default_to_auto(tmp_path: Path) -> None:
    path = variant(tmp_path, ('identity = "cloud-init"', ""), ('os_family = "debian"', ""),
                   ('stack = "pacemaker"        # what', "# "))
    image = load_spec(path).image
    assert (image.identity, image.os_family, image.stack, image.root_device) == ("auto", "auto", "", "")


# --- firmware from the partition table ---------------------------------------------------------


def mbr(types: list[int]) -> bytearray:
    head = bytearray(34 * 512)
    for i, t in enumerate(types):
        head[446 + 16 * i + 4] = t
    head[510:512] = b"\x55\xaa"
    return head


def guid_bytes(text: str) -> bytes:
    return uuid.UUID(text).bytes_le


def gpt(type_guids: list[str]) -> bytes:
    head = mbr([0xEE])
    head[512:520] = b"EFI PART"
    head[512 + 72:512 + 80] = (2).to_bytes(8, "little")
    head[512 + 80:512 + 84] = (128).to_bytes(4, "little")
    head[512 + 84:512 + 88] = (128).to_bytes(4, "little")
    for i, g in enumerate(type_guids):
        off = 2 * 512 + i * 128
        head[off:off + 16] = guid_bytes(g)
    return bytes(head)


LINUX = "0fc63daf-8483-4772-8e79-3d69d8477de4"


@pytest.mark.parametrize(("head", "want"), [
    (bytes(mbr([0x83])), "bios"),
    (bytes(mbr([0xEF])), "uefi"),
    (bytes(mbr([0xEF, 0x83])), "bios"),
    (gpt([userimage.ESP_GUID, LINUX]), "uefi"),
    (gpt([userimage.BIOS_BOOT_GUID, userimage.ESP_GUID, LINUX]), "bios"),
    (gpt([LINUX]), "bios"),
    (bytes(34 * 512), "bios"),
    (b"", "bios"),
])
def test_firmware_from_table(head: bytes, want: str) -> None:
    assert userimage.firmware_from_table(head) == want


def test_guid_text_round_trips() -> None:
    assert userimage._guid(guid_bytes(userimage.ESP_GUID)) == userimage.ESP_GUID


needs_qemu_img = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed")


def raw_disk(path: Path, table: bytes) -> Path:
    with path.open("wb") as fh:
        fh.write(table)
        fh.truncate(4 * 2**20)
    return path


@needs_qemu_img
def test_read_head_of_qcow2_and_raw(tmp_path: Path) -> None:
    raw = raw_disk(tmp_path / "disk.raw", gpt([userimage.ESP_GUID]))
    qcow = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(qcow)], check=True, timeout=60)
    assert userimage.image_format(raw) == "raw"
    assert userimage.image_format(qcow) == "qcow2"
    assert userimage.firmware_from_table(userimage.read_head(qcow, "qcow2")) == "uefi"
    assert userimage.firmware_from_table(userimage.read_head(raw, "raw")) == "uefi"


@needs_qemu_img
def test_resolve_a_user_image_and_never_write_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    disk = raw_disk(tmp_path / "golden.raw", bytes(mbr([0x83])))
    before = disk.read_bytes()
    path = variant(tmp_path, ('"/var/cache/halab/images/byo-bookworm.qcow2"', '"golden.raw"'))
    lines: list[str] = []
    image = userimage.resolve(load_spec(path), progress=lines.append)
    assert image == UserImage(image.key, disk.resolve(), "raw", "bios", "cloud-init", "debian")
    assert any("identity route cloud-init (as the spec says" in ln for ln in lines)
    assert any("firmware bios (from its partition table)" in ln for ln in lines)
    assert disk.read_bytes() == before


def test_resolve_missing_image(tmp_path: Path) -> None:
    path = variant(tmp_path, ('"/var/cache/halab/images/byo-bookworm.qcow2"', '"nowhere.qcow2"'))
    with pytest.raises(SpecError, match="no user image at"):
        userimage.resolve(load_spec(path), progress=lambda _m: None)


def test_resolve_refuses_a_stack_the_image_does_not_carry(tmp_path: Path) -> None:
    raw_disk(tmp_path / "golden.raw", bytes(mbr([0x83])))
    path = variant(tmp_path, ('"/var/cache/halab/images/byo-bookworm.qcow2"', '"golden.raw"'))
    with pytest.raises(SpecError, match=r"carries pacemaker, but this run wants rgmanager \(use --stack pacemaker\)"):
        userimage.resolve(load_spec(path).with_stack("rgmanager"), progress=lambda _m: None)


@needs_qemu_img
def test_overlay_on_a_raw_base_names_its_format(tmp_path: Path, lab_paths: LabPaths, spec: LabSpec) -> None:
    disk = raw_disk(tmp_path / "golden.raw", bytes(mbr([0x83])))
    image = UserImage("k", disk, "raw", "bios", "cloud-init", "debian")
    overlay = userimage.make_overlay(lab_paths, spec.nodes[0], image)
    out = subprocess.run(["qemu-img", "info", "--output=json", str(overlay)], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    assert '"backing-filename-format": "raw"' in out
    assert str(disk) in out


# --- identity route choice and image inspection ----------------------------------------------


@pytest.mark.parametrize(("requested", "has", "route"), [
    ("cloud-init", False, "cloud-init"), ("overlay-edit", True, "overlay-edit"), ("auto", True, "cloud-init"),
    ("auto", False, "overlay-edit"), ("auto", None, "cloud-init"),
])
def test_choose_route(requested: str, has: bool | None, route: str) -> None:
    chosen, why = userimage.choose_route(requested, has)
    assert chosen == route
    assert why


def test_guestfish_probe_is_read_only(tmp_path: Path) -> None:
    cmd = userimage.guestfish_probe_cmd(tmp_path / "img.qcow2", "qcow2")
    assert "--ro" in cmd
    assert "LIBGUESTFS_BACKEND=direct" in cmd, "never through the lab's (or anyone's) libvirtd"
    assert ("LIBGUESTFS_BACKEND_SETTINGS=force_tcg" in cmd) == (choose_accel("auto").kind == "tcg")
    assert "-i" in cmd
    by_device = userimage.guestfish_probe_cmd(tmp_path / "i", "raw", "/dev/sda2")
    assert by_device[by_device.index("-m") + 1] == "/dev/sda2"
    assert "-i" not in by_device
    assert userimage.parse_probe("true\ntrue\nfalse\n") == (True, "rhel")
    assert userimage.parse_probe("false\nfalse\ntrue\n") == (False, "debian")
    assert userimage.parse_probe("false\nfalse\nfalse\n") == (False, "auto")
    with pytest.raises(LabError):
        userimage.parse_probe("libguestfs: error: no operating system was found\n")


# --- the seed ISO, written by a real tool and read back --------------------------------------


@pytest.mark.parametrize("tool", ["genisoimage", "xorriso"])
def test_seed_iso_holds_the_three_files(spec: LabSpec, tmp_path: Path, tool: str) -> None:
    if shutil.which(tool) is None or shutil.which("isoinfo") is None:
        pytest.skip(f"{tool} or isoinfo not installed")
    seed = identity.seed_files(spec, spec.nodes[0], PUBKEY)
    iso = tmp_path / "seed.iso"
    assert userimage.write_seed_iso(seed, iso, tool) == tool
    assert userimage.iso_files(iso) == seed.as_files()
    info = subprocess.run(["isoinfo", "-d", "-i", str(iso)], capture_output=True, text=True, check=True,
                          timeout=30).stdout
    assert "Volume id: cidata" in info, "NoCloud finds its seed by this label"
    rock = subprocess.run(["isoinfo", "-R", "-f", "-i", str(iso)], capture_output=True, text=True, check=True,
                          timeout=30).stdout.split()
    assert sorted(rock) == ["/meta-data", "/network-config", "/user-data"]


def test_seed_iso_commands(tmp_path: Path) -> None:
    iso, folder = tmp_path / "s.iso", tmp_path / "f"
    gen = userimage.seed_iso_cmd("genisoimage", iso, folder)
    assert gen[gen.index("-volid") + 1] == "cidata"
    assert gen[gen.index("-output") + 1] == str(iso)
    xo = userimage.seed_iso_cmd("xorriso", iso, folder)
    assert xo[:3] == ["xorriso", "-as", "mkisofs"]
    assert xo[xo.index("-V") + 1] == "cidata"
    ds = userimage.seed_iso_cmd("cloud-localds", iso, folder)
    assert ds == ["cloud-localds", "-N", str(folder / "network-config"), str(iso), str(folder / "user-data"),
                  str(folder / "meta-data")]
    with pytest.raises(ValueError, match="mkisofs"):
        userimage.seed_iso_cmd("mkisofs", iso, folder)


def test_overlay_files_are_staged_under_their_guest_paths(spec: LabSpec, tmp_path: Path) -> None:
    files = identity.overlay_files(spec, spec.nodes[0], "rhel")
    userimage.stage_overlay_files(tmp_path, files, spec)
    assert (tmp_path / "etc/sysconfig/network-scripts/ifcfg-mgmt").read_text() == \
        files["/etc/sysconfig/network-scripts/ifcfg-mgmt"][0]
    assert (tmp_path / "firstboot.sh").read_text() == identity.firstboot_script(spec)


# --- the domain XML for a user image, on libvirt's test driver -------------------------------


@pytest.fixture
def test_conn() -> Iterator[Any]:
    libvirt = pytest.importorskip("libvirt")
    conn = libvirt.open("test:///default")
    try:
        yield conn
    finally:
        conn.close()


@pytest.mark.parametrize(("firmware", "kind", "with_seed"), [
    ("bios", "tcg", True), ("uefi", "tcg", True), ("bios", "kvm", False)])
def test_libvirt_accepts_the_user_domain_xml(spec: LabSpec, lab_paths: LabPaths, test_conn: Any, firmware: str,
                                             kind: str, with_seed: bool) -> None:
    defined = []
    try:
        for node in spec.nodes:
            iso = userimage.seed_path(lab_paths, node) if with_seed else None
            xml = user_domain_xml(spec, lab_paths, node, Accel(kind, "test"), firmware, iso,
                                  userimage.nvram_path(lab_paths, node))
            test_conn.defineXML(xml)
            defined.append(node.domain)
            back = etree.fromstring(test_conn.lookupByName(node.domain).XMLDesc(0).encode())
            assert back.get("type") == ("qemu" if kind == "tcg" else "kvm")
            assert back.find("os/kernel") is None, "no kernel on the host side"
            assert back.find("os/cmdline") is None
            assert back.find("os/boot").get("dev") == "hd"
            disks = {d.get("device"): d for d in back.findall("devices/disk")}
            assert disks["disk"].find("source").get("file") == str(lab_paths.overlay(node.domain))
            if with_seed:
                assert disks["cdrom"].find("source").get("file") == str(iso)
                assert disks["cdrom"].find("readonly") is not None
            else:
                assert "cdrom" not in disks
            loader = back.find("os/loader")
            if firmware == "uefi":
                assert loader.text.endswith("OVMF_CODE_4M.fd")
                assert back.findtext("os/nvram") == str(userimage.nvram_path(lab_paths, node))
            else:
                assert loader is None
            macs = {m.get("address") for m in back.findall("devices/interface/mac")}
            assert macs == {mac_for(spec, node.index, r) for r in ("service", "management", "heartbeat")}
            slots = sorted(a.get("slot") for a in back.findall("devices/interface/address"))
            assert slots == ["0x0a", "0x0b", "0x0c"]
            assert back.find("devices/watchdog").get("model") == "i6300esb"
            assert (back.find("features/tcg/tb-cache") is not None) == (kind == "tcg")
    finally:
        for name in defined:
            test_conn.lookupByName(name).undefine()


# --- stack detection on recorded answers -------------------------------------------------------

RHEL6 = """@@ rpm-rgmanager
cman-3.0.12.1-84.el6_10.1.x86_64
rgmanager-3.0.12.1-26.el6_8.3.x86_64
@@ rc 0
@@ rpm-pacemaker
package pacemaker is not installed
package pcs is not installed
@@ rc 2
@@ dpkg-pacemaker
sh: dpkg: command not found
@@ rc 127
"""
ROCKY9 = """@@ rpm-rgmanager
package cman is not installed
package rgmanager is not installed
@@ rc 2
@@ rpm-pacemaker
pacemaker-2.1.7-5.el9_4.x86_64
pcs-0.11.7-2.el9_4.x86_64
@@ rc 0
@@ dpkg-pacemaker
bash: line 1: dpkg: command not found
@@ rc 127
"""
DEBIAN12 = """@@ rpm-rgmanager
bash: line 1: rpm: command not found
@@ rc 127
@@ rpm-pacemaker
bash: line 1: rpm: command not found
@@ rc 127
@@ dpkg-pacemaker
Package: pacemaker
Status: install ok installed
Priority: optional
Version: 2.1.5-1+deb12u1
@@ rc 0
"""
BARE = """@@ rpm-rgmanager
bash: line 1: rpm: command not found
@@ rc 127
@@ rpm-pacemaker
bash: line 1: rpm: command not found
@@ rc 127
@@ dpkg-pacemaker
dpkg-query: package 'pacemaker' is not installed and no information is available
@@ rc 1
"""


class Recorded:
    """A node that answers every command with a recorded output (what detect_stack runs on)."""

    def __init__(self, stdout: str) -> None:
        self.name = "node01"
        self.stdout = stdout
        self.commands: list[str] = []

    def run(self, cmd: str, timeout: float = 30.0, check: bool = False, connect_timeout: float = 5.0) -> Result:
        self.commands.append(cmd)
        return Result(cmd, 0, self.stdout, "")


@pytest.mark.parametrize(("recorded", "want"), [
    (RHEL6, {"rgmanager": "rpm: cman-3.0.12.1-84.el6_10.1.x86_64, rgmanager-3.0.12.1-26.el6_8.3.x86_64"}),
    (ROCKY9, {"pacemaker": "rpm: pacemaker-2.1.7-5.el9_4.x86_64, pcs-0.11.7-2.el9_4.x86_64"}),
    (DEBIAN12, {"pacemaker": "dpkg: pacemaker 2.1.5-1+deb12u1"}),
    (BARE, {}),
])
def test_detect_stack(recorded: str, want: dict[str, str]) -> None:
    node = Recorded(recorded)
    assert userimage.detect_stack(node) == want
    assert len(node.commands) == 1
    for probe in ("rpm -q cman rgmanager", "rpm -q pacemaker pcs", "dpkg -s pacemaker"):
        assert probe in node.commands[0]


def test_probe_command_output_is_what_the_parser_reads() -> None:
    """The probe line, run by a real shell where none of the tools exist, parses to three answers."""
    cmd = userimage.stack_probe_command().replace("rpm ", "halab-no-rpm ").replace("dpkg ", "halab-no-dpkg ")
    out = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=30, check=False).stdout
    probes = userimage.parse_stack_probe(out)
    assert set(probes) == {"rpm-rgmanager", "rpm-pacemaker", "dpkg-pacemaker"}
    assert all(rc == 127 for rc, _ in probes.values())
    assert userimage.stacks_found(probes) == {}


def test_require_stack_is_one_clear_line() -> None:
    found = userimage.stacks_found(userimage.parse_stack_probe(RHEL6))
    assert userimage.require_stack(found, "rgmanager", "node01").startswith("rpm: cman")
    with pytest.raises(LabError) as info:
        userimage.require_stack(found, "pacemaker", "node01")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg == ("node01: the image lacks the pacemaker stack (pacemaker (rpm or dpkg) not installed); "
                   "it has rgmanager: run with --stack rgmanager")
    with pytest.raises(LabError, match=r"lacks the rgmanager stack .* it has no cluster stack"):
        userimage.require_stack({}, "rgmanager", "node02")


def test_wait_cloud_init_reads_the_last_status_line() -> None:
    assert userimage.wait_cloud_init(Recorded("status: done\n")) == "status: done"
    assert userimage.wait_cloud_init(Recorded("absent\n")) == "absent"


class Scripted(Recorded):
    """A node answering by command: the probe gets a recorded rpm/dpkg answer, the rest `status`."""

    def __init__(self, probe: str, status: str = "status: done\n") -> None:
        super().__init__(status)
        self.probe = probe

    def run(self, cmd: str, timeout: float = 30.0, check: bool = False, connect_timeout: float = 5.0) -> Result:
        self.commands.append(cmd)
        return Result(cmd, 0, self.probe if "@@ rpm-rgmanager" in cmd else self.stdout, "")


class FakeLab:
    def __init__(self, spec: LabSpec, image: UserImage, node: Scripted) -> None:
        self.spec = spec
        self.image = image
        self.remotes = {n.name: node for n in spec.nodes}


@pytest.mark.parametrize("route", ["cloud-init", "overlay-edit"])
def test_first_boot_waits_then_checks_the_stack(spec: LabSpec, tmp_path: Path, route: str) -> None:
    node = Scripted(DEBIAN12)
    lab: Any = FakeLab(spec, UserImage("k", tmp_path / "i.qcow2", "qcow2", "bios", route, "debian"), node)
    lines: list[str] = []
    assert userimage.first_boot(lab, spec.nodes[0], lines.append) == "dpkg: pacemaker 2.1.5-1+deb12u1"
    waited = node.commands[0]
    assert ("boot-finished" in waited) == (route == "cloud-init")
    assert (identity.FIRSTBOOT_DONE in waited) == (route == "overlay-edit")
    assert lines[-1] == "node01: stack pacemaker present (dpkg: pacemaker 2.1.5-1+deb12u1)"


def test_first_boot_stops_on_the_wrong_stack(spec: LabSpec, tmp_path: Path) -> None:
    lab: Any = FakeLab(spec.with_stack("rgmanager"),
                       UserImage("k", tmp_path / "i.qcow2", "qcow2", "bios", "cloud-init", "rhel"),
                       Scripted(ROCKY9, "status: error\n"))
    lines: list[str] = []
    with pytest.raises(LabError, match="it has pacemaker: run with --stack pacemaker"):
        userimage.first_boot(lab, spec.nodes[0], lines.append)
    assert "cloud-init status: error" in lines[0]
    assert "/var/log/cloud-init.log" in lines[0]
