"""The lab spec: the seed loads with exactly the seed's facts; every bad spec is one clear line.

Pure logic: specs are read from labs/seed and from variants of it written to tmp_path. The CLI test
only feeds `halab up` inputs that fail in spec loading, so no lab is ever built.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from halab.cli import main
from halab.errors import SpecError
from halab.spec import LABS_DIR, LabSpec, load_spec

SEED_TOML = LABS_DIR / "seed" / "lab.toml"


@pytest.fixture(scope="module")
def seed() -> LabSpec:
    return load_spec("seed")


def variant(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The seed's lab.toml with each (old, new) replaced once; old must be in the seed."""
    text = SEED_TOML.read_text()
    for old, new in edits:
        assert old in text, f"seed lab.toml no longer has {old!r}"
        text = text.replace(old, new, 1)
    path = tmp_path / "lab.toml"
    path.write_text(text)
    return path


def spec_error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    msg = str(info.value)
    assert "\n" not in msg, f"not one line: {msg!r}"
    assert str(path) in msg, f"does not name the file: {msg!r}"
    return msg


# --- the seed's facts -----------------------------------------------------------------------


def test_seed_networks(seed: LabSpec) -> None:
    nets = {n.name: n for n in seed.networks}
    assert list(nets) == ["service", "management", "heartbeat"]
    assert {n.name: n.role for n in seed.networks} == {
        "service": "service", "management": "management", "heartbeat": "heartbeat"}
    assert nets["service"].subnet == ipaddress.IPv4Network("192.168.7.0/24")
    assert nets["management"].subnet == ipaddress.IPv4Network("192.168.8.0/24")
    assert nets["heartbeat"].subnet == ipaddress.IPv4Network("192.168.9.0/24")
    assert nets["service"].host == ipaddress.IPv4Address("192.168.7.1")
    assert nets["management"].host == ipaddress.IPv4Address("192.168.8.1")
    assert nets["heartbeat"].host is None
    assert all(n.prefixlen == 24 for n in seed.networks)


def test_seed_nodes(seed: LabSpec) -> None:
    assert [(n.name, n.domain, n.index) for n in seed.nodes] == [("node01", "RHCSvm01", 1),
                                                                  ("node02", "RHCSvm02", 2)]
    for node, last in zip(seed.nodes, (201, 202), strict=True):
        short = node.name
        assert node.hostnames() == (short, f"{short}m", f"{short}h")
        assert {a.network: str(a.address) for a in node.addresses} == {
            "service": f"192.168.7.{last}", "management": f"192.168.8.{last}",
            "heartbeat": f"192.168.9.{last}"}
        assert node.on("heartbeat").hostname == f"{short}h"


def test_seed_storage(seed: LabSpec) -> None:
    assert seed.storage.target == "iqn.2011-08.com.example.yourhost:tgt01"
    assert seed.storage.network == "management"
    luns = [(lun.lun, lun.size_mb, lun.role) for lun in seed.storage.luns]
    assert luns == [(1, 100, "quorum"), (2, 1024, "data")]
    data = seed.storage.by_role("data")
    assert (data.fstype, data.mountpoint) == ("ext4", "/data01")
    with pytest.raises(SpecError):
        seed.storage.by_role("backup")


def test_seed_stack_and_timings(seed: LabSpec) -> None:
    assert seed.name == "seed"
    assert seed.path == SEED_TOML.resolve()
    assert seed.stack == "pacemaker"
    assert set(seed.timings) == {"seed", "fast"}
    assert seed.timing.name == "seed"
    assert seed.timing.token_ms == 20000
    assert seed.timings["fast"].token_ms < seed.timing.token_ms
    assert seed.timing.fence_agent_s == (3.0, 53.0)
    assert seed.timing.dc_takeover_s == (0.0, 5.0)
    assert seed.timing.iscsi_replacement_timeout_s == 15
    assert seed.cluster_conf_path() == (LABS_DIR / "seed" / "cluster.conf").resolve()


@pytest.mark.parametrize("name", ["seed", str(LABS_DIR / "seed"), str(SEED_TOML)])
def test_every_way_to_name_the_seed(name: str, seed: LabSpec) -> None:
    assert load_spec(name) == seed


def test_default_lab_is_the_seed(seed: LabSpec) -> None:
    assert load_spec() == seed


# --- lookups and variants ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "node"), [
    ("node01", "node01"), ("node01m", "node01"), ("node01h", "node01"), ("RHCSvm01", "node01"),
    ("node02", "node02"), ("node02m", "node02"), ("node02h", "node02"), ("RHCSvm02", "node02"),
])
def test_node_by_node_host_or_domain_name(seed: LabSpec, name: str, node: str) -> None:
    assert seed.node(name).name == node


