"""The rgmanager mutant catalogue: each mistake is a cluster.conf edit that applies to the seed's
cluster.conf and changes exactly what it says (read back with halab's own reader), the config rules
flag it where a rule exists, the live apply installs and reloads it the cluster 3.x way, and the
oracle, which keeps reasoning from the unmutated seed, still predicts the designed outcome."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from halab import mutants
from halab.checks import run_checks
from halab.checks.base import Severity
from halab.clusterconf import ClusterConf, parse_cluster_conf
from halab.clusterconf.edit import Edit, apply_edits
from halab.errors import ConfigError, SpecError
from halab.faults import REGISTRY
from halab.mutants import Mutant, catalogue, mutated_conf, reload_commands
from halab.observe.judge import Evidence, judge
from halab.observe.timeline import Timeline
from halab.observe.verdict import Category, failed, passed
from halab.oracle.predict import predict
from halab.spec import LABS_DIR, LabSpec, load_spec
from halab.stacks.rgmanager import RECONFIGURED
from halab.stacks.types import ClusterStatus

CATEGORIES = ("WRONG OUTCOME", "UNSAFE", "TOO SLOW", "TOO EARLY", "NO EVIDENCE")
SEED_CONF = (LABS_DIR / "seed" / "cluster.conf").read_text()


def _seed() -> ClusterConf:
    return parse_cluster_conf(SEED_CONF)


def _mutant(mid: str) -> Mutant:
    return next(m for m in catalogue("rgmanager") if m.id == mid)


def _mutated(mid: str) -> ClusterConf:
    return parse_cluster_conf(mutated_conf(_mutant(mid), SEED_CONF))


def _spec() -> LabSpec:
    return load_spec("seed").with_stack("rgmanager")


def _mutated_lab(tmp_path: Path, mid: str) -> LabSpec:
    """A copy of the seed lab whose cluster.conf carries the mutant's mistake."""
    shutil.copytree(LABS_DIR / "seed", tmp_path / "seed")
    (tmp_path / "seed" / "cluster.conf").write_text(mutated_conf(_mutant(mid), SEED_CONF))
    return load_spec(tmp_path / "seed" / "lab.toml").with_stack("rgmanager")


# --- the catalogue loads --------------------------------------------------------------------------


def test_rgmanager_catalogue_has_the_four_designed_mistakes() -> None:
    ids = {m.id for m in catalogue("rgmanager")}
    assert {"no-fence-method", "qdisk-label-mismatch", "master-wins-off", "domain-unordered"} <= ids


@pytest.mark.parametrize("entry", catalogue("rgmanager"), ids=lambda m: m.id)
def test_mutant_is_an_edit_with_a_real_fault_category_and_reload(entry: Mutant) -> None:
    assert entry.fault in REGISTRY
    assert entry.expect in CATEGORIES
    assert entry.edits
    assert not entry.apply
    assert entry.reload
    assert set(entry.reload) <= set(mutants.RELOADS)


@pytest.mark.parametrize("entry", catalogue("rgmanager"), ids=lambda m: m.id)
def test_every_edit_applies_to_the_seed_and_bumps_config_version(entry: Mutant) -> None:
    conf = parse_cluster_conf(mutated_conf(entry, SEED_CONF))
    assert conf.config_version == (_seed().config_version or 0) + 1
    assert conf != _seed()


@pytest.mark.parametrize("entry", catalogue("rgmanager"), ids=lambda m: m.id)
def test_every_edit_applies_to_the_deployed_text(entry: Mutant) -> None:
    """The live apply edits what the deploy installs (by-path devices, timing profile), not the file."""
    from halab.deploy.rgmanager import lab_deployed_conf

    text = lab_deployed_conf(_spec(), platform="debian")
    conf = parse_cluster_conf(mutated_conf(entry, text))
    assert conf.config_version == (parse_cluster_conf(text).config_version or 0) + 1


