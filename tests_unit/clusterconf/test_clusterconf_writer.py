"""Writing the model back: exact when unchanged, minimal when changed, nothing unmodeled lost."""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path

import pytest
from lxml import etree

from halab.clusterconf import (
    ClusterConf,
    ClusterNode,
    DeviceRef,
    FenceMethod,
    Totem,
    load_cluster_conf,
    parse_cluster_conf,
    to_xml,
    write_cluster_conf,
)

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "labs" / "seed" / "cluster.conf"
DATA = REPO / "tests_unit" / "data" / "clusterconf"

RICH = """<?xml version="1.0"?>
<!-- header comment -->
<cluster name="rich" config_version="7" alias="old">
  <logging debug="on"><logging_daemon name="qdiskd" debug="on"/></logging>
  <dlm protocol="sctp"/>
  <cman expected_votes="3" port="5405" cluster_id="42"><multicast addr="239.192.1.1"/></cman>
  <totem token="21000" rrp_mode="passive"><interface ringnumber="0"/></totem>
  <quorumd interval="2" tko="8" votes="1" label="q" scheduler="rr">
    <heuristic program="ping -c1 10.0.0.254" score="1" interval="2" tko="3"/>
  </quorumd>
  <clusternodes>
    <clusternode name="a" nodeid="1"><altname name="a-alt"/>
      <fence><method name="1"><device name="ipmi" ipaddr="10.0.0.11" lanplus="1"/></method></fence>
      <unfence><device name="scsi" action="on"/></unfence>
    </clusternode>
    <clusternode name="b" nodeid="2">
      <fence><method name="1"><device name="ipmi" ipaddr="10.0.0.12"/></method></fence>
    </clusternode>
  </clusternodes>
  <fencedevices>
    <fencedevice name="ipmi" agent="fence_ipmilan" login="admin" passwd_script="/usr/local/bin/pw"/>
    <fencedevice name="scsi" agent="fence_scsi"/>
  </fencedevices>
  <rm log_level="7" central_processing="1">
    <events><event name="ev" class="node">script</event></events>
    <failoverdomains>
      <failoverdomain name="d" ordered="on" restricted="yes"><failoverdomainnode name="a" priority="1"/>
        <!-- b second --><failoverdomainnode name="b" priority="2"/></failoverdomain>
    </failoverdomains>
    <resources><ip address="10.0.1.5/24" monitor_link="yes"/></resources>
    <service name="s" domain="d" recovery="relocate" __independent_subtree="1">
      <ip ref="10.0.1.5/24"/>
      <!-- app after the address -->
      <script name="app" file="/etc/init.d/app"/>
    </service>
    <vm name="guest" domain="d" migrate="live"/>
  </rm>
  <fence_xvmd/>
</cluster>
"""


def _c14n(text: str) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True, remove_comments=False)
    return etree.tostring(etree.fromstring(text.encode(), parser), method="c14n")


def test_seed_round_trips_byte_for_byte() -> None:
    assert to_xml(load_cluster_conf(SEED)) == SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(DATA.glob("*.conf")), ids=lambda p: p.stem)
def test_broken_variants_round_trip_byte_for_byte(path: Path) -> None:
    assert to_xml(load_cluster_conf(path)) == path.read_text(encoding="utf-8")


def test_unmodeled_content_survives_a_round_trip() -> None:
    assert to_xml(parse_cluster_conf(RICH)) == RICH


def test_unmodeled_content_survives_a_change() -> None:
    conf = parse_cluster_conf(RICH)
    assert conf.totem is not None
    changed = dataclasses.replace(conf, totem=dataclasses.replace(conf.totem, token=33000))
    text = to_xml(changed)
    diff = [d for d in difflib.unified_diff(RICH.splitlines(), text.splitlines(), lineterm="", n=0)
            if d.startswith(("+", "-")) and not d.startswith(("+++", "---"))]
    assert diff == ['-  <totem token="21000" rrp_mode="passive"><interface ringnumber="0"/></totem>',
                    '+  <totem token="33000" rrp_mode="passive"><interface ringnumber="0"/></totem>']
    for kept in ("<logging_daemon", "<dlm", "<multicast", "<altname", "<unfence", "<events>", "<fence_xvmd/>",
                 "<!-- b second -->", "__independent_subtree", 'migrate="live"', "passwd_script"):
        assert kept in text


def test_unchanged_spellings_are_kept_changed_ones_normalised() -> None:
    conf = parse_cluster_conf(RICH)
    dom = conf.domains[0]
    rm = conf.rm
    assert rm is not None
    flipped = dataclasses.replace(rm, domains=(dataclasses.replace(dom, restricted=False),))
    text = to_xml(dataclasses.replace(conf, rm=flipped))
    assert 'ordered="on" restricted="0"' in text
    assert 'monitor_link="yes"' in text


def test_removing_and_adding_elements() -> None:
    seed = load_cluster_conf(SEED)
    node03 = ClusterNode(name="node03h", nodeid=3, votes=1, methods=(
        FenceMethod(name="virsh_reboot", devices=(DeviceRef(name="kvmhost01", port="RHCSvm03"),)),))
    changed = dataclasses.replace(seed, quorumd=None, nodes=(*seed.nodes, node03))
    text = to_xml(changed)
    again = parse_cluster_conf(text)
    assert again.quorumd is None
    assert "<quorumd" not in text
    assert [n.name for n in again.nodes] == ["node01h", "node02h", "node03h"]
    assert again.nodes[2].methods[0].devices[0].port == "RHCSvm03"
    assert again.rm == seed.rm
    assert again.totem == seed.totem
    assert to_xml(again) == text  # idempotent


def test_adding_an_absent_section() -> None:
    conf = parse_cluster_conf('<cluster name="c" config_version="1">\n  <cman/>\n</cluster>\n')
    text = to_xml(dataclasses.replace(conf, totem=Totem(token=15000, consensus=3000)))
    back = parse_cluster_conf(text).totem
    assert back is not None
    assert (back.token, back.consensus) == (15000, 3000)
    assert text == ('<cluster name="c" config_version="1">\n  <cman/>\n'
                    '  <totem token="15000" consensus="3000"/>\n</cluster>\n')



def test_model_built_in_code_writes_a_readable_file(tmp_path: Path) -> None:
    conf = ClusterConf(name="fresh", config_version=1, totem=Totem(token=20000),
                       nodes=(ClusterNode(name="a", nodeid=1), ClusterNode(name="b", nodeid=2)))
    out = tmp_path / "cluster.conf"
    write_cluster_conf(conf, out)
    back = load_cluster_conf(out)
    assert (back.name, back.config_version, back.effective_token_ms) == ("fresh", 1, 20000)
    assert [n.nodeid for n in back.nodes] == [1, 2]
    assert out.read_text().startswith('<?xml version="1.0"?>')


def test_setting_a_field_to_none_removes_its_attribute() -> None:
    seed = load_cluster_conf(SEED)
    assert seed.cman is not None
    text = to_xml(dataclasses.replace(seed, cman=dataclasses.replace(seed.cman, expected_votes=None)))
    assert "<cman/>" in text


def test_round_trip_is_semantically_stable() -> None:
    conf = parse_cluster_conf(RICH)
    assert _c14n(to_xml(parse_cluster_conf(to_xml(conf)))) == _c14n(RICH)
