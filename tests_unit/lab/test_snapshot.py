"""``--reset snapshot``: the order of the revert (pure logic with recording fakes), the libvirt calls
on libvirt's in-process test driver (never qemu:///system), tgtd's connection list, and the
prediction that no longer judges what the revert skips."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from halab.lab import domains, snapshot, target, virt
from halab.oracle.model import HARNESS_PHASES, Prediction, Window

TGT_SHOW = """Target 1: iqn.2011-08.com.example.yourhost:tgt01
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 3
            Initiator: iqn.1993-08.org.debian:01:node01 alias: node01
            Connection: 0
                IP Address: 192.168.8.11
        I_T nexus: 5
            Initiator: iqn.1993-08.org.debian:01:node02 alias: node02
            Connection: 0
                IP Address: 192.168.8.12
    LUN information:
        LUN: 0
            Type: controller
"""


def test_the_target_connections_are_read_from_tgtadm_show() -> None:
    assert target.connections(TGT_SHOW) == [(3, 0), (5, 0)]
    assert target.connections("Target 1: iqn.x\n    I_T nexus information:\n") == []


class _Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def __call__(self, what: str) -> None:
        self.events.append(what)


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A two-node lab whose every outside effect is an event in ``lab.events``."""
    rec = _Recorder()
    luns = tmp_path / "luns"
    luns.mkdir()
    live = [luns / "qdisk01.img", luns / "data01.img"]
    for f in live:
        f.write_bytes(b"saved")
    nodes = [SimpleNamespace(name="node01", domain="VM1"), SimpleNamespace(name="node02", domain="VM2")]

    class Remote:
        def __init__(self, name: str) -> None:
            self.name = name

        def wait_port(self, within_s: float) -> float:
            return 0.05

        def wait_ssh(self, within_s: float) -> float:
            rec(f"ssh {self.name}")
            return 0.1

        def run(self, cmd: str, **_kw: object) -> None:
            rec(f"clock {self.name}" if cmd.startswith("date -u -s @") else f"run {cmd}")

    remotes = {n.name: Remote(n.name) for n in nodes}
    fake = SimpleNamespace(spec=SimpleNamespace(nodes=nodes), paths=SimpleNamespace(state=tmp_path / "state"),
                           remote=lambda n: remotes[n], close=lambda: rec("close ssh"), events=rec.events,
                           luns=live)
    monkeypatch.setattr(snapshot.target, "backing_files", lambda spec, paths: live)
    monkeypatch.setattr(target, "show", lambda paths: TGT_SHOW)
    monkeypatch.setattr(target, "control_port", lambda paths: 3260)
    monkeypatch.setattr(target, "_tgtadm", lambda port, *args, check=True: rec(" ".join(args)))
    monkeypatch.setattr(domains, "act", lambda d, action: rec(f"{action} {d}"))
    monkeypatch.setattr(domains, "state", lambda d: "paused")
    monkeypatch.setattr(domains, "snapshot_save", lambda d, name: rec(f"save {d}"))
    monkeypatch.setattr(domains, "snapshot_load", lambda d, name: rec(f"load {d}"))

    def run(argv: list[str], timeout: float, check: bool = True) -> None:  # snapshot's only command: cp
        assert timeout > 0
        assert argv[0] == "cp"
        Path(argv[3]).write_bytes(Path(argv[2]).read_bytes())
        rec(f"copy {Path(argv[2]).name}->{Path(argv[3]).parent.name}")

    monkeypatch.setattr(snapshot, "run", run)
    import halab.faults.restore as restore_mod

    monkeypatch.setattr(restore_mod, "sweep", lambda lab, from_host=None: rec(f"sweep from_host={from_host}"))
    monkeypatch.setattr(snapshot, "parallel", lambda fn, items: [fn(i) for i in items])
    return fake


def test_the_save_pauses_every_node_before_anything_is_saved_and_resumes_them_after(lab: Any) -> None:
    saved = snapshot.take(lab, progress=lambda m: None)
    ev = lab.events
    assert ev[:2] == ["suspend VM1", "suspend VM2"]
    assert ev[-2:] == ["resume VM1", "resume VM2"]
    assert set(ev[2:-2]) == {"copy qdisk01.img->snapshot", "copy data01.img->snapshot", "save VM1", "save VM2"}
    assert saved.domains == ("VM1", "VM2")
    assert [copy.read_bytes() for _, copy in saved.luns] == [b"saved", b"saved"]


