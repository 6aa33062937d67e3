"""Find and parse the one XML document in a captured output (lxml, no network, no entities).

Tools print warnings to stderr before their XML (crm_mon's "unpack_rsc_op error: ..."), and
captures append prompts after it, so the document is cut out between its first and its closing
root tag. Every problem is a ParseError with the line number in the caller's input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from halab.errors import ParseError
from halab.stacks.text import Line


@dataclass(frozen=True)
class XmlDoc:
    """The parsed document and where it started in the input (for line numbers in errors)."""

    root: etree._Element
    offset: int

    def line(self, element: etree._Element) -> int | None:
        line: object = getattr(element, "sourceline", None)
        return line + self.offset if isinstance(line, int) else None


def document(kind: str, found: Sequence[Line], roots: Sequence[str]) -> XmlDoc:
    """The document whose root tag is one of ``roots``."""
    start = _start(kind, found, roots)
    end = _end(found, start, roots)
    chunk = "\n".join(ln.text for ln in found[start:end + 1])
    offset = found[start].no - 1
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(chunk.encode("utf-8"), parser)
    except etree.XMLSyntaxError as err:
        line = (err.lineno or 1) + offset
        msg = re.sub(r",? line \d+, column \d+$", "", " ".join(str(err.msg).split()))
        raise ParseError(kind, f"not well-formed XML: {msg}", line) from None
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise ParseError(kind, "has a DOCTYPE: tool output has none (entities and external DTDs are not read)",
                         offset + 1)
    if root.tag not in roots:
        raise ParseError(kind, f"root element is <{root.tag}>, expected <{'> or <'.join(roots)}>",
                         found[start].no)
    return XmlDoc(root, offset)


def _start(kind: str, found: Sequence[Line], roots: Sequence[str]) -> int:
    for i, line in enumerate(found):
        text = line.text.lstrip()
        if text.startswith("<?xml") or any(text.startswith(f"<{r}") for r in roots):
            return i
    where = found[0].no if found else None
    raise ParseError(kind, f"no XML document (<{'> or <'.join(roots)}>) in the input", where)


def _end(found: Sequence[Line], start: int, roots: Sequence[str]) -> int:
    for i in range(len(found) - 1, start - 1, -1):
        if any(f"</{r}>" in found[i].text for r in roots):
            return i
    return len(found) - 1  # no closing tag: let the parser name the line where it gives up


def attr(element: etree._Element, name: str) -> str | None:
    value = element.get(name)
    return None if value is None else str(value)


def flag(element: etree._Element, name: str) -> bool:
    """An XML boolean attribute as pacemaker ("true"/"false") and clustat ("1"/"0") write it."""
    return (element.get(name) or "").strip().lower() in ("true", "1", "yes")
