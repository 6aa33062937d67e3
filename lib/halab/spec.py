"""The lab spec: one declarative TOML file describing one lab, read into immutable types.

Everything else (lab builder, deploy, oracle, config checks) reads the lab through these types, so
a bad spec is caught here with one line naming the file and the field, before anything is built.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halab.errors import SpecError

LABS_DIR = Path(__file__).resolve().parents[2] / "labs"
DEFAULT_LAB = "seed"
STACKS = ("pacemaker", "rgmanager")
ROLES = ("service", "management", "heartbeat")


@dataclass(frozen=True)
class Network:
    name: str
    role: str
    subnet: ipaddress.IPv4Network
    host: ipaddress.IPv4Address | None

    @property
    def prefixlen(self) -> int:
        return self.subnet.prefixlen


@dataclass(frozen=True)
class NodeAddress:
    network: str
    address: ipaddress.IPv4Address
    hostname: str


@dataclass(frozen=True)
class Node:
    name: str
    domain: str
    addresses: tuple[NodeAddress, ...]
    index: int  # 1-based position in the spec: stable MACs and node ids derive from it

    def on(self, network: str) -> NodeAddress:
        for addr in self.addresses:
            if addr.network == network:
                return addr
        raise SpecError(f"node {self.name} has no address on network {network!r}")

    def hostnames(self) -> tuple[str, ...]:
        return tuple(a.hostname for a in self.addresses)


@dataclass(frozen=True)
class Lun:
    lun: int
    size_mb: int
    role: str
    backing: str
    label: str = ""
    fstype: str = ""
    mountpoint: str = ""


@dataclass(frozen=True)
class Storage:
    target: str
    network: str
    luns: tuple[Lun, ...]

    def by_role(self, role: str) -> Lun:
        for lun in self.luns:
            if lun.role == role:
                return lun
        raise SpecError(f"storage has no LUN with role {role!r}")


IDENTITY_ROUTES = ("auto", "cloud-init", "overlay-edit")
OS_FAMILIES = ("auto", "debian", "rhel")
FIRMWARES = ("auto", "bios", "uefi")


@dataclass(frozen=True)
class Image:
    kind: str  # "builtin" | "user"
    suite: str = "bookworm"
    path: str = ""  # user image (qcow2/raw), absolute or relative to the lab.toml; never written
    memory_mib: int = 1024
    vcpus: int = 1
    # Hints for a user image; "auto"/"" means halab finds out (see halab.lab.userimage).
    os_family: str = "auto"  # debian | rhel: format of the overlay-edit network files
    stack: str = ""  # the cluster stack the image carries; checked on the booted node
    root_device: str = ""  # e.g. /dev/sda1: where the root is when inspection cannot tell
    identity: str = "auto"  # cloud-init | overlay-edit | auto (cloud-init when the image has it)
    firmware: str = "auto"  # bios | uefi | auto (from the partition table)


@dataclass(frozen=True)
class TimingProfile:
    """Timings that are not in the cluster's own configuration: measured durations of the lab."""

    name: str
    token_ms: int
    fence_agent_s: tuple[float, float]
    resource_start_s: tuple[float, float]
    node_boot_s: tuple[float, float]
    cluster_start_s: tuple[float, float]
    iscsi_replacement_timeout_s: int
    poll_interval_s: float


@dataclass(frozen=True)
class LabSpec:
    name: str
    path: Path
    stack: str
    timing: TimingProfile
    image: Image
    networks: tuple[Network, ...]
    nodes: tuple[Node, ...]
    storage: Storage
    stacks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    timings: Mapping[str, TimingProfile] = field(default_factory=dict)

    def network(self, name_or_role: str) -> Network:
        for net in self.networks:
            if name_or_role in (net.name, net.role):
                return net
        raise SpecError(f"no network named {name_or_role!r}", str(self.path))

    def node(self, name: str) -> Node:
        """A node by its spec name, domain name or any of its host names (node01, node01h, RHCSvm01)."""
        for node in self.nodes:
            if name in (node.name, node.domain, *node.hostnames()):
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise SpecError(f"no node {name!r} (known: {known})", str(self.path))

    def stack_config(self, stack: str | None = None) -> Mapping[str, Any]:
        stack = stack or self.stack
        if stack not in self.stacks:
            raise SpecError(f"no [stacks.{stack}] section", str(self.path))
        return self.stacks[stack]

    def cluster_conf_path(self) -> Path:
        rel = self.stack_config("rgmanager").get("cluster_conf")
        if not rel:
            raise SpecError("[stacks.rgmanager] has no cluster_conf", str(self.path))
        return (self.path.parent / str(rel)).resolve()

    def with_stack(self, stack: str) -> LabSpec:
        if stack not in STACKS:
            raise SpecError(f"unknown stack {stack!r} (one of {', '.join(STACKS)})", str(self.path))
        self.stack_config(stack)
        return _replace(self, stack=stack)

    def with_timing(self, name: str) -> LabSpec:
        if name not in self.timings:
            raise SpecError(f"no timing profile {name!r} (known: {', '.join(self.timings)})", str(self.path))
        return _replace(self, timing=self.timings[name])


