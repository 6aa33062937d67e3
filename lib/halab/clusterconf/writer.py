"""ClusterConf -> cluster.conf text, losing nothing the model does not know about.

The writer rebuilds each modeled element from its typed fields, and walks the element's source
(when it was read from a file) to put back, in their places, the comments, whitespace and
unmodeled children. An unchanged model writes back the file it was read from; a changed field
changes only its attribute (``monitor_link="on"`` stays ``on`` unless the value changes).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from lxml import etree

from halab.clusterconf.model import ClusterConf, Element, Slot
from halab.clusterconf.reader import parse_value


def to_xml(conf: ClusterConf) -> str:
    """The cluster.conf text of ``conf`` (secrets included: this is the file cman reads)."""
    head, foot = conf.frame
    return head + etree.tostring(build_element(conf), encoding="unicode") + foot


def write_cluster_conf(conf: ClusterConf, path: str | Path) -> None:
    Path(path).write_text(to_xml(conf), encoding="utf-8")


def build_element(model: Element) -> etree._Element:
    """A fresh lxml element for ``model``: its attributes, its source's leftovers, its children."""
    el = etree.Element(model.tag)
    for key, value in _attributes(model).items():
        el.set(key, value)
    if model.source is not None:
        el.text = model.source.text
    _fill(el, model.source, model.slots())
    return el


def _attributes(model: Element) -> dict[str, str]:
    """Raw attributes with the typed fields laid over them, touching only what changed."""
    values = dict(model.attrs)
    for fname, xml, kind in model.xml_fields():
        typed = getattr(model, fname)
        raw = values.get(xml)
        parsed = parse_value(raw, kind) if raw is not None else None
        if raw is not None and (parsed == typed or (typed is None and parsed is None)):
            continue  # unchanged, or a value the reader could not type: keep it as written
        if typed is None:
            values.pop(xml, None)
        else:
            values[xml] = _format(typed)
    return values


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _fill(el: etree._Element, source: etree._Element | None, slots: tuple[Slot, ...]) -> None:
    """Children of ``el``: the source's children in order, modeled ones rebuilt, then new ones."""
    by_source = {id(item.source): item for s in slots for item in s.items if item.source is not None}
    wrapped = {s.wrapper: s for s in slots if s.wrapper}
    direct = [s for s in slots if s.wrapper is None]
    placed: set[int] = set()
    seen: set[str] = set()
    for child in source if source is not None else ():
        tag = child.tag if isinstance(child.tag, str) else None
        first = tag is not None and tag not in seen
        if tag is not None:
            seen.add(tag)
        if tag in wrapped and first:
            _append(el, _wrapper(child, wrapped[str(tag)]), child.tail)
        elif (item := by_source.get(id(child))) is not None:
            placed.add(id(item))
            _append(el, build_element(item), child.tail)
        elif tag is None or not _owned(tag, first, direct):
            _append(el, copy.deepcopy(child), child.tail)
        elif len(el):  # removed from the model: keep the layout by taking over its tail
            el[-1].tail = child.tail
    for s in direct:
        for item in s.items:
            if id(item) not in placed:
                _append_pretty(el, build_element(item))
    for wtag, s in wrapped.items():
        if wtag not in seen and s.items:
            box = etree.Element(wtag)
            _fill(box, None, (Slot(None, s.tags, s.items),))
            _append_pretty(el, box)


def _wrapper(source: etree._Element, slot: Slot) -> etree._Element:
    box = etree.Element(str(source.tag), attrib={str(k): str(v) for k, v in source.attrib.items()})
    box.text = source.text
    _fill(box, source, (Slot(None, slot.tags, slot.items),))
    return box


def _owned(tag: str, first: bool, direct: list[Slot]) -> bool:
    """Whether a source child of this tag is the model's to keep or drop (else copied verbatim)."""
    for s in direct:
        if s.tags is None or tag in s.tags:
            return first or not s.single
    return False


def _append(parent: etree._Element, child: etree._Element, tail: str | None) -> None:
    child.tail = tail
    parent.append(child)


def _append_pretty(parent: etree._Element, child: etree._Element) -> None:
    """Append a new element, reusing the indentation of its future siblings."""
    if len(parent):
        last = parent[-1]
        child.tail = last.tail
        if parent.text is not None and not parent.text.strip():
            last.tail = parent.text
    parent.append(child)
