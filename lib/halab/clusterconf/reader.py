"""cluster.conf -> ClusterConf. Lenient about content, strict about being XML.

A file that is not XML (or not there, or not a ``<cluster>``) is a ConfigError naming the file and
line: nothing can be checked. Anything else is read: a value that is not the type it should be is
kept as written and recorded in ``ClusterConf.problems`` so a rule can report it with its line,
instead of the reader refusing a config the checks are there to judge.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from lxml import etree

from halab.clusterconf.attrs import Attrs
from halab.clusterconf.model import (
    SERVICE_TAGS,
    ClusterConf,
    ClusterNode,
    Cman,
    DeviceRef,
    DomainMember,
    Element,
    FailoverDomain,
    FenceDaemon,
    FenceDevice,
    FenceMethod,
    Heuristic,
    Problem,
    Quorumd,
    Resource,
    Rm,
    Service,
    Totem,
)
from halab.errors import ConfigError
from halab.inputs import read_input

MAX_CONF_BYTES = 4 * 2**20  # the largest real cluster.conf is a few hundred KB

E = TypeVar("E", bound=Element)

TRUE_WORDS = frozenset({"1", "yes", "on", "true", "y"})
FALSE_WORDS = frozenset({"0", "no", "off", "false", "n"})


def parse_int(raw: str) -> int | None:
    try:
        return int(raw.strip(), 10)
    except ValueError:
        return None


def parse_bool(raw: str) -> bool | None:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_value(raw: str, kind: type) -> Any:
    """The typed value of an attribute, or None when it does not parse as ``kind``."""
    if kind is int:
        return parse_int(raw)
    if kind is bool:
        return parse_bool(raw)
    return raw


def load_cluster_conf(path: str | Path) -> ClusterConf:
    """Read a cluster.conf file; ConfigError (one line: file and line) if it is unusable."""
    path = Path(path)
    if str(path) != "-" and not path.exists():
        raise ConfigError("no such file", str(path))
    if path.is_dir():
        raise ConfigError("is a directory, not a cluster.conf", str(path))
    data = read_input(path, lambda what: ConfigError(what, str(path)), MAX_CONF_BYTES)
    return parse_cluster_conf(data, path)


def parse_cluster_conf(data: bytes | str, path: Path | None = None) -> ClusterConf:
    """Read cluster.conf text; ``path`` only names the source in errors and findings."""
    where = str(path) if path else "<cluster.conf>"
    raw = data.encode("utf-8") if isinstance(data, str) else data
    # No entity expansion (billion laughs), no DTD or network fetch (external entities), libxml2's
    # depth and size limits kept (huge_tree off): a hostile file is a one-line "not XML".
    parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as err:
        line = err.lineno if err.lineno else "?"
        msg = re.sub(r",? line \d+, column \d+$", "", str(err.msg))
        raise ConfigError(f"not XML: {msg}", f"{where}:{line}") from None
    if root.tag != "cluster":
        raise ConfigError(f"root element is <{root.tag}>, not <cluster>", f"{where}:{_line(root)}")
    return replace(_Reader(path).cluster(root), frame=_frame(raw, root))


class _Reader:
    """Builds the model from an lxml tree, collecting value problems on the way."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def base(self, cls: type[E], el: etree._Element, **extra: Any) -> E:
        """An element of ``cls`` with its line, attributes, source and typed attribute fields."""
        attrs = Attrs((str(k), str(v)) for k, v in el.attrib.items())
        typed: dict[str, Any] = {}
        for fname, xml, kind in cls.xml_fields():
            raw = attrs.get(xml)
            if raw is None:
                continue
            value = parse_value(raw, kind)
            if value is None:
                locator = f"{el.tag}[{attrs['name']}]" if attrs.get("name") else str(el.tag)
                self.problems.append(Problem(locator, _line(el), xml, raw, _kind_word(kind)))
            typed[fname] = value
        return cls(line=_line(el), attrs=attrs, source=el, **typed, **extra)

    def cluster(self, root: etree._Element) -> ClusterConf:
        conf = self.base(
            ClusterConf, root,
            cman=self.single(root, "cman", Cman),
            totem=self.single(root, "totem", Totem),
            quorumd=self.quorumd(root.find("quorumd")),
            fence_daemon=self.single(root, "fence_daemon", FenceDaemon),
            nodes=tuple(self.node(el) for el in _children(root, "clusternodes", "clusternode")),
            fence_devices=tuple(
                self.base(FenceDevice, el) for el in _children(root, "fencedevices", "fencedevice")),
            rm=self.rm(root.find("rm")),
            path=self.path,
        )
        return replace(conf, problems=tuple(self.problems))

    def single(self, root: etree._Element, tag: str, cls: type[E]) -> E | None:
        el = root.find(tag)
        return self.base(cls, el) if el is not None else None

    def quorumd(self, el: etree._Element | None) -> Quorumd | None:
        if el is None:
            return None
        heuristics = tuple(self.base(Heuristic, h) for h in el.iterfind("heuristic"))
        return self.base(Quorumd, el, heuristics=heuristics)

    def node(self, el: etree._Element) -> ClusterNode:
        methods = tuple(
            self.base(FenceMethod, m, devices=tuple(self.base(DeviceRef, dv) for dv in m.iterfind("device")))
            for m in _children(el, "fence", "method")
        )
        return self.base(ClusterNode, el, methods=methods)

    def rm(self, el: etree._Element | None) -> Rm | None:
        if el is None:
            return None
        domains = tuple(
            self.base(FailoverDomain, dom,
                      members=tuple(self.base(DomainMember, m) for m in dom.iterfind("failoverdomainnode")))
            for dom in _children(el, "failoverdomains", "failoverdomain")
        )
        resources_el = el.find("resources")
        resources = self.resource_children(resources_el) if resources_el is not None else ()
        services = tuple(
            self.base(Service, child, kind=str(child.tag), children=self.resource_children(child))
            for child in el if isinstance(child.tag, str) and child.tag in SERVICE_TAGS
        )
        return self.base(Rm, el, domains=domains, resources=resources, services=services)

    def resource_children(self, el: etree._Element) -> tuple[Resource, ...]:
        return tuple(self.resource(child) for child in el if isinstance(child.tag, str))

    def resource(self, el: etree._Element) -> Resource:
        return self.base(Resource, el, kind=str(el.tag), children=self.resource_children(el))


_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*>", re.DOTALL)


def _frame(raw: bytes, root: etree._Element) -> tuple[str, str]:
    """The text before and after the root element, so the writer reproduces the file exactly."""
    text = raw.decode("utf-8", errors="replace")
    pos = 0
    while (m := _PROLOG_ITEM.match(text, pos)) and m.end() > pos:
        pos = m.end()
    close = text.rfind(f"</{root.tag}>")
    if close >= 0:
        return text[:pos], text[close + len(f"</{root.tag}>"):]
    end = text.find("/>", pos)
    return text[:pos], text[end + 2:] if end >= 0 else "\n"


def _line(el: etree._Element) -> int | None:
    """The element's 1-based source line (lxml-stubs type it loosely)."""
    line: object = el.sourceline
    return line if isinstance(line, int) else None


def _children(parent: etree._Element, wrapper: str, tag: str) -> list[etree._Element]:
    """The ``tag`` children of the first ``wrapper`` (the writer treats later wrappers as unmodeled)."""
    box = parent.find(wrapper)
    return list(box.iterfind(tag)) if box is not None else []


def _kind_word(kind: type) -> str:
    return {int: "an integer", bool: "a boolean (0/1, yes/no, on/off)"}.get(kind, "a string")
