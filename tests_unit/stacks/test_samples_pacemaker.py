"""The facts each real pacemaker-side sample shows (../shared/samples/pacemaker), read by our readers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from stack_samples import body

from halab.stacks.pacemaker import (
    ADAPTER,
    read_cfgtool,
    read_cmap_members,
    read_crm_mon_text,
    read_crm_mon_xml,
    read_quorumtool,
    read_sbd_dump,
    read_sbd_list,
)
from halab.stacks.types import ClusterStatus, EventKind

pytestmark = pytest.mark.samples
K = EventKind


def _owners(st: ClusterStatus) -> dict[str, tuple[str, str | None]]:
    return {s.name: (s.state, s.owner) for s in st.services}


def test_cfgtool_knet_link_with_two_connected_peers() -> None:
    ring = read_cfgtool(body("pacemaker/corosync-cfgtool-s__cfs2.1_knet.txt"))
    assert (ring.local_node_id, ring.transport) == (1, "knet")
    (link,) = ring.links
    assert (link.link_id, link.address, link.transport, link.faulty) == (0, "192.168.122.101", "udp", False)
    assert [(p.node_id, p.status, p.connected) for p in link.peers] == [
        (1, "localhost", True),
        (2, "connected", True),
    ]


def test_cmapctl_members_joined() -> None:
    members = read_cmap_members(body("pacemaker/corosync-cmapctl_members__cfs2.1.txt"))
    assert [(m.node_id, m.online, m.flags) for m in members] == [
        (1, True, ("ip:192.168.122.101",)),
        (2, True, ("ip:192.168.122.102",)),
    ]


def test_quorumtool_inquorate_activity_blocked() -> None:
    votes = read_quorumtool(
        body("pacemaker/corosync-quorumtool-s__pcs_fixture_inquorate_activity_blocked.txt")
    )
    assert (votes.quorate, votes.expected, votes.total, votes.quorum) == (False, 3, 1, 2)
    assert [(m.name, m.votes, m.local) for m in votes.members] == [("rh70-node1", 1, True)]


def test_quorumtool_quorate_without_qdevice() -> None:
    votes = read_quorumtool(body("pacemaker/corosync-quorumtool-s__pcs_fixture_quorate_no_qdevice.txt"))
    assert (votes.quorate, votes.expected, votes.total, votes.quorum, votes.device_votes) == (
        True,
        3,
        3,
        2,
        None,
    )
    assert votes.local_node == "rh70-node2"
    assert votes.node_votes == 2
    assert [m.votes for m in votes.members] == [3, 2, 1]


def test_quorumtool_quorate_with_qdevice_votes() -> None:
    votes = read_quorumtool(body("pacemaker/corosync-quorumtool-s__pcs_fixture_quorate_with_qdevice.txt"))
    assert (votes.quorate, votes.expected, votes.total, votes.quorum) == (True, 10, 10, 6)
    assert votes.device_votes == 4
    assert votes.flags == ("Quorate", "Qdevice")
    assert all(m.flags == ("a", "v", "mnw") for m in votes.members)


def test_pcs_status_corosync_membership_only() -> None:
    votes = read_quorumtool(body("pacemaker/pcs_status_corosync__cfs2.1.txt"))
    assert votes.quorate is None
    assert votes.expected is None
    assert [(m.name, m.node_id, m.votes, m.local) for m in votes.members] == [
        ("pcmk-1", 1, 1, True),
        ("pcmk-2", 2, 1, False),
    ]


def test_crm_mon_1_1_legacy_banner() -> None:
    st = read_crm_mon_text(body("pacemaker/crm_mon-1__cfs1.1_pcmk1.1.7_fc17_legacy_banner.txt"))
    assert st.quorate is True
    assert [(m.name, m.online, m.flags) for m in st.members] == [
        ("pcmk-1", True, ("dc",)),
        ("pcmk-2", True, ()),
    ]
    assert _owners(st) == {"ClusterIP": ("started", "pcmk-1")}


@pytest.mark.parametrize("name", ["basic_text", "complete_text"])
def test_crm_mon_2_1_text_groups_and_primitives(name: str) -> None:
    st = read_crm_mon_text(body(f"pacemaker/crm_mon-1__pcmk2.1.9_regression_{name}.txt"))
    assert st.quorate is True
    assert [m.name for m in st.members if "dc" in m.flags] == ["cluster02"]
    assert {m.name for m in st.members if "guest" in m.flags} == {"httpd-bundle-0", "httpd-bundle-1"}
    # Fencing is a fence device, clones and bundles are not services
    assert _owners(st) == {"dummy": ("started", "cluster02"), "exim-group": ("started", "cluster02")}


def test_crm_mon_2_1_unmanaged_resources_on_offline_node() -> None:
    st = read_crm_mon_text(body("pacemaker/crm_mon-1__pcmk2.1.9_regression_unmanaged_on_offline_node.txt"))
    assert [(m.name, m.online) for m in st.members] == [("cluster01", True), ("cluster02", False)]
    assert _owners(st) == {"rsc1": ("started", "cluster01"), "rsc2": ("started", "cluster02")}
    assert all("maintenance" in s.flags for s in st.services)


def test_crm_mon_as_xml_legacy_1_1() -> None:
    st = read_crm_mon_xml(body("pacemaker/crm_mon_as_xml_legacy__ha_cluster_exporter_fixture_pcmk1.1.18.txt"))
    assert st.quorate is True
    assert [(m.name, m.node_id, m.flags) for m in st.members] == [
        ("node01", 1084783375, ("dc",)),
        ("node02", 1084783376, ()),
    ]
    assert _owners(st) == {
        "test-stop": ("stopped", None),
        "test": ("started", "node02"),
        "rsc_ip_PRD_HDB00": ("started", "node01"),
        "grp_HA1_ASCS00": ("started", "node01"),
        "grp_HA1_ERS10": ("started", "node02"),
    }
    stopped = st.service("test-stop")
    assert stopped is not None
    assert stopped.flags == ("disabled",)


def test_crm_mon_xml_partially_active_group_with_stderr_before_it() -> None:
    st = read_crm_mon_xml(body("pacemaker/crm_mon_xml__pcmk2.1.9_regression_partially_active.txt"))
    assert st.quorate is True
    assert {m.name: m.node_id for m in st.members if "remote" not in m.flags} == {
        "cluster01": 1,
        "cluster02": 2,
    }
    # dummy-2 failed while running on cluster02: the group is failed, still owned there
    assert _owners(st) == {"partially-active-group": ("failed", "cluster02"), "smart-mon": ("stopped", None)}


def test_crm_mon_xml_full_output() -> None:
    st = read_crm_mon_xml(body("pacemaker/crm_mon_xml__pcmk2.1.9_regression_xml_output.txt"))
    assert st.quorate is True
    assert [m.name for m in st.members if not m.online] == ["httpd-bundle-2"]
    assert _owners(st) == {
        "dummy": ("started", "cluster02"),
        "inactive-group": ("stopped", None),
        "exim-group": ("started", "cluster02"),
    }
    inactive = st.service("inactive-group")
    assert inactive is not None
    assert "disabled" in inactive.flags
    assert st.fence_history == ()


def test_pcs_status_when_pacemaker_is_not_running() -> None:
    st = read_crm_mon_text(body("pacemaker/pcs_status__cfs2.1_pacemaker_not_running_error.txt"), "pcs-status")
    assert st.running is False
    assert st.quorate is None
    assert st.members == ()
    assert st.error is not None
    assert "is pacemaker running" in st.error


def test_pcs_status_two_nodes_online() -> None:
    st = read_crm_mon_text(body("pacemaker/pcs_status__cfs2.1_two_nodes_online.txt"), "pcs-status")
    assert (st.quorate, st.cluster_name) == (True, "mycluster")
    assert st.online() == ("pcmk-1", "pcmk-2")
    assert _owners(st) == {"ClusterIP": ("started", "pcmk-2")}


def test_pcs_status_warnings_and_no_resources() -> None:
    st = read_crm_mon_text(body("pacemaker/pcs_status__cfs2.1_warnings_no_stonith.txt"), "pcs-status")
    assert st.quorate is True
    assert st.services == ()
    assert [m.name for m in st.members if "dc" in m.flags] == ["pcmk-2"]


def test_pcs_status_1_1_12_openstack_many_resources() -> None:
    st = read_crm_mon_text(
        body("pacemaker/pcs_status__insights_fixture_pcmk1.1.12_openstack_3node.txt"), "pcs-status"
    )
    assert st.quorate is True
    assert st.cluster_name == "openstack"
    assert st.online() == ("myhost15", "myhost16", "myhost17")
    owners = _owners(st)
    assert owners["heat"] == ("started", "myhost15")  # the one resource group
    assert owners["ip-manila-10.50.218.150"] == ("started", "myhost16")
    assert owners["cinder-volume"] == ("started", "myhost15")
    assert not any(n.startswith("stonith-") for n in owners)  # fence devices are not services
    assert not any(n.startswith("neutron-scale") for n in owners)  # nor clone instances
    assert len(owners) == 38


def test_pcs_status_1_1_13_tripleo_space_separated_columns() -> None:
    st = read_crm_mon_text(
        body("pacemaker/pcs_status__insights_fixture_pcmk1.1.13_tripleo.txt"), "pcs-status"
    )
    assert st.quorate is True
    assert [m.name for m in st.members if "dc" in m.flags] == ["overcloud-controller-0"]
    assert _owners(st) == {
        "ip-172.20.20.10": ("started", "overcloud-controller-0"),
        "ip-10.67.16.160": ("started", "overcloud-controller-2"),
        "ip-172.40.40.10": ("started", "overcloud-controller-0"),
        "ip-172.50.50.10": ("started", "overcloud-controller-1"),
        "ip-192.0.2.31": ("started", "overcloud-controller-0"),
        "ip-172.20.20.11": ("started", "overcloud-controller-2"),
    }


def test_pcs_status_2_1_fencing_history_sections() -> None:
    st = read_crm_mon_text(
        body("pacemaker/pcs_status__insights_fixture_pcmk2.1.0_fencing_history.txt"), "pcs-status"
    )
    assert [(m.name, m.node_id) for m in st.members] == [("host1", 1), ("host2", 2)]
    assert _owners(st) == {"TEST-HA-DB": ("started", "host2")}
    failed = [f for f in st.fence_history if f.status == "failed"]
    done = [f for f in st.fence_history if f.status == "success"]
    assert len(failed) == 6
    assert len(done) == 5
    assert all(f.target == "r40" and f.action == "reboot" for f in st.fence_history)
    assert done[0].delegate == "r11"
    assert done[0].origin == "r11"
    assert done[0].completed == datetime(2022, 3, 13, 23, 26, 20, tzinfo=timezone(timedelta(hours=8)))
    assert failed[0].delegate is None


def test_pcs_status_unclean_node_fragment() -> None:
    st = read_crm_mon_text(
        body("pacemaker/pcs_status__insights_fixture_unclean_node_fragment.txt"), "pcs-status"
    )
    control2 = next(m for m in st.members if m.name == "control-2")
    assert control2.online is True
    assert control2.flags == ("unclean",)
    assert sum("remote" in m.flags for m in st.members) == 8
    assert st.quorate is None  # no DC line in the fragment: unknown, not guessed


def test_pcs_status_cman_stack_pacemaker_1_1_10() -> None:
    st = read_crm_mon_text(
        body("pacemaker/pcs_status__pgcluster_el6.5_stack_cman_pcmk1.1.10.txt"), "pcs-status"
    )
    assert st.quorate is True
    assert st.cluster_name == "pg_cluster"
    assert [m.name for m in st.members if "dc" in m.flags] == ["node1.example.com"]
    assert _owners(st) == {
        "pgrepvip": ("started", "node1.example.com"),
        "pgclivip": ("started", "node2.example.com"),
    }


def test_sbd_dump_timeouts() -> None:
    header = read_sbd_dump(body("pacemaker/sbd_dump__ha_cluster_exporter_fixture.txt"))
    assert (header.device, header.version, header.slots) == ("/dev/vdc", "2.1", 255)
    assert (header.watchdog_s, header.msgwait_s, header.allocate_s, header.loop_s) == (9, 10, 2, 1)


def test_sbd_list_slots() -> None:
    slots = read_sbd_list(body("pacemaker/sbd_list__sbd_manpage_example.txt"))
    assert [(s.slot, s.node, s.message) for s in slots] == [
        (0, "hex-0", "clear"),
        (1, "hex-7", "clear"),
        (2, "hex-9", "clear"),
    ]


def test_corosync3_token_warning_then_token_loss() -> None:
    events = ADAPTER.read_events(
        body("pacemaker/syslog_corosync3_token_timeout_consensus__msdocs_azure_sles.txt"), year=2024
    )
    assert [(e.kind, e.reporter, e.node) for e in events] == [
        (K.LINK_DOWN, "node 02", "2"),
        (K.TOKEN_WARNING, "node 02", "node 02"),
        (K.TOKEN_WARNING, "node 01", "node 01"),
        (K.TOKEN_LOST, "node 01", None),
    ]
    assert events[-1].time == datetime(2024, 8, 21, 1, 48)


def test_rhel8_fence_event_sequence() -> None:
    events = ADAPTER.read_events(
        body("pacemaker/syslog_rhel8_pacemaker_fence_event_node1__msdocs_scenario5.txt"), year=2023
    )
    fences = [(e.kind, e.node, e.actor, e.agent, e.time) for e in events if e.kind.value.startswith("fence")]
    assert fences == [
        (K.FENCE_REQUESTED, "node2", None, None, datetime(2023, 2, 20, 3, 27, 24)),
        (K.FENCE_DELAYED, "node2", "node1", None, datetime(2023, 2, 20, 3, 27, 24)),
        (K.FENCE_SUCCESS, "node2", "node1", "xvm2", datetime(2023, 2, 20, 3, 27, 46)),
        (K.FENCE_SUCCESS, "node2", "node1", None, datetime(2023, 2, 20, 3, 29, 10)),
    ]
    left = [(e.time, e.node) for e in events if e.kind is K.MEMBER_LEFT]
    assert left[0] == (datetime(2023, 2, 20, 3, 27, 23), "2")
    assert [e.time for e in events if e.kind is K.TOKEN_LOST] == [
        datetime(2023, 2, 20, 3, 26, 56),
        datetime(2023, 2, 20, 3, 29, 2),
    ]
