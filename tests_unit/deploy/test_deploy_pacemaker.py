"""A pacemaker design (CIB + corosync.conf) mapped onto the lab, checked without a cluster.

The seed's own files map onto the seed lab unchanged but for the fence path; a user's design with
other node names, another fence agent (with a password), an address outside the lab and a device
the lab does not have is mapped as the module says, each change in one line, no secret printed.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from halab.cib.lab import LabDesign, lab_design
from halab.deploy.pacemaker import SCOPES, data_devices, sections
from halab.errors import ConfigError
from halab.oracle.pacemaker import PcmkDesign
from halab.spec import LABS_DIR, LabSpec, load_spec

THREE = Path(__file__).resolve().parents[1] / "data" / "oracle" / "three" / "lab.toml"
DATA_DEVICE = "/dev/disk/by-path/ip-192.168.8.1:3260-iscsi-iqn.2011-08.com.example.yourhost:tgt01-lun-2"
STAND_IN = 'stand_ins = { "ocf:acme:db" = "ocf:heartbeat:Dummy" }\n'

USER_CIB = """<cib validate-with="pacemaker-3.9" crm_feature_set="3.16.2" epoch="9" num_updates="0" admin_epoch="0">
<configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="true"/><nvpair id="o2" name="priority-fencing-delay" value="10s"/>
</cluster_property_set></crm_config>
<nodes><node id="101" uname="pcmk-a"/><node id="102" uname="pcmk-b"/></nodes>
<resources>
<primitive id="ipmi" class="stonith" type="fence_ipmilan"><instance_attributes id="ipmi-i">
<nvpair id="i1" name="ip" value="10.9.9.9"/><nvpair id="i2" name="username" value="admin"/>
<nvpair id="i3" name="password" value="TopSecret42"/><nvpair id="i4" name="pcmk_host_map" value="pcmk-a:1;pcmk-b:2"/>
<nvpair id="i5" name="pcmk_delay_max" value="5s"/></instance_attributes></primitive>
<group id="db"><primitive id="db-ip" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="a">
<nvpair id="a1" name="ip" value="10.0.0.50"/><nvpair id="a2" name="nic" value="bond0"/></instance_attributes>
</primitive>
<primitive id="db-fs" class="ocf" provider="heartbeat" type="Filesystem"><instance_attributes id="b">
<nvpair id="b1" name="device" value="/dev/mapper/dbvg-data"/><nvpair id="b2" name="directory" value="/srv/db"/>
<nvpair id="b3" name="fstype" value="xfs"/></instance_attributes></primitive>
<primitive id="db-app" class="ocf" provider="acme" type="db"><instance_attributes id="c">
<nvpair id="c1" name="config" value="/etc/db.conf"/></instance_attributes></primitive></group>
</resources>
<constraints><rsc_location id="l" rsc="db" node="pcmk-b" score="50"/></constraints>
<fencing-topology><fencing-level id="fl" index="1" target="pcmk-a" devices="ipmi"/></fencing-topology>
</configuration><status/></cib>
"""
USER_COROSYNC = """totem {
    version: 2
    cluster_name: prod
    token: 3000
    interface {
        linknumber: 0
    }
}
nodelist {
    node {
        ring0_addr: 10.1.1.1
        name: pcmk-a
        nodeid: 1
    }
    node {
        ring0_addr: 10.1.1.2
        name: pcmk-b
        nodeid: 2
    }
}
quorum {
    provider: corosync_votequorum
    two_node: 1
}
"""


@pytest.fixture(scope="module")
def seed() -> LabSpec:
    return load_spec("seed")


@pytest.fixture(scope="module")
def design(seed: LabSpec) -> LabDesign:
    return lab_design(seed)


NODE_MAP = 'node_map = { "pcmk-a" = "node01", "pcmk-b" = "node02" }\n'
SWAPPED = 'node_map = { "pcmk-a" = "node02", "pcmk-b" = "node01" }\n'


def user_spec(tmp_path: Path, cib: str = USER_CIB, coro: str = USER_COROSYNC, extra: str = STAND_IN,
              node_map: str = NODE_MAP) -> LabSpec:
    text = (LABS_DIR / "seed" / "lab.toml").read_text()
    text = text.replace('cib = "cib.xml"', f'cib = "{tmp_path / "cib.xml"}"').replace(
        'corosync = "corosync.conf"', f'corosync = "{tmp_path / "corosync.conf"}"\n' + node_map + extra)
    (tmp_path / "cib.xml").write_text(cib)
    (tmp_path / "corosync.conf").write_text(coro)
    (tmp_path / "lab.toml").write_text(text)
    return load_spec(tmp_path / "lab.toml")


def prim(d: LabDesign, rid: str) -> etree._Element:
    found = etree.fromstring(d.cib_xml).find(f".//primitive[@id='{rid}']")
    assert found is not None
    return found


def params(el: etree._Element) -> dict[str, str]:
    return {str(nv.get("name")): str(nv.get("value")) for nv in el.findall("instance_attributes/nvpair")}


# --- the seed ----------------------------------------------------------------------------------


def test_the_seed_maps_onto_its_lab_as_written(design: LabDesign) -> None:
    assert (design.service, design.preferred_node, design.allowed_nodes) == ("service01", "node01",
                                                                             ("node01", "node02"))
    assert (design.service_ip, design.app, design.data_device, design.fstype) == (
        "192.168.7.99", "myappl", DATA_DEVICE, "ext4")
    assert (design.fs_monitor_interval_s, design.fs_monitor_timeout_s, design.token_ms) == (10.0, 40.0, 20000)
    assert not [line for line in design.mapping if line.startswith(("node ", "service01"))]


def test_the_seed_fence_devices_keep_their_delay(design: LabDesign) -> None:
    one, two = params(prim(design, "fence_node01")), params(prim(design, "fence_node02"))
    assert one["pcmk_delay_base"] == "8s"
    assert "pcmk_delay_base" not in two
    assert (one["plug"], two["plug"], one["ip"], one["identity_file"]) == (
        "RHCSvm01", "RHCSvm02", "192.168.8.1", "/root/.ssh/halab_fence")


def test_sections_load_in_order_with_unique_ids(design: LabDesign) -> None:
    scopes = [scope for scope, _ in sections(design)]
    assert scopes == [s for s in SCOPES if s in scopes]
    assert scopes.index("resources") < scopes.index("constraints")
    ids = [el.get("id") for el in etree.fromstring(design.cib_xml).iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert data_devices(design) == ((DATA_DEVICE, "ext4"),)


def test_corosync_conf_is_the_design_on_the_heartbeat_network(seed: LabSpec, design: LabDesign) -> None:
    conf = design.corosync_conf
    assert "ring0_addr: 192.168.9.201" in conf
    assert "two_node: 1" in conf
    assert "token: 20000" in conf
    fast = lab_design(seed.with_timing("fast"))
    assert "token: 5000" in fast.corosync_conf
    assert any("20000 ms -> 5000 ms" in line for line in fast.mapping)


def test_three_nodes_have_no_two_node() -> None:
    d = lab_design(load_spec(THREE))
    assert "two_node" not in d.corosync_conf
    assert d.allowed_nodes == ("node01", "node02", "node03")


def test_deploy_and_oracle_read_the_same_design(seed: LabSpec, design: LabDesign) -> None:
    pd = PcmkDesign.from_spec(seed)
    assert (pd.service, pd.preferred, pd.allowed) == (design.service, design.preferred_node, design.allowed_nodes)
    assert (pd.fs_monitor_interval_s, pd.fs_monitor_timeout_s) == (design.fs_monitor_interval_s,
                                                                   design.fs_monitor_timeout_s)
    # the values that had drifted: the CIB's own start timeout (60 s) and location score (100)
    assert (pd.fs_start_timeout_s, pd.fs_stop_timeout_s, pd.preferred_score, pd.stickiness) == (60.0, 60.0, 100, 0)
    assert pd.fence_delay == {"node01": 8.0, "node02": 0.0}


# --- a user's design ---------------------------------------------------------------------------


def test_a_users_design_is_mapped_line_by_line(tmp_path: Path) -> None:
    d = lab_design(user_spec(tmp_path))
    text = "\n".join(d.mapping)
    assert "node pcmk-a -> lab node node01" in text
    assert "fence_ipmilan -> fence_virsh" in text
    assert "10.0.0.50 -> 192.168.7.50" in text
    assert "/dev/mapper/dbvg-data -> lab LUN 2" in text
    assert "stand-in ocf:heartbeat:Dummy" in text
    fence = params(prim(d, "ipmi"))
    assert fence["pcmk_host_map"] == "node01:RHCSvm01;node02:RHCSvm02"
    assert fence["pcmk_delay_max"] == "5s"
    assert "password" not in fence
    assert params(prim(d, "db-ip"))["nic"] == "svc"
    assert d.preferred_node == "node02"  # the design's own location preference, placed by pacemaker
    lv = etree.fromstring(d.cib_xml).find(".//fencing-level")
    assert lv is not None
    assert lv.get("target") == "node01"
    assert "10.1.1.1" not in d.corosync_conf
    assert "ring0_addr: 192.168.9.201" in d.corosync_conf


def test_no_secret_in_the_mapping_or_the_deployed_files(tmp_path: Path) -> None:
    d = lab_design(user_spec(tmp_path))
    for text in (*d.mapping, d.cib_xml.decode(), d.corosync_conf):
        assert "TopSecret42" not in text


def test_an_agent_the_image_lacks_is_one_line_without_a_stand_in(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"the lab image has no ocf:acme:db; allow a stand-in") as err:
        lab_design(user_spec(tmp_path, extra=""))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("old", "new", "says"), [
    ("    interface {\n        linknumber: 0\n    }\n",
     "    interface {\n        linknumber: 0\n    }\n    interface {\n        linknumber: 1\n    }\n",
     "2 knet links, the spec maps 1"),
    ("    two_node: 1\n", "    two_node: 1\n    device {\n        model: net\n        net {\n            host: q\n"
     "        }\n    }\n", r"two_node: 1 with a quorum device: .*pcmk.qdevice"),
    ("name: pcmk-b", "name: pcmk-c", "node names differ"),
])
def test_corosync_designs_the_lab_cannot_take(tmp_path: Path, old: str, new: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        lab_design(user_spec(tmp_path, coro=USER_COROSYNC.replace(old, new)))


def test_more_devices_than_lab_luns_is_one_line(tmp_path: Path) -> None:
    cib = USER_CIB.replace('<primitive id="db-app" class="ocf" provider="acme" type="db">',
                           '<primitive id="db-fs2" class="ocf" provider="heartbeat" type="Filesystem">'
                           '<instance_attributes id="b9"><nvpair id="b91" name="device" value="/dev/sdz"/>'
                           '</instance_attributes></primitive>'
                           '<primitive id="db-app" class="ocf" provider="acme" type="db">')
    with pytest.raises(ConfigError, match="Filesystem device /dev/sdz has no lab data LUN"):
        lab_design(user_spec(tmp_path, cib=cib))


def test_dry_run_prints_files_mapping_and_sections_without_secrets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from halab.cli import main

    spec = user_spec(tmp_path)
    assert main(["deploy", "--dry-run", "--stack", "pacemaker", "--lab", str(spec.path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# halab deploy plan: stack pacemaker")
    assert "cib.xml sha256:" in out
    assert "- node pcmk-b -> lab node node02" in out
    assert "cibadmin --replace --scope fencing-topology" in out
    assert "cibadmin --create --scope configuration --xml-file /root/halab-fencing-topology.xml" in out
    assert "TopSecret42" not in out
    assert "10.9.9.9" not in out


def test_the_second_lab_maps_a_three_node_design_with_two_groups() -> None:
    """labs/web3: user node names, IPMI fencing with a topology and a delay, db + web groups with an
    order and a colocation, a clone, a stand-in for pgsql; clean under the pacemaker rules."""
    from halab.checks.pacemaker import run_pcmk_checks

    d = lab_design(load_spec("web3"))
    assert [r.id for r in d.design.services()] == ["db", "web"]
    assert d.preferred_node == "node02"  # db prefers web-b; web follows db
    assert d.baseline["web-app"] == ("node02",)
    assert d.baseline["health"] == ("node01", "node02", "node03")
    assert params(prim(d, "ipmi-a"))["pcmk_delay_base"] == "5s"
    assert [lv.target for lv in d.design.cib.fence_levels] == ["node01", "node02", "node03"]
    assert "not-a-real-password" not in d.cib_xml.decode()
    assert run_pcmk_checks(d.user) == []


def test_the_restart_chain_is_every_group_that_moves_with_the_service() -> None:
    """Measured live on web3: the restore's way home moved db, and web (colocated with db, ordered
    after it) stopped and started too; a budget for one group ran out. The clone stays put."""
    from halab.cib.model import Colocation, Order

    web3 = lab_design(load_spec("web3"))
    assert web3.restart_chain == ("db", "web")
    assert lab_design(load_spec("seed")).restart_chain == ("service01",)
    cib = web3.design.cib
    unordered = replace(web3, design=replace(web3.design, cib=replace(cib, colocations=(), orders=())))
    assert unordered.restart_chain == ("db",)
    only_order = replace(web3, design=replace(web3.design, cib=replace(
        cib, colocations=(), orders=(Order("o", "db", "web"),))))
    assert only_order.restart_chain == ("db", "web")
    optional = replace(web3, design=replace(web3.design, cib=replace(
        cib, colocations=(), orders=(Order("o", "db", "web", kind="Optional"),))))
    assert optional.restart_chain == ("db",)
    reverse = replace(web3, design=replace(web3.design, cib=replace(
        cib, colocations=(Colocation("c", "db", "web", 100),), orders=())))
    assert reverse.restart_chain == ("db",)  # db follows web: moving db does not move web


def test_a_design_with_corosync_crypto_gets_one_fresh_authkey_that_no_command_shows() -> None:
    """Measured live: web3's corosync.conf (crypto_cipher aes256, crypto_hash sha256) ended the
    deploy with `systemctl start corosync` failing: corosync 3 will not start without the key."""
    from types import SimpleNamespace

    from halab.deploy.pacemaker import AUTHKEY, needs_authkey, put_authkey

    assert needs_authkey(lab_design(load_spec("web3")).corosync_conf)
    assert not needs_authkey(lab_design(load_spec("seed")).corosync_conf)

    class Node:
        def __init__(self) -> None:
            self.files: dict[str, tuple[str, int]] = {}
            self.commands: list[str] = []

        def put_text(self, text: str, path: str, mode: int = 0o644, timeout: float = 30.0) -> None:
            self.files[path] = (text, mode)

        def run(self, cmd: str, **_kw: object) -> None:
            self.commands.append(cmd)

    nodes = {n: Node() for n in ("node01", "node02", "node03")}
    put_authkey(SimpleNamespace(remote=nodes.__getitem__), list(nodes))  # type: ignore[arg-type]
    keys = {node.files[f"{AUTHKEY}.b64"] for node in nodes.values()}
    assert len(keys) == 1, "one key for the whole lab"
    (key, mode), = keys
    assert mode == 0o400
    assert len(base64.b64decode(key)) == 256
    for node in nodes.values():
        assert all(key.strip() not in c for c in node.commands)
        assert any(f"base64 -d {AUTHKEY}.b64 > {AUTHKEY}.new" in c for c in node.commands)


def test_a_stack_that_does_not_stop_gets_its_node_reset(monkeypatch: pytest.MonkeyPatch, seed: LabSpec) -> None:
    """Measured live: after a split brain (the stonith-disabled mutant) `systemctl stop pacemaker`
    on the old owner did not end in 120 s and the revert's deploy failed with the mutant still in
    the CIB. The deploy afresh resets such a node, logs it in to the target again, wipes its CIB."""
    from types import SimpleNamespace

    from halab.deploy import pacemaker as deploy_mod
    from halab.deploy import stop as stop_mod
    from halab.lab.remote import Unreachable

    calls: list[str] = []

    class Hung:
        def run(self, cmd: str, timeout: float = 30.0, check: bool = False) -> object:
            calls.append(f"run {cmd}")
            if cmd.startswith("systemctl stop"):
                raise Unreachable("command timed out after 120 s", "node01")
            return SimpleNamespace(ok=True)

        def wait_ssh(self, within_s: float) -> float:
            calls.append("wait_ssh")
            return 1.0

    lab = SimpleNamespace(spec=seed, remote=lambda _n: Hung())
    monkeypatch.setattr(stop_mod.domains, "act", lambda dom, action: calls.append(f"{action} {dom}"))
    monkeypatch.setattr(stop_mod, "iscsi_login", lambda _lab, node, **_kw: calls.append(f"login {node.name}"))
    said: list[str] = []
    stop_mod.stopped_or_reset(lab, "node01", "systemctl stop pacemaker corosync", deploy_mod.STOP_S,  # type: ignore[arg-type]
                              said.append, then=deploy_mod.WIPE_CIB)
    assert calls[1:] == ["reset RHCSvm01", "wait_ssh", "login node01", f"run {deploy_mod.WIPE_CIB}"]
    assert said == ["deploy: node01: the stack did not stop (node01: command timed out after 120 s); "
                    "resetting the node"]


# --- a quorum device -----------------------------------------------------------------------------


def device_conf(net: str = "", device: str = "") -> str:
    """The user's two-node design with a quorum device instead of two_node."""
    block = (f"    device {{\n        model: net\n{device}        net {{\n            host: qnetd.example.com\n"
             f"            algorithm: ffsplit\n{net}        }}\n    }}\n")
    return USER_COROSYNC.replace("    two_node: 1\n", block)


