"""Read a CIB (``cibadmin -Q`` / ``pcs cluster cib``) into a validated CibConfig, or say why not.

Three outcomes, each one line: the configuration is read; it uses constructs halab does not model
(``Unsupported`` names every one of them: rules, resource sets, bundles, tickets, templates,
remote/guest nodes ...); or it is unusable (``ConfigError``: not XML, hostile XML, a constraint
naming no resource). Only the configuration section counts; the status section is left to the
scheduler (halab.cib.simulate).

Hostile input is refused before or by the parser: more than MAX_BYTES, NUL bytes, a DOCTYPE
(entity declarations: billion laughs, external entities), and lxml never resolves entities or
touches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from lxml import etree

from halab.cib.model import (
    CibConfig,
    CibNode,
    Clone,
    Colocation,
    FenceLevel,
    Group,
    Location,
    Op,
    Order,
    Primitive,
    Resource,
    frozen,
)
from halab.cib.values import boolean, duration_s, score
from halab.errors import ConfigError
from halab.inputs import read_input

MAX_BYTES = 16 * 1024 * 1024  # the corpus' largest CIB is ~1 MiB; a real cluster's a few MiB
IGNORED = ("alerts", "acls")  # no effect on placement, fencing or timing: named, not modelled


class Unsupported(ConfigError):
    """The CIB is valid but uses constructs halab does not model; ``constructs`` names them."""

    def __init__(self, constructs: Iterable[str], where: str = "") -> None:
        self.constructs = tuple(dict.fromkeys(constructs))
        shown = ", ".join(self.constructs[:8]) + (f" (+{len(self.constructs) - 8} more)"
                                                   if len(self.constructs) > 8 else "")
        super().__init__(f"unsupported in this CIB: {shown}", where)


def load_cib(path: str | Path) -> CibConfig:
    p = Path(path)
    data = read_input(p, lambda why: ConfigError(why, str(p)), MAX_BYTES)  # bounded, one line on error
    return read_cib(data, str(p))


def parse_xml(data: bytes | str, where: str) -> etree._Element:
    """The root of a CIB document, refusing hostile or non-XML input with one line."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB: not a CIB halab reads", where)
    if b"\x00" in raw:
        raise ConfigError("binary data (NUL bytes): not a CIB", where)
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise ConfigError("a DOCTYPE or entity declaration: refused (a CIB has none)", where)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(raw, parser)
    except (etree.XMLSyntaxError, ValueError) as err:
        msg = " ".join(str(err).split())[:160]
        raise ConfigError(f"not well-formed XML: {msg}", where) from None
    if root.tag != "cib":
        raise ConfigError(f"root element is <{root.tag}>, expected <cib>", where)
    return root


def read_cib(data: bytes | str, where: str = "cib.xml") -> CibConfig:
    root = parse_xml(data, where)
    conf = root.find("configuration")
    if conf is None:
        raise ConfigError("the CIB has no <configuration> section", where)
    return _Reader(root, conf, where).config()


def _line(el: etree._Element) -> int | None:
    line: object = getattr(el, "sourceline", None)
    return line if isinstance(line, int) else None


