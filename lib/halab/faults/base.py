"""Faults as context managers: a precheck that says when a fault does not apply, inject, heal.

Why heal is separate and idempotent: it runs after the test whatever happened (assertion error,
lab error, Ctrl-C), and again at session start to sweep what an interrupted run left behind, on
nodes that may have been fenced, rebooted or frozen meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import ClassVar

from halab import interrupt
from halab.errors import NotApplicable
from halab.faults.effect import Effect
from halab.lab.lab import Lab
from halab.spec import LabSpec

log = logging.getLogger("halab.faults")
RULE_TAG = "halab-fault"  # every firewall rule a fault adds carries this comment, so heal finds it


class Fault(ABC):
    """One kind of fault, injected on one target node of a lab."""

    id: ClassVar[str]
    description: ClassVar[str]
    effect: ClassVar[Effect]  # what it does, in neutral terms: the oracle reasons from this
    disturbs_fence_path: ClassVar[bool] = False
    healed_from_host: ClassVar[bool] = False  # heal needs no SSH to the node (libvirt, host-side taps)

    @classmethod
    def unfit(cls, spec: LabSpec) -> str | None:
        """Why this fault applies to no node of this lab's design (known before any lab is up:
        `--faults all` leaves it out, a named one is refused), or None."""
        return None

    def precheck(self, lab: Lab, target: str) -> str | None:
        """Why this fault does not apply to this lab/target, or None when it does."""
        return self.unfit(lab.spec)

    @abstractmethod
    def inject(self, lab: Lab, target: str) -> tuple[float, float] | None:
        """Put the fault in. An in-guest fault returns the node's own clock just before and just
        after its command (``ssh_stamped``): the effect lies between the two. Measured live under
        TCG: the SSH round trip put the command up to seconds after t0, and `ip link set down`
        returned about a second after the link stopped carrying the token (the kernel waits for an
        RCU grace period), so neither t0 nor the return alone is the effect. None: the effect is
        the host call itself (libvirt, a host-side tap), done when it returns."""

    @abstractmethod
    def heal(self, lab: Lab, target: str) -> None:
        """Undo the fault; safe to call any number of times, with or without a prior inject."""


@contextlib.contextmanager
def injected(fault: Fault, lab: Lab, target: str, on_inject: object = None, on_effect: object = None
             ) -> Iterator[None]:
    """Inject on enter (calling `on_inject()` right before, to stamp t0, and `on_effect(stamp)` once
    the injection returned, with what `Fault.inject` returned), heal on every exit."""
    reason = fault.precheck(lab, target)
    if reason:
        raise NotApplicable(reason, f"{fault.id} on {target}")
    try:
        if callable(on_inject):
            on_inject()
        stamp = fault.inject(lab, target)
        if callable(on_effect):
            on_effect(stamp)
        yield
    finally:
        with interrupt.deferred():  # a first Ctrl-C/SIGTERM lets the (bounded) heal finish
            err = heal_error(fault, lab, target)
            if interrupt.STOP.is_set():
                STOP_HEALS.append((fault.id, target, str(err) if err else ""))


# What the heals on a stopping run did, for the session's last line (fixtures/lab.py): fault id,
# target, and the heal's error ("" when it healed).
STOP_HEALS: list[tuple[str, str, str]] = []


def stop_heals_text() -> str:
    """What the stop path healed, in words: never "healed" for a heal that failed."""
    if not STOP_HEALS:
        return "no fault was in place"
    return "; ".join(f"{fault} on {target} healed" if not err else
                     f"{fault} on {target} NOT healed ({err}); the next session's sweep heals it"
                     for fault, target, err in STOP_HEALS)


def heal_quietly(fault: Fault, lab: Lab, target: str) -> bool:
    """Heal, logging rather than raising: a node that is down now is healed by the cluster restore.

    Any Exception (a libvirtError from a heal racing fence_virsh's start, a paramiko error) is
    logged, never raised: it would mask the first error and abort the sweep of the other faults.
    An interrupt (KeyboardInterrupt, SystemExit) still goes up.
    """
    return heal_error(fault, lab, target) is None


def heal_error(fault: Fault, lab: Lab, target: str) -> Exception | None:
    """Heal; the error it ended with (logged), or None when it healed."""
    try:
        fault.heal(lab, target)
        return None
    except Exception as err:
        log.warning("heal %s on %s: %s: %s", fault.id, target, type(err).__name__, err)
        return err


def ssh(lab: Lab, node: str, cmd: str, timeout: float = 20.0) -> None:
    lab.remote(node).run(cmd, timeout=timeout, connect_timeout=4, check=True)


def ssh_stamped(lab: Lab, node: str, cmd: str, timeout: float = 20.0) -> tuple[float, float] | None:
    """Run ``cmd`` on the node; the node's clock (epoch seconds) right before and right after it,
    or None when the output does not carry it (the fault is in all the same: the judge then counts
    from t0 to the command's return)."""
    res = lab.remote(node).run(f"date +%s.%N && {cmd} && date +%s.%N", timeout=timeout, connect_timeout=4,
                               check=True)
    return node_clock(res.stdout)


def node_clock(stdout: str) -> tuple[float, float] | None:
    """The epoch seconds ``date +%s.%N`` printed first and last (the command's output between)."""
    lines = [ln for ln in stdout.strip().splitlines() if ln.strip()]
    try:
        before, after = float(lines[0]), float(lines[-1])
    except (IndexError, ValueError):
        before = after = float("nan")
    if len(lines) < 2 or not before <= after:
        log.warning("no node clock around the command's output: %r", stdout.strip()[-80:])
        return None
    return before, after


def remove_tagged_rules_cmd() -> str:
    """Shell that deletes every iptables rule carrying RULE_TAG, in every chain."""
    return (f"for t in filter; do iptables -t $t -S | grep -- '{RULE_TAG}' | sed 's/^-A /-D /' | "
            "while read -r rule; do eval iptables -t $t $rule; done; done; true")
