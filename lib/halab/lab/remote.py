"""SSH to the nodes through the lab namespace, every call bounded in time.

Why this shape: a node being fenced or frozen must never hang the run. Each connection is made on
a socket opened inside the lab netns (no packet from the root namespace), with connect, banner,
auth and channel timeouts; each command has its own timeout and no stdin (`in_stream=False`);
any failure drops the connection so the next call reconnects (after a fault the old one is dead).
"""

from __future__ import annotations

import contextlib
import logging
import math
import shlex
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halab import interrupt
from halab.errors import LabError
from halab.lab.host import Result, netns_socket

# paramiko's transport thread logs every failed handshake with a traceback; a node that is being
# fenced fails handshakes by design, and each failure reaches the caller as Unreachable anyway.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)

CONNECT_TIMEOUT_S = 5.0
# Reading evidence from a node right after a fault (its logs, fence history, status): a TCG guest
# that has just booted, or is busy fencing, sends sshd's banner seconds late. Measured live
# (rgmanager, seed timings): 3 s lost the fenced node's logs and the fence history of both nodes.
EVIDENCE_CONNECT_TIMEOUT_S = 10.0
DEFAULT_COMMAND_TIMEOUT_S = 30.0
WATCHDOG_MARGIN_S = 5.0  # beyond connect + command timeouts, the watchdog cuts the link
CONNECT_ATTEMPTS = 3  # a link reset during the handshake is retried; the whole set-up stays in 2 x connect
RETRY_PAUSE_S = 0.5


def transient(err: BaseException) -> bool:
    """Whether a failed SSH set-up is worth one more try: the link was reset under the handshake.

    Why: measured in CI, a node busy with a fence storm's aftermath closed a fresh connection
    between key exchange and auth ("No existing session"), and the broken-fence test failed on the
    harness's own SSH, not on the cluster. A timeout (a frozen node) or an auth failure (a wrong
    key) is never retried: the first would double the wait, the second cannot heal.
    """
    import paramiko

    if isinstance(err, (TimeoutError, paramiko.AuthenticationException, ConnectionRefusedError)):
        return False
    return isinstance(err, (paramiko.SSHException, EOFError, ConnectionResetError, BrokenPipeError))


class Unreachable(LabError):
    """The node did not answer over SSH within its timeout."""


def _no_host_ssh_config() -> Any:
    """A fabric Config that reads no ssh_config and no fabric/invoke files of the host.

    Why: a ProxyCommand or ProxyJump in /etc/ssh/ssh_config or ~/.ssh/config would route the
    harness's SSH around the lab netns socket; a Host alias could point it somewhere else.
    """
    from fabric import Config
    from paramiko.config import SSHConfig

    return Config(ssh_config=SSHConfig(), lazy=True)


def on_node(cmd: str, timeout: float) -> str:
    """`cmd` as the node runs it: under coreutils `timeout` (a little after ours, then KILL), so it
    dies on the node when the harness stops waiting. Why: without a PTY nothing tells the node's
    shell that the harness gave up; measured live, four `clusvcadm` calls the restore had given up
    on were still hanging on the node minutes later. Daemons a command starts (setsid) are not in
    its process group and stay."""
    return f"timeout -k 5 {math.ceil(timeout) + 2} bash -c {shlex.quote(cmd)}"


# The main thread's remote calls in flight: (remote, its session's flags). A first Ctrl-C/SIGTERM
# cuts them (interrupt.on_first_signal) so the run stops within seconds, not at the command's end.
_MAIN_IN_FLIGHT: list[tuple[Remote, dict[str, bool]]] = []


def _cut_main_calls() -> None:
    for remote, fired in list(_MAIN_IN_FLIGHT):
        fired["interrupted"] = True
        remote._cut()


interrupt.on_first_signal(_cut_main_calls)