def quorum_section(conf: str) -> str:
    return conf[conf.index("quorum {"):conf.index("logging {")]


def test_a_quorum_device_is_mapped_onto_the_labs_qnetd(tmp_path: Path) -> None:
    """net.host and TLS are the lab's; votes, timeouts, the algorithm and connect_timeout as written."""
    conf = device_conf(net="            tls: required\n            connect_timeout: 7000\n            port: 5999\n",
                       device="        votes: 1\n        timeout: 12000\n        sync_timeout: 41000\n")
    d = lab_design(user_spec(tmp_path, coro=conf))
    assert quorum_section(d.corosync_conf) == (
        "quorum {\n    provider: corosync_votequorum\n    device {\n        model: net\n        votes: 1\n"
        "        timeout: 12000\n        sync_timeout: 41000\n        net {\n            host: 192.168.8.1\n"
        "            port: 5403\n            algorithm: ffsplit\n            tie_breaker: lowest\n"
        "            tls: off\n            connect_timeout: 7000\n        }\n    }\n}\n\n")
    assert "quorum device: qnetd at qnetd.example.com:5999 -> the lab's qnetd at 192.168.8.1:5403 " \
           "(network management)" in d.mapping
    assert "qnetd tls required -> off (the lab's qnetd runs without certificates; TLS changes no vote and " \
           "no timer)" in d.mapping
    dev = d.design.corosync.device if d.design.corosync else None
    assert dev is not None
    assert (dev.host, dev.port, dev.tls, dev.votes, dev.timeout_ms, dev.sync_timeout_ms) == (
        "192.168.8.1", 5403, "off", 1, 12000, 41000)


