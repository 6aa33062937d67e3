"""Pacemaker-side formats the real samples do not show, written from the sources and schemas.

crm_mon XML states a failover test lives on (starting, stopping, partial, multi-active, blocked),
its error result, fence history in XML and text (both styles), crm_mon text node states,
corosync 2/3.0 cfgtool, corosync 3 quorumtool, sbd list with a pending reset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from halab.errors import ParseError
from halab.stacks.pacemaker import (
    ADAPTER,
    read_cfgtool,
    read_crm_mon_text,
    read_crm_mon_xml,
    read_fence_history_text,
    read_quorumtool,
    read_sbd_dump,
    read_sbd_list,
)


def _rsc(rid: str, role: str, node: str | None = None, **extra: str) -> str:
    attrs = {
        "id": rid,
        "resource_agent": "ocf:heartbeat:Dummy",
        "role": role,
        "active": "true" if node else "false",
        "orphaned": "false",
        "blocked": "false",
        "managed": "true",
        "failed": "false",
        "failure_ignored": "false",
        "nodes_running_on": "1" if node else "0",
        **extra,
    }
    text = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    inner = f'<node name="{node}" id="1" cached="true"/>' if node else ""
    return f"<resource {text}>{inner}</resource>"


def _crm_mon(resources: str, with_quorum: str = "true", fence: str = "") -> str:
    return f"""<pacemaker-result api-version="2.35" request="crm_mon --output-as=xml">
  <summary>
    <stack type="corosync"/>
    <current_dc present="true" version="2.1.5" name="node01" id="1" with_quorum="{with_quorum}"/>
    <cluster_options stonith-enabled="true" cluster-name="cluster01"/>
  </summary>
  <nodes>
    <node name="node01" id="1" online="true" standby="false" maintenance="false" pending="false"
          unclean="false" shutdown="false" expected_up="true" is_dc="true" type="member"/>
    <node name="node02" id="2" online="false" standby="false" maintenance="false" pending="false"
          unclean="true" shutdown="false" expected_up="true" is_dc="false" type="member"/>
  </nodes>
  <resources>
{resources}
  </resources>
{fence}
  <status code="0" message="OK"/>