def test_bad_edit_entries_are_one_line(tmp_path: Path) -> None:
    head = 'id = "x"\nmistake = "m"\nfault = "suspend"\nrole = "owner"\nexpect = "TOO SLOW"\neffect = "e"\n'
    cases = {
        'edit = []\nreload = ["cman"]\n': "edit must be",
        'edit = [{xpath = "quorumd"}]\nreload = ["cman"]\n': "either set attributes or delete",
        'edit = [{xpath = "quorumd[", delete = true}]\nreload = ["cman"]\n': "quorumd\\[|[Ii]nvalid",
        'edit = [{xpath = "quorumd", delete = true}]\nreload = ["reboot"]\n': "reload must be",
        'edit = [{xpath = "quorumd", delete = true}]\n': "missing key",
        'edit = [{xpath = "quorumd", delete = true}]\nreload = ["cman"]\non = "all"\n': "unknown key",
    }
    for body, why in cases.items():
        (tmp_path / "rgmanager.toml").write_text("[[mutant]]\n" + head + body)
        with pytest.raises(SpecError, match=why):
            catalogue("rgmanager", tmp_path)


# --- each edit changes exactly what it says ---------------------------------------------------------


def test_no_fence_method_removes_node01s_method_only() -> None:
    seed, conf = _seed(), _mutated("no-fence-method")
    node01, node02 = conf.node("node01h"), conf.node("node02h")
    assert node01 is not None
    assert node02 is not None
    assert node01.methods == ()
    assert node02 == seed.node("node02h")
    assert conf.fence_devices == seed.fence_devices
    assert conf.quorumd == seed.quorumd
    assert conf.rm == seed.rm


def test_qdisk_label_mismatch_changes_the_label_only() -> None:
    seed, conf = _seed(), _mutated("qdisk-label-mismatch")
    assert conf.quorumd is not None
    assert seed.quorumd is not None
    assert (seed.quorumd.label, conf.quorumd.label) == ("qdisk01", "qdisk99")
    assert conf.quorumd.attrs.without("label") == seed.quorumd.attrs.without("label")
    assert conf.nodes == seed.nodes
    assert conf.rm == seed.rm


def test_master_wins_off_leaves_both_nodes_the_qdisk_vote() -> None:
    seed, conf = _seed(), _mutated("master-wins-off")
    q_seed, q = seed.qdisk_effective(), conf.qdisk_effective()
    assert q_seed is not None
    assert q is not None
    assert q_seed.master_wins
    assert not q.master_wins
    assert not q.master_wins_auto
    assert q.heuristics == 0
    assert conf.quorumd is not None
    assert seed.quorumd is not None
    assert conf.quorumd.attrs.without("master_wins") == seed.quorumd.attrs.without("master_wins")
    assert conf.nodes == seed.nodes
    assert conf.rm == seed.rm


def test_domain_unordered_changes_ordering_only() -> None:
    seed, conf = _seed(), _mutated("domain-unordered")
    dom, dom_seed = conf.domains[0], seed.domains[0]
    assert (dom_seed.ordered, dom.ordered) == (True, False)
    assert dom.restricted == dom_seed.restricted
    assert dom.members == dom_seed.members
    assert conf.services == seed.services
    assert conf.quorumd == seed.quorumd


def test_an_edit_that_selects_nothing_is_an_error() -> None:
    with pytest.raises(ConfigError, match="selects no element"):
        apply_edits(SEED_CONF, [Edit("quorumd/heuristic", {"score": "1"})])


def test_the_edited_text_keeps_comments_and_layout() -> None:
    out = mutated_conf(_mutant("domain-unordered"), SEED_CONF)
    assert "<!-- The seed lab's cluster.conf" in out
    changed = [(a, b) for a, b in zip(SEED_CONF.splitlines(), out.splitlines(), strict=True) if a != b]
    assert len(changed) == 2  # config_version and ordered, nothing else


# --- what the rules and the deploy say about each mistake ------------------------------------------


def _errors(conf: ClusterConf) -> set[str]:
    return {f.rule for f in run_checks(conf, _spec()) if f.severity is Severity.ERROR}


def test_check_config_flags_the_missing_fence_method() -> None:
    assert "fencing.method" not in _errors(_seed())
    assert "fencing.method" in _errors(_mutated("no-fence-method"))


def test_the_deploy_refuses_a_label_the_quorum_lun_does_not_carry(tmp_path: Path) -> None:
    """No check-config rule compares the label with the lab (it needs the spec); the deploy plan does."""
    from halab.deploy.rgmanager import rgmanager_plan

    with pytest.raises(ConfigError, match="quorumd label 'qdisk99' differs"):
        rgmanager_plan(_mutated_lab(tmp_path, "qdisk-label-mismatch"), platform="debian")


