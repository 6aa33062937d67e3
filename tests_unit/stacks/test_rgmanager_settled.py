"""rgmanager's "settled" question for the restore, run by bash against clustat -x outputs captured
from halab's live RHCS lab (a stand-in `clustat` on PATH prints them; pure logic of the shell text)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from halab.stacks.rgmanager import COMMANDS

LIVE = Path(__file__).resolve().parents[1] / "data" / "live" / "rgmanager"
SETTLED_XML = (LIVE / "lab-clustat-x.xml").read_text()


def settled(xml: str, tmp_path: Path) -> bool:
    (tmp_path / "clustat.xml").write_text(xml)
    fake = tmp_path / "clustat"
    fake.write_text(f"#!/bin/sh\ncat {tmp_path / 'clustat.xml'}\n")
    fake.chmod(0o755)
    res = subprocess.run(["bash", "-c", COMMANDS.settled], env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=20, check=False)
    return res.returncode == 0


def test_both_members_listening_and_the_service_started_is_settled(tmp_path: Path) -> None:
    assert settled(SETTLED_XML, tmp_path)


def test_a_member_whose_rgmanager_does_not_listen_yet_is_not_settled(tmp_path: Path) -> None:
    joining = SETTLED_XML.replace('name="node02h" state="1" local="0" estranged="0" rgmanager="1"',
                                  'name="node02h" state="1" local="0" estranged="0" rgmanager="0"')
    assert joining != SETTLED_XML
    assert not settled(joining, tmp_path)


def test_an_offline_member_and_the_quorum_disk_do_not_count(tmp_path: Path) -> None:
    offline = SETTLED_XML.replace('name="node02h" state="1" local="0" estranged="0" rgmanager="1"',
                                  'name="node02h" state="0" local="0" estranged="0" rgmanager="0"')
    assert settled(offline, tmp_path)  # the qdisk row carries rgmanager="0" in every capture


@pytest.mark.parametrize("state", ["starting", "stopping", "recovering", "migrating"])
def test_a_service_on_its_way_is_not_settled(tmp_path: Path, state: str) -> None:
    assert not settled(SETTLED_XML.replace('state_str="started"', f'state_str="{state}"'), tmp_path)


def test_no_answer_an_inquorate_one_or_no_rgmanager_is_not_settled(tmp_path: Path) -> None:
    assert not settled("", tmp_path)
    assert not settled(SETTLED_XML.replace('quorate="1"', 'quorate="0"'), tmp_path)
    assert not settled(LIVE.joinpath("probe-clustat-x-no-rgmanager.xml").read_text(), tmp_path)