</pacemaker-result>
"""


def _group(gid: str, *members: str) -> str:
    return (
        f'<group id="{gid}" number_resources="{len(members)}" managed="true" disabled="false">'
        + "".join(members)
        + "</group>"
    )


@pytest.mark.parametrize(
    ("members", "state", "owner"),
    [
        (
            (("ip", "Started", "node01"), ("fs", "Started", "node01"), ("app", "Started", "node01")),
            "started",
            "node01",
        ),
        ((("ip", "Stopped", None), ("fs", "Stopped", None), ("app", "Stopped", None)), "stopped", None),
        (
            (("ip", "Started", "node01"), ("fs", "Started", "node01"), ("app", "Stopped", None)),
            "partial",
            "node01",
        ),
        (
            (("ip", "Started", "node01"), ("fs", "Started", "node02"), ("app", "Stopped", None)),
            "partial",
            "node01",
        ),
    ],
)
def test_group_state_from_its_members(
    members: tuple[tuple[str, str, str | None], ...], state: str, owner: str | None
) -> None:
    xml = _crm_mon(_group("service01", *(_rsc(f"service01-{n}", role, node) for n, role, node in members)))
    svc = read_crm_mon_xml(xml).service("service01")
    assert svc is not None
    assert (svc.state, svc.owner) == (state, owner)


def test_group_starting_and_stopping_from_pending_ops() -> None:
    starting = _group(
        "s", _rsc("s-ip", "Started", "node02"), _rsc("s-fs", "Stopped", None, pending="Starting")
    )
    stopping = _group(
        "t", _rsc("t-ip", "Started", "node01"), _rsc("t-fs", "Started", "node01", pending="Stopping")
    )
    st = read_crm_mon_xml(_crm_mon(starting + stopping))
    assert {s.name: (s.state, s.owner) for s in st.services} == {
        "s": ("starting", "node02"),
        "t": ("stopping", "node01"),
    }


def test_failed_blocked_and_multi_active_are_failed() -> None:
    failed = _group("f", _rsc("f-ip", "Started", "node01"), _rsc("f-fs", "Started", "node01", failed="true"))
    blocked = _rsc("b", "Started", "node01", blocked="true", managed="false")
    multi = (
        '<resource id="m" resource_agent="ocf:heartbeat:Dummy" role="Started" active="true" failed="false"'
        ' blocked="false" managed="true" nodes_running_on="2"><node name="node01" id="1" cached="true"/>'
        '<node name="node02" id="2" cached="true"/></resource>'
    )
    st = read_crm_mon_xml(_crm_mon(failed + blocked + multi))
    got = {s.name: (s.state, s.owner, s.flags) for s in st.services}
    assert got == {
        "f": ("failed", "node01", ()),
        "b": ("failed", "node01", ("unmanaged",)),
        "m": ("failed", "node01", ("multi-node",)),
    }


def test_fence_devices_and_clones_are_not_services_nodes_keep_their_flags() -> None:
    fence = _rsc("fence-node02", "Started", "node01", resource_agent="stonith:fence_virsh")
    clone = f'<clone id="ping-clone" multi_state="false">{_rsc("ping", "Started", "node01")}</clone>'
    st = read_crm_mon_xml(_crm_mon(fence + clone, with_quorum="false"))
    assert st.services == ()
    assert st.quorate is False
    assert st.cluster_name == "cluster01"
    assert [(m.name, m.online, m.flags) for m in st.members] == [
        ("node01", True, ("dc",)),
        ("node02", False, ("unclean",)),
    ]


FENCE_XML = """  <fence_history status="0">
    <fence_event action="reboot" target="node02" client="pacemaker-controld.1234" origin="node01"
                 status="success" delegate="node01" completed="2026-11-26 11:22:33.123456Z"/>
    <fence_event action="reboot" target="node02" client="pacemaker-controld.1234" origin="node01"
                 status="failed" exit-reason="timed out" completed="2026-11-26 11:21:00 +01:00"/>
    <fence_event action="off" target="node03" client="stonith_admin.99" origin="node01" status="pending"/>
  </fence_history>"""


def test_fence_history_in_crm_mon_xml_keeps_full_time() -> None:
    st = read_crm_mon_xml(_crm_mon("", fence=FENCE_XML))
    ok, failed, pending = st.fence_history
    assert (ok.target, ok.action, ok.status, ok.delegate, ok.origin) == (
        "node02",
        "reboot",
        "success",
        "node01",
        "node01",
    )
    assert ok.completed == datetime(2026, 11, 26, 11, 22, 33, 123456, tzinfo=UTC)
    assert (failed.status, failed.delegate) == ("failed", None)
    assert failed.completed == datetime(2026, 11, 26, 11, 21, tzinfo=timezone(timedelta(hours=1)))
    assert (pending.status, pending.completed) == ("pending", None)


def test_stonith_admin_history_xml_through_the_adapter() -> None:
    xml = (
        '<pacemaker-result api-version="2.35" request="stonith_admin --history * --output-as=xml">\n'
        f'{FENCE_XML}\n  <status code="0" message="OK"/>\n</pacemaker-result>\n'
    )
    assert [f.status for f in ADAPTER.read_fence_history(xml)] == ["success", "failed", "pending"]
    assert ADAPTER.read_fence_history("") == ()


def test_legacy_fence_event_with_state_and_ctime() -> None:
    xml = _crm_mon(
        "",
        fence='<fence_history><fence_event target="node02" action="reboot" state="success"'
        ' origin="node01" client="crmd.1" delegate="node01"'
        ' completed="Thu Nov 26 11:22:33 2026" /></fence_history>',
    )
    (ev,) = read_crm_mon_xml(xml).fence_history
    assert (ev.status, ev.completed) == ("success", datetime(2026, 11, 26, 11, 22, 33))


def test_crm_mon_xml_error_result_means_not_running() -> None:
    st = read_crm_mon_xml(
        '<pacemaker-result api-version="2.35" request="crm_mon --output-as=xml">\n'
        '  <status code="102" message="Not connected">\n    <errors>\n'
        "      <error>crm_mon: Error: cluster is not available on this node</error>\n"
        "    </errors>\n  </status>\n</pacemaker-result>\n"
    )
    assert st.running is False
    assert st.error == "Not connected; crm_mon: Error: cluster is not available on this node"


@pytest.mark.parametrize("cut", [120, 700, -30, -3])
def test_crm_mon_xml_truncated_is_an_error_with_a_line(cut: int) -> None:
    xml = _crm_mon(_group("service01", _rsc("service01-ip", "Started", "node01")), fence=FENCE_XML)
    with pytest.raises(ParseError) as err:
        read_crm_mon_xml(xml[:cut])
    assert err.value.kind == "crm-mon-xml"
    assert err.value.line is not None


def test_fence_event_with_garbled_time_is_an_error() -> None:
    bad = FENCE_XML.replace("2026-11-26 11:22:33.123456Z", "2026-11-26 1")
    with pytest.raises(ParseError, match="not a time"):
        read_crm_mon_xml(_crm_mon("", fence=bad))


CRM_MON_2X = """Cluster Summary:
  * Stack: corosync (Pacemaker is running)
  * Current DC: node01 (version 2.1.5-a3f44794f94) - partition WITHOUT quorum
  * Last updated: Thu Nov 26 11:22:33 2026 on node01
  * Last change:  Thu Nov 26 11:00:00 2026 by root via cibadmin on node01
  * 3 nodes configured
  * 8 resource instances configured (1 DISABLED)

