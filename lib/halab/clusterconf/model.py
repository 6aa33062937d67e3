"""The typed, immutable model of an RHCS cluster.conf (cman + qdiskd + fenced + rgmanager).

Each element keeps its source line (findings point at it), every attribute as written (``attrs``,
so nothing unmodeled is lost) and a handle on its source XML element (``source``, never compared
or printed) that the writer uses to put unmodeled children and comments back where they were.
Typed fields are ``None`` when cluster.conf does not set them: the values the cluster really runs
with come from the ``effective_*`` properties (defaults.py, derived.py), never from the fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from lxml import etree

from halab.clusterconf import defaults as d
from halab.clusterconf import derived
from halab.clusterconf.attrs import EMPTY, Attrs
from halab.clusterconf.defaults import Flavor


def xml_attr(name: str, kind: type = str) -> Any:
    """A typed field read from (and written back to) the XML attribute ``name``."""
    return field(default=None, metadata={"xml": name, "kind": kind})


@dataclass(frozen=True)
class Slot:
    """Where a list of modeled children lives: directly in the element or in a wrapper element."""

    wrapper: str | None  # e.g. "clusternodes"; None: direct children
    tags: frozenset[str] | None  # tags the slot owns; None: every element tag
    items: tuple[Element, ...]
    single: bool = False  # only the first element of the tag is modeled (cman, totem, rm ...)


@dataclass(frozen=True, kw_only=True)
class Element:
    """Base of every modeled element: line, raw attributes and the source handle."""

    TAG: ClassVar[str] = ""

    line: int | None = field(default=None, compare=False)  # 1-based source line; None: built in code
    attrs: Attrs = EMPTY
    source: etree._Element | None = field(default=None, compare=False, repr=False)

    @property
    def tag(self) -> str:
        return self.TAG

    @property
    def locator(self) -> str:
        """How a finding names this element: ``tag`` or ``tag[name]``."""
        name = self.attrs.get("name")
        return f"{self.tag}[{name}]" if name else self.tag

    def slots(self) -> tuple[Slot, ...]:
        return ()

    @classmethod
    def xml_fields(cls) -> Iterator[tuple[str, str, type]]:
        """(field name, attribute name, kind) of every typed attribute field."""
        for f in fields(cls):
            if "xml" in f.metadata:
                yield f.name, f.metadata["xml"], f.metadata["kind"]

    @property
    def extra(self) -> Attrs:
        """Attributes cluster.conf sets that the model has no typed field for."""
        return self.attrs.without(*(xml for _, xml, _ in self.xml_fields()))


def _single(tag: str, item: Element | None) -> Slot:
    return Slot(None, frozenset({tag}), (item,) if item is not None else (), single=True)


# --- cman / totem / qdiskd / fenced ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Cman(Element):
    TAG = "cman"
    expected_votes: int | None = xml_attr("expected_votes", int)
    two_node: bool | None = xml_attr("two_node", bool)
    quorum_dev_poll: int | None = xml_attr("quorum_dev_poll", int)
    transport: str | None = xml_attr("transport")


@dataclass(frozen=True, kw_only=True)
class Totem(Element):
    TAG = "totem"
    token: int | None = xml_attr("token", int)
    consensus: int | None = xml_attr("consensus", int)
    join: int | None = xml_attr("join", int)
    token_retransmits_before_loss_const: int | None = xml_attr("token_retransmits_before_loss_const", int)


@dataclass(frozen=True, kw_only=True)
class Heuristic(Element):
    TAG = "heuristic"
    program: str | None = xml_attr("program")
    score: int | None = xml_attr("score", int)
    interval: int | None = xml_attr("interval", int)
    tko: int | None = xml_attr("tko", int)

    @property
    def locator(self) -> str:
        return f"heuristic[{self.program}]" if self.program else "heuristic"


@dataclass(frozen=True, kw_only=True)
class Quorumd(Element):
    TAG = "quorumd"
    interval: int | None = xml_attr("interval", int)
    tko: int | None = xml_attr("tko", int)
    tko_up: int | None = xml_attr("tko_up", int)
    upgrade_wait: int | None = xml_attr("upgrade_wait", int)
    master_wait: int | None = xml_attr("master_wait", int)
    votes: int | None = xml_attr("votes", int)
    min_score: int | None = xml_attr("min_score", int)
    label: str | None = xml_attr("label")
    device: str | None = xml_attr("device")
    master_wins: bool | None = xml_attr("master_wins", bool)
    reboot: bool | None = xml_attr("reboot", bool)
    allow_kill: bool | None = xml_attr("allow_kill", bool)
    io_timeout: bool | None = xml_attr("io_timeout", bool)
    heuristics: tuple[Heuristic, ...] = ()

    def slots(self) -> tuple[Slot, ...]:
        return (Slot(None, frozenset({"heuristic"}), self.heuristics),)


@dataclass(frozen=True, kw_only=True)
class FenceDaemon(Element):
    TAG = "fence_daemon"
    post_fail_delay: int | None = xml_attr("post_fail_delay", int)
    post_join_delay: int | None = xml_attr("post_join_delay", int)


# --- nodes and fencing -------------------------------------------------------------------------------

CREDENTIAL_KEYS = ("passwd", "passwd_script", "identity_file")


@dataclass(frozen=True, kw_only=True)
class DeviceRef(Element):
    """A ``<device>`` inside a fence method: which fencedevice, which port, per-node options."""

    TAG = "device"
    name: str | None = xml_attr("name")
    port: str | None = xml_attr("port")

    @property
    def options(self) -> Attrs:
        return self.attrs.without("name", "port")


@dataclass(frozen=True, kw_only=True)
class FenceMethod(Element):
    TAG = "method"
    name: str | None = xml_attr("name")
    devices: tuple[DeviceRef, ...] = ()

    def slots(self) -> tuple[Slot, ...]:
        return (Slot(None, frozenset({"device"}), self.devices),)


@dataclass(frozen=True, kw_only=True)
class ClusterNode(Element):
    TAG = "clusternode"
    name: str | None = xml_attr("name")
    nodeid: int | None = xml_attr("nodeid", int)
    votes: int | None = xml_attr("votes", int)
    methods: tuple[FenceMethod, ...] = ()

    def slots(self) -> tuple[Slot, ...]:
        return (Slot("fence", frozenset({"method"}), self.methods),)

    @property
    def effective_votes(self) -> int:
        return self.votes if self.votes is not None else d.NODE_VOTES

    def device_refs(self) -> Iterator[DeviceRef]:
        for method in self.methods:
            yield from method.devices


@dataclass(frozen=True, kw_only=True)
class FenceDevice(Element):
    """A ``<fencedevice>``: the agent and its options. Secrets stay in ``attrs``, redacted on show."""

    TAG = "fencedevice"
    name: str | None = xml_attr("name")
    agent: str | None = xml_attr("agent")

    @property
    def ipaddr(self) -> str | None:
        return self.attrs.get("ipaddr") or self.attrs.get("ipaddress")

    @property
    def login(self) -> str | None:
        return self.attrs.get("login")

    @property
    def credentials(self) -> tuple[str, ...]:
        """Which kinds of credential are configured (names only, never values)."""
        return tuple(k for k in CREDENTIAL_KEYS if self.attrs.get(k))


# --- rgmanager ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DomainMember(Element):
    TAG = "failoverdomainnode"
    name: str | None = xml_attr("name")
    priority: int | None = xml_attr("priority", int)


@dataclass(frozen=True, kw_only=True)
class FailoverDomain(Element):
    TAG = "failoverdomain"
    name: str | None = xml_attr("name")
    ordered: bool | None = xml_attr("ordered", bool)
    restricted: bool | None = xml_attr("restricted", bool)
    nofailback: bool | None = xml_attr("nofailback", bool)
    members: tuple[DomainMember, ...] = ()

    def slots(self) -> tuple[Slot, ...]:
        return (Slot(None, frozenset({"failoverdomainnode"}), self.members),)

    def member_names(self) -> tuple[str, ...]:
        """Members by preference: priority order when ordered (ties keep config order)."""
        members = list(self.members)
        if self.ordered:
            members.sort(key=lambda m: m.priority if m.priority is not None else 0)
        return tuple(m.name for m in members if m.name)


@dataclass(frozen=True, kw_only=True)
class Resource(Element):
    """One resource (ip, fs, script, ...) of a service tree or of ``<resources>``; any tag."""

    kind: str
    children: tuple[Resource, ...] = ()

    @property
    def tag(self) -> str:
        return self.kind

    @property
    def ref(self) -> str | None:
        return self.attrs.get("ref")

    @property
    def key(self) -> str | None:
        """Its name as rgmanager sees it: ``ref``, else the primary attribute (ip: address)."""
        return self.ref or self.attrs.get(d.PRIMARY_ATTR.get(self.kind, "name"))

    @property
    def locator(self) -> str:
        return f"{self.kind}[{self.key}]" if self.key else self.kind

    def slots(self) -> tuple[Slot, ...]:
        return (Slot(None, None, self.children),)

    def walk(self) -> Iterator[Resource]:
        """This resource and its subtree, in config (tree) order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def start_order(self) -> tuple[Resource, ...]:
        """This resource then its subtree in rgmanager's start order (levels, then untyped)."""
        out: list[Resource] = [self]
        for child in _children_by_level(self.kind, self.children):
            out.extend(child.start_order())
        return tuple(out)


