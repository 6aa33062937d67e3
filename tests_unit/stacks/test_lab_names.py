"""Cluster names (cluster.conf's node01h) become lab names (node01) in one place, both ways."""

from __future__ import annotations

from halab.oracle import predict
from halab.spec import load_spec
from halab.stacks.lab_names import cluster_node_name, lab_adapter, prediction_in_lab_names

# `clustat -x` in the form rgmanager 3.x prints it for the seed (node names from cluster.conf).
CLUSTAT_X = """<?xml version="1.0"?>
<clustat version="4.1.1">
  <cluster name="cluster01" id="26777" generation="8"/>
  <quorum quorate="1" groupmember="1"/>
  <nodes>
    <node name="node01h" state="1" local="1" estranged="0" rgmanager="1" rgmanager_master="0" qdisk="0" nodeid="0x00000001"/>
    <node name="node02h" state="1" local="0" estranged="0" rgmanager="1" rgmanager_master="0" qdisk="0" nodeid="0x00000002"/>
    <node name="/dev/block/8:16" state="1" local="0" estranged="0" rgmanager="0" rgmanager_master="0" qdisk="1" nodeid="0x00000000"/>
  </nodes>
  <groups>
    <group name="service:service01" state="112" state_str="started" flags="0" flags_str="" owner="node01h" last_owner="none" restarts="0" last_transition="1764514000" last_transition_str="Mon Nov 30 15:00:00 2026"/>
  </groups>
</clustat>
"""


def test_clustat_owner_and_members_come_back_in_lab_names() -> None:
    spec = load_spec("seed").with_stack("rgmanager")
    status = lab_adapter(spec).read_status(CLUSTAT_X)
    svc = status.service("service01")
    assert svc is not None and svc.owner == "node01"
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
