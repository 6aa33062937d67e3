"""tgt target listings (RHEL 6 scsi-target-utils and later), timestamps, and captured-page handling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from halab.errors import ParseError
from halab.stacks.host import read_tgt_show
from halab.stacks.text import command_output, segments
from halab.stacks.timestamps import any_time, ctime_time, iso_time, syslog_time

# tgt-admin -s of the lab's target as RHEL 6 scsi-target-utils 1.0.24 prints it: no SWP/Thin lines.
TGT_RHEL6 = """Target 1: iqn.2011-08.com.example.yourhost:tgt01
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 1
            Initiator: iqn.1994-05.com.redhat:node01
            Connection: 0
                IP Address: 192.168.8.201
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00010000
            SCSI SN: beaf10
            Size: 0 MB, Block size: 1
            Online: Yes
            Removable media: No
            Readonly: No
            Backing store type: null
            Backing store path: None
            Backing store flags:
        LUN: 1
            Type: disk
            SCSI ID: IET     00010001
            SCSI SN: beaf11
            Size: 105 MB, Block size: 512
            Online: Yes
            Removable media: No
            Readonly: No
            Backing store type: rdwr
            Backing store path: /var/lib/halab/seed/qdisk01.img
            Backing store flags:
    Account information:
    ACL information:
        192.168.8.0/24
Target 2: iqn.2011-08.com.example.yourhost:spare
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00020000
            SCSI SN: beaf20
            Size: 0 MB, Block size: 1
            Backing store path: None
    Account information:
    ACL information:
        ALL
"""


def test_tgt_rhel6_two_targets_one_initiator() -> None:
    lab, spare = read_tgt_show(TGT_RHEL6)
    assert (lab.tid, lab.name) == (1, "iqn.2011-08.com.example.yourhost:tgt01")
    assert [(lun.lun, lun.kind, lun.size_bytes, lun.backing) for lun in lab.luns] == [
        (0, "controller", 0, None),
        (1, "disk", 105_000_000, "/var/lib/halab/seed/qdisk01.img"),
    ]
    assert lab.initiators == ("iqn.1994-05.com.redhat:node01",)
    assert lab.initiator_addresses == ("192.168.8.201",)
    assert lab.acl == ("192.168.8.0/24",)
    assert (spare.initiators, spare.acl) == ((), ("ALL",))


def test_tgt_no_targets_is_an_empty_answer_but_garbage_is_an_error() -> None:
    with pytest.raises(ParseError, match="empty input"):
        read_tgt_show("")
    with pytest.raises(ParseError, match="expected 'Target N: IQN'"):
        read_tgt_show("tgtadm: can't send the request to the tgt daemon, Transport endpoint is not connected")


@pytest.mark.parametrize("marker", ["    ACL information:", "    Account information:", "    Size: 105"])
def test_tgt_cut_before_the_end_of_a_target_is_an_error(marker: str) -> None:
    with pytest.raises(ParseError) as err:
        read_tgt_show(TGT_RHEL6[: TGT_RHEL6.index(marker)])
    assert err.value.kind == "tgt-show"


def test_tgt_bad_size_is_an_error_naming_the_lun() -> None:
    with pytest.raises(ParseError, match="LUN 1: size '105 M'"):
        read_tgt_show(TGT_RHEL6.replace("Size: 105 MB, Block size: 512", "Size: 105 M"))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2026-11-26T11:22:33.123456+0000", datetime(2026, 11, 26, 11, 22, 33, 123456, tzinfo=UTC)),
        ("2026-11-26T11:22:33.1234567+00:00", datetime(2026, 11, 26, 11, 22, 33, 123456, tzinfo=UTC)),
        ("2026-11-26 11:22:33Z", datetime(2026, 11, 26, 11, 22, 33, tzinfo=UTC)),
        ("2022-03-06 23:27:35 +08:00", datetime(2022, 3, 6, 23, 27, 35, tzinfo=timezone(timedelta(hours=8)))),
        ("2026-11-26T11:22:33", datetime(2026, 11, 26, 11, 22, 33)),
    ],
)
def test_iso_times_keep_precision_and_offset(text: str, want: datetime) -> None:
    assert iso_time(text) == want
    assert any_time(text) == want


def test_syslog_and_ctime_times() -> None:
    assert syslog_time("Nov  6 11:22:33.000250", 2026) == datetime(2026, 11, 6, 11, 22, 33, 250)
    assert syslog_time("Feb 30 11:22:33", 2026) is None
    assert ctime_time("Tue Apr  3 09:56:50 2012") == datetime(2012, 4, 3, 9, 56, 50)
    assert any_time("yesterday") is None


def test_page_with_two_commands_is_split_at_prompts() -> None:
    page = (
        "[root@node01 ~]# cman_tool status\nExpected votes: 3\n"
        "root@node01:~# **clustat** Cluster Status for c @ now\nMember Status: Quorate\n"
        "node01:~ # crm_mon -1\nStack: corosync\n"
    )
    segs = segments(page)
    assert [s.command for s in segs] == ["cman_tool status", "clustat", "crm_mon -1"]
    assert [ln.text for ln in command_output(page, ("clustat",))] == [
        "Cluster Status for c @ now",
        "Member Status: Quorate",
    ]
    assert [ln.no for ln in command_output(page, ("cman_tool status",))] == [2]


def test_page_without_prompts_is_one_output() -> None:
    assert [ln.text for ln in command_output("a\u00a0b\r\n**bold** text\n", ("x",))] == ["a b", "bold text"]
