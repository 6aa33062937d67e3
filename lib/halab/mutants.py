"""The catalogue of broken clusters: the seed design with one deliberate mistake each.

Why a catalogue: a judge that has only ever been shown passing proves nothing. Each mutant names
a mistake ops make, the fault that exposes it and the verdict category a trustworthy judge must
give, with a pattern the failing message must match (the failure must be for the right reason,
not any red). The oracle keeps predicting from the design's intent, so the prediction is the
same as for the correct cluster; only the deployed cluster differs.

The catalogue is data (`labs/mutants/<stack>.toml`); this module reads it, applies a mutant to a
live cluster and reverts it by deploying the design afresh (a mistake like disabled fencing can
leave the data LUN mounted twice: a fresh file system is the only state the next test can trust).

Two kinds of mistake: on pacemaker, shell commands (`apply`) that change the live CIB or
corosync.conf; on rgmanager, edits of cluster.conf (`edit`): the text the lab runs is rewritten
(config_version bumped), installed on every node and reloaded the way cluster 3.x does it
(`reload`: `cman_tool version -r -S`, then a restart of qdiskd where its settings changed, since
qdiskd reads its label, votes and master_wins only when it starts).
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from halab.clusterconf.edit import Edit, apply_edits
from halab.errors import LabError, SpecError
from halab.lab.lab import Lab
from halab.spec import LABS_DIR
from halab.stacks.rgmanager import DURABLE, RECONFIGURE_S, RECONFIGURED

if TYPE_CHECKING:
    from halab.observe.verdict import Check
    from halab.scenario import LiveCluster

MUTANTS_DIR = LABS_DIR / "mutants"
ROLES = ("owner", "standby")
WHERE = ("one", "all")
# How an edited cluster.conf takes effect (cluster 3.x; see reload_commands):
RELOADS = ("cman", "qdiskd")
CLUSTER_CONF = "/etc/cluster/cluster.conf"
QDISKD_SETTLE_S = 180.0  # qdiskd's first master election: I·(master_wait + upgrade_wait + tko) + margin


@dataclass(frozen=True)
class Mutant:
    """One deliberate mistake, the fault that exposes it, and the verdict it must produce."""

    id: str
    stack: str
    mistake: str
    fault: str
    role: str
    expect: str
    effect: str
    on: str
    apply: tuple[str, ...]
    edits: tuple[Edit, ...] = ()  # rgmanager: cluster.conf edits instead of shell commands
    reload: tuple[str, ...] = ()  # how the edited cluster.conf takes effect (RELOADS)
    # Checks that must pass for the effect to be the mistake's: the run reached the point where the
    # mistake matters. Measured live (rgmanager, domain-unordered): the owner was never fenced, the
    # service never moved, and "fail-back never observed" matched all the same.
    requires: tuple[str, ...] = ()

    def explains(self, message: str) -> bool:
        """Whether a failing check's message names the mistake's effect."""
        return re.search(self.effect, message) is not None

    def unmet(self, checks: Sequence[Check]) -> list[str]:
        """The required checks that failed or were not made, each with its message."""
        by_name = {c.name: c for c in checks}
        return [f"{name}: {by_name[name].message if name in by_name else 'not checked'}"
                for name in self.requires if name not in by_name or not by_name[name].ok]

    def nodes(self, lab: Lab, preferred: str) -> list[str]:
        return [n.name for n in lab.spec.nodes] if self.on == "all" else [preferred]


def catalogue(stack: str = "pacemaker", directory: Path = MUTANTS_DIR) -> tuple[Mutant, ...]:
    """Every mutant of one stack, validated; a bad entry is one SpecError line naming it."""
    path = directory / f"{stack}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("no mutant catalogue for this stack", str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SpecError(f"not a TOML catalogue: {err}", str(path)) from None
    out = []
    for i, entry in enumerate(raw.get("mutant", [])):
        out.append(_mutant(stack, entry, f"{path} mutant #{i + 1}"))
    ids = [m.id for m in out]
    if len(set(ids)) != len(ids):
        raise SpecError("mutant ids are not unique", str(path))
    return tuple(out)


SHELL_FIELDS = ("id", "mistake", "fault", "role", "expect", "effect", "on", "apply")
EDIT_FIELDS = ("id", "mistake", "fault", "role", "expect", "effect", "edit", "reload")
OPTIONAL_FIELDS = ("requires",)


def _mutant(stack: str, entry: dict[str, object], where: str) -> Mutant:
    fields = EDIT_FIELDS if "edit" in entry else SHELL_FIELDS
    unknown = sorted(set(entry) - set(fields) - set(OPTIONAL_FIELDS))
    if unknown:
        raise SpecError(f"unknown key(s) {', '.join(unknown)}", where)
    missing = [f for f in fields if f not in entry]
    if missing:
        raise SpecError(f"missing key(s) {', '.join(missing)}", where)
    if entry["role"] not in ROLES or entry.get("on", "all") not in WHERE:
        raise SpecError(f"role must be one of {ROLES}, on one of {WHERE}", where)
    try:
        re.compile(str(entry["effect"]))
    except re.error as err:
        raise SpecError(f"effect is not a regular expression: {err}", where) from None
    common = (str(entry["id"]), stack, str(entry["mistake"]), str(entry["fault"]), str(entry["role"]),
              str(entry["expect"]), str(entry["effect"]))
    requires = entry.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) and r for r in requires):
        raise SpecError("requires must be a list of check names", where)
    if "edit" in entry:
        return Mutant(*common, "all", (), _edits(entry["edit"], where), _reload(entry["reload"], where),
                      tuple(requires))
    apply = entry["apply"]
    if not isinstance(apply, list) or not apply or not all(isinstance(c, str) and c for c in apply):
        raise SpecError("apply must be a non-empty list of shell commands", where)
    return Mutant(*common, str(entry["on"]), tuple(apply), requires=tuple(requires))


def _edits(raw: object, where: str) -> tuple[Edit, ...]:
    """``edit = [{xpath = "...", set = {attr = "value"}} | {xpath = "...", delete = true}]``."""
    if not isinstance(raw, list) or not raw:
        raise SpecError("edit must be a non-empty list of {xpath, set|delete}", where)
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("xpath"), str) \
                or set(item) - {"xpath", "set", "delete"}:
            raise SpecError(f"edit entry {item!r}: needs xpath and one of set (a table) or delete = true", where)
        attrs = item.get("set", {})
        if not isinstance(attrs, dict) or item.get("delete", False) not in (True, False):
            raise SpecError(f"edit {item['xpath']!r}: set must be a table, delete true or false", where)
        try:
            out.append(Edit(item["xpath"], {str(k): str(v) for k, v in attrs.items()},
                            bool(item.get("delete", False))))
        except (ValueError, SyntaxError) as err:  # lxml's XPathSyntaxError is a SyntaxError
            raise SpecError(str(err), where) from None
    return tuple(out)


def _reload(raw: object, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(r in RELOADS for r in raw):
        raise SpecError(f"reload must be a non-empty list from {RELOADS}", where)
    return tuple(str(r) for r in raw)


def apply(mutant: Mutant, lab: Lab, preferred: str, timeout_s: float = 60.0,
          progress: Callable[[str], None] = print) -> None:
    """Make the running cluster wrong in exactly the catalogued way (each command must succeed)."""
    if mutant.edits:
        apply_conf_edits(mutant, lab, preferred, timeout_s, progress)
        return
    for node in mutant.nodes(lab, preferred):
        for cmd in mutant.apply:
            lab.remote(node).run(cmd, timeout=timeout_s, check=True)


def mutated_conf(mutant: Mutant, conf_text: str) -> str:
    """The cluster.conf text with the mutant's mistake in it (config_version one higher)."""
    return apply_edits(conf_text, mutant.edits, f"mutant {mutant.id}")


