"""The host-load sentinel: did the lab get its CPU while the fault ran?

Why: nightly runners are shared machines. A vCPU thread that is runnable but waits for a host CPU
makes every timer in the guest fire late (corosync's token, pacemaker's monitors), so a starved
host turns a correct cluster into "TOO SLOW" or even a wrong fence-race winner. The kernel counts
that wait per thread: the second field of /proc/<pid>/task/<tid>/schedstat (run_delay, ns). An
observer thread samples it for each node's qemu process onto the timeline; the judge calls a run
INCONCLUSIVE when the per-vCPU wait over any token-long stretch of the fault exceeds a bound
derived from the token (``lag_bound``).

Demonstrate live: run `stress-ng --cpu 4 --timeout 300` beside the lab during a failover test;
the verdict turns INCONCLUSIVE with the measured lag, where an idle run keeps the sentinel quiet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from halab.observe.timeline import Observation, Timeline
from halab.observe.verdict import HostLag

PROC = Path("/proc")
KIND = "cpu"  # observations: source "host", node, kind "cpu", detail "run_delay_s=<x> vcpus=<n>"
LAG_FRACTION_OF_TOKEN = 0.25  # a quarter of the token lost to the run queue shifts every timer too far


def lag_bound(token_ms: float) -> tuple[float, float]:
    """(bound, stretch) in seconds: the wait allowed per vCPU over any token-long stretch."""
    token_s = token_ms / 1000.0
    return LAG_FRACTION_OF_TOKEN * token_s, token_s


def qemu_pid(domain: str, proc: Path = PROC) -> int | None:
    """The pid of the qemu process running ``domain`` (libvirt passes ``-name guest=<domain>,...``)."""
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
    names are not set) and their count; None when the process is gone."""
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


def parse(o: Observation) -> tuple[float, int] | None:
    values = dict(part.partition("=")[::2] for part in o.detail.split())
    try:
        return float(values["run_delay_s"]), int(values["vcpus"])
    except (KeyError, ValueError):
        return None


def host_lag(items: Iterable[Observation], t_from: float, t_to: float, bound_s: float,
             stretch_s: float | None = None) -> HostLag | None:
    """The worst per-vCPU run-queue wait over any stretch of ``stretch_s`` (default: bound × 4,
    i.e. one token) within [t_from, t_to]; None when no node has two samples there."""
    stretch = stretch_s if stretch_s is not None else bound_s / LAG_FRACTION_OF_TOKEN
    per_node: dict[str, list[tuple[float, float, int]]] = {}
    for o in items:
        if o.source != "host" or o.kind != KIND or o.node is None:
            continue
        got = parse(o)
        if got is not None:
            per_node.setdefault(o.node, []).append((o.t, *got))
    worst: HostLag | None = None
    count = 0
    for node, samples in sorted(per_node.items()):
        samples.sort()
        before = [s for s in samples if s[0] < t_from][-1:]
        inside = before + [s for s in samples if t_from <= s[0] <= t_to]
        count += len(inside)
        for i in range(len(inside) - 1):
            ta, da, na = inside[i]
            for j in range(i + 1, len(inside)):
                tb, db, nb = inside[j]
                if j > i + 1 and tb - ta > stretch + 1e-9:
                    break  # adjacent samples always count: a sampling gap is itself a sign of load
                lag = max(0.0, db - da) / max(1, min(na, nb))
                if worst is None or lag > worst.lag_s:
                    worst = HostLag(lag, bound_s, node, 0)
    if worst is None:
        return None
    return HostLag(round(worst.lag_s, 3), bound_s, worst.node, count)


@dataclass
class HostSampler:
    """Samples each node's qemu vCPU run_delay onto the timeline about once a second."""

    timeline: Timeline
    domain_to_node: Mapping[str, str]
    interval_s: float = 1.0
    proc: Path = PROC
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _pids: dict[str, int] = field(default_factory=dict)

    def sample(self) -> None:
        for domain, node in self.domain_to_node.items():
            pid = self._pids.get(domain) or qemu_pid(domain, self.proc)
            got = run_delay(pid, self.proc) if pid else None
            if got is None:
                self._pids.pop(domain, None)  # domain off or restarted (a fence): look it up again
                continue
            self._pids[domain] = pid  # type: ignore[assignment]
            self.timeline.record("host", node, KIND, f"run_delay_s={got[0]:.6f} vcpus={got[1]}")

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