def _replace(spec: LabSpec, **changes: Any) -> LabSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def resolve_spec_path(name_or_path: str | Path | None) -> Path:
    """`seed`, `labs/seed`, `labs/seed/lab.toml` and any path to a lab.toml all name a lab."""
    if name_or_path is None:
        name_or_path = DEFAULT_LAB
    candidate = Path(name_or_path)
    for path in (candidate, candidate / "lab.toml", LABS_DIR / str(name_or_path) / "lab.toml"):
        if path.is_file():
            return path.resolve()
    raise SpecError(f"no lab spec at {name_or_path!s} (give a lab name under labs/ or a lab.toml path)")


def load_spec(name_or_path: str | Path | None = None) -> LabSpec:
    path = resolve_spec_path(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"not valid TOML: {err}", str(path)) from None
    return _Reader(path, raw).spec()


class _Reader:
    """Turns the raw TOML table into a LabSpec, naming the field of every problem."""

    def __init__(self, path: Path, raw: Mapping[str, Any]) -> None:
        self.path = path
        self.raw = raw

    def fail(self, what: str) -> SpecError:
        return SpecError(what, str(self.path))

    def need(self, table: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in table:
            raise self.fail(f"{where}: missing field {key!r}")
        return table[key]

    def integer(self, value: Any, field: str) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise self.fail(f"{field}: {value!r} is not an integer") from None

    def number(self, value: Any, field: str) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise self.fail(f"{field}: {value!r} is not a number") from None

    def spec(self) -> LabSpec:
        networks = self.networks()
        nodes = self.nodes(networks)
        storage = self.storage(networks)
        timings = self.timings()
        stack = str(self.raw.get("stack", "pacemaker"))
        if stack not in STACKS:
            raise self.fail(f"stack: {stack!r} is not one of {', '.join(STACKS)}")
        stacks = self.raw.get("stacks", {})
        if stack not in stacks:
            raise self.fail(f"stack {stack!r} has no [stacks.{stack}] section")
        timing_name = str(self.raw.get("default_timing", next(iter(timings), "")))
        if timing_name not in timings:
            raise self.fail(f"default_timing: no profile [timing.{timing_name}]")
        return LabSpec(
            name=str(self.raw.get("name", self.path.parent.name)),
            path=self.path,
            stack=stack,
            timing=timings[timing_name],
            image=self.image(),
            networks=networks,
            nodes=nodes,
            storage=storage,
            stacks=stacks,
            timings=timings,
        )

    def networks(self) -> tuple[Network, ...]:
        out: list[Network] = []
        for i, net in enumerate(self.need(self.raw, "networks", "lab")):
            where = f"networks[{i}]"
            try:
                subnet = ipaddress.IPv4Network(self.need(net, "subnet", where))
                host = ipaddress.IPv4Address(net["host"]) if net.get("host") else None
            except ValueError as err:
                raise self.fail(f"{where}: {err}") from None
            role = str(self.need(net, "role", where))
            if role not in ROLES:
                raise self.fail(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
            if host is not None and host not in subnet:
                raise self.fail(f"{where}: host {host} is outside {subnet}")
            out.append(Network(str(self.need(net, "name", where)), role, subnet, host))
        self._no_overlaps(out)
        for role in ("management", "heartbeat"):
            if not any(n.role == role for n in out):
                raise self.fail(f"networks: no network with role {role!r}")
        return tuple(out)

    def _no_overlaps(self, nets: list[Network]) -> None:
        for i, a in enumerate(nets):
            for b in nets[i + 1 :]:
                if a.name == b.name:
                    raise self.fail(f"networks: name {a.name!r} used twice")
                if a.subnet.overlaps(b.subnet):
                    raise self.fail(f"networks: {a.name} {a.subnet} overlaps {b.name} {b.subnet}")

    def nodes(self, networks: tuple[Network, ...]) -> tuple[Node, ...]:
        by_name = {n.name: n for n in networks}
        out: list[Node] = []
        seen: set[str] = set()
        for i, node in enumerate(self.need(self.raw, "nodes", "lab"), start=1):
            where = f"nodes[{i - 1}]"
            addrs = []
            for net_name, entry in self.need(node, "addresses", where).items():
                net = by_name.get(net_name)
                if net is None:
                    raise self.fail(f"{where}.addresses: unknown network {net_name!r}")
                try:
                    addr = ipaddress.IPv4Address(self.need(entry, "address", f"{where}.{net_name}"))
                except ValueError as err:
                    raise self.fail(f"{where}.{net_name}: {err}") from None
                if addr not in net.subnet:
                    raise self.fail(f"{where}.{net_name}: {addr} is outside {net.subnet}")
                addrs.append(NodeAddress(net_name, addr, str(self.need(entry, "hostname", where))))
            built = Node(str(self.need(node, "name", where)), str(self.need(node, "domain", where)),
                         tuple(addrs), i)
            for ident in {built.name, built.domain, *built.hostnames(), *(str(a.address) for a in addrs)}:
                if ident in seen:
                    raise self.fail(f"{where}: {ident!r} is used twice in the lab")
                seen.add(ident)
            out.append(built)
        if len(out) < 2:
            raise self.fail("nodes: a cluster needs at least 2 nodes")
        return tuple(out)

    def storage(self, networks: tuple[Network, ...]) -> Storage:
        raw = self.need(self.raw, "storage", "lab")
        network = str(raw.get("network", "management"))
        if network not in {n.name for n in networks}:
            raise self.fail(f"storage.network: unknown network {network!r}")
        luns = []
        for i, lun in enumerate(self.need(raw, "luns", "storage")):
            where = f"storage.luns[{i}]"
            luns.append(Lun(
                lun=self.integer(self.need(lun, "lun", where), f"{where}.lun"),
                size_mb=self.integer(self.need(lun, "size_mb", where), f"{where}.size_mb"),
                role=str(self.need(lun, "role", where)),
                backing=str(self.need(lun, "backing", where)),
                label=str(lun.get("label", "")),
                fstype=str(lun.get("fstype", "")),
                mountpoint=str(lun.get("mountpoint", "")),
            ))
        return Storage(str(self.need(raw, "target", "storage")), network, tuple(luns))

    def image(self) -> Image:
        raw = self.raw.get("image", {})
        kind = str(raw.get("kind", "builtin"))
        if kind not in ("builtin", "user"):
            raise self.fail(f"image.kind: {kind!r} is not 'builtin' or 'user'")
        if kind == "user" and not raw.get("path"):
            raise self.fail("image.path: a user image needs a path")
        hints = {}
        for key, allowed in (("identity", IDENTITY_ROUTES), ("os_family", OS_FAMILIES), ("firmware", FIRMWARES),
                             ("stack", ("", *STACKS))):
            value = str(raw.get(key, allowed[0]))
            if value not in allowed:
                raise self.fail(f"image.{key}: {value!r} is not one of {', '.join(a for a in allowed if a)}")
            hints[key] = value
        return Image(kind, str(raw.get("suite", "bookworm")), str(raw.get("path", "")),
                     self.integer(raw.get("memory_mib", 1024), "image.memory_mib"),
                     self.integer(raw.get("vcpus", 1), "image.vcpus"),
                     root_device=str(raw.get("root_device", "")), **hints)

    def timings(self) -> dict[str, TimingProfile]:
        out = {}
        for name, raw in self.need(self.raw, "timing", "lab").items():
            if not isinstance(raw, Mapping):
                continue
            where = f"timing.{name}"

            def pair(key: str, raw: Mapping[str, Any] = raw, where: str = where) -> tuple[float, float]:
                bad = self.fail(f"{where}.{key}: want [min, max] with 0 <= min <= max")
                try:
                    lo, hi = (float(x) for x in self.need(raw, key, where))
                except (TypeError, ValueError):
                    raise bad from None
                if not 0 <= lo <= hi:
                    raise bad
                return (lo, hi)

            out[name] = TimingProfile(
                name=name,
                token_ms=self.integer(self.need(raw, "token_ms", where), f"{where}.token_ms"),
                fence_agent_s=pair("fence_agent_s"),
                resource_start_s=pair("resource_start_s"),
                node_boot_s=pair("node_boot_s"),
                cluster_start_s=pair("cluster_start_s"),
                iscsi_replacement_timeout_s=self.integer(raw.get("iscsi_replacement_timeout_s", 120),
                                                         f"{where}.iscsi_replacement_timeout_s"),
                poll_interval_s=self.number(raw.get("poll_interval_s", 1.0), f"{where}.poll_interval_s"),
            )
        if not out:
            raise self.fail("timing: no profile")
        return out
