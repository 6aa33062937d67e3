"""Where a lab lives on the host, and the stable MACs that name each node's NICs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from halab.lab import paths
from halab.lab.paths import NIC_BY_ROLE, LabPaths, lab_byte, mac_for
from halab.spec import LabSpec, load_spec

GUEST_DATA = Path(paths.__file__).resolve().parents[1] / "data" / "guest"


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_spec("seed")


def test_mac_is_stable(spec: LabSpec) -> None:
    again = load_spec("seed")
    for node in spec.nodes:
        for role in NIC_BY_ROLE:
            assert mac_for(spec, node.index, role) == mac_for(again, node.index, role)
    # fixed forever for the seed: a changed MAC would rename NICs of existing overlays
    assert mac_for(spec, 1, "service") == f"52:54:00:{lab_byte('seed'):02x}:0a:01"
    assert mac_for(spec, 2, "heartbeat") == f"52:54:00:{lab_byte('seed'):02x}:0c:02"


def test_mac_is_unique_per_node_and_role(spec: LabSpec) -> None:
    macs = [mac_for(spec, n.index, role) for n in spec.nodes for role in NIC_BY_ROLE]
    assert len(macs) == len(set(macs)) == 6
    for mac in macs:
        assert re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", mac), mac  # qemu's locally administered prefix


def test_mac_differs_between_labs(spec: LabSpec) -> None:
    other = next(n for n in ("other", "lab2", "lab3") if lab_byte(n) != lab_byte("seed"))
    assert mac_for(replace(spec, name=other), 1, "service") != mac_for(spec, 1, "service")


def test_nic_names_match_the_guest_link_files() -> None:
    """The PCI slot halab puts a NIC in is the one the guest's .link file renames to svc/mgmt/hb."""
    for name, slot in NIC_BY_ROLE.values():
        text = (GUEST_DATA / f"10-halab-{name}.link").read_text()
        assert f"Path=pci-0000:00:{slot:02x}.0" in text
        assert f"Name={name}" in text


def test_lab_paths_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path)
    lp = LabPaths("seed")
    assert lp.netns == "halab-seed"
    assert lp.state == tmp_path / "seed"
    assert lp.overlay("RHCSvm01") == tmp_path / "seed" / "nodes" / "RHCSvm01.qcow2"
    assert lp.console("RHCSvm01") == tmp_path / "seed" / "logs" / "RHCSvm01.console.log"
    assert lp.ssh_key != lp.fence_key
    assert lp.ssh_key.parent == lp.fence_key.parent == tmp_path / "seed" / "keys"
    assert [lp.bridge(r) for r in ("service", "management", "heartbeat")] == ["br-svc", "br-mgmt", "br-hb"]
    for p in (lp.nodes, lp.luns, lp.logs, lp.pids, lp.sshd_dir, lp.state_file):
        assert p.is_relative_to(lp.state)
