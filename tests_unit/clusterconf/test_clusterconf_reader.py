"""Reading cluster.conf into the model: typed fields, lines, lenient values, strict XML."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from halab.clusterconf import (
    Attrs,
    ClusterConf,
    load_cluster_conf,
    parse_cluster_conf,
    to_dict,
    to_xml,
)
from halab.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "labs" / "seed" / "cluster.conf"


@pytest.fixture(scope="module")
def seed() -> ClusterConf:
    return load_cluster_conf(SEED)


def test_seed_cluster_cman_totem_quorumd(seed: ClusterConf) -> None:
    assert (seed.name, seed.config_version, seed.path) == ("cluster01", 2, SEED)
    assert seed.cman is not None
    assert seed.cman.expected_votes == 3
    assert seed.cman.two_node is None
    assert seed.totem is not None
    assert seed.totem.token == 20000
    assert seed.totem.consensus is None
    q = seed.quorumd
    assert q is not None
    assert (q.interval, q.tko, q.votes, q.label, q.master_wins) == (1, 10, 1, "qdisk01", True)
    assert q.heuristics == ()
    assert seed.fence_daemon is None


def test_seed_nodes_and_fencing(seed: ClusterConf) -> None:
    assert [(n.name, n.nodeid, n.votes) for n in seed.nodes] == [("node01h", 1, 1), ("node02h", 2, 1)]
    refs = [(m.name, r.name, r.port) for n in seed.nodes for m in n.methods for r in m.devices]
    assert refs == [("virsh_reboot", "kvmhost01", "RHCSvm01"), ("virsh_reboot", "kvmhost01", "RHCSvm02")]
    dev = seed.fence_device("kvmhost01")
    assert dev is not None
    assert dev.agent == "fence_virsh"
    assert (dev.ipaddr, dev.login, dev.credentials) == ("192.168.8.1", "root", ("identity_file",))
    assert dev.extra["option"] == "reboot"
    assert seed.node("node02h") is seed.nodes[1]


def test_seed_rm(seed: ClusterConf) -> None:
    (dom,) = seed.domains
    assert (dom.name, dom.ordered, dom.restricted, dom.nofailback) == ("dom01", True, True, None)
    assert [(m.name, m.priority) for m in dom.members] == [("node01h", 1), ("node02h", 2)]
    assert dom.member_names() == ("node01h", "node02h")
    (svc,) = seed.services
    assert (svc.name, svc.autostart, svc.domain, svc.recovery) == ("service01", False, "dom01", None)
    assert [r.locator for r in svc.walk()] == ["ip[192.168.7.99]", "fs[data_fs]", "script[myappl]"]
    assert svc.children[0].attrs["monitor_link"] == "on"


def test_every_element_has_its_source_line(seed: ClusterConf) -> None:
    lines = {e.locator: e.line for e in seed.walk()}
    assert lines["cluster"] == 5
    assert lines["cman"] == 6
    assert lines["clusternode[node01h]"] == 9
    assert lines["totem"] == 26
    assert lines["quorumd"] == 27
    assert lines["fencedevice[kvmhost01]"] == 30
    assert all(isinstance(e.line, int) for e in seed.walk())


def test_start_order_follows_rgmanager_levels(seed: ClusterConf) -> None:
    """service.sh starts fs (level 2) before ip (level 7); a child starts right after its parent."""
    assert [r.locator for r in seed.services[0].start_order()] == [
        "fs[data_fs]", "script[myappl]", "ip[192.168.7.99]"]


def test_start_order_untyped_children_come_last() -> None:
    conf = parse_cluster_conf("""<cluster name="c" config_version="1"><rm><service name="s">
        <script name="app"/><apache name="web"/><ip address="10.0.0.1"/>
        <fs name="f" mountpoint="/m" device="/dev/x"><script name="inner"/><nfsexport name="e"/></fs>
        <lvm name="vg"/></service></rm></cluster>""")
    order = [r.locator for r in conf.services[0].start_order()]
    assert order == ["lvm[vg]", "fs[f]", "nfsexport[e]", "script[inner]", "ip[10.0.0.1]", "script[app]",
                     "apache[web]"]


def test_refs_resolve_to_resources_definitions() -> None:
    conf = parse_cluster_conf("""<cluster name="c" config_version="1"><rm>
        <resources><ip address="10.0.0.9" monitor_link="yes"/><group name="g" domain="d1"/></resources>
        <service ref="g"><ip ref="10.0.0.9" sleeptime="3"/></service></rm></cluster>""")
    rm = conf.rm
    assert rm is not None
    svc = rm.services[0]
    assert svc.ident == "g"
    assert svc.name is None
    ip = svc.children[0]
    assert ip.key == "10.0.0.9"
    assert rm.definition("ip", "10.0.0.9") is rm.resources[0]
    assert dict(rm.effective_attrs(ip)) == {"address": "10.0.0.9", "monitor_link": "yes", "sleeptime": "3"}
    assert rm.service_domain(svc) is None  # <service ref> resolves against <service> definitions only


def test_bad_values_are_kept_and_reported_not_raised() -> None:
    conf = parse_cluster_conf('<cluster name="c" config_version="x"><totem token="20s"/>'
                              '<clusternodes><clusternode name="n" nodeid="1" votes="one"/></clusternodes>'
                              '<rm><failoverdomains><failoverdomain name="d" ordered="maybe"/>'
                              '</failoverdomains>'
                              '</rm></cluster>')
    assert conf.totem is not None
    assert conf.totem.token is None
    assert conf.totem.attrs["token"] == "20s"
    got = {(p.locator, p.attr, p.value) for p in conf.problems}
    assert got == {("cluster[c]", "config_version", "x"), ("totem", "token", "20s"),
                   ("clusternode[n]", "votes", "one"), ("failoverdomain[d]", "ordered", "maybe")}
    assert conf.effective_token_ms == 10000
    assert conf.nodes[0].effective_votes == 1


@pytest.mark.parametrize(("word", "value"), [("1", True), ("yes", True), ("on", True), ("true", True),
                                        ("0", False), ("no", False), ("off", False), ("false", False)])
def test_boolean_spellings(word: str, value: bool) -> None:
    conf = parse_cluster_conf(f'<cluster name="c" config_version="1"><cman two_node="{word}"/></cluster>')
    assert conf.cman is not None
    assert conf.cman.two_node is value
    assert not conf.problems


@pytest.mark.parametrize(("text", "needle"), [
    (b"", "not XML"),
    (b"<cluster><cman></cluster>", "not XML"),
    (b"name = 'toml'", "not XML"),
    (b"<?xml version='1.0'?>\n<clusterconf/>", "root element is <clusterconf>"),
])
def test_unusable_text_is_one_config_error_with_line(text: bytes, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_cluster_conf(text, Path("x/cluster.conf"))
    message = str(info.value)
    assert needle in message
    assert message.startswith("x/cluster.conf:")
    assert "\n" not in message


def test_missing_file_and_directory_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_cluster_conf(tmp_path / "absent.conf")
    with pytest.raises(ConfigError, match="directory"):
        load_cluster_conf(tmp_path)


def test_model_is_immutable(seed: ClusterConf) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        seed.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        seed.attrs["name"] = "other"  # type: ignore[index]
    assert isinstance(seed.nodes, tuple)
    assert hash(seed.attrs) == hash(Attrs(seed.attrs))


def test_equality_ignores_lines_and_layout() -> None:
    a = parse_cluster_conf('<cluster name="c" config_version="1"><totem token="5000"/></cluster>')
    b = parse_cluster_conf('<cluster name="c" config_version="1">\n\n  <totem token="5000"/>\n</cluster>')
    assert a == b
    assert a.totem is not None
    assert b.totem is not None
    assert a.totem.line != b.totem.line


SECRET_CONF = """<cluster name="c" config_version="1"><clusternodes><clusternode name="n1" nodeid="1">
  <fence><method name="m"><device name="ipmi" passwd="n0de-s3cret"/></method></fence></clusternode>
  </clusternodes><fencedevices><fencedevice name="ipmi" agent="fence_ipmilan" ipaddr="10.0.0.1"
  login="admin" passwd="t0p-s3cret"/></fencedevices></cluster>"""


def test_secrets_are_redacted_everywhere_but_the_written_file() -> None:
    conf = parse_cluster_conf(SECRET_CONF)
    shown = [repr(conf), str(conf), repr(conf.fence_devices[0]), str(conf.fence_devices[0].attrs),
             repr(conf.nodes[0]), json.dumps(to_dict(conf))]
    for text in shown:
        assert "s3cret" not in text
    assert "***" in repr(conf.fence_devices[0])
    assert "***" in json.dumps(to_dict(conf))
    assert conf.fence_devices[0].attrs["passwd"] == "t0p-s3cret"  # kept for the agent
    assert 'passwd="t0p-s3cret"' in to_xml(conf)
    assert 'passwd="n0de-s3cret"' in to_xml(conf)
    assert conf.fence_devices[0].credentials == ("passwd",)


def test_to_dict_has_typed_fields_extras_and_derived(seed: ClusterConf) -> None:
    data = to_dict(seed)
    assert data["totem"]["token"] == 20000
    assert data["quorumd"]["line"] == 27
    assert data["fence_devices"][0]["extra"]["option"] == "reboot"
    assert data["derived"]["qdisk"]["min_token_ms"] == 18000
    json.dumps(data)
