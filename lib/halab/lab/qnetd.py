"""The quorum device's arbiter: corosync-qnetd on the lab's host side, inside the lab netns.

A design with ``quorum { device { model: net ... } }`` has corosync-qdevice on every node ask a
corosync-qnetd outside the cluster for its vote. The lab runs that qnetd itself, on the host-side
address of ``[stacks.pacemaker] qnetd_network`` (default: management), where the nodes reach it
and nothing outside the lab does; the mapped corosync.conf points ``net.host`` at it.

Why without TLS (``-s off``): certificates change no vote and no timer, and with TLS off qnetd
reads no NSS database (measured on 3.0.3: ``-S nss_db_dir=/nonexistent -s off`` starts and
``corosync-qnetd-tool -s`` says "TLS: Unsupported"). Why its own IPC socket and lock file under
the lab's state folder: qnetd's defaults (/var/run/corosync-qnetd/corosync-qnetd.{sock,pid}) are
one per host, so a second lab's qnetd would refuse to start ("Another instance is running") and
corosync-qnetd-tool would read the other lab's daemon.
"""

from __future__ import annotations

from pathlib import Path

from halab.errors import ConfigError, HalabError, LabError
from halab.lab import daemons
from halab.lab.host import run
from halab.lab.paths import LabPaths
from halab.spec import LabSpec

QNETD = Path("/usr/bin/corosync-qnetd")
TOOL = "corosync-qnetd-tool"
NAME = "qnetd"  # its PID file and log: pids/qnetd.pid, logs/qnetd.log
PORT = 5403  # corosync-qnetd's default, and the one the mapped corosync.conf names
DEFAULT_NETWORK = "management"
READY_TIMEOUT_S = 30.0  # measured: listening within a second; a starved TCG host is slower
STOP_GRACE_S = 3.0  # SIGTERM ends it at once (exit 0, socket removed)
TOOL_TIMEOUT_S = 10.0


def network_name(spec: LabSpec) -> str:
    """The lab network whose host-side address qnetd listens on."""
    cfg = spec.stacks.get("pacemaker", {})
    return str(cfg.get("qnetd_network", DEFAULT_NETWORK))


def address(spec: LabSpec) -> str:
    """The lab address qnetd listens on (the host's address on ``qnetd_network``)."""
    net = spec.network(network_name(spec))
    if net.host is None:
        raise ConfigError(f"[stacks.pacemaker] qnetd_network = {net.name!r} has no host address: qnetd "
                          "listens on the host's side of a lab network", str(spec.path))
    return str(net.host)


def run_dir(paths: LabPaths) -> Path:
    return paths.state / "qnetd"


def socket_path(paths: LabPaths) -> Path:
    """This lab's qnetd IPC socket (corosync-qnetd-tool -p)."""
    return run_dir(paths) / "qnetd.sock"


def lock_path(paths: LabPaths) -> Path:
    """This lab's qnetd lock file (qnetd refuses a second instance on the same one)."""
    return run_dir(paths) / "qnetd.lock"


def argv(spec: LabSpec, paths: LabPaths) -> tuple[str, ...]:
    """corosync-qnetd in the foreground (its PID is the daemon's), TLS off, per-lab socket and lock."""
    return (str(QNETD), "-f", "-s", "off", "-l", address(spec), "-p", str(PORT),
            "-S", f"local_socket_file={socket_path(paths)},lock_file={lock_path(paths)}")


def need_installed(paths: LabPaths) -> None:
    if not QNETD.exists():
        raise LabError("corosync-qnetd is not installed: run scripts/setup.sh", paths.lab)


def listening(addr: str, netns: str) -> bool:
    """Something listens on addr:PORT inside the lab netns (qnetd serves once it does)."""
    res = run(["ss", "-Hltn", f"src {addr}:{PORT}"], netns=netns, timeout=5, check=False)
    return bool(res.stdout.strip())


def start(spec: LabSpec, paths: LabPaths) -> int:
    """Start this lab's qnetd; its PID. Refuses when the port is taken (another qnetd of the lab:
    the readiness check would see that one and vouch for a daemon that exited)."""
    need_installed(paths)
    addr = address(spec)
    if listening(addr, paths.netns):
        raise LabError(f"{addr}:{PORT} is already taken in the lab netns: is an earlier qnetd still running?",
                       paths.lab)
    run_dir(paths).mkdir(parents=True, exist_ok=True, mode=0o700)
    daemon = daemons.Daemon(NAME, argv(spec, paths), lambda: listening(addr, paths.netns),
                            ready_timeout_s=READY_TIMEOUT_S, stop_grace_s=STOP_GRACE_S)
    return daemons.start(daemon, paths.netns, paths.pids, paths.logs)


def running(paths: LabPaths) -> bool:
    """This lab's qnetd runs, and it is the one halab started."""
    return daemons.ours(paths.pids, NAME)


def ensure(spec: LabSpec, paths: LabPaths) -> bool:
    """Start qnetd unless this lab's is already running; True when it was started now."""
    if running(paths):
        return False
    start(spec, paths)
    return True


def stop(paths: LabPaths) -> list[str]:
    """Stop this lab's qnetd by its PID file (`halab down` does the same among the lab's daemons)."""
    return daemons.stop_named(paths.pids, [NAME], grace_s=STOP_GRACE_S)


def _tool(paths: LabPaths, *args: str) -> str:
    """corosync-qnetd-tool on this lab's socket, inside the netns; its output or one line saying why not."""
    cmd = [TOOL, *args, "-p", str(socket_path(paths))]
    try:
        res = run(cmd, netns=paths.netns, timeout=TOOL_TIMEOUT_S, check=False)
    except HalabError as err:  # evidence: a missing tool or a hung daemon is said, not raised
        return f"{' '.join(cmd)}: {err}"
    if not res.ok:
        why = (res.stderr or res.stdout).strip().splitlines()
        return f"{' '.join(cmd)}: exit {res.exit_code}: {why[-1] if why else 'no output'}"
    return res.stdout


def status(paths: LabPaths) -> str:
    """qnetd's own status (address, TLS, clients, clusters), for evidence."""
    return _tool(paths, "-s", "-v")


def clients(paths: LabPaths) -> str:
    """Every connected qdevice per cluster with its membership and the vote qnetd last sent it."""
    return _tool(paths, "-l", "-v")