@pytest.mark.parametrize("mid", ["master-wins-off", "domain-unordered"])
def test_no_rule_flags_the_design_mistakes_yet(mid: str) -> None:
    """These are legal configurations with the wrong behaviour: only a live run shows them."""
    assert _errors(_mutated(mid)) == _errors(_seed())


# --- the oracle still predicts the design ------------------------------------------------------------


def test_oracle_on_the_seed_predicts_the_designed_takeover_for_suspend_owner() -> None:
    for mid in ("no-fence-method", "qdisk-label-mismatch", "domain-unordered"):
        m = _mutant(mid)
        assert (m.fault, m.role) == ("suspend", "owner")
    pred = predict(_spec(), "suspend", "node01")
    assert pred.fenced == ("node01h",)
    assert pred.fenced_by == "node02h"
    assert pred.services["service01"] == "node02h"
    assert pred.quorate
    assert "fail-back" in pred.windows  # the ordered domain brings service01 home


def test_oracle_on_the_seed_predicts_one_victim_for_a_heartbeat_split() -> None:
    m = _mutant("master-wins-off")
    pred = predict(_spec(), m.fault, "node01")
    assert all(len(p.fenced) == 1 for p in pred.outcomes())
    assert any("master_wins" in line for line in pred.reasoning)
    # the owner fenced only if node02 held the qdisk master role at t0, which the logs must show
    owner_fenced = [p for p in pred.outcomes() if p.fenced == ("node01h",)]
    assert owner_fenced
    assert all(p.premise is not None and p.premise.node == "node02h" and p.premise.at_t0 for p in owner_fenced)


def test_oracle_on_the_mutant_sees_both_halves_quorate(tmp_path: Path) -> None:
    """The same oracle on the mutated design: both halves keep the qdisk vote (the fence race)."""
    pred = predict(_mutated_lab(tmp_path, "master-wins-off"), "heartbeat-block", "node01")
    assert any("[node01h] keeps quorum, [node02h] keeps it" in line for line in pred.reasoning)
    assert ("node01h", "node02h") in {p.fenced for p in pred.outcomes()}  # both fenced is a real outcome


def test_effects_match_the_judges_wording() -> None:
    for name in ("node01h", "node01"):  # the scenario judges in lab names (prediction_in_lab_names)
        assert _mutant("no-fence-method").explains(f"WRONG OUTCOME: expected fenced ['{name}'], observed nobody")
    assert _mutant("qdisk-label-mismatch").explains("WRONG OUTCOME: expected quorate=True, observed False")
    wins = _mutant("master-wins-off")
    assert wins.explains("WRONG OUTCOME: expected fenced ['node02h'], observed ['node01', 'node02']")
    assert wins.explains("WRONG OUTCOME: expected fenced ['node02h'], observed nobody")
    # measured live: the standby kept quorum and fenced the owner, judged against the design's own
    # outcome since the other master's alternative rests on a master the logs deny
    assert wins.explains("WRONG OUTCOME: expected fenced ['node02'], observed ['node01']")
    assert not wins.explains("WRONG OUTCOME: expected fenced ['node01'], observed ['node02']")
    assert _mutant("domain-unordered").explains(
        "TOO SLOW: fail-back never observed, window [11.5, 331.0] s (service01 not seen back on node01)")


# --- the live apply, against a recording lab ------------------------------------------------------------


@dataclass
class _Res:
    stdout: str = ""
    ok: bool = True
    exit_code: int = 0


@dataclass
class _Remote:
    name: str
    log: list[tuple[str, str, str]]
    answers: dict[str, str] = field(default_factory=dict)

    def put_text(self, text: str, path: str, mode: int = 0o644, timeout: float = 30.0) -> None:
        self.log.append((self.name, "put", f"{path} {mode:o} {text}"))

    def run(self, cmd: str, timeout: float = 60.0, check: bool = False, **_: Any) -> _Res:
        self.log.append((self.name, "run", cmd))
        if cmd == RECONFIGURED:  # rgmanager's log: one more reconfiguration once the reload ran
            return _Res("1" if any("version -r" in c for _, _, c in self.log) else "0")
        return _Res(next((v for k, v in self.answers.items() if k in cmd), ""))