def _children_by_level(parent_kind: str, children: tuple[Resource, ...]) -> list[Resource]:
    """rgmanager's child order: typed levels 1..n (table order), then the rest in config order."""
    levels = d.CHILD_START_LEVELS.get(parent_kind)
    if not levels:
        return list(children)
    ordered: list[Resource] = []
    for level in sorted(set(levels.values())):
        for kind in (k for k, lv in levels.items() if lv == level):
            ordered.extend(c for c in children if c.kind == kind)
    ordered.extend(c for c in children if c.kind not in levels)
    return ordered


@dataclass(frozen=True, kw_only=True)
class Service(Element):
    """A ``<service>`` (or top-level ``<vm>``) and its resource tree in config order."""

    kind: str = "service"
    name: str | None = xml_attr("name")
    autostart: bool | None = xml_attr("autostart", bool)
    domain: str | None = xml_attr("domain")
    recovery: str | None = xml_attr("recovery")
    exclusive: bool | None = xml_attr("exclusive", bool)
    children: tuple[Resource, ...] = ()

    @property
    def tag(self) -> str:
        return self.kind

    @property
    def ident(self) -> str:
        return self.name or self.attrs.get("ref") or ""

    @property
    def locator(self) -> str:
        return f"{self.kind}[{self.ident}]" if self.ident else self.kind

    def slots(self) -> tuple[Slot, ...]:
        return (Slot(None, None, self.children),)

    def walk(self) -> Iterator[Resource]:
        for child in self.children:
            yield from child.walk()

    def start_order(self) -> tuple[Resource, ...]:
        """The service's resources in the order rgmanager starts them (stop is the reverse)."""
        out: list[Resource] = []
        for child in _children_by_level("service", self.children):
            out.extend(child.start_order())
        return tuple(out)


