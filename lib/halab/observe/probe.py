"""The client's view: the service IP probed from inside the lab netns, about once a second.

It answers "ok <host>", so the timeline shows both availability and which node served it; the
same helper writes a record before the fault and reads it back after.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from halab.lab.host import netns_socket
from halab.observe.timeline import Timeline

MAX_ANSWER_BYTES = 1 << 20  # the app answers a few bytes; a trickle or a flood ends here


def http(netns: str, address: str, port: int, method: str, path: str, timeout: float = 3.0) -> tuple[int, str]:
    """One HTTP/1.0 request over a socket opened in the lab netns: (status, body); (0, error) on failure.

    The whole exchange (connect, send, every read) ends within `timeout`."""
    try:
        sock = netns_socket(netns, address, port, timeout)
    except ConnectionError as err:
        return 0, str(err)
    deadline = time.monotonic() + timeout
    try:
        sock.settimeout(timeout)
        sock.sendall(f"{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Length: 0\r\n\r\n".encode())
        chunks: list[bytes] = []
        while sum(map(len, chunks)) < MAX_ANSWER_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                return 0, f"answer not complete within {timeout:.0f} s"
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as err:
        return 0, str(err)
    finally:
        sock.close()
    head, _, body = b"".join(chunks).decode(errors="replace").partition("\r\n\r\n")
    try:
        return int(head.split()[1]), body
    except (IndexError, ValueError):
        return 0, f"bad answer: {head[:80]!r}"


@dataclass
class ServiceProbe:
    netns: str
    address: str
    port: int
    timeline: Timeline
    interval_s: float = 1.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            sent = self.timeline.clock()
            code, body = http(self.netns, self.address, self.port, "GET", "/health", timeout=2.0)
            t = (sent + self.timeline.clock()) / 2
            if code == 200 and body.startswith("ok "):
                self.timeline.record("probe", body.split()[1], "probe-ok", body.strip(), t=t)
            else:
                self.timeline.record("probe", None, "probe-fail", f"{code} {body.strip()[:80]}", t=t)
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