Node List:
  * Node node02: UNCLEAN (offline)
  * Node node03: standby
  * Online: [ node01 ]

Full List of Resources:
  * fence-node01\t(stonith:fence_virsh):\t Started node02 (UNCLEAN)
  * Resource Group: service01:
    * service01-ip\t(ocf:heartbeat:IPaddr2):\t Started node01
    * service01-fs\t(ocf:heartbeat:Filesystem):\t FAILED node01
    * service01-app\t(systemd:myappl):\t Stopped
  * Resource Group: service02 (disabled):
    * service02-ip\t(ocf:heartbeat:IPaddr2):\t Stopped (disabled)
  * solo\t(ocf:pacemaker:Dummy):\t Starting node03
  * Clone Set: ping-clone [ping]:
    * Started: [ node01 node03 ]

Failed Resource Actions:
  * service01-fs_monitor_20000 on node01 'not running' (7): call=42, status='complete'

Pending Fencing Actions:
  * reboot of node02 pending: client=pacemaker-controld.1234, origin=node01
"""


def test_crm_mon_2x_text_states_nodes_and_pending_fence() -> None:
    st = read_crm_mon_text(CRM_MON_2X)
    assert st.quorate is False
    assert [(m.name, m.online, m.flags) for m in st.members] == [
        ("node02", False, ("unclean",)),
        ("node03", True, ("standby",)),
        ("node01", True, ("dc",)),
    ]
    got = {s.name: (s.state, s.owner, s.flags) for s in st.services}
    assert got == {
        "service01": ("failed", "node01", ()),
        "service02": ("stopped", None, ("disabled",)),
        "solo": ("starting", None, ()),
    }
    (pending,) = st.fence_history
    assert (pending.target, pending.status, pending.origin) == ("node02", "pending", "node01")


def test_crm_mon_text_group_by_node() -> None:
    st = read_crm_mon_text("""Cluster Summary:
  * Current DC: node01 (version 2.1.5) - partition with quorum

Node List:
  * Node node01: online:
    * service01-ip\t(ocf:heartbeat:IPaddr2):\t Started
  * Node node02: OFFLINE:
""")
    assert [(m.name, m.online) for m in st.members] == [("node01", True), ("node02", False)]
    assert {s.name: (s.state, s.owner) for s in st.services} == {"service01-ip": ("started", "node01")}


@pytest.mark.parametrize(
    "bad",
    [
        CRM_MON_2X.replace("  * Online: [ node01 ]", "  * Online: [ node01"),
        CRM_MON_2X.replace("\t Started node01\n", "\t Sta\n"),
        CRM_MON_2X.replace("(ocf:heartbeat:Filesystem):\t FAILED node01", "(ocf:heartbeat:Filesy"),
        "Cluster Summary:\n  * Stack: corosync\n",
        "random words that are not a status\n",
    ],
)
def test_crm_mon_text_garbled_is_an_error(bad: str) -> None:
    with pytest.raises(ParseError) as err:
        read_crm_mon_text(bad)
    assert err.value.kind == "crm-mon"
    assert err.value.line is not None


def test_fence_history_text_human_and_technical_styles() -> None:
    text = """Fencing History:
  * reboot of node02 by node01 for pacemaker-controld.1234@node01 successful at 2026-11-26 11:22:33 +00:00
  * reboot of node02 for pacemaker-controld.1234@node01 last failed (timed out) at 2026-11-26 11:21:00Z \
(a later attempt from node01 succeeded)
  * off of node03 failed (no route): delegate=node01, client=stonith_admin.9, origin=node01, \
