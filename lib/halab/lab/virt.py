"""libvirt on a host without systemd: virtlogd and libvirtd started in the lab netns, by PID.

libvirtd creates the qemu taps in its own namespace, so running it inside the lab netns keeps
every tap and bridge there. Its control socket is a path, reachable from the root namespace
without any network traffic.
"""

from __future__ import annotations

import re
from pathlib import Path

from halab.lab import daemons
from halab.lab.paths import LabPaths

URI = "qemu:///system"
SOCKET = Path("/var/run/libvirt/libvirt-sock")
QEMU_CONF = Path("/etc/libvirt/qemu.conf")
# What qemu.conf needs on a host without systemd/cgroup delegation (measured: LAB-FINDINGS).
QEMU_SETTINGS = {
    "user": '"root"',
    "group": '"root"',
    "security_driver": '"none"',
    "cgroup_controllers": "[ ]",
}
MARK = "# halab: settings for libvirtd without systemd"


def ensure_qemu_conf(path: Path = QEMU_CONF) -> None:
    text = path.read_text() if path.exists() else ""
    if MARK in text:
        return
    for key in QEMU_SETTINGS:
        text = re.sub(rf"^\s*{key}\s*=.*$", "", text, flags=re.M)
    block = "\n".join([MARK, *(f"{k} = {v}" for k, v in QEMU_SETTINGS.items())])
    path.write_text(text.rstrip() + "\n\n" + block + "\n")


def start(paths: LabPaths) -> None:
    ensure_qemu_conf()
    for stale in (SOCKET, Path("/var/run/libvirt/virtlogd-sock")):
        if stale.exists() and not _any_running(paths):
            stale.unlink()
    daemons.start(daemons.Daemon("virtlogd", ("virtlogd",),
                                 lambda: Path("/var/run/libvirt/virtlogd-sock").exists()),
                  paths.netns, paths.pids, paths.logs)
    daemons.start(daemons.Daemon("libvirtd", ("libvirtd",),
                                 SOCKET.exists, ready_timeout_s=60), paths.netns, paths.pids, paths.logs)


def _any_running(paths: LabPaths) -> bool:
    return any(daemons.pid_file(paths.pids, n).exists() for n in ("virtlogd", "libvirtd"))


def stop(paths: LabPaths) -> None:
    daemons.stop_named(paths.pids, ["libvirtd", "virtlogd"], grace_s=10)
