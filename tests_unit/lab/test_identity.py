"""A node's identity on a user image: the NoCloud seed's three files and the overlay-edit plan.

Pure logic on the byo lab spec (the seed lab on a user image): what each node is told — host name,
one address per NIC matched by the MAC the domain XML gives it, /etc/hosts, the lab's key, the
iSCSI initiator name and login — read back from the generated files, never from the generator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from halab.lab import identity
from halab.lab.domains import hosts_file, iqn_for
from halab.lab.paths import mac_for
from halab.spec import LabSpec, Node, load_spec

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUnitTestKeyOnly halab-unit"
ROLE_NIC = {"service": "svc", "management": "mgmt", "heartbeat": "hb"}


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_spec("byo")


def parse_yaml(text: str) -> Any:
    """Every seed file must be YAML; JSON is YAML, and a YAML reader (if installed) must agree."""
    body = text.removeprefix("#cloud-config\n")
    data = json.loads(body)
    try:
        import yaml
    except ImportError:
        return data
    assert yaml.safe_load(text) == data
    return data


def seed(spec: LabSpec, node: Node) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    files = identity.seed_files(spec, node, PUBKEY)
    assert files.user_data.startswith("#cloud-config\n"), "cloud-init reads user-data as config only with this line"
    return parse_yaml(files.meta_data), parse_yaml(files.user_data), parse_yaml(files.network_config)


def written(user_data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in user_data["write_files"]}


@pytest.mark.parametrize("index", [0, 1])
def test_meta_data_names_the_node(spec: LabSpec, index: int) -> None:
    node = spec.nodes[index]
    meta, _, _ = seed(spec, node)
    assert meta["local-hostname"] == node.on("service").hostname
    assert meta["instance-id"].startswith(f"halab-{spec.name}-{node.name}-")


@pytest.mark.parametrize("index", [0, 1])
def test_network_config_matches_each_nic_by_the_domain_mac(spec: LabSpec, index: int) -> None:
    node = spec.nodes[index]
    _, _, net = seed(spec, node)
    assert net["version"] == 2
    eth = net["ethernets"]
    assert set(eth) == {"svc", "mgmt", "hb"}
    for addr in node.addresses:
        role = spec.network(addr.network).role
        nic = eth[ROLE_NIC[role]]
        assert nic["match"] == {"macaddress": mac_for(spec, node.index, role)}
        assert nic["set-name"] == ROLE_NIC[role]
        assert nic["addresses"] == [f"{addr.address}/{spec.network(addr.network).prefixlen}"]
        assert nic["dhcp4"] is False
        assert nic["dhcp6"] is False
        assert "gateway4" not in nic
        assert "routes" not in nic, "the lab has no route out"


def test_user_data_identity(spec: LabSpec) -> None:
    node = spec.node("node02")
    _, user, _ = seed(spec, node)
    assert user["hostname"] == "node02"
    assert user["preserve_hostname"] is False
    assert user["manage_etc_hosts"] is False
    assert user["disable_root"] is False, "otherwise cloud-init puts a 'login as debian' stub before root's key"
    assert user["ssh_authorized_keys"] == [PUBKEY]
    files = written(user)
    assert files["/etc/hosts"]["content"] == hosts_file(spec)
    assert "192.168.9.202 node02h" in files["/etc/hosts"]["content"]
    assert files["/etc/iscsi/initiatorname.iscsi"]["content"] == f"InitiatorName={iqn_for(spec, node)}\n"
    assert files["/usr/local/bin/myappl"]["permissions"] == "0755"
    assert "ExecStart=/usr/local/bin/myappl" in files["/etc/systemd/system/myappl.service"]["content"]


def test_user_data_logs_in_to_the_target_with_the_profile_timeout(spec: LabSpec) -> None:
    _, user, _ = seed(spec, spec.nodes[0])
    script = written(user)[identity.ISCSI_SCRIPT]
    assert script["permissions"] == "0755"
    text = script["content"]
    portal, iqn, rt = "192.168.8.1", spec.storage.target, spec.timing.iscsi_replacement_timeout_s
    assert f"iscsiadm -m discovery -t sendtargets -p {portal}" in text
    assert (f"iscsiadm -m node -T {iqn} -p {portal} -o update -n node.session.timeo.replacement_timeout -v {rt}"
            in text)
    assert f"iscsiadm -m node -T {iqn} -p {portal} --login" in text
    assert f"node.session.timeo.replacement_timeout = {rt}" in text
    assert text.index("discovery") < text.index("replacement_timeout -v") < text.index("--login")
    assert user["runcmd"][-1] == [identity.ISCSI_SCRIPT], "the login runs last, after the files are written"
    assert ["mkdir", "-p", "/data01"] in user["runcmd"]
    off = user["runcmd"][0]
    assert off[:2] == ["sh", "-c"]
    for unit in ("corosync", "pacemaker", "cman", "rgmanager"):
        assert unit in off[2]


def test_timing_profile_reaches_the_login(spec: LabSpec) -> None:
    fast = spec.with_timing("fast")
    assert f"-v {fast.timing.iscsi_replacement_timeout_s}" in identity.iscsi_login_script(fast)


def test_instance_id_changes_with_the_identity(spec: LabSpec) -> None:
    node = spec.nodes[0]
    a = identity.seed_files(spec, node, PUBKEY)
    b = identity.seed_files(spec, node, PUBKEY)
    c = identity.seed_files(spec, node, PUBKEY.replace("halab-unit", "other"))
    assert a == b
    assert json.loads(a.meta_data)["instance-id"] != json.loads(c.meta_data)["instance-id"]


def test_nodes_differ(spec: LabSpec) -> None:
    one, two = (identity.seed_files(spec, n, PUBKEY) for n in spec.nodes)
    assert one.network_config != two.network_config
    macs = [nic.mac for n in spec.nodes for nic in identity.nics_of(spec, n)]
    assert len(set(macs)) == len(macs) == 6


# --- the overlay-edit route --------------------------------------------------------------------


def test_debian_network_files_match_by_mac(spec: LabSpec) -> None:
    node = spec.nodes[0]
    files = identity.network_files(spec, node, "debian")
    link = files["/etc/systemd/network/10-halab-mgmt.link"][0]
    assert f"MACAddress={mac_for(spec, 1, 'management')}" in link
    assert "Name=mgmt" in link
    net = files["/etc/systemd/network/20-halab-hb.network"][0]
    assert "Address=192.168.9.201/24" in net
    assert "Gateway" not in net
    assert "RequiredForOnline=no" in net, "a heartbeat cut must not hold a reboot at network-online"
    assert "RequiredForOnline" not in files["/etc/systemd/network/20-halab-mgmt.network"][0], \
        "with no link required, wait-online waits 2 minutes before iscsid starts"


def test_rhel_network_files(spec: LabSpec) -> None:
    node = spec.nodes[1]
    files = identity.network_files(spec, node, "rhel")
    ifcfg = files["/etc/sysconfig/network-scripts/ifcfg-svc"][0]
    assert "DEVICE=svc\n" in ifcfg
    assert f"HWADDR={mac_for(spec, 2, 'service')}\n" in ifcfg
    assert "IPADDR=192.168.7.202\nPREFIX=24\n" in ifcfg
    assert "BOOTPROTO=none" in ifcfg
    rules = files["/etc/udev/rules.d/70-persistent-net.rules"][0].splitlines()
    assert len(rules) == 3
    assert f'ATTR{{address}}=="{mac_for(spec, 2, "heartbeat")}", NAME="hb"' in rules[2]
    over = identity.overlay_files(spec, node, "rhel")
    assert over["/etc/sysconfig/network"][0] == "NETWORKING=yes\nHOSTNAME=node02\n"
    assert over["/etc/iscsi/initiatorname.iscsi"][0] == f"InitiatorName={iqn_for(spec, node)}\n"


def test_unknown_os_family(spec: LabSpec) -> None:
    with pytest.raises(ValueError, match="suse"):
        identity.network_files(spec, spec.nodes[0], "suse")


@pytest.mark.parametrize("family", ["debian", "rhel"])
def test_virt_customize_command_edits_only_the_overlay(spec: LabSpec, family: str, tmp_path: Path) -> None:
    node = spec.nodes[0]
    overlay = tmp_path / "nodes" / "RHCSvm01.qcow2"
    staging = tmp_path / "stage"
    files = identity.overlay_files(spec, node, family)
    cmd = identity.virt_customize_cmd(overlay, staging, files, node, tmp_path / "key.pub", family)
    assert cmd[0] == "virt-customize"
    assert cmd[cmd.index("-a") + 1] == str(overlay)
    assert cmd.count("-a") == 1, "one disk: the overlay, never the user's image"
    assert "--no-network" in cmd
    assert cmd[cmd.index("--hostname") + 1] == "node01"
    uploads = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--upload"]
    assert sorted(uploads) == sorted(f"{staging}{p}:{p}" for p in files)
    chmods = {cmd[i + 1].split(":", 1)[1]: cmd[i + 1].split(":", 1)[0] for i, a in enumerate(cmd) if a == "--chmod"}
    assert chmods[identity.ISCSI_SCRIPT] == "0755"
    assert chmods["/etc/hosts"] == "0644"
    mkdirs = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--mkdir"]
    assert "/etc/iscsi" in mkdirs
    assert min(i for i, a in enumerate(cmd) if a == "--upload") > max(i for i, a in enumerate(cmd) if a == "--mkdir")
    assert cmd[cmd.index("--ssh-inject") + 1] == f"root:file:{tmp_path / 'key.pub'}"
    assert cmd[cmd.index("--firstboot") + 1] == str(staging / "firstboot.sh")
    runs = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--run-command"]
    assert "corosync" in runs[0]
    assert any("ssh-keygen -A" in r for r in runs), "each overlay gets its own host keys"
    assert any("cloud-init.disabled" in r for r in runs), "a seedless cloud-init must not redo the network"
    assert ("--selinux-relabel" in cmd) == (family == "rhel")


def test_firstboot_script_logs_in(spec: LabSpec) -> None:
    text = identity.firstboot_script(spec)
    assert text.startswith("#!/bin/sh\n")
    assert identity.ISCSI_SCRIPT in text
    assert "mkdir -p /data01" in text
    assert text.rstrip().endswith(f"touch {identity.FIRSTBOOT_DONE}"), "the marker says the whole script ran"
