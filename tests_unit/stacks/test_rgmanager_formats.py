"""rgmanager-side formats the real samples do not show, written from the sources' format strings.

clustat.c (3.0.12 and STABLE32), cman_tool/main.c, clusvcadm.c, mkqdisk (KEY_FORMATS.md 1-3):
every state, parenthesised last owners, `(none)`, the quorum-disk row, inquorate output, flags.
"""

from __future__ import annotations

import pytest

from halab.errors import ParseError
from halab.stacks.rgmanager import (
    read_clustat,
    read_clustat_xml,
    read_clusvcadm,
    read_cman_nodes,
    read_cman_status,
    read_mkqdisk,
)

CLUSTAT = """\
Cluster Status for labclu @ Tue Mar  3 10:11:12 2026
Member Status: Quorate

 Member Name                             ID   Status
 ------ ----                             ---- ------
 alpha-hb                                    1 Online, Local, rgmanager
 beta-hb                                     2 Online, rgmanager
 gamma-hb                                    3 Offline
 /dev/block/8:16                             0 Online, Quorum Disk

 Service Name                   Owner (Last)                   State
 ------- ----                   ----- ------                   -----
 service:web                    beta-hb                        started
 service:db                     (alpha-hb)                     stopped
 service:batch                  (none)                         disabled
 service:mail                   (gamma-hb)                     failed
 service:cache                  alpha-hb                       started       [Z]
 vm:guest1                      (beta-hb)                      recoverable
"""


def test_clustat_every_owner_form() -> None:
    st = read_clustat(CLUSTAT)
    assert st.quorate is True
    assert st.cluster_name == "labclu"
    assert st.local_node == "alpha-hb"
    assert [(m.name, m.node_id, m.online) for m in st.members] == [
        ("alpha-hb", 1, True),
        ("beta-hb", 2, True),
        ("gamma-hb", 3, False),
    ]
    assert st.members[0].flags == ("rgmanager",)
    assert st.members[0].local
    assert st.quorum_device is not None
    assert st.quorum_device.name == "/dev/block/8:16"
    got = {s.name: (s.state, s.owner, s.last_owner, s.flags) for s in st.services}
    assert got == {
        "web": ("started", "beta-hb", None, ()),
        "db": ("stopped", None, "alpha-hb", ()),
        "batch": ("disabled", None, None, ()),
        "mail": ("failed", None, "gamma-hb", ()),
        "cache": ("started", "alpha-hb", None, ("frozen",)),
        "vm:guest1": ("recoverable", None, "beta-hb", ()),
    }


def test_clustat_prompt_indentation_and_nbsp_are_tolerated() -> None:
    pasted = (
        "[root@alpha ~]# clustat\n"
        + "\n".join("\t  " + ln.replace("  ", "\u00a0 ") for ln in CLUSTAT.splitlines())
        + "\n[root@alpha ~]# \n"
    )
    assert read_clustat(pasted) == read_clustat(CLUSTAT)


def test_clustat_inquorate_without_rgmanager() -> None:
    st = read_clustat("""Cluster Status for labclu @ Tue Mar  3 10:11:12 2026
Member Status: Inquorate

 Resource Group Manager not running; no service information available.

 Member Name                             ID   Status
 ------ ----                             ---- ------
 alpha-hb                                    1 Online, Local
 beta-hb                                     2 Offline
""")
    assert st.quorate is False
    assert st.services == ()
    assert st.error is not None
    assert st.error.startswith("Resource Group Manager not running")
    assert st.online() == ("alpha-hb",)


def test_clustat_when_cman_is_down() -> None:
    st = read_clustat("Could not connect to CMAN: No such file or directory\n")
    assert st.running is False
    assert st.quorate is None
    assert st.members == ()


def test_clustat_long_listing() -> None:
    st = read_clustat("""Cluster Status for labclu @ Tue Mar  3 10:11:12 2026
Member Status: Quorate

 Member Name                             ID   Status
 ------ ----                             ---- ------
 alpha-hb                                    1 Online, Local, rgmanager
 beta-hb                                     2 Online, rgmanager

Service Name      : service:web
  Current State   : started (112)
  Flags           : none (0)
  Owner           : beta-hb
  Last Owner      : alpha-hb
  Last Transition : Tue Mar  3 10:01:02 2026

Service Name      : service:db
  Current State   : disabled (119)
  Flags           : none (0)
  Owner           : none
  Last Owner      : none
  Last Transition : Tue Mar  3 10:01:02 2026
""")
    got = {s.name: (s.state, s.owner, s.last_owner) for s in st.services}
    assert got == {"web": ("started", "beta-hb", "alpha-hb"), "db": ("disabled", None, None)}