class _Reader:
    """One pass over the configuration, collecting unsupported constructs instead of stopping."""

    def __init__(self, root: etree._Element, conf: etree._Element, where: str) -> None:
        self.root = root
        self.conf = conf
        self.where = where
        self.unsupported: list[str] = []
        self.ids = {str(el.get("id")): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}

    def bad(self, el: etree._Element, what: str) -> None:
        self.unsupported.append(f"{what} ({el.tag}[{el.get('id', '?')}] line {_line(el)})")

    def err(self, el: etree._Element, what: str) -> ConfigError:
        return ConfigError(f"{el.tag}[{el.get('id', '?')}] line {_line(el)}: {what}", self.where)

    def config(self) -> CibConfig:
        known = {"crm_config", "nodes", "resources", "constraints", "rsc_defaults", "op_defaults",
                 "fencing-topology", *IGNORED}
        for child in self.conf:
            if isinstance(child.tag, str) and child.tag not in known:
                self.bad(child, f"<{child.tag}> section")
        try:
            cfg = self._build()
        except ConfigError as err:
            if self.unsupported:  # an unsupported part may explain the error (e.g. a tag as rsc)
                raise Unsupported(self.unsupported, self.where) from None
            raise ConfigError(err.what, self.where) from None
        if self.unsupported:
            raise Unsupported(self.unsupported, self.where)
        return cfg

    def _build(self) -> CibConfig:
        resources = tuple(self.resources())
        nodes = tuple(self.nodes())
        cfg = CibConfig(
            nodes=nodes,
            resources=resources,
            locations=tuple(self.locations()),
            colocations=tuple(self.colocations()),
            orders=tuple(self.orders()),
            properties=self.sets(self.conf.find("crm_config"), "cluster_property_set"),
            rsc_defaults=self.sets(self.conf.find("rsc_defaults"), "meta_attributes"),
            op_defaults=self.sets(self.conf.find("op_defaults"), "meta_attributes"),
            fence_levels=tuple(self.levels()),
            ignored=tuple(f"<{el.tag}> ({len(el)} entries)" for t in IGNORED
                          if (el := self.conf.find(t)) is not None and len(el)),
            validate_with=str(self.root.get("validate-with", "")),
        )
        _validate(cfg, self.err)
        return cfg

    # --- attribute sets ------------------------------------------------------------------------

    def deref(self, el: etree._Element) -> etree._Element:
        ref = el.get("id-ref")
        if ref is None:
            return el
        target = self.ids.get(ref)
        if target is None or target.tag != el.tag:
            raise self.err(el, f"id-ref {ref!r} names no <{el.tag}>")
        return target

    def sets(self, parent: etree._Element | None, tag: str) -> dict[str, str]:
        """Merge the nvsets of ``parent`` (first set wins, as pacemaker orders equal-score sets)."""
        out: dict[str, str] = {}
        if parent is None:
            return out
        for raw in parent.findall(tag):
            nvset = self.deref(raw)
            if nvset.find("rule") is not None:
                self.bad(nvset, "rule-based attributes")
                continue
            for nv in nvset.findall("nvpair"):
                pair = self.deref(nv)
                name, value = pair.get("name"), pair.get("value")
                if name is not None and value is not None:
                    out.setdefault(str(name), str(value))
        return out

    # --- nodes, resources ----------------------------------------------------------------------

    def nodes(self) -> Iterator[CibNode]:
        for el in self.conf.iterfind("nodes/node"):
            uname = el.get("uname") or el.get("id")
            if not uname:
                raise self.err(el, "a node without id or uname")
            yield CibNode(str(el.get("id", uname)), str(uname), str(el.get("type", "member")),
                          frozen(self.sets(el, "instance_attributes")), _line(el))

    def resources(self) -> Iterator[Resource]:
        parent = self.conf.find("resources")
        for el in ([] if parent is None else parent):  # comments and PIs were dropped by the parser
            if el.tag == "primitive":
                yield self.primitive(el)
            elif el.tag == "group":
                yield self.group(el)
            elif el.tag in ("clone", "master"):
                yield self.clone(el)
            else:
                self.bad(el, f"<{el.tag}> resource")

    def primitive(self, el: etree._Element) -> Primitive:
        if el.get("template"):
            self.bad(el, "a primitive from a resource template")
        for child in el:
            if isinstance(child.tag, str) and child.tag not in (
                    "instance_attributes", "meta_attributes", "operations", "utilization"):
                self.bad(child, f"<{child.tag}> in a primitive")
        cls, rtype = el.get("class"), el.get("type")
        if not el.get("template") and (not cls or not rtype):
            raise self.err(el, "a primitive needs class and type")
        meta = self.sets(el, "meta_attributes")
        if cls == "ocf" and el.get("provider") == "pacemaker" and rtype == "remote":
            self.bad(el, "a Pacemaker Remote node")
        if "remote-node" in meta:
            self.bad(el, "a guest node (remote-node)")
        ops = el.find("operations")
        return Primitive(
            id=str(el.get("id")), cls=str(cls or ""), provider=str(el.get("provider", "")), type=str(rtype or ""),
            params=frozen(self.sets(el, "instance_attributes")), meta=frozen(meta),
            ops=tuple(self.op(o) for o in ([] if ops is None else self.deref(ops).findall("op"))),
            utilization=frozen(self.sets(el, "utilization")), line=_line(el))

    def op(self, raw: etree._Element) -> Op:
        el = self.deref(raw)
        name = el.get("name")
        if not name:
            raise self.err(el, "an op without a name")
        attrs = {**self.sets(el, "meta_attributes"), **self.sets(el, "instance_attributes")}
        attrs.update({str(k): str(v) for k, v in el.attrib.items()
                      if k not in ("id", "name", "interval", "timeout", "on-fail", "role")})
        try:
            interval = duration_s(el.get("interval"), "interval") or 0.0
            timeout = duration_s(el.get("timeout") or attrs.get("timeout"), "timeout")
        except ConfigError as err:
            raise self.err(el, err.what) from None
        return Op(str(el.get("id", "")), str(name), interval, timeout, str(el.get("on-fail", "")),
                  str(el.get("role", "")), frozen(attrs), _line(el))

    def group(self, el: etree._Element) -> Group:
        members = []
        for child in el:
            if child.tag == "primitive":
                members.append(self.primitive(child))
            elif isinstance(child.tag, str) and child.tag not in ("meta_attributes", "instance_attributes"):
                self.bad(child, f"<{child.tag}> in a group")
        if not members:
            raise self.err(el, "an empty group")
        return Group(str(el.get("id")), tuple(members), frozen(self.sets(el, "meta_attributes")), _line(el))

    def clone(self, el: etree._Element) -> Clone:
        meta = self.sets(el, "meta_attributes")
        kids = [c for c in el if c.tag in ("primitive", "group")]
        for sub in el:
            if isinstance(sub.tag, str) and sub.tag not in (
                    "primitive", "group", "meta_attributes", "instance_attributes"):
                self.bad(sub, f"<{sub.tag}> in a clone")
        if len(kids) != 1:
            raise self.err(el, "a clone needs exactly one primitive or group")
        child = self.primitive(kids[0]) if kids[0].tag == "primitive" else self.group(kids[0])
        promotable = el.tag == "master" or boolean(meta.get("promotable"), False)
        return Clone(str(el.get("id")), child, frozen(meta), promotable, _line(el))

    # --- constraints ---------------------------------------------------------------------------

    def constraints(self, tag: str) -> Iterator[etree._Element]:
        parent = self.conf.find("constraints")
        for el in ([] if parent is None else parent):
            if el.tag not in ("rsc_location", "rsc_colocation", "rsc_order"):
                if tag == "rsc_location":  # report other kinds once
                    self.bad(el, f"<{el.tag}> constraint")
                continue
            if el.tag != tag:
                continue
            if el.find("resource_set") is not None:
                self.bad(el, "a resource set")
            elif el.find("rule") is not None and not self.static_rules(el):
                self.bad(el, "a rule-based location on state (only #uname and node attributes of the "
                             "configuration are read)")
            elif el.get("rsc-pattern"):
                self.bad(el, "a location by rsc-pattern")
            elif el.get("node-attribute", "#uname") != "#uname":
                self.bad(el, "a colocation by node-attribute")
            elif el.get("score-attribute"):
                self.bad(el, "a score-attribute")
            else:
                yield el

    def checked_score(self, el: etree._Element) -> int:
        try:
            return score(el.get("score"), "score")
        except ConfigError as err:
            raise self.err(el, err.what) from None

    def static_rules(self, el: etree._Element) -> bool:
        """A location rule halab can evaluate from the configuration alone: a score, and
        expressions eq/ne on #uname or on node attributes the <nodes> section sets."""
        node_attrs = {str(nv.get("name")) for nv in self.conf.iterfind("nodes/node/instance_attributes/nvpair")}
        for rule in el.findall("rule"):
            if rule.get("score") is None or any(c.tag != "expression" for c in rule if isinstance(c.tag, str)):
                return False
            for ex in rule.findall("expression"):
                attr = ex.get("attribute", "")
                if ex.get("operation") not in ("eq", "ne") or ex.get("value") is None or ex.get("value-source"):
                    return False
                if attr != "#uname" and attr not in node_attrs:
                    return False
        return True

    def rule_locations(self, el: etree._Element) -> Iterator[Location]:
        """Expand static rules into one location per node they match (what pacemaker computes)."""
        nodes = [(str(n.get("uname") or n.get("id")), {str(nv.get("name")): str(nv.get("value")) for nv in
                  n.iterfind("instance_attributes/nvpair")}) for n in self.conf.iterfind("nodes/node")]
        for rule in el.findall("rule"):
            exprs = rule.findall("expression")
            for uname, own in nodes:
                attrs = {**own, "#uname": uname}
                hits = [(attrs.get(str(ex.get("attribute"))) == ex.get("value")) == (ex.get("operation") == "eq")
                        for ex in exprs]
                if (any(hits) if rule.get("boolean-op") == "or" else all(hits)) and hits:
                    yield Location(f"{el.get('id')}:{rule.get('id')}", str(el.get("rsc")), uname,
                                   self.checked_score(rule), str(rule.get("role", el.get("role", ""))), _line(rule))

    def locations(self) -> Iterator[Location]:
        for el in self.constraints("rsc_location"):
            if el.find("rule") is not None:
                yield from self.rule_locations(el)
                continue
            if not el.get("node"):
                raise self.err(el, "a location needs node and score (or a rule)")
            yield Location(str(el.get("id")), str(el.get("rsc")), str(el.get("node")), self.checked_score(el),
                           str(el.get("role", "")), _line(el))

    def colocations(self) -> Iterator[Colocation]:
        for el in self.constraints("rsc_colocation"):
            yield Colocation(str(el.get("id")), str(el.get("rsc")), str(el.get("with-rsc")), self.checked_score(el),
                             str(el.get("rsc-role", "")), str(el.get("with-rsc-role", "")), _line(el))

    def orders(self) -> Iterator[Order]:
        for el in self.constraints("rsc_order"):
            kind = el.get("kind") or ("Optional" if el.get("score") in ("0",) else "Mandatory")
            first_action = str(el.get("first-action", "start"))
            yield Order(str(el.get("id")), str(el.get("first")), str(el.get("then")), str(kind),
                        first_action, str(el.get("then-action", first_action)),
                        boolean(el.get("symmetrical"), kind != "Serialize"), _line(el))

    def levels(self) -> Iterator[FenceLevel]:
        for el in self.conf.iterfind("fencing-topology/fencing-level"):
            if el.get("target"):
                target, kind = str(el.get("target")), "node"
            elif el.get("target-pattern"):
                target, kind = str(el.get("target-pattern")), "pattern"
            elif el.get("target-attribute"):
                target, kind = f"{el.get('target-attribute')}={el.get('target-value', '')}", "attribute"
            else:
                raise self.err(el, "a fencing level without a target")
            try:
                index = int(str(el.get("index")))
            except ValueError:
                raise self.err(el, "index is not an integer") from None
            devices = tuple(d for d in str(el.get("devices", "")).split(",") if d)
            yield FenceLevel(str(el.get("id")), index, target, devices, kind, _line(el))


def _validate(cfg: CibConfig, err: Callable[[etree._Element, str], ConfigError]) -> None:
    """Ids unique; every constraint and fencing level names a resource/device of this CIB."""
    seen: set[str] = set()
    for r in cfg.resources:
        ids = {r.id, *([r.child.id] if isinstance(r, Clone) else []), *(p.id for p in r.primitives())}
        for rid in ids:
            if rid in seen:
                raise ConfigError(f"resource id {rid!r} is used twice")
            seen.add(rid)
    refs: list[tuple[Location | Colocation | Order, str]] = [(c, c.rsc) for c in cfg.locations]
    refs += [(c, n) for c in cfg.colocations for n in (c.rsc, c.with_rsc)]
    refs += [(c, n) for c in cfg.orders for n in (c.first, c.then)]
    for c, name in refs:
        if cfg.resource(name) is None:
            raise ConfigError(f"{c.locator} line {c.line}: names no resource {name!r}")
    fences = {d.id for d in cfg.fence_devices()}
    for lv in cfg.fence_levels:
        missing = [d for d in lv.devices if d not in fences]
        if missing:
            raise ConfigError(f"{lv.locator} line {lv.line}: names no fence device {', '.join(missing)}")
