"""The facts each real rgmanager-side sample shows (../shared/samples/rhcs), read by our readers."""

from __future__ import annotations

from datetime import datetime

import pytest
from stack_samples import body

from halab.stacks.host import read_tgt_show
from halab.stacks.rgmanager import (
    ADAPTER,
    read_clustat,
    read_clustat_xml,
    read_cman_status,
    read_mkqdisk,
)
from halab.stacks.types import EventKind

pytestmark = pytest.mark.samples


def test_clustat_x_three_nodes_disabled_service_with_flags() -> None:
    st = read_clustat_xml(body("rhcs/clustat-x__deimos_3node_disabled_service_flags.txt"))
    assert st.quorate is True
    assert st.cluster_name == "cluster1"
    assert [(m.name, m.node_id, m.online) for m in st.members] == [
        ("node2.deimos.fr", 1, True),
        ("node1.deimos.fr", 2, True),
        ("node3.deimos.fr", 3, True),
    ]
    assert st.local_node == "node1.deimos.fr"
    assert all("rgmanager" in m.flags for m in st.members)
    svc = st.service("webby")
    assert svc is not None
    assert (svc.state, svc.owner, svc.last_owner) == ("disabled", None, None)
    assert st.quorum_device is None


def test_clustat_x_two_nodes_service_started() -> None:
    st = read_clustat_xml(body("rhcs/clustat-x__python_script_fixture_2node_started.txt"))
    assert st.quorate is True
    assert st.cluster_name == "test_host"
    assert st.online() == ("test-admin-host01", "test-admin-host02")
    svc = st.service("host")
    assert svc is not None
    assert (svc.state, svc.owner, svc.last_owner) == ("started", "test-admin-host01", "test-admin-host02")


def test_clustat_two_nodes_no_services_listed() -> None:
    st = read_clustat(body("rhcs/clustat__deimos_2node_service_started.txt"))
    assert st.quorate is True
    assert st.cluster_name == "cluster1"
    assert [(m.name, m.node_id, m.local, m.online) for m in st.members] == [
        ("node2.deimos.fr", 1, False, True),
        ("node1.deimos.fr", 2, True, True),
    ]
    assert st.services == ()  # the table header is printed, no rows


def test_clustat_three_nodes_all_online() -> None:
    st = read_clustat(body("rhcs/clustat__deimos_3node_service_owner_none.txt"))
    assert st.quorate is True
    assert st.online() == ("node2.deimos.fr", "node1.deimos.fr", "node3.deimos.fr")
    assert st.local_node == "node1.deimos.fr"


def test_clustat_five_nodes_nbsp_node1_offline_service_on_vm2() -> None:
    st = read_clustat(body("rhcs/clustat__msblog_5node_qdisk_node1_offline_service_relocated.txt"))
    assert st.quorate is True
    assert st.cluster_name == "my-cluster"
    assert [m.name for m in st.members if not m.online] == ["my-vm1"]
    assert st.online() == ("my-vm2", "my-vm3", "my-vm4", "my-vm5")
    assert st.local_node == "my-vm2"
    assert st.quorum_device is not None
    assert (st.quorum_device.name, st.quorum_device.online) == ("/dev/block/8:33", True)
    svc = st.service("my_service_group")
    assert svc is not None
    assert (svc.state, svc.owner) == ("started", "my-vm2")


def test_mangled_page_clustat_part() -> None:
    st = read_clustat(body("rhcs/clustat_and_cman_tool_status__msblog_5node_qdisk_MANGLED.txt"))
    assert st.quorate is True
    assert st.online() == ("my-vm1", "my-vm2", "my-vm3", "my-vm4", "my-vm5")
    assert st.local_node == "my-vm1"
    assert st.quorum_device is not None
    assert st.quorum_device.name == "/dev/block/8:33"


