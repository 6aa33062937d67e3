"""The lab's iSCSI target: tgtd inside the lab netns, one target, file-backed LUNs, ACL to the subnet.

tgtd ignores SIGTERM, so it is taken down the way tgt-admin does it: system offline, targets
deleted, then the system deleted; only then is the process ended (by PID).

Each lab's tgtd has its own control port (its socket /var/run/tgtd/socket.N is on the host's
file system, shared by every netns): the lowest free one, picked under a host-wide lock and kept
in the lab's state folder.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from halab.lab import daemons
from halab.lab.host import run
from halab.lab.paths import STATE_ROOT, LabPaths
from halab.proc import file_lock
from halab.spec import LabSpec

TID = 1
CONTROL_PORT = 0  # the first lab's; others get the next free ones
SOCKET_DIR = Path("/var/run/tgtd")
PORT_LOCK_WAIT_S = 60.0  # another lab picking its port: a few tgtadm calls at most


def _port_file(paths: LabPaths) -> Path:
    return paths.state / "tgtd.port"


def control_port(paths: LabPaths) -> int:
    """This lab's tgtd control port (0 for a lab started before ports were per lab)."""
    try:
        return int(_port_file(paths).read_text().strip())
    except (OSError, ValueError):
        return CONTROL_PORT


def free_port(taken: set[int]) -> int:
    return next(n for n in range(CONTROL_PORT, CONTROL_PORT + len(taken) + 1) if n not in taken)


def _ports_in_use(paths: LabPaths, state_root: Path = STATE_ROOT, socket_dir: Path = SOCKET_DIR) -> set[int]:
    """Ports of live sockets and of every other lab that has a tgtd pid file."""
    taken = {int(p.name.split(".")[1]) for p in socket_dir.glob("socket.*")
             if p.name.count(".") == 1 and p.name.split(".")[1].isdigit()}
    for other in state_root.glob("*/tgtd.port"):
        if other.parent != paths.state and daemons.pid_file(other.parent / "pids", "tgtd").exists():
            with contextlib.suppress(OSError, ValueError):
                taken.add(int(other.read_text().strip()))
    return taken


def _tgtadm(port: int, *args: str, check: bool = True) -> None:
    run(["tgtadm", "-C", str(port), "--lld", "iscsi", *args], timeout=20, check=check)


def _control_socket_ready(port: int) -> bool:
    return (SOCKET_DIR / f"socket.{port}").exists()


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
    SOCKET_DIR.mkdir(parents=True, exist_ok=True)
    # labs built in parallel must not pick the same port
    with file_lock(SOCKET_DIR / "halab-ports.lock", PORT_LOCK_WAIT_S, "the tgtd control-port lock"):
        port = free_port(_ports_in_use(paths))
        _port_file(paths).write_text(str(port))
        (SOCKET_DIR / f"socket.{port}").unlink(missing_ok=True)
        argv = ("tgtd", "-f", "-C", str(port), "--iscsi", f"portal={portal}:3260")
        daemons.start(daemons.Daemon("tgtd", argv, lambda: _control_socket_ready(port)),
                      paths.netns, paths.pids, paths.logs)
    _tgtadm(port, "--op", "new", "--mode", "target", "--tid", str(TID), "-T", spec.storage.target)
    for lun, path in zip(spec.storage.luns, backing_files(spec, paths), strict=True):
        _tgtadm(port, "--op", "new", "--mode", "logicalunit", "--tid", str(TID), "--lun", str(lun.lun),
                "-b", str(path))
    subnet = spec.network(spec.storage.network).subnet
    _tgtadm(port, "--op", "bind", "--mode", "target", "--tid", str(TID), "-I", str(subnet))


def stop(paths: LabPaths) -> None:
    if not daemons.pid_file(paths.pids, "tgtd").exists():
        return
    offline(paths)
    daemons.stop_named(paths.pids, ["tgtd"], grace_s=3)


def offline(paths: LabPaths) -> None:
    """Targets offline and deleted, the tgt system deleted (tgtd ignores SIGTERM until then)."""
    if not daemons.pid_file(paths.pids, "tgtd").exists():
        return
    port = control_port(paths)
    if _control_socket_ready(port):
        _tgtadm(port, "--op", "update", "--mode", "sys", "--name", "State", "-v", "offline", check=False)
        _tgtadm(port, "--op", "delete", "--mode", "target", "--tid", str(TID), "--force", check=False)
        run(["tgtadm", "-C", str(port), "--op", "delete", "--mode", "system"], timeout=20,
            check=False)


def show(paths: LabPaths) -> str:
    """`tgtadm --mode target --op show` of this lab's tgtd, as the stack readers parse it."""
    return run(["tgtadm", "-C", str(control_port(paths)), "--lld", "iscsi", "--mode", "target", "--op", "show"],
               timeout=20, check=False).stdout


CONNECTION = re.compile(r"(?:I_T nexus|Session):\s*(\d+)|Connection:\s*(\d+)")


def connections(show_text: str) -> list[tuple[int, int]]:
    """(session, connection) pairs of ``tgtadm --mode target --op show``."""
    out: list[tuple[int, int]] = []
    session: int | None = None
    for m in CONNECTION.finditer(show_text):
        if m.group(1) is not None:
            session = int(m.group(1))
        elif session is not None:
            out.append((session, int(m.group(2))))
    return out


def drop_connections(paths: LabPaths) -> None:
    """Every iSCSI connection of the lab's target closed on tgtd's side (the initiators log in
    again): what a snapshot reset needs before the guests resume on connections tgtd moved on from."""
    port = control_port(paths)
    for sid, cid in connections(show(paths)):
        _tgtadm(port, "--op", "delete", "--mode", "conn", "--tid", str(TID), "--sid", str(sid), "--cid", str(cid),
                check=False)
