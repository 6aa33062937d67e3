"""Hostile or sloppy lab specs: every one a one-line SpecError naming the file and the field.

Why these: a spec value reaches root shells on nodes, file paths that halab truncates as root,
libvirt domain names and the fence key's authorized_keys line. A typo must be said, not ignored.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from halab.errors import SpecError
from halab.spec import LABS_DIR, load_spec

SEED_TOML = LABS_DIR / "seed" / "lab.toml"


def variant(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = SEED_TOML.read_text()
    for old, new in edits:
        assert old in text, f"seed lab.toml no longer has {old!r}"
        text = text.replace(old, new, 1)
    folder = tmp_path / "labs" / "mine"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cluster.conf").write_text((LABS_DIR / "seed" / "cluster.conf").read_text())
    path = folder / "lab.toml"
    path.write_text(text)
    return path


def one_line(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert len(msg) < 600
    return msg


HOSTILE = {
    "typo in a timing key": ([("token_ms = 20000", "tokn_ms = 20000")],
                             "unknown key 'tokn_ms' (did you mean 'token_ms'?)"),
    "typo at the top": ([('default_timing = "seed"', 'default_timming = "seed"')], "did you mean 'default_timing'?"),
    "unknown stacks key": ([("app_port = 8080", "app_prot = 8080")], "did you mean 'app_port'?"),
    "unknown stack section": ([("[stacks.rgmanager]", "[stacks.heartbeat]")], "stacks: unknown key 'heartbeat'"),
    "backing absolute": ([('backing = "qdisk01.img"', 'backing = "/etc/shadow"')], "storage.luns[0].backing"),
    "backing traversal": ([('backing = "qdisk01.img"', 'backing = "../../../etc/passwd"')], "not a safe name"),
    "lab name traversal": ([('name = "seed"', 'name = "../../etc"')], "name: '../../etc' is not a safe name"),
    "domain with a quote": ([('domain = "RHCSvm01"', "domain = 'RHCS\"vm01'")], "nodes[0].domain"),
    "domain with options": ([('domain = "RHCSvm01"', 'domain = "x,command=sh"')], "nodes[0].domain"),
    "hostname with a shell": ([('hostname = "node01m"', 'hostname = "node01m;reboot"')], "hostname"),
    "node name with space": ([('name = "node01"', 'name = "node 01"')], "nodes[0].name"),
    "network with a shell": ([('fence_network = "management"', 'fence_network = "mgmt; rm -rf /"')],
                             "stacks.pacemaker.fence_network"),
    "cib outside": ([('cib = "cib.xml"', 'cib = "/etc/shadow"')], "stacks.pacemaker.cib: '/etc/shadow' is outside"),
    "target with a shell": ([('target = "iqn.2011-08.com.example.yourhost:tgt01"', 'target = "iqn$(reboot)"')],
                            "storage.target"),
    "mountpoint traversal": ([('mountpoint = "/data01"', 'mountpoint = "/data01/../etc"')], "mountpoint"),
    "addresses as a list": ([('[nodes.addresses]\nservice = { address = "192.168.7.201", hostname = "node01" }',
                              'addresses = ["192.168.7.201"]\n[nodes.extra]\nservice = { address = "192.168.7.201", '
                              'hostname = "node01" }')], "nodes"),
    "negative timing": ([("token_ms = 20000", "token_ms = -5")], "timing.seed.token_ms: -5 is outside"),
    "nan timing": ([("fence_agent_s = [3.0, 53.0]         # fence_virsh", "fence_agent_s = [nan, 53.0] # ")],
                   "timing.seed.fence_agent_s"),
    "inf timing": ([("node_boot_s = [30.0, 120.0]", "node_boot_s = [30.0, inf]")], "timing.seed.node_boot_s"),
    "nan poll": ([("poll_interval_s = 1.0", "poll_interval_s = nan")], "poll_interval_s"),
    "bool as int": ([("token_ms = 20000", "token_ms = true")], "token_ms: True is not an integer"),
    "float lun": ([("lun = 2", "lun = 2.5")], "storage.luns[1].lun"),
    "huge lun": ([("size_mb = 1024", "size_mb = 99999999999")], "size_mb"),
    "nan in stacks": ([("app_port = 8080", "app_port = nan")], "stacks.pacemaker.app_port"),
    "stack profile typo": ([("[stacks.rgmanager.timing.seed]", "[stacks.rgmanager.timing.seeed]")],
                           "stacks.rgmanager.timing: unknown profile 'seeed' (did you mean 'seed'?)"),
    "port as text": ([("app_port = 8080", 'app_port = "x"')], "stacks.pacemaker.app_port: 'x' is not an integer"),
    "port too high": ([("app_port = 8080", "app_port = 70000")], "stacks.pacemaker.app_port: 70000 is outside"),
    "devices as text": ([("app_port = 8080", 'app_port = 8080\ndevices = "x"')],
                        "stacks.pacemaker.devices: want a table"),
    "device lun as text": ([("app_port = 8080", 'app_port = 8080\ndevices = { "/dev/sdb" = "two" }')],
                           "stacks.pacemaker.devices./dev/sdb: 'two' is not an integer"),
    "node_map with a shell": ([("app_port = 8080", 'app_port = 8080\nnode_map = { a = "node01;reboot" }')],
                              "stacks.pacemaker.node_map.a"),
    "links as text": ([('links = ["heartbeat"]', 'links = "heartbeat"')],
                      "stacks.pacemaker.links: want a list"),
    "stand-in as a number": ([("app_port = 8080", 'app_port = 8080\nstand_ins = { "ocf:a:b" = 5 }')],
                             "stacks.pacemaker.stand_ins.ocf:a:b: want a string"),
    "cluster_conf outside": ([('cluster_conf = "cluster.conf"', 'cluster_conf = "/etc/passwd"')],
                             "stacks.rgmanager.cluster_conf: '/etc/passwd' is outside"),
    "cluster_conf traversal": ([('cluster_conf = "cluster.conf"', 'cluster_conf = "../../../../etc/passwd"')],
                               "is outside the labs folder"),
    "image path a device": ([('kind = "builtin"', 'kind = "user"\npath = "/dev/zero"')], "image.path"),
    "stack as a number": ([('stack = "pacemaker"', "stack = 5")], "stack: want a string"),
}


@pytest.mark.parametrize(("edits", "said"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_spec_is_one_line(tmp_path: Path, edits: list[tuple[str, str]], said: str) -> None:
    assert said in one_line(variant(tmp_path, *edits))


def test_non_utf8_spec_is_one_line(tmp_path: Path) -> None:
    path = variant(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"# The seed lab", b"# The seed \xff\xfe lab"))
    assert "not UTF-8" in one_line(path)


def test_binary_and_huge_specs_are_one_line(tmp_path: Path) -> None:
    path = variant(tmp_path)
    path.write_bytes(bytes(range(256)) * 10)
    one_line(path)
    path.write_bytes(b"# " + b"x" * (3 * 2**20))
    assert "larger than 1 MiB" in one_line(path)


def test_deeply_nested_toml_is_one_line(tmp_path: Path) -> None:
    path = variant(tmp_path)
    path.write_text("x = " + "[" * 100000 + "]" * 100000 + "\n")
    one_line(path)


def test_a_bad_value_is_not_echoed_whole(tmp_path: Path) -> None:
    msg = one_line(variant(tmp_path, ('fence_network = "management"', 'fence_network = "' + "A" * 900_000 + '"')))
    assert "chars cut" in msg


def test_the_seed_and_byo_specs_still_load() -> None:
    assert load_spec("seed").name == "seed"
    assert load_spec("byo").image.kind == "user"
