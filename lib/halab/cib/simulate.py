"""Placement and fencing from Pacemaker's own scheduler, offline: crm_simulate on a CIB file.

halab does not re-implement scores, constraints, stickiness and clone placement: it writes the
fault's effect into the CIB's status section (a node lost from the membership, quorum changed)
and asks ``crm_simulate -S`` (Debian's pacemaker-cli-utils, the same 2.1.5 as the guests) what
the transition does: whom it fences and where every resource runs afterwards. Every call runs in
a temporary directory with a timeout and needs no daemon. halab's own model keeps what the
scheduler does not know: timing, which faults the cluster notices, fence races.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from lxml import etree

from halab.cib.model import QuorumDevice
from halab.cib.reader import parse_xml
from halab.errors import ConfigError, HostError
from halab.proc import run as bounded_run

CRM_SIMULATE = "crm_simulate"
TIMEOUT_S = 60.0
RUNNING_ROLES = ("Started", "Promoted", "Unpromoted", "Master", "Slave")


@dataclass(frozen=True)
class Transition:
    """What the scheduler decided: fence victims and, per primitive, the nodes it runs on after."""

    fenced: tuple[str, ...]
    placement: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def where(self, rsc: str) -> tuple[str, ...]:
        return self.placement.get(rsc, ())


def available() -> bool:
    return shutil.which(CRM_SIMULATE) is not None


def simulate(cib: bytes, *, extra: tuple[str, ...] = (), timeout_s: float = TIMEOUT_S,
             where: str = "cib") -> Transition:
    """Run the scheduler once on ``cib`` (with its status) and read the transition."""
    out, _ = _run(cib, extra, timeout_s, where)
    return read_transition(out, where)


def settle(cib: bytes, *, timeout_s: float = TIMEOUT_S, where: str = "cib") -> bytes:
    """The CIB after the scheduler's transition ran (crm_simulate -S -O): the design's steady state,
    with the status a live cluster would show, ready for a fault to be written into it."""
    _, after = _run(cib, (), timeout_s, where, save=True)
    return after


def _run(cib: bytes, extra: tuple[str, ...], timeout_s: float, where: str, save: bool = False) -> tuple[str, bytes]:
    if not available():
        raise HostError(f"{CRM_SIMULATE} not found: apt-get install pacemaker-cli-utils "
                        "(scripts/debian-packages.txt)")
    with tempfile.TemporaryDirectory(prefix="halab-sim-") as tmp:
        path = Path(tmp) / "cib.xml"
        saved = Path(tmp) / "after.xml"
        path.write_bytes(_simulable(cib, where))
        env = {**os.environ, "CIB_file": str(path), "PCMK_logfile": os.devnull, "HOME": tmp}
        argv = [CRM_SIMULATE, "-x", str(path), "-S", "--output-as=xml", *extra]
        argv += ["-O", str(saved)] if save else []
        try:
            res = bounded_run(argv, timeout=timeout_s, cwd=tmp, env=env)
        except subprocess.TimeoutExpired:
            raise ConfigError(f"{CRM_SIMULATE} did not finish within {timeout_s:.0f} s", where) from None
        after = saved.read_bytes() if save and saved.is_file() else b""
    out = res.stdout
    if "<pacemaker-result" not in out or (save and not after):
        err = " ".join(res.stderr.split())[:200]
        raise ConfigError(f"{CRM_SIMULATE} failed (exit {res.returncode}): {err}", where)
    return out, after


SIM_FEATURE_SET = (3, 16, 1)


def _simulable(cib: bytes, where: str) -> bytes:
    """crm_simulate 2.1.5 aborts (pcmk_simulate.c:636) when it records a simulated action in a CIB
    whose crm_feature_set is 3.16.2 or later (what a live 2.1.5 cluster writes): the feature set
    only versions the status history format, so the copy handed to the scheduler says 3.16.1."""
    head = cib[:4096]
    if b"crm_feature_set" not in head:
        return cib
    root = parse_xml(cib, where)
    raw = str(root.get("crm_feature_set", "0"))
    try:
        version = tuple(int(x) for x in raw.split("."))
    except ValueError:
        return cib
    if version <= SIM_FEATURE_SET:
        return cib
    root.set("crm_feature_set", ".".join(map(str, SIM_FEATURE_SET)))
    return bytes(etree.tostring(root))


def read_transition(text: str, where: str = "crm_simulate") -> Transition:
    """Fence victims from <transition>, placement from <revised_cluster_status>."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(text[text.index("<pacemaker-result"):].encode("utf-8"), parser)
    except (etree.XMLSyntaxError, ValueError):
        raise ConfigError("crm_simulate printed no readable XML result", where) from None
    fenced = sorted({str(f.get("target")) for f in root.iterfind("transition/fencing_action")})
    placement: dict[str, list[str]] = {}
    roles: dict[str, list[str]] = {}
    for rsc in root.iterfind("revised_cluster_status/resources//resource"):
        rid = str(rsc.get("id", "")).split(":")[0]
        role = str(rsc.get("role", ""))
        for node in rsc.iterfind("node"):
            if role in RUNNING_ROLES:
                placement.setdefault(rid, []).append(str(node.get("name")))
                roles.setdefault(rid, []).append(f"{node.get('name')}:{role}")
    return Transition(tuple(fenced), MappingProxyType({k: tuple(sorted(v)) for k, v in placement.items()}),
                      MappingProxyType({k: tuple(sorted(v)) for k, v in roles.items()}))


