"""`crm_mon --output-as=xml` (2.x) and `crm_mon --as-xml` (1.1) -> ClusterStatus + fence history.

Schema: pacemaker xml/api/crm_mon-2.*.rng, resources-2.*.rng, fence-event-2.*.rng (in
../shared/reference/schema). A *service* is what a failover test moves: each top-level group,
and each top-level primitive that is not a fence device. Clones and bundles run everywhere and
are left out. A service's state is derived from its members:

- ``failed``: a member is failed or blocked, or one primitive runs on two nodes;
- ``started``: every member is active, all on one node (the owner);
- ``stopped``: no member is active (flag ``disabled`` when the admin stopped it);
- ``starting`` / ``stopping``: partly active with a start / stop pending;
- ``partial``: partly active otherwise, or split over several nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from halab.errors import ParseError
from halab.stacks.text import command_output, require_content
from halab.stacks.timestamps import any_time
from halab.stacks.types import ClusterStatus, FenceAction, Member, Service
from halab.stacks.xmlread import XmlDoc, attr, document, flag

KIND = "crm-mon-xml"
ROOTS = ("pacemaker-result", "crm_mon")
ACTIVE_ROLES = ("Started", "Promoted", "Unpromoted", "Master", "Slave")
NODE_FLAGS = ("standby", "standby_onfail", "maintenance", "pending", "unclean", "shutdown")


def read_crm_mon_xml(text: str) -> ClusterStatus:
    """Quorum, nodes, services and fence history from crm_mon's XML (either generation)."""
    doc = _doc(text)
    error = _error(doc)
    if error is not None:
        return ClusterStatus(None, (), (), running=False, error=error)
    summary = doc.root.find("summary")
    nodes = doc.root.find("nodes")
    resources = doc.root.find("resources")
    if summary is None or nodes is None:
        raise ParseError(KIND, "no <summary> or <nodes> (truncated?)", doc.line(doc.root))
    members = tuple(_member(doc, n) for n in nodes.iterfind("node"))
    services = () if resources is None else tuple(_services(doc, resources))
    return ClusterStatus(
        quorate=_quorate(summary),
        members=members,
        services=services,
        cluster_name=_cluster_name(summary),
        fence_history=_history(doc),
        dc=_dc(summary),
    )


def read_fence_history_xml(text: str) -> tuple[FenceAction, ...]:
    """`stonith_admin --history '*' --output-as=xml` or crm_mon XML -> fence actions."""
    doc = _doc(text)
    error = _error(doc)
    if error is not None:
        raise ParseError(KIND, f"no fence history: {error}", doc.line(doc.root))
    return _history(doc)


def _doc(text: str) -> XmlDoc:
    body = require_content(KIND, command_output(text, ("crm_mon", "stonith_admin", "pcs")))
    return document(KIND, body, ROOTS)


def _error(doc: XmlDoc) -> str | None:
    """pacemaker-result with a non-zero <status code>: the tool ran but got no cluster state."""
    status = doc.root.find("status")
    if status is None or (status.get("code") or "0") == "0":
        return None
    errors = [str(e.text).strip() for e in status.iterfind("errors/error") if e.text]
    message = status.get("message") or f"status code {status.get('code')}"
    return "; ".join([str(message), *errors])


def _quorate(summary: etree._Element) -> bool | None:
    dc = summary.find("current_dc")
    if dc is None or not flag(dc, "present") or dc.get("with_quorum") is None:
        return None
    return flag(dc, "with_quorum")


def _dc(summary: etree._Element) -> str | None:
    dc = summary.find("current_dc")
    if dc is None or not flag(dc, "present"):
        return None
    return attr(dc, "name") or None


def _cluster_name(summary: etree._Element) -> str | None:
    options = summary.find("cluster_options")
    return None if options is None else attr(options, "cluster-name")


def _member(doc: XmlDoc, node: etree._Element) -> Member:
    name = attr(node, "name")
    if not name:
        raise ParseError(KIND, "<node> without name=", doc.line(node))
    raw_id = node.get("id") or ""
    flags = [f for f in NODE_FLAGS if flag(node, f)]
    if flag(node, "is_dc"):
        flags.insert(0, "dc")
    if node.get("type") in ("remote", "guest", "ping"):
        flags.append(str(node.get("type")))
    return Member(name, flag(node, "online"), int(raw_id) if raw_id.isdigit() else None, False, tuple(flags))


