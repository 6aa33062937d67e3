"""The live runner of the rgmanager plan: order, clstart_all together, secrets through a file only."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from halab.deploy import rgmanager_live
from halab.deploy.rgmanager import START_CLUSTER, rgmanager_plan
from halab.errors import LabError
from halab.lab.host import Result
from halab.lab.remote import Unreachable
from halab.spec import load_spec

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-body\n"


@dataclass
class FakeRemote:
    name: str
    log: list[tuple[str, str]]
    fail_on: str = ""
    unreachable_on: str = ""
    outputs: dict[str, str] = field(default_factory=dict)  # a command's part -> its stdout
    files: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, cmd: str, timeout: float = 0, check: bool = False, **_: Any) -> Result:
        with self.lock:
            self.log.append((self.name, cmd))
        if self.unreachable_on and self.unreachable_on in cmd:
            raise Unreachable(f"{self.name}: no answer within {timeout:.0f} s", self.name)
        code = 1 if self.fail_on and self.fail_on in cmd else 0
        out = next((o for part, o in self.outputs.items() if part in cmd), "")
        return Result(cmd, code, out, "boom" if code else "")

    def put_text(self, text: str, path: str, mode: int = 0o644, timeout: float = 30.0) -> None:
        self.files[path] = text


@dataclass
class FakeLab:
    spec: Any
    remotes: dict[str, FakeRemote]
    paths: Any

    def remote(self, node: str) -> FakeRemote:
        return self.remotes[node]


@pytest.fixture
def lab(tmp_path: Path) -> FakeLab:
    spec = load_spec("seed").with_stack("rgmanager")
    key = tmp_path / "fence_key"
    key.write_text(KEY)
    log: list[tuple[str, str]] = []
    remotes = {n.name: FakeRemote(n.name, log) for n in spec.nodes}
    return FakeLab(spec, remotes, type("P", (), {"fence_key": key})())


def test_the_plan_runs_in_order_with_secrets_only_in_a_root_only_file(lab: FakeLab) -> None:
    plan = rgmanager_plan(lab.spec)
    rgmanager_live.run_plan(lab, plan, progress=lambda m: None)  # type: ignore[arg-type]
    log = lab.remotes["node01"].log
    cmds = [c for n, c in log]
    assert all(KEY.strip() not in c for c in cmds)
    assert lab.remotes["node01"].files[rgmanager_live.STDIN_FILE] != KEY  # overwritten by later steps
    assert any(c.startswith("{ install -m 0600 -D /dev/stdin /root/.ssh/halab_fence ; } < ") for c in cmds)
    mkqdisk = [n for n, c in log if "mkqdisk -c" in c]
    assert mkqdisk == ["node01"]
    starts = [n for n, c in log if c == START_CLUSTER]
    assert sorted(starts) == ["node01", "node02"]
    assert cmds.index(next(c for c in cmds if "mkqdisk -c" in c)) < cmds.index(START_CLUSTER)
    assert cmds[-1] == "clusvcadm -e service01 -m node01h"


def test_a_failed_step_is_one_line_naming_the_step_and_node(lab: FakeLab) -> None:
    lab.remotes["node02"].fail_on = "ccs_config_validate"
    with pytest.raises(LabError, match=r"node02: deploy step 'validate it against the installed schema' failed"):
        rgmanager_live.run_plan(lab, rgmanager_plan(lab.spec), progress=lambda m: None)  # type: ignore[arg-type]


def test_the_design_speaks_lab_names() -> None:
    d = rgmanager_live.design_of(load_spec("seed").with_stack("rgmanager"))
    assert (d.service, d.preferred_node, d.allowed_nodes) == ("service01", "node01", ("node01", "node02"))
    assert (d.service_ip, d.app_port, d.mountpoint) == ("192.168.7.99", 8080, "/data01")


JOURNAL = (Path(__file__).parents[1] / "data" / "live" / "rgmanager"
           / "cman-start-failed-debian-libcpg.journal").read_text()


def test_a_failed_cluster_start_names_the_stacks_own_cause(lab: FakeLab) -> None:
    # live (CI at b82a703): the job's failure was all the error said; the cause was in the journal
    lab.remotes["node01"].fail_on = START_CLUSTER
    lab.remotes["node01"].outputs = {"journalctl": JOURNAL}
    said: list[str] = []
    with pytest.raises(LabError) as err:
        rgmanager_live.run_plan(lab, rgmanager_plan(lab.spec), progress=said.append)  # type: ignore[arg-type]
    assert str(err.value).endswith("; its log: dlm_controld: daemon cpg_initialize error 2 | "
                                   "halab-cman: fence_tool: fenced not running, no lockfile")
    assert "\n" not in str(err.value)
    assert any("fenced[690]: daemon cpg_model_initialize error 2" in m for m in said)


def test_an_unreadable_start_log_is_said_not_hidden(lab: FakeLab) -> None:
    lab.remotes["node01"].fail_on = START_CLUSTER
    lab.remotes["node01"].unreachable_on = "journalctl"
    with pytest.raises(LabError, match=r"\(its log could not be read: .*no answer"):
        rgmanager_live.run_plan(lab, rgmanager_plan(lab.spec), progress=lambda m: None)  # type: ignore[arg-type]