# --- the fault's effect, written into the status section ---------------------------------------


def _node_state(root: etree._Element, node: str, where: str) -> etree._Element:
    for ns in root.iterfind("status/node_state"):
        if node in (ns.get("uname"), ns.get("id")):
            return ns
    raise ConfigError(f"node {node!r} has no state in the CIB's status section", where)


def online_nodes(cib: bytes, where: str = "cib") -> tuple[str, ...]:
    """Cluster nodes the status shows as full members (the ones a fault can take away)."""
    root = parse_xml(cib, where)
    return tuple(str(ns.get("uname")) for ns in root.iterfind("status/node_state")
                 if ns.get("in_ccm") not in ("false", None) and ns.get("crmd") == "online"
                 and ns.get("join") == "member" and ns.get("uname"))


def lose_node(cib: bytes, node: str, *, quorate: bool | None = None, where: str = "cib") -> bytes:
    """The node left the membership without a goodbye, as the DC records it after a token loss:
    out of the membership, controller gone, but still expected up -> unclean -> fenced."""
    root = copy.deepcopy(parse_xml(cib, where))
    ns = _node_state(root, node, where)
    ns.set("in_ccm", "false")
    ns.set("crmd", "offline")
    ns.set("join", "down")
    ns.set("expected", "member")
    if quorate is not None:
        root.set("have-quorum", "1" if quorate else "0")
    return bytes(etree.tostring(root))


def set_quorum(cib: bytes, quorate: bool, where: str = "cib") -> bytes:
    root = copy.deepcopy(parse_xml(cib, where))
    root.set("have-quorum", "1" if quorate else "0")
    return bytes(etree.tostring(root))


def fail_resource(rsc: str, node: str, interval_ms: int, rc: int = 7) -> tuple[str, ...]:
    """A resource's monitor failed on ``node`` (rc 7: not running): crm_simulate's own op injection."""
    return (f"--op-fail={rsc}_monitor_{interval_ms}@{node}={rc}",)


def after_node_loss(cib: bytes, node: str, *, quorate: bool | None = None, where: str = "cib") -> Transition:
    return simulate(lose_node(cib, node, quorate=quorate, where=where), where=where)


def quorate_after_loss(members: int, lost: int, two_node: bool, device: QuorumDevice | None = None,
                       device_vote: bool = True) -> bool:
    """votequorum with one vote per node: a majority of the nodes, or two_node keeping one of two.
    With a quorum device its votes are expected too, and count for the survivors only when qnetd
    gives them its vote (``device_vote``)."""
    left = members - lost
    if device is not None:
        votes = device.vote_count(members)
        return (left + (votes if device_vote else 0)) * 2 > members + votes
    return left * 2 > members or (two_node and members == 2 and left >= 1)


def render(t: Transition, node: str, resources: tuple[str, ...] = ()) -> str:
    """What the scheduler decided after ``node`` was lost, for a terminal; ``resources`` (the
    design's primitives) that run nowhere are shown stopped."""
    lines = [f"pacemaker's scheduler (crm_simulate) after losing {node}:",
             f"fenced:    {', '.join(t.fenced) or 'nobody'}"]
    lines += [f"{rsc:<30} -> {', '.join(t.roles[rsc])}" for rsc in sorted(t.roles)]
    lines += [f"{rsc:<30} -> stopped" for rsc in sorted(set(resources) - set(t.roles))]
    return "\n".join(lines)