def test_the_revert_loads_every_node_then_the_luns_while_all_are_paused_then_resumes_them_together(
        lab: Any) -> None:
    saved = snapshot.take(lab, progress=lambda m: None)
    for f in lab.luns:
        f.write_bytes(b"written after the save")
    lab.events.clear()
    snapshot.revert(lab, saved, progress=lambda m: None)
    ev = lab.events
    order = [e.split()[0] for e in ev]
    assert ev[0] == "sweep from_host=True"  # a heal that resumes or starts a node comes before the load
    assert ev[1:3] == ["load VM1", "load VM2"]
    first_resume = ev.index("resume VM1")
    assert {e for e in ev[3:first_resume]} == {
        "copy qdisk01.img->luns", "copy data01.img->luns",
        "--op delete --mode conn --tid 1 --sid 3 --cid 0", "--op delete --mode conn --tid 1 --sid 5 --cid 0"}
    assert ev[first_resume:first_resume + 2] == ["resume VM1", "resume VM2"]
    assert order.index("close") > first_resume
    assert order.index("ssh") > order.index("close")
    assert ev[-2:] == ["clock node01", "clock node02"]
    assert [f.read_bytes() for f in lab.luns] == [b"saved", b"saved"]


def test_a_revert_without_its_lun_copies_is_one_clear_error_before_anything_changes(lab: Any) -> None:
    from halab.errors import LabError

    saved = snapshot.take(lab, progress=lambda m: None)
    saved.luns[0][1].unlink()
    lab.events.clear()
    with pytest.raises(LabError, match="saved LUN copies are gone"):
        snapshot.revert(lab, saved, progress=lambda m: None)
    assert lab.events == []


# --- libvirt's own test driver: the snapshot calls and the undefine with snapshots ---------------


@pytest.fixture
def test_domain(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    libvirt = pytest.importorskip("libvirt")
    monkeypatch.setattr(virt, "current_uri", lambda: "test:///default")
    name = f"snap-{uuid.uuid4().hex[:8]}"
    conn = libvirt.open("test:///default")
    dom = conn.defineXML(f"<domain type='test'><name>{name}</name><memory>65536</memory>"
                         "<os><type>hvm</type></os></domain>")
    dom.create()
    try:
        yield name
    finally:
        domains.remove_all([name], uri="test:///default")
        conn.close()


def test_a_saved_domain_comes_back_paused_and_one_with_snapshots_is_still_removed(test_domain: str) -> None:
    import libvirt

    domains.snapshot_save(test_domain, snapshot.NAME)
    domains.snapshot_save(test_domain, snapshot.NAME)  # saved again: the older one is replaced
    domains.act(test_domain, "destroy")  # fenced off meanwhile
    domains.snapshot_load(test_domain, snapshot.NAME)
    assert domains.state(test_domain) == "paused"
    conn = libvirt.open("test:///default")
    try:
        assert conn.lookupByName(test_domain).snapshotListNames() == [snapshot.NAME]
    finally:
        conn.close()
    assert domains.remove_all([test_domain], uri="test:///default") == [test_domain]
    assert domains.state(test_domain) == "absent"  # undefined although it had a snapshot


# --- the prediction under this reset -------------------------------------------------------------


def _pred(windows: dict[str, Window], **kw: Any) -> Prediction:
    return Prediction(stack="pacemaker", fault="suspend", target="node01", fenced=("node01",),
                      fenced_by="node02", self_reboot=(), services={"service01": "node02"}, quorate=True,
                      members_after=("node02",), windows=windows, reasoning=("r",), **kw)


def test_a_snapshot_reset_drops_the_harness_driven_phases_with_the_reason_everywhere() -> None:
    both = {"detect": Window(1, 2), "node-rejoined": Window(3, 4), "fail-back": Window(5, 6)}
    pred = _pred(both, alternatives=(_pred(dict(both)),))
    trimmed = pred.without_harness_phases("not judged: snapshot")
    for alt in trimmed.outcomes():
        assert list(alt.windows) == ["detect"]
        assert alt.reasoning[-1] == "not judged: snapshot"
    assert not any(p in trimmed.windows for p in HARNESS_PHASES)
    plain = _pred({"detect": Window(1, 2)})
    assert plain.without_harness_phases("x") is plain  # nothing to drop: no extra reasoning line