def test_unknown_node_is_one_line_naming_the_known(seed: LabSpec) -> None:
    with pytest.raises(SpecError) as info:
        seed.node("node03")
    msg = str(info.value)
    assert "\n" not in msg
    assert "node03" in msg
    assert "node01, node02" in msg


def test_network_by_name_or_role(seed: LabSpec) -> None:
    assert seed.network("heartbeat").role == "heartbeat"
    with pytest.raises(SpecError, match="backplane"):
        seed.network("backplane")


def test_with_stack(seed: LabSpec) -> None:
    rg = seed.with_stack("rgmanager")
    assert rg.stack == "rgmanager"
    assert seed.stack == "pacemaker"  # the original is untouched
    assert rg.nodes == seed.nodes
    assert rg.with_stack("pacemaker") == seed
    with pytest.raises(SpecError, match="unknown stack 'heartbeat'"):
        seed.with_stack("heartbeat")


def test_with_timing(seed: LabSpec) -> None:
    fast = seed.with_timing("fast")
    assert fast.timing.name == "fast"
    assert fast.timing.token_ms == 5000
    assert seed.timing.token_ms == 20000
    assert fast.with_timing("seed") == seed
    with pytest.raises(SpecError, match="no timing profile 'slow'"):
        seed.with_timing("slow")


def test_a_stack_without_its_section_is_refused(tmp_path: Path) -> None:
    spec = load_spec(variant(tmp_path, ('[stacks.rgmanager]\ncluster_conf = "cluster.conf"\n', ""),
                             ("[stacks.rgmanager.timing.fast]", ""), ("totem_token = 10000\n", ""),
                             ("quorumd_tko = 4\n", ""), ("[stacks.rgmanager.timing.seed]", ""),
                             ("cluster_start_s = [20.0, 420.0]\n", ""), ("cluster_start_s = [20.0, 420.0]\n", ""),
                             ("resource_start_s = [2.0, 80.0]\n", ""), ("resource_start_s = [2.0, 80.0]\n", ""),
                             ("fence_agent_s = [3.0, 53.0]\n", "")))
    with pytest.raises(SpecError, match=r"\[stacks.rgmanager\]"):
        spec.with_stack("rgmanager")


# --- every malformed spec: SpecError, one line, the file and the field ---------------------

NODE02 = """[[nodes]]
name = "node02"
domain = "RHCSvm02"
[nodes.addresses]
service = { address = "192.168.7.202", hostname = "node02" }
management = { address = "192.168.8.202", hostname = "node02m" }
heartbeat = { address = "192.168.9.202", hostname = "node02h" }
"""

SEED_FENCE = "fence_agent_s = [3.0, 53.0]         # fence_virsh reboot, min..max (measured, above)"

