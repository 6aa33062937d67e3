"""One validated pacemaker design: the user's CIB configuration and corosync.conf, read once.

Deploy, oracle, fixtures and faults all read the design through this object; nothing else reads
pacemaker design keys. A lab spec names the pair in ``[stacks.pacemaker]``::

    cib = "cib.xml"             # cibadmin -Q / pcs cluster cib (the configuration section counts)
    corosync = "corosync.conf"
    # node_map = { "pcmk-1" = "node01" }   # user node name -> lab node, when they differ
    # stand_ins = { "ocf:acme:db" = "ocf:heartbeat:Dummy" }  # agents the image lacks, allowed

``Design.check()`` validates the two files against each other (same node names).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from halab.cib.corosync import load_corosync
from halab.cib.model import CibConfig, Clone, Corosync, FenceDevice, Group, Primitive, Resource
from halab.cib.reader import load_cib
from halab.cib.values import duration_s
from halab.errors import ConfigError


@dataclass(frozen=True)
class Design:
    cib: CibConfig
    corosync: Corosync | None
    cib_path: Path | None = None
    corosync_path: Path | None = None
    hashes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.corosync.node_names if self.corosync and self.corosync.nodes else self.cib.node_names

    def services(self) -> tuple[Resource, ...]:
        """Top-level resources that are not fence devices and not clones: what fails over."""
        return tuple(r for r in self.cib.resources
                     if not isinstance(r, Clone) and not all(p.is_fence for p in r.primitives()))

    def service(self, name: str | None = None) -> Resource:
        svcs = self.services()
        for r in svcs:
            if name is None or r.id == name:
                return r
        raise ConfigError(f"the design has no service {name!r} (services: "
                          f"{', '.join(r.id for r in svcs) or 'none'})", str(self.cib_path or "cib"))

    def fence_devices(self) -> tuple[FenceDevice, ...]:
        return self.cib.fence_devices()

    def fence_delay_s(self, victim: str) -> tuple[float, float]:
        """(pcmk_delay_base, pcmk_delay_max) of the first device (first topology level) that fences
        ``victim``: the wait before the agent runs."""
        devices = {d.id: d for d in self.fence_devices()}
        levels = sorted((lv for lv in self.cib.fence_levels if lv.target == victim), key=lambda lv: lv.index)
        first = [devices[d] for d in levels[0].devices] if levels else [
            d for d in devices.values() if victim in d.targets(self.nodes)][:1]
        if not first:
            return (0.0, 0.0)
        return (max(d.delay_base_s for d in first), max(d.delay_max_s for d in first))

    def option_s(self, name: str) -> float:
        return duration_s(self.cib.option(name), name) or 0.0

    @property
    def two_node(self) -> bool:
        return bool(self.corosync and self.corosync.two_node and len(self.nodes) == 2)


def primitives_of(r: Resource) -> tuple[Primitive, ...]:
    return r.primitives()


def members(r: Resource) -> tuple[Primitive, ...]:
    return r.members if isinstance(r, Group) else r.primitives()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def load_design(cib_path: str | Path, corosync_path: str | Path | None = None) -> Design:
    cib_p = Path(cib_path)
    coro_p = Path(corosync_path) if corosync_path else None
    cib = load_cib(cib_p)
    coro = load_corosync(coro_p) if coro_p else None
    hashes = {cib_p.name: _sha(cib_p), **({coro_p.name: _sha(coro_p)} if coro_p else {})}
    design = Design(cib, coro, cib_p, coro_p, MappingProxyType(hashes))
    check(design)
    return design


def check(design: Design) -> None:
    """The CIB and corosync.conf describe the same cluster: the same node names."""
    if design.corosync is None or not design.corosync.nodes or not design.cib.nodes:
        return
    coro, cib = set(design.corosync.node_names), set(design.cib.node_names)
    if coro != cib:
        raise ConfigError(f"node names differ: corosync.conf nodelist {', '.join(sorted(coro))}, CIB "
                          f"<nodes> {', '.join(sorted(cib))}", str(design.cib_path or "cib"))
