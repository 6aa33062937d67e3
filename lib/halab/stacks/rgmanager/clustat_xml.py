"""`clustat -x` -> ClusterStatus.

Format: rgmanager/src/utils/clustat.c xml_* (KEY_FORMATS.md section 1). 3.0.12 has no
``flags``/``flags_str`` and a double space before ``owner=``; later versions add them. When the
cluster is inquorate the <quorum> tag holds a literal newline, which XML takes as whitespace.
A node with qdisk="1" is the quorum device, not a member.
"""

from __future__ import annotations

from lxml import etree

from halab.errors import ParseError
from halab.stacks.rgmanager.clustat import NOT_RUNNING, STATES
from halab.stacks.text import command_output, require_content
from halab.stacks.types import ClusterStatus, Member, QuorumDevice, Service
from halab.stacks.xmlread import XmlDoc, attr, document, flag

KIND = "clustat-xml"


def read_clustat_xml(text: str) -> ClusterStatus:
    """Members, quorum device, quorum and services from `clustat -x` output."""
    doc = document(KIND, require_content(KIND, command_output(text, ("clustat",))), ("clustat",))
    quorum = _one(doc, "quorum")
    members: list[Member] = []
    qdisk: QuorumDevice | None = None
    for node in doc.root.iterfind("nodes/node"):
        if flag(node, "qdisk"):
            qdisk = QuorumDevice(_need(doc, node, "name"), _need(doc, node, "state") == "1")
        else:
            members.append(_member(doc, node))
    if not members:
        raise ParseError(KIND, "no <node> in <nodes>", doc.line(doc.root))
    services = tuple(_service(doc, g) for g in doc.root.iterfind("groups/group"))
    cluster = doc.root.find("cluster")
    return ClusterStatus(
        quorate=_need(doc, quorum, "quorate") == "1",
        members=tuple(members),
        services=services,
        quorum_device=qdisk,
        cluster_name=None if cluster is None else attr(cluster, "name"),
        local_node=next((m.name for m in members if m.local), None),
    )


def _one(doc: XmlDoc, path: str) -> etree._Element:
    found = doc.root.find(path)
    if found is None:
        raise ParseError(KIND, f"no <{path}> element (truncated?)", doc.line(doc.root))
    return found


def _need(doc: XmlDoc, element: etree._Element, name: str) -> str:
    value = attr(element, name)
    if value is None:
        raise ParseError(KIND, f"<{element.tag}> has no {name}=", doc.line(element))
    return value


def _member(doc: XmlDoc, node: etree._Element) -> Member:
    flags = tuple(name for name in ("estranged", "rgmanager", "rgmanager_master") if flag(node, name))
    raw_id = _need(doc, node, "nodeid")
    try:
        node_id = int(raw_id, 16) if raw_id.lower().startswith("0x") else int(raw_id)
    except ValueError:
        raise ParseError(KIND, f"nodeid {raw_id!r} is not a number", doc.line(node)) from None
    return Member(_need(doc, node, "name"), _need(doc, node, "state") == "1", node_id,
                  flag(node, "local"), tuple(f.replace("_", "-") for f in flags))


def _service(doc: XmlDoc, group: etree._Element) -> Service:
    state = _need(doc, group, "state_str")
    if state not in STATES:
        raise ParseError(KIND, f"unknown service state {state!r}", doc.line(group))
    owner = _node_name(attr(group, "owner"))
    last = _node_name(attr(group, "last_owner"))
    if state in NOT_RUNNING:
        last, owner = (owner or last), None
    flags_str = attr(group, "flags_str") or ""
    flags = tuple(f.strip().lower() for f in flags_str.split(",") if f.strip())
    return Service(_need(doc, group, "name").removeprefix("service:"), state, owner, last, flags)


def _node_name(value: str | None) -> str | None:
    return None if value in (None, "", "none", "unknown") else value
