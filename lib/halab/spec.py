"""The lab spec: one declarative TOML file describing one lab, read into immutable types.

Everything else (lab builder, deploy, oracle, config checks) reads the lab through these types, so
a bad spec is caught here with one line naming the file and the field, before anything is built.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halab.errors import SpecError
from halab.inputs import MAX_SPEC_BYTES, read_input

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
    # pacemaker: a new DC's election and integration before its first scheduler run, when the
    # fault took the DC away (measured; docs/timing-model.md)
    dc_takeover_s: tuple[float, float] = (0.0, 0.0)
    # corosync: how long the token takes round the ring beyond the representative's hold, which
    # moves the earliest token loss before T − hold (measured under TCG: up to 0.55 s beyond the
    # hold, n=45 token losses on the fast profile; x 1.25). Only widens the early edge.
    ring_pass_s: float = 0.7


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
        return _replace(self, stack=stack, timing=stack_timing(self.timings[self.timing.name], self.stacks, stack))

    def with_timing(self, name: str) -> LabSpec:
        if name not in self.timings:
            raise SpecError(f"no timing profile {name!r} (known: {', '.join(self.timings)})", str(self.path))
        return _replace(self, timing=stack_timing(self.timings[name], self.stacks, self.stack))


RANGE_KEYS = ("fence_agent_s", "resource_start_s", "node_boot_s", "cluster_start_s", "dc_takeover_s")


def stack_timing(base: TimingProfile, stacks: Mapping[str, Mapping[str, Any]], stack: str) -> TimingProfile:
    """The profile as ``stack`` runs it: ``[stacks.<stack>.timing.<profile>]`` may set its own measured
    ranges. Why: one lab runs both stacks, and their durations differ by minutes (measured under
    TCG: rgmanager reads every agent's metadata before a rejoined node is in, ~5 min; pacemaker's
    node is online in under 90 s)."""
    from dataclasses import replace

    section = stacks.get(stack, {}).get("timing", {}).get(base.name, {})
    changes: dict[str, Any] = {k: (float(section[k][0]), float(section[k][1])) for k in RANGE_KEYS if k in section}
    return replace(base, **changes) if changes else base


def _replace(spec: LabSpec, **changes: Any) -> LabSpec:
    from dataclasses import replace

    return replace(spec, **changes)


# What a lab.toml may contain, table by table: anything else is a typo or a foreign key, said with
# the closest known key. (stacks.* keys: what the deploy, oracle and checks read.)
KEYS: dict[str, frozenset[str]] = {
    "lab": frozenset({"name", "stack", "default_timing", "image", "networks", "nodes", "storage", "stacks",
                      "timing"}),
    "image": frozenset({"kind", "suite", "path", "memory_mib", "vcpus", "os_family", "stack", "root_device",
                        "identity", "firmware"}),
    "network": frozenset({"name", "role", "subnet", "host"}),
    "node": frozenset({"name", "domain", "addresses"}),
    "address": frozenset({"address", "hostname"}),
    "storage": frozenset({"target", "network", "luns"}),
    "lun": frozenset({"lun", "size_mb", "role", "backing", "label", "fstype", "mountpoint"}),
    "timing": frozenset({"token_ms", "fence_agent_s", "resource_start_s", "node_boot_s", "cluster_start_s",
                         "iscsi_replacement_timeout_s", "poll_interval_s", "dc_takeover_s", "ring_pass_s"}),
    "stacks": frozenset(STACKS),
    "stacks.rgmanager": frozenset({"cluster_conf", "timing"}),
    # the pacemaker design is its own files (cib, corosync); the rest maps it onto the lab
    "stacks.pacemaker": frozenset({"cib", "corosync", "links", "ring_network", "fence_network",
                                   "service_ip_network", "qnetd_network", "app_port", "node_map", "stand_ins",
                                   "devices"}),
}
# Names that reach a shell, a libvirt domain name, an authorized_keys option, a file name, a host
# name: letters, digits and . _ - only, starting with a letter or digit.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
SAFE_IQN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,222}$")
SAFE_ABS_PATH = re.compile(r"^/[A-Za-z0-9_./-]{0,254}$")
# string values of [stacks.pacemaker] that are names (resources, app, login, networks, nodes)
PCMK_NAMES = ("ring_network", "fence_network", "service_ip_network", "qnetd_network")


def resolve_spec_path(name_or_path: str | Path | None) -> Path:
    """`seed`, `labs/seed`, `labs/seed/lab.toml` and any path to a lab.toml all name a lab."""
    if name_or_path is None:
        name_or_path = DEFAULT_LAB
    candidate = Path(name_or_path)
    candidates = [candidate, candidate / "lab.toml"]
    if SAFE_NAME.match(str(name_or_path)):  # a bare lab name: under labs/ only
        candidates.append(LABS_DIR / str(name_or_path) / "lab.toml")
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise SpecError(f"no lab spec at {name_or_path!s} (give a lab name under labs/ or a lab.toml path)")


def load_spec(name_or_path: str | Path | None = None) -> LabSpec:
    path = resolve_spec_path(name_or_path)
    data = read_input(path, lambda what: SpecError(what, str(path)), MAX_SPEC_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(f"not UTF-8 (byte {err.start}): a lab.toml is UTF-8 text", str(path)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"not valid TOML: {err}", str(path)) from None
    except RecursionError:
        raise SpecError("not valid TOML: nested too deeply", str(path)) from None
    return _Reader(path, raw).spec()


def _suggest(key: str, known: frozenset[str]) -> list[str]:
    """The known key a typo most likely meant: close spelling, or a known key it starts or ends like."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    if close:
        return close
    same_start = sorted(k for k in known if k[:3] == key[:3])
    return same_start[:1] or difflib.get_close_matches(key, sorted(known), n=1)


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

    def table(self, value: Any, where: str, schema: str | None = None) -> Mapping[str, Any]:
        """`value` as a table, with no key outside KEYS[schema] (a typo gets a suggestion)."""
        if not isinstance(value, Mapping):
            raise self.fail(f"{where}: want a table ({{ key = value }}), got {type(value).__name__}")
        if schema is not None:
            for key in value:
                if key not in KEYS[schema]:
                    close = _suggest(str(key), KEYS[schema])
                    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(KEYS[schema]))})"
                    raise self.fail(f"{where}: unknown key {key!r}{hint}")
        return value

    def tables(self, value: Any, where: str, schema: str) -> list[Mapping[str, Any]]:
        if not isinstance(value, list):
            raise self.fail(f"{where}: want an array of tables ([[{where}]]), got {type(value).__name__}")
        return [self.table(v, f"{where}[{i}]", schema) for i, v in enumerate(value)]

    def text(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{field}: want a string, got {type(value).__name__}")
        return value

    def name(self, value: Any, field: str) -> str:
        """A name that is safe in a shell, a libvirt domain name and an authorized_keys option."""
        text = self.text(value, field)
        if not SAFE_NAME.match(text):
            raise self.fail(f"{field}: {text!r} is not a safe name (letters, digits, '.', '_', '-'; "
                            "starting with a letter or digit; at most 63)")
        return text

    def integer(self, value: Any, field: str, low: int | None = None, high: int | None = None) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.fail(f"{field}: {value!r} is not an integer")
        try:
            out = int(value)
        except (TypeError, ValueError, OverflowError):
            raise self.fail(f"{field}: {value!r} is not an integer") from None
        if (low is not None and out < low) or (high is not None and out > high):
            raise self.fail(f"{field}: {out} is outside {low}..{high}")
        return out

    def number(self, value: Any, field: str, low: float = 0.0, high: float = 86400.0) -> float:
        if isinstance(value, bool):
            raise self.fail(f"{field}: {value!r} is not a number")
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise self.fail(f"{field}: {value!r} is not a number") from None
        if not math.isfinite(out) or not low <= out <= high:
            raise self.fail(f"{field}: {value!r} is not a finite number in {low:g}..{high:g}")
        return out

    def spec(self) -> LabSpec:
        self.table(self.raw, "lab", "lab")
        networks = self.networks()
        nodes = self.nodes(networks)
        storage = self.storage(networks)
        timings = self.timings()
        stack = self.text(self.raw.get("stack", "pacemaker"), "stack")
        if stack not in STACKS:
            raise self.fail(f"stack: {stack!r} is not one of {', '.join(STACKS)}")
        stacks = self.stacks(nodes, networks)
        if stack not in stacks:
            raise self.fail(f"stack {stack!r} has no [stacks.{stack}] section")
        timing_name = self.text(self.raw.get("default_timing", next(iter(timings), "")), "default_timing")
        if timing_name not in timings:
            raise self.fail(f"default_timing: no profile [timing.{timing_name}]")
        return LabSpec(
            name=self.name(self.raw.get("name", self.path.parent.name), "name"),
            path=self.path,
            stack=stack,
            timing=stack_timing(timings[timing_name], stacks, stack),
            image=self.image(),
            networks=networks,
            nodes=nodes,
            storage=storage,
            stacks=stacks,
            timings=timings,
        )

    def stacks(self, nodes: tuple[Node, ...], networks: tuple[Network, ...]) -> Mapping[str, Mapping[str, Any]]:
        raw = self.table(self.raw.get("stacks", {}), "stacks", "stacks")
        out = {}
        for stack, section in raw.items():
            where = f"stacks.{stack}"
            cfg = self.table(section, where, where)
            for key in PCMK_NAMES if stack == "pacemaker" else ():
                if key in cfg:
                    self.name(cfg[key], f"{where}.{key}")
            for key in ("allowed_nodes",):
                if key in cfg:
                    if not isinstance(cfg[key], list):
                        raise self.fail(f"{where}.{key}: want a list of node names")
                    for i, n in enumerate(cfg[key]):
                        self.name(n, f"{where}.{key}[{i}]")
            for key, value in cfg.items():
                if isinstance(value, float) and not math.isfinite(value):
                    raise self.fail(f"{where}.{key}: {value!r} is not a finite number")
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                    raise self.fail(f"{where}.{key}: {value!r} is negative")
            for key in ("cluster_conf", "cib", "corosync"):  # design files: inside the labs folder
                if key in cfg:
                    self.inside_lab_dir(self.text(cfg[key], f"{where}.{key}"), f"{where}.{key}")
            if stack == "pacemaker":
                self.pacemaker_mapping(cfg, where)
            self.stack_ranges(stack, cfg)
            out[stack] = cfg
        del nodes, networks
        return out

    def pacemaker_mapping(self, cfg: Mapping[str, Any], where: str) -> None:
        """The values that map a design onto the lab, checked here so that deploy, expect and the
        fixtures never meet a wrong type (a port "x" was a traceback from `deploy --dry-run`)."""
        if "app_port" in cfg:
            self.integer(cfg["app_port"], f"{where}.app_port", 1, 65535)
        if "links" in cfg:
            if not isinstance(cfg["links"], list) or not cfg["links"]:
                raise self.fail(f"{where}.links: want a list of network names")
            for i, link in enumerate(cfg["links"]):
                self.name(link, f"{where}.links[{i}]")
        for key in ("node_map", "stand_ins", "devices"):
            if key not in cfg:
                continue
            table = self.table(cfg[key], f"{where}.{key}")
            for name, value in table.items():
                field = f"{where}.{key}.{name}"
                if key == "node_map":  # the design's node name -> a lab node
                    self.name(value, field)
                elif key == "devices":  # a Filesystem device path -> a LUN number
                    self.integer(value, field, 0, 255)
                else:  # an agent the image lacks -> the agent standing in for it
                    self.text(value, field)

    def inside_lab_dir(self, rel: str, field: str) -> Path:
        """A file named relative to the lab.toml, confined to the labs folder that holds it (a lab may
        share a sibling's file: labs/byo uses ../seed/cluster.conf; never /etc/..., never ../../)."""
        base = self.path.parent.parent.resolve()
        target = (self.path.parent / rel).resolve()
        if "\0" in rel or not target.is_relative_to(base):
            raise self.fail(f"{field}: {rel!r} is outside the labs folder {base}")
        return target

    def networks(self) -> tuple[Network, ...]:
        out: list[Network] = []
        for i, net in enumerate(self.tables(self.need(self.raw, "networks", "lab"), "networks", "network")):
            where = f"networks[{i}]"
            try:
                subnet = ipaddress.IPv4Network(self.text(self.need(net, "subnet", where), f"{where}.subnet"))
                host = ipaddress.IPv4Address(self.text(net["host"], f"{where}.host")) if net.get("host") else None
            except ValueError as err:
                raise self.fail(f"{where}: {err}") from None
            role = self.text(self.need(net, "role", where), f"{where}.role")
            if role not in ROLES:
                raise self.fail(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
            if host is not None and host not in subnet:
                raise self.fail(f"{where}: host {host} is outside {subnet}")
            out.append(Network(self.name(self.need(net, "name", where), f"{where}.name"), role, subnet, host))
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
        for i, node in enumerate(self.tables(self.need(self.raw, "nodes", "lab"), "nodes", "node"), start=1):
            where = f"nodes[{i - 1}]"
            addrs = []
            for net_name, entry in self.table(self.need(node, "addresses", where), f"{where}.addresses").items():
                net = by_name.get(net_name)
                if net is None:
                    raise self.fail(f"{where}.addresses: unknown network {net_name!r}")
                fields = self.table(entry, f"{where}.{net_name}", "address")
                try:
                    addr = ipaddress.IPv4Address(self.text(self.need(fields, "address", f"{where}.{net_name}"),
                                                           f"{where}.{net_name}.address"))
                except ValueError as err:
                    raise self.fail(f"{where}.{net_name}: {err}") from None
                if addr not in net.subnet:
                    raise self.fail(f"{where}.{net_name}: {addr} is outside {net.subnet}")
                hostname = self.name(self.need(fields, "hostname", where), f"{where}.{net_name}.hostname")
                addrs.append(NodeAddress(net_name, addr, hostname))
            built = Node(self.name(self.need(node, "name", where), f"{where}.name"),
                         self.name(self.need(node, "domain", where), f"{where}.domain"), tuple(addrs), i)
            for ident in {built.name, built.domain, *built.hostnames(), *(str(a.address) for a in addrs)}:
                if ident in seen:
                    raise self.fail(f"{where}: {ident!r} is used twice in the lab")
                seen.add(ident)
            out.append(built)
        if len(out) < 2:
            raise self.fail("nodes: a cluster needs at least 2 nodes")
        if len(out) > 16:
            raise self.fail(f"nodes: {len(out)} nodes; a lab has at most 16")
        return tuple(out)

    def storage(self, networks: tuple[Network, ...]) -> Storage:
        raw = self.table(self.need(self.raw, "storage", "lab"), "storage", "storage")
        network = self.text(raw.get("network", "management"), "storage.network")
        if network not in {n.name for n in networks}:
            raise self.fail(f"storage.network: unknown network {network!r}")
        luns = []
        for i, lun in enumerate(self.tables(self.need(raw, "luns", "storage"), "storage.luns", "lun")):
            where = f"storage.luns[{i}]"
            mountpoint = self.text(lun.get("mountpoint", ""), f"{where}.mountpoint")
            if mountpoint and (not SAFE_ABS_PATH.match(mountpoint) or ".." in mountpoint.split("/")):
                raise self.fail(f"{where}.mountpoint: {mountpoint!r} is not a plain absolute path")
            fstype = self.text(lun.get("fstype", ""), f"{where}.fstype")
            luns.append(Lun(
                lun=self.integer(self.need(lun, "lun", where), f"{where}.lun", 0, 255),
                size_mb=self.integer(self.need(lun, "size_mb", where), f"{where}.size_mb", 1, 2**20),
                role=self.name(self.need(lun, "role", where), f"{where}.role"),
                # a file name inside the lab's luns/ folder, nothing else: halab truncates it as root
                backing=self.name(self.need(lun, "backing", where), f"{where}.backing"),
                label=self.name(lun["label"], f"{where}.label") if lun.get("label") else "",
                fstype=self.name(fstype, f"{where}.fstype") if fstype else "",
                mountpoint=mountpoint,
            ))
        target = self.text(self.need(raw, "target", "storage"), "storage.target")
        if not SAFE_IQN.match(target):
            raise self.fail(f"storage.target: {target!r} is not an iSCSI name (letters, digits, . : _ -)")
        return Storage(target, network, tuple(luns))

    def image(self) -> Image:
        raw = self.table(self.raw.get("image", {}), "image", "image")
        kind = self.text(raw.get("kind", "builtin"), "image.kind")
        if kind not in ("builtin", "user"):
            raise self.fail(f"image.kind: {kind!r} is not 'builtin' or 'user'")
        if kind == "user" and not raw.get("path"):
            raise self.fail("image.path: a user image needs a path")
        path = self.text(raw.get("path", ""), "image.path")
        if any(ord(c) < 32 for c in path) or path.startswith(("/dev/", "/proc/", "/sys/")):
            raise self.fail(f"image.path: {path!r} is not an image file path")
        root_device = self.text(raw.get("root_device", ""), "image.root_device")
        if root_device and not SAFE_ABS_PATH.match(root_device):
            raise self.fail(f"image.root_device: {root_device!r} is not a device path like /dev/sda1")
        hints = {}
        for key, allowed in (("identity", IDENTITY_ROUTES), ("os_family", OS_FAMILIES), ("firmware", FIRMWARES),
                             ("stack", ("", *STACKS))):
            value = self.text(raw.get(key, allowed[0]), f"image.{key}")
            if value not in allowed:
                raise self.fail(f"image.{key}: {value!r} is not one of {', '.join(a for a in allowed if a)}")
            hints[key] = value
        return Image(kind, self.name(raw.get("suite", "bookworm"), "image.suite"), path,
                     self.integer(raw.get("memory_mib", 1024), "image.memory_mib", 128, 65536),
                     self.integer(raw.get("vcpus", 1), "image.vcpus", 1, 64),
                     root_device=root_device, **hints)

    def range_pair(self, value: Any, field: str) -> tuple[float, float]:
        bad = self.fail(f"{field}: want [min, max] with 0 <= min <= max, finite")
        if not isinstance(value, list) or len(value) != 2 or any(isinstance(x, bool) for x in value):
            raise bad
        try:
            lo, hi = (float(x) for x in value)
        except (TypeError, ValueError):
            raise bad from None
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo <= hi <= 86400):
            raise bad
        return (lo, hi)

    def stack_ranges(self, stack: str, cfg: Mapping[str, Any]) -> None:
        """[stacks.<stack>.timing.<profile>] range keys: the same [min, max] rules as [timing.*]."""
        timing = cfg.get("timing", {})
        if not isinstance(timing, Mapping):
            raise self.fail(f"stacks.{stack}.timing: want a table of profiles")
        profiles = self.raw.get("timing", {})
        for profile, section in timing.items():
            if not isinstance(section, Mapping):
                raise self.fail(f"stacks.{stack}.timing.{profile}: want a table")
            if isinstance(profiles, Mapping) and profile not in profiles:
                close = _suggest(str(profile), frozenset(map(str, profiles)))
                hint = f" (did you mean {close[0]!r}?)" if close else f" (profiles: {', '.join(sorted(profiles))})"
                raise self.fail(f"stacks.{stack}.timing: unknown profile {profile!r}{hint}")
            for key in RANGE_KEYS:
                if key in section:
                    self.range_pair(section[key], f"stacks.{stack}.timing.{profile}.{key}")

    def timings(self) -> dict[str, TimingProfile]:
        out = {}
        for name, section in self.table(self.need(self.raw, "timing", "lab"), "timing").items():
            where = f"timing.{name}"
            raw = self.table(section, where, "timing")
            self.name(name, where)

            def pair(key: str, raw: Mapping[str, Any] = raw, where: str = where) -> tuple[float, float]:
                return self.range_pair(self.need(raw, key, where), f"{where}.{key}")

            out[name] = TimingProfile(
                name=name,
                token_ms=self.integer(self.need(raw, "token_ms", where), f"{where}.token_ms", 100, 600000),
                fence_agent_s=pair("fence_agent_s"),
                resource_start_s=pair("resource_start_s"),
                node_boot_s=pair("node_boot_s"),
                cluster_start_s=pair("cluster_start_s"),
                iscsi_replacement_timeout_s=self.integer(raw.get("iscsi_replacement_timeout_s", 120),
                                                         f"{where}.iscsi_replacement_timeout_s", 0, 86400),
                poll_interval_s=self.number(raw.get("poll_interval_s", 1.0), f"{where}.poll_interval_s", 0.05, 60),
                dc_takeover_s=pair("dc_takeover_s") if "dc_takeover_s" in raw else TimingProfile.dc_takeover_s,
                ring_pass_s=self.number(raw.get("ring_pass_s", TimingProfile.ring_pass_s), f"{where}.ring_pass_s",
                                        0, 60),
            )
        if not out:
            raise self.fail("timing: no profile")
        return out