def reload_commands(mutant: Mutant) -> tuple[tuple[str, str], ...]:
    """(where, command) pairs that make an installed cluster.conf take effect, in order.

    ``cman``: `cman_tool version -r -S` on one node: cman reads the new version everywhere (-S:
    no ccs_sync/ricci; halab has already put the file on every node). ``qdiskd``: qdiskd reads
    its configuration only at start (label, votes, master_wins: cman/qdisk/main.c get_config_data),
    so it is stopped by its pid file and started again as cman's init script does (`qdiskd -Q`);
    a qdiskd that cannot start (e.g. a label no disk carries) is the mistake, not a failed apply.
    Then a flush on every node: each validated the new file and rewrote its schema cache, and the
    fault comes seconds later (stacks.rgmanager DURABLE; domain-unordered's owner came back from
    its fence with an empty cache and could not rejoin within cman's join timeout).
    """
    out: list[tuple[str, str]] = []
    if "cman" in mutant.reload:
        out.append(("one", "cman_tool version -r -S"))
    if "qdiskd" in mutant.reload:
        out.append(("all", "pid=$(cat /var/run/qdiskd.pid 2>/dev/null || pidof qdiskd); "
                           "[ -n \"$pid\" ] && kill $pid; "
                           "for i in $(seq 60); do kill -0 $pid 2>/dev/null || break; sleep 1; done; "
                           "! kill -0 $pid 2>/dev/null"))
        out.append(("all", "qdiskd -Q >/dev/null 2>&1; true"))
    if out:  # the reload validated cluster.conf on every node: flush what that rewrote (DURABLE)
        out.append(("all", DURABLE))
    return tuple(out)


