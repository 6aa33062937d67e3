"""Every row corosync-quorumtool prints for a quorum device (tools/corosync-quorumtool.c
display_nodes_data), including a lost qdevice: 0 votes and "(votes N)"."""

from __future__ import annotations

import pytest

from halab.errors import ParseError
from halab.stacks.pacemaker import read_quorumtool

HEAD = """Quorum information
------------------
Date:             Mon Nov 30 14:00:00 2026
Quorum provider:  corosync_votequorum
Nodes:            2
Node ID:          1
Ring ID:          1/8
Quorate:          {quorate}

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      {total}
Quorum:           2 {blocked}
Flags:            {flags}

Membership information
----------------------
    Nodeid      Votes    Qdevice Name
"""


def status(rows: str, quorate: str = "Yes", total: int = 3, flags: str = "Quorate Qdevice") -> str:
    blocked = "" if quorate == "Yes" else "Activity blocked"
    return HEAD.format(quorate=quorate, total=total, flags=flags, blocked=blocked) + rows


def test_a_voting_qdevice() -> None:
    v = read_quorumtool(status("         1          1    A,V,NMW node01 (local)\n"
                               "         2          1    A,V,NMW node02\n"
                               "         0          1            Qdevice\n"))
    assert (v.device_votes, v.device_configured_votes, v.device_name, v.device_lost) == (1, 1, "Qdevice", False)
    assert [m.flags for m in v.members] == [("a", "v", "nmw")] * 2


def test_a_lost_qdevice_casts_no_vote() -> None:
    v = read_quorumtool(status("         1          1   NA,NV,NMW node01 (local)\n"
                               "         2          1   NA,NV,NMW node02\n"
                               "         0          0            Qdevice (votes 1)\n", total=2))
    assert (v.device_votes, v.device_configured_votes, v.device_lost) == (0, 1, True)
    assert v.quorate is True
    assert [m.name for m in v.members] == ["node01", "node02"]
    assert v.local_node == "node01"


def test_a_lost_qdevice_on_a_lone_node_without_quorum() -> None:
    v = read_quorumtool(status("         1          1   NA,NV,NMW node01 (local)\n"
                               "         0          0            Qdevice (votes 1)\n",
                               quorate="No", total=1, flags="Qdevice"))
    assert (v.quorate, v.device_lost, v.total) == (False, True, 1)


def test_a_node_whose_qdevice_is_not_registered() -> None:
    v = read_quorumtool(status("         1          1    A,V,NMW node01 (local)\n"
                               "         2          1         NR node02\n"
                               "         0          1            Qdevice\n"))
    assert [m.flags for m in v.members] == [("a", "v", "nmw"), ("nr",)]


def test_hex_ids_and_all_addresses() -> None:
    v = read_quorumtool(status("0x00000001          1    A,V,MW node01, 192.168.9.201 (local)\n"
                               "0x00000002          1    A,V,MW node02, 192.168.9.202\n"
                               "0x00000000          1            Qdevice\n"))
    assert [(m.node_id, m.name, m.local) for m in v.members] == [
        (1, "node01, 192.168.9.201", True), (2, "node02, 192.168.9.202", False)]
    assert v.device_votes == 1


def test_no_qdevice_means_no_device() -> None:
    v = read_quorumtool(status("         1          1 node01 (local)\n         2          1 node02\n",
                               flags="2Node Quorate"))
    assert (v.device_votes, v.device_lost) == (None, None)


def test_votes_suffix_on_a_node_row_is_an_error() -> None:
    with pytest.raises(ParseError, match="on a node row"):
        read_quorumtool(status("         1          1 node01 (votes 1)\n"))