@dataclass
class _Lab:
    spec: LabSpec
    log: list[tuple[str, str, str]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)

    def remote(self, node: str) -> _Remote:
        return _Remote(node, self.log, self.answers)


def test_apply_installs_the_mutated_conf_everywhere_then_reloads_once() -> None:
    lab = _Lab(_spec())
    mutants.apply(_mutant("no-fence-method"), lab, "node01")  # type: ignore[arg-type]
    puts = [(n, body) for n, kind, body in lab.log if kind == "put"]
    assert [n for n, _ in puts] == ["node01", "node02"]
    assert all(body.startswith("/etc/cluster/cluster.conf 640 ") and 'config_version="3"' in body
               and "RHCSvm01" not in body and "/dev/disk/by-path/" in body for _, body in puts)
    runs = [(n, cmd) for n, kind, cmd in lab.log if kind == "run" and cmd not in _LOOKS]
    assert runs == [("node01", "cman_tool version -r -S"), ("node01", "sync"), ("node02", "sync")]
    looks = [(n, cmd) for n, kind, cmd in lab.log if kind == "run" and cmd == RECONFIGURED]
    assert looks == [("node01", RECONFIGURED), ("node02", RECONFIGURED)] * 2  # before, then once after


_LOOKS = (RECONFIGURED,)


def test_apply_waits_for_every_rgmanager_to_finish_reconfiguring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured live (domain-unordered): a fault 19 s after the reload met an rgmanager still loading
    its resource rules (144 s under TCG); the service's recovery waited behind it, 85 s after the
    fence. A reconfiguration that never ends is a lab error naming the node."""
    from halab.errors import LabError

    lab = _Lab(_spec(), answers={RECONFIGURED: "4"})  # the count never grows

    class _Stuck(_Remote):
        def run(self, cmd: str, timeout: float = 60.0, check: bool = False, **_: Any) -> _Res:
            self.log.append((self.name, "run", cmd))
            return _Res("4" if cmd == RECONFIGURED else "")

    lab.remote = lambda node: _Stuck(node, lab.log)  # type: ignore[method-assign]
    monkeypatch.setattr(mutants.time, "sleep", lambda _s: None)
    with pytest.raises(LabError, match="node01: rgmanager did not finish reconfiguring within 0 s"):
        mutants._wait_rgmanager_reconfigured(lab, {"node01": 4, "node02": 4}, within_s=0.0)  # type: ignore[arg-type]
    with pytest.raises(LabError, match="did not finish reconfiguring"):
        mutants._wait_rgmanager_reconfigured(lab, {"node01": 4}, within_s=0.01)  # type: ignore[arg-type]
    # nothing to wait for when no rgmanager ran before the reload
    assert mutants._wait_rgmanager_reconfigured(lab, {}, within_s=0.0) is None  # type: ignore[arg-type]


def test_apply_restarts_qdiskd_on_every_node_and_waits_for_it() -> None:
    lab = _Lab(_spec(), answers={"cman_tool status": "registered running"})
    mutants.apply(_mutant("master-wins-off"), lab, "node01")  # type: ignore[arg-type]
    runs = [(n, cmd) for n, kind, cmd in lab.log if kind == "run" and cmd not in _LOOKS]
    assert runs[0] == ("node01", "cman_tool version -r -S")
    stops = [n for n, cmd in runs if "qdiskd.pid" in cmd]
    starts = [n for n, cmd in runs if cmd.startswith("qdiskd -Q")]
    assert stops == starts == ["node01", "node02"]
    assert any("cman_tool status" in cmd for _, cmd in runs)  # waited for the votes


def test_a_qdiskd_that_neither_registers_nor_exits_is_a_lab_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from halab.errors import LabError

    lab = _Lab(_spec(), answers={"cman_tool status": "running"})
    monkeypatch.setattr(mutants, "QDISKD_SETTLE_S", 0.0)
    monkeypatch.setattr(mutants.time, "sleep", lambda _s: None)
    with pytest.raises(LabError, match="qdiskd neither registered nor gave up"):
        mutants._wait_qdiskd_settled(lab, ["node01", "node02"], within_s=0.0)  # type: ignore[arg-type]


def test_reload_order_is_config_first_then_qdiskd() -> None:
    cmds = [c for _, c in reload_commands(_mutant("qdisk-label-mismatch"))]
    assert cmds[0] == "cman_tool version -r -S"
    assert cmds[-2].startswith("qdiskd -Q")


def test_a_reload_ends_with_a_flush_on_every_node() -> None:
    """The reload rewrote each node's schema cache; a fault seconds later must not find it unwritten."""
    for mutant in (m for m in catalogue("rgmanager") if m.reload):
        assert reload_commands(mutant)[-1] == ("all", "sync"), mutant.id


