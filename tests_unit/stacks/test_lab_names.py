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
