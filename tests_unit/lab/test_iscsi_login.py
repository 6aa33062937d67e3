"""The restore's iSCSI step: a node already logged in with its LUN paths present gets one short call."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from halab.lab.host import Result
from halab.lab.lab import iscsi_login

IQN = "iqn.2011-08.com.example.yourhost:tgt01"


def _lab(logged_in: bool) -> tuple[Any, list[str]]:
    calls: list[str] = []

    class Remote:
        def run(self, cmd: str, timeout: float, check: bool = False, **_kw: object) -> Result:
            assert timeout > 0
            calls.append(cmd)
            code = 0 if logged_in or not cmd.startswith("iscsiadm -m session") else 1
            return Result(cmd, code, "", "")

    spec = SimpleNamespace(
        network=lambda name: SimpleNamespace(host="192.168.8.1"),
        storage=SimpleNamespace(network="storage", target=IQN, luns=[SimpleNamespace(lun=1), SimpleNamespace(lun=2)]),
        timing=SimpleNamespace(iscsi_replacement_timeout_s=5))
    lab = SimpleNamespace(spec=spec, remotes={"node01": Remote()}, lun_path=lambda n: f"/dev/disk/by-path/lun-{n}")
    return lab, calls


def test_a_node_logged_in_with_its_paths_is_left_alone() -> None:
    lab, calls = _lab(logged_in=True)
    assert iscsi_login(lab, SimpleNamespace(name="node01")) == ["/dev/disk/by-path/lun-1", "/dev/disk/by-path/lun-2"]
    assert len(calls) == 1
    assert IQN in calls[0]
    assert "test -b /dev/disk/by-path/lun-1 && test -b /dev/disk/by-path/lun-2" in calls[0]


def test_a_node_without_its_session_discovers_logs_in_and_waits_for_the_paths() -> None:
    lab, calls = _lab(logged_in=False)
    iscsi_login(lab, SimpleNamespace(name="node01"))
    assert len(calls) == 3
    assert calls[1].startswith("iscsiadm -m discovery -t sendtargets -p 192.168.8.1")
    assert "replacement_timeout -v 5" in calls[1]
    assert calls[2].startswith("udevadm settle")