def test_pacemaker_mutants_are_still_shell_commands() -> None:
    for m in catalogue("pacemaker"):
        assert m.apply
        assert not m.edits
        assert not m.reload


def test_oracle_on_the_mutated_designs_agrees_with_the_catalogued_effects(tmp_path: Path) -> None:
    """Where the mistake is visible in cluster.conf alone, the oracle given the mutated design
    predicts the effect the catalogue expects the live cluster to show (the label is not: whether
    a disk carries it is a fact of the lab, checked by the deploy plan)."""
    no_fence = predict(_mutated_lab(tmp_path / "a", "no-fence-method"), "suspend", "node01")
    assert {p.fenced for p in no_fence.outcomes()} == {()}
    assert no_fence.services["service01"] == "blocked"
    unordered = predict(_mutated_lab(tmp_path / "b", "domain-unordered"), "suspend", "node01")
    assert "fail-back" not in unordered.windows
    assert unordered.services["service01"] == "node02h"


# --- the right reason: the run reached the point where the mistake matters ----------------------------


def _names_the_judge_checks(m: Mutant) -> set[str]:
    spec = load_spec("seed").with_stack("rgmanager")
    pred = predict(spec, m.fault, "node01")
    v = judge(Timeline(), pred, Evidence("service01", ClusterStatus(True, (), ())))
    return {c.name for c in v.checks}


def test_required_checks_are_names_the_judge_uses() -> None:
    for m in catalogue("rgmanager"):
        assert set(m.requires) <= _names_the_judge_checks(m), m.id
    assert _mutant("domain-unordered").requires, "fail-back alone proves nothing without the failover"


def test_a_missing_fail_back_without_the_failover_is_not_the_unordered_domain() -> None:
    """Live: the owner was never fenced, the service never moved, "fail-back never observed" matched."""
    m = _mutant("domain-unordered")
    never_fenced = (failed("fenced: the predicted victim and only it", "outcome", Category.WRONG_OUTCOME,
                           "expected fenced ['node01'], observed nobody"),
                    failed("phase service-started", "phase", Category.TOO_SLOW, "service-started never observed"),
                    passed("service placement", "outcome", "service01 on node02"))
    unmet = m.unmet(never_fenced)
    assert unmet[:2] == ["fenced: the predicted victim and only it: WRONG OUTCOME: expected fenced ['node01'], "
                         "observed nobody", "phase service-started: TOO SLOW: service-started never observed"]
    assert unmet[2:] == ["harness-driven phase node-rejoined: not checked"]
    moved = (*(passed(c.name, c.group, "ok") for c in never_fenced),
             passed("harness-driven phase node-rejoined", "harness phase", "ok"))
    assert m.unmet(moved) == []
    # live, session 10: fenced, moved, but node01's cluster never came back: nobody to fail back to
    not_back = (*moved[:3], failed("harness-driven phase node-rejoined", "harness phase", Category.TOO_SLOW,
                                   "node-rejoined never observed"))
    assert m.unmet(not_back) == ["harness-driven phase node-rejoined: TOO SLOW: node-rejoined never observed"]


def test_a_node_without_rgmanager_gives_no_count() -> None:
    """RECONFIGURED prints nothing where rgmanager does not run: that node is not waited for."""
    lab = _Lab(_spec())

    class _Counts(_Remote):
        def run(self, cmd: str, timeout: float = 60.0, check: bool = False, **_: Any) -> _Res:
            self.log.append((self.name, "run", cmd))
            return _Res("" if self.name == "node02" else "3")

    lab.remote = lambda node: _Counts(node, lab.log)  # type: ignore[method-assign]
    assert mutants._reconfigurations(lab, ["node01", "node02"]) == {"node01": 3}  # type: ignore[arg-type]
