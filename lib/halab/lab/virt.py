"""libvirt on a host without systemd: virtlogd and libvirtd started in the lab netns, by PID.

libvirtd creates the qemu taps in its own namespace, so running it inside the lab netns keeps
every tap and bridge there. Each lab has a libvirt of its own: its daemons (and the fence sshd
whose shell runs virsh) see the lab's own folders bind-mounted over /etc/libvirt, /run/libvirt,
/var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt, in the mount namespace `ip netns exec`
gives them (the binds never reach the host's). So several labs run side by side, each with its
own domains, sockets and state, and a libvirtd never adopts another lab's domains. The harness
reaches a lab's libvirtd through its socket path (no network traffic).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

from halab.lab import daemons
from halab.lab.paths import LabPaths

URI = "qemu:///system"
# host path -> the lab's own folder under <state>/libvirt/ (what each lab's daemons see instead)
VIEW = {"/etc/libvirt": "etc", "/run/libvirt": "run", "/var/lib/libvirt": "lib", "/var/cache/libvirt": "cache",
        "/var/log/libvirt": "log"}
_current = URI  # the lab this process works on (one per process: the CLI, an xdist worker)
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


def socket_of(paths: LabPaths) -> Path:
    return paths.state / "libvirt" / "run" / "libvirt-sock"


def uri_of(paths: LabPaths) -> str:
    """The URI of this lab's own libvirtd (its socket path, seen from the host)."""
    return f"{URI}?socket={socket_of(paths)}"


def select(paths: LabPaths) -> None:
    """Make this lab's libvirtd the one every connection of this process talks to."""
    global _current  # noqa: PLW0603 - one lab per process; set where the lab is built or attached
    _current = uri_of(paths)


def current_uri() -> str:
    return _current


def in_lab_view(paths: LabPaths, argv: tuple[str, ...]) -> tuple[str, ...]:
    """argv run with the lab's libvirt folders bind-mounted over the host's (inside the mount
    namespace of `ip netns exec`, so the host never sees the binds)."""
    base = paths.state / "libvirt"
    binds = " && ".join(f"mkdir -p {host} && mount --bind {shlex.quote(str(base / mine))} {host}"
                        for host, mine in VIEW.items())
    return ("sh", "-c", f"{binds} && exec {shlex.join(argv)}")


def prepare_view(paths: LabPaths, etc: Path = Path("/etc/libvirt")) -> None:
    """The lab's libvirt folders: a copy of the host's /etc/libvirt (halab's qemu.conf settings
    written into the copy, the host's file untouched) without any defined domain or autostarted
    network (another lab's or an old run's must not come up here); the others start empty."""
    base = paths.state / "libvirt"
    if (base / "etc").exists():
        shutil.rmtree(base / "etc")
    shutil.copytree(etc, base / "etc", symlinks=True)
    ensure_qemu_conf(base / "etc" / "qemu.conf")
    for stale in [*(base / "etc" / "qemu").glob("*.xml"), *(base / "etc" / "qemu" / "autostart").glob("*"),
                  *(base / "etc" / "qemu" / "networks" / "autostart").glob("*")]:
        stale.unlink()
    for mine in VIEW.values():
        (base / mine).mkdir(parents=True, exist_ok=True)


def start(paths: LabPaths) -> None:
    run_dir = paths.state / "libvirt" / "run"
    if not _any_running(paths):  # sockets, pid files, domain status of a crashed run: gone
        shutil.rmtree(run_dir, ignore_errors=True)
    prepare_view(paths)
    daemons.start(daemons.Daemon("virtlogd", in_lab_view(paths, ("virtlogd", "-p", "/run/libvirt/virtlogd.pid")),
                                 (run_dir / "virtlogd-sock").exists),
                  paths.netns, paths.pids, paths.logs)
    daemons.start(daemons.Daemon("libvirtd", in_lab_view(paths, ("libvirtd", "-p", "/run/libvirt/libvirtd.pid")),
                                 socket_of(paths).exists, ready_timeout_s=60), paths.netns, paths.pids, paths.logs)
    select(paths)


def _any_running(paths: LabPaths) -> bool:
    return any(daemons.pid_file(paths.pids, n).exists() for n in ("virtlogd", "libvirtd"))


def stop(paths: LabPaths) -> None:
    daemons.stop_named(paths.pids, ["libvirtd", "virtlogd"], grace_s=10)
