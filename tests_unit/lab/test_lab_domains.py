"""Nodes as libvirt domains: accelerator choice, domain XML, kernel command line, /etc/hosts.

Pure logic plus libvirt's in-process test driver (test:///default), which parses and validates
the domain XML exactly as libvirtd does, without touching qemu:///system or the running lab.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from halab.errors import HostError
from halab.lab import paths
from halab.lab.domains import Accel, choose_accel, domain_xml, hosts_file, iqn_for, kernel_cmdline
from halab.lab.image import BuiltImage
from halab.lab.paths import LabPaths, mac_for
from halab.spec import LabSpec, load_spec

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUnitTestKeyOnly halab-unit"
CPU_VMX = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse tsc msr vmx ssse3 sse4_2\n"
CPU_SVM = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme de pse svm sse4a\n"
# no vmx/svm flag: only flags that merely contain the letters (what a paravirtual KVM guest shows)
CPU_NONE = "processor\t: 0\nflags\t\t: fpu vme de pse hypervisor svm_lock vmx_ept\n"


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_spec("seed")


@pytest.fixture
def lab_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LabPaths:
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path / "labs")
    return LabPaths("seed")


@pytest.fixture
def image(tmp_path: Path) -> BuiltImage:
    return BuiltImage("0123456789abcdef", tmp_path / "img" / "disk.qcow2", tmp_path / "img" / "vmlinuz",
                      tmp_path / "img" / "initrd.img")


# --- accelerator choice ----------------------------------------------------------------------


def fake_host(monkeypatch: pytest.MonkeyPatch, cpuinfo: str | None, kvm: bool) -> None:
    """Make /proc/cpuinfo and /dev/kvm say what the test wants; every other path is the real one."""
    real_exists, real_read = Path.exists, Path.read_text

    def exists(self: Path, *args: Any, **kwargs: Any) -> bool:
        if str(self) == "/proc/cpuinfo":
            return cpuinfo is not None
        if str(self) == "/dev/kvm":
            return kvm
        return real_exists(self, *args, **kwargs)

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        if str(self) == "/proc/cpuinfo":
            if cpuinfo is None:
                raise FileNotFoundError(str(self))
            return cpuinfo
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "exists", exists)
    monkeypatch.setattr(Path, "read_text", read_text)


@pytest.mark.parametrize(("cpuinfo", "kvm", "requested", "kind", "why"), [
    (CPU_VMX, True, "auto", "kvm", "vmx/svm"),
    (CPU_SVM, True, "auto", "kvm", "vmx/svm"),
    (CPU_NONE, True, "auto", "tcg", "paravirtual"),  # our machines: /dev/kvm but no vmx/svm
    (CPU_VMX, False, "auto", "tcg", "no /dev/kvm"),
    (None, False, "auto", "tcg", "no /dev/kvm"),
    (CPU_VMX, True, "tcg", "tcg", "--accel tcg"),
    (CPU_NONE, False, "tcg", "tcg", "--accel tcg"),
    (CPU_VMX, True, "kvm", "kvm", "--accel kvm"),
    (CPU_SVM, True, "kvm", "kvm", "--accel kvm"),
], ids=["vmx", "svm", "no-vmx-svm", "no-dev-kvm", "no-cpuinfo", "tcg-asked", "tcg-asked-bare",
        "kvm-asked-vmx", "kvm-asked-svm"])
def test_choose_accel(monkeypatch: pytest.MonkeyPatch, cpuinfo: str | None, kvm: bool, requested: str,
                      kind: str, why: str) -> None:
    fake_host(monkeypatch, cpuinfo, kvm)
    accel = choose_accel(requested)
    assert accel.kind == kind
    assert why in accel.reason


@pytest.mark.parametrize(("cpuinfo", "kvm", "why"), [
    (CPU_NONE, True, "no vmx/svm"),
    (CPU_VMX, False, "/dev/kvm does not exist"),
    (None, False, "/dev/kvm does not exist"),
], ids=["no-vmx", "no-dev-kvm", "nothing"])
def test_kvm_asked_where_it_cannot_work_is_a_host_error(monkeypatch: pytest.MonkeyPatch, cpuinfo: str | None,
                                                        kvm: bool, why: str) -> None:
    fake_host(monkeypatch, cpuinfo, kvm)
    with pytest.raises(HostError) as info:
        choose_accel("kvm")
    assert why in str(info.value)
    assert "\n" not in str(info.value)


# --- /etc/hosts and the kernel command line --------------------------------------------------


def test_hosts_file(spec: LabSpec) -> None:
    assert hosts_file(spec) == (
        "127.0.0.1 localhost\n"
        "192.168.7.201 node01\n192.168.8.201 node01m\n192.168.9.201 node01h\n"
        "192.168.7.202 node02\n192.168.8.202 node02m\n192.168.9.202 node02h\n"
        "192.168.7.1 halab-host-service\n192.168.8.1 halab-host-management\n"
    )


def cmdline_fields(cmdline: str) -> dict[str, str]:
    return dict(tok.partition("=")[::2] for tok in cmdline.split(" ") if "=" in tok)


@pytest.mark.parametrize(("index", "last"), [(0, 201), (1, 202)])
def test_kernel_cmdline(spec: LabSpec, index: int, last: int) -> None:
    node = spec.nodes[index]
    cmdline = kernel_cmdline(spec, node, PUBKEY)
    assert "\n" not in cmdline
    tokens = cmdline.split(" ")
    assert all(tokens), "no empty token: every field is one kernel parameter"
    assert tokens[:2] == ["root=/dev/vda", "rw"]
    fields = cmdline_fields(cmdline)
    assert fields["systemd.hostname"] == node.name
    assert fields["halab.net"] == f"svc,192.168.7.{last}/24;mgmt,192.168.8.{last}/24;hb,192.168.9.{last}/24"
    assert base64.b64decode(fields["halab.key"], validate=True).decode() == PUBKEY
    assert base64.b64decode(fields["halab.hosts"], validate=True).decode() == hosts_file(spec)
    assert fields["halab.iqn"] == iqn_for(spec, node) == f"iqn.2026-11.lab.halab:seed:{node.name}"


def test_iqn_unique_per_node(spec: LabSpec) -> None:
    assert len({iqn_for(spec, n) for n in spec.nodes}) == len(spec.nodes)


# --- the domain XML --------------------------------------------------------------------------

ROLE_SLOT = {"service": ("br-svc", "0x0a"), "management": ("br-mgmt", "0x0b"), "heartbeat": ("br-hb", "0x0c")}


@pytest.mark.parametrize("kind", ["tcg", "kvm"])
@pytest.mark.parametrize("index", [0, 1])
def test_domain_xml(spec: LabSpec, lab_paths: LabPaths, image: BuiltImage, kind: str, index: int) -> None:
    node = spec.nodes[index]
    xml = domain_xml(spec, lab_paths, node, image, Accel(kind, "test"), PUBKEY)
    root = etree.fromstring(xml.encode())
    assert root.tag == "domain"
    assert root.get("type") == ("qemu" if kind == "tcg" else "kvm")
    assert root.findtext("name") == node.domain
    mem = root.find("memory")
    assert mem is not None
    assert (mem.get("unit"), mem.text) == ("MiB", "1024")
    assert root.findtext("vcpu") == "1"

    # direct kernel boot: kernel, initrd and our command line; the disk is the node's overlay
    assert root.findtext("os/type") == "hvm"
    assert root.findtext("os/kernel") == str(image.kernel)
    assert root.findtext("os/initrd") == str(image.initrd)
    assert root.findtext("os/cmdline") == kernel_cmdline(spec, node, PUBKEY)
    fields = cmdline_fields(root.findtext("os/cmdline") or "")
    assert fields["systemd.hostname"] == node.name
    assert {"halab.net", "halab.key", "halab.hosts", "halab.iqn"} <= set(fields)
    disks = root.findall("devices/disk")
    assert len(disks) == 1
    assert disks[0].find("source").get("file") == str(lab_paths.overlay(node.domain))
    assert disks[0].find("driver").get("type") == "qcow2"

    # one NIC per network, in the PCI slot that names it in the guest, with the stable MAC
    nics = root.findall("devices/interface")
    assert len(nics) == len(spec.networks) == 3
    seen = {}
    for nic in nics:
        bridge = nic.find("source").get("bridge")
        role = next(r for r, (br, _) in ROLE_SLOT.items() if br == bridge)
        addr = nic.find("address")
        assert (addr.get("type"), addr.get("bus"), addr.get("slot"), addr.get("function")) == (
            "pci", "0x00", ROLE_SLOT[role][1], "0x0")
        assert nic.find("mac").get("address") == mac_for(spec, node.index, role)
        assert nic.find("model").get("type") == "virtio"
        seen[role] = bridge
    assert set(seen) == {"service", "management", "heartbeat"}

    watchdogs = root.findall("devices/watchdog")
    assert [w.get("model") for w in watchdogs] == ["i6300esb"]
    assert watchdogs[0].get("action") == "reset"
    assert root.find("devices/serial/source").get("path") == str(lab_paths.console(node.domain))

    tb = root.find("features/tcg/tb-cache")
    cpu = root.find("cpu")
    if kind == "tcg":
        assert tb is not None
        assert (tb.get("unit"), tb.text) == ("MiB", "256")
        assert cpu.get("mode") == "maximum"
    else:
        assert root.find("features/tcg") is None
        assert cpu.get("mode") == "host-passthrough"


def test_domain_xml_escapes_what_it_embeds(spec: LabSpec, lab_paths: LabPaths, image: BuiltImage) -> None:
    """A key comment with XML characters must not break the document (it is base64 in the cmdline)."""
    xml = domain_xml(spec, lab_paths, spec.nodes[0], image, Accel("tcg", "t"), "ssh-ed25519 AAAA <a&b>")
    cmdline = etree.fromstring(xml.encode()).findtext("os/cmdline") or ""
    assert base64.b64decode(cmdline_fields(cmdline)["halab.key"]).decode() == "ssh-ed25519 AAAA <a&b>"


# --- libvirt itself accepts the XML (in-process test driver, never qemu:///system) -----------


@pytest.fixture
def test_conn() -> Iterator[Any]:
    libvirt = pytest.importorskip("libvirt")
    conn = libvirt.open("test:///default")
    try:
        yield conn
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["tcg", "kvm"])
def test_libvirt_accepts_the_domain_xml(spec: LabSpec, lab_paths: LabPaths, image: BuiltImage, kind: str,
                                        test_conn: Any) -> None:
    defined = []
    try:
        for node in spec.nodes:
            xml = domain_xml(spec, lab_paths, node, image, Accel(kind, "test"), PUBKEY)
            test_conn.defineXML(xml)
            defined.append(node.domain)
        for node in spec.nodes:
            dom = test_conn.lookupByName(node.domain)
            assert dom.name() == node.domain
            back = etree.fromstring(dom.XMLDesc(0).encode())
            assert back.get("type") == ("qemu" if kind == "tcg" else "kvm")
            assert back.find("devices/watchdog").get("model") == "i6300esb"
            macs = {m.get("address") for m in back.findall("devices/interface/mac")}
            assert macs == {mac_for(spec, node.index, r) for r in ROLE_SLOT}
            slots = sorted(a.get("slot") for a in back.findall("devices/interface/address"))
            assert slots == ["0x0a", "0x0b", "0x0c"]
            tb = back.find("features/tcg/tb-cache")
            if kind == "tcg":
                assert int(tb.text) * {"KiB": 1, "MiB": 1024}[tb.get("unit")] == 256 * 1024
            else:
                assert tb is None
            assert back.findtext("os/cmdline") == kernel_cmdline(spec, node, PUBKEY)
    finally:
        for name in defined:
            test_conn.lookupByName(name).undefine()
    assert not set(defined) & set(test_conn.listDefinedDomains())