@pytest.mark.parametrize(
    "bad",
    [
        "Member Status: Quorate\n\n Member Name  ID   Status\n ------ ----  ---- ------\n alpha 1 Onl\n",
        "Member Status: Quorate\n\n Member Name  ID   Status\n ------ ----  ---- ------\n alpha 1 Online\n\n"
        " Service Name  Owner (Last)  State\n ------- ----  ----- ------  -----\n service:web  alpha\n",
        "Member Status: Quorate\n\n Member Name  ID   Status\n",
        "Cluster Status for x @ now\n",
        "this is not clustat output\n",
    ],
)
def test_clustat_garbled_or_cut_is_an_error(bad: str) -> None:
    with pytest.raises(ParseError) as err:
        read_clustat(bad)
    assert err.value.kind == "clustat"
    assert err.value.line is not None


CLUSTAT_X_3012_INQUORATE = """<?xml version="1.0"?>
<clustat version="4.1.1">
  <cluster name="labclu" id="4242" generation="77"/>
  <quorum quorate="0"
 groupmember="0"/>
  <nodes>
    <node name="alpha-hb" state="1" local="1" estranged="0" rgmanager="0" rgmanager_master="0" qdisk="0"
          nodeid="0x00000001"/>
    <node name="beta-hb" state="0" local="0" estranged="0" rgmanager="0" rgmanager_master="0" qdisk="0"
          nodeid="0x00000002"/>
    <node name="/dev/block/8:16" state="0" local="0" estranged="0" rgmanager="0" rgmanager_master="0"
          qdisk="1" nodeid="0x00000000"/>
  </nodes>
  <groups>
    <group name="service:web" state="110" state_str="stopped"  owner="alpha-hb" last_owner="alpha-hb"
           restarts="0" last_transition="1772531472" last_transition_str="Tue Mar  3 10:11:12 2026"/>
  </groups>
</clustat>
"""


def test_clustat_x_3012_inquorate_newline_in_tag_and_no_flags() -> None:
    st = read_clustat_xml(CLUSTAT_X_3012_INQUORATE)
    assert st.quorate is False
    assert [(m.name, m.node_id, m.online, m.local) for m in st.members] == [
        ("alpha-hb", 1, True, True),
        ("beta-hb", 2, False, False),
    ]
    assert st.quorum_device is not None
    assert st.quorum_device.online is False
    (svc,) = st.services
    assert (svc.name, svc.state, svc.owner, svc.last_owner) == ("web", "stopped", None, "alpha-hb")


@pytest.mark.parametrize("cut", [200, 500, -40, -12])
def test_clustat_x_truncated_is_an_error(cut: int) -> None:
    with pytest.raises(ParseError) as err:
        read_clustat_xml(CLUSTAT_X_3012_INQUORATE[:cut])
    assert err.value.kind == "clustat-xml"


CMAN_STATUS_QDISK = """Version: 6.2.0
Config Version: 2
Cluster Name: labclu
Cluster Id: 4242
Cluster Member: Yes
Cluster Generation: 12
Membership state: Cluster-Member
Nodes: 2
Expected votes: 3
Quorum device votes: 1
Total votes: 3
Node votes: 1
Quorum: 2{TWO}
Active subsystems: 10
Flags:{ONE}
Ports Bound: 0 11 177{TWO}
Node name: alpha-hb
Node ID: 1
Multicast addresses: 239.192.32.48{ONE}
Node addresses: 192.168.9.201{ONE}
""".format(ONE=" ", TWO="  ")  # cman_tool's trailing blanks, kept out of the source


def test_cman_tool_status_quorate_with_trailing_spaces_and_qdisk() -> None:
    votes = read_cman_status(CMAN_STATUS_QDISK)
    assert (votes.expected, votes.total, votes.quorum, votes.quorate) == (3, 3, 2, True)
    assert (votes.node_votes, votes.device_votes, votes.nodes, votes.flags) == (1, 1, 2, ())
    assert (votes.cluster_name, votes.local_node, votes.local_node_id) == ("labclu", "alpha-hb", 1)


def test_cman_tool_status_activity_blocked_2node_flags() -> None:
    text = (
        CMAN_STATUS_QDISK.replace("Quorum: 2  ", "Quorum: 2 Activity blocked")
        .replace("Flags: ", "Flags: 2node HaveState ")
        .replace("Quorum device votes: 1\n", "")
    )
    votes = read_cman_status(text)
    assert votes.quorate is False
    assert votes.device_votes is None
    assert votes.flags == ("2node", "HaveState")


@pytest.mark.parametrize("cut", ["Expected votes", "Total votes", "Quorum: 2", "2  \nActive"])
def test_cman_tool_status_cut_before_a_vote_line_is_an_error(cut: str) -> None:
    text = CMAN_STATUS_QDISK[: CMAN_STATUS_QDISK.index(cut)]  # the last one cuts the quorum value
    with pytest.raises(ParseError) as err:
        read_cman_status(text)
    assert err.value.kind == "cman-status"


def test_cman_tool_status_cut_inside_activity_blocked_is_an_error() -> None:
    text = CMAN_STATUS_QDISK.replace("Quorum: 2  \n", "Quorum: 2 Activity blo\n")
    with pytest.raises(ParseError) as err:
        read_cman_status(text)
    assert err.value.line == 13


