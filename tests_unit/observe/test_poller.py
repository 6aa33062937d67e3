"""The status poll: the mount answer survives a status command that hangs (pure logic, fake SSH)."""

from __future__ import annotations

from types import SimpleNamespace

from halab.lab.host import Result
from halab.observe.poller import POLL_TIMEOUT_S, SEPARATOR, StatusPoller
from halab.observe.timeline import Timeline
from halab.stacks.pacemaker import PacemakerAdapter


class _Node:
    def __init__(self, stdout: str) -> None:
        self.stdout = stdout
        self.cmds: list[str] = []

    def run(self, cmd: str, timeout: float, connect_timeout: float) -> Result:
        self.cmds.append(cmd)
        return Result(cmd, 0, self.stdout, "", 0.1)


def _poller(node: _Node) -> tuple[StatusPoller, Timeline]:
    timeline = Timeline()
    lab = SimpleNamespace(remote=lambda _name: node)
    return StatusPoller(lab, timeline, PacemakerAdapter(), "/srv/data"), timeline  # type: ignore[arg-type]


def test_the_mount_is_read_first_and_the_status_command_is_killed_before_the_poll_times_out() -> None:
    node = _Node("")
    poller, _ = _poller(node)
    poller.poll_once("node01")
    cmd = node.cmds[0]
    assert cmd.index("findmnt") < cmd.index(SEPARATOR) < cmd.index("crm_mon")
    inner = int(cmd.split("timeout -k 1 ")[1].split()[0])
    assert 1 <= inner < POLL_TIMEOUT_S


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