def _services(doc: XmlDoc, resources: etree._Element) -> list[Service]:
    out: list[Service] = []
    for child in resources:
        if child.tag == "group":
            out.append(_service(doc, child, list(child.iterfind("resource"))))
        elif child.tag == "resource" and not (child.get("resource_agent") or "").startswith("stonith:"):
            out.append(_service(doc, child, [child]))
    return out


@dataclass(frozen=True)
class _Prim:
    """What one primitive says about itself: where it runs and what is wrong with it."""

    nodes: tuple[str, ...]
    failed: bool
    pending: str
    disabled: bool
    unmanaged: bool
    maintenance: bool = False


def _prim(doc: XmlDoc, rsc: etree._Element) -> _Prim:
    if rsc.get("id") is None or rsc.get("role") is None:
        raise ParseError(KIND, "<resource> without id= or role=", doc.line(rsc))
    active = flag(rsc, "active") and rsc.get("role") in ACTIVE_ROLES
    nodes = tuple(str(n.get("name")) for n in rsc.iterfind("node")) if active else ()
    return _Prim(nodes=nodes, failed=flag(rsc, "failed") or flag(rsc, "blocked"),
                 pending=(rsc.get("pending") or "").lower(),
                 disabled=(rsc.get("target_role") or "").lower() == "stopped",
                 unmanaged=not flag(rsc, "managed") and rsc.get("managed") is not None,
                 maintenance=flag(rsc, "maintenance"))


def _service(doc: XmlDoc, top: etree._Element, prims_xml: Sequence[etree._Element]) -> Service:
    name = attr(top, "id")
    if not name:
        raise ParseError(KIND, f"<{top.tag}> without id=", doc.line(top))
    prims = [_prim(doc, r) for r in prims_xml]
    hosts = [n for p in prims for n in p.nodes]
    owner = hosts[0] if hosts else None
    flags = _service_flags(top, prims, hosts)
    return Service(name, _state(prims, hosts), owner, None, flags)


def _state(prims: Sequence[_Prim], hosts: Sequence[str]) -> str:
    if any(p.failed for p in prims) or any(len(p.nodes) > 1 for p in prims):
        return "failed"
    active = [p for p in prims if p.nodes]
    if not active:
        return "starting" if any(p.pending == "starting" for p in prims) else "stopped"
    if len(active) == len(prims) and len(set(hosts)) == 1:
        return "stopping" if any(p.pending == "stopping" for p in prims) else "started"
    if len(set(hosts)) > 1:
        return "partial"
    for pending in ("starting", "stopping"):
        if any(p.pending == pending for p in prims):
            return pending
    return "partial"


def _service_flags(top: etree._Element, prims: Sequence[_Prim], hosts: Sequence[str]) -> tuple[str, ...]:
    flags: list[str] = []
    if flag(top, "disabled") or (prims and all(p.disabled for p in prims)):
        flags.append("disabled")
    if any(p.unmanaged for p in prims) or top.get("managed") == "false":
        flags.append("unmanaged")
    if flag(top, "maintenance") or any(p.maintenance for p in prims):
        flags.append("maintenance")
    if len(set(hosts)) > 1:
        flags.append("multi-node")
    return tuple(flags)


def _history(doc: XmlDoc) -> tuple[FenceAction, ...]:
    return tuple(_fence(doc, ev) for ev in doc.root.iterfind("fence_history/fence_event"))


def _fence(doc: XmlDoc, ev: etree._Element) -> FenceAction:
    """2.x writes status= and ISO completed=; 1.1 writes state= and a ctime() completed=."""
    target, action = attr(ev, "target"), attr(ev, "action")
    status = attr(ev, "status") or attr(ev, "state")
    if not target or not action or status not in ("success", "failed", "pending"):
        raise ParseError(KIND, "<fence_event> without target=, action= or a known status=", doc.line(ev))
    completed_text = attr(ev, "completed")
    completed = any_time(completed_text) if completed_text else None
    if completed_text and completed is None:
        raise ParseError(KIND, f"fence_event completed={completed_text!r} is not a time", doc.line(ev))
    return FenceAction(target=target, action=action, status=status, delegate=attr(ev, "delegate") or None,
                       origin=attr(ev, "origin") or None, completed=completed)
