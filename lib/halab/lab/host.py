"""Running things on the host: commands with timeouts, and sockets opened inside the lab netns.

Why sockets are opened inside the namespace: every lab address lives only in the lab's network
namespace, and nothing in the root namespace may send to them. A thread enters the namespace with
setns(2), creates and connects the socket, and leaves; the socket stays bound to the lab's stack.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from halab.errors import HostError, LabError
from halab.proc import run as bounded_run

CLONE_NEWNET = 0x40000000
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Result:
    """One command's outcome: the one result type of every host and remote command."""

    cmd: str
    exit_code: int
    stdout: str
    stderr: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def run(cmd: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S, check: bool = True,
        netns: str | None = None, input_text: str | None = None) -> Result:
    """Run a host command with a timeout (its whole process group ends then); inside `netns` when given."""
    argv = ["ip", "netns", "exec", netns, *cmd] if netns else list(cmd)
    try:
        proc = bounded_run(argv, timeout=timeout, input=input_text)
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(cmd)} did not finish in {timeout:.0f} s", netns or "host") from None
    except FileNotFoundError:
        raise HostError(f"{argv[0]} is not installed (run scripts/setup.sh)") from None
    res = Result(" ".join(cmd), proc.returncode, proc.stdout, proc.stderr)
    if check and not res.ok:
        tail = " | ".join((res.stderr or res.stdout).strip().splitlines()[-2:])
        raise LabError(f"{res.cmd} failed (exit {res.exit_code}): {tail}", netns or "host")
    return res


def need_tools(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            raise HostError(f"{tool} is not installed (run scripts/setup.sh)")


def need_root() -> None:
    if os.geteuid() != 0:
        raise HostError("halab needs root (network namespaces, libvirt, tgtd)")


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL("libc.so.6", use_errno=True)


def netns_socket(netns: str, address: str, port: int, timeout: float) -> socket.socket:
    """A TCP socket connected to address:port from inside the lab's network namespace."""
    box: dict[str, object] = {}

    def inside() -> None:
        try:
            fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
            try:
                if _libc().setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {netns}")
            finally:
                os.close(fd)
            sock = socket.create_connection((address, port), timeout=timeout)
            box["sock"] = sock
        except OSError as err:
            box["err"] = err

    thread = threading.Thread(target=inside, name=f"netns-{netns}", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if "sock" in box:
        sock = box["sock"]
        assert isinstance(sock, socket.socket)
        return sock
    err = box.get("err")
    raise ConnectionError(f"{address}:{port} in netns {netns}: {err or 'timed out'}")


def pids_in_netns(netns: str) -> list[int]:
    if not Path(f"/run/netns/{netns}").exists():
        return []
    res = run(["ip", "netns", "pids", netns], timeout=10, check=False)
    return [int(p) for p in res.stdout.split() if p.isdigit()]
