"""The rgmanager readers on what the compiled cluster 3.2.0 printed (tests_unit/data/live/rgmanager)."""

from __future__ import annotations

from pathlib import Path

from halab.stacks.rgmanager import ADAPTER, read_cman_nodes, read_cman_status, read_mkqdisk
from halab.stacks.types import EventKind

LIVE = Path(__file__).resolve().parents[1] / "data" / "live" / "rgmanager"


def _text(name: str) -> str:
    return (LIVE / name).read_text()


def test_clustat_x_without_rgmanager_has_no_groups_and_still_reads() -> None:
    st = ADAPTER.read_status(_text("probe-clustat-x-no-rgmanager.xml"))
    assert st.quorate is True
    assert st.services == ()
    assert st.online() == ("node01h",)
    assert st.quorum_device is not None
    assert st.quorum_device.online
    assert ADAPTER.read_status(_text("probe-clustat-no-rgmanager.txt")) == st


def test_cman_tool_status_shows_the_quorum_device_votes() -> None:
    v = read_cman_status(_text("probe-cman_tool-status.txt"))
    assert (v.expected, v.total, v.quorum, v.quorate) == (3, 2, 2, True)
    assert (v.node_votes, v.device_votes) == (1, 1)
    assert v.local_node == "node01h"


def test_cman_tool_nodes_leaves_out_the_quorum_disk_it_lists_as_node_0() -> None:
    """Live: cman lists the quorum disk as node 0 named by its device; it is not a member."""
    assert "   0   M      0" in _text("probe-cman_tool-nodes.txt")
    nodes = read_cman_nodes(_text("probe-cman_tool-nodes.txt"))
    assert [(m.node_id, m.name, m.online) for m in nodes] == [(1, "node01h", True), (2, "node02h", False)]


def test_mkqdisk_label() -> None:
    (label,) = read_mkqdisk(_text("probe-mkqdisk-L.txt"))
    assert label.label == "qdisk01"
    assert label.paths == ("/dev/loop0",)


def test_fenced_log_gives_requests_failures_and_a_failed_history() -> None:
    events = ADAPTER.read_events(_text("probe-fenced.log"), reporter="node01", year=2026)
    kinds = [e.kind for e in events[:2]]
    assert kinds == [EventKind.FENCE_REQUESTED, EventKind.FENCE_FAILED]
    assert {e.node for e in events} == {"node02h"}
    history = ADAPTER.read_fence_history(_text("probe-fenced.log"))
    assert history
    assert all(f.target == "node02h" and f.status == "failed" for f in history)


def test_qdiskd_log_gives_the_master() -> None:
    events = ADAPTER.read_events(_text("probe-qdiskd.log"), reporter="node01", year=2026)
    assert EventKind.QDISK_MASTER in [e.kind for e in events]


def test_live_lab_clustat_x_after_deploy() -> None:
    st = ADAPTER.read_status(_text("lab-clustat-x.xml"))
    svc = st.service("service01")
    assert svc is not None
    assert (svc.state, svc.owner) == ("started", "node01h")
    assert set(st.online()) == {"node01h", "node02h"}
    assert st.quorum_device is not None
    assert st.quorum_device.online
    text = ADAPTER.read_status(_text("lab-clustat.txt"))
    assert text.service("service01") == svc or text.service("service01") is not None


def test_live_lab_cman_tool_status_has_the_quorum_device_vote() -> None:
    v = read_cman_status(_text("lab-cman_tool-status.txt"))
    assert (v.expected, v.total, v.quorum, v.device_votes, v.nodes) == (3, 3, 2, 1, 2)


def test_live_lab_mkqdisk_lists_every_name_of_the_quorum_lun() -> None:
    (label,) = read_mkqdisk(_text("lab-mkqdisk-L.txt"))
    assert label.label == "qdisk01"
    assert any(p.endswith("-lun-1") and "by-path" in p for p in label.paths)


def test_ifdown_rebind_is_a_link_down_then_quorum_lost_and_regained_with_a_phantom_peer() -> None:
    events = ADAPTER.read_events(_text("ifdown-standby-node02-corosync.log"), reporter="node02", year=2026)
    kinds = [e.kind for e in events]
    first = kinds.index(EventKind.LINK_DOWN)
    assert kinds[first - 1] == EventKind.TOKEN_LOST
    assert events[first].node == "node02"
    assert kinds.index(EventKind.QUORUM_LOST) < kinds.index(EventKind.QUORUM_REGAINED)


def test_ifdown_rebound_node_fenced_its_peer_and_took_the_service_after_the_eviction() -> None:
    fenced = ADAPTER.read_events(_text("ifdown-standby-node02-fenced.log"), reporter="node02", year=2026)
    assert [(e.kind, e.node) for e in fenced if e.kind is EventKind.FENCE_SUCCESS] == [
        (EventKind.FENCE_SUCCESS, "node01h")]
    qdisk = ADAPTER.read_events(_text("ifdown-standby-node02-qdiskd.log"), reporter="node02", year=2026)
    evicted = next(e.time for e in qdisk if e.kind is EventKind.QDISK_EVICTION)
    rg = ADAPTER.read_events(_text("ifdown-standby-node02-rgmanager.log"), reporter="node02", year=2026)
    starting = next(e.time for e in rg if e.kind is EventKind.SERVICE_STARTING)
    assert evicted is not None
    assert starting is not None
    assert starting >= evicted


def test_ifdown_rebound_standby_that_saw_quorum_dissolve_never_starts_the_service() -> None:
    """Measured live (session 6, the same fault): node02's rgmanager saw quorum dissolve and come
    back through the phantom peer, stopped and reloaded its services, and never started service01
    after node01's fence (autostart=0: a service rgmanager finds stopped after a reload is marked
    disabled, groups.c). The seed design's outcome there is an outage; the judge fails it."""
    rg = ADAPTER.read_events(_text("ifdown-standby-disabled-node02-rgmanager.log"), reporter="node02", year=2026)
    kinds = [e.kind for e in rg]
    assert kinds.index(EventKind.QUORUM_LOST) < kinds.index(EventKind.QUORUM_REGAINED)
    assert EventKind.MEMBER_LEFT in kinds
    assert EventKind.SERVICE_STARTING not in kinds[kinds.index(EventKind.QUORUM_LOST):]
