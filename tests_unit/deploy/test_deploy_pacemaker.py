"""The seed's design in corosync 3 + pacemaker: the generated texts, checked without a cluster.

Pure logic: design_of, corosync_conf, resources_xml, constraints_xml and properties on the seed
spec (and variants of it), parsed back and cross-checked with the oracle's reading of the same spec.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from halab.deploy.pacemaker import Design, constraints_xml, corosync_conf, design_of, properties, resources_xml
from halab.lab.lab import FENCE_KEY_ON_NODE
from halab.oracle.pacemaker import GROUP_MEMBERS, PREFERRED_SCORE, PcmkDesign
from halab.oracle.topology import FENCE, RING, SERVICE, STORAGE
from halab.spec import LABS_DIR, LabSpec, load_spec

THREE = Path(__file__).resolve().parents[1] / "data" / "oracle" / "three" / "lab.toml"
DATA_DEVICE = "/dev/disk/by-path/ip-192.168.8.1:3260-iscsi-iqn.2011-08.com.example.yourhost:tgt01-lun-2"


@pytest.fixture(scope="module")
def seed() -> LabSpec:
    return load_spec("seed")


@pytest.fixture(scope="module")
def design(seed: LabSpec) -> Design:
    return design_of(seed)


def variant(tmp_path: Path, *edits: tuple[str, str]) -> LabSpec:
    text = (LABS_DIR / "seed" / "lab.toml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "lab.toml"
    path.write_text(text)
    return load_spec(path)


def nvpairs(el: etree._Element) -> dict[str, str]:
    """The element's own instance attributes (not those of its ops)."""
    return {nv.get("name"): nv.get("value") for nv in el.findall("instance_attributes/nvpair")}


# --- the design --------------------------------------------------------------------------------


def test_design_of_the_seed(design: Design) -> None:
    assert design == Design(
        cluster_name="cluster01", token_ms=20000, service="service01", service_ip="192.168.7.99",
        service_prefix=24, service_nic="svc", preferred_node="node01", allowed_nodes=("node01", "node02"),
        stickiness=0, fence_delay_node="node01", fence_delay_s=8, fence_host="192.168.8.1", fence_login="root",
        data_device=DATA_DEVICE, mountpoint="/data01", fstype="ext4", app="myappl", app_port=8080,
        fs_monitor_interval_s=10, fs_monitor_timeout_s=40, fs_stop_timeout_s=60, ip_monitor_interval_s=10,
        app_monitor_interval_s=10, stonith_timeout_s=60,
    )


def test_design_follows_the_timing_profile(seed: LabSpec) -> None:
    assert design_of(seed.with_timing("fast")).token_ms == 5000


def test_deploy_and_oracle_read_the_same_design(seed: LabSpec, design: Design) -> None:
    """What the oracle predicts from must be what the deploy writes."""
    oracle = PcmkDesign.from_spec(seed)
    assert oracle.token_ms == design.token_ms  # 2 nodes: corosync adds no token coefficient
    assert oracle.service == design.service
    assert oracle.preferred == design.preferred_node
    assert oracle.allowed == design.allowed_nodes
    assert oracle.stickiness == design.stickiness
    assert dict(oracle.fence_delay) == {"node01": float(design.fence_delay_s), "node02": 0.0}
    assert oracle.fence_delay_max_s == 0
    assert oracle.priority_fencing_delay_s == 0
    assert oracle.stonith_timeout_s == design.stonith_timeout_s
    assert oracle.fs_monitor_interval_s == design.fs_monitor_interval_s
    assert oracle.fs_monitor_timeout_s == design.fs_monitor_timeout_s
    assert oracle.fs_stop_timeout_s == design.fs_stop_timeout_s
    assert oracle.app_monitor_interval_s == design.app_monitor_interval_s
    assert oracle.two_node
    assert dict(oracle.networks) == {RING: "heartbeat", STORAGE: "management", FENCE: "management",
                                     SERVICE: "service"}
    assert design.fence_host == str(seed.network(oracle.networks[FENCE]).host)
    root = etree.fromstring(resources_xml(seed, design).encode())
    assert len(root.find("group")) == GROUP_MEMBERS
    fs_start = root.find("group/primitive[@type='Filesystem']/operations/op[@name='start']")
    assert fs_start.get("timeout") == f"{oracle.fs_start_timeout_s:g}s"
    prefers = etree.fromstring(constraints_xml(seed, design).encode()).find(
        "rsc_location[@id='loc-service01-prefers']")
    assert int(prefers.get("score")) == PREFERRED_SCORE