SERVICE_TAGS = frozenset({"service", "vm"})


@dataclass(frozen=True, kw_only=True)
class Rm(Element):
    TAG = "rm"
    domains: tuple[FailoverDomain, ...] = ()
    resources: tuple[Resource, ...] = ()  # the top-level <resources> definitions
    services: tuple[Service, ...] = ()

    def slots(self) -> tuple[Slot, ...]:
        return (
            Slot("failoverdomains", frozenset({"failoverdomain"}), self.domains),
            Slot("resources", None, self.resources),
            Slot(None, SERVICE_TAGS, self.services),
        )

    def domain(self, name: str) -> FailoverDomain | None:
        return next((dom for dom in self.domains if dom.name == name), None)

    def definition(self, kind: str, key: str) -> Resource | None:
        """The ``<resources>`` entry a ``ref`` points at (same type, same primary attribute)."""
        return next((r for r in self.resources if r.kind == kind and r.key == key), None)

    def effective_attrs(self, item: Resource | Service) -> Attrs:
        """Attributes after resolving ``ref``: the definition's, overridden by the local ones."""
        ref = item.attrs.get("ref")
        target = self.definition(item.tag, ref) if ref else None
        if target is None:
            return item.attrs
        return Attrs({**dict(target.attrs), **dict(item.attrs.without("ref"))})

    def service_domain(self, service: Service) -> str | None:
        return self.effective_attrs(service).get("domain")


