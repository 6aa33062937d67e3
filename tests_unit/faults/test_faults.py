"""Faults as data and as context managers: registry vs the oracle, rule texts, inject/heal discipline.

Pure logic with test doubles: a Lab whose remotes record commands instead of running them, a fake
Fault recording its calls, libvirt-python replaced by recorders or by the in-process test driver.
Nothing reaches the live lab.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from halab.errors import LabError, NotApplicable
from halab.faults import REGISTRY, SEED_FAULTS, effect_of, get_fault, heal_quietly, injected
from halab.faults.base import RULE_TAG, Fault, node_clock, remove_tagged_rules_cmd
from halab.faults.domain import PowerOff, Suspend
from halab.faults.effect import CLUSTER_DAEMON, CUT_STORAGE, Act, Effect, cut_network
from halab.faults.firewall import HeartbeatBlock, IscsiBlock, IscsiBlockBoth, tagged
from halab.faults.link import HeartbeatDown, ServiceNicDown
from halab.faults.process import AppFailure, KillDaemon
from halab.lab import domains, paths
from halab.lab.domains import Accel
from halab.lab.lab import Lab
from halab.lab.paths import LabPaths
from halab.lab.remote import Unreachable
from halab.oracle import predict
from halab.spec import LabSpec, load_spec

SEED_RULE = "-A INPUT -m tcp -p tcp --sport 3260 -j REJECT"
SEED_DIGEST = Path(__file__).resolve().parents[3] / "shared" / "seed" / "DIGEST.md"


# --- doubles ---------------------------------------------------------------------------------


STAMP = "date +%s.%N"  # what ssh_stamped puts around the command: the node's clock before and after
NODE_CLOCK = (1796149512.201, 1796149513.676)


@dataclass
class RecordingRemote:
    name: str
    calls: list[str] = field(default_factory=list)

    def run(self, cmd: str, timeout: float = 30.0, check: bool = False, connect_timeout: float = 5.0) -> Any:
        assert timeout > 0
        assert connect_timeout > 0
        stamped = cmd.startswith(f"{STAMP} && ") and cmd.endswith(f" && {STAMP}")
        self.calls.append(cmd.removeprefix(f"{STAMP} && ").removesuffix(f" && {STAMP}"))
        return SimpleNamespace(stdout=f"{NODE_CLOCK[0]}\nsome output\n{NODE_CLOCK[1]}\n" if stamped else "")


@pytest.fixture(scope="module")
def spec() -> LabSpec:
    return load_spec("seed")


@pytest.fixture
def lab(spec: LabSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    monkeypatch.setattr(paths, "STATE_ROOT", tmp_path)
    remotes: dict[str, Any] = {n.name: RecordingRemote(n.name) for n in spec.nodes}
    return Lab(spec, LabPaths(spec.name), Accel("tcg", "unit"), None, remotes)


def calls(lab: Lab, node: str) -> list[str]:
    remote = lab.remotes[node]
    assert isinstance(remote, RecordingRemote)
    return remote.calls


class Recorder(Fault):
    """A fault that only records what the harness asked of it."""

    id = "recorder"
    description = "records calls"
    log: ClassVar[list[str]] = []

    def __init__(self, reason: str | None = None, inject_error: BaseException | None = None,
                 heal_error: BaseException | None = None) -> None:
        self.reason, self.inject_error, self.heal_error = reason, inject_error, heal_error
        self.calls: list[str] = []

    def precheck(self, lab: Any, target: str) -> str | None:
        self.calls.append(f"precheck {target}")
        return self.reason

    def inject(self, lab: Any, target: str) -> None:
        self.calls.append(f"inject {target}")
        if self.inject_error is not None:
            raise self.inject_error

    def heal(self, lab: Any, target: str) -> None:
        self.calls.append(f"heal {target}")
        if self.heal_error is not None:
            raise self.heal_error


DUMMY_LAB: Any = object()  # the recorder never looks at the lab


# --- registry vs the oracle --------------------------------------------------------------------


def test_every_fault_declares_its_effect_in_neutral_terms() -> None:
    effects = {fault_id: effect_of(fault_id) for fault_id in REGISTRY}
    assert effects["heartbeat-down"] == cut_network("heartbeat", "link down")
    assert effects["heartbeat-block"] == cut_network("heartbeat", "firewall")
    assert effects["mgmt-cut"] == cut_network("management", "host side")
    assert effects["iscsi-block"] == effects["iscsi-block-both"] == CUT_STORAGE
    assert effects["suspend"].act is Act.FREEZE_NODE
    assert effects["power-off"].act is Act.STOP_NODE
    assert effects["kill-daemon"] == Effect(Act.KILL_PROCESS, process=CLUSTER_DAEMON)
    assert effects["qnetd-block"].act is Act.CUT_ARBITER
    with pytest.raises(ValueError, match="network role"):
        Effect(Act.CUT_STORAGE, network_role="heartbeat")


def test_the_oracle_reasons_from_the_effect_not_the_id() -> None:
    """A harder cut of the same storage is the same prediction (no alias table any more)."""
    spec = load_spec("seed")
    one, both = predict(spec, "iscsi-block", "node01"), predict(spec, "iscsi-block-both", "node01")
    assert both.fault == "iscsi-block-both"
    assert (both.fenced, both.services, both.windows) == (one.fenced, one.services, one.windows)
    for fault_id in REGISTRY:  # every fault has a prediction (or a clear "not applicable") on the seed
        for target in ("node01", "node02"):
            try:
                predict(spec, fault_id, target)
            except NotApplicable:
                continue


def test_registry_is_consistent() -> None:
    for fault_id, cls in REGISTRY.items():
        assert cls.id == fault_id
        assert cls.description.strip()
        fault = get_fault(fault_id)
        assert isinstance(fault, cls)
    assert SEED_FAULTS == ("heartbeat-down", "iscsi-block", "suspend")
    assert set(SEED_FAULTS) <= set(REGISTRY)
    assert [i for i, c in REGISTRY.items() if c.disturbs_fence_path] == ["mgmt-cut"]


def test_unknown_fault_names_the_known() -> None:
    with pytest.raises(KeyError, match=r"unknown fault 'meteor'.*heartbeat-down"):
        get_fault("meteor")


# --- firewall rule texts -----------------------------------------------------------------------


def test_the_seed_rule_is_the_seeds_text() -> None:
    assert IscsiBlock.rules == (SEED_RULE,)
    if SEED_DIGEST.is_file():
        assert f"iptables {SEED_RULE}" in SEED_DIGEST.read_text()


@pytest.mark.parametrize(("rule", "expected"), [
    (SEED_RULE, f"-A INPUT -m tcp -p tcp --sport 3260 -m comment --comment {RULE_TAG} -j REJECT"),
    ("-I OUTPUT 1 -p tcp --dport 3260 -j DROP",
     f"-I OUTPUT 1 -p tcp --dport 3260 -m comment --comment {RULE_TAG} -j DROP"),
    ("-I INPUT 1 -i hb -j REJECT --reject-with icmp-port-unreachable",
     f"-I INPUT 1 -i hb -m comment --comment {RULE_TAG} -j REJECT --reject-with icmp-port-unreachable"),
])
def test_tagged_places_the_comment_before_the_jump(rule: str, expected: str) -> None:
    out = tagged(rule)
    assert out == expected
    assert out.index("--comment") < out.index(" -j ")
    assert out.count(" -j ") == 1


def test_remove_tagged_rules_cmd_mentions_the_tag() -> None:
    cmd = remove_tagged_rules_cmd()
    assert RULE_TAG in cmd
    assert "iptables" in cmd
    assert cmd.rstrip().endswith("true"), "heal never fails because there was nothing to remove"


FAKE_IPTABLES = """#!/bin/sh
echo "$*" >> "$IPT_LOG"
if [ "$3" = -S ]; then
cat <<'EOF'
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-A INPUT -p tcp -m tcp --sport 22 -j ACCEPT
-A INPUT -p tcp -m tcp --sport 3260 -m comment --comment halab-fault -j REJECT --reject-with icmp-port-unreachable
-A INPUT -i hb -m comment --comment halab-fault -j DROP
-A OUTPUT -o hb -m comment --comment halab-fault -j DROP
-A OUTPUT -p tcp -m comment --comment keep-me -j ACCEPT
EOF
fi
"""


def test_remove_tagged_rules_cmd_deletes_exactly_the_tagged_rules(tmp_path: Path) -> None:
    """Run the heal shell for real against a fake iptables that lists rules and logs every call."""
    fake = tmp_path / "iptables"
    fake.write_text(FAKE_IPTABLES)
    fake.chmod(0o755)
    log = tmp_path / "calls"
    res = subprocess.run(["sh", "-c", remove_tagged_rules_cmd()], capture_output=True, text=True, timeout=20,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin", "IPT_LOG": str(log)}, check=False)
    assert res.returncode == 0, res.stderr
    assert log.read_text().splitlines() == [
        "-t filter -S",
        "-t filter -D INPUT -p tcp -m tcp --sport 3260 -m comment --comment halab-fault -j REJECT "
        "--reject-with icmp-port-unreachable",
        "-t filter -D INPUT -i hb -m comment --comment halab-fault -j DROP",
        "-t filter -D OUTPUT -o hb -m comment --comment halab-fault -j DROP",
    ]


@pytest.mark.parametrize("cls", [IscsiBlock, IscsiBlockBoth, HeartbeatBlock])
def test_firewall_faults_send_tagged_rules_and_heal_by_tag(cls: type[IscsiBlock], lab: Lab) -> None:
    fault = cls()
    fault.inject(lab, "node02")
    fault.heal(lab, "node02")
    fault.heal(lab, "node02")
    assert calls(lab, "node01") == []
    inject, *heals = calls(lab, "node02")
    assert inject == " && ".join(f"iptables {tagged(r)}" for r in cls.rules)
    assert inject.count(f"--comment {RULE_TAG}") == len(cls.rules)
    assert heals == [remove_tagged_rules_cmd()] * 2


def test_seed_iscsi_block_command(lab: Lab) -> None:
    IscsiBlock().inject(lab, "node01h")  # any of the node's names works
    assert calls(lab, "node01") == [
        f"iptables -A INPUT -m tcp -p tcp --sport 3260 -m comment --comment {RULE_TAG} -j REJECT"]


# --- injected(): heal on every exit -----------------------------------------------------------


def test_injected_order() -> None:
    fault = Recorder()
    stamps: list[str] = []

    def t0() -> None:
        stamps.append(fault.calls[-1])

    with injected(fault, DUMMY_LAB, "node01", on_inject=t0):
        fault.calls.append("body")
    assert fault.calls == ["precheck node01", "inject node01", "body", "heal node01"]
    assert stamps == ["precheck node01"], "t0 is stamped right before inject"


def test_injected_heals_on_exception() -> None:
    fault = Recorder()
    with pytest.raises(AssertionError, match="wrong owner"), injected(fault, DUMMY_LAB, "node02"):
        raise AssertionError("wrong owner")
    assert fault.calls[-1] == "heal node02"


def test_injected_heals_on_keyboard_interrupt() -> None:
    fault = Recorder()
    with pytest.raises(KeyboardInterrupt), injected(fault, DUMMY_LAB, "node02"):
        raise KeyboardInterrupt
    assert fault.calls == ["precheck node02", "inject node02", "heal node02"]


def test_injected_heals_a_failed_inject() -> None:
    fault = Recorder(inject_error=LabError("ssh dropped"))
    with pytest.raises(LabError, match="ssh dropped"), injected(fault, DUMMY_LAB, "node01"):
        pytest.fail("the body must not run when inject failed")
    assert fault.calls == ["precheck node01", "inject node01", "heal node01"]


@pytest.mark.parametrize("error", [LabError("node down"), Unreachable("no answer", "node01")])
def test_a_heal_that_cannot_reach_the_node_does_not_hide_the_outcome(error: LabError) -> None:
    fault = Recorder(heal_error=error)
    with injected(fault, DUMMY_LAB, "node01"):
        pass
    with pytest.raises(AssertionError, match="verdict"), injected(fault, DUMMY_LAB, "node01"):
        raise AssertionError("verdict")
    assert heal_quietly(fault, DUMMY_LAB, "node01") is False
    assert heal_quietly(Recorder(), DUMMY_LAB, "node01") is True


def test_precheck_reason_is_not_applicable() -> None:
    fault = Recorder(reason="node01 has no heartbeat network")
    stamped: list[bool] = []
    with pytest.raises(NotApplicable) as info, injected(fault, DUMMY_LAB, "node01", lambda: stamped.append(True)):
        pytest.fail("the body must not run")
    assert fault.calls == ["precheck node01"], "nothing injected, so nothing to heal"
    assert stamped == []
    assert info.value.exit_code == 3
    assert str(info.value) == "recorder on node01: node01 has no heartbeat network"


# --- the node faults' commands -------------------------------------------------------------------


def test_in_guest_faults_return_the_nodes_clock_around_the_effect(lab: Lab) -> None:
    """The SSH round trip before the effect took seconds under TCG: the judge counts from the effect."""
    assert HeartbeatDown().inject(lab, "node01") == NODE_CLOCK
    assert IscsiBlock().inject(lab, "node01") == NODE_CLOCK
    assert KillDaemon().inject(lab, "node02") == NODE_CLOCK


def test_node_clock_is_the_first_and_last_line_and_without_it_the_fault_still_counts() -> None:
    """The fault is in once its command succeeded: an unreadable clock only widens the judged span."""
    assert node_clock("1796149512.5\niptables: warning\n1796149513.676123\n") == \
        pytest.approx((1796149512.5, 1796149513.676123))
    for bad in ("", "bash: date: command not found", "1796149513.6", "1796149513.6\n1796149512.0"):
        assert node_clock(bad) is None


def test_injected_hands_on_what_inject_returned(lab: Lab) -> None:
    seen: list[float | None] = []
    with injected(HeartbeatDown(), lab, "node01", on_effect=seen.append):
        assert seen == [NODE_CLOCK]
    assert calls(lab, "node01") == ["ip link set hb down", "ip link set hb up"]


def test_link_faults(lab: Lab) -> None:
    HeartbeatDown().inject(lab, "node01")
    HeartbeatDown().heal(lab, "node01")
    ServiceNicDown().inject(lab, "RHCSvm02")
    ServiceNicDown().heal(lab, "RHCSvm02")
    assert calls(lab, "node01") == ["ip link set hb down", "ip link set hb up"]
    assert calls(lab, "node02") == ["ip link set svc down", "ip link set svc up"]


def test_link_fault_precheck(lab: Lab, spec: LabSpec) -> None:
    assert HeartbeatDown().precheck(lab, "node01") is None
    node01 = spec.nodes[0]
    no_hb = replace(node01, addresses=tuple(a for a in node01.addresses if a.network != "heartbeat"))
    lab.spec = replace(spec, nodes=(no_hb, spec.nodes[1]))
    assert HeartbeatDown().precheck(lab, "node01") == "node01 has no heartbeat network"
    assert ServiceNicDown().precheck(lab, "node01") is None
    with pytest.raises(NotApplicable), injected(HeartbeatDown(), lab, "node01"):
        pass
    assert calls(lab, "node01") == []


def test_process_faults(lab: Lab) -> None:
    KillDaemon().inject(lab, "node01")
    AppFailure().inject(lab, "node02")
    KillDaemon().heal(lab, "node01")
    AppFailure().heal(lab, "node02")
    assert calls(lab, "node01") == ["pkill -9 -x corosync"]
    assert calls(lab, "node02") == ["systemctl kill --signal=KILL myappl.service"]


@pytest.fixture
def libvirt_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """domains.act/state replaced: `state` answers from the dict, `act` is recorded."""
    seen: dict[str, Any] = {"state": "running", "acts": []}
    monkeypatch.setattr(domains, "state", lambda dom: seen["state"])
    monkeypatch.setattr(domains, "act", lambda dom, action: seen["acts"].append((dom, action)))
    return seen


@pytest.mark.parametrize(("cls", "inject", "state", "heal"), [
    (Suspend, "suspend", "paused", [("RHCSvm01", "resume")]),
    (Suspend, "suspend", "running", []),  # the fence reset it meanwhile: nothing to resume
    (Suspend, "suspend", "shutoff", []),
    (PowerOff, "destroy", "shutoff", [("RHCSvm01", "start")]),
    (PowerOff, "destroy", "running", []),
])
def test_domain_faults(lab: Lab, libvirt_calls: dict[str, Any], cls: type[Suspend], inject: str, state: str,
                       heal: list[tuple[str, str]]) -> None:
    fault = cls()
    fault.inject(lab, "node01")
    assert libvirt_calls["acts"] == [("RHCSvm01", inject)]
    libvirt_calls["state"] = state
    libvirt_calls["acts"].clear()
    fault.heal(lab, "node01")
    assert libvirt_calls["acts"] == heal
    assert calls(lab, "node01") == []


# --- the management cut, on libvirt's test driver --------------------------------------------


@pytest.fixture
def test_driver(monkeypatch: pytest.MonkeyPatch, lab: Lab) -> Iterator[Any]:
    """domains.connection() opens libvirt's in-process test driver; the seed's node01 is defined there."""
    libvirt = pytest.importorskip("libvirt")
    from halab.lab.image import BuiltImage

    conn = libvirt.open("test:///default")

    @contextlib.contextmanager
    def connection(uri: str = "") -> Iterator[Any]:
        yield conn

    monkeypatch.setattr(domains, "connection", connection)
    image = BuiltImage("k", Path("/nonexistent/disk"), Path("/nonexistent/vmlinuz"), Path("/nonexistent/initrd"))
    node = lab.spec.nodes[0]
    dom = conn.defineXML(domains.domain_xml(lab.spec, lab.paths, node, image, lab.accel, "ssh-ed25519 AAAA unit"))
    try:
        yield conn
    finally:
        dom.undefine()
        conn.close()


def test_mgmt_cut_downs_the_management_tap(lab: Lab, test_driver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from halab.faults import hostside

    ran: list[tuple[list[str], str | None]] = []
    monkeypatch.setattr(hostside, "run", lambda cmd, netns=None, timeout=0: ran.append((cmd, netns)))
    xml = test_driver.lookupByName("RHCSvm01").XMLDesc(0)
    mac = paths.mac_for(lab.spec, 1, "management")
    tap = hostside.tap_of(lab, "node01", "management")
    assert f"<mac address='{mac}'/>" in xml
    assert tap in xml
    assert tap != hostside.tap_of(lab, "node01", "heartbeat")
    hostside.MgmtCut().inject(lab, "node01")
    hostside.MgmtCut().heal(lab, "node01")
    assert ran == [(["ip", "link", "set", tap, "down"], "halab-seed"), (["ip", "link", "set", tap, "up"], "halab-seed")]
    assert calls(lab, "node01") == [], "the harness's ssh to the node is not used: it is cut"


def test_mgmt_cut_heal_of_a_node_without_taps_is_quiet(lab: Lab, test_driver: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from halab.faults import hostside

    monkeypatch.setattr(hostside, "run", lambda *a, **k: pytest.fail("nothing to bring up"))
    with pytest.raises(LabError, match="no management tap for RHCSvm02") as info:
        hostside.tap_of(lab, "node02", "management")  # not defined on the test driver
    assert "\n" not in str(info.value)
    hostside.MgmtCut().heal(lab, "node02")
    assert heal_quietly(hostside.MgmtCut(), lab, "node02") is True
    monkeypatch.setattr(domains, "connection", _no_taps_connection)
    with pytest.raises(LabError, match="no management tap for RHCSvm02"):
        hostside.tap_of(lab, "node02", "management")  # defined, not running
    hostside.MgmtCut().heal(lab, "node02")


@contextlib.contextmanager
def _no_taps_connection(uri: str = "") -> Iterator[Any]:
    """A domain that is defined but not running: its XML has MACs but no tap (`<target dev>`)."""

    class Dom:
        def XMLDesc(self, flags: int) -> str:
            return "<domain><devices><interface><mac address='52:54:00:00:0b:02'/></interface></devices></domain>"

    class Conn:
        def lookupByName(self, name: str) -> Dom:
            return Dom()

    yield Conn()


def test_which_faults_lose_the_node_follows_their_effect_not_their_name() -> None:
    from halab.faults import node_loss_faults

    assert set(node_loss_faults()) == {"suspend", "power-off", "kill-daemon"}


def test_a_quorum_device_fault_fits_only_a_design_with_one() -> None:
    """`--faults all` leaves qnetd-block out on the seed (no device), in on labs/qdevice; rgmanager
    has no corosync-qdevice at all."""
    qnetd_block = REGISTRY["qnetd-block"]
    assert qnetd_block.unfit(load_spec("qdevice")) is None
    assert "has no quorum device" in (qnetd_block.unfit(load_spec("seed")) or "")
    assert "runs rgmanager" in (qnetd_block.unfit(load_spec("seed").with_stack("rgmanager")) or "")
    assert [f for f, cls in REGISTRY.items() if cls.unfit(load_spec("seed"))] == ["qnetd-block"]
    with pytest.raises(NotApplicable, match="cman has no corosync-qdevice"):
        predict(load_spec("seed"), "qnetd-block", "node01", stack="rgmanager")