def test_mangled_page_cman_tool_part_joined_lines() -> None:
    votes = read_cman_status(body("rhcs/clustat_and_cman_tool_status__msblog_5node_qdisk_MANGLED.txt"))
    assert (votes.expected, votes.total, votes.quorum, votes.quorate) == (9, 9, 5, True)
    assert (votes.node_votes, votes.device_votes, votes.nodes) == (1, 4, 5)
    assert (votes.cluster_name, votes.local_node, votes.local_node_id) == ("my-cluster", "my-vm1", 1)


def test_cman_tool_status_rhel5_three_nodes() -> None:
    votes = read_cman_status(body("rhcs/cman_tool_status__deimos_3node.txt"))
    assert (votes.expected, votes.total, votes.quorum, votes.quorate) == (3, 3, 2, True)
    assert votes.node_votes is None
    assert votes.device_votes is None
    assert votes.flags == ("Dirty",)
    assert (votes.local_node, votes.local_node_id) == ("node1.deimos.fr", 2)


def test_cman_tool_status_activity_blocked_with_pcs_votes_block() -> None:
    votes = read_cman_status(body("rhcs/cman_tool_status__pcs_fixture_inquorate_activity_blocked.txt"))
    assert (votes.expected, votes.total, votes.quorum, votes.quorate) == (3, 3, 2, False)
    assert votes.node_votes == 1
    assert [(m.name, m.online, m.votes) for m in votes.members] == [
        ("rh66-node1", True, 3),
        ("rh66-node2", False, 2),
        ("rh66-node3", False, 1),
    ]


def test_kernel_dlm_lines_after_a_paused_node() -> None:
    events = ADAPTER.read_events(body("rhcs/kernel_dlm_gfs2_after_node_paused__msblog.txt"))
    assert [(e.kind, e.node, e.time) for e in events] == [(EventKind.DLM_RECOVERY, "5", None)]


def test_mkqdisk_list_one_disk_three_paths() -> None:
    (disk,) = read_mkqdisk(body("rhcs/mkqdisk-L__deimos_v0.6.0.txt"))
    assert disk.label == "qdisk"
    assert disk.magic == "eb7a62c2"
    assert disk.host == "node1.deimos.fr"
    assert disk.paths[-1] == "/dev/sda2"
    assert len(disk.paths) == 3
    assert any(p.startswith("/dev/disk/by-path/") for p in disk.paths)
    assert (disk.kernel_sector_size, disk.recorded_sector_size) == (512, 512)


def test_mkqdisk_create_writes_label_and_fifteen_blocks() -> None:
    (disk,) = read_mkqdisk(body("rhcs/mkqdisk-c__deimos_v0.6.0.txt"))
    assert (disk.paths, disk.label, disk.status_blocks) == (("/dev/sda2",), "qdisk", 15)


def test_rhel5_qdiskd_startup_lines_joined_into_one_paragraph() -> None:
    events = ADAPTER.read_events(
        body("rhcs/syslog_qdiskd_startup_RHEL5_openais__MANGLED_html.txt"), year=2009
    )
    assert [(e.kind, e.reporter) for e in events] == [
        (EventKind.QDISK_REGISTERED, "gfs3"),
        (EventKind.QDISK_SCORE_OK, "gfs3"),
    ]
    assert events[0].time == datetime(2009, 8, 24, 10, 40, 47)


def test_tgtadm_show_target_luns_and_connected_initiator() -> None:
    (target,) = read_tgt_show(
        body("rhcs/tgtadm_show_target__volexport_fixture_tgt1.0.8x_initiator_connected.txt")
    )
    assert (target.tid, target.name) == (1, "iqn.def")
    assert [(lun.lun, lun.kind, lun.backing) for lun in target.luns] == [
        (0, "controller", None),
        (1, "disk", "/dev/vg0/vol01"),
        (2, "disk", "/dev/vg0/vol02"),
    ]
    assert target.luns[1].size_bytes == 10_737_000_000
    assert target.initiators == ("iqn.1996-04.org.alpinelinux:01:c1f2520715f",)
    assert target.initiator_addresses == ("192.168.64.41", "192.168.64.42")
    assert target.acl == ("0.0.0.0/0", "192.168.64.0/24")
