"""Ctrl-C, SIGTERM and SIGHUP: one path that stops a run within seconds and leaves nothing injected.

Why one handler for all three: a CI cancel or runner timeout sends SIGTERM, a closed terminal
SIGHUP, a person Ctrl-C; each must end the same way. The first signal becomes a KeyboardInterrupt
in the main thread (pytest then ends the session: no next test) and sets `STOP`, which every
wait on a worker thread checks, so no thread keeps the process alive. Heals run inside
`deferred()`: a first signal during a heal lets the heal finish (it is bounded) and is raised
right after it. A second signal stops at once: it kills the process groups halab started for
commands and exits, and says that the lab is left as it is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from halab.errors import HalabError

STOP = threading.Event()
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_state: dict[str, object] = {"count": 0, "pending": None, "deferred": 0, "installed": False}
_groups: set[int] = set()
_groups_lock = threading.Lock()
# What a first signal does before it raises, outside a deferred block: ends the main thread's wait
# on a remote command (halab.lab.remote registers it). Why: invoke catches the KeyboardInterrupt
# inside its wait and forwards it to the remote command, then waits on for it (up to its timeout).
_on_first: list[Callable[[], None]] = []


def on_first_signal(fn: Callable[[], None]) -> None:
    """Run ``fn`` on a first signal that stops the run now (not during a heal)."""
    if fn not in _on_first:
        _on_first.append(fn)


class Interrupted(HalabError):
    """A wait on a worker thread ended because the run is being stopped."""

    exit_code = 130


def _say(message: str) -> None:
    """Straight to the terminal's stderr with one write: safe inside a signal handler. Under
    pytest, fd 2 is the capture's file during a test; install() is given the saved original."""
    with contextlib.suppress(OSError):
        os.write(int(_state.get("out_fd", 2)), f"\n[halab] {message}\n".encode())  # type: ignore[call-overload]


# What a test session does on a first signal (fixtures/lab.py): its line says so.
SESSION_ON_STOP = "stopping the run; healing what was injected (bounded), then the lab is torn down unless --keep-lab"


def install(say: Callable[[str], None] = _say, on_stop: str = "stopping", out_fd: int = 2) -> bool:
    """Handle SIGINT, SIGTERM and SIGHUP like Ctrl-C (main thread only; False elsewhere).
    ``on_stop``: what this process does on a first signal, as its line says it (a test session
    heals and tears down; `halab ssh` only ends). ``out_fd``: where that line goes."""
    if threading.current_thread() is not threading.main_thread():
        return False
    del say  # messages go to stderr directly: a terminal writer is not safe in a handler
    _state["on_stop"] = on_stop
    _state["out_fd"] = out_fd
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    _state["installed"] = True
    return True


def reset() -> None:
    """Forget a previous interrupt (tests; a long-lived process that handled one)."""
    STOP.clear()
    _state.update(count=0, pending=None, deferred=0)


def _handler(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    count = int(_state["count"]) + 1  # type: ignore[call-overload]
    _state["count"] = count
    STOP.set()
    if count >= 2:
        _say(f"{name} again: stopping now, without heal or teardown; the lab is left as it is "
             "(`halab down` removes it, the next session's sweep heals it)")
        kill_groups()
        os._exit(128 + signum)
    _say(f"{name}: {_state.get('on_stop') or 'stopping'}; press Ctrl-C again to stop at once")
    if int(_state["deferred"]) > 0:  # type: ignore[call-overload]
        _state["pending"] = name
        return
    for fn in list(_on_first):
        with contextlib.suppress(Exception):  # a handler must not fail the way out
            fn()
    raise KeyboardInterrupt(name)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A first signal inside waits until the block ends (a heal finishes, bounded); a second one
    still stops at once."""
    _state["deferred"] = int(_state["deferred"]) + 1  # type: ignore[call-overload]
    try:
        yield
    finally:
        _state["deferred"] = int(_state["deferred"]) - 1  # type: ignore[call-overload]
        pending = _state["pending"]
        if pending and int(_state["deferred"]) == 0:  # type: ignore[call-overload]
            _state["pending"] = None
            raise KeyboardInterrupt(str(pending))  # also over an error going up: the interrupt wins


def check(what: str = "") -> None:
    """Raise Interrupted if the run is being stopped (for waits on worker threads)."""
    if STOP.is_set():
        raise Interrupted(f"run interrupted{': ' + what if what else ''}")


def track_group(pgid: int) -> None:
    with _groups_lock:
        _groups.add(pgid)


def untrack_group(pgid: int) -> None:
    with _groups_lock:
        _groups.discard(pgid)


def _snapshot_groups() -> list[int]:
    """The tracked groups, safe inside a signal handler: the handler runs on the main thread,
    which may itself hold the lock at that instant (waiting for it would hang the way out), so
    the lock is only tried; without it the set is copied as it stands (a copy racing another
    thread's add is retried)."""
    got = _groups_lock.acquire(blocking=False)
    try:
        for _ in range(100):
            try:
                return list(_groups)
            except RuntimeError:  # changed size during the copy
                continue
        return []
    finally:
        if got:
            _groups_lock.release()


def kill_groups() -> None:
    """SIGKILL every command process group still running (the second signal's way out)."""
    for pgid in _snapshot_groups():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
