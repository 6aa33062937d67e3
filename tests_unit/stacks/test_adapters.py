"""One interface, two adapters chosen by name: commands as data, readers behind the same calls."""

from __future__ import annotations

import dataclasses

import pytest

from halab.errors import ConfigError, HalabError
from halab.stacks import ADAPTERS, Commands, StackAdapter, get_adapter
from halab.stacks.types import ClusterStatus, Votes

TEMPLATES = ("enable_service", "relocate_service", "disable_service")


@pytest.mark.parametrize("name", ["pacemaker", "rgmanager"])
def test_registry_gives_an_adapter_with_its_name(name: str) -> None:
    adapter: StackAdapter = get_adapter(name)
    assert adapter.name == name
    assert isinstance(adapter.commands, Commands)
    assert get_adapter(name) is adapter


def test_unknown_stack_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown stack 'heartbeat'") as err:
        get_adapter("heartbeat")
    assert isinstance(err.value, HalabError)
    assert set(ADAPTERS) == {"pacemaker", "rgmanager"}


@pytest.mark.parametrize("name", ["pacemaker", "rgmanager"])
def test_service_commands_take_service_and_node(name: str) -> None:
    cmds = get_adapter(name).commands
    for field in TEMPLATES:
        text = getattr(cmds, field).format(service="service01", node="node02")
        assert "service01" in text
        assert "{" not in text
    assert "node02" in cmds.relocate_service.format(service="service01", node="node02")
    assert "{since}" in cmds.logs_since or name == "rgmanager"
    assert cmds.logs_since.format(since="2026-11-26 11:00:00")
    assert cmds.start_together is True


def test_commands_are_immutable_data() -> None:
    cmds = get_adapter("pacemaker").commands
    with pytest.raises(dataclasses.FrozenInstanceError):
        cmds.status = "rm -rf /"  # type: ignore[misc]


def test_the_commands_the_lead_codes_against() -> None:
    pcmk, rgm = get_adapter("pacemaker").commands, get_adapter("rgmanager").commands
    assert (pcmk.status, rgm.status) == ("crm_mon --output-as=xml --fence-history=0", "clustat -x")
    assert (pcmk.status_text, rgm.status_text) == ("crm_mon -1", "clustat")
    assert (pcmk.votes, rgm.votes) == ("corosync-quorumtool -s", "cman_tool status")
    assert rgm.start_local == "service cman start && service rgmanager start && sync"
    assert rgm.enable_service.format(service="s", node="n") == "clusvcadm -e s -m n"
    assert rgm.relocate_service.format(service="s", node="n") == "clusvcadm -r s -m n"
    assert rgm.fence_history == "cat /var/log/cluster/fenced.log"
    assert pcmk.fence_history.startswith("stonith_admin --history")


CLUSTAT_X = """<?xml version="1.0"?>
<clustat version="4.1.1">
  <cluster name="c" id="1" generation="2"/>
  <quorum quorate="1" groupmember="1"/>
  <nodes>
    <node name="a" state="1" local="1" estranged="0" rgmanager="1" rgmanager_master="0" qdisk="0"
          nodeid="0x1"/>
  </nodes>
  <groups/>
</clustat>
"""
CLUSTAT = """Cluster Status for c @ now
Member Status: Quorate

 Member Name   ID   Status
 ------ ----   ---- ------
 a                1 Online, Local, rgmanager
"""


def test_rgmanager_status_reads_xml_or_text_alike() -> None:
    adapter = get_adapter("rgmanager")
    xml, text = adapter.read_status(CLUSTAT_X), adapter.read_status(CLUSTAT)
    assert isinstance(xml, ClusterStatus)
    assert (xml.quorate, xml.online(), xml.local_node) == (text.quorate, text.online(), text.local_node)


def test_pacemaker_votes_and_rgmanager_votes_share_a_type() -> None:
    rgm = get_adapter("rgmanager").read_votes("Expected votes: 3\nTotal votes: 2\nQuorum: 2  \n")
    pcmk = get_adapter("pacemaker").read_votes("Quorate: Yes\nExpected votes: 2\nTotal votes: 2\nQuorum: 1\n")
    assert isinstance(rgm, Votes)
    assert isinstance(pcmk, Votes)
    assert (rgm.quorate, rgm.quorum, pcmk.quorate, pcmk.quorum) == (True, 2, True, 1)
