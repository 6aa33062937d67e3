"""The one timeout discipline: every subprocess, blocking library call and lock goes through here.

Why one module: a call without an end is how a harness hangs for 15 minutes on a node that froze
mid-handshake. `run` kills the whole process group at its timeout (a child's children included:
`ip netns exec` -> sshd -> ...), `bounded` gives a blocking library call (libvirt-python) a
client-side deadline, `file_lock` waits for a lock for a bounded time and says so, and `Deadline`
lets a multi-step operation (the cluster restore) cap each step by what is left of its budget.
tests_unit/test_timeouts.py walks the code and fails on any call that bypasses these.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from halab import interrupt
from halab.errors import LabError

T = TypeVar("T")
KILL_WAIT_S = 5.0


def run(argv: Sequence[str], *, timeout: float, input: str | None = None,
        env: Mapping[str, str] | None = None, cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:
    """subprocess.run with a mandatory timeout that ends the whole process group.

    Raises subprocess.TimeoutExpired (after the group is dead) and FileNotFoundError like
    subprocess.run; an interrupt (Ctrl-C, SIGTERM) also ends the group before it goes up.
    """
    proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                            env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True)
    interrupt.track_group(proc.pid)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise subprocess.TimeoutExpired(list(argv), timeout) from None
    except BaseException:
        kill_group(proc)
        raise
    finally:
        interrupt.untrack_group(proc.pid)
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the process group `proc` leads (it was started with start_new_session) and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
        proc.communicate(timeout=KILL_WAIT_S)
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        proc.wait(timeout=1)


def bounded(fn: Callable[[], T], timeout: float, what: str, where: str = "") -> T:
    """`fn()` on a daemon thread, given up after `timeout` s with a LabError naming `what`.

    For library calls that have no timeout of their own (libvirt-python on a hung libvirtd):
    the thread is abandoned, the caller goes on. Exceptions of `fn` are raised in the caller.
    """
    box: dict[str, object] = {}

    def call() -> None:
        try:
            box["value"] = fn()
        except BaseException as err:  # handed to the caller as is
            box["error"] = err

    thread = threading.Thread(target=call, name=f"bounded-{what[:30]}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise LabError(f"{what}: no answer within {timeout:.0f} s", where)
    if "error" in box:
        err = box["error"]
        assert isinstance(err, BaseException)
        raise err
    return box["value"]  # type: ignore[return-value]


def parallel(fn: Callable[[str], T], names: Sequence[str], poll_s: float = 0.5) -> list[T]:
    """`fn(name)` for every name at once, on daemon threads; the first error is raised.

    Why not a ThreadPoolExecutor: its threads are joined at interpreter exit and on `with` exit,
    so an interrupt would wait for every worker's call to end. Here the caller waits in short
    joins (an interrupt lands at once) and abandons the workers (each call is bounded itself).
    """
    results: dict[int, T] = {}
    errors: dict[int, BaseException] = {}

    def work(i: int, name: str) -> None:
        try:
            results[i] = fn(name)
        except BaseException as err:  # handed to the caller
            errors[i] = err

    threads = [threading.Thread(target=work, args=(i, n), name=f"parallel-{n}", daemon=True)
               for i, n in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(poll_s)
    if errors:
        raise errors[min(errors)]
    return [results[i] for i in range(len(names))]


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, what: str, progress: Callable[[str], None] = print,
              poll_s: float = 0.5) -> Iterator[None]:
    """An exclusive flock on `path`, waited for at most `timeout` s (said once if it must wait)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        deadline = time.monotonic() + timeout
        said = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LabError(f"{what}: still held by another run after {timeout:.0f} s", str(path)) from None
                if not said:
                    progress(f"waiting for {what} ({path}, held by another run), at most {timeout:.0f} s")
                    said = True
                time.sleep(poll_s)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN | fcntl.LOCK_NB)


@dataclass
class Deadline:
    """A budget for a multi-step operation: each step's timeout is capped by what is left."""

    within_s: float
    what: str
    where: str = ""
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.within_s - (time.monotonic() - self.started)

    def cap(self, step_s: float, minimum_s: float = 1.0) -> float:
        """min(step, what is left); raises once the budget is spent (no step overruns it)."""
        left = self.left()
        if left <= 0:
            raise LabError(f"{self.what}: budget of {self.within_s:.0f} s spent", self.where)
        return max(min(step_s, left), min(minimum_s, left))

    def expired(self) -> bool:
        return self.left() <= 0
