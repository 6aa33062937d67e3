"""`crm_mon -1` and `pcs status` text (pacemaker 1.1 to 2.1) -> ClusterStatus: the fallback reader.

The XML is what the harness reads; this reads what ops paste from production, of several
generations: 1.1's flat layout (with or without the ``====`` banner), 2.x's "Cluster Summary:" /
"Node List:" / "* "-bulleted sections, and pcs's additions (Cluster name, PCSD/Daemon Status).
Nesting is read from indentation: members of "Resource Group: G" are the deeper lines under it;
clone and bundle contents are skipped (they are not services). Services and states follow
crm_mon_xml's rules. Lines in the node and resource sections must have a known shape, so a
truncated line is an error rather than a missing resource.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from halab.errors import ParseError
from halab.stacks.pacemaker.crm_mon_xml import _Prim, _state
from halab.stacks.pacemaker.fence_text import FENCE_SECTIONS, read_fence_lines
from halab.stacks.text import Line, command_output, require_content
from halab.stacks.types import ClusterStatus, FenceAction, Member, Service

KIND = "crm-mon"

_HEADING = re.compile(r"^(?P<h>[A-Z][A-Za-z /]*?):\s*$")
_RESOURCE_SECTIONS = ("full list of resources", "active resources", "inactive resources", "resources")
_NODE_SECTIONS = ("node list",)
_SUMMARY_SECTIONS = ("cluster summary",)
_DC = re.compile(r"Current DC:\s*(?P<dc>\S+)(?:\s+\((?P<id>\d+)\))?")
_NODE_SET = re.compile(
    r"^(?P<kind>Online|OFFLINE|RemoteOnline|RemoteOFFLINE|GuestOnline|GuestOFFLINE):\s*\[(?P<names>[^\]]*)\]$"
)
_NODE_LINE = re.compile(
    r"^(?P<kind>Guest|Remote)?\s*Node\s+(?P<name>[^\s:()]+)(?:\s+\((?P<id>[^)]*)\))?:\s*(?P<state>[^:]+?):?$"
)
_CONTAINER = re.compile(
    r"^(?P<type>Resource Group|Clone Set|Master/Slave Set|Container bundle set|Container bundle|Bundle)"
    r":\s*(?P<name>[^\s:\[]+)(?P<rest>.*?):?$"
)
_RESOURCE = re.compile(r"^(?P<name>\S+)(?:\s+\([^()]*\))?\s+\((?P<agent>[^()\s]+)\):\s*(?P<status>.*)$")
_SUMMARY_LINES = re.compile(
    r"^(?:=+|\*\*\* .* \*\*\*|The cluster will not attempt .*"
    r"|\d+ (?:[Nn]odes?|[Rr]esources?|resource instances)\b.*"
    r"|No (?:active )?resources|[A-Z][\w -]*:(?:\s.*)?)$"
)
_EXTRA = re.compile(r"\s*\(([^()]*)\)")
_ROLES = {"started": "started", "promoted": "started", "unpromoted": "started", "master": "started",
          "slave": "started", "stopped": "stopped", "failed": "failed", "starting": "starting",
          "stopping": "stopping", "migrating": "started"}
_ERROR = re.compile(r"^(?:Error: |crm_mon: Error|Could not connect|Connection to cluster failed)")


@dataclass
class _Group:
    name: str
    depth: int
    kind: str  # "group" or "skip"
    prims: list[_Prim] = field(default_factory=list)
    disabled: bool = False


@dataclass
class _Reading:
    cluster_name: str | None = None
    dc: str | None = None
    quorate: bool | None = None
    members: dict[str, Member] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    fences: list[Line] = field(default_factory=list)
    container: _Group | None = None
    node_heading: str | None = None
    saw_nodes: bool = False


def read_crm_mon_text(text: str, kind: str = KIND) -> ClusterStatus:
    """Quorum, nodes, services (and fence history if shown) from crm_mon -1 / pcs status text."""
    body = require_content(kind, command_output(text, ("crm_mon", "pcs status", "pcs")))
    if _ERROR.match(body[0].text.strip()):
        return ClusterStatus(None, (), (), running=False, error=" ".join(ln.text.strip() for ln in body[:3]))
    reading = _Reading()
    section = ""
    for line in body:
        section = _line(kind, line, section, reading)
    _close(reading)
    if not reading.saw_nodes:
        raise ParseError(kind, "no node list (Online: [...] / Node X: ...) in the output", body[-1].no)
    members = tuple(_dc_flag(m, reading.dc) for m in reading.members.values())
    return ClusterStatus(reading.quorate, members, tuple(reading.services),
                         cluster_name=reading.cluster_name, fence_history=_fences(kind, reading.fences))


def _fences(kind: str, found: Sequence[Line]) -> tuple[FenceAction, ...]:
    return read_fence_lines(kind, found) if found else ()


def _line(kind: str, line: Line, section: str, reading: _Reading) -> str:
    raw = line.text.expandtabs(8)
    if not raw.strip():
        return section
    heading = _HEADING.match(raw)
    if heading and not raw[0].isspace():
        _close(reading)
        return heading.group("h").strip().lower()
    depth = len(raw) - len(raw.lstrip())
    text = raw.strip().removeprefix("* ").strip()
    if section in FENCE_SECTIONS:
        reading.fences.append(Line(line.no, text))
    elif section in _RESOURCE_SECTIONS or (section in ("", *_SUMMARY_SECTIONS, *_NODE_SECTIONS)
                                           and _resource_like(text)):
        _resource_line(kind, line, depth, text, reading)
    elif section in ("", *_SUMMARY_SECTIONS, *_NODE_SECTIONS):
        _summary_line(kind, line, text, section, reading)
    return section


def _resource_like(text: str) -> bool:
    return bool(_RESOURCE.match(text) or _CONTAINER.match(text))


def _summary_line(kind: str, line: Line, text: str, section: str, reading: _Reading) -> None:
    if _node(kind, line, text, reading):
        return
    if text.startswith("Cluster name:"):
        reading.cluster_name = text.split(":", 1)[1].strip() or None
    elif "Current DC:" in text:
        _dc(text, reading)
    elif section in _NODE_SECTIONS or not _SUMMARY_LINES.match(text):
        raise ParseError(kind, f"unexpected line {text!r}", line.no)


def _dc(text: str, reading: _Reading) -> None:
    match = _DC.search(text)
    if match is None or match.group("dc") == "NONE":
        reading.quorate = None
        return
    reading.dc = match.group("dc")
    lowered = text.lower()
    if "partition without quorum" in lowered:
        reading.quorate = False
    elif "partition with quorum" in lowered:
        reading.quorate = True


def _node(kind: str, line: Line, text: str, reading: _Reading) -> bool:
    node_set = _NODE_SET.match(text)
    if node_set:
        _node_set(node_set, reading)
        return True
    if text.startswith(("Online:", "OFFLINE:", "RemoteOnline:", "RemoteOFFLINE:", "GuestOnline:")):
        raise ParseError(kind, f"node list without its closing ']': {text!r}", line.no)
    node_line = _NODE_LINE.match(text)
    if node_line is None:
        return False
    _node_state(node_line, reading)
    return True


def _node_set(match: re.Match[str], reading: _Reading) -> None:
    kind = match.group("kind")
    online = not kind.endswith("OFFLINE")
    extra = ("remote",) if kind.startswith("Remote") else ("guest",) if kind.startswith("Guest") else ()
    names = match.group("names").split()
    for i, name in enumerate(names):
        if name.startswith("("):
            continue
        node_id = names[i + 1].strip("()") if i + 1 < len(names) and names[i + 1].startswith("(") else ""
        _add(reading, Member(name, online, int(node_id) if node_id.isdigit() else None, flags=extra))
    reading.saw_nodes = True


def _node_state(match: re.Match[str], reading: _Reading) -> None:
    state = match.group("state").strip().lower()
    down = ("unclean (offline)", "unclean (pending)", "pending")
    online = not (state.startswith("offline") or state in down)
    flags = [f for f in ("unclean", "standby", "maintenance", "pending") if f in state]
    if match.group("kind"):
        flags.append(match.group("kind").lower())
    node_id = (match.group("id") or "").strip()
    _add(reading, Member(match.group("name"), online, int(node_id) if node_id.isdigit() else None,
                         flags=tuple(flags)))
    reading.node_heading = match.group("name") if online else None
    reading.saw_nodes = True


def _add(reading: _Reading, member: Member) -> None:
    known = reading.members.get(member.name)
    if known is not None:
        member = replace(member, node_id=member.node_id or known.node_id,
                         flags=tuple(dict.fromkeys((*known.flags, *member.flags))))
    reading.members[member.name] = member


def _dc_flag(member: Member, dc: str | None) -> Member:
    return replace(member, flags=("dc", *member.flags)) if member.name == dc else member


def _resource_line(kind: str, line: Line, depth: int, text: str, reading: _Reading) -> None:
    group = reading.container
    if group is not None and depth <= group.depth:
        _close(reading)
        group = None
    if text in ("No resources", "No active resources"):
        return
    container = _CONTAINER.match(text)
    if container:
        if group is not None:
            return  # a group inside a clone: part of the clone
        _open(container, depth, reading)
        return
    if group is not None and group.kind == "skip":
        return
    prim = _primitive(kind, line, text, reading)
    if prim is None:
        return
    if group is not None:
        group.prims.append(prim[1])
        return
    reading.services.append(_as_service(prim[0], [prim[1]], False))


def _open(match: re.Match[str], depth: int, reading: _Reading) -> None:
    is_group = match.group("type") == "Resource Group"
    reading.container = _Group(match.group("name"), depth, "group" if is_group else "skip",
                               disabled="(disabled)" in match.group("rest"))


def _close(reading: _Reading) -> None:
    group = reading.container
    reading.container = None
    if group is not None and group.kind == "group":
        reading.services.append(_as_service(group.name, group.prims, group.disabled))


def _primitive(kind: str, line: Line, text: str, reading: _Reading) -> tuple[str, _Prim] | None:
    match = _RESOURCE.match(text)
    if match is None:
        if _clone_summary(text):
            return None
        raise ParseError(kind, f"resource line is not 'NAME (AGENT): STATUS': {text!r}", line.no)
    if match.group("agent").startswith("stonith:") and reading.container is None:
        return None
    return match.group("name"), _status(kind, line, match.group("status"), reading)


def _clone_summary(text: str) -> bool:
    return bool(re.match(r"^[A-Z][\w ()]*:\s*\[[^\]]*\]$", text))


def _status(kind: str, line: Line, status: str, reading: _Reading) -> _Prim:
    extras = [e.strip().lower() for e in _EXTRA.findall(status)]
    words = _EXTRA.sub(" ", status).replace("[", " ").replace("]", " ").split()
    words = [w for w in words if w != "ORPHANED"]
    if not words or words[0].lower() not in _ROLES:
        raise ParseError(kind, f"unknown resource status {status.strip()!r}", line.no)
    role = _ROLES[words[0].lower()]
    nodes = tuple(words[1:])
    if role == "started" and not nodes and reading.node_heading:
        nodes = (reading.node_heading,)  # crm_mon -n lists resources under their node
    active = role in ("started", "stopping") or (role == "failed" and bool(nodes))
    return _Prim(nodes=nodes if active else (), failed=role == "failed" or "blocked" in extras,
                 pending=role if role in ("starting", "stopping") else "",
                 disabled="disabled" in extras, unmanaged="unmanaged" in extras,
                 maintenance="maintenance" in extras)


def _as_service(name: str, prims: Sequence[_Prim], disabled: bool) -> Service:
    hosts = [n for p in prims for n in p.nodes]
    flags: list[str] = []
    if disabled or (prims and all(p.disabled for p in prims)):
        flags.append("disabled")
    if any(p.unmanaged for p in prims):
        flags.append("unmanaged")
    if any(p.maintenance for p in prims):
        flags.append("maintenance")
    if len(set(hosts)) > 1:
        flags.append("multi-node")
    return Service(name, _state(prims, hosts), hosts[0] if hosts else None, None, tuple(flags))
