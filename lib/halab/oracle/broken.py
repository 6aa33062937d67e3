"""Designs that cannot fail over, said so: the oracle never predicts a confident take-over for them.

Two kinds. A design a daemon refuses (qdiskd below its token floor or its startup rule, two_node
with a quorum disk, a token that is not a positive number) is an error: ``refusal`` raises a
ConfigError with the check-config finding, and ``halab expect`` exits 2 with it. A design that
runs but cannot fence a node (no fence method, a device not defined) blocks recovery: fenced
retries forever and rgmanager waits, so ``blocked`` turns every outcome that needs that fence into
"blocked" with the reason (nobody fenced, the service does not move).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from halab.checks import Context, rule_by_id
from halab.clusterconf import ClusterConf, Flavor
from halab.errors import ConfigError
from halab.oracle.model import BLOCKED, HARNESS_PHASES, Prediction
from halab.spec import LabSpec

# check-config rules whose error means a daemon refuses the design (qdiskd exits, cman refuses).
REFUSING_RULES = ("timing.qdisk-min-token", "timing.qdisk-startup", "votes.two-node")
# Phases that cannot happen once the fence is stuck.
AFTER_FENCE = ("fence-done", "service-started", *HARNESS_PHASES)


def refusal(conf: ClusterConf, spec: LabSpec, flavor: str) -> None:
    """Raise ConfigError when a daemon would refuse this cluster.conf (the finding is the message)."""
    totem = conf.totem
    raw = totem.attrs.get("token") if totem is not None else None
    if raw is not None and (totem is None or totem.token is None or totem.token <= 0):
        raise ConfigError(f"totem token={raw!r} is not a positive number of milliseconds: corosync will not "
                          "form a ring with it", str(conf.path or ""))
    ctx = Context(conf, spec, None, Flavor(flavor))
    for rule_id in REFUSING_RULES:
        for finding in rule_by_id(rule_id).run(ctx):
            if finding.severity == "error":
                raise ConfigError(f"{finding} (the cluster cannot run this design, so no failover can be "
                                  "predicted)", str(conf.path or ""))


def unfenceable(conf: ClusterConf) -> dict[str, str]:
    """Node -> why nothing can fence it (no method, a method without devices, undefined devices)."""
    known = {dev.name for dev in conf.fence_devices}
    out: dict[str, str] = {}
    for node in conf.nodes:
        if not node.name:
            continue
        usable = [m for m in node.methods if any(ref.name in known for ref in m.devices)]
        if not node.methods:
            out[node.name] = f"{node.name} has no fence method"
        elif not usable:
            out[node.name] = f"no fence method of {node.name} has a defined fence device"
    return out


RGMANAGER_WAITS = ("fenced retries forever (every 5 s, A fence/fenced/recover.c:391-396) and rgmanager waits "
                   "for the fence, so nobody is fenced and no service moves (check-config: fencing.method / "
                   "fencing.device-exists)")
PACEMAKER_WAITS = ("the DC retries the fence and the scheduler recovers nothing the lost node ran until a fence "
                   "succeeds (its resources stay on an unclean node), so nobody is fenced and no service moves "
                   "(check-config: pcmk.node-without-fence)")


def blocked(pred: Prediction, cannot: Mapping[str, str], owners: Mapping[str, str],
            waits: str = RGMANAGER_WAITS) -> Prediction:
    """Every outcome whose fence hits an unfenceable node becomes "blocked" (alternatives too);
    ``waits``: what the stack does instead, in its own sources' words."""
    stuck = [n for n in pred.fenced if n in cannot]
    alts = tuple(blocked(a, cannot, owners, waits) for a in pred.alternatives)
    if not stuck:
        return replace(pred, alternatives=alts)
    why = "; ".join(cannot[n] for n in stuck)
    services = {s: (BLOCKED if owners.get(s) in stuck or place not in (owners.get(s),) else place)
                for s, place in pred.services.items()}
    windows = {p: w for p, w in pred.windows.items() if p not in AFTER_FENCE}
    line = f"blocked: {why}: {waits}"
    return replace(pred, fenced=(), fenced_by=None, services=services, windows=windows,
                   members_after=tuple(m for m in (*pred.members_after, *stuck) if m),
                   reasoning=(*pred.reasoning, line), alternatives=alts)