# --- the whole file --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An attribute the reader could not turn into its type (kept as written, reported by a rule)."""

    locator: str
    line: int | None
    attr: str
    value: str
    expected: str


@dataclass(frozen=True, kw_only=True)
class ClusterConf(Element):
    """A whole cluster.conf. Typed fields are what the file says; ``effective_*`` what runs."""

    TAG = "cluster"
    name: str | None = xml_attr("name")
    config_version: int | None = xml_attr("config_version", int)
    cman: Cman | None = None
    totem: Totem | None = None
    quorumd: Quorumd | None = None
    fence_daemon: FenceDaemon | None = None
    nodes: tuple[ClusterNode, ...] = ()
    fence_devices: tuple[FenceDevice, ...] = ()
    rm: Rm | None = None
    path: Path | None = field(default=None, compare=False)
    problems: tuple[Problem, ...] = field(default=(), compare=False)
    # Text around the root element as written (declaration, comments, final newline): round trip.
    frame: tuple[str, str] = field(default=('<?xml version="1.0"?>\n', "\n"), compare=False)

    def slots(self) -> tuple[Slot, ...]:
        return (
            _single("cman", self.cman),
            _single("totem", self.totem),
            _single("quorumd", self.quorumd),
            _single("fence_daemon", self.fence_daemon),
            Slot("clusternodes", frozenset({"clusternode"}), self.nodes),
            Slot("fencedevices", frozenset({"fencedevice"}), self.fence_devices),
            _single("rm", self.rm),
        )

    @property
    def locator(self) -> str:
        return "cluster"

    # --- lookups ---
    def node(self, name: str) -> ClusterNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    def fence_device(self, name: str) -> FenceDevice | None:
        return next((f for f in self.fence_devices if f.name == name), None)

    @property
    def services(self) -> tuple[Service, ...]:
        return self.rm.services if self.rm else ()

    @property
    def domains(self) -> tuple[FailoverDomain, ...]:
        return self.rm.domains if self.rm else ()

    # --- totem ---
    @property
    def effective_token_ms(self) -> int:
        """Totem token T: cluster.conf, else cman's 10000 (cman.h:14)."""
        token = self.totem.token if self.totem else None
        return token if token is not None else d.TOKEN_MS

    def effective_consensus_ms(self, flavor: Flavor | str = d.DEFAULT_FLAVOR) -> int:
        """Consensus C: cluster.conf, else cman's default, which depends on the cman build."""
        consensus = self.totem.consensus if self.totem else None
        if consensus is not None:
            return consensus
        return derived.consensus_ms(self.effective_token_ms, len(self.nodes), Flavor(flavor))

    @property
    def effective_join_ms(self) -> int:
        join = self.totem.join if self.totem else None
        return join if join is not None else d.JOIN_MS

    @property
    def effective_token_retransmits(self) -> int:
        value = self.totem.token_retransmits_before_loss_const if self.totem else None
        return value if value is not None else d.TOKEN_RETRANSMITS_BEFORE_LOSS_CONST

    # --- cman / votes ---
    @property
    def two_node(self) -> bool:
        return bool(self.cman and self.cman.two_node)

    @property
    def quorum_dev_poll_ms(self) -> int:
        """Q: cluster.conf, else the token when <cman> exists, else 10000 (A ais.c:185-202)."""
        if self.cman is None:
            return d.QUORUMDEV_POLL_FALLBACK_MS
        poll = self.cman.quorum_dev_poll
        return poll if poll is not None else self.effective_token_ms

    @property
    def node_votes(self) -> int:
        return sum(n.effective_votes for n in self.nodes)

    @property
    def qdisk_votes(self) -> int:
        """Votes the quorum disk contributes (0 without one; unknown auto votes count 0)."""
        q = self.qdisk_effective()
        return (q.votes or 0) if q else 0

    @property
    def effective_expected_votes(self) -> int:
        """expected_votes: cluster.conf, else the votes cman can count (nodes + quorum disk)."""
        expected = self.cman.expected_votes if self.cman else None
        return expected if expected is not None else self.node_votes + self.qdisk_votes

    @property
    def quorum_votes(self) -> int:
        """Votes needed to be quorate."""
        return derived.quorum_threshold(self.effective_expected_votes, self.two_node)

    # --- fenced ---
    @property
    def post_fail_delay_s(self) -> int:
        value = self.fence_daemon.post_fail_delay if self.fence_daemon else None
        return value if value is not None else d.POST_FAIL_DELAY_S

    @property
    def post_join_delay_s(self) -> int:
        value = self.fence_daemon.post_join_delay if self.fence_daemon else None
        return value if value is not None else d.POST_JOIN_DELAY_S

    # --- qdiskd ---
    def qdisk_effective(self) -> derived.QdiskTiming | None:
        """qdiskd's parameters after its own defaulting, or None without a <quorumd>."""
        q = self.quorumd
        if q is None:
            return None
        interval = max(1, q.interval if q.interval is not None else d.QDISK_INTERVAL_S)
        tko_auto = q.tko is None
        tko = derived.qdisk_tko_auto(self.effective_token_ms, interval) if tko_auto else max(
            d.QDISK_TKO_MIN, q.tko or 0)
        tko_up = derived.qdisk_tko_up(tko, q.tko_up)
        votes = q.votes if q.votes is not None else derived.qdisk_votes_auto(
            [n.effective_votes for n in self.nodes])
        auto_wins = q.master_wins is None and q.votes is None and derived.qdisk_master_wins_auto(
            len(self.nodes), len(q.heuristics), votes)
        wins = (bool(q.master_wins) and not q.heuristics) or auto_wins  # A main.c:1822-1836
        return derived.QdiskTiming(
            interval_s=interval,
            tko=tko,
            tko_up=tko_up,
            upgrade_wait=derived.qdisk_upgrade_wait(q.upgrade_wait),
            master_wait=derived.qdisk_master_wait(tko, tko_up, q.master_wait),
            votes=votes,
            master_wins=wins,
            master_wins_auto=auto_wins,
            reboot=q.reboot if q.reboot is not None else d.QDISK_REBOOT,
            allow_kill=q.allow_kill if q.allow_kill is not None else d.QDISK_ALLOW_KILL,
            io_timeout=q.io_timeout if q.io_timeout is not None else d.QDISK_IO_TIMEOUT,
            heuristics=len(q.heuristics),
            tko_auto=tko_auto,
        )

    def walk(self) -> Iterator[Element]:
        """Every modeled element, depth first in document order of the model."""
        yield from _walk(self)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for slot in element.slots():
        for item in slot.items:
            yield from _walk(item)