completed='2026-11-26 11:20:00.5 +02:00'
"""
    ok, failed, off = read_fence_history_text(text)
    assert (ok.target, ok.status, ok.delegate, ok.origin) == ("node02", "success", "node01", "node01")
    assert ok.completed == datetime(2026, 11, 26, 11, 22, 33, tzinfo=UTC)
    assert (failed.status, failed.delegate, failed.completed) == (
        "failed",
        None,
        datetime(2026, 11, 26, 11, 21, tzinfo=UTC),
    )
    assert (off.action, off.status, off.delegate) == ("off", "failed", "node01")
    assert off.completed == datetime(2026, 11, 26, 11, 20, 0, 500000, tzinfo=timezone(timedelta(hours=2)))


def test_fence_history_text_1_1_wrapped_time_line() -> None:
    (ev,) = read_fence_history_text(
        "* reboot of node02 successful: delegate=node01, client=crmd.12, origin=node01,\n"
        "    last-successful='Thu Nov 26 11:22:33 2026'\n"
    )
    assert ev.completed == datetime(2026, 11, 26, 11, 22, 33)


@pytest.mark.parametrize(
    "bad",
    [
        "* reboot of node02 successful: delegate=node01, cli",
        "* reboot of node02 by node01 for x@y successful at 2026-13-45 99:00:00",
        "* something else entirely",
    ],
)
def test_fence_history_text_garbled_is_an_error(bad: str) -> None:
    with pytest.raises(ParseError):
        read_fence_history_text(bad)


QUORUMTOOL_3 = """Quorum information
------------------
Date:             Thu Nov 26 11:22:33 2026
Quorum provider:  corosync_votequorum
Nodes:            1
Node ID:          1
Ring ID:          1.1a
Quorate:          Yes

Votequorum information
----------------------
Expected votes:   2
Highest expected: 2
Total votes:      1
Quorum:           1
Flags:            2Node Quorate WaitForAll

Membership information
----------------------
    Nodeid      Votes Name
         1          1 node01h (local)
"""


def test_quorumtool_corosync3_two_node_survivor() -> None:
    votes = read_quorumtool(QUORUMTOOL_3)
    assert (votes.quorate, votes.expected, votes.total, votes.quorum) == (True, 2, 1, 1)
    assert votes.flags == ("2Node", "Quorate", "WaitForAll")
    assert (votes.local_node, votes.local_node_id, votes.node_votes) == ("node01h", 1, 1)


@pytest.mark.parametrize(
    "bad",
    [
        QUORUMTOOL_3[: QUORUMTOOL_3.index("Total votes")],
        QUORUMTOOL_3.replace("Quorate:          Yes", "Quorate:          Y"),
        QUORUMTOOL_3.replace("1 node01h (local)", "1 "),
        "Cannot initialize QUORUM service\n",
    ],
)
def test_quorumtool_garbled_is_an_error(bad: str) -> None:
    with pytest.raises(ParseError) as err:
        read_quorumtool(bad)
    assert err.value.kind == "quorumtool"


def test_cfgtool_corosync2_ring_faulty() -> None:
    ring = read_cfgtool(
        "Printing ring status.\nLocal node ID 2\nRING ID 0\n\tid\t= 192.168.9.202\n"
        "\tstatus\t= Marking ringid 0 interface 192.168.9.202 FAULTY\n"
        "RING ID 1\n\tid\t= 192.168.8.202\n\tstatus\t= ring 1 active with no faults\n"
    )
    assert ring.local_node_id == 2
    assert [(link.link_id, link.address, link.faulty) for link in ring.links] == [
        (0, "192.168.9.202", True),
        (1, "192.168.8.202", False),
    ]


def test_cfgtool_corosync30_link_enabled_connected() -> None:
    ring = read_cfgtool(
        "Printing link status.\nLocal node ID 1\nLINK ID 0\n\taddr\t= 192.168.9.201\n\tstatus:\n"
        "\t\tnodeid  1:\tlink enabled:1\tlink connected:1\n"
        "\t\tnodeid  2:\tlink enabled:1\tlink connected:0\n"
    )
    (link,) = ring.links
    assert [(p.node_id, p.connected) for p in link.peers] == [(1, True), (2, False)]
    assert link.faulty is True


def test_cfgtool_cut_before_the_address_is_an_error() -> None:
    with pytest.raises(ParseError):
        read_cfgtool("Local node ID 1, transport knet\nLINK ID 0 udp\n")


def test_sbd_list_pending_reset_from_a_sender() -> None:
    slots = read_sbd_list("0\tnode01\tclear\n1\tnode02\treset\tnode01\n")
    assert [(s.node, s.message, s.sender) for s in slots] == [
        ("node01", "clear", None),
        ("node02", "reset", "node01"),
    ]


def test_sbd_dump_cut_before_msgwait_is_an_error() -> None:
    with pytest.raises(ParseError, match="msgwait"):
        read_sbd_dump("==Dumping header on disk /dev/sdc\nHeader version     : 2.1\nTimeout (watchdog) : 5\n")


def test_crm_mon_xml_names_the_dc_and_none_when_absent() -> None:
    """The DC at t0 tells the oracle whether losing the target costs a DC election."""
    assert read_crm_mon_xml(_crm_mon("")).dc == "node01"
    absent = _crm_mon("").replace('present="true" version="2.1.5" name="node01" id="1" ', 'present="false" ')
    assert read_crm_mon_xml(absent).dc is None