def test_cman_tool_status_when_cman_is_down() -> None:
    with pytest.raises(ParseError, match="cman is not running"):
        read_cman_status("cman_tool: Cannot open connection to cman, is it running ?\n")


def test_cman_tool_nodes_member_dead_and_disallowed() -> None:
    members = read_cman_nodes("""Node  Sts   Inc   Joined               Name
   1   M    652   2026-03-03 10:01:02  alpha-hb
   2   X      0                        beta-hb
   3   d    660   2026-03-03 10:02:02  gamma-hb
""")
    assert [(m.name, m.node_id, m.online, m.flags) for m in members] == [
        ("alpha-hb", 1, True, ()),
        ("beta-hb", 2, False, ("dead",)),
        ("gamma-hb", 3, False, ("disallowed",)),
    ]


def test_cman_tool_nodes_format_option_rows() -> None:
    members = read_cman_nodes("1 M 1 alpha-hb\n2 X 1 beta-hb\n")
    assert [(m.name, m.online, m.votes) for m in members] == [("alpha-hb", True, 1), ("beta-hb", False, 1)]


def test_cman_tool_nodes_cut_row_is_an_error() -> None:
    with pytest.raises(ParseError) as err:
        read_cman_nodes("Node  Sts   Inc   Joined               Name\n   1   M    652   2026-03-03\n")
    assert (err.value.kind, err.value.line) == ("cman-nodes", 2)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (
            "Local machine trying to enable service:web...Success\nservice:web is now running on alpha-hb\n",
            ("enable", "web", None, "Success", True, "alpha-hb", False),
        ),
        (
            "Member beta-hb trying to enable service:web...Success\n"
            "Warning: service:web is now running on alpha-hb\n",
            ("enable", "web", "beta-hb", "Success", True, "alpha-hb", True),
        ),
        (
            "Trying to relocate service:web to beta-hb...Success\nservice:web is now running on beta-hb\n",
            ("relocate", "web", "beta-hb", "Success", True, "beta-hb", False),
        ),
        (
            "Trying to relocate service:web...Success\nservice:web is now running on beta-hb\n",
            ("relocate", "web", None, "Success", True, "beta-hb", False),
        ),
        (
            "Local machine disabling service:web...Success\n",
            ("disable", "web", None, "Success", True, None, False),
        ),
        (
            "Member beta-hb trying to enable service:web...Operation violates dependency rule\n",
            ("enable", "web", "beta-hb", "Operation violates dependency rule", False, None, False),
        ),
        (
            "Trying to relocate service:web to gamma-hb...Failure\n",
            ("relocate", "web", "gamma-hb", "Failure", False, None, False),
        ),
    ],
)
def test_clusvcadm_results(text: str, want: tuple[object, ...]) -> None:
    op = read_clusvcadm(text)
    assert (op.action, op.service, op.target, op.result, op.ok, op.owner, op.warning) == want


@pytest.mark.parametrize(
    "bad",
    [
        "Local machine trying to enable service:web...",
        "Could not connect to resource group manager\n",
        "'delta' not in membership list\nNo matches for 'delta' found\n",
    ],
)
def test_clusvcadm_without_a_verdict_is_an_error(bad: str) -> None:
    with pytest.raises(ParseError) as err:
        read_clusvcadm(bad)
    assert err.value.kind == "clusvcadm"


MKQDISK_TWO = """mkqdisk v3.0.12

/dev/block/8:16:
/dev/disk/by-path/ip-192.168.8.1:3260-iscsi-iqn.2011-08.com.example.yourhost:tgt01-lun-1:
/dev/sdb:
\tMagic:                eb7a62c2
\tLabel:                qdisk01
\tCreated:              Tue Mar  3 09:00:00 2026
\tHost:                 alpha
\tKernel Sector Size:   512
\tRecorded Sector Size: 512

/dev/sdc:
\tMagic:                eb7a62c2
\tLabel:                other
\tCreated:              Tue Mar  3 09:01:00 2026
\tHost:                 beta
\tKernel Sector Size:   512
\tRecorded Sector Size: 512

"""


def test_mkqdisk_lists_two_disks() -> None:
    disks = read_mkqdisk(MKQDISK_TWO)
    assert [(d.label, d.host, len(d.paths)) for d in disks] == [("qdisk01", "alpha", 3), ("other", "beta", 1)]


def test_mkqdisk_banner_only_means_no_disk() -> None:
    assert read_mkqdisk("mkqdisk v3.0.12\n\n") == ()


def test_mkqdisk_cut_before_label_is_an_error() -> None:
    with pytest.raises(ParseError) as err:
        read_mkqdisk(MKQDISK_TWO[: MKQDISK_TWO.index("\tLabel:                other")])
    assert err.value.kind == "mkqdisk"