def test_node_names_are_resolved_like_the_oracle_does(tmp_path: Path) -> None:
    """A spec may name a node by any of its names; pacemaker knows only the node name."""
    spec = variant(tmp_path, ('preferred_node = "node01"', 'preferred_node = "RHCSvm01"'),
                   ('allowed_nodes = ["node01", "node02"]', 'allowed_nodes = ["node01h", "node02m"]'),
                   ('fence_delay_node = "node01"', 'fence_delay_node = "node01h"'))
    design = design_of(spec)
    oracle = PcmkDesign.from_spec(spec)
    assert (design.preferred_node, design.allowed_nodes, design.fence_delay_node) == (
        "node01", ("node01", "node02"), "node01")
    assert (oracle.preferred, oracle.allowed) == (design.preferred_node, design.allowed_nodes)
    assert "pcmk_delay_base" in nvpairs(_primitive(resources_xml(spec, design), "fence_node01"))


# --- corosync.conf -----------------------------------------------------------------------------


def totem_value(conf: str, key: str) -> list[str]:
    return re.findall(rf"^\s*{key}:\s*(\S+)\s*$", conf, flags=re.M)


def test_corosync_conf(seed: LabSpec, design: Design) -> None:
    conf = corosync_conf(seed, design)
    assert conf.count("{") == conf.count("}")
    assert totem_value(conf, "token") == ["20000"]
    assert totem_value(conf, "transport") == ["knet"]
    assert totem_value(conf, "cluster_name") == ["cluster01"]
    assert totem_value(conf, "two_node") == ["1"]
    assert totem_value(conf, "provider") == ["corosync_votequorum"]
    assert totem_value(conf, "ring0_addr") == ["192.168.9.201", "192.168.9.202"]
    assert totem_value(conf, "name") == ["node01", "node02"]
    assert totem_value(conf, "nodeid") == ["1", "2"]
    # totem on the heartbeat network only
    assert "192.168.7." not in conf
    assert "192.168.8." not in conf
    assert "ring1_addr" not in conf


def test_corosync_conf_token_from_the_timing_profile(seed: LabSpec) -> None:
    fast = seed.with_timing("fast")
    assert totem_value(corosync_conf(fast, design_of(fast)), "token") == ["5000"]


def test_corosync_conf_three_nodes_has_no_two_node() -> None:
    spec = load_spec(THREE)
    conf = corosync_conf(spec, design_of(spec))
    assert totem_value(conf, "two_node") == []
    assert totem_value(conf, "name") == ["node01", "node02", "node03"]
    assert totem_value(conf, "nodeid") == ["1", "2", "3"]


def test_corosync_conf_two_node_off_when_the_spec_says_so(tmp_path: Path) -> None:
    spec = variant(tmp_path, ("two_node = true", "two_node = false"))
    assert totem_value(corosync_conf(spec, design_of(spec)), "two_node") == []
    assert not PcmkDesign.from_spec(spec).two_node


# --- the CIB: resources and constraints -------------------------------------------------------


def _primitive(xml: str, rid: str) -> etree._Element:
    el = etree.fromstring(xml.encode()).find(f".//primitive[@id='{rid}']")
    assert el is not None, rid
    return el


def test_cib_sections_are_well_formed_with_unique_ids(seed: LabSpec, design: Design) -> None:
    res = etree.fromstring(resources_xml(seed, design).encode())
    cons = etree.fromstring(constraints_xml(seed, design).encode())
    assert (res.tag, cons.tag) == ("resources", "constraints")
    ids = [el.get("id") for root in (res, cons) for el in root.iter() if el.get("id") is not None]
    assert len(ids) == len(set(ids)), "pacemaker refuses a CIB with duplicate ids"
    # every element pacemaker requires an id on has one
    for el in res.iter("primitive", "group", "op", "instance_attributes", "nvpair"):
        assert el.get("id"), etree.tostring(el)