BAD = {
    "missing field": ([('target = "iqn.2011-08.com.example.yourhost:tgt01"\n', "")],
                      "storage: missing field 'target'"),
    "missing node field": ([('domain = "RHCSvm02"\n', "")], "nodes[1]: missing field 'domain'"),
    "missing networks": ([("[[networks]]", "[[nets]]")] * 3, "unknown key 'nets' (did you mean 'networks'?)"),
    "bad subnet": ([('subnet = "192.168.7.0/24"', 'subnet = "192.168.7.0/33"')], "networks[0]"),
    "subnet with host bits": ([('subnet = "192.168.9.0/24"', 'subnet = "192.168.9.5/24"')], "networks[2]"),
    "host outside subnet": ([('host = "192.168.8.1"', 'host = "192.168.80.1"')],
                            "networks[1]: host 192.168.80.1 is outside 192.168.8.0/24"),
    "overlapping subnets": ([('subnet = "192.168.9.0/24"', 'subnet = "192.168.8.128/25"')],
                            "networks: management 192.168.8.0/24 overlaps heartbeat 192.168.8.128/25"),
    "address outside subnet": ([('address = "192.168.9.202"', 'address = "192.168.19.202"')],
                               "nodes[1].heartbeat: 192.168.19.202 is outside 192.168.9.0/24"),
    "bad address": ([('address = "192.168.9.202"', 'address = "192.168.9.2022"')], "nodes[1].heartbeat"),
    "duplicate node name": ([('name = "node02"', 'name = "node01"')], "nodes[1]: 'node01' is used twice"),
    "duplicate domain": ([('domain = "RHCSvm02"', 'domain = "RHCSvm01"')],
                         "nodes[1]: 'RHCSvm01' is used twice"),
    "duplicate address": ([('address = "192.168.8.202"', 'address = "192.168.8.201"')],
                          "nodes[1]: '192.168.8.201' is used twice"),
    "duplicate network name": ([('name = "heartbeat"', 'name = "management"')],
                               "networks: name 'management' used twice"),
    "unknown network": ([('heartbeat = { address = "192.168.9.202"',
                          'backplane = { address = "192.168.9.202"')],
                        "nodes[1].addresses: unknown network 'backplane'"),
    "unknown storage network": ([('network = "management"', 'network = "san"')], "storage.network"),
    "unknown role": ([('role = "service"', 'role = "backup"')], "networks[0]: role 'backup'"),
    "no heartbeat role": ([('role = "heartbeat"', 'role = "service"')],
                          "networks: no network with role 'heartbeat'"),
    "unknown stack": ([('stack = "pacemaker"', 'stack = "heartbeat"')], "stack: 'heartbeat' is not one of"),
    "1 node": ([(NODE02, "")], "nodes: a cluster needs at least 2 nodes"),
    "bad timing pair": ([(SEED_FENCE, "fence_agent_s = [53.0, 3.0]")],
                        "timing.seed.fence_agent_s: want [min, max]"),
    "negative timing": ([("node_boot_s = [30.0, 120.0]", "node_boot_s = [-1.0, 120.0]")],
                        "timing.seed.node_boot_s"),
    "timing triple": ([(SEED_FENCE, "fence_agent_s = [3.0, 53.0, 60.0]")],
                      "timing.seed.fence_agent_s"),
    "timing words": ([(SEED_FENCE, 'fence_agent_s = ["soon", "later"]')],
                     "timing.seed.fence_agent_s"),
    "timing scalar": ([(SEED_FENCE, "fence_agent_s = 3.0")], "timing.seed.fence_agent_s"),
    "negative dc takeover": ([("dc_takeover_s = [0.0, 5.0]\n", "dc_takeover_s = [0.0, -5.0]\n")],
                             "timing.seed.dc_takeover_s"),
    "token not a number": ([("token_ms = 20000", 'token_ms = "20 s"')], "timing.seed.token_ms: '20 s'"),
    "missing token": ([("token_ms = 20000\n", "")], "timing.seed: missing field 'token_ms'"),
    "lun not a number": ([("lun = 2", 'lun = "two"')], "storage.luns[1].lun"),
    "memory not a number": ([("memory_mib = 1024", 'memory_mib = "1G"')], "image.memory_mib"),
    "unknown default timing": ([('default_timing = "seed"', 'default_timing = "slow"')], "default_timing"),
    "user image without path": ([('kind = "builtin"', 'kind = "user"')], "image.path"),
    "unknown image kind": ([('kind = "builtin"', 'kind = "cloud"')], "image.kind"),
}


@pytest.mark.parametrize(("edits", "field"), list(BAD.values()), ids=list(BAD))
def test_malformed_spec_is_one_line_naming_file_and_field(tmp_path: Path, edits: list[tuple[str, str]],
                                                          field: str) -> None:
    msg = spec_error(variant(tmp_path, *edits))
    assert field in msg


def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = variant(tmp_path, ('name = "seed"', 'name = "seed'))
    msg = spec_error(path)
    assert "not valid TOML" in msg
    assert "line 6" in msg


def test_missing_spec_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nowhere" / "lab.toml")
    msg = str(info.value)
    assert "\n" not in msg
    assert "nowhere" in msg


# --- the CLI: a bad spec is exit 2 and one line, before anything is built ------------------


def test_halab_up_without_a_spec_is_exit_2_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", "--lab", "/nonexistent"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("halab up: ")
    assert "/nonexistent" in err


def test_halab_up_with_a_malformed_spec_is_exit_2_one_line(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = variant(tmp_path, ('host = "192.168.8.1"', 'host = "192.168.80.1"'))
    assert main(["up", "--lab", str(path), "--accel", "tcg"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert str(path) in err
    assert "networks[1]" in err


def test_a_stack_sets_its_own_measured_ranges(seed: LabSpec) -> None:
    """One lab runs both stacks; rgmanager's rejoin takes minutes longer under TCG (measured)."""
    rg = seed.with_stack("rgmanager").with_timing("fast")
    assert rg.timing.cluster_start_s == (20.0, 420.0)
    assert rg.timing.token_ms == seed.with_timing("fast").timing.token_ms
    assert seed.with_timing("fast").timing.cluster_start_s == (10.0, 90.0)  # pacemaker keeps the lab's
    assert rg.with_stack("pacemaker").timing.cluster_start_s == (10.0, 90.0)


def test_a_stack_range_is_validated_like_the_lab_ranges(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"stacks.rgmanager.timing.fast.cluster_start_s: want \[min, max\]"):
        load_spec(variant(tmp_path, ("cluster_start_s = [20.0, 420.0]\n# the group's start",
                                     "cluster_start_s = [420.0, 20.0]\n# the group's start")))


def test_a_profile_without_dc_takeover_models_none(tmp_path: Path) -> None:
    """Optional: a user's profile written before it existed still loads (no takeover time)."""
    spec = load_spec(variant(tmp_path, ("dc_takeover_s = [0.0, 5.0]\n", "")))
    assert spec.timing.dc_takeover_s == (0.0, 0.0)
