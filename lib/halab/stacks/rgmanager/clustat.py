"""`clustat` (text) -> ClusterStatus.

Format: rgmanager/src/utils/clustat.c (3.0.12 and STABLE32; ../shared/reference/KEY_FORMATS.md
section 1). Columns are sized from the terminal width and names may be cut to fit, so rows are
read by their tokens, not by column offsets: a member row is NAME ID STATUS[, FLAG...] and a
service row NAME OWNER STATE[ [FLAGS]], where OWNER is "(last owner)" for a service that is not
running. `clustat -l` prints one block per service instead; both are read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from halab.errors import ParseError
from halab.stacks.text import Line, command_output, require_content, to_int
from halab.stacks.types import ClusterStatus, Member, QuorumDevice, Service

KIND = "clustat"
STATES = ("stopped", "starting", "started", "stopping", "failed", "uninitialized", "checking",
          "recoverable", "recovering", "disabled", "migrating")
# states in which clustat shows the *last* owner in parentheses: nobody runs the service
NOT_RUNNING = ("stopped", "disabled", "failed", "recoverable", "uninitialized")

_HEADER = re.compile(r"^Cluster Status for (?P<name>.+?) @ (?P<when>.*)$")
_QUORUM = re.compile(r"^Member Status:\s*(?P<q>Quorate|Inquorate)\b")
_MEMBER = re.compile(
    r"^(?P<name>\S+)\s+(?P<id>\d+)\s+(?P<status>Online|Offline)(?P<flags>(?:\s*,\s*[^,]+)*)$"
)
_SERVICE = re.compile(
    r"^(?P<name>\S+)\s+(?P<owner>\S+)\s+(?P<state>[a-z]+)\s*(?:\[(?P<flags>[^\]]*)\])?$"
)
_LONG_FIELD = re.compile(r"^(?P<key>[A-Z][A-Za-z ]+?)\s*:\s*(?P<value>.*)$")
_NO_CMAN = re.compile(r"^(Could not connect to CMAN|Could not connect to cluster service|cman_tool: ).*")
_NO_RGMANAGER = "Resource Group Manager not running"
FLAG_NAMES = {"Z": "frozen", "P": "partial"}


@dataclass
class _Reading:
    name: str | None = None
    quorate: bool | None = None
    members: list[Member] = field(default_factory=list)
    qdisk: QuorumDevice | None = None
    services: list[Service] = field(default_factory=list)
    error: str | None = None
    running: bool = True
    block: dict[str, str] = field(default_factory=dict)  # the `clustat -l` block being read


def _flush(reading: _Reading) -> None:
    if reading.block:
        reading.services.append(_long_done(reading.block))
        reading.block = {}


def read_clustat(text: str) -> ClusterStatus:
    """Members, quorum device, quorum and services from `clustat` or `clustat -l` output."""
    found = command_output(text, ("clustat",))
    body = require_content(KIND, found)
    reading = _Reading()
    down = _cluster_down(body)
    if down is not None:
        return ClusterStatus(None, (), (), running=False, error=down)
    section = _walk(found, reading)  # blank lines end tables: walk all lines
    if reading.quorate is None:
        raise ParseError(KIND, "no 'Member Status: Quorate|Inquorate' line", body[0].no)
    if not reading.members:
        raise ParseError(KIND, "no member rows", body[-1].no)
    if section == "service-header":
        raise ParseError(KIND, "service table ends before its dashes line", body[-1].no)
    local = next((m.name for m in reading.members if m.local), None)
    return ClusterStatus(reading.quorate, tuple(reading.members), tuple(reading.services),
                         quorum_device=reading.qdisk, cluster_name=reading.name, local_node=local,
                         running=reading.running, error=reading.error)


def _cluster_down(body: Sequence[Line]) -> str | None:
    first = body[0].text.strip()
    return first if _NO_CMAN.match(first) else None


def _walk(body: Sequence[Line], reading: _Reading) -> str:
    """Feed every line to the reader of the section it is in; return the section at the end."""
    section = "summary"
    for line in body:
        text = line.text.strip()
        if not text:
            if section not in ("service-header", "member-header"):
                _flush(reading)
                section = "summary"
            continue
        section = _step(section, text, line, reading)
    _flush(reading)
    return section


def _step(section: str, text: str, line: Line, reading: _Reading) -> str:
    if text.startswith("Member Name"):
        return "member-header"
    if text.startswith("Service Name") and "Owner" in text:
        return "service-header"
    if section in ("member-header", "service-header"):
        if not set(text) <= set("- "):
            raise ParseError(KIND, f"expected the dashes under the table header, got {text!r}", line.no)
        return "members" if section == "member-header" else "services"
    if section == "members":
        _member(text, line, reading)
        return section
    if section == "services":
        reading.services.append(_service(text, line))
        return section
    if text.startswith("Service Name") and ":" in text:
        _flush(reading)
        reading.block = _long_service(text, line)
        return "long-service"
    field_match = _LONG_FIELD.match(text)
    if section == "long-service" and field_match:
        reading.block[field_match.group("key").strip()] = field_match.group("value").strip()
        return section
    _summary(text, line, reading)
    return "summary"


def _summary(text: str, line: Line, reading: _Reading) -> None:
    header = _HEADER.match(text)
    if header:
        reading.name = header.group("name")
        return
    quorum = _QUORUM.match(text)
    if quorum:
        reading.quorate = quorum.group("q") == "Quorate"
        return
    if text.startswith(_NO_RGMANAGER):
        reading.error = text
        return
    if reading.members and _MEMBER.match(text):
        _member(text, line, reading)  # a paste split the member table with a blank line
        return
    raise ParseError(KIND, f"unexpected line {text!r}", line.no)


def _member(text: str, line: Line, reading: _Reading) -> None:
    match = _MEMBER.match(text)
    if match is None:
        raise ParseError(KIND, f"member row is not 'NAME ID Online|Offline[, flags]': {text!r}", line.no)
    flags = tuple(f.strip().lower() for f in match.group("flags").split(",") if f.strip())
    online = match.group("status") == "Online"
    node_id = to_int(KIND, match.group("id"), line, "member id")
    if "quorum disk" in flags or node_id == 0:
        reading.qdisk = QuorumDevice(match.group("name"), online)
        return
    reading.members.append(Member(match.group("name"), online, node_id, "local" in flags,
                                  tuple(f for f in flags if f != "local")))


def _service(text: str, line: Line) -> Service:
    match = _SERVICE.match(text)
    if match is None or match.group("state") not in STATES:
        raise ParseError(KIND, f"service row is not 'NAME OWNER STATE': {text!r}", line.no)
    flags = _flags(match.group("flags"))
    return _owned(match.group("name"), match.group("owner"), match.group("state"), flags)


def _owned(name: str, owner_text: str, state: str, flags: tuple[str, ...]) -> Service:
    """clustat prints "(last)" for services nobody runs, "none" for id 0, "unknown" if not found."""
    last: str | None = None
    owner: str | None = owner_text
    if owner_text.startswith("(") and owner_text.endswith(")"):
        last, owner = owner_text[1:-1], None
    if last in ("none", ""):
        last = None
    if owner in ("none", "unknown"):
        flags = (*flags, "owner-unknown") if owner == "unknown" else flags
        owner = None
    if state in NOT_RUNNING and owner is not None:
        last, owner = owner, None
    return Service(name.removeprefix("service:"), state, owner, last, flags)


def _flags(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(FLAG_NAMES.get(f.strip(), f.strip().lower()) for f in re.split(r"[,\s]+", text) if f.strip())


def _long_service(text: str, line: Line) -> dict[str, str]:
    name = text.split(":", 1)[1].strip()
    if not name:
        raise ParseError(KIND, "'Service Name :' without a name", line.no)
    return {"Service Name": name, "line": str(line.no)}


def _long_done(block: dict[str, str]) -> Service:
    """A `clustat -l` block: Current State "started (112)", Owner, Last Owner, Flags "frozen (1)"."""
    line = int(block["line"])
    state = block.get("Current State", "").split(" (")[0].strip()
    if state not in STATES:
        raise ParseError(KIND, f"service {block['Service Name']}: no valid 'Current State' line", line)
    owner = block.get("Owner", "none")
    flags = tuple(f.strip().lower() for f in block.get("Flags", "").split(" (")[0].split(",")
                  if f.strip() and f.strip().lower() != "none")
    svc = _owned(block["Service Name"], owner, state, flags)
    last = block.get("Last Owner", "none")
    if last not in ("none", "unknown", ""):
        return Service(svc.name, svc.state, svc.owner, last, svc.flags)
    return svc
