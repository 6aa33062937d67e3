"""The lab's iSCSI target: tgtd inside the lab netns, one target, file-backed LUNs, ACL to the subnet.

tgtd ignores SIGTERM, so it is taken down the way tgt-admin does it: system offline, targets
deleted, then the system deleted; only then is the process ended (by PID).
"""

from __future__ import annotations

from pathlib import Path

from halab.lab import daemons
from halab.lab.host import run
from halab.lab.paths import LabPaths
from halab.spec import LabSpec

TID = 1
CONTROL_PORT = 0


def _tgtadm(*args: str, check: bool = True) -> None:
    run(["tgtadm", "-C", str(CONTROL_PORT), "--lld", "iscsi", *args], timeout=20, check=check)


def _control_socket_ready() -> bool:
    return Path(f"/var/run/tgtd/socket.{CONTROL_PORT}").exists()


def backing_files(spec: LabSpec, paths: LabPaths) -> list[Path]:
    """Sparse backing files, created once per lab (a LUN's data survives halab up --reuse)."""
    paths.luns.mkdir(parents=True, exist_ok=True)
    out = []
    for lun in spec.storage.luns:
        path = paths.luns / lun.backing
        if not path.exists() or path.stat().st_size != lun.size_mb * 2**20:
            with path.open("wb") as fh:
                fh.truncate(lun.size_mb * 2**20)
        out.append(path)
    return out


def start(spec: LabSpec, paths: LabPaths) -> None:
    portal = spec.network(spec.storage.network).host
    Path("/var/run/tgtd").mkdir(parents=True, exist_ok=True)
    Path(f"/var/run/tgtd/socket.{CONTROL_PORT}").unlink(missing_ok=True)
    argv = ("tgtd", "-f", "-C", str(CONTROL_PORT), "--iscsi", f"portal={portal}:3260")
    daemons.start(daemons.Daemon("tgtd", argv,
                                 _control_socket_ready), paths.netns, paths.pids, paths.logs)
    _tgtadm("--op", "new", "--mode", "target", "--tid", str(TID), "-T", spec.storage.target)
    for lun, path in zip(spec.storage.luns, backing_files(spec, paths), strict=True):
        _tgtadm("--op", "new", "--mode", "logicalunit", "--tid", str(TID), "--lun", str(lun.lun),
                "-b", str(path))
    subnet = spec.network(spec.storage.network).subnet
    _tgtadm("--op", "bind", "--mode", "target", "--tid", str(TID), "-I", str(subnet))


def stop(paths: LabPaths) -> None:
    if not daemons.pid_file(paths.pids, "tgtd").exists():
        return
    offline(paths)
    daemons.stop_named(paths.pids, ["tgtd"], grace_s=3)


def offline(paths: LabPaths) -> None:
    """Targets offline and deleted, the tgt system deleted (tgtd ignores SIGTERM until then)."""
    if not daemons.pid_file(paths.pids, "tgtd").exists():
        return
    if _control_socket_ready():
        _tgtadm("--op", "update", "--mode", "sys", "--name", "State", "-v", "offline", check=False)
        _tgtadm("--op", "delete", "--mode", "target", "--tid", str(TID), "--force", check=False)
        run(["tgtadm", "-C", str(CONTROL_PORT), "--op", "delete", "--mode", "system"], timeout=20,
            check=False)


def show() -> str:
    """`tgtadm --mode target --op show`, as the stack readers parse it."""
    return run(["tgtadm", "-C", str(CONTROL_PORT), "--lld", "iscsi", "--mode", "target", "--op", "show"],
               timeout=20, check=False).stdout
