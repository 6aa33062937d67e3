"""The status poll: the mount answer survives a status command that hangs (pure logic, fake SSH)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from halab.lab.host import Result
from halab.observe.poller import IP_HELD, POLL_TIMEOUT_S, SEPARATOR, StatusPoller, physical_command
from halab.observe.timeline import Timeline
from halab.stacks.pacemaker import PacemakerAdapter

SERVICE_IP = "10.9.0.50"


class _Node:
    def __init__(self, stdout: str) -> None:
        self.stdout = stdout
        self.cmds: list[str] = []
        self.bounds: list[tuple[float, float]] = []

    def run(self, cmd: str, timeout: float, connect_timeout: float) -> Result:
        self.cmds.append(cmd)
        self.bounds.append((timeout, connect_timeout))
        return Result(cmd, 0, self.stdout, "", 0.1)


def _poller(node: _Node, service_ip: str = "") -> tuple[StatusPoller, Timeline]:
    timeline = Timeline()
    lab = SimpleNamespace(remote=lambda _name: node)
    return StatusPoller(lab, timeline, PacemakerAdapter(), "/srv/data", service_ip), timeline  # type: ignore[arg-type]


def test_the_mount_is_read_first_and_the_status_command_is_killed_before_the_poll_times_out() -> None:
    node = _Node("")
    poller, _ = _poller(node)
    poller.poll_once("node01")
    cmd = node.cmds[0]
    assert cmd.index("/proc/self/mounts") < cmd.index(SEPARATOR) < cmd.index("crm_mon")
    inner = int(cmd.split("timeout -k 1 ")[1].split()[0])
    assert 1 <= inner < POLL_TIMEOUT_S


def test_a_poll_leaves_a_busy_guest_time_for_the_rest_and_for_sshds_banner() -> None:
    """Measured live (rgmanager, heartbeat-down on the owner): clustat's kill at 5 s plus findmnt,
    ip and bash on a guest busy with fencing overran the 8 s poll; the reconnect's 2 s banner
    timeout then failed on both TCG guests for 20 s. The status command now ends (kill included)
    at least 3 s before the poll's timeout, and a reconnect waits 5 s for the banner."""
    node = _Node("")
    poller, _ = _poller(node)
    poller.poll_once("node01")
    inner = int(node.cmds[0].split("timeout -k 1 ")[1].split()[0])
    timeout, connect = node.bounds[0]
    assert timeout - (inner + 1) >= 3.0
    assert connect >= 5.0


def test_a_status_command_killed_on_the_node_still_says_the_lun_is_mounted() -> None:
    """Measured live (iscsi-block): crm_mon on the cut owner hung; the mount answer must not."""
    poller, timeline = _poller(_Node(f"/dev/sdb\n{SEPARATOR}\n"))
    poller.poll_once("node01")
    (o,) = timeline.items()
    assert (o.kind, o.mounted, o.status) == ("no-status", True, None)


def test_a_node_without_the_mount() -> None:
    poller, timeline = _poller(_Node(f"{SEPARATOR}\n"))
    poller.poll_once("node02")
    (o,) = timeline.items()
    assert o.mounted is False


def test_the_service_ip_is_read_from_the_node_before_the_status_command() -> None:
    node = _Node(f"/dev/sdb\n{IP_HELD}\n{SEPARATOR}\n")
    poller, timeline = _poller(node, SERVICE_IP)
    poller.poll_once("node01")
    cmd = node.cmds[0]
    assert "10.9.0.50" in cmd
    assert cmd.index("/proc/net/fib_trie") < cmd.index(SEPARATOR) < cmd.index("crm_mon")
    (o,) = timeline.items()
    assert (o.kind, o.mounted, o.holds_ip) == ("no-status", True, True)


def test_a_node_with_neither_the_ip_nor_the_mount() -> None:
    poller, timeline = _poller(_Node(f"{SEPARATOR}\n"), SERVICE_IP)
    poller.poll_once("node02")
    (o,) = timeline.items()
    assert (o.mounted, o.holds_ip) == (False, False)


def test_the_ip_marker_alone_is_not_a_mount() -> None:
    poller, timeline = _poller(_Node(f"{IP_HELD}\n{SEPARATOR}\n"), SERVICE_IP)
    poller.poll_once("node02")
    (o,) = timeline.items()
    assert (o.mounted, o.holds_ip) == (False, True)


def test_without_a_service_ip_nothing_is_said_about_it() -> None:
    node = _Node(f"{SEPARATOR}\n")
    poller, timeline = _poller(node)
    poller.poll_once("node02")
    assert "fib_trie" not in node.cmds[0]
    (o,) = timeline.items()
    assert o.holds_ip is None


def test_the_nodes_polls_are_spread_over_the_interval_not_sent_together() -> None:
    """Under TCG a poll costs a guest about a second of vCPU: three nodes polled in the same second
    ask a 2-core host for three vCPUs at once."""
    from halab.observe.poller import start_offsets

    assert start_offsets(3, 3.0) == [0.0, 1.0, 2.0]
    assert start_offsets(2, 1.0) == [0.0, 0.5]


FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 5
     +-- 10.9.0.0/24 2 0 2
        |-- 10.9.0.0
           /24 link UNICAST
        |-- 10.9.0.11
           /32 host LOCAL
        |-- 10.9.0.50
           /24 link UNICAST
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
        |-- 127.0.0.1
           /32 host LOCAL
     +-- 10.9.0.0/24 2 0 2
        |-- 10.9.0.11
           /32 host LOCAL
{held}        |-- 10.9.0.255
           /32 link BROADCAST
"""
MOUNTS = """/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
{mounted}tmpfs /run tmpfs rw,nosuid,nodev 0 0
"""


@pytest.mark.parametrize(("mounted", "held"), [(True, True), (True, False), (False, True), (False, False)])
def test_the_physical_part_reads_procs_mounts_and_local_addresses_in_bash(tmp_path: Path, mounted: bool,
                                                                          held: bool) -> None:
    """The poll's first part runs with bash builtins only (no findmnt, ip, grep: a third of a TCG
    poll's cost); here it runs for real on /proc-shaped files."""
    mounts, fib = tmp_path / "mounts", tmp_path / "fib_trie"
    lun = "/dev/disk/by-path/ip-192.168.8.1:3260-iscsi-iqn.2011-08.com.example.yourhost:tgt01-lun-2"
    mounts.write_text(MOUNTS.format(mounted=f"{lun} /srv/data ext4 rw 0 0\n" if mounted else
                                    f"{lun} /srv/data2 ext4 rw 0 0\n"))
    fib.write_text(FIB_TRIE.format(held="        |-- 10.9.0.50\n           /32 host LOCAL\n" if held else ""))
    script = physical_command("/srv/data", SERVICE_IP, mounts=str(mounts), fib=str(fib)) + f"echo {SEPARATOR}"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=10, check=True).stdout
    poller, _ = _poller(_Node(""), SERVICE_IP)
    assert poller._physical(out.partition(SEPARATOR)[0]) == (mounted, held)
    assert (lun in out) is mounted