def test_fence_devices(seed: LabSpec, design: Design) -> None:
    xml = resources_xml(seed, design)
    root = etree.fromstring(xml.encode())
    stonith = root.findall("primitive[@class='stonith']")
    assert [p.get("id") for p in stonith] == ["fence_node01", "fence_node02"]
    for node, dev in zip(seed.nodes, stonith, strict=True):
        assert dev.get("type") == "fence_virsh"
        attrs = nvpairs(dev)
        assert attrs["pcmk_host_list"] == node.name
        assert attrs["plug"] == node.domain
        assert attrs["ip"] == "192.168.8.1"  # the host's fence sshd, over the management network
        assert attrs["username"] == "root"
        assert attrs["identity_file"] == FENCE_KEY_ON_NODE
        assert attrs["ssh"] == "1"
        if node.name == "node01":  # fence_delay_node: the device that fences node01 waits
            assert attrs["pcmk_delay_base"] == "8s"
        else:
            assert "pcmk_delay_base" not in attrs
        monitor = dev.find("operations/op[@name='monitor']")
        assert monitor is not None


def test_no_fence_delay_when_none_is_asked(tmp_path: Path) -> None:
    spec = variant(tmp_path, ("fence_delay_s = 8", "fence_delay_s = 0"))
    assert "pcmk_delay_base" not in resources_xml(spec, design_of(spec))


def test_service_group(seed: LabSpec, design: Design) -> None:
    root = etree.fromstring(resources_xml(seed, design).encode())
    group = root.find("group[@id='service01']")
    assert group is not None
    members = list(group)
    assert [(m.get("id"), m.get("type")) for m in members] == [
        ("service01-ip", "IPaddr2"), ("service01-fs", "Filesystem"), ("service01-app", "myappl")]
    assert members[2].get("class") == "systemd"
    assert nvpairs(members[0]) == {"ip": "192.168.7.99", "cidr_netmask": "24", "nic": "svc"}
    assert nvpairs(members[1]) == {"device": DATA_DEVICE, "directory": "/data01", "fstype": "ext4"}
    assert members[1].get("provider") == "heartbeat"

    monitor = members[1].find("operations/op[@name='monitor']")
    assert (monitor.get("interval"), monitor.get("timeout")) == ("10s", "40s")
    assert {nv.get("name"): nv.get("value") for nv in monitor.iter("nvpair")} == {"OCF_CHECK_LEVEL": "20"}
    stop = members[1].find("operations/op[@name='stop']")
    assert stop.get("timeout") == "60s"
    for m in members:
        assert m.find("operations/op[@name='monitor']") is not None, m.get("id")


def test_constraints(seed: LabSpec, design: Design) -> None:
    res = etree.fromstring(resources_xml(seed, design).encode())
    cons = etree.fromstring(constraints_xml(seed, design).encode())
    resource_ids = {el.get("id") for el in res.iter("primitive", "group")}
    node_names = {n.name for n in seed.nodes}
    locations = cons.findall("rsc_location")
    assert locations
    for loc in locations:
        assert loc.get("rsc") in resource_ids, loc.get("id")
        assert loc.get("node") in node_names, loc.get("id")
    # a fence device never runs on the node it fences
    for node in seed.nodes:
        assert cons.find(f"rsc_location[@rsc='fence_{node.name}'][@node='{node.name}'][@score='-INFINITY']") \
            is not None
    prefers = cons.findall("rsc_location[@rsc='service01']")
    assert [(p.get("node"), p.get("score")) for p in prefers] == [("node01", "100")]


def test_restricted_domain(tmp_path: Path) -> None:
    spec = variant(tmp_path, ('allowed_nodes = ["node01", "node02"]', 'allowed_nodes = ["node01"]'))
    cons = etree.fromstring(constraints_xml(spec, design_of(spec)).encode())
    svc = {(p.get("node"), p.get("score")) for p in cons.findall("rsc_location[@rsc='service01']")}
    assert svc == {("node01", "100"), ("node02", "-INFINITY")}


def test_properties(design: Design) -> None:
    assert properties(design) == {"stonith-enabled": "true", "stonith-timeout": "60s",
                                  "no-quorum-policy": "stop", "stonith-action": "reboot"}


# --- no secret in anything the deploy writes ----------------------------------------------------


def test_no_secret_material_in_generated_text(seed: LabSpec, design: Design) -> None:
    texts = [corosync_conf(seed, design), resources_xml(seed, design), constraints_xml(seed, design),
             repr(properties(design)), repr(design)]
    for text in texts:
        low = text.lower()
        for word in ("private key", "begin openssh", "passwd", "password", "ssh-ed25519", "ssh-rsa"):
            assert word not in low, word
    # the fence device names the key file on the node, never its content
    attrs = nvpairs(_primitive(texts[1], "fence_node01"))
    assert attrs["identity_file"].startswith("/")
    assert not any(k.startswith("passwd") for k in attrs)
