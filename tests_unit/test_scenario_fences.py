"""The fence record the judge reads: a per-node record (rgmanager's fenced.log) is every node's,
merged on host time; what a node being fenced could not give is read after the restore (pure logic,
nodes stood in by fakes)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from halab import scenario
from halab.errors import LabError
from halab.spec import load_spec
from halab.stacks.lab_names import lab_adapter

NODE02_LOG = "Dec 01 03:27:07 fenced fencing node node01h\nDec 01 03:27:28 fenced fence node01h success\n"
NODE01_LOG = "Dec 01 03:27:20 fenced fencing node node02h\nDec 01 03:27:40 fenced fence node02h success\n"


class Node:
    def __init__(self, log: str | None) -> None:
        self.log = log

    def run(self, cmd: str, **_kw: Any) -> SimpleNamespace:
        if self.log is None:
            raise LabError("node01: SSH does not answer", "ssh")
        return SimpleNamespace(stdout=self.log, returncode=0)


def cluster(logs: dict[str, str | None]) -> Any:
    spec = load_spec("seed").with_stack("rgmanager")
    nodes = {name: Node(log) for name, log in logs.items()}
    lab = SimpleNamespace(spec=spec, remote=lambda n: nodes[n])
    return SimpleNamespace(lab=lab, adapter=lab_adapter(spec), nodes=nodes)


@pytest.fixture(autouse=True)
def offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    """node01's clock runs 2 s ahead of the host, node02's 1 s behind."""
    monkeypatch.setattr("halab.observe.logs.clock_offset",
                        lambda _lab, node: ({"node01": 2.0, "node02": -1.0}[node], 0.1))


def test_every_node_record_is_merged_on_host_time_with_its_node_as_the_fencer() -> None:
    """The phantom branch measured live: node02 fenced node01 and node01 fenced node02; node02's
    log alone (what a first-answering read gave) hides node01's claim."""
    got = scenario._fence_history(cluster({"node01": NODE01_LOG, "node02": NODE02_LOG}), None)  # type: ignore[arg-type]
    assert got.unread == ()
    assert got.offset_s == 0.0
    assert got.history is not None
    seen = sorted((f.target, f.delegate, f.completed.strftime("%H:%M:%S") if f.completed else "")
                  for f in got.history)
    assert seen == [("node01", "node02", "03:27:29"), ("node02", "node01", "03:27:38")]


def test_a_node_that_cannot_answer_is_read_after_the_restore() -> None:
    c = cluster({"node01": None, "node02": NODE02_LOG})
    before = scenario._fence_history(c, None)  # type: ignore[arg-type]
    assert before.unread == ("node01",)
    assert [f.target for f in before.history or ()] == ["node01"]
    c.nodes["node01"].log = NODE01_LOG  # booted again
    after = scenario._read_unread(c, before)
    assert after.unread == ()
    assert sorted(f.target for f in after.history or ()) == ["node01", "node02"]


def test_no_node_answering_is_no_record_at_all() -> None:
    got = scenario._fence_history(cluster({"node01": None, "node02": None}), None)  # type: ignore[arg-type]
    assert got.history is None
    assert got.unread == ("node01", "node02")
    still = scenario._read_unread(cluster({"node01": None, "node02": None}), got)
    assert still.history is None
    assert still.unread == ("node01", "node02")
