"""A deliberate, named change to a cluster.conf text: set attributes on, or delete, the elements an
XPath selects, then bump config_version (cman refuses a reload at the same version).

Why its own module: the mutant catalogue describes an rgmanager mistake as data (an edit of the
design's cluster.conf, not a shell command), and a unit test must be able to apply it offline and
read the result back with the same reader the oracle and the checks use. An edit that selects
nothing is an error: a mutant aimed at an element the design lacks would change nothing and then
"fail" for a reason of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lxml import etree

from halab.clusterconf.reader import parse_cluster_conf
from halab.clusterconf.writer import to_xml
from halab.errors import ConfigError


@dataclass(frozen=True)
class Edit:
    """Select elements by ``xpath`` (relative to <cluster>); set ``attrs`` on them, or delete them."""

    xpath: str
    attrs: Mapping[str, str]
    delete: bool = False

    def __post_init__(self) -> None:
        if self.delete == bool(self.attrs):
            raise ValueError(f"edit {self.xpath!r}: either set attributes or delete, not both or neither")
        etree.XPath(self.xpath)  # XPathSyntaxError early, at catalogue load

    def describe(self) -> str:
        if self.delete:
            return f"delete {self.xpath}"
        return f"set {', '.join(f'{k}={v!r}' for k, v in self.attrs.items())} on {self.xpath}"


def apply_edits(text: str, edits: Sequence[Edit], where: str = "cluster.conf") -> str:
    """``text`` with every edit applied and config_version raised by one (comments and layout kept)."""
    root = etree.fromstring(text.encode())
    for edit in edits:
        hits = root.xpath(edit.xpath)
        if not isinstance(hits, list) or not hits or not all(isinstance(h, etree._Element) for h in hits):
            raise ConfigError(f"edit selects no element: {edit.xpath}", where)
        for el in hits:
            assert isinstance(el, etree._Element)
            if edit.delete:
                _remove(el)
            else:
                for key, value in edit.attrs.items():
                    el.set(key, value)
    head = text[: text.find("<cluster")] if "<cluster" in text else '<?xml version="1.0"?>\n'
    edited = head + etree.tostring(root, encoding="unicode") + "\n"
    conf = parse_cluster_conf(edited, Path(where))
    return to_xml(replace(conf, config_version=(conf.config_version or 0) + 1))


def _remove(el: etree._Element) -> None:
    """Drop ``el``, giving its tail (indentation) to what came before so the layout stays."""
    parent = el.getparent()
    if parent is None:
        raise ConfigError("an edit cannot delete the <cluster> root", el.tag)
    prev = el.getprevious()
    if prev is not None:
        prev.tail = el.tail if prev.tail is None or not prev.tail.strip() else prev.tail
    else:
        parent.text = el.tail if parent.text is None or not parent.text.strip() else parent.text
    parent.remove(el)