def test_unset_device_values_stay_unset_and_tls_off_says_nothing(tmp_path: Path) -> None:
    d = lab_design(user_spec(tmp_path, coro=device_conf(net="            tls: off\n")))
    quorum = quorum_section(d.corosync_conf)
    for key in ("votes", "timeout", "two_node"):
        assert key not in quorum
    assert not [line for line in d.mapping if line.startswith("qnetd tls")]


def test_device_keys_the_lab_does_not_map_are_dropped_in_a_line(tmp_path: Path) -> None:
    conf = device_conf(net="            force_ip_version: 6\n").replace(
        "        net {", "        heuristics {\n            mode: on\n            exec_gw: ping -c1 10.0.0.1\n"
                        "        }\n        net {")
    d = lab_design(user_spec(tmp_path, coro=conf))
    assert "heuristics" not in d.corosync_conf
    assert "force_ip_version" not in d.corosync_conf
    (line,) = [x for x in d.mapping if "dropped heuristics" in x]
    assert "heuristics.exec_gw, heuristics.mode, net.force_ip_version" in line
    assert "10.0.0.1" not in line


@pytest.mark.parametrize(("tie", "ids", "node_map", "want", "says"), [
    ("lowest", (1, 2), NODE_MAP, "lowest", None),
    ("highest", (1, 2), NODE_MAP, "highest", None),
    ("2", (1, 2), NODE_MAP, "2", None),
    ("20", (10, 20), NODE_MAP, "2", "qdevice tie_breaker 20 -> 2 (lab node node02"),
    ("1", (1, 2), SWAPPED, "2", "qdevice tie_breaker 1 -> 2 (lab node node02"),
    ("lowest", (1, 2), SWAPPED, "2", "qdevice tie_breaker lowest (node id 1) -> 2 (lab node node02: the lab "
                                     "renumbers the nodelist, and node02 is not its lowest there)"),
    ("highest", (1, 2), SWAPPED, "1", "qdevice tie_breaker highest (node id 2) -> 1 (lab node node01"),
    ("lowest", (7, 3), NODE_MAP, "2", "qdevice tie_breaker lowest (node id 3) -> 2 (lab node node02"),
])
def test_the_tie_breaker_names_the_same_node_on_the_lab(tmp_path: Path, tie: str, ids: tuple[int, int],
                                                        node_map: str, want: str, says: str | None) -> None:
    """The nodelist is renumbered to the lab's node order: the node that wins an even split must
    stay the one the user's tie_breaker names."""
    conf = device_conf(net=f"            tie_breaker: {tie}\n").replace(
        "nodeid: 1", f"nodeid: {ids[0]}").replace("nodeid: 2", f"nodeid: {ids[1]}")
    d = lab_design(user_spec(tmp_path, coro=conf, node_map=node_map))
    assert f"            tie_breaker: {want}\n" in d.corosync_conf
    ties = [line for line in d.mapping if "tie_breaker" in line]
    assert len(ties) == (0 if says is None else 1)
    if says is not None:
        assert ties[0].startswith(says)
    user, lab = d.user.corosync, d.design.corosync
    assert user is not None
    assert user.device is not None
    assert lab is not None
    assert lab.device is not None
    winner = user.device.tie_winner({n.name: n.nodeid for n in user.nodes})
    assert winner is not None
    to_lab = {"pcmk-a": "node01", "pcmk-b": "node02"} if node_map == NODE_MAP else {"pcmk-a": "node02",
                                                                                     "pcmk-b": "node01"}
    assert lab.device.tie_winner({n.name: n.nodeid for n in lab.nodes}) == to_lab[winner]


