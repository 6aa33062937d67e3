"""SSH to the nodes through the lab namespace, every call bounded in time.

Why this shape: a node being fenced or frozen must never hang the run. Each connection is made on
a socket opened inside the lab netns (no packet from the root namespace), with connect, banner,
auth and channel timeouts; each command has its own timeout and no stdin (`in_stream=False`);
any failure drops the connection so the next call reconnects (after a fault the old one is dead).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halab.errors import LabError
from halab.lab.host import Result, netns_socket

# paramiko's transport thread logs every failed handshake with a traceback; a node that is being
# fenced fails handshakes by design, and each failure reaches the caller as Unreachable anyway.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)

CONNECT_TIMEOUT_S = 5.0
DEFAULT_COMMAND_TIMEOUT_S = 30.0


class Unreachable(LabError):
    """The node did not answer over SSH within its timeout."""


@dataclass
class Remote:
    """One node over SSH. Thread-safe: one command at a time per node."""

    name: str
    address: str
    netns: str
    key_file: Path
    user: str = "root"
    _conn: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _connect(self, timeout: float) -> Any:
        from fabric import Connection

        sock = netns_socket(self.netns, self.address, 22, timeout)
        conn = Connection(
            self.address, user=self.user,
            connect_timeout=timeout,
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

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # closing a dead link may fail in many ways; it is gone either way
            with contextlib.suppress(Exception):
                conn.close()

    def run(self, cmd: str, timeout: float = DEFAULT_COMMAND_TIMEOUT_S, check: bool = False,
            connect_timeout: float = CONNECT_TIMEOUT_S) -> Result:
        """Run `cmd` as root on the node; raises Unreachable when SSH itself fails."""
        from invoke.exceptions import CommandTimedOut

        with self._lock:
            started = time.monotonic()
            try:
                if self._conn is None:
                    self._conn = self._connect(connect_timeout)
                res = self._conn.run(cmd, hide=True, warn=True, timeout=timeout, in_stream=False, pty=False)
            except CommandTimedOut:
                self.close()
                raise Unreachable(f"command timed out after {timeout:.0f} s: {cmd[:80]}", self.name) from None
            except (TimeoutError, OSError, ConnectionError, EOFError) as err:
                self.close()
                raise Unreachable(f"ssh {self.address}: {err or type(err).__name__}", self.name) from None
            except Exception as err:  # paramiko's SSHException family and friends
                self.close()
                raise Unreachable(f"ssh {self.address}: {type(err).__name__}: {err}", self.name) from None
            result = Result(cmd, res.exited, res.stdout, res.stderr, time.monotonic() - started)
        if check and not result.ok:
            tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-2:])
            raise LabError(f"{cmd[:100]} failed (exit {result.exit_code}): {tail}", self.name)
        return result

    def put_text(self, text: str, path: str, mode: int = 0o644, timeout: float = 30.0) -> None:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self._connect(CONNECT_TIMEOUT_S)
                sftp = self._conn.sftp()
                sftp.get_channel().settimeout(timeout)
                with sftp.open(path, "w") as fh:
                    fh.write(text)
                sftp.chmod(path, mode)
            except Exception as err:
                self.close()
                raise Unreachable(f"upload to {path}: {type(err).__name__}: {err}", self.name) from None

    def wait_ssh(self, within_s: float, poll_s: float = 2.0) -> float:
        """Wait until the node answers `true` over SSH; returns the seconds it took."""
        started = time.monotonic()
        last: Exception | None = None
        from tenacity import RetryError, Retrying, retry_if_exception_type, stop_before_delay, wait_fixed

        try:
            for attempt in Retrying(stop=stop_before_delay(within_s), wait=wait_fixed(poll_s),
                                    retry=retry_if_exception_type(LabError), reraise=False):
                with attempt:
                    try:
                        self.run("true", timeout=10, connect_timeout=3, check=True)
                    except LabError as err:
                        last = err
                        raise
        except RetryError:
            raise Unreachable(f"no SSH answer within {within_s:.0f} s ({last})", self.name) from None
        return time.monotonic() - started
