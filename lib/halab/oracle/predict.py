"""The one entry point: pick the stack model, resolve the target, return a frozen prediction."""

from __future__ import annotations

from collections.abc import Mapping

from halab.errors import SpecError
from halab.oracle import pacemaker
from halab.oracle.model import Prediction
from halab.oracle.timeline import Slack
from halab.spec import STACKS, LabSpec


def predict(spec: LabSpec, fault: str, target: str, owners: Mapping[str, str] | None = None,
            stack: str | None = None, *, slack: Slack | None = None, daemon: str | None = None,
            qdisk_master: str | None = None, dc: str | None = None) -> Prediction:
    """What a correct cluster must do after ``fault`` on ``target``, and when.

    ``target`` is any name of a node (spec name, host name, libvirt domain); ``owners`` maps a service
    to its node at t0 (default: its preferred node); ``stack`` defaults to the spec's. ``slack``
    defaults to ``Slack.from_timing(spec.timing)``; ``daemon`` picks the daemon of ``kill-daemon``;
    ``qdisk_master`` (rgmanager) pins the quorum-disk master at t0, else every possible master's
    outcome is an acceptable alternative and the lowest node id is the primary. ``dc`` (pacemaker)
    names the Designated Controller at t0: losing it delays the fence request (dc_takeover_s).
    The models reason from the fault's declared effect (``halab.faults.effect``), not its id.
    Raises NotApplicable when the fault cannot happen in this topology.
    """
    from halab.faults import effect_of

    effect = effect_of(fault)
    stack = stack or spec.stack
    if stack not in STACKS:
        raise SpecError(f"unknown stack {stack!r} (one of {', '.join(STACKS)})", str(spec.path))
    spec.node(target)  # a clear SpecError for an unknown node, before any model runs
    slack = slack or Slack.from_timing(spec.timing)
    if stack == "pacemaker":
        return pacemaker.predict(spec, fault, effect, target, owners, slack=slack, daemon=daemon, dc=dc)
    from halab.oracle import rgmanager

    return rgmanager.predict(spec, fault, target, owners, slack=slack, daemon=daemon,
                             qdisk_master=qdisk_master, effect=effect)


def service_names(spec: LabSpec, stack: str | None = None) -> tuple[str, ...]:
    """The services the oracle speaks of for this spec and stack."""
    stack = stack or spec.stack
    if stack == "pacemaker":
        return (pacemaker.PcmkDesign.from_spec(spec).service,)
    from halab.oracle import rgmanager

    return rgmanager.service_names(spec)


def token_ms(spec: LabSpec, stack: str | None = None) -> int:
    """The design's effective totem token as the lab runs it (the one every prediction carries):
    corosync 3's coefficient applied for more than two nodes, cman's under the timing profile.
    Why one reader: the host-load sentinel's stretch and the poll pace's trials are both a token
    long; the pace once took the profile's token while the judge took the design's."""
    stack = stack or spec.stack
    if stack == "pacemaker":
        return int(pacemaker.PcmkDesign.from_spec(spec).token_ms)
    from halab.clusterconf.profile import lab_conf
    from halab.oracle import rgdesign

    return int(rgdesign.from_cluster_conf(lab_conf(spec), spec).token_ms)