def test_a_tie_breaker_that_is_no_node_id_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tie_breaker 7 is no node id of the nodelist") as err:
        lab_design(user_spec(tmp_path, coro=device_conf(net="            tie_breaker: 7\n")))
    assert "\n" not in str(err.value)


def test_the_qdevice_lab_maps_and_plans_its_qnetd() -> None:
    """labs/qdevice: the seed with a device instead of two_node; clean under the pacemaker rules,
    and its plan starts the lab's qnetd and corosync-qdevice with pacemaker."""
    from halab.checks.pacemaker import run_pcmk_checks
    from halab.deploy.pacemaker import QDEVICE_DROPIN, QDEVICE_OFF, has_device, render

    spec = load_spec("qdevice")
    d = lab_design(spec)
    assert has_device(d)
    assert "two_node" not in d.corosync_conf
    assert run_pcmk_checks(d.user) == []
    assert any(line.startswith("quorum device: qnetd at 192.168.9.250:5403 -> the lab's qnetd at 192.168.8.1:5403")
               for line in d.mapping)
    plan = render(d, spec)
    assert f"# {QDEVICE_DROPIN}:\n[Unit]\nWants=corosync-qdevice.service\nAfter=corosync-qdevice.service" in plan
    assert ("ip netns exec halab-qdevice /usr/bin/corosync-qnetd -f -s off -l 192.168.8.1 -p 5403 -S "
            "local_socket_file=/var/lib/halab/labs/qdevice/qnetd/qnetd.sock,") in plan
    assert QDEVICE_OFF not in plan
    assert [x for x in plan.splitlines() if x.startswith("== ")][-1].startswith("== 7. the configuration")
    seed = load_spec("seed")
    seed_plan = render(lab_design(seed), seed)
    assert QDEVICE_OFF in seed_plan
    assert "corosync-qnetd" not in seed_plan


