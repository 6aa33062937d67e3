"""The lab itself, live: build the seed lab, check what the failover suite relies on, tear it down,
and check that nothing of it is left. Runs on its own (it owns the lab's whole life):
`pytest tests_lab -m lab`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from halab.errors import LabError
from halab.lab import domains, network
from halab.lab import lab as labmod
from halab.lab.host import run
from halab.lab.remote import Unreachable
from halab.spec import LabSpec

pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.fixture(scope="module")
def own_lab(lab_spec: LabSpec) -> Iterator[labmod.Lab]:
    the_lab = labmod.up(lab_spec, progress=lambda m: print(f"[halab] {m}", flush=True))
    yield the_lab
    the_lab.close()
    labmod.down(lab_spec, progress=lambda m: None)


def _ping(lab: labmod.Lab, node: str, address: str) -> bool:
    return lab.remote(node).run(f"ping -c 2 -W 2 {address}", timeout=15).ok


@pytest.mark.parametrize("network_name", ["service", "management", "heartbeat"])
def test_nodes_reach_each_other_on_every_network(own_lab: labmod.Lab, network_name: str) -> None:
    a, b = own_lab.spec.nodes[0], own_lab.spec.nodes[1]
    assert _ping(own_lab, a.name, str(b.on(network_name).address))
    assert _ping(own_lab, b.name, str(a.on(network_name).address))


def test_heartbeat_nic_down_cuts_exactly_the_heartbeat(own_lab: labmod.Lab) -> None:
    a, b = own_lab.spec.nodes[0], own_lab.spec.nodes[1]
    own_lab.remote(a.name).run("ip link set hb down", timeout=10, check=True)
    try:
        assert not _ping(own_lab, b.name, str(a.on("heartbeat").address))
        assert _ping(own_lab, b.name, str(a.on("service").address))
        assert _ping(own_lab, b.name, str(a.on("management").address))
    finally:
        own_lab.remote(a.name).run("ip link set hb up", timeout=10, check=True)
    assert _ping(own_lab, b.name, str(a.on("heartbeat").address))


@pytest.mark.parametrize(("role", "size_mb"), [("quorum", 100), ("data", 1024)])
def test_every_node_sees_the_luns_by_path(own_lab: labmod.Lab, role: str, size_mb: int) -> None:
    lun = own_lab.spec.storage.by_role(role)
    assert lun.size_mb == size_mb
    for node in own_lab.spec.nodes:
        res = own_lab.remote(node.name).run(f"blockdev --getsize64 {own_lab.lun_path(lun.lun)}", timeout=15, check=True)
        assert int(res.stdout) == size_mb * 2**20


def test_suspend_and_resume_through_libvirt(own_lab: labmod.Lab) -> None:
    node = own_lab.spec.nodes[1]
    own_lab.remote(node.name).close()
    domains.act(node.domain, "suspend")
    try:
        assert domains.state(node.domain) == "paused"
        with pytest.raises(Unreachable):  # a frozen node answers nothing, and the call does not hang
            own_lab.remote(node.name).run("true", timeout=3, connect_timeout=2)
    finally:
        domains.act(node.domain, "resume")
    assert domains.state(node.domain) == "running"
    own_lab.remote(node.name).close()
    assert own_lab.remote(node.name).run("true", timeout=20, check=True).ok


def test_nothing_of_the_lab_reaches_the_root_namespace(own_lab: labmod.Lab) -> None:
    root = run(["ip", "-o", "addr"], timeout=10).stdout
    for net in own_lab.spec.networks:
        if net.host is not None:
            assert f" {net.host}/" not in root, f"{net.host} must live only in the lab netns"
    assert network.netns_exists(own_lab.paths.netns)
    routes = run(["ip", "route"], netns=own_lab.paths.netns, timeout=10).stdout
    assert "default" not in routes
    # the lab's own libvirt folders are bound only in its daemons' mount namespace
    assert str(own_lab.paths.state) not in Path("/proc/self/mountinfo").read_text()


def test_down_leaves_nothing_behind(lab_spec: LabSpec, own_lab: labmod.Lab) -> None:
    labmod.down(lab_spec, progress=lambda m: None)
    assert labmod.leftovers(lab_spec) == []
    assert labmod.down(lab_spec, progress=lambda m: None) == []  # idempotent
    with pytest.raises(LabError), domains.connection():  # libvirtd is gone too
        pass