def apply_conf_edits(mutant: Mutant, lab: Lab, preferred: str, timeout_s: float = 60.0,
                     progress: Callable[[str], None] = print) -> None:
    """Rewrite the cluster.conf the lab runs, install it on every node, reload it, let qdiskd settle."""
    from halab.deploy.rgmanager import lab_deployed_conf

    text = mutated_conf(mutant, lab_deployed_conf(lab.spec))
    names = [n.name for n in lab.spec.nodes]
    for node in names:
        lab.remote(node).put_text(text, CLUSTER_CONF, mode=0o640, timeout=timeout_s)
    before = _reconfigurations(lab, names)
    for where, cmd in reload_commands(mutant):
        for node in names if where == "all" else [preferred]:
            lab.remote(node).run(cmd, timeout=timeout_s + 30.0, check=True)
    if "cman" in mutant.reload:
        progress(f"mutant: waiting for rgmanager on {', '.join(sorted(before)) or 'no node'} to finish "
                 f"reconfiguring (at most {RECONFIGURE_S:.0f} s)")
        _wait_rgmanager_reconfigured(lab, before)
    if "qdiskd" in mutant.reload:
        progress(f"mutant: waiting for qdiskd to register or give up (at most {QDISKD_SETTLE_S:.0f} s)")
        _wait_qdiskd_settled(lab, names)


def _reconfigurations(lab: Lab, names: list[str]) -> dict[str, int]:
    """How many reconfigurations each running rgmanager has finished so far (its log's count); a
    node where rgmanager does not run is left out."""
    counts: dict[str, int] = {}
    for node in names:
        out = lab.remote(node).run(RECONFIGURED, timeout=30.0).stdout.split()
        if out:
            counts[node] = int(out[0]) if out[0].isdigit() else 0
    return counts


def _wait_rgmanager_reconfigured(lab: Lab, before: dict[str, int], within_s: float = RECONFIGURE_S) -> None:
    """Until every rgmanager that ran before the reload has finished reconfiguring for it: until then
    a node's death waits behind the reconfiguration, and the fault would measure the harness's
    reload, not the mutated cluster (stacks.rgmanager RECONFIGURED)."""
    deadline = time.monotonic() + within_s
    waiting = sorted(before)
    while waiting and time.monotonic() < deadline:
        now = _reconfigurations(lab, waiting)
        waiting = [n for n in waiting if n in now and now[n] <= before[n]]
        if waiting:
            time.sleep(2.0)
    if waiting:
        raise LabError(f"rgmanager did not finish reconfiguring within {within_s:.0f} s of the reload "
                       f"(no new 'Restarting changed resources' line)", waiting[0])


def _wait_qdiskd_settled(lab: Lab, names: list[str], within_s: float = QDISKD_SETTLE_S) -> None:
    """Until qdiskd either registered its votes with cman on some node, or runs on no node at all
    (it could not start): only then is the mutated cluster the one the fault meets."""
    probe = ("cman_tool status | grep -q '^Quorum device votes' && echo registered; "
             "pidof qdiskd >/dev/null && echo running; true")
    deadline = time.monotonic() + within_s
    seen = ""
    while time.monotonic() < deadline:
        seen = " ".join(f"{n}: {' '.join(lab.remote(n).run(probe, timeout=30.0).stdout.split()) or '-'}"
                        for n in names)
        if "registered" in seen or "running" not in seen:
            return
        time.sleep(2.0)
    raise LabError(f"qdiskd neither registered nor gave up within {within_s:.0f} s (last: {seen})", names[0])


def revert(cluster: LiveCluster, progress: Callable[[str], None] = print) -> None:
    """Undo a mutant: every fault healed and every node awake and answering (the session sweep,
    bounded), then the design deployed afresh (the deploy stops what runs and starts it anew).

    Why not the restore first: a mutated cluster cannot reach the design's baseline. Measured live
    (rgmanager, qdisk-label-mismatch): the restore spent its 300 s bound, then a cold restart, and
    cman would not start with the mutated cluster.conf; 7 min before the deploy that fixes it."""
    from halab.faults.restore import sweep_session

    missing = sweep_session(cluster.lab, progress=progress)
    if missing:
        progress(f"mutant revert: no answer from {', '.join(missing)}; deploying afresh anyway")
    if cluster.lab.spec.stack == "rgmanager":
        from halab.deploy.rgmanager_live import deploy as deploy_rgmanager

        deploy_rgmanager(cluster.lab, progress=progress)
    else:
        from halab.deploy.pacemaker import deploy

        deploy(cluster.lab, progress=progress)