def test_the_deploy_puts_the_drop_in_and_starts_qnetd_or_removes_the_drop_in(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from halab.deploy import pacemaker as deploy_mod
    from halab.lab import qnetd
    from halab.lab.paths import LabPaths

    class Node:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def put_text(self, text: str, path: str, mode: int = 0o644, timeout: float = 30.0) -> None:
            self.calls.append(f"put {path}: {text}")

        def run(self, cmd: str, timeout: float = 30.0, check: bool = False) -> None:
            assert timeout > 0
            assert check
            self.calls.append(cmd)

    ensured: list[str] = []

    def ensure(spec: LabSpec, paths: LabPaths) -> bool:
        ensured.append(paths.lab)
        return True

    monkeypatch.setattr(qnetd, "ensure", ensure)
    spec = load_spec("qdevice")
    nodes = {n: Node() for n in ("node01", "node02")}
    lab = SimpleNamespace(spec=spec, paths=LabPaths(spec.name), remote=nodes.__getitem__)
    said: list[str] = []
    deploy_mod.quorum_device(lab, lab_design(spec), list(nodes), said.append)  # type: ignore[arg-type]
    assert ensured == ["qdevice"]
    for node in nodes.values():
        assert node.calls == [deploy_mod.QDEVICE_ON, f"put {deploy_mod.QDEVICE_DROPIN}: {deploy_mod.QDEVICE_UNIT}",
                              "systemctl daemon-reload"]
    assert said[-1].startswith("deploy: quorum device: the lab's qnetd started at 192.168.8.1:5403")
    seed = load_spec("seed")
    nodes = {n: Node() for n in ("node01", "node02")}
    lab = SimpleNamespace(spec=seed, paths=LabPaths(seed.name), remote=nodes.__getitem__)
    deploy_mod.quorum_device(lab, lab_design(seed), list(nodes), said.append)  # type: ignore[arg-type]
    assert ensured == ["qdevice"], "no qnetd without a device"
    assert all(node.calls == [deploy_mod.QDEVICE_OFF] for node in nodes.values())