@dataclass
class Remote:
    """One node over SSH. Thread-safe: one command at a time per node, waited for with a bound."""

    name: str
    address: str
    netns: str
    key_file: Path
    user: str = "root"
    _conn: Any = field(default=None, repr=False)
    _sock: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _connect(self, timeout: float) -> Any:
        from fabric import Connection

        sock = netns_socket(self.netns, self.address, 22, timeout)
        self._sock = sock
        conn = Connection(
            self.address, user=self.user, port=22, config=_no_host_ssh_config(),
            connect_timeout=timeout, forward_agent=False,
            connect_kwargs={
                "key_filename": str(self.key_file), "sock": sock, "look_for_keys": False,
                "allow_agent": False, "banner_timeout": timeout, "auth_timeout": timeout,
                "channel_timeout": timeout,
            },
        )
        conn.open()
        transport = conn.client.get_transport()
        if transport is not None:
            transport.set_keepalive(2)
        return conn

    def _connection(self, connect_timeout: float, fired: dict[str, bool]) -> Any:
        """The live connection, or a fresh one; a reset handshake is retried within 2 x connect.

        A cached connection whose transport died (the node rebooted, a fault cut it) is dropped
        first: using it would fail the command for a reason that has nothing to do with it.
        """
        if self._conn is not None and not self._conn.is_connected:
            self.close()
        if self._conn is not None:
            return self._conn
        deadline = time.monotonic() + 2 * connect_timeout
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                self._conn = self._connect(connect_timeout)
                return self._conn
            except Exception as err:
                self.close()
                left = deadline - time.monotonic()
                if fired["cut"] or attempt == CONNECT_ATTEMPTS or not transient(err) or left < 1.0:
                    raise
                time.sleep(min(RETRY_PAUSE_S, left))
        raise AssertionError("unreachable")  # the loop returns or raises

    def close(self) -> None:
        conn, self._conn = self._conn, None
        sock, self._sock = self._sock, None
        if conn is not None:
            # closing a dead link may fail in many ways; it is gone either way
            with contextlib.suppress(Exception):
                conn.close()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _cut(self) -> None:
        """The watchdog: close the socket under a call that overran its bound. paramiko's waits
        (banner, auth, channel open, exec start, SFTP open) end when their transport dies."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(2)
            with contextlib.suppress(OSError):
                sock.close()

    @contextlib.contextmanager
    def _session(self, what: str, bound_s: float) -> Iterator[dict[str, bool]]:
        """Hold this node's lock (waited for at most `bound_s`) and arm a watchdog for the call."""
        if not self._lock.acquire(timeout=bound_s):
            raise Unreachable(f"{what}: another call to this node did not end within {bound_s:.0f} s", self.name)
        fired = {"cut": False, "interrupted": False}

        def fire() -> None:
            fired["cut"] = True
            self._cut()

        timer = threading.Timer(bound_s, fire)
        timer.daemon = True
        timer.start()
        main = threading.current_thread() is threading.main_thread()
        entry = (self, fired)
        if main:
            _MAIN_IN_FLIGHT.append(entry)
        try:
            yield fired
            if fired["interrupted"]:  # the call returned because the interrupt cut it
                raise KeyboardInterrupt("interrupted during a remote call")
        finally:
            if main:
                with contextlib.suppress(ValueError):
                    _MAIN_IN_FLIGHT.remove(entry)
            timer.cancel()
            self._lock.release()

    def run(self, cmd: str, timeout: float = DEFAULT_COMMAND_TIMEOUT_S, check: bool = False,
            connect_timeout: float = CONNECT_TIMEOUT_S) -> Result:
        """Run `cmd` as root on the node; raises Unreachable when SSH itself fails.

        Every step is bounded: the connection by `connect_timeout`, the command by `timeout`, and
        the whole call (exec start included, which paramiko waits for without a timeout) by a
        watchdog at 2 x connect (one retried handshake) + command + a margin that cuts the link.
        """
        from invoke.exceptions import CommandTimedOut

        bound = 2 * connect_timeout + timeout + WATCHDOG_MARGIN_S
        with self._session(cmd[:60], bound) as fired:
            started = time.monotonic()
            try:
                conn = self._connection(connect_timeout, fired)
                res = conn.run(on_node(cmd, timeout), hide=True, warn=True, timeout=timeout, in_stream=False,
                               pty=False)
            except CommandTimedOut:
                self.close()
                raise Unreachable(f"command timed out after {timeout:.0f} s: {cmd[:80]}", self.name) from None
            except Exception as err:  # OSError, EOFError, paramiko's SSHException family and friends
                self.close()
                if fired["interrupted"]:
                    raise KeyboardInterrupt("interrupted during a remote call") from None
                if fired["cut"]:
                    raise Unreachable(f"ssh {self.address}: no answer within {bound:.0f} s: {cmd[:80]}",
                                      self.name) from None
                raise Unreachable(f"ssh {self.address}: {type(err).__name__}: {err}", self.name) from None
            result = Result(cmd, res.exited, res.stdout, res.stderr, time.monotonic() - started)
        if check and not result.ok:
            tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-2:])
            raise LabError(f"{cmd[:100]} failed (exit {result.exit_code}): {tail}", self.name)
        return result

    def put_text(self, text: str, path: str, mode: int = 0o644, timeout: float = 30.0) -> None:
        """Write `text` to `path` on the node with `mode` from the first byte on.

        Why not SFTP open + chmod: SFTP creates the file with the server's umask (0644), so a key
        would be world-readable until the chmod. The file is created empty with `mode` first
        (umask 077, install -m), written through SFTP into the same inode, then moved in place.
        """
        tmp = f"{path}.halab-tmp"
        self.run(f"umask 077 && rm -f {shlex.quote(tmp)} && install -m {mode:o} /dev/null {shlex.quote(tmp)}",
                 timeout=timeout, check=True)
        bound = 2 * CONNECT_TIMEOUT_S + timeout + WATCHDOG_MARGIN_S
        with self._session(f"upload to {path}", bound) as fired:
            try:
                sftp = self._connection(CONNECT_TIMEOUT_S, fired).sftp()
                sftp.get_channel().settimeout(timeout)
                with sftp.open(tmp, "r+") as fh:
                    fh.write(text)
                sftp.posix_rename(tmp, path)
            except Exception as err:
                self.close()
                why = f"no answer within {bound:.0f} s" if fired["cut"] else f"{type(err).__name__}: {err}"
                raise Unreachable(f"upload to {path}: {why}", self.name) from None

    def wait_port(self, within_s: float, poll_s: float = 0.5) -> float | None:
        """Seconds until the node's port 22 accepts a TCP connection (None: not within ``within_s``).

        Why apart from ``wait_ssh``: it tells a guest whose network is not back from one whose sshd
        is slow to answer (the snapshot reset's SSH wait is measured with both)."""
        started = time.monotonic()
        while (left := started + within_s - time.monotonic()) > 0:
            interrupt.check(f"waiting for port 22 on {self.name}")
            try:
                netns_socket(self.netns, self.address, 22, max(0.2, min(2.0, left))).close()
                return time.monotonic() - started
            except ConnectionError:
                time.sleep(max(0.0, min(poll_s, started + within_s - time.monotonic())))
        return None

    def wait_ssh(self, within_s: float, poll_s: float = 2.0) -> float:
        """Wait until the node answers `true` over SSH; returns the seconds it took.

        Each attempt is capped by what is left of `within_s`, so the wait ends at its bound.
        """
        started = time.monotonic()
        deadline = started + within_s
        last: Exception | None = None
        while True:
            interrupt.check(f"waiting for SSH on {self.name}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unreachable(f"no SSH answer within {within_s:.0f} s ({last})", self.name)
            try:
                self.run("true", timeout=max(1.0, min(10.0, left - 3)), connect_timeout=max(1.0, min(3.0, left)),
                         check=True)
                return time.monotonic() - started
            except LabError as err:
                last = err
            time.sleep(max(0.0, min(poll_s, deadline - time.monotonic())))
