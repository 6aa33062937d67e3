"""The catalogue of broken clusters: the seed design with one deliberate mistake each.

Why a catalogue: a judge that has only ever been shown passing proves nothing. Each mutant names
a mistake ops make, the fault that exposes it and the verdict category a trustworthy judge must
give, with a pattern the failing message must match (the failure must be for the right reason,
not any red). The oracle keeps predicting from the design's intent, so the prediction is the
same as for the correct cluster; only the deployed cluster differs.

The catalogue is data (`labs/mutants/<stack>.toml`); this module reads it, applies a mutant to a
live cluster and reverts it by deploying the design afresh (a mistake like disabled fencing can
leave the data LUN mounted twice: a fresh file system is the only state the next test can trust).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from halab.errors import HalabError, SpecError
from halab.lab.lab import Lab
from halab.spec import LABS_DIR

if TYPE_CHECKING:
    from halab.scenario import LiveCluster

MUTANTS_DIR = LABS_DIR / "mutants"
ROLES = ("owner", "standby")
WHERE = ("one", "all")


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

    def explains(self, message: str) -> bool:
        """Whether a failing check's message names the mistake's effect."""
        return re.search(self.effect, message) is not None

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


def _mutant(stack: str, entry: dict[str, object], where: str) -> Mutant:
    fields = ("id", "mistake", "fault", "role", "expect", "effect", "on", "apply")
    unknown = sorted(set(entry) - set(fields))
    if unknown:
        raise SpecError(f"unknown key(s) {', '.join(unknown)}", where)
    missing = [f for f in fields if f not in entry]
    if missing:
        raise SpecError(f"missing key(s) {', '.join(missing)}", where)
    apply = entry["apply"]
    if not isinstance(apply, list) or not apply or not all(isinstance(c, str) and c for c in apply):
        raise SpecError("apply must be a non-empty list of shell commands", where)
    if entry["role"] not in ROLES or entry["on"] not in WHERE:
        raise SpecError(f"role must be one of {ROLES}, on one of {WHERE}", where)
    try:
        re.compile(str(entry["effect"]))
    except re.error as err:
        raise SpecError(f"effect is not a regular expression: {err}", where) from None
    return Mutant(str(entry["id"]), stack, str(entry["mistake"]), str(entry["fault"]), str(entry["role"]),
                  str(entry["expect"]), str(entry["effect"]), str(entry["on"]), tuple(apply))


def apply(mutant: Mutant, lab: Lab, preferred: str, timeout_s: float = 60.0) -> None:
    """Make the running cluster wrong in exactly the catalogued way (each command must succeed)."""
    for node in mutant.nodes(lab, preferred):
        for cmd in mutant.apply:
            lab.remote(node).run(cmd, timeout=timeout_s, check=True)


def revert(cluster: LiveCluster, progress: Callable[[str], None] = print, within_s: float = 300.0) -> None:
    """Undo a mutant: nodes back (bounded, best effort), then the design deployed afresh."""
    from halab.deploy.pacemaker import deploy
    from halab.faults.restore import restore

    d = cluster.design
    try:
        restore(cluster.lab, d.service, d.preferred_node, within_s=within_s, progress=progress)
    except HalabError as err:
        progress(f"mutant revert: the cluster did not settle ({err}); deploying afresh anyway")
    deploy(cluster.lab, progress=progress)
