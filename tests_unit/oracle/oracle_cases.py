"""Shared helpers for the oracle's unit tests: the seed spec and its variants (test data in
tests_unit/data/oracle/), and the bare model without slack."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from halab.clusterconf import load_cluster_conf
from halab.oracle import PHASES, Prediction, Slack, predict
from halab.oracle import rgmanager as rg
from halab.oracle.rgdesign import RgDesign, from_cluster_conf
from halab.spec import LabSpec, load_spec

DATA = Path(__file__).resolve().parents[1] / "data" / "oracle"
BARE = Slack.none()

# causal order of phases: each must not start before the one it follows (node-rejoined and
# fail-back are harness-driven: seconds after the harness's restore, so not chained to fence-done)
CHAIN = (
    ("detect", "fence-requested"),
    ("fence-requested", "fence-done"),
    ("fence-done", "service-started"),
    ("node-rejoined", "fail-back"),
    ("detect", "service-started"),
)


@cache
def seed() -> LabSpec:
    return load_spec("seed")


@cache
def three() -> LabSpec:
    return load_spec(DATA / "three")


def with_conf(spec: LabSpec, name: str) -> LabSpec:
    """The spec with another cluster.conf (a file under tests_unit/data/oracle/)."""
    stacks = dict(spec.stacks)
    stacks["rgmanager"] = {**stacks["rgmanager"], "cluster_conf": str(DATA / name)}
    return replace(spec, stacks=stacks)


def _nv(parent: etree._Element, name: str, value: str | None) -> None:
    for old in parent.iterfind(f"nvpair[@name='{name}']"):
        parent.remove(old)
    if value is not None:
        etree.SubElement(parent, "nvpair", id=f"t-{name}", name=name, value=value)


def with_pcmk(spec: LabSpec, **keys: Any) -> LabSpec:
    """The spec with a variant of its design files, edited as a user would edit their CIB and
    corosync.conf: fence_delay_s (node01's device), stickiness, migration_threshold,
    priority_fencing_delay_s, two_node, sbd (fence_sbd devices), no_fence_for (a node's device removed),
    qdevice (two_node replaced by a quorum device with these net keys)."""
    cfg = spec.stacks["pacemaker"]
    root = etree.parse(str(spec.path.parent / cfg["cib"])).getroot()
    conf = root.find("configuration")
    opts = conf.find("crm_config/cluster_property_set")
    defaults = conf.find("rsc_defaults/meta_attributes")
    if "fence_delay_s" in keys:
        delay = keys["fence_delay_s"]
        _nv(conf.find("resources/primitive[@id='fence_node01']/instance_attributes"), "pcmk_delay_base",
            f"{round(delay * 1000)}ms" if delay else None)
    if "stickiness" in keys:
        _nv(defaults, "resource-stickiness", str(keys["stickiness"]))
    if "migration_threshold" in keys:
        _nv(defaults, "migration-threshold", str(keys["migration_threshold"]))
    if "priority_fencing_delay_s" in keys:
        _nv(opts, "priority-fencing-delay", f"{keys['priority_fencing_delay_s']}s")
    if keys.get("no_fence_for"):  # the node's device removed (and any constraint naming it)
        victim = keys["no_fence_for"]
        for prim in conf.iterfind(f"resources/primitive[@id='fence_{victim}']"):
            prim.getparent().remove(prim)
        for cons in list(conf.iterfind("constraints/*")):
            if cons.get("rsc") == f"fence_{victim}":
                cons.getparent().remove(cons)
    if keys.get("sbd"):
        for prim in conf.iterfind("resources/primitive[@class='stonith']"):
            prim.set("type", "fence_sbd")
    coro = (spec.path.parent / cfg["corosync"]).read_text()
    if keys.get("two_node") is False:
        coro = coro.replace("    two_node: 1\n", "")
    if keys.get("qdevice"):  # two_node replaced by a quorum device: {"algorithm": ..., "tie_breaker": ...}
        net = "".join(f"            {k}: {v}\n" for k, v in {"host": "192.168.9.250", **keys["qdevice"]}.items())
        coro = coro.replace("    two_node: 1\n", f"    device {{\n        model: net\n        net {{\n{net}"
                                                     "        }\n    }\n")
    tmp = Path(tempfile.mkdtemp(prefix="halab-variant-"))
    (tmp / "cib.xml").write_bytes(etree.tostring(root))
    (tmp / "corosync.conf").write_text(coro)
    stacks = dict(spec.stacks)
    stacks["pacemaker"] = {**cfg, "cib": str(tmp / "cib.xml"), "corosync": str(tmp / "corosync.conf")}
    return replace(spec, stacks=stacks)


def with_timing(spec: LabSpec, **fields: Any) -> LabSpec:
    return replace(spec, timing=replace(spec.timing, **fields))


@cache
def seed_design(flavor: str = "rhel6") -> RgDesign:
    spec = seed()
    return from_cluster_conf(load_cluster_conf(spec.cluster_conf_path()), spec, flavor)


def rg_bare(design: RgDesign, fault: str, target: str, **kw: Any) -> Prediction:
    """The rgmanager model on a design built in the test, without slack."""
    return rg.predict(
        seed(), fault, target, kw.pop("owners", None), slack=kw.pop("slack", BARE), design=design, **kw
    )


def bare(spec: LabSpec, fault: str, target: str, stack: str | None = None, **kw: Any) -> Prediction:
    return predict(spec, fault, target, kw.pop("owners", None), stack, slack=BARE, **kw)


def span(p: Prediction, phase: str) -> tuple[float, float]:
    w = p.windows[phase]
    return (round(w.earliest, 3), round(w.latest, 3))


def check_windows(p: Prediction) -> None:
    """Non-negative, earliest <= latest, known phases, causal order — for every outcome."""
    for o in p.outcomes():
        assert set(o.windows) <= set(PHASES)
        for w in o.windows.values():
            assert 0 <= w.earliest <= w.latest
        for a, b in CHAIN:
            if a in o.windows and b in o.windows:
                assert o.windows[a].earliest <= o.windows[b].earliest, (a, b, o.windows)
                assert o.windows[a].latest <= o.windows[b].latest, (a, b, o.windows)
