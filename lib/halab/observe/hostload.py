"""The host-load sentinel: did the lab get its CPU while the fault ran?

Why: nightly runners are shared machines. A vCPU thread that is runnable but waits for a host CPU
makes every timer in the guest fire late (corosync's token, pacemaker's monitors), so a starved
host turns a correct cluster into "TOO SLOW" or even a wrong fence-race winner. The kernel counts
that wait per thread: the second field of /proc/<pid>/task/<tid>/schedstat (run_delay, ns). An
observer thread samples it for each node's qemu process onto the timeline; the judge calls a run
INCONCLUSIVE when the per-vCPU wait over any token-long stretch of the fault exceeds a fifth of it
(``lag_bound``).

Demonstrated live by ``Starvation`` (tests_failover: CPU hogs beside the lab, the lab's qemu under
SCHED_IDLE, while the fault runs): the verdict turns INCONCLUSIVE with the measured
lag, where an idle run keeps the sentinel quiet.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from halab import interrupt
from halab.errors import LabError
from halab.lab.domains import qemu_pids
from halab.observe.timeline import Observation, Timeline
from halab.observe.verdict import HostLag

PROC = Path("/proc")
KIND = "cpu"  # observations: source "host", node, kind "cpu", detail "run_delay_s=<x> vcpus=<n> pid=<p>"
# Starved: over a token-long stretch a vCPU waited for a host CPU more than a fifth of the time.
# Measured here (2 cores, TCG; the phase records' host_lag_s): idle runs wait 6-9 % of a token-long
# stretch (fast 0.32-0.37 s per 5 s, seed 1.0-1.8 s per 20 s); with hogs beside the lab
# (Starvation) 1.39 s per 5 s (28 %) already pushed a correct cluster's fence past its window
# (suspend on the standby, fast: fenced nobody by the heal at 45 s). A half-of-the-token bound
# called that host fine; a fifth is 2-3x the idle wait and below the first wrong verdict measured.
LAG_FRACTION_OF_TOKEN = 0.2


def lag_bound(token_ms: float) -> tuple[float, float]:
    """(bound, stretch) in seconds: the wait allowed per vCPU over any token-long stretch."""
    token_s = token_ms / 1000.0
    return LAG_FRACTION_OF_TOKEN * token_s, token_s


def qemu_pid(domain: str, proc: Path = PROC, nodes_dir: Path | None = None) -> int | None:
    """The pid of the qemu process running ``domain`` (libvirt passes ``-name guest=<domain>,...``);
    with ``nodes_dir``, only one whose disk lies in that lab's nodes folder (domains.qemu_pids: a
    same-named domain of another lab or tool on the host is never sampled, nor put below the hogs)."""
    if nodes_dir is not None:
        return qemu_pids([domain], nodes_dir, proc).get(domain)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not args or b"qemu" not in Path(args[0].decode(errors="replace")).name.encode():
            continue
        for i, arg in enumerate(args[:-1]):
            if arg == b"-name" and args[i + 1].decode(errors="replace").split(",")[0] in (domain, f"guest={domain}"):
                return int(entry.name)
    return None


def run_delay(pid: int, proc: Path = PROC) -> tuple[float, int] | None:
    """Summed run_delay (s) of the process's vCPU threads ("CPU n/TCG|KVM"; all threads when the
    names are not set: a qemu just starting has not named them yet) and their count; None when the
    process is gone."""
    tasks = proc / str(pid) / "task"
    delays: list[tuple[str, float]] = []
    try:
        for task in tasks.iterdir():
            try:
                comm = (task / "comm").read_text().strip()
                fields = (task / "schedstat").read_text().split()
                delays.append((comm, int(fields[1]) / 1e9))
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        return None
    vcpus = [d for comm, d in delays if comm.startswith("CPU ")] or [d for _, d in delays]
    return (sum(vcpus), len(vcpus)) if vcpus else None


def _fields(o: Observation) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in o.detail.split())


def parse(o: Observation) -> tuple[float, int] | None:
    values = _fields(o)
    try:
        return float(values["run_delay_s"]), int(values["vcpus"])
    except (KeyError, ValueError):
        return None


def series(o: Observation) -> str:
    """Which counters a sample summed: its qemu pid and thread count. Two samples are compared only
    within one series. Why: a fence starts a new qemu whose counters begin at zero, and a qemu just
    started sums all its threads until the vCPU threads are named; a difference across either is
    no wait at all (the first snapshot trial's 7.91 s per 5 s stretch was longer than the stretch)."""
    values = _fields(o)
    return f"{values.get('pid', '')}/{values.get('vcpus', '')}"


def host_lag(items: Iterable[Observation], t_from: float, t_to: float, bound_s: float,
             stretch_s: float | None = None, ends: Mapping[str, float] | None = None) -> HostLag | None:
    """The worst per-vCPU run-queue wait over any stretch of ``stretch_s`` (default: the token,
    bound / LAG_FRACTION_OF_TOKEN) within [t_from, t_to]; None when no node has two samples there.

    ``ends``: node -> when its samples stop counting (its domain was reset by a fence). Why: the
    reset node's new qemu boots a TCG guest flat out, and its vCPUs then wait for the host by the
    second (measured in CI: 1.81 s per 5 s on the fenced owner, bound 1.00 s), yet no timer any
    judged window reads runs on a booting node. What its boot takes from the host still shows
    where it matters: on the survivors' vCPUs, which keep counting."""
    stretch = stretch_s if stretch_s is not None else bound_s / LAG_FRACTION_OF_TOKEN
    ends = ends or {}
    per_node: dict[str, list[tuple[float, float, int, str]]] = {}
    for o in items:
        if o.source != "host" or o.kind != KIND or o.node is None:
            continue
        got = parse(o)
        if got is not None:
            per_node.setdefault(o.node, []).append((o.t, *got, series(o)))
    worst: HostLag | None = None
    count = 0
    for node, samples in sorted(per_node.items()):
        samples.sort()
        before = [s for s in samples if s[0] < t_from][-1:]
        end = min(t_to, ends.get(node, t_to))
        inside = before + [s for s in samples if t_from <= s[0] <= end]
        count += len(inside)
        for i in range(len(inside) - 1):
            ta, da, na, sa = inside[i]
            for j in range(i + 1, len(inside)):
                tb, db, nb, sb = inside[j]
                if j > i + 1 and tb - ta > stretch + 1e-9:
                    break  # adjacent samples always count: a sampling gap is itself a sign of load
                if sb != sa:
                    continue
                lag = max(0.0, db - da) / max(1, min(na, nb))
                if worst is None or lag > worst.lag_s:
                    worst = HostLag(lag, bound_s, node, 0)
    if worst is None:
        return None
    return HostLag(round(worst.lag_s, 3), bound_s, worst.node, count)


@dataclass
class HostSampler:
    """Samples each node's qemu vCPU run_delay onto the timeline about once a second.

    With ``yield_resets``, a domain that comes back under a new qemu (reset by a fence) boots under
    SCHED_IDLE until ``release`` (the heal). Why: on real hardware a rebooting node takes no CPU
    from the survivors, whose timers the run judges; here a TCG guest boots flat out on a core of
    the host. Measured on web3 (three TCG guests, 2 cores, heartbeat-down on the owner): the
    survivors' vCPUs waited 4.0-4.7 s per 10 s while the fenced node booted at 84 % of a core,
    against 1.6-2.8 s before the fence. SCHED_IDLE takes nothing from a boot the host has room for
    (two guests on 2 cores boot as fast as before); the harness-driven phases after the heal,
    which wait for that boot, run at the normal priority again."""

    timeline: Timeline
    domain_to_node: Mapping[str, str]
    interval_s: float = 1.0
    proc: Path = PROC
    nodes_dir: Path | None = None  # the lab's nodes folder: only its qemu processes are sampled
    yield_resets: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _pids: dict[str, int] = field(default_factory=dict)
    _first: dict[str, int] = field(default_factory=dict)  # the qemu each domain ran when first seen
    _idle: set[int] = field(default_factory=set)
    _released: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sample(self) -> None:
        for domain, node in self.domain_to_node.items():
            pid = self._pids.get(domain) or qemu_pid(domain, self.proc, self.nodes_dir)
            got = run_delay(pid, self.proc) if pid else None
            if got is None:
                self._pids.pop(domain, None)  # domain off or restarted (a fence): look it up again
                continue
            self._pids[domain] = pid  # type: ignore[assignment]
            self._yield_if_reset(domain, pid)  # type: ignore[arg-type]
            self.timeline.record("host", node, KIND, f"run_delay_s={got[0]:.6f} vcpus={got[1]} pid={pid}")

    def _yield_if_reset(self, domain: str, pid: int) -> None:
        first = self._first.setdefault(domain, pid)
        with self._lock:
            if not self.yield_resets or self._released or pid == first:
                return
            _set_policy(pid, os.SCHED_IDLE, self.proc)  # every call: threads the booting qemu starts later too
            self._idle.add(pid)

    def release(self) -> None:
        """The reset domains' qemu back to the normal policy (idempotent); none is idled after it."""
        with self._lock:
            self._released = True
            for pid in sorted(self._idle):
                _set_policy(pid, os.SCHED_OTHER, self.proc)
            self._idle.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="host-load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.release()  # also on an error or an interrupt before the heal


def _threads(pid: int, proc: Path = PROC) -> list[int]:
    try:
        return [int(t.name) for t in (proc / str(pid) / "task").iterdir() if t.name.isdigit()]
    except OSError:
        return []


def _set_policy(pid: int, policy: int, proc: Path = PROC) -> None:
    """Every thread of ``pid`` (the scheduling policy is per thread: the vCPU threads must wait)."""
    for tid in _threads(pid, proc):
        try:
            os.sched_setscheduler(tid, policy, os.sched_param(0))
        except OSError:  # the thread ended meanwhile
            continue


@dataclass
class Starvation:
    """Deliberate host load for the sentinel's live proof: CPU hogs beside the lab, the lab's
    qemu threads under SCHED_IDLE (they run only when no hog wants the CPU).

    Why not hogs alone, nor a nice step: a guest's vCPU thread waits only while it is runnable,
    and an idle guest wakes briefly, so a token-long stretch sees little wait. Measured at the
    seed's 20 s token (bound 10 s): stress-ng --cpu 8 beside the lab gave 2.46 s of wait per vCPU,
    and with qemu at nice 19 below 4 hogs 3.08 s: the cluster did not notice that load and the
    sentinel rightly stayed quiet. A SCHED_IDLE thread gets no wakeup preemption over the hogs,
    so the guest falls behind at any token: the run a shared runner gives a background job.
    ``stop`` (idempotent) ends the hogs and puts the qemu threads back; call it once the fault is
    healed, so the restore runs on a free host."""

    domains: tuple[str, ...]
    hogs: int
    proc: Path = PROC
    nodes_dir: Path | None = None  # the lab's nodes folder: only its qemu processes go below the hogs
    _hog: subprocess.Popen[bytes] | None = None
    _pids: dict[str, int] = field(default_factory=dict)

    def start(self, timeout_s: int) -> None:
        if shutil.which("stress-ng") is None:
            raise LabError("stress-ng is not installed (scripts/setup.sh installs it)", "host")
        self._pids = {d: p for d in self.domains if (p := qemu_pid(d, self.proc, self.nodes_dir)) is not None}
        if len(self._pids) != len(self.domains):
            raise LabError(f"no qemu process for {sorted(set(self.domains) - set(self._pids))}", "host")
        self._hog = subprocess.Popen(["stress-ng", "--cpu", str(self.hogs), "--timeout", str(timeout_s)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        interrupt.track_group(self._hog.pid)  # a second Ctrl-C kills the hogs too
        for pid in self._pids.values():
            _set_policy(pid, os.SCHED_IDLE)

    def stop(self) -> None:
        for pid in self._pids.values():
            _set_policy(pid, os.SCHED_OTHER)
        self._pids = {}
        hog, self._hog = self._hog, None
        if hog is None:
            return
        interrupt.untrack_group(hog.pid)
        if hog.poll() is not None:
            return
        try:
            os.killpg(hog.pid, signal.SIGTERM)  # stress-ng's workers are its own children
            hog.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):  # the group may be gone already
                os.killpg(hog.pid, signal.SIGKILL)
            hog.wait(10)
