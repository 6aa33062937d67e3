"""Cluster names (cluster.conf's node01h) become lab names (node01) in one place, both ways."""

from __future__ import annotations

from pathlib import Path

from halab.oracle import predict
from halab.spec import load_spec
from halab.stacks.lab_names import cluster_node_name, lab_adapter, prediction_in_lab_names

# `clustat -x` captured live on the seed lab booted from halab's RHCS image (node names from cluster.conf).
CLUSTAT_X = (Path(__file__).resolve().parents[1] / "data" / "live" / "rgmanager" / "lab-clustat-x.xml").read_text()


def test_clustat_owner_and_members_come_back_in_lab_names() -> None:
    spec = load_spec("seed").with_stack("rgmanager")
    status = lab_adapter(spec).read_status(CLUSTAT_X)
    svc = status.service("service01")
    assert svc is not None
    assert svc.owner == "node01"
    assert {"node01", "node02"} <= set(status.online())
    assert status.local_node in (None, "node01")


def test_the_dc_comes_back_in_lab_names() -> None:
    """The oracle compares the DC with the lost node in lab names (dc_takeover_s)."""
    from halab.stacks.types import ClusterStatus

    spec = load_spec("seed").with_stack("rgmanager")
    adapter = lab_adapter(spec)
    adapter.inner = type("Inner", (), {"read_status": staticmethod(
        lambda _t: ClusterStatus(True, (), (), dc="node02h"))})()  # type: ignore[assignment]
    assert adapter.read_status("").dc == "node02"


def test_a_name_the_spec_does_not_know_stays_as_printed() -> None:
    spec = load_spec("seed").with_stack("rgmanager")
    adapter = lab_adapter(spec)
    assert adapter.lab_name("node09h") == "node09h"
    assert adapter.lab_name("node02h.example.com") == "node02"


def test_commands_that_take_a_node_get_the_cluster_name() -> None:
    spec = load_spec("seed").with_stack("rgmanager")
    assert cluster_node_name(spec, "node01") == "node01h"
    assert cluster_node_name(load_spec("seed"), "node01") == "node01"


def test_the_prediction_speaks_lab_names_like_the_observations() -> None:
    spec = load_spec("seed").with_stack("rgmanager")
    raw = predict(spec, "suspend", "node01", owners={"service01": "node01"})
    pred = prediction_in_lab_names(raw, spec)
    assert raw.target == "node01h"
    assert pred.target == "node01"
    assert all(not n.endswith("h") for n in (*pred.fenced, *pred.members_after))


def test_qdiskd_s_node_ids_come_back_as_lab_names() -> None:
    """qdiskd names nodes by id; who held the master role at t0 is a premise the judge reads."""
    spec = load_spec("seed").with_stack("rgmanager")
    text = ("Dec 01 17:46:49 qdiskd Assuming master role\n"
            "Dec 01 17:47:08 qdiskd Node 1 is the master\n"
            "Dec 01 17:48:47 qdiskd Node 9 evicted\n")
    events = lab_adapter(spec).read_events(text, reporter="node02", year=2026)
    assert [(e.kind.value, e.node) for e in events] == [
        ("qdisk-master", "node02"), ("qdisk-master", "node01"), ("qdisk-eviction", "9")]
    assert lab_adapter(load_spec("seed")).ids == {}  # pacemaker: no qdiskd, no ids
    premised = prediction_in_lab_names(predict(spec, "heartbeat-block", "node01"), spec)
    assert {o.premise.node for o in premised.outcomes() if o.premise} == {"node01", "node02"}
    assert all(o.premise.says.startswith(o.premise.node + " ") for o in premised.outcomes() if o.premise)


def test_a_premise_renames_whole_node_names_only() -> None:
    from halab.oracle.model import Premise
    from halab.stacks.lab_names import _premise

    p = Premise("qdisk-master", "node1", "node1 the qdisk master when the fault began (not node10)", True)
    renamed = _premise(p, {"node1": "labnode1", "node10": "labnode10"})
    assert renamed is not None
    assert renamed.node == "labnode1"
    assert renamed.says == "labnode1 the qdisk master when the fault began (not node10)"
