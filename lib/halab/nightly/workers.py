"""One lab per pytest-xdist worker: its name, and how many labs this host can carry at once.

Why a lab per worker: most of a failover test's wall time is the way back (the fenced node
boots, the stack starts, the service fails back), so the matrix only gets faster by running
several clusters at once. Each worker's lab is the spec's lab under another name: its own netns
(the same in-lab addresses coexist because nothing leaves a namespace), libvirtd, domains, LUN
files, fence path and state folder, all derived from the name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from halab.spec import LabSpec

_WORKER = re.compile(r"^[a-z0-9]{1,8}$")
# Per node, on top of its memory: qemu itself, and under TCG the translation cache (TB_CACHE_MIB).
QEMU_OVERHEAD_MIB = {"kvm": 96, "tcg": 96 + 256}
LAB_OVERHEAD_MIB = 512  # libvirtd, virtlogd, tgtd, fence sshd, the pytest worker and its SSH sessions
LAB_HARNESS_CORES = 0.5  # the worker's polls, probe, SSH and libvirt events
HOST_RESERVE_MIB = 2048
# A busy guest vCPU wants a core: the cluster's timing (token, fence, resource start) is judged
# against windows, and a starved guest is slow for the wrong reason. Under TCG one guest vCPU
# costs more than one core while it boots, so TCG counts a vCPU as 1.25 cores.
CORES_PER_VCPU = {"kvm": 1.0, "tcg": 1.25}


def worker_lab_name(base: str, worker: str) -> str:
    return f"{base}-{worker}"


def design_name(lab_name: str, worker: str | None = None) -> str:
    """The spec's lab a worker's lab was made from (`seed-gw0` -> `seed` in worker gw0): runs on
    different workers are runs of one design, and the trend compares them. The worker is this
    process's xdist worker unless given; outside xdist the name is the design's own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER") if worker is None else worker
    suffix = f"-{worker}" if worker else ""
    return lab_name.removesuffix(suffix) if suffix and lab_name.endswith(suffix) else lab_name


def worker_spec(spec: LabSpec, worker: str) -> LabSpec:
    """The spec's lab for one xdist worker (`gw0` -> lab `seed-gw0`, domain `RHCSvm01-gw0`)."""
    if not _WORKER.match(worker):
        raise ValueError(f"worker id {worker!r}: want 1-8 lowercase letters or digits (e.g. gw0)")
    nodes = tuple(replace(n, domain=f"{n.domain}-{worker}") for n in spec.nodes)
    return replace(spec, name=worker_lab_name(spec.name, worker), nodes=nodes)


@dataclass(frozen=True)
class Host:
    cores: int
    memory_mib: int
    accel: str  # "kvm" | "tcg"


@dataclass(frozen=True)
class Plan:
    labs: int
    by_cores: int
    by_memory: int
    lab_cores: float
    lab_memory_mib: int
    host: Host
    lab_vcpus: int = 0  # every guest vCPU of one lab

    def oversubscribed(self) -> str:
        """One line when the labs' guest vCPUs outnumber the host's cores ("" otherwise). Why that
        line and not the model's 1.25 cores per TCG vCPU: measured here (2 cores, TCG), the seed's
        two guests kept their CPU (worst vCPU wait 0.04-0.56 s per 5 s), while web3's three waited
        1.8 s per 5 s at the median, 4.8 s at worst: every verdict INCONCLUSIVE (host starved)."""
        vcpus = self.labs * self.lab_vcpus
        if vcpus <= self.host.cores:
            return ""
        return (f"{vcpus} guest vCPU(s) on {self.host.cores} core(s): the guests will queue for CPU and the "
                "host-load sentinel will judge starved runs INCONCLUSIVE; use a host with more cores, or KVM")

    def __str__(self) -> str:
        h = self.host
        limit = "cores" if self.by_cores <= self.by_memory else "memory"
        return (f"host {h.cores} cores, {h.memory_mib / 1024:.1f} GiB, {h.accel}; one lab needs "
                f"{self.lab_cores:g} cores and {self.lab_memory_mib / 1024:.1f} GiB -> {self.labs} lab(s) "
                f"at once (cores allow {self.by_cores}, memory {self.by_memory}; limited by {limit})")


def lab_needs(spec: LabSpec, accel: str) -> tuple[float, int]:
    """(cores, MiB) one lab of this spec keeps busy."""
    nodes = len(spec.nodes)
    cores = nodes * spec.image.vcpus * CORES_PER_VCPU[accel] + LAB_HARNESS_CORES
    memory = nodes * (spec.image.memory_mib + QEMU_OVERHEAD_MIB[accel]) + LAB_OVERHEAD_MIB
    return cores, memory


def plan(host: Host, spec: LabSpec) -> Plan:
    """How many labs at once: what the cores and the memory (less a reserve for the host) allow,
    at least one (a host too small for one lab still runs one, slowly)."""
    cores, memory = lab_needs(spec, host.accel)
    reserve_cores = 1 if host.cores >= 8 else 0
    by_cores = int((host.cores - reserve_cores) // cores)
    by_memory = int((host.memory_mib - HOST_RESERVE_MIB) // memory)
    return Plan(max(1, min(by_cores, by_memory)), by_cores, by_memory, cores, memory, host,
                lab_vcpus=len(spec.nodes) * spec.image.vcpus)


def this_host(accel: str) -> Host:
    """Cores this process may use and the memory available now."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return Host(cores, _available_mib(), accel)


def _available_mib(meminfo: Path = Path("/proc/meminfo")) -> int:
    fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines() if ":" in line)
    kib = fields.get("MemAvailable", fields.get("MemTotal", "0 kB")).split()[0]
    return int(kib) // 1024
